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
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ruamel.yaml import YAML

from surveycore import logic, types
from surveycore.errors import ExpressionError, Problem, ProblemList
from surveycore.questionnaire import CODE_RE, ID_RE, LANG_RE, VERSION_RE, parse_module
from surveycore.questionnaire.fields import _did_you_mean

# Language names XLSForm authors write without a code, mapped to the codes the
# kiosk uses (Dari is fa_AF: Babel has no prs locale).
LANGUAGE_NAMES = {
    "english": "en", "french": "fr", "français": "fr", "francais": "fr", "arabic": "ar", "arabe": "ar",
    "spanish": "es", "español": "es", "portuguese": "pt", "german": "de", "italian": "it",
    "turkish": "tr", "russian": "ru", "ukrainian": "uk", "romanian": "ro", "chinese": "zh",
    "tamil": "ta", "somali": "so", "tigrinya": "ti", "amharic": "am", "pashto": "ps", "dari": "fa_AF",
    "persian": "fa", "farsi": "fa", "urdu": "ur", "bengali": "bn", "wolof": "wo", "bambara": "bm",
    "lingala": "ln", "swahili": "sw", "kurdish": "ku", "albanian": "sq", "georgian": "ka",
    "armenian": "hy", "vietnamese": "vi", "polish": "pl", "dutch": "nl",
}

# Why each XLSForm type cannot be imported: an anonymous kiosk never records
# what could identify someone, and has no engine for the rest.
UNSUPPORTED_TYPES = {
    "begin_repeat": "repeats are not supported; ask a fixed number of questions instead",
    "end_repeat": "repeats are not supported; ask a fixed number of questions instead",
    "decimal": "decimal numbers are not supported; use an integer with a range, or choices",
    "calculate": "only a calculation that is arithmetic on earlier answers can be imported; declare scores "
                 "in the module's 'scores'",
    "geopoint": "a location would identify a person",
    "geotrace": "a location would identify a person",
    "geoshape": "a location would identify a person",
    "date": "an exact date could identify a person; ask in bands with select_one",
    "time": "an exact time could identify a person; ask in bands with select_one",
    "datetime": "an exact date and time could identify a person; ask in bands with select_one",
    "image": "photos would identify a person",
    "audio": "voice recordings would identify a person",
    "video": "video recordings would identify a person",
    "file": "file uploads are not supported",
    "barcode": "barcodes (card or document numbers) would identify a person",
    "signature": "a signature would identify a person",
    "range": "range widgets are not supported; use select_one with appearance likert (a scale)",
    "rank": "ranking is not supported; use select_multiple or several select_one",
    "acknowledge": "acknowledge is not supported; use a note",
    "hidden": "hidden fields are not supported",
    "xml-external": "external data is not supported",
    "csv-external": "external data is not supported",
    "select_one_from_file": "choices from a file are not supported; put them in the choices sheet",
    "select_multiple_from_file": "choices from a file are not supported; put them in the choices sheet",
    "select_one_external": "external choices are not supported; put them in the choices sheet",
    "trigger": "triggers are not supported",
    "text": "free text can identify a person; use choices, or import with --allow-free-text if it is "
            "essential (the site must also enable free text)",
}
# Collected automatically by ODK; the kiosk records no device, person or time.
METADATA_TYPES = {"start", "end", "today", "deviceid", "subscriberid", "simserial", "phonenumber",
                  "username", "email", "audit", "start-geopoint", "background-audio", "caseid",
                  "imei", "uri:deviceid", "uri:email", "uri:phonenumber", "uri:username"}
# Columns whose effect would be lost; importing without them changes the form.
BLOCKING_COLUMNS = {
    "choice_filter": "choice filters are not supported; split the list or the question",
    "repeat_count": "repeats are not supported",
    "calculation": "calculations are not supported",
    "trigger": "triggers are not supported",
    "required_if": "conditional 'required' is not supported",
}
_KNOWN_SURVEY = {"type", "name", "label", "hint", "relevant", "constraint", "constraint_message",
                 "required", "image", "audio", "appearance", "readonly", "disabled"}
_KNOWN_SETTINGS = {"form_id", "form_title", "version", "default_language", "source", "license",
                   "licence"}
# Settings that concern ODK servers only; the kiosk seals responses itself.
_SERVER_SETTINGS = {"submission_url", "public_key", "instance_name", "style", "auto_send",
                    "auto_delete", "allow_choice_duplicates", "name", "namespaces", "clean_text_values"}

# Header spellings pyxform accepts (its aliases), to the names used here. A
# header is first put in snake case (``Constraint Message`` →
# ``constraint_message``), as pyxform does.
SURVEY_ALIASES = {
    "relevance": "relevant", "caption": "label", "read_only": "readonly",
    "constraining_message": "constraint_message", "jr:constraintmsg": "constraint_message",
    "requiredmsg": "required_message", "jr:requiredmsg": "required_message",
    "calculate": "calculation", "command": "type", "tag": "name", "value": "name",
    "count": "repeat_count", "jr:count": "repeat_count", "noapperrorstring": "no_app_error_string",
    "control": "body",
}
CHOICE_ALIASES = {"caption": "label", "value": "name", "list": "list_name"}
SETTINGS_ALIASES = {"set_form_title": "form_title", "set_form_id": "form_id", "title": "form_title",
                    "id_string": "form_id"}
# Columns written once per language (``label::French (fr)``).
TRANSLATABLE = {"label", "hint", "guidance_hint", "image", "big-image", "audio", "video",
                "constraint_message", "required_message"}
# Columns of texts the kiosk does not show: it has its own words for them.
_UNSHOWN_TEXTS = {
    "required_message": "the kiosk shows its own translated message when a required answer is missing",
    "guidance_hint": "guidance hints are for interviewers; the kiosk has none",
    "big-image": "the kiosk shows one picture a question ('image')",
    "video": "videos are not shown by the kiosk",
}
# XLSForm type spellings pyxform accepts, to the canonical type.
TYPE_ALIASES = {
    "int": "integer", "add integer prompt": "integer", "q int": "integer",
    "add note prompt": "note", "q note": "note",
    "string": "text", "add text prompt": "text", "q string": "text",
    "add decimal prompt": "decimal", "q decimal": "decimal", "percentage": "decimal",
    "add date prompt": "date", "q date": "date", "date time": "datetime", "datetime": "datetime",
    "add date time prompt": "datetime", "add datetime prompt": "datetime", "q date time": "datetime",
    "q datetime": "datetime", "location": "geopoint", "gps": "geopoint", "add location prompt": "geopoint",
    "q location": "geopoint", "q geopoint": "geopoint", "q geoshape": "geoshape", "q geotrace": "geotrace",
    "photo": "image", "add image prompt": "image", "add photo prompt": "image", "q image": "image",
    "q picture": "image", "add audio prompt": "audio", "q audio": "audio", "add video prompt": "video",
    "q video": "video", "add barcode prompt": "barcode", "q barcode": "barcode",
    "add file prompt": "file", "add calculate prompt": "calculate", "q calculate": "calculate",
    "add acknowledge prompt": "acknowledge", "q acknowledge": "acknowledge",
    "device id": "deviceid", "get device id": "deviceid", "imei": "deviceid",
    "phone number": "phonenumber", "get phone number": "phonenumber", "sim id": "simserial",
    "get sim id": "simserial", "subscriber id": "subscriberid", "get subscriber id": "subscriberid",
    "start time": "start", "get start time": "start", "end time": "end", "get end time": "end",
    "get today": "today", "background-geopoint": "start-geopoint",
}
# Select spellings, longest first so "select one from file" wins over "select one".
SELECT_ALIASES = sorted({
    "select_one": "select_one", "select one": "select_one", "select1": "select_one", "q select1": "select_one",
    "select one using": "select_one", "select one from": "select_one",
    "add select one prompt using": "select_one",
    "select_multiple": "select_multiple", "select all that apply": "select_multiple",
    "select all that apply from": "select_multiple", "select multiple from": "select_multiple",
    "select multiple using": "select_multiple", "q select": "select_multiple",
    "add select multiple prompt using": "select_multiple",
    "select_one_from_file": "select_one_from_file", "select one from file": "select_one_from_file",
    "select_multiple_from_file": "select_multiple_from_file",
    "select multiple from file": "select_multiple_from_file",
    "select_one_external": "select_one_external", "select one external": "select_one_external",
    "rank": "rank",
}.items(), key=lambda kv: -len(kv[0]))
_CONTROL_ALIASES = {"group": "group", "repeat": "repeat", "lgroup": "repeat", "looped group": "repeat",
                    "loop": "repeat", "looped_group": "repeat"}


# Yes and no as XLSForm writes them (pyxform's spellings; 1/0 as Excel
# stores a ticked cell).
_YES = {"yes", "true", "true()", "1"}
_NO = {"", "no", "false", "false()", "0"}


# pyxform's limit: after this many empty rows in a row, a sheet has ended.
_EMPTY_ROWS_END = 60
_PIPE = re.compile(r"\$\{[^}]*\}")


def _snake(text: str) -> str:
    """A header or type as pyxform reads it: words joined by '_', lowercase."""
    return "_".join(text.split()).lower()


def parse_type(raw: str) -> tuple[str, str | None, bool]:
    """An XLSForm type cell as (canonical type, list or file name, or_other):
    ``select one yesno`` → ``('select_one', 'yesno', False)``,
    ``begin group`` → ``('begin_group', None, False)``."""
    text = " ".join(raw.split())
    low = text.lower()
    for spelling, canonical in SELECT_ALIASES:
        if low == spelling or low.startswith(spelling + " "):
            rest = text[len(spelling):].split()
            or_other = False
            for tail in (["or_other"], ["or", "specify", "other"]):
                if len(rest) > len(tail) and [w.lower() for w in rest[-len(tail):]] == tail:
                    rest, or_other = rest[:-len(tail)], True
            return canonical, (" ".join(rest) or None), or_other
    for prefix in ("begin", "end"):
        if low.startswith(prefix + " ") or low.startswith(prefix + "_"):
            rest = low[len(prefix) + 1:].strip()
            for alias, control in sorted(_CONTROL_ALIASES.items(), key=lambda kv: -len(kv[0])):
                if rest == alias or rest.startswith(alias + " "):  # "begin loop over list"
                    return f"{prefix}_{control}", None, False
    return TYPE_ALIASES.get(low, low), None, False


PLACEHOLDER_SOURCE = "Imported from an XLSForm; say where the wording comes from"
PLACEHOLDER_LICENSE = "Unknown; check under which licence this wording may be used before fielding it"


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


@dataclass
class _Column:
    key: str  # label, hint, image, ...
    lang: str | None  # None when the column has no language part
    header: str
    attr: str | None = None  # bind::x, instance::x, body::x, other prefix::x: the part after the prefix


def _cell_text(value: Any) -> str:
    """A cell as text; whole floats (Excel stores 1 as 1.0) without '.0'."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def normalise_id(name: str) -> str:
    """An XLSForm name as a kiosk id: lowercase, ``a-z0-9_``, starting with
    a letter (``Q1-a`` → ``q1_a``, ``2b`` → ``q_2b``)."""
    out = re.sub(r"[^a-z0-9_]+", "_", name.strip().lower())
    out = re.sub(r"_+", "_", out).strip("_")
    if not out:
        return ""
    if not out[0].isalpha():
        out = "q_" + out
    return out[:64]


def _language_code(part: str) -> str | None:
    """``French (fr)`` → ``fr``; ``fr`` → ``fr``; ``French`` → ``fr``;
    ``Dari (fa-AF)`` → ``fa_AF``; ``None`` when it cannot be told."""
    part = part.strip()
    m = re.search(r"\(([A-Za-z]{2,3}(?:[-_][A-Za-z]{2})?)\)\s*$", part)
    candidate = m.group(1) if m else part
    cm = re.fullmatch(r"([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2}))?", candidate)
    if cm and (m or candidate.lower() not in LANGUAGE_NAMES):
        code = cm.group(1).lower() + (f"_{cm.group(2).upper()}" if cm.group(2) else "")
        if LANG_RE.match(code):
            return code
    return LANGUAGE_NAMES.get(part.lower())


class _Converter:
    def __init__(self, form: Path, default_language: str | None, allow_free_text: bool,
                 drop_unsupported: bool, validated: Iterable[str], source: str | None,
                 license: str | None, languages: Iterable[str] | None = None) -> None:
        self.form = form
        self.problems = ProblemList(file=str(form))
        self.cli_language = default_language
        self.allow_free_text = allow_free_text
        self.drop_unsupported = drop_unsupported
        self.validated = set(validated)
        self.source = source
        self.license = license
        self.only_languages = list(languages) if languages is not None else None
        self.languages: list[str] = []
        self.default_language: str | None = None
        self.item_rows: dict[str, int] = {}
        self.renamed: dict[str, str] = {}
        self.prepass: dict[str, str] = {}
        self.list_alias: dict[str, str] = {}
        # Rows left out (by id and by name as written): what depends on them
        # is left out too.
        self.dropped: dict[str, int] = {}
        # id -> (row, name as written, id of the enclosing group) of kept items
        self.kept: dict[str, tuple[int, str, str | None]] = {}
        # Pure-arithmetic calculations, inlined where they are used.
        self.calcs: dict[str, str] = {}
        # Problems of a choice list, reported only if a kept question uses it.
        self.list_problems: dict[str, list[tuple[str, str, int]]] = {}
        # Lists no question can use (code, reason), said at each question.
        self.list_refusals: dict[str, tuple[str, str]] = {}

    # ----------------------------------------------------------- reporting
    def add(self, code: str, message: str, sheet: str | None = None, row: int | None = None,
            item: str | None = None, severity: str = "error") -> None:
        where = f"{self.form}[{sheet}]" if sheet else str(self.form)
        self.problems.add(code, message, line=row, item=item, severity=severity, file=where)

    def unsupported(self, code: str, message: str, row: int, item: str | None) -> None:
        """A row the kiosk cannot run: an error, or a warning when the user
        chose to drop such rows."""
        if self.drop_unsupported:
            message += " (row left out)"
        self.add(code, message, "survey", row, item, "warning" if self.drop_unsupported else "error")
        if item:
            self.dropped.setdefault(item, row)

    # ---------------------------------------------------------------- input
    def read_sheets(self) -> dict[str, list[tuple[int, dict[str, Any]]]] | None:
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException
        try:
            data = self.form.read_bytes()
        except FileNotFoundError:
            self.add("X-FILE-001", f"file not found; check the path {str(self.form)!r}")
            return None
        except OSError as exc:
            self.add("X-FILE-001", f"cannot read the file ({exc.__class__.__name__}); check the path "
                                   f"{str(self.form)!r}")
            return None
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as exc:
            self.add("X-FILE-002", f"not an .xlsx workbook ({exc.__class__.__name__}); save the form as "
                                   "Excel .xlsx (ODK and KoboToolbox both export it)")
            return None
        sheets: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        try:
            for ws in wb.worksheets:
                name = ws.title.strip().lower()
                if name not in ("survey", "choices", "settings"):
                    continue
                rows = ws.iter_rows(values_only=True)
                first = next(rows, None)
                if first is None:
                    sheets[name] = []
                    continue
                headers = [_cell_text(h) for h in first]
                table = []
                empty_run = 0
                for number, row in enumerate(ws.iter_rows(min_row=2, max_col=max(len(headers), 1),
                                                          values_only=True), start=2):
                    record = {h: v for h, v in zip(headers, row) if h and v is not None and _cell_text(v) != ""}
                    if record:
                        table.append((number, record))
                        empty_run = 0
                    else:
                        # As pyxform (and so ODK) does: a run of empty rows ends
                        # the sheet; spreadsheets often hold a million formatted
                        # empty rows.
                        empty_run += 1
                        if empty_run > _EMPTY_ROWS_END:
                            break
                sheets[name] = table
                sheets[f"{name}#headers"] = [(1, {h: h for h in headers if h})]
        finally:
            wb.close()
        if "survey" not in sheets:
            self.add("X-SHEET-001", "the workbook has no 'survey' sheet; an XLSForm needs survey, "
                                    "choices and (optionally) settings sheets")
            return None
        return sheets

    def column(self, header: str, sheet: str, double_colon: bool) -> _Column | None:
        """Split ``label::French (fr)`` into key and language code, as pyxform
        does: aliases (``relevance``, ``value``...) and snake case
        (``constraint message``) are accepted; a sheet without any ``::``
        header uses single colons (``label:English``); ``bind::``,
        ``instance::``, ``body::`` and other ``prefix::`` columns are
        attributes, not languages."""
        raw = header.strip()
        aliases = SURVEY_ALIASES if sheet == "survey" else CHOICE_ALIASES if sheet == "choices" else {}
        whole = _snake(raw)
        if aliases.get(whole, whole) in TRANSLATABLE | _KNOWN_SURVEY | {"list_name"} and ":" not in whole:
            return _Column(aliases.get(whole, whole), None, raw)
        if double_colon or "::" in raw:
            parts = [t.strip() for t in raw.split("::")]
        else:
            parts = [t.strip() for t in raw.split(":")]
            if "jr" in [p.lower() for p in parts[:-1]]:  # jr:count, jr:constraintMsg:English
                i = [p.lower() for p in parts].index("jr")
                parts = parts[:i] + [f"jr:{parts[i + 1]}"] + parts[i + 2:]
        key = _snake(parts[0])
        key = aliases.get(key, key)
        if key == "media" and len(parts) > 1:  # old style media::image::French (fr)
            parts = parts[1:]
            key = _snake(parts[0])
        if len(parts) == 1:
            return _Column(key, None, raw)
        if key not in TRANSLATABLE:
            return _Column(key, None, raw, attr="::".join(parts[1:]))
        lang = _language_code("::".join(parts[1:]))
        if lang is None:
            self.add("X-LANG-001", f"cannot tell the language of column {raw!r}; write it as "
                                   f"'{key}::English (en)' with the language code in brackets", sheet, 1)
            return None
        return _Column(key, lang, raw)

    # ------------------------------------------------------------ settings
    def settings(self, rows: list[tuple[int, dict[str, Any]]]) -> dict[str, str]:
        out: dict[str, str] = {}
        if not rows:
            return out
        row, record = rows[0]
        for key, value in record.items():
            k = _snake(key)
            k = SETTINGS_ALIASES.get(k, k)
            text = _cell_text(value)
            if k in _KNOWN_SETTINGS:
                out["license" if k == "licence" else k] = text
            elif k in _SERVER_SETTINGS:
                self.add("X-SET-002", f"setting {key!r} ({text!r}) concerns ODK servers and is not used: "
                                      "the kiosk seals and stores responses itself", "settings", row,
                         severity="warning")
            else:
                self.add("X-SET-002", f"setting {key!r} ({text!r}) is not used by the kiosk", "settings", row,
                         severity="warning")
        return out

    def text_map(self, record: dict[str, Any], cols: dict[str, _Column], key: str, sheet: str,
                 row: int) -> dict[str, str]:
        """The per-language values of ``key`` columns in one row."""
        out: dict[str, str] = {}
        for header, col in cols.items():
            if col.key != key or header not in record:
                continue
            lang = col.lang or self.default_language
            if lang is None:
                continue  # reported once for the column
            text = _cell_text(record[header])
            if text:
                out[lang] = text
        return out

    # ---------------------------------------------------------------- main
    def convert(self) -> dict[str, Any] | None:
        sheets = self.read_sheets()
        if sheets is None:
            return None
        settings = self.settings(sheets.get("settings", []))
        if settings.get("default_language"):
            self.default_language = _language_code(settings["default_language"])
            if self.default_language is None:
                self.add("X-LANG-001", f"cannot tell the language code of default_language "
                                       f"{settings['default_language']!r}; write it as 'English (en)'",
                         "settings", 2)
        if self.default_language is None:
            self.default_language = self.cli_language
        survey_cols = self.columns(sheets, "survey")
        choice_cols = self.columns(sheets, "choices")
        if survey_cols is None or self.problems.errors:
            return None  # columns in an unknown language: every text would be misfiled
        for needed in ("type", "name"):
            if needed not in {c.key for c in survey_cols.values()}:
                self.add("X-SHEET-002", f"the survey sheet has no {needed!r} column", "survey", 1)
                return None
        langs = [c.lang for c in list(survey_cols.values()) + list((choice_cols or {}).values())
                 if c.key in ("label", "hint", "constraint_message", "image", "audio")]
        if any(lang is None for lang in langs) and self.default_language is None:
            bare = sorted({c.header for c in survey_cols.values()
                           if c.lang is None and c.key in ("label", "hint", "constraint_message")})
            self.add("X-LANG-002", f"column(s) {', '.join(repr(b) for b in bare)} say no language; name it "
                                   "in the settings sheet (default_language: 'French (fr)'), or import with "
                                   "--lang fr", "survey", 1)
            return None
        for lang in langs:
            code = lang or self.default_language
            if code and code not in self.languages:
                self.languages.append(code)
        lists, list_rows = self.choice_lists(sheets.get("choices", []), choice_cols or {})
        items, _ = self.survey_items(sheets["survey"], survey_cols, lists)
        if self.drop_unsupported:
            self.prune(items)
        used = {it["choices"] for it in _walk(items) if "choices" in it}
        for name in sorted(used & set(self.list_problems), key=lambda n: self.list_problems[n][0][2]):
            for code, message, crow in self.list_problems[name]:
                self.add(code, message, "choices", crow)
        for name, rows in list_rows.items():
            if name not in used:
                self.add("X-CHO-003", f"choice list {name!r} is not used by any question; left out", "choices", rows, severity="warning")
        if not items and not self.problems.errors:
            self.add("X-ROW-005", "no row of the form can be imported; nothing is written", "survey")
            return None
        self.select_languages(items, {n: lists[n] for n in used})
        if not self.languages:
            return None  # said: no language to write the module in
        module_id = normalise_id(settings.get("form_id", "")) or normalise_id(self.form.stem) or "imported"
        if settings.get("form_id") and module_id != settings["form_id"]:
            self.add("X-NAME-001", f"form_id {settings['form_id']!r} written as module id {module_id!r}",
                     "settings", 2, severity="warning")
        version = settings.get("version", "") or "1.0.0"
        if not VERSION_RE.match(version):
            self.add("X-SET-001", f"version {version!r} is not semantic (like 1.0.0); the module is written "
                                  "as version 1.0.0: raise it by hand when the wording changes", "settings", 2,
                     severity="warning")
            version = "1.0.0"
        title_text = settings.get("form_title") or self.form.stem
        if len(self.languages) > 1:
            # XLSForm has one title; say so rather than pass it off as a
            # translation.
            self.add("X-SET-003", f"the form title {title_text!r} is in one language only; it is written as the "
                                  f"title in {', '.join(self.languages)}: translate it in the module", "settings"
                     if settings.get("form_title") else None, 2 if settings.get("form_title") else None,
                     severity="warning")
        source = self.source or settings.get("source") or ""
        license_ = self.license or settings.get("license") or ""
        if not source or not license_:
            self.add("X-LIC-001", "the form says no source or licence; the module says it is unknown: "
                                  "fill in 'source' and 'license' (or import with --source and --license)",
                     severity="warning")
        data: dict[str, Any] = {
            "id": module_id,
            "version": version,
            "title": {lang: title_text for lang in self.languages},
            "source": source or PLACEHOLDER_SOURCE,
            "license": license_ or PLACEHOLDER_LICENSE,
            "languages": {lang: "validated" if lang in self.validated else "draft" for lang in self.languages},
        }
        kept = {name: lists[name] for name in lists if name in used}
        if kept:
            data["choices"] = kept
        data["items"] = items
        return data

    def columns(self, sheets: dict[str, list[tuple[int, dict[str, Any]]]],
                sheet: str) -> dict[str, _Column] | None:
        headers = sheets.get(f"{sheet}#headers")
        if not headers:
            return None if sheet == "survey" else {}
        out: dict[str, _Column] = {}
        double_colon = any("::" in h for h in headers[0][1])
        seen: dict[tuple[str, str | None, str | None], str] = {}
        for header in headers[0][1]:
            col = self.column(header, sheet, double_colon)
            if col is None:
                continue
            other = seen.get((col.key, col.lang, col.attr))
            if other is not None:
                # pyxform refuses this too: which of the two would win is not
                # something to guess.
                self.add("X-COL-003", f"columns {other!r} and {header!r} both mean {col.key!r}"
                                      f"{f' in {col.lang!r}' if col.lang else ''}; keep one of them", sheet, 1)
                continue
            seen[(col.key, col.lang, col.attr)] = header
            out[header] = col
        return out

    def choice_lists(self, rows: list[tuple[int, dict[str, Any]]],
                     cols: dict[str, _Column]) -> tuple[dict[str, list[dict[str, Any]]], dict[str, int]]:
        lists: dict[str, list[dict[str, Any]]] = {}
        first_row: dict[str, int] = {}
        seen: dict[tuple[str, str], int] = {}
        ignored: set[str] = set()
        for row, record in rows:
            list_name = ""
            code = ""
            for header, col in cols.items():
                if col.key == "list_name" or col.key == "list name":
                    list_name = _cell_text(record.get(header))
                elif col.key == "name":
                    code = _cell_text(record.get(header))
                elif col.key not in ("label", "image", "audio") and header in record and header not in ignored:
                    ignored.add(header)
                    self.add("X-COL-001", f"column {header!r} of the choices sheet is not used by the kiosk; "
                                          "its values are left out", "choices", row, severity="warning")
            if not list_name or not code:
                self.add("X-CHO-002", f"choice row needs 'list_name' and 'name'; got list {list_name!r}, "
                                      f"name {code!r}", "choices", row)
                continue
            lname = normalise_id(list_name)
            if lname != list_name and list_name not in self.list_alias:
                self.add("X-NAME-001", f"choice list {list_name!r} written as {lname!r}", "choices", row,
                         severity="warning")
            # Reported only if a question that is kept uses the list.
            if not CODE_RE.match(code):
                self.list_problems.setdefault(lname, []).append((
                    "X-CHO-004", f"choice name {code!r} in list {list_name!r} must be 1-32 letters, digits, "
                                 "'_' or '-': it is the code stored in every response", row))
                first_row.setdefault(lname, row)
                self.list_alias[list_name] = lname
                lists.setdefault(lname, [])
                continue
            if (lname, code) in seen:
                self.list_problems.setdefault(lname, []).append((
                    "X-CHO-005", f"choice name {code!r} appears twice in list {list_name!r} (first at row "
                                 f"{seen[(lname, code)]}); codes must be unique in a list", row))
                continue
            seen[(lname, code)] = row
            choice: dict[str, Any] = {"code": code,
                                      "label": self.text_map(record, cols, "label", "choices", row)}
            if any(_PIPE.search(t) for t in choice["label"].values()):
                self.list_refusals.setdefault(lname, (
                    "X-TXT-001", f"the label of choice {code!r} of list {list_name!r} (choices row {row}) holds an "
                                 "answer placeholder; the kiosk does not insert earlier answers into texts"))
            if not choice["label"]:
                self.list_refusals.setdefault(lname, (
                    "X-TXT-002", f"choice {code!r} of list {list_name!r} (choices row {row}) has no label; the "
                                 "patient would see an empty button: give it a label"))
            image = self.text_map(record, cols, "image", "choices", row)
            audio = self.text_map(record, cols, "audio", "choices", row)
            if image:
                choice["image"] = image
            if audio:
                choice["audio"] = audio
            lists.setdefault(lname, []).append(choice)
            first_row.setdefault(lname, row)
            self.list_alias[list_name] = lname
        return lists, first_row

    def survey_items(self, rows: list[tuple[int, dict[str, Any]]], cols: dict[str, _Column],
                     lists: dict[str, list[dict[str, Any]]]) -> tuple[list[dict[str, Any]], set[str]]:
        by_key: dict[str, str] = {}
        for header, col in cols.items():
            if col.lang is None and col.attr is None:
                by_key.setdefault(col.key, header)
        # Names first: references anywhere in the form are rewritten to the
        # normalised ids, whatever the row order.
        # Collisions are settled as rows are kept (a name used again only by
        # a row left out is no collision).
        names: dict[str, str] = {}
        for row, record in rows:
            name = _cell_text(record.get(by_key.get("name", "name")))
            if not name:
                continue
            new = normalise_id(name)
            if not new or not ID_RE.match(new) or name in names:
                continue
            names[name] = new
            if new != name:
                self.add("X-NAME-001", f"name {name!r} written as {new!r} (ids use a-z, 0-9 and '_'); "
                                       "references to it are rewritten", "survey", row, new, "warning")
        self.prepass = names
        root: list[dict[str, Any]] = []
        stack: list[tuple[dict[str, Any] | None, int]] = []  # (group, begin row); None = dropped block
        used: set[str] = set()
        reported_cols: set[str] = set()

        def target() -> list[dict[str, Any]] | None:
            for group, _ in reversed(stack):
                if group is None:
                    return None
            return stack[-1][0]["items"] if stack else root  # type: ignore[index]

        for row, record in rows:
            raw_type = _cell_text(record.get(by_key.get("type", "type")))
            base, list_name, or_other = parse_type(raw_type)
            name = _cell_text(record.get(by_key.get("name", "name")))
            item_id = names.get(name, normalise_id(name)) or None
            disabled = _cell_text(record.get(by_key.get("disabled", "disabled"))).lower()
            if disabled in _YES:
                # pyxform leaves such rows out of the form altogether.
                self.add("X-ROW-003", f"row is disabled ({by_key.get('disabled')!r} is {disabled!r}); left out, "
                                      "as ODK does", "survey", row, item_id, "warning")
                if item_id:
                    self.dropped.setdefault(item_id, row)
                if base in ("begin_group", "begin_repeat"):
                    stack.append((None, row))
                continue
            if base in ("end_group", "end_repeat"):
                if not stack:
                    self.add("X-GRP-001", f"{base} without a matching begin", "survey", row)
                    continue
                group, begin = stack.pop()
                if group is not None and not group["items"]:
                    self.add("X-GRP-003", f"group {group['id']!r} (row {begin}) holds no question that could "
                                          "be imported; left out", "survey", begin, group["id"], "warning")
                    container = target()
                    if container is not None:
                        container[:] = [g for g in container if g is not group]
                continue
            if not base and not name and not any(c.key == "label" for h, c in cols.items() if h in record):
                # pyxform reads such a row as a comment.
                self.add("X-ROW-003", "row has no type, name or label: a comment, left out as ODK does", "survey",
                         row, severity="warning")
                continue
            if not base:
                self.add("X-ROW-001", f"row has no type (name {name!r}); give it one or delete the row",
                         "survey", row, item_id)
                continue
            inside_dropped = target() is None
            if inside_dropped:
                begin = next(b for g, b in reversed(stack) if g is None)
                self.unsupported("X-ROW-002", f"{raw_type!r} is inside the block that begins at row {begin}, "
                                              "which cannot be imported", row, item_id)
                if base in ("begin_group", "begin_repeat"):
                    stack.append((None, row))
                continue
            if base in METADATA_TYPES:
                self.add("X-TYPE-003", f"metadata {base!r} is not collected: the kiosk records no device, "
                                       "person or time of day", "survey", row, item_id, "warning")
                if item_id:
                    self.dropped.setdefault(item_id, row)
                continue
            if base == "calculate" and name and self.calculation(record, by_key, row, name, item_id or ""):
                continue
            if base in ("select_one_from_file", "select_multiple_from_file") and list_name:
                base, list_name = self.list_from_file(base, list_name, row, item_id, lists)
                if not base:
                    continue
            spelled = types.from_xlsform(base)
            free_text = spelled is not None and spelled.free_text
            if free_text and self.allow_free_text:
                pass
            elif base in UNSUPPORTED_TYPES or or_other:
                reason = UNSUPPORTED_TYPES.get(base, "'or_other' adds a free-text answer, which can identify "
                                                     "a person; add an 'other' choice instead")
                code = "X-TYPE-004" if free_text else "X-TYPE-001"
                self.unsupported(code, f"type {raw_type!r} cannot be imported: {reason}", row, item_id)
                if base == "begin_repeat":
                    stack.append((None, row))
                continue
            if spelled is None:
                self.unsupported("X-TYPE-002", f"unknown type {raw_type!r}; the kiosk imports select_one, "
                                               "select_multiple, integer, note and groups", row, item_id)
                continue
            if not name:
                self.add("X-ROW-001", f"{raw_type!r} row has no name; give it a unique name", "survey", row)
                continue
            blocked = False
            for header, col in cols.items():
                if header not in record:
                    continue
                value = _cell_text(record[header])
                reason = self.blocking(col, value, base)
                if reason:
                    blocked = True
                    self.unsupported("X-COL-002", f"column {header!r} ({value!r}): {reason}", row, item_id)
                elif header not in reported_cols and (col.attr is not None or col.key not in _KNOWN_SURVEY):
                    reported_cols.add(header)
                    why = _UNSHOWN_TEXTS.get(col.key, "")
                    if col.attr is not None:
                        why = {"instance": "instance attributes concern ODK servers",
                               "body": "display attributes are for ODK Collect; the kiosk shows one question "
                                       "a screen, large buttons"}.get(col.key, f"{col.key!r} attributes are "
                                                                                "unknown to the kiosk")
                    self.add("X-COL-001", f"column {header!r} is not used by the kiosk"
                                          f"{'; ' + why if why else ''}; its values are left out",
                             "survey", row, item_id, "warning")
            if blocked:
                if base == "begin_group":
                    stack.append((None, row))
                continue
            parent = next((g["id"] for g, _ in reversed(stack) if g is not None), None)
            item_id = self.unique_id(name, item_id or "", parent, row)
            if item_id is None:
                if base == "begin_group":
                    stack.append((None, row))
                continue
            item = self.item(base, list_name, record, cols, by_key, row, item_id, lists, used)
            if item is None:
                if base == "begin_group":
                    stack.append((None, row))  # its rows are reported, and its end_group matched
                continue
            container = target()
            assert container is not None
            container.append(item)
            self.item_rows.setdefault(item["id"], row)
            self.kept[item["id"]] = (row, name, parent)
            self.renamed.setdefault(name, item["id"])
            if base == "begin_group":
                stack.append((item, row))
        for group, begin in stack:
            self.add("X-GRP-002", f"the block that begins at row {begin} has no end_group/end_repeat",
                     "survey", begin, group["id"] if group else None)
        return root, used

    def expression(self, text: str, own_id: str) -> str:
        """XLSForm expression to the kiosk's: ``.`` is the item itself, and
        renamed references follow their items."""
        def rename(m: re.Match[str]) -> str:
            name = m.group(1)
            if name in self.calcs:  # a calculation is its arithmetic
                return self.calcs[name]
            return "${" + self.renamed.get(name, self.prepass.get(name, name)) + "}"

        parts = re.split(r"('[^']*'|\"[^\"]*\")", text)
        for i in range(0, len(parts), 2):  # outside quoted strings only
            parts[i] = re.sub(r"\$\{([^}]*)\}", rename, parts[i])
            parts[i] = re.sub(r"(?<![\w.}$])\.(?![\w.])", "${" + own_id + "}", parts[i])
        return "".join(parts)

    def select_languages(self, items: list[dict[str, Any]], lists: dict[str, list[dict[str, Any]]]) -> None:
        """Keep the languages asked for (``--languages``), or with
        ``--drop-unsupported`` the complete ones; a language left out is
        named with the items it lacks. Texts of the others are removed."""
        missing: dict[str, list[str]] = {lang: [] for lang in self.languages}
        for it in _walk(items):
            if it.get("type") == "group":
                continue
            for lang in self.languages:
                if lang not in it.get("text", {}):
                    missing[lang].append(it["id"])
        for name, choices in lists.items():
            for choice in choices:
                for lang in self.languages:
                    if lang not in choice["label"]:
                        missing[lang].append(f"choice {choice['code']!r} of list {name!r}")

        def lacks(lang: str) -> str:
            names = missing[lang]
            more = f" and {len(names) - 10} more" if len(names) > 10 else ""
            return f"{', '.join(names[:10])}{more}"

        keep = list(self.languages)
        if self.only_languages is not None:
            for lang in self.only_languages:
                if lang not in self.languages:
                    self.add("X-LANG-003", f"language {lang!r} (--languages) is not in the form; its languages are "
                                           f"{', '.join(self.languages) or 'none'}")
            keep = [lang for lang in self.only_languages if lang in self.languages and not missing[lang]]
            for lang in self.languages:
                if lang not in self.only_languages:
                    self.add("X-LANG-004", f"language {lang!r} is not asked for (--languages); left out",
                             severity="warning")
                elif missing[lang]:
                    self.add("X-LANG-004", f"language {lang!r} lacks the text of {lacks(lang)}; left out",
                             severity="warning")
            if not keep and not self.problems.errors:
                self.add("X-LANG-003", f"no language asked for (--languages {','.join(self.only_languages)}) "
                                       "is complete; translate the missing texts or ask for another language")
        elif self.drop_unsupported and any(not missing[lang] for lang in self.languages):
            keep = [lang for lang in self.languages if not missing[lang]]
            for lang in self.languages:
                if missing[lang]:
                    self.add("X-LANG-004", f"language {lang!r} lacks the text of {lacks(lang)}; left out",
                             severity="warning")
        if keep == self.languages:
            return
        self.languages = keep

        def strip(value: Any) -> None:
            if isinstance(value, dict):
                for lang in [k for k in value if k not in keep]:
                    del value[lang]
        for it in _walk(items):
            for key in ("text", "hint", "constraint_message", "image", "audio"):
                strip(it.get(key))
        for choices in lists.values():
            for choice in choices:
                for key in ("label", "image", "audio"):
                    strip(choice.get(key))

    def prune(self, items: list[dict[str, Any]]) -> None:
        """Leave out what depends on a row left out (its relevance or
        constraint refers to it), then groups left empty; say each."""
        changed = True
        while changed:
            changed = False
            kept = {it["id"] for it in _walk(items)}

            def walk(container: list[dict[str, Any]]) -> None:
                nonlocal changed
                for it in list(container):
                    text = f"{it.get('relevant', '')} {it.get('constraint', '')}"
                    gone = [r for r in dict.fromkeys(_PIPE.findall(text)) if r[2:-1] not in kept
                            and r[2:-1] in self.dropped]
                    row = self.item_rows.get(it["id"])
                    if gone:
                        container.remove(it)
                        self.dropped.setdefault(it["id"], row or 0)
                        self.add("X-ROW-004", f"depends on {gone[0]} (row {self.dropped[gone[0][2:-1]]}), which is "
                                              "left out; left out too", "survey", row, it["id"], "warning")
                        for inner in _walk(it.get("items", [])):
                            inner_row = self.item_rows.get(inner["id"])
                            self.dropped.setdefault(inner["id"], inner_row or 0)
                            self.add("X-ROW-004", f"is in group {it['id']!r} (row {row}), which is left out; left "
                                                  "out too", "survey", inner_row, inner["id"], "warning")
                        changed = True
                    elif it.get("type") == "group":
                        walk(it["items"])
                        if not it["items"]:
                            container.remove(it)
                            self.add("X-GRP-003", f"group {it['id']!r} (row {row}) holds no question that could "
                                                  "be imported; left out", "survey", row, it["id"], "warning")
                            changed = True
            walk(items)

    def unique_id(self, name: str, item_id: str, parent: str | None, row: int) -> str | None:
        """The id of a row about to be kept. ODK allows one name in two
        groups: the later one gets the group's id in front; two names that
        only differ in spelling (``Q1``, ``q1``) are refused (``None``)."""
        if item_id not in self.kept:
            return item_id
        first_row, first_name, first_parent = self.kept[item_id]
        if first_name != name or first_parent == parent:
            self.add("X-NAME-002", f"name {name!r} becomes {item_id!r}, which another row (row {first_row}) "
                                   "already uses; rename one of them", "survey", row, item_id)
            return None
        new = normalise_id(f"{parent or 'top'}_{item_id}")
        n = 2
        while new in self.kept or new in self.prepass.values():
            new, n = normalise_id(f"{parent or 'top'}_{item_id}_{n}"), n + 1
        self.add("X-NAME-003", f"name {name!r} is also used at row {first_row} (another group), as ODK allows; "
                               f"imported as {new!r}, and ${{{name}}} refers to row {first_row}", "survey", row,
                 new, "warning")
        return new

    def calculation(self, record: dict[str, Any], by_key: dict[str, str], row: int, name: str,
                    item_id: str) -> bool:
        """Keep a ``calculate`` row that is pure arithmetic on earlier
        answers: nothing is asked or stored, its expression is put in place
        of ``${name}`` wherever it is used. False when it cannot be."""
        text = _cell_text(record.get(by_key.get("calculation", "calculation")))
        if not text:
            return False
        converted = self.expression(text, item_id)
        try:
            tree = logic.parse(converted)
        except ExpressionError:
            return False
        if isinstance(tree, logic.Op) and tree.op in ("and", "or", "not", "=", "!=", "<", "<=", ">", ">=",
                                                      "selected"):
            return False  # a condition, not a number: kept out (the kiosk stores no calculated value)
        for ref in logic.references(tree):
            if ref not in self.kept:
                return False  # depends on a row left out, or on a later one
        self.calcs[name] = f"({converted})"
        self.add("X-CALC-001", f"calculation {text!r} is not stored; it is put in place of ${{{name}}} "
                               "wherever the form uses it", "survey", row, item_id, "warning")
        return True

    def list_from_file(self, base: str, file_name: str, row: int, item_id: str | None,
                       lists: dict[str, list[dict[str, Any]]]) -> tuple[str, str | None]:
        """``select_one_from_file towns.csv``: the choices are read from the
        CSV file next to the form (columns ``name`` and ``label``, or
        ``label::Language (xx)``). ``('', None)`` when it cannot be."""
        import csv
        kind = base.replace("_from_file", "")
        path = self.form.parent / file_name
        if Path(file_name).suffix.lower() != ".csv":
            self.unsupported("X-CHO-006", f"choices from {file_name!r}: only .csv choice files can be imported; "
                                          "put the choices in the choices sheet", row, item_id)
            return "", None
        if Path(file_name).name != file_name or not path.is_file():
            self.unsupported("X-CHO-006", f"choice file {file_name!r} is not next to the form; copy it into "
                                          f"{str(self.form.parent)!r}", row, item_id)
            return "", None
        if file_name in self.list_alias:  # read for an earlier question
            return kind, file_name
        lname = normalise_id(Path(file_name).stem) or "file"
        while lname in lists:
            lname += "_file"
        try:
            with path.open(encoding="utf-8-sig", newline="") as fh:
                table = list(csv.DictReader(fh))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            self.unsupported("X-CHO-006", f"choice file {file_name!r} cannot be read ({exc.__class__.__name__}); "
                                          "save it as UTF-8 CSV", row, item_id)
            return "", None
        headers = list(table[0]) if table else []
        cols = {h: c for h in headers if (c := self.column(h, "choices", any("::" in x for x in headers)))}
        out = []
        for n, record in enumerate(table, start=2):
            code = _cell_text(next((record[h] for h, c in cols.items() if c.key == "name"), ""))
            if not CODE_RE.match(code):
                self.unsupported("X-CHO-006", f"choice file {file_name!r} row {n}: name {code!r} is not a valid "
                                              "code (1-32 letters, digits, '_' or '-')", row, item_id)
                return "", None
            out.append({"code": code, "label": self.text_map(record, cols, "label", "choices", n)})
        if not out:
            self.unsupported("X-CHO-006", f"choice file {file_name!r} holds no choices", row, item_id)
            return "", None
        lists[lname] = out
        self.list_alias[file_name] = lname
        return kind, file_name

    def blocking(self, col: _Column, value: str, base: str) -> str | None:
        """Why a column's value changes what the form does in a way the
        kiosk cannot honour (``None`` when it does not)."""
        if col.key in BLOCKING_COLUMNS:
            return BLOCKING_COLUMNS[col.key]
        qtype = types.from_xlsform(base)
        if col.key == "readonly" and value.lower() not in _NO and (qtype is None or qtype.answers):
            return "read-only questions are not supported (the patient could change the answer)"
        if col.key == "bind" and col.attr is not None:
            return (f"the form attribute {col.attr!r} changes how the answer is checked or stored, which the "
                    "kiosk cannot do")
        return None

    def item(self, base: str, list_word: str | None, record: dict[str, Any], cols: dict[str, _Column],
             by_key: dict[str, str], row: int, item_id: str, lists: dict[str, list[dict[str, Any]]],
             used: set[str]) -> dict[str, Any] | None:
        out: dict[str, Any] = {"id": item_id}
        appearance = _cell_text(record.get(by_key.get("appearance", "appearance"))).lower()
        # The registry says which kiosk type an XLSForm type (and appearance) is.
        qtype = types.from_xlsform(base, appearance)
        assert qtype is not None  # rows of other types were refused before
        out["type"] = qtype.name
        if appearance and (base, appearance) not in qtype.xlsform:
            self.add("X-COL-001", f"appearance {appearance!r} is not used by the kiosk (one question a "
                                  "screen, large buttons)", "survey", row, item_id, "warning")
        label = self.text_map(record, cols, "label", "survey", row)
        if not label and not qtype.container:
            # pyxform refuses it too; the kiosk would show a blank screen.
            self.unsupported("X-TXT-002", "the row has no label in any language; give it the question's text",
                             row, item_id)
            return None
        if label or not qtype.container:
            out["text"] = label
        hint = self.text_map(record, cols, "hint", "survey", row)
        if hint and qtype.container:
            self.add("X-COL-001", "a group's hint is not shown by the kiosk (it shows the group's label above each "
                                  "question); left out", "survey", row, item_id, "warning")
            hint = {}
        if hint:
            out["hint"] = hint
        message = self.text_map(record, cols, "constraint_message", "survey", row)
        for key, texts in (("label", label), ("hint", hint), ("constraint_message", message)):
            for lang, text in texts.items():
                found = _PIPE.search(text)
                if found:
                    # The kiosk does not put earlier answers into its wording:
                    # the patient would read the placeholder as written.
                    self.unsupported("X-TXT-001", f"{key} in {lang!r} holds {found.group(0)!r}: the kiosk does not "
                                                  "insert earlier answers into texts; rephrase it without the "
                                                  "placeholder", row, item_id)
                    return None
        if qtype.choices:
            if not list_word or " " in list_word:
                self.add("X-CHO-001", f"{base} needs a choice list name, like '{base} yesno'", "survey",
                         row, item_id)
                return None
            lname = self.list_alias.get(list_word, normalise_id(list_word))
            if lname not in lists:
                self.add("X-CHO-001", f"choice list {list_word!r} is not in the choices sheet"
                                      f"{_did_you_mean(lname, lists)}", "survey", row, item_id)
                return None
            if lname in self.list_refusals:
                self.unsupported(*self.list_refusals[lname], row, item_id)
                return None
            used.add(lname)
            out["choices"] = lname
        relevant = _cell_text(record.get(by_key.get("relevant", "relevant")))
        if relevant:
            out["relevant"] = self.expression(relevant, item_id)
        constraint = _cell_text(record.get(by_key.get("constraint", "constraint")))
        if constraint and not qtype.answers:
            self.add("X-COL-001", f"a {base} takes no constraint; {constraint!r} is left out", "survey", row,
                     item_id, "warning")
            constraint = ""
        if constraint:
            converted = self.expression(constraint, item_id)
            if qtype.ranged:
                lo, hi, rest_only_bounds = _bounds(converted, item_id)
                if lo is not None:
                    out["min"] = lo
                if hi is not None:
                    out["max"] = hi
                # A pure range becomes min/max; it stays a constraint too when
                # the form gives a message for it, so no wording is lost.
                if not rest_only_bounds or self.text_map(record, cols, "constraint_message", "survey", row):
                    out["constraint"] = converted
            else:
                out["constraint"] = converted
        if qtype.ranged and ("min" not in out or "max" not in out):
            self.unsupported("X-INT-001", "an integer needs a lowest and a highest value; add a constraint like "
                                          "'. >= 0 and . <= 120'", row, item_id)
            return None
        if message and "constraint" in out:
            out["constraint_message"] = message
        required = _cell_text(record.get(by_key.get("required", "required"))).lower()
        if required in _YES:
            if qtype.answers:
                out["required"] = True
        elif required not in _NO:
            self.unsupported("X-COL-002", f"required {required!r}: only yes or no is supported (a condition "
                                          "cannot be imported)", row, item_id)
            return None
        if qtype.free_text:
            out["allow_free_text"] = True
        image = self.text_map(record, cols, "image", "survey", row)
        audio = self.text_map(record, cols, "audio", "survey", row)
        if image:
            out["image"] = image
        if audio:
            out["audio"] = audio
        if qtype.container:
            out["items"] = []
        return out


def _walk(items: list[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    """Every item, groups and what they hold, in order."""
    for it in items:
        yield it
        if it.get("type") == "group":
            yield from _walk(it["items"])


def _bounds(expression: str, own_id: str) -> tuple[int | None, int | None, bool]:
    """Lowest and highest integer a constraint allows when it is a plain
    ``and`` of comparisons of the item with numbers; the flag says whether
    nothing else is in the constraint (so it can be dropped)."""
    try:
        tree = logic.parse(expression)
    except ExpressionError:
        return None, None, False
    parts = list(tree.args) if isinstance(tree, logic.Op) and tree.op == "and" else [tree]
    lo: int | None = None
    hi: int | None = None
    only_bounds = True
    flip = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "="}
    for part in parts:
        if not (isinstance(part, logic.Op) and part.op in flip):
            only_bounds = False
            continue
        left, right = part.args
        op = part.op
        if isinstance(right, logic.Ref) and isinstance(left, logic.Lit):
            left, right, op = right, left, flip[op]
        if not (isinstance(left, logic.Ref) and left.name == own_id and isinstance(right, logic.Lit)
                and isinstance(right.value, (int, float)) and not isinstance(right.value, bool)):
            only_bounds = False
            continue
        value = float(right.value)
        if op == ">=":
            lo = max(lo, math.ceil(value)) if lo is not None else math.ceil(value)
        elif op == ">":
            lo = max(lo, math.floor(value) + 1) if lo is not None else math.floor(value) + 1
        elif op == "<=":
            hi = min(hi, math.floor(value)) if hi is not None else math.floor(value)
        elif op == "<":
            hi = min(hi, math.ceil(value) - 1) if hi is not None else math.ceil(value) - 1
        else:
            only_bounds = False
    return lo, hi, only_bounds


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
