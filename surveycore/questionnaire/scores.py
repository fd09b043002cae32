"""Scores declared by a module: their parsing and checks (items, points,
weights, bands, ranges).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from surveycore import types
from surveycore.errors import ProblemList
from surveycore.questionnaire.fields import (_a, _code_of, _did_you_mean, _is_bool, _number, _short, _texts,
                                             _unknown_keys)
from surveycore.questionnaire.model import CODE_RE, ID_RE, Item, ScoreDef
from surveycore.questionnaire.source import _line_of


_SCORE_KEYS = {"id", "label", "items", "values", "weights", "intercept", "multiplier", "bands",
               "positive_at", "any_of", "crisis", "range"}
_BAND_KEYS = {"from", "label", "text"}


def _score_points(score: ScoreDef, item: Item) -> list[float] | None:
    """Points each answer code of ``item`` can give, or None if unknown."""
    codes = [c.code for c in item.choices]
    if score.any_of:
        return None
    if score.weights:
        return [score.weights.get(item.id, {}).get(c, 0.0) for c in codes]
    if all(c in score.values for c in codes):
        return [score.values[c] for c in codes]
    return None


def _score_range(score: ScoreDef, items: Mapping[str, Item]) -> tuple[float, float] | None:
    if score.any_of:
        return 0.0, 1.0
    low = high = 0.0
    for name in score.items:
        it = items.get(name)
        points = _score_points(score, it) if it is not None else None
        if not points:
            return None
        low += min(points)
        high += max(points)
    ends = sorted((score.intercept + score.multiplier * low, score.intercept + score.multiplier * high))
    return round(ends[0], 2), round(ends[1], 2)


def _parse_scores(raw: Any, module_id: str, items: list[Item], problems: ProblemList,
                  line: int | None) -> list[ScoreDef]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.add("Q-SCO-001", f"'scores' must be a list of scores; got {_short(raw)}", line=line)
        return []
    by_id: dict[str, Item] = {}
    for it in items:
        by_id.setdefault(it.id, it)
    out: list[ScoreDef] = []
    seen: set[str] = set()
    for s in raw:
        sline = _line_of(s) or line
        if not isinstance(s, dict) or not s.get("id"):
            problems.add("Q-SCO-002", f"each score needs an 'id'; got {_short(s)}", line=sline)
            continue
        score = _parse_score(s, module_id, by_id, problems, sline)
        if score is None:
            continue
        if score.id in seen:
            problems.add("Q-SCO-007", f"score id {score.id!r} is used twice; score ids must be unique",
                         line=sline)
        seen.add(score.id)
        out.append(score)
    return out


def _parse_score(s: Mapping[Any, Any], module_id: str, by_id: Mapping[str, Item],
                 problems: ProblemList, sline: int | None) -> ScoreDef | None:
    """One score; None when it cannot be built (problems say why)."""
    n_before = len(problems.errors)
    sid = s["id"] if isinstance(s["id"], str) else str(s["id"])
    if not ID_RE.match(sid):
        problems.add("Q-SCO-007", f"score id {_short(sid)} must start with a lowercase letter and use only "
                                  "a-z, 0-9 and '_'", line=sline)
    _unknown_keys(s, _SCORE_KEYS, "Q-SCO-015", "score ", problems)

    def line_of(key: str) -> int | None:
        return _line_of(s, key) or sline

    raw_items = s.get("items")
    s_items: list[str] = []
    if not isinstance(raw_items, list) or not raw_items:
        problems.add("Q-SCO-003", f"score {sid!r} lists no 'items'; give the item ids it adds up",
                     line=line_of("items"))
    else:
        s_items = [str(x) for x in raw_items]
    for name in dict.fromkeys(s_items):
        if s_items.count(name) > 1:
            problems.add("Q-SCO-004", f"score {sid!r} lists item {name!r} twice", line=line_of("items"))
        if name not in by_id:
            problems.add("Q-SCO-004", f"score {sid!r} uses item {name!r}, which is not in this "
                                      f"module{_did_you_mean(name, by_id)}", line=line_of("items"))
        elif not types.get(by_id[name].type).code:
            problems.add("Q-SCO-008", f"score {sid!r} uses item {name!r}, {_a(by_id[name].type)} item; "
                                      "scores add up single-choice or scale answers only",
                         line=line_of("items"))
    kinds = [k for k in ("values", "weights", "any_of") if s.get(k) is not None]
    if len(kinds) != 1:
        problems.add("Q-SCO-016", f"score {sid!r} must give exactly one of 'values' (points per code), "
                                  f"'weights' (points per item and code) or 'any_of' (items and codes "
                                  f"that make it 1); got {', '.join(kinds) or 'none'}", line=sline)

    def item_codes(name: str) -> list[str]:
        it = by_id.get(name)
        return [c.code for c in it.choices] if it is not None else []

    all_codes = sorted({c for name in s_items for c in item_codes(name)})

    def points_map(raw_map: Any, where: str, codes: list[str]) -> dict[str, float]:
        out: dict[str, float] = {}
        if not isinstance(raw_map, dict):
            problems.add("Q-SCO-006", f"score {sid!r}: {where} must map answer codes to numbers; got "
                                      f"{_short(raw_map)}", line=_line_of(raw_map) or sline)
            return out
        for code, pts in raw_map.items():
            key = _code_of(code)
            num = _number(pts)
            if key is None or num is None:
                problems.add("Q-SCO-006", f"score {sid!r}: {where} {_short(code)}: {_short(pts)} must be "
                                          "an answer code mapped to a number",
                             line=_line_of(raw_map, code) or sline)
                continue
            if codes and key not in codes:
                problems.add("Q-SCO-009", f"score {sid!r}: code {key!r} in {where} is not a choice of the "
                                          f"score's items{_did_you_mean(key, codes)}",
                             line=_line_of(raw_map, code) or sline)
            out[key] = num
        return out

    values: dict[str, float] = {}
    weights: dict[str, dict[str, float]] = {}
    any_of: dict[str, tuple[str, ...]] = {}
    if s.get("values") is not None:
        n_values = len(problems.items)
        values = points_map(s.get("values"), "values", all_codes)
        missing = [c for name in s_items for c in item_codes(name) if c not in values]
        if missing and len(problems.items) == n_values:
            short = [name for name in s_items if any(c not in values for c in item_codes(name))]
            problems.add("Q-SCO-010", f"score {sid!r}: values give no points to code(s) "
                                      f"{', '.join(dict.fromkeys(missing))} (item(s) {', '.join(short)}); an "
                                      "answer with such a code would leave the score empty: give it points",
                         line=line_of("values"))
    raw_weights = s.get("weights")
    if raw_weights is not None:
        if not isinstance(raw_weights, dict):
            problems.add("Q-SCO-006", f"score {sid!r}: weights must map item ids to {{code: points}}; got "
                                      f"{_short(raw_weights)}", line=line_of("weights"))
        else:
            for name, ws in raw_weights.items():
                key = str(name)
                if key not in s_items:
                    problems.add("Q-SCO-011", f"score {sid!r}: weights name item {key!r}, which is not in "
                                              f"the score's items{_did_you_mean(key, s_items)}",
                                 line=_line_of(raw_weights, name) or sline)
                weights[key] = points_map(ws, f"weights of {key!r}", item_codes(key))
    raw_any = s.get("any_of")
    if raw_any is not None:
        if not isinstance(raw_any, dict):
            problems.add("Q-SCO-006", f"score {sid!r}: any_of must map item ids to lists of codes; got "
                                      f"{_short(raw_any)}", line=line_of("any_of"))
        else:
            for name, codes in raw_any.items():
                key = str(name)
                if key not in s_items:
                    problems.add("Q-SCO-011", f"score {sid!r}: any_of names item {key!r}, which is not in "
                                              f"the score's items{_did_you_mean(key, s_items)}",
                                 line=_line_of(raw_any, name) or sline)
                if not isinstance(codes, list) or not codes:
                    problems.add("Q-SCO-006", f"score {sid!r}: any_of {key!r} must be a list of codes; got "
                                              f"{_short(codes)}", line=_line_of(raw_any, name) or sline)
                    continue
                good = []
                for code in codes:
                    c = _code_of(code)
                    known = item_codes(key)
                    if c is None or (known and c not in known):
                        problems.add("Q-SCO-009", f"score {sid!r}: any_of {key!r} lists code {_short(code)}, "
                                                  f"which is not a choice of that item"
                                                  f"{_did_you_mean(str(code), known)}",
                                     line=_line_of(raw_any, name) or sline)
                    else:
                        good.append(c)
                any_of[key] = tuple(good)

    def number(key: str, default: float | None) -> float | None:
        if s.get(key) is None:
            return default
        num = _number(s.get(key))
        if num is None:
            problems.add("Q-SCO-006", f"score {sid!r}: {key} must be a number; got {_short(s.get(key))}",
                         line=line_of(key))
            return default
        return num

    intercept = number("intercept", 0.0) or 0.0
    multiplier = number("multiplier", 1.0)
    multiplier = 1.0 if multiplier is None else multiplier
    positive_at = number("positive_at", None)
    crisis = s.get("crisis", False)
    if not _is_bool(crisis):
        problems.add("Q-SCO-006", f"score {sid!r}: crisis must be true or false; got {_short(crisis)}",
                     line=line_of("crisis"))
        crisis = False
    crisis = bool(crisis)
    if crisis and positive_at is None:
        problems.add("Q-SCO-014", f"score {sid!r} is a crisis score but has no 'positive_at'; say from "
                                  "which value the kiosk shows crisis resources", line=sline)
    label = _texts(s.get("label"), problems, f"label of score {sid!r}", line_of("label"), None,
                   required=False)
    bands: list[tuple[float, str]] = []
    band_text: dict[str, dict[str, str]] = {}
    raw_bands = s.get("bands")
    if raw_bands is not None and not isinstance(raw_bands, list):
        problems.add("Q-SCO-005", f"score {sid!r}: 'bands' must be a list of {{from, label}}; got "
                                  f"{_short(raw_bands)}", line=line_of("bands"))
        raw_bands = []
    for b in raw_bands or []:
        bline = _line_of(b) or line_of("bands")
        lower = _number(b.get("from")) if isinstance(b, dict) else None
        blabel = _code_of(b.get("label")) if isinstance(b, dict) else None
        if lower is None or blabel is None or not CODE_RE.match(blabel):
            problems.add("Q-SCO-005", f"score {sid!r}: each band needs 'from' (a number) and 'label' (a code "
                                      f"like moderate); got {_short(b)}", line=bline)
            continue
        _unknown_keys(b, _BAND_KEYS, "Q-SCO-015", "band ", problems)
        bands.append((lower, blabel))
        text = _texts(b.get("text"), problems, f"text of band {blabel!r}", bline, None, required=False)
        if text:
            band_text[blabel] = text
    ordered = sorted(bands)
    if bands != ordered or len({b[0] for b in bands}) != len(bands) or len({b[1] for b in bands}) != len(bands):
        problems.add("Q-SCO-012", f"score {sid!r}: bands must be in ascending order of 'from' with distinct "
                                  f"bounds and labels; got {', '.join(f'{lo:g} {lab}' for lo, lab in bands)}",
                     line=line_of("bands"))
    raw_range = s.get("range")
    declared: tuple[float, float] | None = None
    if raw_range is not None:
        ends = [_number(x) for x in raw_range] if isinstance(raw_range, list) else []
        if len(ends) != 2 or ends[0] is None or ends[1] is None or ends[0] > ends[1]:
            problems.add("Q-SCO-013", f"score {sid!r}: range must be [lowest, highest]; got "
                                      f"{_short(raw_range)}", line=line_of("range"))
        else:
            declared = (ends[0], ends[1])
    if len(problems.errors) > n_before:
        return None
    score = ScoreDef(id=sid, module=module_id, items=tuple(s_items), label=label, values=values,
                     weights=weights, intercept=intercept, multiplier=multiplier, bands=tuple(bands),
                     positive_at=positive_at, any_of=any_of, crisis=crisis, band_text=band_text)
    computed = _score_range(score, by_id)
    if computed is not None and declared is not None and (
            abs(computed[0] - declared[0]) > 0.005 or abs(computed[1] - declared[1]) > 0.005):
        problems.add("Q-SCO-013", f"score {sid!r}: declared range [{declared[0]:g}, {declared[1]:g}] but "
                                  f"the items give [{computed[0]:g}, {computed[1]:g}]; fix the points or "
                                  "the range", line=line_of("range"))
    rng = computed or declared
    if rng is not None:
        if bands and ordered[0][0] > rng[0] + 1e-9:
            problems.add("Q-SCO-012", f"score {sid!r}: the lowest band starts at {ordered[0][0]:g} but the "
                                      f"score can be {rng[0]:g}; start the first band at {rng[0]:g}",
                         line=line_of("bands"))
        for lower, blabel in bands:
            if lower > rng[1] + 1e-9:
                problems.add("Q-SCO-012", f"score {sid!r}: band {blabel!r} starts at {lower:g}, above the "
                                          f"highest possible score {rng[1]:g}", line=line_of("bands"))
        if positive_at is not None and not rng[0] < positive_at <= rng[1] + 1e-9:
            problems.add("Q-SCO-017", f"score {sid!r}: positive_at {positive_at:g} is outside the score's "
                                      f"range ({rng[0]:g} to {rng[1]:g}), so it never or always applies",
                         line=line_of("positive_at"))
        score = replace(score, minimum=rng[0], maximum=rng[1])
    return score
