"""A module's languages: validated or draft, where a published wording comes
from (provenance), and the review state of each translated text.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Mapping

from surveycore.errors import ProblemList
from surveycore.questionnaire.fields import _did_you_mean, _is_bool, _short, _unknown_keys
from surveycore.questionnaire.model import (Item, Provenance, ScoreDef, TRANSLATION_ORIGINS,
                                            TRANSLATION_STATUSES, _PROVENANCE_KEYS, _PUBLISHED_FIELDS,
                                            _VALIDATED_FIELDS)
from surveycore.questionnaire.source import _line_of


if TYPE_CHECKING:  # annotations only: no import cycle at run time
    from surveycore.questionnaire.modules import _ModuleParser


def _check_languages(mp: _ModuleParser, languages: dict[str, str], declared: set[str], raw_langs: Any,
                     title: dict[str, str], items: list[Item], scores: list[ScoreDef],
                     description: dict[str, str], problems: ProblemList) -> None:
    """Every declared language must be complete: a patient must never meet a
    question or a choice without its text."""
    for lang in languages:
        lline = _line_of(raw_langs, lang) if isinstance(raw_langs, dict) else None
        missing = [it.id for it in items if it.text and lang not in it.text]
        missing += [f"{it.id}:{c.code}" for it in items for c in it.choices if lang not in c.label]
        if lang not in title:
            missing.insert(0, "title")
        if missing:
            problems.add("Q-LANG-003", f"language {lang!r} is declared but lacks text for "
                                       f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}; "
                                       "translate them or remove the language", line=lline)
        optional = [f"{what} of {item}" for what, item, texts, _ in mp.optional_texts
                    if lang not in texts]
        optional += [f"group text of {it.id}" for it in items if it.group_text and lang not in it.group_text]
        optional += [f"label of score {s.id}" for s in scores if s.label and lang not in s.label]
        optional += [f"text of band {b} of score {s.id}" for s in scores
                     for b, t in s.band_text.items() if lang not in t]
        if description and lang not in description:
            optional.insert(0, "description")
        if optional:
            optional = list(dict.fromkeys(optional))
            problems.add("Q-LANG-005", f"language {lang!r} lacks {', '.join(optional[:5])}"
                                       f"{' ...' if len(optional) > 5 else ''}; patients reading {lang!r} "
                                       "will not see them: translate them", line=lline, severity="warning")
    for lang, line in mp.all_text_langs.items():
        if declared and lang not in declared:
            problems.add("Q-LANG-006", f"text in {lang!r}, which is not declared in 'languages'"
                                       f"{_did_you_mean(lang, declared)}; declare it (validated or draft) or "
                                       "remove that text", line=line, severity="warning")


def _provenance(lang: str, raw: Mapping[Any, Any], problems: ProblemList) -> Provenance | None:
    """The long form of a ``languages`` entry; every problem is added.

    A ``validated`` wording must be the publisher's (``origin: published``)
    and name its publisher, title, year and licence, so that nobody can
    present a translation made here as a validated one; a published draft
    names at least its publisher, title and licence."""
    n_before = len(problems.errors)
    _unknown_keys(raw, _PROVENANCE_KEYS, "Q-PROV-001", f"{lang!r} provenance ", problems)
    status, origin = raw.get("status"), raw.get("origin")
    line = _line_of(raw)
    if not isinstance(status, str) or status not in TRANSLATION_STATUSES:
        problems.add("Q-LANG-002", f"language {lang!r} has status {_short(status)}; use 'validated' "
                                   "(reviewed wording) or 'draft' (needs native review)",
                     line=_line_of(raw, "status") or line)
    if not isinstance(origin, str) or origin not in TRANSLATION_ORIGINS:
        problems.add("Q-PROV-002", f"language {lang!r} has origin {_short(origin)}; use 'published' (the "
                                   "publisher's own translation) or 'project' (translated for this project)",
                     line=_line_of(raw, "origin") or line)
    elif origin == "project" and status == "validated":
        problems.add("Q-PROV-003", f"language {lang!r} is a translation made for this project, so its status "
                                   "is 'draft'; only a publisher's validated translation (origin: published) "
                                   "may be 'validated'", line=_line_of(raw, "status") or line)
    if origin == "published":
        needed = _VALIDATED_FIELDS if status == "validated" else _PUBLISHED_FIELDS
        lacking = [k for k in needed
                   if not (isinstance(raw.get(k), (str, int)) and not _is_bool(raw.get(k))
                           and str(raw.get(k)).strip())]
        if lacking:
            what = "a validated published wording" if status == "validated" else "published"
            problems.add("Q-PROV-004", f"language {lang!r} is {what} but lacks {', '.join(lacking)}; "
                                       "say who published this wording, under which title"
                                       f"{', in which year' if status == 'validated' else ''} and under "
                                       "which licence", line=line)
    year = raw.get("year")
    if year is not None and not (isinstance(year, int) and not _is_bool(year) and 1900 <= year <= 2100):
        problems.add("Q-PROV-005", f"language {lang!r}: year {_short(year)} must be a year, a number "
                                   "without quotes like 2010", line=_line_of(raw, "year") or line)
    for key in ("publisher", "title", "licence", "url", "note"):
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            problems.add("Q-PROV-006", f"language {lang!r}: {key} {_short(value)} must be text (write it in "
                                       "quotes)", line=_line_of(raw, key) or line)
    if len(problems.errors) > n_before:
        return None
    return Provenance(status=str(status), origin=str(origin), publisher=str(raw.get("publisher") or ""),
                      title=str(raw.get("title") or ""), year=year,
                      licence=str(raw.get("licence") or ""), url=str(raw.get("url") or ""),
                      note=str(raw.get("note") or ""))


# The review of one translated text, after the WHO method for instruments:
# forward translation (draft), independent back-translation, review by a
# bilingual panel, validation (cognitive testing). In that order.
REVIEW_STATES = ("draft", "back-translated", "reviewed", "validated")
_REVIEW_KEYS = {"state", "back", "by", "date"}
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Who reviewed is a role ("bilingual panel"), never a person: an e-mail
# address or a phone number is refused, and so is anything long.
_PERSONAL_RE = re.compile(r"@|\d[\d .()+-]{5,}\d")
_ROLE_MAX = 60


def _review_date(value: Any) -> bool:
    """A review date: a calendar day, ``YYYY-MM-DD`` (YAML may read it as a date)."""
    import datetime as dt
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return True
    if not isinstance(value, str) or not _DATE_RE.match(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _check_review(data: Mapping[Any, Any], languages: dict[str, str], problems: ProblemList) -> None:
    """The ``review`` block: per language, per text (its place, as in a
    translation file's msgctxt), the review state, the back-translation, and
    who (a role) reviewed it when."""
    raw = data.get("review")
    if raw is None:
        return
    rline = _line_of(data, "review")
    example = "{ar: {title: {state: reviewed, back: '...', by: bilingual panel, date: '2026-11-29'}}}"
    if not isinstance(raw, dict):
        problems.add("Q-REV-001", f"'review' must map each language to the review of its texts, like {example}",
                     line=rline)
        return
    # Imported here: the text slots module imports this one.
    from surveycore.textslots import text_slots
    contexts = [s.context for s in text_slots(data)]
    for lang, records in raw.items():
        lline = _line_of(raw, lang) or rline
        if lang not in languages:
            problems.add("Q-REV-001", f"review of {_short(lang)}, a language 'languages' does not declare"
                                      f"{_did_you_mean(str(lang), languages)}; declare it or remove its review",
                         line=lline)
            continue
        if not isinstance(records, dict):
            problems.add("Q-REV-001", f"review of {lang!r} must map each text to its review, like {example}",
                         line=lline)
            continue
        for ctx, rec in records.items():
            line = _line_of(records, ctx) or lline
            where = f"review of {lang!r} {ctx}"
            if str(ctx) not in contexts:
                problems.add("Q-REV-002", f"{where}: no such text in the module (name a text by its place, as "
                                          f"in a translation file's msgctxt){_did_you_mean(str(ctx), contexts)}",
                             line=line)
                continue
            if not isinstance(rec, dict):
                problems.add("Q-REV-001", f"{where} must be a mapping {{state, back, by, date}}; got "
                                          f"{_short(rec)}", line=line)
                continue
            _unknown_keys(rec, _REVIEW_KEYS, "Q-REV-001", "review ", problems)
            state = rec.get("state")
            if state not in REVIEW_STATES:
                problems.add("Q-REV-003", f"{where}: state {_short(state)} must be one of "
                                          f"{', '.join(REVIEW_STATES)}", line=line)
                continue
            back = rec.get("back")
            if back is not None and (not isinstance(back, str) or not back.strip()):
                problems.add("Q-REV-004", f"{where}: the back-translation must be text; got {_short(back)}",
                             line=line)
            elif state != "draft" and back is None:
                problems.add("Q-REV-004", f"{where} is {state} but has no back-translation; the WHO method "
                                          "reviews a translation against its independent back-translation: "
                                          "give 'back'", line=line)
            if state == "draft" and rec.get("by") is None and rec.get("date") is None:
                continue
            by, date = rec.get("by"), rec.get("date")
            if not isinstance(by, str) or not by.strip() or _PERSONAL_RE.search(by) or len(by) > _ROLE_MAX:
                problems.add("Q-REV-005", f"{where}: 'by' {_short(by)} must name a role (back-translator, "
                                          "bilingual panel, health mediator), never a person: no name, e-mail "
                                          f"or phone, at most {_ROLE_MAX} characters", line=line)
            if not _review_date(date):
                problems.add("Q-REV-005", f"{where}: 'date' {_short(date)} must be a day written YYYY-MM-DD "
                                          "(in quotes)", line=line)
            if state == "validated" and languages.get(lang) != "validated":
                problems.add("Q-REV-006", f"{where} is validated, but the language is a draft; a text is "
                                          "validated only in a validated language: mark it reviewed",
                             line=line)
