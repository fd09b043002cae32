"""Translating questionnaire modules without editing YAML by hand.

The round trip a translator follows (``docs/translating.md``):

1. ``kiosk i18n export MODULE.yaml --lang ar -o mehm.ar.po`` writes one
   gettext entry per text of the module: ``msgctxt`` says where the text
   lives (``items.chronic.hint``, ``choices.health5.1``...), ``msgid`` is the
   text in the module's source language (its first *validated* language,
   usually French), ``msgstr`` the translation already in the module, if any.
2. The translator works in Poedit or Weblate.
3. ``kiosk i18n import MODULE.yaml mehm.ar.po --lang ar`` writes the
   translations back into the YAML in ruamel's round-trip mode, so comments,
   key order, quoting and layout stay as they were. The language gets status
   ``draft`` unless ``--status validated`` is given.

Import refuses, and writes nothing, when anything does not fit: an entry whose
``msgctxt`` names no text of the module, a source text changed since the
export, placeholders that differ, a change to wording marked ``validated``
for that language, or a module that would not validate afterwards. Every
problem names the item.

The status report of the translations (``kiosk i18n status``) is
:mod:`kiosk.translation_status`; the reading and writing of the module's
YAML, its texts and review records, :mod:`kiosk.module_texts`.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.pofile import PoFileError, read_po, write_po
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from surveycore import i18n
from surveycore.errors import ConfigError, Problem, ValidationError
from surveycore.questionnaire import REVIEW_STATES, load_module_text
from surveycore.textslots import TextSlot, text_slots
from kiosk.module_texts import (BACK_PREFIX, REVIEW_LINE_RE, REVIEW_PREFIX, check_lang, dump, load_module_tree,
                                placeholders, review_comment, review_records, same_text_contexts, source_language,
                                status_of, write_atomically)

STATUSES = ("validated", "draft")
# Plain YAML scalars that another YAML reader (1.1) would not read as text:
# new translations like these are written in quotes.
_AMBIGUOUS_RE = re.compile(
    r"^(y|n|yes|no|true|false|on|off|null|~|[-+]?(\d[\d_]*)?\.?\d+([eE][-+]?\d+)?|0x[0-9a-f]+|0o?[0-7]+"
    r"|[-+]?\.inf|\.nan|[0-9]+(:[0-5]?[0-9])+)$", re.IGNORECASE)


# ----------------------------------------------------------------------- export

def export_catalog(module_path: str | Path, lang: str, source: str | None = None) -> Catalog:
    """The catalog of one module's texts for translation into ``lang``."""
    path = Path(module_path)
    check_lang(lang)
    _text, _y, data, _exact = load_module_tree(path)
    source = source or source_language(data)
    if lang == source:
        raise ConfigError(f"{lang!r} is the module's source language; export another language",
                          code="TR-013")
    catalog = Catalog(locale=lang, project=str(data.get("id")), version=str(data.get("version")),
                      copyright_holder=None, fuzzy=False,
                      header_comment=(f"# Module {data.get('id')} {data.get('version')} ({path.name}): "
                                      f"texts in {i18n.native_name(source)} ({source}) to translate into "
                                      f"{i18n.native_name(lang)} ({lang}).\n"
                                      "# msgctxt says where a text is used: keep it. Keep every {placeholder}.\n"
                                      "# Back-translator: write the text translated back into the source language "
                                      "after 'back-translation:'.\n"
                                      "# Review: 'review: STATE by ROLE on YYYY-MM-DD', STATE one of "
                                      f"{', '.join(REVIEW_STATES)}; a role, never a name.\n"
                                      f"# Import: kiosk i18n import {path.name} THIS_FILE.po --lang {lang}"))
    for slot in text_slots(data):
        original = slot.texts.get(source)
        if not isinstance(original, str) or not original.strip():
            continue
        comments = [slot.what]
        reference = slot.texts.get("en")
        if source != "en" and lang != "en" and isinstance(reference, str):
            comments.append(f"English: {reference}")
        existing = slot.texts.get(lang)
        catalog.add(str(original), string=str(existing) if isinstance(existing, str) else "",
                    context=slot.context, auto_comments=comments,
                    user_comments=review_comment(review_records(data, lang).get(slot.context)))
    return catalog


def export_module(module_path: str | Path, lang: str, out: str | Path, source: str | None = None) -> int:
    """Write the module's texts for ``lang`` to the ``.po`` file ``out``;
    returns the number of entries."""
    catalog = export_catalog(module_path, lang, source)
    buf = io.BytesIO()
    write_po(buf, catalog, sort_output=False, width=76)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_bytes(buf.getvalue())
    return len([m for m in catalog if m.id])


# ----------------------------------------------------------------------- import

@dataclass
class ImportResult:
    """What an import did, or would have done, and every problem found."""

    module: str
    lang: str
    status: str | None = None
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    untranslated: int = 0
    problems: list[Problem] = field(default_factory=list)
    written: bool = False
    reviewed: list[str] = field(default_factory=list)  # texts whose review record changed

    @property
    def errors(self) -> list[Problem]:
        """Problems of severity ``error`` (any of them stops the import)."""
        return [p for p in self.problems if p.severity == "error"]

    def summary(self) -> str:
        """One line for the command line."""
        if self.errors:
            return f"{len(self.errors)} error(s): nothing imported into {self.module}"
        verb = "imported" if self.written else "would import"
        line = (f"{verb} {len(self.added)} new and {len(self.changed)} changed text(s) into {self.module} "
                f"({self.unchanged} unchanged, {self.untranslated} untranslated); {self.lang}: {self.status}")
        if self.reviewed:
            line += f"; {len(self.reviewed)} review record(s) updated"
        return line


def _scalar(text: str, old: Any) -> Any:
    """The YAML scalar for a translation: the quoting style of the text it
    replaces, quotes where plain YAML would read something else."""
    if isinstance(old, DoubleQuotedScalarString):
        return DoubleQuotedScalarString(text)
    if isinstance(old, SingleQuotedScalarString):
        return SingleQuotedScalarString(text)
    if _AMBIGUOUS_RE.match(text.strip()) or text != text.strip():
        return DoubleQuotedScalarString(text)
    return text


def import_module(module_path: str | Path, po_file: str | Path, lang: str, status: str | None = None,
                  dry_run: bool = False) -> ImportResult:
    """Write the translations of ``po_file`` into the module for ``lang``.

    Nothing is written when any error is found (see the module docstring);
    ``status`` is the language's new status, ``draft`` by default (a
    language already ``validated`` stays so: its wording cannot change).
    """
    if status is not None and status not in STATUSES:
        raise ConfigError(f"status must be 'draft' or 'validated', not {status!r}", code="TR-014")
    path, po = Path(module_path), Path(po_file)
    check_lang(lang)
    text, y, data, exact = load_module_tree(path)
    module_id = str(data.get("id"))
    result = ImportResult(module=str(path), lang=lang)
    pofile = str(po)
    if not exact:
        result.problems.append(Problem("TR-016", "the YAML writer cannot reproduce this file's layout exactly "
                                                 "(unusual indentation); the import may re-indent other lines: "
                                                 "check the difference before committing", str(path),
                                       severity="warning"))

    def problem(code: str, message: str, line: int | None = None, item: str | None = None,
                severity: str = "error") -> None:
        result.problems.append(Problem(code, message, pofile, line, item, severity))

    try:
        with open(po, "rb") as fh:
            catalog = read_po(fh, abort_invalid=True)
    except FileNotFoundError:
        raise ConfigError(f"translation file {pofile!r} not found", code="TR-012") from None
    except PoFileError as exc:
        text, line = i18n.po_error(exc)
        problem("TR-001", f"not a readable .po file: {text}", line)
        return result
    except (UnicodeDecodeError, ValueError) as exc:
        problem("TR-001", f"not a readable .po file: {exc}")
        return result
    header_lang = catalog.locale_identifier
    if header_lang and header_lang.replace("-", "_") != lang:
        problem("TR-002", f"the file is a translation into {header_lang!r}, not {lang!r}; check --lang")
    if catalog.project and catalog.project not in ("PROJECT", module_id):
        problem("TR-003", f"the file was exported from module {catalog.project!r}, not {module_id!r}",
                severity="warning")
    source = source_language(data)
    slots = {s.context: s for s in text_slots(data)}
    same_text = same_text_contexts(data)
    languages = data.get("languages")
    current = languages.get(lang) if isinstance(languages, dict) else None
    changes: list[tuple[TextSlot, str]] = []
    review_changes: list[tuple[str, dict[str, str]]] = []
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
        msgstr = message.string[0] if isinstance(message.string, (list, tuple)) else (message.string or "")
        if not message.context:
            problem("TR-004", f'msgid "{_cut(msgid)}" has no msgctxt, so its place in the module is unknown; '
                              "translate a file made by 'kiosk i18n export'", message.lineno)
            continue
        slot = slots.get(message.context)
        item = slot.item if slot else message.context
        if slot is None and message.context in same_text:
            problem("TR-005", f"{message.context}: this label is written once, the same in every language (a "
                              "place name); there is nothing to translate: leave it out or export again",
                    message.lineno, item)
            continue
        if slot is None:
            problem("TR-005", f"unknown msgctxt {message.context!r}: no such text in module {module_id!r} "
                              "(item or choice removed or renamed?); export again", message.lineno, item)
            continue
        now = slot.texts.get(source)
        if now != msgid:
            problem("TR-006", f"{message.context}: the {source} text changed since the export "
                              f"(was \"{_cut(msgid)}\", now \"{_cut(str(now))}\"); export again and "
                              "check the translation", message.lineno, item)
            continue
        record = _review_from(message, slot, data, lang, problem, item)
        if record is not None:
            review_changes.append((slot.context, record))
        if message.fuzzy:
            problem("TR-007", f"{message.context}: marked fuzzy (needs work) in the .po; not imported",
                    message.lineno, item, "warning")
            result.untranslated += 1
            continue
        if not msgstr.strip():
            result.untranslated += 1
            continue
        if placeholders(msgstr) != placeholders(msgid):
            want = ", ".join(sorted(placeholders(msgid))) or "none"
            got = ", ".join(sorted(placeholders(msgstr))) or "none"
            problem("TR-008", f"{message.context}: placeholders do not match (source has {want}, "
                              f"translation has {got}); keep them exactly", message.lineno, item)
            continue
        existing = slot.texts.get(lang)
        if existing == msgstr:
            result.unchanged += 1
            continue
        if status_of(current) == "validated":
            problem("TR-009", f"{message.context}: the {lang} wording is marked validated in the module and "
                              "is locked; a validated translation is changed only with a new module "
                              f"version (was \"{_cut(str(existing))}\")", message.lineno, item)
            continue
        changes.append((slot, msgstr))
    if status is not None:
        new_status = status
    else:
        new_status = "validated" if status_of(current) == "validated" else "draft"
    result.status = new_status
    if result.errors:
        return result
    for slot, msgstr in changes:
        (result.changed if lang in slot.texts else result.added).append(slot.context)
        slot.texts[lang] = _scalar(msgstr, slot.texts.get(lang))
    if review_changes:
        if not isinstance(data.get("review"), dict):
            data["review"] = CommentedMap()
        if not isinstance(data["review"].get(lang), dict):
            data["review"][lang] = CommentedMap()
        for context, record in review_changes:
            entry = CommentedMap((k, DoubleQuotedScalarString(v) if k in ("back", "date") else v)
                                 for k, v in record.items())
            entry.fa.set_flow_style()
            data["review"][lang][context] = entry
            result.reviewed.append(context)
    if isinstance(languages, dict):
        if isinstance(languages.get(lang), dict):
            # Keep the provenance; the loader below refuses a project
            # translation marked validated.
            languages[lang]["status"] = new_status
        else:
            languages[lang] = new_status
    new_text = dump(y, data)
    warnings: list[Problem] = []
    try:
        load_module_text(new_text, str(path), warnings=warnings)
    except ValidationError as exc:
        # Typically Q-LANG-003: a required text is still untranslated.
        result.problems.extend(exc.problems)
        return result
    # Only what concerns this language (say, a hint left untranslated).
    result.problems.extend(w for w in warnings if w.code.startswith("Q-LANG") and repr(lang) in w.message)
    if not dry_run and new_text != text:
        write_atomically(path, new_text)
        result.written = True
    return result


def _cut(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _review_from(message: Any, slot: TextSlot, data: Any, lang: str, problem: Any,
                 item: str) -> dict[str, str] | None:
    """The review record the translators wrote in an entry's comments, when
    it differs from the module's (None when nothing changes). The states,
    roles and dates are checked by the module validation afterwards."""
    back: str | None = None
    line: str | None = None
    for comment in message.user_comments:
        text = comment.strip()
        if text.startswith(BACK_PREFIX):
            back = text[len(BACK_PREFIX):].strip() or None
        elif text.startswith(REVIEW_PREFIX):
            line = text[len(REVIEW_PREFIX):].strip()
    old = review_records(data, lang).get(slot.context)
    if line is None:
        if back is None:
            return None
        problem("TR-017", f"{slot.context}: a back-translation without its review line; add "
                          "'# review: back-translated by ROLE on YYYY-MM-DD' (a role, never a name)",
                message.lineno, item)
        return None
    match = REVIEW_LINE_RE.match(line)
    if match is None:
        problem("TR-017", f"{slot.context}: review line {line!r} must read 'STATE by ROLE on YYYY-MM-DD', "
                          f"STATE one of {', '.join(REVIEW_STATES)}", message.lineno, item)
        return None
    record = {"state": match["state"]}
    if back is not None:
        record["back"] = back
    if match["by"]:
        record["by"] = match["by"].strip()
    if match["date"]:
        record["date"] = match["date"]
    if isinstance(old, dict) and {k: str(v) for k, v in old.items()} == record:
        return None
    if record == {"state": "draft"} and old is None:
        return None
    return record

