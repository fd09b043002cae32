"""Scores declared by the questionnaire modules, vectorised with polars.

Same semantics as the reference engine :mod:`surveycore.scoring` (tests compare
both on random answers):

* a score is null when any of its items is missing, refused, skipped, not a
  single code (multiple choice), or - for ``values`` scores - a code without
  points; never imputed;
* ``values``: points per code for every item; ``weights``: points per item
  and code, other codes 0; result ``round(intercept + multiplier * sum, 2)``;
* ``any_of``: 1 when any listed item has one of the listed codes, else 0;
* bands are lower bounds (the last band whose lower bound is reached), the
  screen is positive at ``positive_at`` or above.

For publication a score's values are put in *classes*: its bands, with the
band holding the cut-off split at the cut-off so that the prevalence above
the cut-off is a sum of published classes and never a new figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

from surveycore.questionnaire import ScoreDef

EPS = 1e-9
"""Tolerance of surveycore.scoring for band bounds and cut-offs."""
BELOW = "_below"
"""Class of values under the first band's lower bound (no band)."""
NEGATIVE = "_negative"
POSITIVE = "_positive"


@dataclass(frozen=True)
class ScoreClass:
    """One published class of a score: values from ``lower`` (inclusive)."""

    id: str
    lower: float
    positive: bool | None
    band: str | None
    split: str | None = None  # "below" / "above" when a band is split at the cut-off


def classes(score: ScoreDef) -> list[ScoreClass]:
    """The classes of ``score`` in increasing order (empty when it has
    neither bands nor a cut-off: then only the mean is published)."""
    cut = score.positive_at
    bounds: list[tuple[float, str | None]] = [(float(lo), label) for lo, label in score.bands]
    if not bounds:
        if cut is None:
            return []
        return [ScoreClass(NEGATIVE, -math.inf, False, None), ScoreClass(POSITIVE, cut, True, None)]
    out: list[ScoreClass] = []
    first = bounds[0][0]
    if cut is not None and cut < first - EPS:
        out.append(ScoreClass(BELOW + "|below", -math.inf, False, None, "below"))
        out.append(ScoreClass(BELOW + "|above", cut, True, None, "above"))
    else:
        out.append(ScoreClass(BELOW, -math.inf, None if cut is None else False, None))
    for i, (lower, label) in enumerate(bounds):
        upper = bounds[i + 1][0] if i + 1 < len(bounds) else math.inf
        if cut is not None and lower + EPS < cut < upper - EPS:
            out.append(ScoreClass(f"{label}|below", lower, False, label, "below"))
            out.append(ScoreClass(f"{label}|above", cut, True, label, "above"))
        else:
            positive = None if cut is None else lower >= cut - EPS
            out.append(ScoreClass(str(label), lower, positive, label))
    return out


def class_expr(score: ScoreDef, value: pl.Expr) -> pl.Expr:
    """Class id of each value (null for a null score)."""
    cls = classes(score)
    if not cls:
        return pl.lit(None, dtype=pl.String)
    expr: pl.Expr = pl.lit(cls[0].id)
    for c in cls[1:]:
        expr = pl.when(value >= c.lower - EPS).then(pl.lit(c.id)).otherwise(expr)
    return pl.when(value.is_null()).then(pl.lit(None, dtype=pl.String)).otherwise(expr)


def _round2(series: pl.Series) -> pl.Series:
    """``round(x, 2)`` exactly as Python does it.

    polars rounds ``x * 100`` and differs from Python's correctly rounded
    result for some binary values; a score has few distinct raw values, so
    they are rounded one by one in Python and mapped back.
    """
    distinct = series.drop_nulls().unique().to_list()
    mapping = {v: round(v, 2) for v in distinct}
    return series.replace_strict(mapping, default=None, return_dtype=pl.Float64)


def _lookup(mapping: dict[str, float], default: float | None) -> pl.Expr:
    """Points of the code in ``value`` as a when/then chain.

    ``replace_strict`` would do the same but is not streamed: on tens of
    millions of answers it multiplied peak memory by three.
    """
    expr: pl.Expr = pl.lit(default, dtype=pl.Float64)
    for code, points in mapping.items():
        expr = pl.when(pl.col("value") == code).then(pl.lit(points, dtype=pl.Float64)).otherwise(expr)
    return expr


def points_expr(score: ScoreDef) -> pl.Expr:
    """Points of one answer row (null when its code has no points)."""
    if score.weights:
        expr: pl.Expr = pl.lit(0.0)
        for item, weights in score.weights.items():
            expr = pl.when(pl.col("item") == item).then(
                _lookup({str(c): float(w) for c, w in weights.items()}, 0.0)).otherwise(expr)
        return expr
    return _lookup({str(c): float(v) for c, v in score.values.items()}, None)


# Fields of the packed per-row integer (see _packed_sum): rows of the score's
# items from bit 48, valid answers from bit 40 (at most 255: one row per
# single-choice item), answered codes without points from bit 32, and the
# points (or "any_of" hits) in the low 32 bits.
_ROWS, _VALID, _NO_POINTS = 1 << 48, 1 << 40, 1 << 32


def _packed_sum(score: ScoreDef, in_items: pl.Expr, valid: pl.Expr) -> pl.Expr | None:
    """Per-row integer whose sum per respondent holds every count the score
    needs, or None when the points are not small non-negative integers
    (weights such as EPICES': the general path then runs)."""
    if len(score.items) > 255:
        return None
    if score.any_of:
        hit = pl.lit(False)
        for item, codes in score.any_of.items():
            hit = hit | ((pl.col("item") == item) & (pl.col("state") == "answered")
                         & pl.col("value").is_in([str(c) for c in codes]))
        low = hit.cast(pl.Int64)
    else:
        if score.weights:
            return None
        points = [float(v) for v in score.values.values()]
        if not all(v.is_integer() and 0 <= v for v in points) or \
                max(points, default=0) * len(score.items) >= _NO_POINTS // 256:
            return None
        expr: pl.Expr = pl.lit(_NO_POINTS, dtype=pl.Int64)  # a code without points
        for code, v in score.values.items():
            expr = pl.when(pl.col("value") == str(code)).then(pl.lit(int(v), dtype=pl.Int64)).otherwise(expr)
        low = pl.when(valid).then(expr).otherwise(0)
    return (in_items.cast(pl.Int64) * _ROWS + valid.cast(pl.Int64) * _VALID + low).cast(pl.Int64)


def score_values(coded: pl.LazyFrame, score: ScoreDef, module: str, major: int,
                 multiple_items: frozenset[str] = frozenset()) -> pl.LazyFrame:
    """Per respondent with any row of the score's items: ``key`` and ``value``
    (null when not computable).

    ``coded`` is :func:`analysis.tables.coded_answers` output. Items declared
    multiple choice in ``multiple_items`` make the score null, as the
    reference engine gets a list there; a second row for one item (a
    multiple-choice answer) does too.
    """
    items = list(dict.fromkeys(score.items))
    needed = list(dict.fromkeys([*items, *score.any_of]))
    rows = coded.filter((pl.col("module") == module) & (pl.col("major") == major)
                        & pl.col("item").is_in(needed))
    in_items = pl.col("item").is_in(items)
    valid = in_items & (pl.col("state") == "answered") & ~pl.col("item").is_in(list(multiple_items))
    packed = _packed_sum(score, in_items, valid)
    if packed is not None:
        # One integer sum per respondent instead of four aggregations: the
        # group-by over millions of respondents costs about a third less.
        per_key = rows.select("key", packed.alias("_p")).group_by("key").agg(pl.col("_p").sum())
        p = pl.col("_p")
        rows_n, valid_n, low = p // _ROWS, (p // _VALID) % 256, p % _VALID
        complete = (rows_n == len(items)) & (valid_n == len(items))
        if score.any_of:
            value = pl.when(complete).then(pl.when(low > 0).then(1.0).otherwise(0.0))
            return per_key.select("key", value.cast(pl.Float64).alias("value"))
        no_points, total = low // _NO_POINTS, low % _NO_POINTS
        raw = pl.lit(score.intercept) + pl.lit(score.multiplier) * total.cast(pl.Float64)
        value = pl.when(complete & (no_points == 0)).then(raw)
        return per_key.select("key", value.map_batches(_round2, return_dtype=pl.Float64).alias("value"))
    # Per-row flags first, then plain sums per respondent: filtered
    # aggregations inside a group-by are several times slower.
    flags = [in_items.cast(pl.UInt32).alias("_in"), valid.cast(pl.UInt32).alias("_valid")]
    aggs = [pl.col("_in").sum().alias("rows"), pl.col("_valid").sum().alias("valid")]
    if score.any_of:
        hit = pl.lit(False)
        for item, codes in score.any_of.items():
            hit = hit | ((pl.col("item") == item) & (pl.col("state") == "answered")
                         & pl.col("value").is_in([str(c) for c in codes]))
        flags.append(hit.alias("_hit"))
        aggs.append(pl.col("_hit").any().alias("hit"))
    else:
        # Null points only for an answered code without points: their count
        # nulls the score, and the sum skips them.
        flags.append(pl.when(valid).then(points_expr(score)).otherwise(0.0).alias("_pts"))
        aggs.append(pl.col("_pts").null_count().alias("no_points"))
        aggs.append(pl.col("_pts").sum().alias("total"))
    rows = rows.select("key", *flags)
    per_key = rows.group_by("key").agg(aggs)
    complete = (pl.col("rows") == len(items)) & (pl.col("valid") == len(items))
    if score.any_of:
        value = pl.when(complete).then(pl.when(pl.col("hit")).then(1.0).otherwise(0.0))
        return per_key.select("key", value.cast(pl.Float64).alias("value"))
    raw = pl.lit(score.intercept) + pl.lit(score.multiplier) * pl.col("total")
    value = pl.when(complete & (pl.col("no_points") == 0)).then(raw)
    return per_key.select("key", value.map_batches(_round2, return_dtype=pl.Float64).alias("value"))


# Sums of scores are kept in whole hundredths (every score value is rounded
# to 2 decimals: :func:`_round2`, or is 0/1): integer sums are exact, so a
# mean does not depend on the order in which parallel joins and group-bys
# hand over the rows. With float sums the same data could publish 40.1 in
# one release and 40.2 in the next, a difference an attacker comparing
# releases would read as a change of respondents.
SUM_SCALE = 100


def score_counts(values: pl.LazyFrame, units_: pl.LazyFrame, score: ScoreDef) -> pl.LazyFrame:
    """Scored persons per cell (see :func:`analysis.tables.cell_counts`) and
    class: ``n``, ``ks`` (sum of record keys), ``sum`` and ``sumsq`` (of the
    values in hundredths, :data:`SUM_SCALE`, as exact integers). Null values
    are dropped: the not computable are the module population minus the
    scored."""
    hundredths = (pl.col("value") * SUM_SCALE).round(0).cast(pl.Int64)
    return (values.filter(pl.col("value").is_not_null())
            .join(units_.select("key", "cell", "rk"), on="key", how="inner")
            .with_columns(class_expr(score, pl.col("value")).alias("class"), hundredths.alias("_h"))
            .group_by("cell", "class")
            .agg(pl.len().alias("n"), pl.col("rk").sum().alias("ks"), pl.col("_h").sum().alias("sum"),
                 (pl.col("_h") * pl.col("_h")).sum().alias("sumsq")))


def mean_ci(n: int, total: float, sumsq: float, level: float = 0.95) -> tuple[float, float, float] | None:
    """Mean and its t-based confidence interval from ``n``, sum and sum of
    squares; None when ``n == 0``; the interval collapses for ``n == 1``."""
    if n <= 0:
        return None
    mean = total / n
    if n == 1:
        return mean, mean, mean
    from scipy.special import stdtrit  # Student's t quantile; scipy.stats is slow to import

    variance = max(0.0, (sumsq - n * mean * mean) / (n - 1))
    half = float(stdtrit(n - 1, 0.5 + level / 2)) * math.sqrt(variance / n)
    return mean, mean - half, mean + half

