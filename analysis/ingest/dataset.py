"""The dataset on disk: its schemas, the staged Parquet parts a run writes
and publishes at once, and the scans every reader uses (see docs/dataset.md).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import polars as pl



# rid: a random 64-bit response id drawn at ingest (never the envelope id).
# Stored as an integer and the answer columns as categoricals: the analysis
# joins and groups tens of millions of answer rows on them, several times
# faster than on text.
RESPONSE_SCHEMA = {"rid": pl.UInt64, "survey": pl.String, "survey_version": pl.String,
                   "centre": pl.String, "period": pl.String, "lang": pl.String,
                   "status": pl.String, "test": pl.Boolean, "survey_hash": pl.String}


ANSWER_SCHEMA = {"rid": pl.UInt64, "module": pl.String, "major": pl.Int64, "version": pl.Categorical,
                 "item": pl.Categorical, "state": pl.Categorical, "value": pl.Categorical}


# Answer states: answered (value = code or number), refused ("prefer not to
# answer"), skipped (not shown by skip logic), none (multiple choice, nothing).
STATES = ("answered", "refused", "skipped", "none")


STAGED = ".staged"


def _write_staged(data: Path, part: str, responses: list[tuple], answers: list[tuple]) -> list[Path]:
    """Write the run's Parquet files under staged names; return them."""
    out: list[Path] = []
    # Shuffle so file order carries no arrival order.
    rdf = _frame(responses, RESPONSE_SCHEMA).sample(fraction=1.0, shuffle=True)
    (data / "responses").mkdir(exist_ok=True)
    out.append(_write_parquet(rdf, data / "responses" / f"part-{part}.parquet{STAGED}"))
    adf = _frame(answers, ANSWER_SCHEMA)
    for (module, major), group in adf.group_by(["module", "major"]):
        d = data / "answers" / f"module={module}" / f"major={major}"
        d.mkdir(parents=True, exist_ok=True)
        out.append(_write_parquet(group.drop("module", "major").sample(fraction=1.0, shuffle=True),
                                  d / f"part-{part}.parquet{STAGED}"))
    return out


def _frame(rows: list[tuple], schema: dict[str, Any]) -> pl.DataFrame:
    """A frame from row tuples, built column by column: polars' row builder
    cannot take the rids of 2**63 and above into a UInt64 column."""
    columns = list(zip(*rows)) if rows else [()] * len(schema)
    return pl.DataFrame([pl.Series(name, values, dtype=dtype)
                         for (name, dtype), values in zip(schema.items(), columns)])


def _write_parquet(df: pl.DataFrame, path: Path) -> Path:
    df.write_parquet(path)
    with open(path, "rb") as fh:  # on disk before the ledger commit refers to it
        os.fsync(fh.fileno())
    return path


def _publish(staged: list[Path]) -> None:
    """Rename a committed run's staged files to their final names."""
    dirs = set()
    for p in staged:
        p.replace(p.with_name(p.name.removesuffix(STAGED)))
        dirs.add(p.parent)
    for d in dirs:
        fd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def scan_responses(data_dir: str | Path) -> pl.LazyFrame:
    """All responses of the dataset (lazy)."""
    files = sorted((Path(data_dir) / "responses").glob("*.parquet"))
    if not files:
        return pl.DataFrame(schema=RESPONSE_SCHEMA).lazy()
    # Files written before survey_hash existed read it as null; column types
    # are the files' own (datasets written by other tools may differ).
    schema: dict[str, Any] = {}
    for f in files:
        for name, dtype in pl.read_parquet_schema(f).items():
            schema.setdefault(name, dtype)
    for name, declared in RESPONSE_SCHEMA.items():
        schema.setdefault(name, declared)
    return pl.scan_parquet(files, schema=schema, missing_columns="insert")


def scan_answers(data_dir: str | Path) -> pl.LazyFrame:
    """All answers of the dataset (lazy), with module and major from the
    hive partition path."""
    root = Path(data_dir) / "answers"
    if not any(root.glob("module=*/major=*/*.parquet")):
        return pl.DataFrame(schema=ANSWER_SCHEMA).lazy()
    return pl.scan_parquet(root / "**" / "*.parquet", hive_partitioning=True,
                           hive_schema={"module": pl.String, "major": pl.Int64}).select(list(ANSWER_SCHEMA))
