"""XLSForm as people write it: type spellings (pyxform's aliases), column
header aliases, language names without a code, and what the kiosk refuses
(identifying, unsupported and metadata types, blocking columns), each with
its reason.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from surveycore.questionnaire import LANG_RE

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
                   "licence", "clean_text_values"}
# Settings that concern ODK servers only; the kiosk seals responses itself.
_SERVER_SETTINGS = {"submission_url", "public_key", "instance_name", "style", "auto_send",
                    "auto_delete", "allow_choice_duplicates", "name", "namespaces"}

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
            control = low[len(prefix) + 1:].strip()
            for alias, canonical_control in sorted(_CONTROL_ALIASES.items(), key=lambda kv: -len(kv[0])):
                if control == alias or control.startswith(alias + " "):  # "begin loop over list"
                    return f"{prefix}_{canonical_control}", None, False
    return TYPE_ALIASES.get(low, low), None, False


PLACEHOLDER_SOURCE = "Imported from an XLSForm; say where the wording comes from"
PLACEHOLDER_LICENSE = "Unknown; check under which licence this wording may be used before fielding it"


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
    return LANGUAGE_NAMES.get(part.lower()) or _english_names().get(part.lower())


@functools.lru_cache(maxsize=1)
def _english_names() -> dict[str, str]:
    """Every language's English name as Babel (CLDR) spells it, lowercase,
    to its code (``hindi`` → ``hi``, ``oromo`` → ``om``): forms often name
    languages this way without a code. Codes of two or three letters only."""
    from babel import Locale
    out: dict[str, str] = {}
    for code, name in Locale("en").languages.items():
        if re.fullmatch(r"[a-z]{2,3}", code) and LANG_RE.match(code):
            out.setdefault(name.lower(), code)
    return out
