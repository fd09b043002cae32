"""The result of an import: validated like a hand-written module, problems
in sheet and row order, and the module written as YAML.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ruamel.yaml import YAML

from surveycore.errors import Problem, ProblemList
from surveycore.questionnaire import parse_module
from kiosk.xlsform.convert import _Converter
from kiosk.xlsform.spellings import _PIPE


@dataclass
class ImportResult:
    """What a conversion produced: the module mapping and its YAML text (both
    ``None`` when there are errors) and every problem found."""

    data: dict[str, Any] | None
    yaml_text: str | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        """Only the problems of severity ``error``."""
        return [p for p in self.problems if p.severity == "error"]


def _sort(problems: ProblemList) -> None:
    """Settings, choices, then survey rows, each in row order."""
    rank = {"settings": 0, "choices": 1, "survey": 2}

    def key(p: Problem) -> tuple[int, int]:
        sheet = p.file.rsplit("[", 1)[-1].rstrip("]") if p.file.endswith("]") else ""
        return rank.get(sheet, -1), p.line or 0
    problems.items.sort(key=key)


def _to_yaml(data: dict[str, Any], form: Path) -> str:
    y = YAML(typ="rt")
    y.allow_unicode = True
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)
    buf = io.StringIO()
    y.dump(data, buf)
    header = (f"# Imported from {form.name} by `kiosk import-xlsform`. Check the wording, the source,\n"
              "# the licence and each translation's status (draft until a native speaker has\n"
              "# reviewed it) before fielding this module.\n")
    return header + buf.getvalue()


def convert(form: str | Path, *, default_language: str | None = None, allow_free_text: bool = False,
            drop_unsupported: bool = False, validated: Iterable[str] = (), source: str | None = None,
            license: str | None = None, languages: Iterable[str] | None = None) -> ImportResult:
    """Convert an XLSForm workbook; validate the result like any module.

    ``default_language`` is the language of unlabelled ``label``/``hint``
    columns when the settings sheet names none. ``drop_unsupported`` turns
    rows that cannot be imported into warnings (they are left out) instead
    of errors (and leaves out languages that lack texts). ``validated``
    lists languages whose wording is already reviewed; the others are marked
    ``draft``. ``languages`` keeps only those languages, each complete.
    """
    path = Path(form)
    conv = _Converter(path, default_language, allow_free_text, drop_unsupported, validated, source, license,
                      languages)
    data = conv.convert()
    problems = conv.problems
    _sort(problems)
    if data is None:
        return ImportResult(None, None, problems.items)
    # The module validator speaks of items; point its findings at the rows.
    # It runs even when rows were refused, so that every problem is said in
    # one run; what only follows from a refused row is not repeated.
    refused = bool(problems.errors)
    check = ProblemList(file=str(path))
    parse_module(data, check, "")
    for p in check.items:
        if refused and (p.code == "Q-ITEM-001" or any(r[2:-1] in conv.dropped for r in _PIPE.findall(p.message))):
            continue
        row = conv.item_rows.get(p.item or "")
        problems.add(p.code, p.message, line=row, item=p.item, severity=p.severity,
                     file=f"{path}[survey]" if row else str(path))
    if problems.errors:
        return ImportResult(None, None, problems.items)
    return ImportResult(data, _to_yaml(data, path), problems.items)


def import_xlsform(form: str | Path, out: str | Path, **options: Any) -> ImportResult:
    """Convert ``form`` and write the module to ``out`` when there is no
    error (nothing is written otherwise). Options as for :func:`convert`."""
    result = convert(form, **options)
    if result.yaml_text is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(result.yaml_text, encoding="utf-8")
    return result
