"""A module's YAML file as the translators' tools read and write it.

- **Layout kept.** ruamel's round-trip mode with the indentation of the
  file, so that writing back what was read gives the same bytes, and new
  text changes only its own lines; files are replaced atomically.
- **Texts.** The source language of a module (its first *validated*
  language), the status of a language, the choice labels written once for
  every language (nothing to translate), the placeholders a translation
  must keep. The places of the texts themselves are
  :mod:`surveycore.textslots`.
- **Review records.** The review of a text (back-translation, state, role,
  date) is kept in the module under ``review`` and travels in a ``.po``
  file as two translator comments.

Used by :mod:`kiosk.translate` (catalogs out and in),
:mod:`kiosk.translation_status` (``kiosk i18n status``) and
:mod:`kiosk.recording`.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from ruamel.yaml import YAML

from surveycore.errors import ConfigError
from surveycore.questionnaire import REVIEW_STATES, load_module
from surveycore.questionnaire.fields import _code_of

# Placeholders a translation must keep: Python ``{name}`` fields and
# XLSForm-style ``${item}`` references.
_PLACEHOLDER_RE = re.compile(r"\$?\{[^{}]*\}")


# ------------------------------------------------------------------ YAML I/O

def round_trip_yaml(mapping: int = 2, sequence: int = 4, offset: int = 2) -> YAML:
    """A round-trip YAML with this indentation that never re-wraps a text."""
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096  # never re-wrap a long question
    y.allow_duplicate_keys = False
    y.indent(mapping=mapping, sequence=sequence, offset=offset)
    return y


_INDENTS = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4), (2, 4, 4), (4, 4, 0), (3, 3, 0))


def yaml_for(text: str) -> tuple[YAML, bool]:
    """A round-trip YAML whose indentation reproduces ``text`` byte for byte
    when nothing changes (ruamel cannot detect indentation by itself), and
    whether one was found."""
    for indent in _INDENTS:
        y = round_trip_yaml(*indent)
        try:
            if dump(y, y.load(text)) == text:
                return y, True
        except Exception:
            break  # unreadable text: load_module reports it properly
    return round_trip_yaml(), False


def dump(y: YAML, data: Any) -> str:
    """The YAML text of ``data``, written by ``y``."""
    out = io.StringIO()
    y.dump(data, out)
    return out.getvalue()


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` by ``text`` at once: a reader sees the old file or the new one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ------------------------------------------------------------------ texts and reviews


def same_text_contexts(data: Any) -> set[str]:
    """The places of choice labels written once as plain text (the same in
    every language, a place name): nothing to translate there."""
    out: set[str] = set()
    lists = data.get("choices") if isinstance(data, dict) else None
    for name, entries in lists.items() if isinstance(lists, dict) else []:
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("label"), str):
                out.add(f"choices.{name}.{_code_of(entry.get('code'))}")

    def walk(items: Any) -> None:
        for raw in items if isinstance(items, list) else []:
            if not isinstance(raw, dict):
                continue
            walk(raw.get("items"))
            inline = raw.get("choices")
            for entry in inline if isinstance(inline, list) else []:
                if isinstance(entry, dict) and isinstance(entry.get("label"), str):
                    out.add(f"items.{raw.get('id')}.choices.{_code_of(entry.get('code'))}")

    walk(data.get("items") if isinstance(data, dict) else None)
    return out


def status_of(entry: Any) -> str:
    """A ``languages`` entry's status, whether written short (``validated``)
    or as a provenance mapping (``{status: draft, origin: project, ...}``)."""
    if isinstance(entry, dict):
        return str(entry.get("status", "missing"))
    return str(entry)


def source_language(data: Any) -> str:
    """The module's source language: its first ``validated`` language."""
    langs = data.get("languages") if isinstance(data, dict) else None
    if isinstance(langs, dict):
        for lang, status in langs.items():
            if status_of(status) == "validated":
                return str(lang)
    raise ConfigError("the module has no validated language to translate from; mark the reviewed "
                      "wording 'validated' in 'languages'", code="TR-010")


def placeholders(text: str) -> Counter:
    """The ``{name}`` and ``${item}`` placeholders of a text, counted."""
    return Counter(_PLACEHOLDER_RE.findall(text))


# The review of a text travels in the translation file as two translator
# comments, which Poedit and Weblate show and let the translators edit:
#   # back-translation: <the text translated back into the source language>
#   # review: reviewed by bilingual panel on 2026-11-29
BACK_PREFIX = "back-translation:"
REVIEW_PREFIX = "review:"
REVIEW_LINE_RE = re.compile(r"^(?P<state>" + "|".join(re.escape(s) for s in REVIEW_STATES) +
                            r")(?:\s+by\s+(?P<by>.+?))?(?:\s+on\s+(?P<date>\d{4}-\d{2}-\d{2}))?\s*$")


def review_records(data: Any, lang: str) -> dict[str, Any]:
    """The module's review records for ``lang``: msgctxt -> {state, back, by, date}."""
    review = data.get("review") if isinstance(data, dict) else None
    records = review.get(lang) if isinstance(review, dict) else None
    return records if isinstance(records, dict) else {}


def review_state(data: Any, lang: str, context: str) -> str:
    """The review state of one text: its record's, else ``validated`` in a
    validated language and ``draft`` otherwise."""
    record = review_records(data, lang).get(context)
    if isinstance(record, dict) and record.get("state") in REVIEW_STATES:
        return str(record["state"])
    langs = data.get("languages") if isinstance(data, dict) else None
    return "validated" if isinstance(langs, dict) and status_of(langs.get(lang)) == "validated" else "draft"


def review_comment(record: Any) -> list[str]:
    """The two translator comments of a text's review record."""
    back = record.get("back") if isinstance(record, dict) else None
    lines = [f"{BACK_PREFIX} {back}" if isinstance(back, str) else BACK_PREFIX]
    if isinstance(record, dict) and record.get("state") in REVIEW_STATES:
        line = f"{REVIEW_PREFIX} {record['state']}"
        if record.get("by"):
            line += f" by {record['by']}"
        if record.get("date"):
            line += f" on {record['date']}"
        lines.append(line)
    return lines


def check_lang(lang: str) -> None:
    """Refuse a language code babel does not know (TR-011)."""
    try:
        Locale.parse(lang)
    except (UnknownLocaleError, ValueError):
        raise ConfigError(f"babel has no locale {lang!r}; use a CLDR code such as ar, fa_AF (Dari), ps, ti",
                          code="TR-011") from None


def load_module_tree(path: Path) -> tuple[str, YAML, Any, bool]:
    """Text, a layout-preserving YAML, the tree of a module that validates
    (a broken module is reported with every problem), and whether the
    layout round-trips exactly."""
    if not path.is_file():
        raise ConfigError(f"module file {str(path)!r} not found", code="TR-012")
    load_module(path)  # raises ValidationError listing every problem
    text = path.read_text(encoding="utf-8")
    y, exact = yaml_for(text)
    return text, y, y.load(text), exact

