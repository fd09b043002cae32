"""Frequency tables and cross-tabs from the dataset (polars, lazy).

Every function takes LazyFrames and returns a LazyFrame or DataFrame of
*true* counts; nothing here is published directly: :mod:`analysis.report`
passes each table through :mod:`analysis.disclosure` first.
"""

from __future__ import annotations

import polars as pl


def included(responses: pl.LazyFrame) -> pl.LazyFrame:
    """Responses that count: not test mode, not declined consents."""
    return responses.filter(~pl.col("test") & (pl.col("status") != "declined"))


def frequencies(responses: pl.LazyFrame, answers: pl.LazyFrame, module: str, item: str) -> pl.DataFrame:
    """Counts per answer code of one item over respondents who saw it.

    Columns: ``value`` (code, or ``"refused"`` for prefer not to answer) and
    ``n`` (persons). Skipped-by-logic and never-reached are excluded.
    """
    keep = included(responses).select("rid")
    a = answers.filter((pl.col("module") == module) & (pl.col("item") == item)
                       & pl.col("state").is_in(["answered", "refused"]))
    return (a.join(keep, on="rid", how="semi")
             .with_columns(pl.when(pl.col("state") == "refused").then(pl.lit("refused"))
                           .otherwise(pl.col("value")).alias("value"))
             .group_by("value").agg(pl.col("rid").n_unique().alias("n"))
             .sort("value")
             .collect(engine="streaming"))


def seen_count(responses: pl.LazyFrame, answers: pl.LazyFrame, module: str, item: str) -> int:
    """Number of respondents who saw the item (answered or refused)."""
    keep = included(responses).select("rid")
    return int(answers.filter((pl.col("module") == module) & (pl.col("item") == item)
                              & pl.col("state").is_in(["answered", "refused", "none"]))
               .join(keep, on="rid", how="semi").select(pl.col("rid").n_unique())
               .collect(engine="streaming").item())


def participation(responses: pl.LazyFrame) -> dict[str, int]:
    """Counts of complete, partial and declined responses (test excluded)."""
    df = (responses.filter(~pl.col("test")).group_by("status").agg(pl.len().alias("n"))
          .collect(engine="streaming"))
    counts = {row["status"]: int(row["n"]) for row in df.iter_rows(named=True)}
    return {s: counts.get(s, 0) for s in ("complete", "partial", "declined")}
