"""Questionnaire modules and surveys: loading and validation.

A *module* is one YAML file (an instrument or a block of questions); a
*survey* is what a site runs: modules in order, pinned by id and version, plus
site settings. See ``docs/questionnaire-format.md`` for the format and the
meaning of every validation code.

Validation reports every problem at once, each with a stable code, the file,
the line, the item id, the offending value and the fix. Loading never
evaluates anything from the file: expressions are parsed by :mod:`surveycore.logic`.
Whatever the input, the loaders raise :class:`ValidationError` and nothing
else (this is fuzz-tested).

The package is split by concept: :mod:`.model` (the dataclasses),
:mod:`.source` (bounded YAML reading, hashing), :mod:`.fields` (texts, media,
choices), :mod:`.modules` (the module parser and its expression checks),
:mod:`.scores`, :mod:`.languages` (validated or draft wording, provenance,
review) and :mod:`.surveys` (surveys and site settings). Its public names are
all importable from here.
"""

from __future__ import annotations

from surveycore.errors import ValidationError
from surveycore.questionnaire.languages import REVIEW_STATES
from surveycore.questionnaire.model import (CODE_RE, ID_RE, IDENTIFYING_TYPES, LANG_RE, MAX_GROUP_DEPTH, PERIODS,
                                            TRANSLATION_ORIGINS, TRANSLATION_STATUSES, VERSION_RE, Choice, Item,
                                            Module, Provenance, ScoreDef, SiteSettings, Survey)
from surveycore.questionnaire.modules import load_module, load_module_text, parse_module
from surveycore.questionnaire.source import MAX_FILE_BYTES, content_hash, file_kind, file_kind_of, read_text_bounded
from surveycore.questionnaire.surveys import load_survey, parse_survey

__all__ = [
    "CODE_RE", "ID_RE", "IDENTIFYING_TYPES", "LANG_RE", "MAX_FILE_BYTES", "MAX_GROUP_DEPTH", "PERIODS",
    "REVIEW_STATES", "TRANSLATION_ORIGINS", "TRANSLATION_STATUSES", "VERSION_RE", "Choice", "Item", "Module",
    "Provenance", "ScoreDef", "SiteSettings", "Survey", "ValidationError", "content_hash", "file_kind",
    "file_kind_of", "load_module", "load_module_text", "load_survey", "parse_module", "parse_survey",
    "read_text_bounded",
]
