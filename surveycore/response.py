"""The response body: what a kiosk seals and the analysis validates.

One definition for both sides: the body's version and fields, how "prefer
not to answer" is sealed, which answer is valid for an item of each type,
and the largest body a survey can produce (every envelope of a survey is
padded to it). The layout is described in ``docs/envelope.md``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from surveycore import types
from surveycore.envelope import ENVELOPE_ID_RE, canonical_json, new_envelope_id, period_of

if TYPE_CHECKING:  # ingest's worker processes import this module: keep the loader out of them
    from surveycore.questionnaire import Survey

BODY_VERSION = 1
BODY_FIELDS = frozenset({"v", "id", "survey", "modules", "centre", "period", "lang", "status", "test",
                         "answers", "skipped"})
# Order in which a missing field is reported (the most basic first).
REQUIRED_ORDER = ("v", "id", "survey", "modules", "centre", "period", "lang", "status", "test", "answers",
                  "skipped")
ID_RE = ENVELOPE_ID_RE
# The only times a body may carry: ISO week, month or quarter (never a day).
PERIOD_RE = re.compile(r"\d{4}-(W(0[1-9]|[1-4]\d|5[0-3])|(0[1-9]|1[0-2])|Q[1-4])")
MAX_TEXT_ANSWER = types.MAX_TEXT_ANSWER
# How "prefer not to answer" is written in a sealed body.
PREFER_NOT_SEALED = None


class _PreferNot:
    """Sentinel for "prefer not to answer" while a patient answers (sealed
    as :data:`PREFER_NOT_SEALED`, JSON ``null``)."""

    _instance: "_PreferNot | None" = None

    def __new__(cls) -> "_PreferNot":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "PREFER_NOT"


PREFER_NOT = _PreferNot()


# ------------------------------------------------------------ valid answers
# Which answer fits an item is its type's rule, in the type registry: the
# kiosk applies it while the patient answers, the analysis to a sealed body.
answer_fits = types.answer_fits


# --------------------------------------------------------------- the body

def response_body(survey: Survey, lang: str, status: str, answers: dict[str, Any],
                  skipped: list[str], today: dt.date | None = None, test: bool = False) -> dict[str, Any]:
    """Assemble a response body. Holds no time finer than the site's period."""
    return {
        "v": BODY_VERSION,
        "id": new_envelope_id(),
        "survey": {"id": survey.id, "version": survey.version, "hash": survey.hash},
        "modules": [{"id": m.id, "version": m.version, "hash": m.hash} for m in survey.modules],
        "centre": survey.site.centre,
        "period": period_of(today or dt.date.today(), survey.site.period),
        "lang": lang,
        "status": status,
        "test": test,
        "answers": answers,
        "skipped": skipped,
    }


def max_body_size(survey: Survey) -> int:
    """Size of the largest body this survey can produce (every item answered
    with its longest value), used to pad every envelope to one size."""
    answers: dict[str, Any] = {}
    for item in survey.questions:
        longest = types.get(item.type).longest
        assert longest is not None  # a registered answering type has one
        answers[item.key] = longest(item)
    longest_lang = max(survey.site.languages, key=len, default="xx")
    body = response_body(survey, longest_lang, "complete", answers, [], dt.date(2026, 12, 31))
    # skipped keys and answers are exclusive; the worst case is the larger.
    skipped_all = response_body(survey, longest_lang, "complete", {}, [i.key for i in survey.questions],
                                dt.date(2026, 12, 31))
    return max(len(canonical_json(body)), len(canonical_json(skipped_all)))
