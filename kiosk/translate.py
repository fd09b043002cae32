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
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.pofile import PoFileError, read_po, write_po
from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from surveycore import i18n
from surveycore.errors import ConfigError, Problem, ValidationError
from ruamel.yaml.comments import CommentedMap

from surveycore.questionnaire import REVIEW_STATES, Survey, file_kind_of, load_module, load_module_text, load_survey
from surveycore.questionnaire.fields import _code_of
from surveycore.textslots import TextSlot, text_slots

STATUSES = ("validated", "draft")
# Placeholders a translation must keep: Python ``{name}`` fields and
# XLSForm-style ``${item}`` references.
_PLACEHOLDER_RE = re.compile(r"\$?\{[^{}]*\}")
# Plain YAML scalars that another YAML reader (1.1) would not read as text:
# new translations like these are written in quotes.
_AMBIGUOUS_RE = re.compile(
    r"^(y|n|yes|no|true|false|on|off|null|~|[-+]?(\d[\d_]*)?\.?\d+([eE][-+]?\d+)?|0x[0-9a-f]+|0o?[0-7]+"
    r"|[-+]?\.inf|\.nan|[0-9]+(:[0-5]?[0-9])+)$", re.IGNORECASE)


# ------------------------------------------------------------------ YAML I/O

def _yaml(mapping: int = 2, sequence: int = 4, offset: int = 2) -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096  # never re-wrap a long question
    y.allow_duplicate_keys = False
    y.indent(mapping=mapping, sequence=sequence, offset=offset)
    return y


_INDENTS = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4), (2, 4, 4), (4, 4, 0), (3, 3, 0))


def _yaml_for(text: str) -> tuple[YAML, bool]:
    """A round-trip YAML whose indentation reproduces ``text`` byte for byte
    when nothing changes (ruamel cannot detect indentation by itself), and
    whether one was found."""
    for indent in _INDENTS:
        y = _yaml(*indent)
        try:
            if _dump(y, y.load(text)) == text:
                return y, True
        except Exception:
            break  # unreadable text: load_module reports it properly
    return _yaml(), False


def _dump(y: YAML, data: Any) -> str:
    out = io.StringIO()
    y.dump(data, out)
    return out.getvalue()


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ------------------------------------------------------------------ text slots


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
_REVIEW_LINE_RE = re.compile(r"^(?P<state>" + "|".join(re.escape(s) for s in REVIEW_STATES) +
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


def _review_comment(record: Any) -> list[str]:
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


def _check_lang(lang: str) -> None:
    try:
        Locale.parse(lang)
    except (UnknownLocaleError, ValueError):
        raise ConfigError(f"babel has no locale {lang!r}; use a CLDR code such as ar, fa_AF (Dari), ps, ti",
                          code="TR-011") from None


def _load_module_tree(path: Path) -> tuple[str, YAML, Any, bool]:
    """Text, a layout-preserving YAML, the tree of a module that validates
    (a broken module is reported with every problem), and whether the
    layout round-trips exactly."""
    if not path.is_file():
        raise ConfigError(f"module file {str(path)!r} not found", code="TR-012")
    load_module(path)  # raises ValidationError listing every problem
    text = path.read_text(encoding="utf-8")
    y, exact = _yaml_for(text)
    return text, y, y.load(text), exact


# ----------------------------------------------------------------------- export

def export_catalog(module_path: str | Path, lang: str, source: str | None = None) -> Catalog:
    """The catalog of one module's texts for translation into ``lang``."""
    path = Path(module_path)
    _check_lang(lang)
    _text, _y, data, _exact = _load_module_tree(path)
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
                    user_comments=_review_comment(review_records(data, lang).get(slot.context)))
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
    _check_lang(lang)
    text, y, data, exact = _load_module_tree(path)
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
    new_text = _dump(y, data)
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
        _write_atomically(path, new_text)
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
    match = _REVIEW_LINE_RE.match(line)
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


# ----------------------------------------------------------------------- status

@dataclass(frozen=True)
class Coverage:
    """Texts of a module present in one language."""

    done: int
    total: int
    missing: tuple[str, ...]

    @property
    def percent(self) -> int:
        """Whole percent, floored (100 only when complete)."""
        return 100 if self.total == 0 else (self.done * 100) // self.total


def coverage(data: Any, lang: str) -> Coverage:
    """How many of the module's texts (those of its source language, or of
    any language when it has none validated) exist in ``lang``."""
    try:
        source = source_language(data)
    except ConfigError:
        source = None
    slots = [s for s in text_slots(data) if (source in s.texts if source else bool(s.texts))]
    missing = tuple(s.context for s in slots if not str(s.texts.get(lang) or "").strip())
    return Coverage(len(slots) - len(missing), len(slots), missing)


def _read_tree(path: str | Path) -> Any:
    return _yaml().load(Path(path).read_text(encoding="utf-8"))


def _ordered(*groups: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(lang for g in groups for lang in g))


def _interface_cell(lang: str, locales: Path | None) -> str:
    if lang == i18n.SOURCE_LANGUAGE:
        return "source language"
    try:
        stats = i18n.catalog_stats(lang, locales)
    except (PoFileError, ValueError):
        return "broken: kiosk i18n check"
    if stats.total == 0:
        return "no catalog"
    review = "all reviewed" if stats.unreviewed == 0 else f"{stats.unreviewed} unreviewed"
    return f"{stats.translated}/{stats.total}, {review}"


def _kiosk_cell(survey: Survey, lang: str, locales: Path | None) -> str:
    if lang in survey.offered_languages():
        if lang != i18n.SOURCE_LANGUAGE and not i18n.po_path(lang, locales).exists():
            return "offered, but the interface would be in English (no catalog)"
        return "offered"
    if lang not in survey.site.languages:
        return "not enabled by the site"
    lacking = [m.id for m in survey.modules if lang not in m.languages]
    if lacking:
        return "not offered: missing in " + ", ".join(lacking)
    drafts = [m.id for m in survey.modules if m.languages.get(lang) == "draft"]
    return "not offered: draft in " + ", ".join(drafts) + " (the site allows no drafts)"


def _shown_path(path: str | Path) -> str:
    """A path relative to the working folder when it is inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _provenance_cell(entry: Any) -> str:
    """``published: publisher, year`` or ``project`` for a language written
    in the long form; nothing for the short form (no provenance recorded)."""
    if not isinstance(entry, dict):
        return ""
    if entry.get("origin") == "published":
        year = entry.get("year")
        return f"published: {entry.get('publisher', '?')}" + (f", {year}" if year else "")
    return str(entry.get("origin") or "")


def _module_lines(path: str, langs: list[str], items: bool, indent: str) -> list[str]:
    data = _read_tree(path)
    declared = data.get("languages") or {}
    try:
        source = source_language(data)
    except ConfigError:
        source = "?"
    lines = [f"{indent}module {data.get('id')} {data.get('version')}  {_shown_path(path)}  (source {source})"]
    width = max([len(lang) for lang in langs] + [4])
    for lang in langs:
        cov = coverage(data, lang)
        entry = declared.get(lang, "missing")
        status = status_of(entry)
        line = f"{indent}  {lang:<{width}}  {status:<9}  {cov.done:>3}/{cov.total:<3}  {cov.percent:>3}%"
        cells = [line, _provenance_cell(entry)]
        # A validated wording was reviewed by its publisher or the team; the
        # review of a draft, text by text, is what a centre needs to follow.
        if lang != source and cov.done and status == "draft":
            cells.append(_review_cell(data, lang, cov))
        lines.append("  ".join(c for c in cells if c).rstrip())
    if items:
        slots = [s for s in text_slots(data) if s.texts]
        head = max([len(s.context) for s in slots] + [4])
        cols = [max(len(lang), 2) for lang in langs]
        lines.append(f"{indent}  {'text':<{head}}  " + "  ".join(f"{lang:<{w}}" for lang, w in zip(langs, cols)))
        for s in slots:
            marks = ["ok" if str(s.texts.get(lang) or "").strip() else "--" for lang in langs]
            lines.append((f"{indent}  {s.context:<{head}}  " + "  ".join(f"{m:<{w}}" for m, w in zip(marks, cols)))
                         .rstrip())
        for lang in langs:
            lacking = _lacking_back(data, lang) if lang != source else []
            if lacking:
                lines.append(f"{indent}  {lang} lacks a back-translation: {', '.join(lacking)}")
    return lines


def _translated_contexts(data: Any, lang: str) -> list[str]:
    """The texts of the module (those of its source language) present in ``lang``."""
    try:
        source = source_language(data)
    except ConfigError:
        source = None
    return [s.context for s in text_slots(data) if (source in s.texts if source else bool(s.texts))
            and str(s.texts.get(lang) or "").strip()]


def _lacking_back(data: Any, lang: str) -> list[str]:
    """Texts of a draft language that have no back-translation yet (a
    validated language was reviewed by its publisher: nothing is listed)."""
    langs = data.get("languages") or {}
    if status_of(langs.get(lang)) == "validated":
        return []
    records = review_records(data, lang)
    return [c for c in _translated_contexts(data, lang)
            if not (isinstance(records.get(c), dict) and records[c].get("back"))]


def _review_cell(data: Any, lang: str, cov: Coverage) -> str:
    """``review: 3 reviewed, 12 draft; 12 lack a back-translation``."""
    counts = Counter(review_state(data, lang, c) for c in _translated_contexts(data, lang))
    states = ", ".join(f"{counts[s]} {s}" for s in reversed(REVIEW_STATES) if counts[s])
    lacking = len(_lacking_back(data, lang))
    return f"review: {states}" + (f"; {lacking} lack a back-translation" if lacking else "")


def _survey_texts(survey: Survey) -> list[dict[str, str]]:
    """The survey's own texts (title, consent, crisis resources, labels of
    the site's choice lists), each a {lang: text} map."""
    texts = [t for t in (survey.title, survey.site.consent, survey.site.crisis) if t]
    texts += [c.label for choices in survey.site.choices.values() for c in choices]
    return texts


def status_report(path: str | Path, items: bool = False, locales: str | Path | None = None) -> str:
    """The text of ``kiosk i18n status``: for each survey (a survey file, or
    every survey of a folder) or module file, every language with the
    interface catalog's coverage, the survey's own texts in it (title,
    consent, crisis resources, site lists), whether the kiosk offers it and
    why not, and each module's status (validated / draft / missing) and coverage;
    with ``items``, which text exists in which language."""
    p = Path(path)
    locs = Path(locales) if locales else None
    shipped = i18n.shipped_languages(locs)
    if p.is_dir():
        files = sorted(list(p.glob("*.yaml")) + list(p.glob("*.yml")))
        surveys = [f for f in files if file_kind_of(f) == "survey"]
        if not surveys:
            raise ConfigError(f"no survey file in {str(p)!r}; name a survey or module file", code="TR-015")
    elif p.is_file():
        surveys = [p] if file_kind_of(p) == "survey" else []
    else:
        raise ConfigError(f"{str(p)!r} not found", code="TR-012")
    out: list[str] = []
    if not surveys:  # a module file
        data = _read_tree(p)
        langs = _ordered(data.get("languages") or {}, shipped)
        return "\n".join(_module_lines(str(p), langs, items, "")) + "\n"
    for f in surveys:
        survey = load_survey(f)
        langs = _ordered(survey.site.languages, (lang for m in survey.modules for lang in m.languages), shipped)
        width = max([len(lang) for lang in langs] + [4])
        out.append(f"survey {survey.id} {survey.version}  {_shown_path(f)}")
        site_texts = _survey_texts(survey)
        out.append(f"  {'lang':<{width}}  {'interface':<26}  {'site':<5}  kiosk")
        for lang in langs:
            site = f"{sum(1 for t in site_texts if str(t.get(lang) or '').strip())}/{len(site_texts)}"
            # The native name last: right-to-left names would upset the columns.
            out.append(f"  {lang:<{width}}  {_interface_cell(lang, locs):<26}  {site:<5}  "
                       f"{_kiosk_cell(survey, lang, locs)}  ({i18n.direction(lang)}, {i18n.native_name(lang)})")
        for m in survey.modules:
            out.extend(_module_lines(m.path, langs, items, "  "))
    return "\n".join(out) + "\n"
