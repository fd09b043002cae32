"""Scores of the reference instruments at every band boundary, computed by
the one scoring engine from the shipped module definitions."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from surveycore import scoring
from surveycore.questionnaire import Module, ScoreDef, load_module, load_module_text
from surveycore.response import PREFER_NOT

QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "questionnaires"
EPICES_WEIGHTS = [10.06, -11.83, -8.28, -8.28, 14.80, -6.51, -7.10, -7.10, -9.47, -9.47, -7.10]


def module(name: str) -> Module:
    return load_module(QUESTIONNAIRES / f"{name}.yaml")


def score(name: str, score_id: str) -> ScoreDef:
    return next(s for s in module(name).scores if s.id == score_id)


def answers_with_total(n_items: int, total: int, top: int) -> dict[str, str]:
    """Item answers q1..qn (codes "0".."top") adding up to ``total``."""
    out = {}
    left = total
    for i in range(1, n_items + 1):
        v = min(top, left)
        out[f"q{i}"] = str(v)
        left -= v
    assert left == 0
    return out


# ------------------------------------------------------------------- PHQ-9

@pytest.mark.parametrize("total, band, positive", [
    (0, "minimal", False), (4, "minimal", False), (5, "mild", False), (9, "mild", False),
    (10, "moderate", True), (14, "moderate", True), (15, "moderately_severe", True),
    (19, "moderately_severe", True), (20, "severe", True), (27, "severe", True),
])
def test_phq9_bands(total: int, band: str, positive: bool) -> None:
    s = score("phq9", "total")
    value = scoring.compute(s, answers_with_total(9, total, 3))
    assert value == total
    assert scoring.band(s, value) == band
    assert scoring.positive(s, value) is positive
    assert (s.minimum, s.maximum) == (0, 27)


@pytest.mark.parametrize("total, band, positive", [
    (4, "minimal", False), (5, "mild", False), (9, "mild", False), (10, "moderate", True),
    (14, "moderate", True), (15, "moderately_severe", True), (19, "moderately_severe", True),
    (20, "severe", True), (24, "severe", True),
])
def test_phq8_bands(total: int, band: str, positive: bool) -> None:
    s = score("phq8", "total")
    assert (s.minimum, s.maximum) == (0, 24)
    value = scoring.compute(s, answers_with_total(8, total, 3))
    assert (value, scoring.band(s, value), scoring.positive(s, value)) == (total, band, positive)


def test_phq9_missing_item_leaves_the_score_empty() -> None:
    s = score("phq9", "total")
    full = answers_with_total(9, 27, 3)
    for missing in (None, PREFER_NOT, ["3"]):
        answers = dict(full, q5=missing)
        assert scoring.compute(s, answers) is None
        assert scoring.band(s, None) is None and scoring.positive(s, None) is None
    assert scoring.compute(s, {k: v for k, v in full.items() if k != "q9"}) is None


def test_phq9_item_9_crisis_score() -> None:
    s = score("phq9", "self_harm")
    assert s.crisis and s.items == ("q9",)
    assert [scoring.positive(s, scoring.compute(s, {"q9": c})) for c in "0123"] == [False, True, True, True]
    assert not any(x.crisis for x in module("phq8").scores)


# ------------------------------------------------------------------- GAD-7

@pytest.mark.parametrize("total, band, positive", [
    (0, "minimal", False), (4, "minimal", False), (5, "mild", False), (9, "mild", False),
    (10, "moderate", True), (14, "moderate", True), (15, "severe", True), (21, "severe", True),
])
def test_gad7_bands(total: int, band: str, positive: bool) -> None:
    s = score("gad7", "total")
    assert (s.minimum, s.maximum) == (0, 21)
    value = scoring.compute(s, answers_with_total(7, total, 3))
    assert (value, scoring.band(s, value), scoring.positive(s, value)) == (total, band, positive)


# ------------------------------------------------------------------- WHO-5

@pytest.mark.parametrize("raw, value, band", [
    (0, 0, "likely_depression"), (7, 28, "likely_depression"), (8, 32, "poor_wellbeing"),
    (12, 48, "poor_wellbeing"), (13, 52, "adequate"), (25, 100, "adequate"),
])
def test_who5_raw_sum_times_4_and_bands(raw: int, value: int, band: str) -> None:
    s = score("who5", "wellbeing")
    assert (s.minimum, s.maximum, s.multiplier) == (0, 100, 4)
    result = scoring.compute(s, answers_with_total(5, raw, 5))
    assert result == value
    assert scoring.band(s, result) == band


# ------------------------------------------------------------------ EPICES

def epices_answers(yes: set[int]) -> dict[str, str]:
    return {f"q{i}": "yes" if i in yes else "no" for i in range(1, 12)}


def test_epices_intercept_and_weights() -> None:
    s = score("epices", "score")
    assert scoring.compute(s, epices_answers(set())) == 75.14
    for i, w in enumerate(EPICES_WEIGHTS, start=1):
        assert scoring.compute(s, epices_answers({i})) == round(75.14 + w, 2), i
    assert scoring.compute(s, epices_answers({1, 5})) == 100.0
    assert scoring.compute(s, epices_answers({2, 3, 4, 6, 7, 8, 9, 10, 11})) == 0.0
    assert (s.minimum, s.maximum) == (0, 100)


def test_epices_cut_off_30_17_over_every_combination() -> None:
    s = score("epices", "score")
    seen_below = seen_at_or_above = 0
    for yes in itertools.product([False, True], repeat=11):
        answers = epices_answers({i + 1 for i, y in enumerate(yes) if y})
        value = scoring.compute(s, answers)
        expected = round(75.14 + sum(w for w, y in zip(EPICES_WEIGHTS, yes) if y), 2)
        assert value == expected
        assert scoring.positive(s, value) is (expected >= 30.17)
        assert scoring.band(s, value) == ("precarious" if expected >= 30.17 else "not_precarious")
        seen_below += expected < 30.17
        seen_at_or_above += expected >= 30.17
    assert seen_below and seen_at_or_above


def test_epices_boundary_values() -> None:
    s = score("epices", "score")
    assert scoring.positive(s, 30.17) is True and scoring.band(s, 30.17) == "precarious"
    assert scoring.positive(s, 30.16) is False and scoring.band(s, 30.16) == "not_precarious"
    # 75.14 - 11.83 - 8.28 - 8.28 - 7.10 - 9.47 = 30.18: just above the cut-off.
    assert scoring.compute(s, epices_answers({2, 3, 4, 7, 9})) == 30.18
    assert scoring.positive(s, 30.18) is True
    # ... and one more "no social support" answer falls below it: 20.71.
    assert scoring.compute(s, epices_answers({2, 3, 4, 7, 9, 10})) == 20.71


@pytest.mark.parametrize("missing", range(1, 12))
def test_epices_needs_all_11_answers(missing: int) -> None:
    s = score("epices", "score")
    answers = epices_answers({1, 5})
    del answers[f"q{missing}"]
    assert scoring.compute(s, answers) is None
    assert scoring.compute(s, dict(answers, **{f"q{missing}": PREFER_NOT})) is None


# ------------------------------------------------------- Hunger Vital Sign

@pytest.mark.parametrize("worried, ran_out, at_risk", [
    ("often", "never", True), ("sometimes", "never", True), ("never", "often", True),
    ("never", "sometimes", True), ("often", "sometimes", True), ("never", "never", False),
])
def test_hunger_vital_sign(worried: str, ran_out: str, at_risk: bool) -> None:
    s = score("hunger_vital_sign", "at_risk")
    value = scoring.compute(s, {"worried": worried, "ran_out": ran_out})
    assert value == (1.0 if at_risk else 0.0)
    assert scoring.positive(s, value) is at_risk
    assert scoring.band(s, value) == ("at_risk" if at_risk else "not_at_risk")


def test_hunger_vital_sign_with_a_refusal_is_empty() -> None:
    s = score("hunger_vital_sign", "at_risk")
    assert scoring.compute(s, {"worried": "often", "ran_out": PREFER_NOT}) is None
    assert scoring.compute(s, {"worried": "often"}) is None


# ------------------------------------------------------ engine, in general

def test_intercept_multiplier_and_unknown_codes() -> None:
    m = load_module_text('''
id: t
version: "1.0.0"
title: {en: T}
source: test
license: test
languages: {en: validated}
choices:
  three: [{code: a, label: {en: A}}, {code: b, label: {en: B}}, {code: c, label: {en: C}}]
items:
  - {id: x, type: scale, text: {en: X}, choices: three}
  - {id: y, type: single, text: {en: Y}, choices: three}
scores:
  - {id: s, items: [x, y], values: {a: 0, b: 1, c: 2.5}, intercept: 10, multiplier: -2, range: [0, 10]}
''')
    s = m.scores[0]
    assert (s.minimum, s.maximum) == (0, 10)
    assert scoring.compute(s, {"x": "a", "y": "a"}) == 10
    assert scoring.compute(s, {"x": "c", "y": "c"}) == 0
    assert scoring.compute(s, {"x": "b", "y": "c"}) == 3
    assert scoring.compute(s, {"x": "z", "y": "c"}) is None  # a code the module does not score
    assert scoring.compute_module(m, {"x": "b", "y": "b"}) == {"s": 6}
