"""The one scoring engine: scores declared in modules, computed the same way
on the kiosk (crisis screen) and in the analysis (which checks its vectorised
polars version against this one in tests).

Rules: a score with any item unanswered (or "prefer not to answer") is
``None``, never imputed. ``values`` maps answer codes to points for every
item; ``weights`` gives per-item points for given codes (other codes score 0);
the result is ``intercept + multiplier * sum``. ``any_of`` scores are 1 when
any listed item has one of the listed codes, else 0.
"""

from __future__ import annotations

from typing import Mapping

from kiosk.questionnaire import ScoreDef, Survey

Answer = object


def compute(score: ScoreDef, answers: Mapping[str, object]) -> float | None:
    """Compute one score from answers keyed by item id (codes as strings).

    Returns ``None`` when any item is missing or refused.
    """
    codes: list[str] = []
    for item in score.items:
        value = answers.get(item)
        if not isinstance(value, str):
            return None
        codes.append(value)
    if score.any_of:
        hit = any(answers.get(i) in cs for i, cs in score.any_of.items())
        return 1.0 if hit else 0.0
    total = 0.0
    for item, code in zip(score.items, codes):
        if score.weights:
            total += score.weights.get(item, {}).get(code, 0.0)
        else:
            if code not in score.values:
                return None
            total += score.values[code]
    return round(score.intercept + score.multiplier * total, 2)


def band(score: ScoreDef, value: float | None) -> str | None:
    """Label of the band containing ``value`` (bands are lower bounds)."""
    if value is None or not score.bands:
        return None
    label = None
    for lower, name in score.bands:
        if value >= lower - 1e-9:
            label = name
    return label


def positive(score: ScoreDef, value: float | None) -> bool | None:
    """Whether the value is at or above the screening cut-off."""
    if value is None or score.positive_at is None:
        return None
    return value >= score.positive_at - 1e-9


def crisis_flagged(survey: Survey, answers_by_key: Mapping[str, object]) -> bool:
    """True when any crisis score of the survey is positive (for example a
    PHQ-9 item 9 answer other than "not at all"): the thank-you screen then
    shows the site's crisis resources."""
    for module in survey.modules:
        local = {k.split(".", 1)[1]: v for k, v in answers_by_key.items() if k.startswith(module.id + ".")}
        for score in module.scores:
            if score.crisis and positive(score, compute(score, local)):
                return True
    return False
