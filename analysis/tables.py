"""Counts behind every table of the diagnostic (polars, lazy, streaming).

Each step takes LazyFrames and returns a LazyFrame of *true* counts; nothing
here is published directly: :mod:`analysis.report` gates every figure with
:mod:`analysis.disclosure` first. :func:`collect_counts` runs all the steps
of a release in one streaming ``collect_all``.

Vocabulary:

* *unit*: one response that counts (not test mode, not declined), with its
  breakdown categories (centre, language, period from the response;
  neighbourhood, age band, gender from answers of the demographics module).
* *category* (``cat``) of an answer row: the answer code, or ``_refused``
  (prefer not to answer), ``_skipped`` (not shown by skip logic), ``_none``
  (multiple choice, nothing selected). A unit of a module's population with
  no row for an item never reached it (``_notreached``: abandoned before).
* *population* of a module: units of the surveys that include the module,
  known from the data (a survey includes a module when any of its responses
  has answers in it). Only one module id and major version is pooled.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

REFUSED = "_refused"
SKIPPED = "_skipped"
NONE = "_none"
NOT_REACHED = "_notreached"
MISSING = "_missing"
"""Breakdown category of a unit that did not answer the breakdown item."""
NO_ANSWER = "_noanswer"
"""Drop-off row of partial responses that left before answering anything."""
DEFAULT_BREAKDOWNS: dict[str, str] = {
    "neighbourhood": "demographics.neighbourhood",
    "centre": "centre",
    "age_band": "demographics.age_band",
    "gender": "demographics.gender",
    "lang": "lang",
    "period": "period",
}
"""Breakdown name -> source: a response column or ``module.item`` of a
single-choice item (its code is the category)."""

Z95 = 1.959963984540054
"""Standard normal quantile for 95 % intervals."""


def record_key(key: pl.Expr, integer: bool = True) -> pl.Expr:
    """The record key of a response for the cell key method, in ``0..255``.

    It is the low byte of the response's rid: a secret random 64-bit number
    drawn at ingest and stored in the dataset, never published, so its low
    byte is a uniform random key that stays the same in every release. A
    dataset with text rids (written before integer rids) hashes them.
    """
    base = key if integer else key.hash()
    return (base % 256).cast(pl.UInt64)


def included(responses: pl.LazyFrame) -> pl.LazyFrame:
    """Responses that count: not test mode, not declined consents."""
    return responses.filter(~pl.col("test") & (pl.col("status") != "declined"))


def hex_key() -> pl.Expr:
    """Join key of a response: its 16-hex-digit rid as an unsigned integer.

    Ingest draws rids as 8 random bytes in hex; joining on the integer is
    several times faster than on the string. Non-hex rids give null, which
    :func:`choose_key` detects to fall back to the string.
    """
    return pl.col("rid").str.to_integer(base=16, dtype=pl.UInt64, strict=False)


def choose_key(responses: pl.LazyFrame) -> pl.Expr:
    """The join key expression for this dataset (integer when every rid is hex)."""
    if responses.collect_schema()["rid"].is_integer():  # as ingest writes it
        return pl.col("rid")
    bad = (responses.select((hex_key().is_null() | (pl.col("rid").str.len_bytes() > 16)).any())
           .collect(engine="streaming").item())
    return pl.col("rid") if bad else hex_key()


def coarsen_period(expr: pl.Expr, granularity: str | None = "quarter") -> pl.Expr:
    """Coarsen periods (``2026-W47``, ``2026-11``, ``2026-Q4``) to ``year``,
    ``quarter`` or ``month``; ``week`` (or None) keeps them. An ISO week belongs to the
    month and quarter of its Thursday, as in ISO 8601."""
    if granularity in (None, "week"):
        return expr
    if granularity not in ("month", "quarter", "year"):
        raise ValueError(f"unknown period granularity {granularity!r}")
    year = expr.str.slice(0, 4).cast(pl.Int32, strict=False)
    week = expr.str.slice(6, 2).cast(pl.Int32, strict=False)
    jan4 = pl.date(year, 1, 4)
    thursday = (jan4 - pl.duration(days=jan4.dt.weekday() - 1) + pl.duration(days=(week - 1) * 7 + 3))
    month_of = pl.when(expr.str.contains("-W")).then(thursday.dt.month().cast(pl.Int32)) \
        .otherwise(expr.str.slice(5, 2).cast(pl.Int32, strict=False))
    year_of = pl.when(expr.str.contains("-W")).then(thursday.dt.year().cast(pl.Int32)).otherwise(year)
    if granularity == "year":
        return year_of.cast(pl.String)
    if granularity == "month":
        out = year_of.cast(pl.String) + "-" + month_of.cast(pl.String).str.zfill(2)
        return pl.when(expr.str.contains("-Q")).then(expr).otherwise(out)
    out = year_of.cast(pl.String) + "-Q" + ((month_of - 1) // 3 + 1).cast(pl.String)
    return pl.when(expr.str.contains("-Q")).then(expr).otherwise(out)


def category() -> pl.Expr:
    """The category of an answer row: its code, or ``_`` + its state."""
    state, value = pl.col("state").cast(pl.String), pl.col("value").cast(pl.String)
    return pl.when(state == "answered").then(value).otherwise(pl.lit("_") + state)


def coded_answers(answers: pl.LazyFrame, key: pl.Expr) -> pl.LazyFrame:
    """Answer rows with the join key (module, major, item, state, value).

    The category (:func:`category`) is derived after aggregation: building
    a string for each of millions of rows would cost more than the count.
    """
    return answers.select(key.alias("key"), "module", "major", "item", "state", "value")


def units(responses: pl.LazyFrame, answers: pl.LazyFrame, key: pl.Expr,
          breakdowns: Mapping[str, str] = DEFAULT_BREAKDOWNS, period: str | None = "quarter") -> pl.LazyFrame:
    """One row per unit: ``key``, ``survey`` (``id@version``), ``status`` and one
    String column per breakdown.

    Answer-based breakdowns read the item's code, or ``_missing`` when the
    item was not answered (prefer not to answer, skipped or not reached);
    the item must be single choice (one row per response).
    """
    cols: list[pl.Expr | str] = [key.alias("key"), (pl.col("survey") + "@" + pl.col("survey_version")).alias("survey"),
                           "status"]
    for name, source in breakdowns.items():
        if "." not in source:
            expr = coarsen_period(pl.col(source), period) if source == "period" else pl.col(source)
            cols.append(expr.alias(name))
    out = _join_answer_breakdowns(included(responses).select(cols), answers, key, breakdowns, lambda e: e)
    return out.with_columns(pl.col(name).fill_null(MISSING) for name, source in breakdowns.items() if "." in source)


def _join_answer_breakdowns(out: pl.LazyFrame, answers: pl.LazyFrame, key: pl.Expr,
                            breakdowns: Mapping[str, str], convert: Any) -> pl.LazyFrame:
    """Left-join each unit to the code it answered for every ``module.item``
    breakdown (``convert`` applied to the value); null when not answered.

    Refusals join the not-stated category: both are small, and one small
    column instead of two spares many complementary suppressions.
    """
    for name, source in breakdowns.items():
        if "." not in source:
            continue
        module, item = source.split(".", 1)
        values = (answers.filter((pl.col("module") == module) & (pl.col("item") == item)
                                 & (pl.col("state") == "answered"))
                  .select(key.alias("key"), convert(pl.col("value")).alias(name)))
        out = out.join(values, on="key", how="left")
    return out


def _combo_hash(columns: Sequence[str]) -> pl.Expr:
    """A 64-bit hash of a unit's raw breakdown values (tests replace it to
    force collisions)."""
    return pl.struct(columns).hash()


def unit_cells(responses: pl.LazyFrame, answers: pl.LazyFrame, key: pl.Expr,
               breakdowns: Mapping[str, str] = DEFAULT_BREAKDOWNS,
               period: str | None = "quarter") -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every unit's cell: (units, cells).

    ``units`` has ``key``, ``cell``, ``partial``, ``survey`` and ``rk`` (the
    record key, :func:`record_key`); ``cells`` has
    ``cell``, ``survey`` and one String column per breakdown, as in
    :func:`units`. Each unit is read with its raw values as categoricals
    and a hash of them; the survey label and coarse period are derived
    once per distinct combination, and units find their cell by the hash.
    Deriving labels for each of millions of rows, or joining rows to cells
    on every breakdown column, took longer and held several times the
    memory. Should two combinations share a hash, the join falls back to
    the columns themselves.
    """
    def cat(expr: pl.Expr) -> pl.Expr:
        return expr.cast(pl.String).cast(pl.Categorical)

    raw: list[pl.Expr] = [key.alias("key"), cat(pl.col("survey")).alias("_survey"),
                          cat(pl.col("survey_version")).alias("_version"), cat(pl.col("status")).alias("_status")]
    raw += [cat(pl.col(source)).alias(name) for name, source in breakdowns.items() if "." not in source]
    out = _join_answer_breakdowns(included(responses).select(raw), answers, key, breakdowns, cat)
    columns = ["_survey", "_version", "_status", *breakdowns]
    frame = out.with_columns(_combo_hash(columns).alias("_h")).collect(engine="streaming")
    # The streaming engine runs these on all cores; the in-memory one took twice as long.
    combos = frame.lazy().group_by(columns).agg(pl.col("_h").first()).collect(engine="streaming")
    names = ["survey", *breakdowns]
    labelled = combos.with_columns(pl.col(c).cast(pl.String) for c in columns).with_columns(
        [(pl.col("_survey") + "@" + pl.col("_version")).alias("survey"),
         *(pl.col(name).fill_null(MISSING) for name, source in breakdowns.items() if "." in source),
         *(coarsen_period(pl.col(name), period).alias(name) for name, source in breakdowns.items()
           if source == "period")])
    cells = labelled.select(names).unique().sort(names).with_row_index("cell")
    combos = combos.with_columns(labelled.join(cells, on=names, how="left", nulls_equal=True, maintain_order="left")
                                 .select("cell", (pl.col("_status") == "partial").alias("partial"), "survey"))
    integer = frame.schema["key"].is_integer()
    if combos["_h"].n_unique() == combos.height:
        joined = frame.lazy().select("key", "_h").join(combos.lazy().select("_h", "cell", "partial", "survey"),
                                                      on="_h")
    else:
        joined = frame.lazy().select("key", *columns).join(
            combos.lazy().select(*columns, "cell", "partial", "survey"), on=columns, nulls_equal=True)
    return (joined.select("key", "cell", "partial", "survey", record_key(pl.col("key"), integer).alias("rk"))
            .collect(engine="streaming"), cells)


def participation_counts(responses: pl.LazyFrame, by: str | None = None, key: pl.Expr | None = None) -> pl.LazyFrame:
    """Non-test responses per status (complete, partial, declined)[, by]:
    ``n`` and ``ks`` (sum of record keys). ``by`` is a response column
    (centre, lang, period)."""
    r = responses.filter(~pl.col("test"))
    key = choose_key(responses) if key is None else key
    integer = responses.collect_schema()["rid"].is_integer() or not key.meta.eq(pl.col("rid"))
    return r.group_by("status", *([by] if by else [])).agg(
        pl.len().alias("n"), record_key(key, integer).sum().alias("ks"))


def last_positions(joined: pl.LazyFrame, order: pl.DataFrame) -> pl.LazyFrame:
    """For partial units, the rank of the last question they answered
    (answered, refused or nothing selected): key -> ``pos``.

    ``joined`` is answer rows joined with the units (columns key, module,
    item, state, partial, survey); ``order`` has survey, module, item, pos
    (the question's rank in that survey).
    """
    return (joined.filter(pl.col("partial") & (pl.col("state") != "skipped"))
            .join(order.lazy().select("survey", "module", pl.col("item").cast(joined.collect_schema()["item"]), "pos"),
                  on=["survey", "module", "item"], how="inner")
            .group_by("key").agg(pl.col("pos").max()))


def dropoff(unit_frame: pl.DataFrame, positions: Sequence[pl.DataFrame], order: pl.DataFrame) -> pl.DataFrame:
    """Partial responses by the last question answered before leaving:
    (module, item) -> ``n``; module and item ``_noanswer`` for those who
    answered nothing."""
    partial = unit_frame.filter(pl.col("partial")).select("key", "survey")
    last = (pl.concat(positions).group_by("key").agg(pl.col("pos").max()) if positions else
            pl.DataFrame(schema={"key": partial.schema["key"], "pos": pl.Int64}))
    partial = unit_frame.filter(pl.col("partial")).select("key", "survey", "rk")
    named = (partial.join(last, on="key", how="left")
             .join(order.select("survey", "pos", "module", "item"), on=["survey", "pos"], how="left")
             .with_columns(pl.col("module").fill_null(NO_ANSWER), pl.col("item").fill_null(NO_ANSWER)))
    return named.group_by("module", "item").agg(pl.len().alias("n"), pl.col("rk").sum().alias("ks"))


# ----------------------------------------------------------------- intervals

def wilson(x: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval of a proportion ``x / n`` (as fractions), None if ``n == 0``.

    Preferred to the normal approximation: it stays within [0, 1] and keeps
    its coverage for small counts and proportions near 0 or 1.
    """
    if n <= 0:
        return None
    p = x / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    # At 0 % or 100 % the bound is exactly 0 or 1 (rounding would leave 1e-16).
    lower = 0.0 if x == 0 else max(0.0, centre - half)
    upper = 1.0 if x == n else min(1.0, centre + half)
    return lower, upper


def wilson_exprs(x: pl.Expr, n: pl.Expr, z: float = Z95) -> tuple[pl.Expr, pl.Expr]:
    """The same interval as polars expressions (lower, upper)."""
    p = x / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * (p * (1 - p) / n + z * z / (4 * n * n)).sqrt() / denominator
    return (centre - half).clip(0.0, 1.0), (centre + half).clip(0.0, 1.0)


# ----------------------------------------------------------------- one pass

def cell_counts(joined: pl.LazyFrame, module: str, major: int) -> pl.LazyFrame:
    """Answer rows per (module, major, item, cat, cell): ``n``.

    A *cell* is one combination of survey and breakdown categories; every
    unit is in exactly one cell, so any breakdown's table is a sum over
    cells (:func:`marginal`). One join and one group-by then serve every
    breakdown, instead of one pass over the answers per breakdown.
    ``joined`` is one module's answer rows joined with their units
    (:func:`module_counts` does it).
    """
    return (joined.group_by("item", "state", "value", "cell").agg(pl.len().alias("n"), pl.col("rk").sum().alias("ks"))
            .select(pl.lit(module).alias("module"), pl.lit(major, dtype=pl.Int64).alias("major"), "item",
                    category().alias("cat"), "cell", "n", "ks"))


_SV = 1 << 33  # item code stride in the packed answer key (see module_counts)
_STATE = 1 << 32  # offset of unanswered states in the packed answer key


def module_counts(coded: pl.LazyFrame, units_: pl.LazyFrame, module: str, major: int) -> pl.LazyFrame:
    """:func:`cell_counts` of one module's answers.

    With categorical answer columns (as ingest writes them) each row's
    item, state and value are first packed into one integer from their
    category codes: the join carries two integers instead of three
    categoricals, and the group-by hashes two integer keys instead of four,
    which takes about a quarter less time on tens of millions of rows.
    """
    rows = coded.filter((pl.col("module") == module) & (pl.col("major") == major))
    schema = rows.collect_schema()
    if not all(schema[c] == pl.Categorical for c in ("item", "state", "value")):
        return cell_counts(rows.join(units_, on="key", how="inner"), module, major)

    def code(column: str) -> pl.Expr:
        return pl.col(column).to_physical().cast(pl.UInt64)

    sv = pl.when(pl.col("state") == "answered").then(code("value")).otherwise(code("state") + _STATE)
    packed = (rows.select("key", (code("item") * _SV + sv).alias("isv"))
              .join(units_.select("key", "cell", "rk"), on="key", how="inner")
              .group_by("isv", "cell").agg(pl.len().alias("n"), pl.col("rk").sum().alias("ks")))
    low = pl.col("isv") % _SV
    answered = low < _STATE

    def category_of(expr: pl.Expr) -> pl.Expr:
        return expr.cast(pl.UInt32).cat.to(pl.Categorical).cast(pl.String)

    value = pl.when(answered).then(category_of(low))
    state = pl.when(answered).then(pl.lit("answered")).otherwise(category_of(low - _STATE))
    return (packed.with_columns(category_of(pl.col("isv") // _SV).alias("item"), state.alias("state"),
                                value.alias("value"))
            .select(pl.lit(module).alias("module"), pl.lit(major, dtype=pl.Int64).alias("major"), "item",
                    category().alias("cat"), "cell", "n", "ks"))


def cell_persons(coded: pl.LazyFrame, units_: pl.LazyFrame,
                 items: Iterable[tuple[str, int, str]]) -> pl.LazyFrame:
    """Persons with at least one selected code per multiple-choice item and cell: ``n``."""
    wanted = pl.DataFrame([list(t) for t in items] or None,
                          schema={"module": pl.String, "major": pl.Int64, "item": pl.String}, orient="row")
    modules = sorted({m for m, _, _ in wanted.iter_rows()})
    # The module filter first: it prunes the other modules' files unread.
    return (coded.filter(pl.col("module").is_in(modules) & (pl.col("state") == "answered"))
            .join(wanted.lazy().with_columns(pl.col("item").cast(coded.collect_schema()["item"])),
                  on=["module", "major", "item"], how="semi")
            .join(units_.select("key", "cell", "rk"), on="key", how="inner")
            .group_by("module", "major", "item", "cell", "key").agg(pl.col("rk").first())
            .group_by("module", "major", "item", "cell").agg(pl.len().cast(pl.UInt32).alias("n"),
                                                             pl.col("rk").sum().alias("ks")))


def marginal(frame: pl.DataFrame, cells: pl.DataFrame, by: str | None, keys: Sequence[str],
             sums: Sequence[str] = ("n", "ks")) -> pl.DataFrame:
    """Sum a cell-level frame to (``keys``, survey[, by])."""
    extra = ["survey"] + ([by] if by else [])
    return (frame.join(cells.select("cell", *extra), on="cell", how="inner")
            .group_by(*keys, *extra).agg(pl.col(c).sum() for c in sums))


def marginals(frame: pl.DataFrame, cells: pl.DataFrame, bys: Sequence[str | None], keys: Sequence[str],
              sums: Sequence[str] = ("n", "ks")) -> dict[str | None, pl.DataFrame]:
    """:func:`marginal` for each of ``bys``: the cells joined once, then the
    sums run side by side (one join per breakdown took about twice as long)."""
    extra = ["survey", *dict.fromkeys(by for by in bys if by)]
    joined = frame.join(cells.select("cell", *extra), on="cell", how="inner").lazy()
    queries = [joined.group_by(*keys, "survey", *([by] if by else [])).agg(pl.col(c).sum() for c in sums)
               for by in bys]
    return dict(zip(bys, pl.collect_all(queries)))


@dataclass
class Counts:
    """Every true count a release needs, collected in one pass.

    ``items[by]`` / ``persons[by]`` / ``population[by]`` use ``None`` for the
    table without breakdown. Participation is counted without breakdown:
    declined consents are published as a count only. ``cells`` maps each
    cell to its survey and breakdown categories; ``extra`` holds the
    cell-level frames of the extra queries (scores).
    """

    breakdowns: dict[str, str]
    cells: pl.DataFrame
    items: dict[str | None, pl.DataFrame] = field(default_factory=dict)
    persons: dict[str | None, pl.DataFrame] = field(default_factory=dict)
    population: dict[str | None, pl.DataFrame] = field(default_factory=dict)
    participation: dict[str | None, pl.DataFrame] = field(default_factory=dict)
    dropoff: pl.DataFrame | None = None
    extra: list[pl.DataFrame] = field(default_factory=list)
    # Item counts per cell (module, major, item, cat, cell, n, ks): the
    # standardised shares need age band and sex crossed with a territory.
    item_cells: pl.DataFrame | None = None


def collect_counts(responses: pl.LazyFrame, answers: pl.LazyFrame,
                   breakdowns: Mapping[str, str] = DEFAULT_BREAKDOWNS,
                   multiple_items: Sequence[tuple[str, int, str]] = (),
                   order: pl.DataFrame | None = None, period: str | None = "quarter",
                   extra: Sequence[tuple[str, int, Callable[[pl.LazyFrame, pl.LazyFrame], pl.LazyFrame]]] = (),
                   partitions: Sequence[tuple[str, int]] | None = None) -> Counts:
    """Run every count of a release with the streaming engine.

    ``partitions``: the (module, major) pairs in ``answers`` when the
    caller knows them (else a pass over the answers finds them).

    ``extra`` holds ``(module, major, query)`` where ``query(coded, units)``
    returns a cell-level LazyFrame (the scores). The units are collected
    first: every other query joins on them. Then the counts of one
    questionnaire module at a time, and its scores after them: running
    them side by side (one ``collect_all``) held a hash table of the units
    per module, or cached the joined answers, and tripled peak memory.
    """
    key = choose_key(responses)
    unit_frame, cells = unit_cells(responses, answers, key, breakdowns, period)
    surveys = pl.Enum(sorted(set(cells["survey"].to_list())
                             | set([] if order is None else order["survey"].to_list())))
    unit_frame = unit_frame.with_columns(pl.col("survey").cast(surveys))
    u = unit_frame.lazy()
    order_e = None if order is None else order.with_columns(pl.col("survey").cast(surveys))
    coded = coded_answers(answers, key)
    if partitions is None:
        partitions = answers.select("module", "major").unique().collect(engine="streaming").rows()
    partitions = sorted(partitions)
    person_cells, pop_cells, participation_all = pl.collect_all(
        [cell_persons(coded, u, multiple_items),
         u.group_by("cell").agg(pl.len().alias("n"), pl.col("rk").sum().alias("ks")),
         participation_counts(responses, key=key)], engine="streaming")
    item_frames: list[pl.DataFrame] = []
    positions: list[pl.DataFrame] = []
    extra_frames: dict[int, pl.DataFrame] = {}
    if order_e is not None:
        # Only partial responses matter: a small hash table, one pass over all modules.
        partial_rows = coded.join(u.filter(pl.col("partial")), on="key", how="inner")
        positions.append(last_positions(partial_rows, order_e).collect(engine="streaming"))
    for m, j in partitions:
        item_frames.append(module_counts(coded, u, m, j).collect(engine="streaming"))
        # Scores aggregate per person (millions of groups): run after, not
        # beside, the module's counts, so their memory peaks do not add up.
        mine = [i for i, (em, ej, _) in enumerate(extra) if (em, ej) == (m, j)]
        if mine:
            scored = pl.collect_all([extra[i][2](coded, u) for i in mine], engine="streaming")
            extra_frames.update(zip(mine, scored))
    for i, (em, ej, query) in enumerate(extra):
        if i not in extra_frames:  # a module without answers: empty counts
            extra_frames[i] = query(coded, u).collect(engine="streaming")
    out = Counts(dict(breakdowns), cells)
    out.participation[None] = participation_all
    item_cells = (pl.concat(item_frames) if item_frames else
                  pl.DataFrame(schema={"module": pl.String, "major": pl.Int64, "item": pl.String, "cat": pl.String,
                                       "cell": pl.UInt32, "n": pl.UInt32, "ks": pl.UInt64}))
    bys: list[str | None] = [None, *breakdowns]
    out.items = marginals(item_cells, cells, bys, ["module", "major", "item", "cat"])
    out.persons = marginals(person_cells, cells, bys, ["module", "major", "item"])
    out.population = marginals(pop_cells, cells, bys, [])
    if order_e is not None:
        out.dropoff = dropoff(unit_frame, positions, order_e).with_columns(pl.col("module").cast(pl.String))
    out.extra = [extra_frames[i] for i in range(len(extra))]
    out.item_cells = item_cells
    return out


def participation(responses: pl.LazyFrame) -> dict[str, int]:
    """Counts of complete, partial and declined responses (test excluded)."""
    df = participation_counts(responses, None).collect(engine="streaming")
    counts = {row["status"]: int(row["n"]) for row in df.iter_rows(named=True)}
    return {s: counts.get(s, 0) for s in ("complete", "partial", "declined")}
