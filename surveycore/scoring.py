"""The one scoring engine: scores declared in modules, computed the same way
on the kiosk (crisis screen) and in the analysis (which checks its vectorised
polars version against this one in tests).

Rules: a score with any item unanswered (or "prefer not to answer") is
``None``, never imputed. A score declares exactly one of:

- ``values``: points per answer code, the same for every item (PHQ-9:
  ``"0"`` → 0 ... ``"3"`` → 3);
- ``weights``: points per item and code, other codes counting 0 (EPICES:
  ``q1: {"yes": 10.06}``);
- ``any_of``: items and codes that make the score 1, else 0 (Hunger Vital
  Sign).

The result is ``intercept + multiplier * sum``, rounded to 2 decimals
(WHO-5: multiplier 4; EPICES: intercept 75.14). Bands are lower bounds;
``positive_at`` is the screening cut-off (value >= cut-off is positive).
"""

from __future__ import annotations

from typing import Mapping

from surveycore.questionnaire import Module, ScoreDef, Survey

# Float sums such as 75.14 - 44.86 are not exact: compare with a tolerance far
# below the 2-decimal precision of any published cut-off.
_EPS = 1e-9


def compute(score: ScoreDef, answers: Mapping[str, object]) -> float | None:
    """Compute one score from answers keyed by item id (codes as strings).

    Returns ``None`` when any item is missing or refused (any answer that is
    not a code string: ``None``, the prefer-not sentinel, a list).
    """
    codes: list[str] = []
    for item in score.items:
        value = answers.get(item)
        if not isinstance(value, str):
            return None
        codes.append(value)
    if score.any_of:
        hit = any(code in score.any_of.get(item, ()) for item, code in zip(score.items, codes))
        return 1.0 if hit else 0.0
    total = 0.0
    for item, code in zip(score.items, codes):
        if score.weights:
            total += score.weights.get(item, {}).get(code, 0.0)
        else:
            if code not in score.values:
                return None  # a code the module gives no points to: never guess
            total += score.values[code]
    return round(score.intercept + score.multiplier * total, 2)


def band(score: ScoreDef, value: float | None) -> str | None:
    """Label of the band containing ``value`` (bands are lower bounds)."""
    if value is None or not score.bands:
        return None
    label = None
    for lower, name in score.bands:
        if value >= lower - _EPS:
            label = name
    return label


def positive(score: ScoreDef, value: float | None) -> bool | None:
    """Whether the value is at or above the screening cut-off (``None`` when
    the score is missing or declares no cut-off)."""
    if value is None or score.positive_at is None:
        return None
    return value >= score.positive_at - _EPS


def compute_module(module: Module, answers: Mapping[str, object]) -> dict[str, float | None]:
    """Every score of a module, by score id, from answers keyed by item id."""
    return {s.id: compute(s, answers) for s in module.scores}


def crisis_flagged(survey: Survey, answers_by_key: Mapping[str, object]) -> bool:
    """True when any crisis score of the survey is positive (for example a
    PHQ-9 item 9 answer other than "not at all"): the thank-you screen then
    shows the site's crisis resources."""
    for module in survey.modules:
        prefix = module.id + "."
        local = {k[len(prefix):]: v for k, v in answers_by_key.items() if k.startswith(prefix)}
        for score in module.scores:
            if score.crisis and positive(score, compute(score, local)):
                return True
    return False
