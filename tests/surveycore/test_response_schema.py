"""One answer validator: what the kiosk lets a patient answer is exactly what
the analysis accepts in a sealed body, item by item of the shipped survey."""

from __future__ import annotations

from typing import Any

import pytest

from surveycore.errors import EnvelopeError
from surveycore.questionnaire import Item, load_survey
from surveycore.response import answer_fits, response_body
from analysis.envelopes import Catalogue, validate_body
from analysis.ingest import with_surveys
from kiosk.flow import MSG_CHOICE, MSG_RANGE, Respondent
from tests.support.paths import REPO

SURVEY = load_survey(REPO / "questionnaires" / "full_survey.yaml")
LANG = SURVEY.site.languages[0]
CATALOGUE = with_surveys(Catalogue(), {SURVEY.hash: SURVEY})


def _candidates(item: Item) -> list[Any]:
    """Answers a broken or hostile client could send for ``item``."""
    codes = [c.code for c in item.choices]
    values: list[Any] = ["nope", "", 1, True, 2.0, [], ["nope"], {"a": 1}]
    values += codes + [[c] for c in codes] + [codes, codes[:1] * 2, list(reversed(codes))]
    if item.type == "integer":
        lo, hi = item.minimum, item.maximum
        values += [lo, hi, lo - 1, hi + 1, (lo + hi) // 2, str(lo), float(lo), False]
    return values


def _kiosk_accepts(index: int, value: Any) -> bool | None:
    """The kiosk's verdict on ``value`` for the item at ``index`` (None when a
    constraint refused it: constraints are the kiosk's alone)."""
    r = Respondent(SURVEY, LANG)
    r.pos = index
    problem = r.check(value)
    if problem is None:
        return True
    return False if problem[0] in (MSG_CHOICE, MSG_RANGE) else None


def _analysis_accepts(item: Item, value: Any) -> bool:
    body = response_body(SURVEY, LANG, "complete", {item.key: value}, [])
    try:
        validate_body(body, CATALOGUE)
    except EnvelopeError as exc:
        assert exc.code == "ING-007", exc
        assert exc.message == f"answer {value!r} is not valid for item {item.key!r}"
        return False
    return True


def test_kiosk_and_analysis_agree_on_every_answer_of_the_full_survey() -> None:
    compared = 0
    for index, item in enumerate(SURVEY.items):
        if not item.is_question:
            continue
        for value in _candidates(item):
            kiosk = _kiosk_accepts(index, value)
            if kiosk is None:
                continue
            assert kiosk == _analysis_accepts(item, value), (item.key, value)
            compared += 1
    assert compared > 1000


def test_a_repeated_choice_is_refused_by_the_kiosk_as_by_ingest() -> None:
    # A multiple choice with one code twice used to be accepted (and sealed)
    # by the kiosk, then quarantined by ingest as ING-007.
    index, item = next((i, it) for i, it in enumerate(SURVEY.items) if it.type == "multiple")
    code = item.choices[0].code
    r = Respondent(SURVEY, LANG)
    r.pos = index
    assert r.answer([code, code]) == ("This answer is not one of the choices.", {})
    assert r.answers.get(item.key) is None
    assert not _analysis_accepts(item, [code, code])


@pytest.mark.parametrize("kind, value, expected", [
    ("single", "1", True), ("single", "9", False), ("single", 1, False),
    ("scale", "2", True), ("multiple", ["1", "2"], True), ("multiple", ["1", "1"], False),
    ("multiple", "1", False), ("integer", 5, True), ("integer", 11, False), ("integer", True, False),
    ("integer", 5.0, False), ("text", "x" * 2000, True), ("text", "x" * 2001, False),
    ("note", "anything", True),
])
def test_answer_fits(kind: str, value: Any, expected: bool) -> None:
    assert answer_fits(kind, value, ("1", "2"), 0, 10) is expected
