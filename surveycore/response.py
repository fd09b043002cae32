"""The response body: what a kiosk seals and the analysis validates.

One definition for both sides: the body's version and fields, how "prefer
not to answer" is sealed, which answer is valid for an item of each type,
and the largest body a survey can produce (every envelope of a survey is
padded to it). The layout is described in ``docs/envelope.md``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any, Callable, Collection

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
MAX_TEXT_ANSWER = 2000
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
# Per item type, whether a (non-refused) answer value fits the item: its
# choice codes, or its integer range (``None`` bounds are open). A type not
# listed here takes no answer check (notes and groups are not questions).

def _fits_choice(value: Any, codes: Collection[str], minimum: int | None, maximum: int | None) -> bool:
    return isinstance(value, str) and value in codes


def _fits_multiple(value: Any, codes: Collection[str], minimum: int | None, maximum: int | None) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v in codes for v in value) \
        and len(set(value)) == len(value)


def _fits_integer(value: Any, codes: Collection[str], minimum: int | None, maximum: int | None) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and \
        (minimum is None or value >= minimum) and (maximum is None or value <= maximum)


def _fits_text(value: Any, codes: Collection[str], minimum: int | None, maximum: int | None) -> bool:
    return isinstance(value, str) and len(value) <= MAX_TEXT_ANSWER


ANSWER_CHECKS: dict[str, Callable[[Any, Collection[str], int | None, int | None], bool]] = {
    "single": _fits_choice,
    "scale": _fits_choice,
    "multiple": _fits_multiple,
    "integer": _fits_integer,
    "text": _fits_text,
}


def answer_fits(kind: str, value: Any, codes: Collection[str] = (), minimum: int | None = None,
                maximum: int | None = None) -> bool:
    """Whether ``value`` is a valid answer to an item of type ``kind`` with
    these choice codes and range. "Prefer not to answer" is not a value
    here: callers accept it before asking."""
    check = ANSWER_CHECKS.get(kind)
    return check is None or check(value, codes, minimum, maximum)


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
        if item.type == "multiple":
            answers[item.key] = [c.code for c in item.choices]
        elif item.choices:
            longest = max((c.code for c in item.choices), key=len)
            # "prefer not to answer" is sealed as null, longer than a 1-char code.
            answers[item.key] = longest if len(longest) + 2 >= 4 else PREFER_NOT_SEALED
        elif item.type == "integer":
            answers[item.key] = max(abs(item.minimum or 0), abs(item.maximum or 0)) * -1
        else:
            answers[item.key] = "x" * 500
    longest_lang = max(survey.site.languages, key=len, default="xx")
    body = response_body(survey, longest_lang, "complete", answers, [], dt.date(2026, 12, 31))
    # skipped keys and answers are exclusive; the worst case is the larger.
    skipped_all = response_body(survey, longest_lang, "complete", {}, [i.key for i in survey.questions],
                                dt.date(2026, 12, 31))
    return max(len(canonical_json(body)), len(canonical_json(skipped_all)))
