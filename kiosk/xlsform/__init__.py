"""Convert an XLSForm (ODK, KoboToolbox) into a questionnaire module.

``kiosk import-xlsform FORM.xlsx -o questionnaires/NAME.yaml`` reads the
``survey``, ``choices`` and ``settings`` sheets and writes a module in the
format of ``docs/questionnaire-format.md``:

- ``select_one L`` → ``single`` with list ``L`` (``scale`` when the
  appearance is ``likert``), ``select_multiple L`` → ``multiple``,
  ``integer`` → ``integer`` (its range is taken from a constraint such as
  ``. >= 0 and . <= 120``), ``note`` → ``note``,
  ``begin_group``/``end_group`` → ``group``;
- ``label::French (fr)``, ``hint::``, ``constraint_message::``, ``image::``
  and ``audio::`` columns become per-language maps;
- ``relevant``, ``constraint`` (``.`` becomes ``${name}``) and ``required``
  are kept.

Everything the kiosk cannot do (repeats, locations, dates, calculations, free
text unless allowed, ...) is reported by sheet and row with the reason, as a
coded :class:`~surveycore.errors.Problem`; nothing is dropped silently. The
module is validated exactly like a hand-written one before anything is
written, so the output passes ``kiosk check``.

The package is split by concept: :mod:`.spellings` (XLSForm type and column
spellings, what is refused and why), :mod:`.workbook` (reading the sheets),
:mod:`.items` (survey rows to items, through the question-type registry),
:mod:`.convert` (a whole form) and :mod:`.write` (validation and YAML).
"""

from __future__ import annotations

from kiosk.xlsform.spellings import (BLOCKING_COLUMNS, METADATA_TYPES, SELECT_ALIASES, TYPE_ALIASES,
                                     UNSUPPORTED_TYPES, normalise_id, parse_type)
from kiosk.xlsform.write import ImportResult, convert, import_xlsform

__all__ = ["BLOCKING_COLUMNS", "METADATA_TYPES", "SELECT_ALIASES", "TYPE_ALIASES", "UNSUPPORTED_TYPES",
           "ImportResult", "convert", "import_xlsform", "normalise_id", "parse_type"]
