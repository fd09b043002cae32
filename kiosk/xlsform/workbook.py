"""Reading an XLSForm workbook: its sheets and rows (bounded, as pyxform
reads them), column headers with their language and attribute parts, the
settings sheet, per-language texts of a row, and how problems are recorded.
"""

from __future__ import annotations

import html
import io
import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from surveycore.errors import ProblemList
from kiosk.xlsform.spellings import (CHOICE_ALIASES, SETTINGS_ALIASES, SURVEY_ALIASES, TRANSLATABLE,
                                     _EMPTY_ROWS_END, _KNOWN_SETTINGS, _KNOWN_SURVEY, _NO, _SERVER_SETTINGS,
                                     _cell_text, _language_code, _snake)


_SMART_QUOTES = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'}


def _clean_text(value: str) -> str:
    """A text cell as pyxform cleans it: plain quotes, one space for many."""
    for smart, plain in _SMART_QUOTES.items():
        value = value.replace(smart, plain)
    return re.sub(r"( )+", " ", value)


# ODK shows labels with HTML (``<span style="color:red">``, ``<br>``) and
# Markdown links; the kiosk shows plain text (Streamlit would print the tags
# as written) and never sends a patient off its page, nor lets a text fetch
# anything from elsewhere.
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\(\s*[^)\s]*(?:\s+\"[^\"]*\")?\s*\)")
_HTML_BREAK = re.compile(r"<\s*(?:br|/?p|/?div|/?h[1-6]|/?li)\b[^>]*>", re.IGNORECASE)
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
# A bare web address: Streamlit's Markdown would make it a link.
_URL = re.compile(r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)[^\s<>()\]]+", re.IGNORECASE)


def _plain_text(text: str) -> tuple[str, list[str]]:
    """A label as plain text: Markdown links and images become their words,
    HTML tags are removed (a line break becomes a space) and entities
    (``&amp;``) their character; with what was taken out, for the warning."""
    removed = []
    if _MD_LINK.search(text):
        removed.append("a link or picture address")
        text = _MD_LINK.sub(lambda m: m.group(1), text)
    if _HTML_TAG.search(text):
        removed.append("HTML formatting")
        text = _HTML_TAG.sub("", _HTML_BREAK.sub(" ", text))
        text = html.unescape(text)
    if _URL.search(text):
        removed.append("a web address")
        text = _URL.sub("", text)
    if removed:
        text = re.sub(r"[ \t]+", " ", text).strip()
    return text, removed


@dataclass
class _Column:
    key: str  # label, hint, image, ...
    lang: str | None  # None when the column has no language part
    header: str
    attr: str | None = None  # bind::x, instance::x, body::x, other prefix::x: the part after the prefix


class _Reader:
    """Reads the workbook and records problems; the converter builds on it."""

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
        # The row being read, and where each row sits in the form's tree (for
        # XPath paths in expressions); ids of kept rows and arithmetic of
        # calculations by row.
        self.row = 0
        self.row_paths: dict[int, tuple[str, ...]] = {}
        self.path_rows: dict[tuple[str, ...], int] = {}
        self.row_names: dict[int, str] = {}
        self.row_ids: dict[int, str] = {}
        self.calc_rows: dict[int, str] = {}
        # Texts whose formatting was left out, said once each.
        self.markup_said: set[tuple[str, int, str]] = set()
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
        """The survey, choices and settings sheets as numbered rows."""
        with warnings.catch_warnings():
            # openpyxl warns on stderr about what the kiosk never reads (page
            # headers it cannot parse, data validation, ...): the user would
            # see a Python warning among the coded problems.
            warnings.filterwarnings("ignore", category=UserWarning, module=r"openpyxl(\.|$)")
            return self._read_sheets()

    def _read_sheets(self) -> dict[str, list[tuple[int, dict[str, Any]]]] | None:
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
        settings_rows = sheets.get("settings", [])
        clean = not settings_rows or not any(
            _snake(k) == "clean_text_values" and _cell_text(v).lower() in _NO - {""}
            for k, v in settings_rows[0][1].items())
        if clean:
            # As pyxform does unless the settings say clean_text_values: no
            # (so as ODK reads the form): "smart" quotes typed by a spreadsheet
            # become plain ones (an expression with 'yes' in them works in
            # ODK), and runs of spaces one space.
            for name in ("survey", "choices"):
                for _, record in sheets.get(name, []):
                    for key, value in record.items():
                        if isinstance(value, str):
                            record[key] = _clean_text(value)
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
            written = "::".join(parts[1:])
            self.add("X-LANG-001", f"cannot tell the language of column {raw!r}; write it with the language's "
                                   f"code in brackets, as '{key}::{written} (xx)' ('{key}::English (en)', "
                                   f"'{key}::Tigrinya (ti)')", sheet, 1)
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
            if text == "NO_LABEL" and key in ("label", "hint"):
                # The Community Health Toolkit's spelling of "no label"
                # (its converter shows nothing); the patient would read it.
                continue
            if key in ("label", "hint", "constraint_message"):
                text, removed = _plain_text(text)
                if removed and (sheet, row, header) not in self.markup_said:
                    self.markup_said.add((sheet, row, header))
                    shown = text if len(text) <= 80 else text[:79] + "…"
                    self.add("X-TXT-003", f"{key} in {lang!r} holds {', '.join(removed)}, left out: the kiosk "
                                          f"shows plain text and never links off its page; it reads {shown!r}",
                             sheet, row, severity="warning")
            if text:
                out[lang] = text
        return out

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
