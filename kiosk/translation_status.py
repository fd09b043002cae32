"""The status of a survey's translations: the text of ``kiosk i18n status``.

For each survey (or module file), every language with the interface
catalog's coverage, the survey's own texts in it, whether the kiosk offers
it and why not, and each module's status, provenance, coverage and review
progress; with ``--items``, which text exists in which language.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from babel.messages.pofile import PoFileError

from surveycore import i18n
from surveycore.errors import ConfigError
from surveycore.questionnaire import REVIEW_STATES, Survey, file_kind_of, load_survey
from surveycore.textslots import text_slots
from kiosk.module_texts import review_records, review_state, round_trip_yaml, source_language, status_of


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
    return round_trip_yaml().load(Path(path).read_text(encoding="utf-8"))


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

