"""Benchmark: every table and score of the diagnostic report on synthetic data.

Synthetic responses are generated directly as Parquet in the dataset layout
of :mod:`analysis.ingest` (not through sealing: that path is benchmarked
elsewhere). Five modules per response (demographics, MEHM, PHQ-9 with its
score, a multiple-choice needs question, Hunger Vital Sign with an any-of
score): about 18 answer rows per response.

Measured, each in a fresh subprocess so peak memory (``ru_maxrss``) is the
run's own:

* polars: :func:`analysis.tables.collect_counts` with every score query -
  all counts behind the report's tables and scores (streaming engine);
* pandas: the same counts written with pandas (1M only: at 10M pandas needs
  more memory and time than the machine budget);
* the full report (counts, gating of every table, HTML) at 1M.

``run(quick=True)`` uses 100k responses. ``python -m bench.bench_report``
prints the rows.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

MODULES = {
    "demographics": """
id: demographics
version: 1.0.0
title: {en: About you, fr: Vous}
source: bench
license: bench
languages: {en: validated, fr: validated}
items:
  - id: age_band
    type: single
    text: {en: Age, fr: Âge}
    choices: [{code: a18, label: {en: 18-29, fr: 18-29}}, {code: a30, label: {en: 30-44, fr: 30-44}},
              {code: a45, label: {en: 45-59, fr: 45-59}}, {code: a60, label: {en: 60-74, fr: 60-74}},
              {code: a75, label: {en: 75+, fr: 75+}}]
  - id: gender
    type: single
    text: {en: Gender, fr: Genre}
    choices: [{code: f, label: {en: Woman, fr: Femme}}, {code: m, label: {en: Man, fr: Homme}},
              {code: x, label: {en: Other, fr: Autre}}]
  - id: neighbourhood
    type: single
    text: {en: Neighbourhood, fr: Quartier}
    choices: [%s]
""" % ", ".join(f"{{code: n{i}, label: {{en: N{i}, fr: Q{i}}}}}" for i in range(12)),
    "mehm": None,  # the shipped module
    "phq9": """
id: phq9
version: 1.0.0
title: {en: PHQ-9, fr: PHQ-9}
source: bench
license: bench
languages: {en: validated, fr: validated}
choices:
  f4: [{code: "0", label: {en: Not at all, fr: Jamais}}, {code: "1", label: {en: Several days, fr: Plusieurs jours}},
       {code: "2", label: {en: More than half, fr: Plus de la moitié}}, {code: "3", label: {en: Nearly every day, fr: Presque tous les jours}}]
items:
%s
scores:
  - id: total
    items: [%s]
    values: {"0": 0, "1": 1, "2": 2, "3": 3}
    bands: [{from: 0, label: minimal}, {from: 5, label: mild}, {from: 10, label: moderate},
            {from: 15, label: moderately_severe}, {from: 20, label: severe}]
    positive_at: 10
    range: [0, 27]
""" % ("\n".join(f"  - {{id: q{i}, type: single, text: {{en: Q{i}, fr: Q{i}}}, choices: f4}}" for i in range(1, 10)),
       ", ".join(f"q{i}" for i in range(1, 10))),
    "needs": """
id: needs
version: 1.0.0
title: {en: Needs, fr: Besoins}
source: bench
license: bench
languages: {en: validated, fr: validated}
items:
  - id: needs
    type: multiple
    text: {en: Needs, fr: Besoins}
    choices: [%s]
""" % ", ".join(f"{{code: o{i}, label: {{en: O{i}, fr: O{i}}}}}" for i in range(8)),
    "hvs": """
id: hvs
version: 1.0.0
title: {en: Hunger Vital Sign, fr: Signe vital de la faim}
source: bench
license: bench
languages: {en: validated, fr: validated}
choices:
  often: [{code: often, label: {en: Often true, fr: Souvent vrai}}, {code: sometimes, label: {en: Sometimes true, fr: Parfois vrai}},
          {code: never, label: {en: Never true, fr: Jamais vrai}}]
items:
  - {id: worried, type: single, text: {en: Worried, fr: Inquiet}, choices: often}
  - {id: ran_out, type: single, text: {en: Ran out, fr: Manqué}, choices: often}
scores:
  - id: at_risk
    items: [worried, ran_out]
    any_of: {worried: [often, sometimes], ran_out: [often, sometimes]}
    positive_at: 1
""",
}


SURVEY = """
id: bench
version: 1.0.0
title: {en: Benchmark survey, fr: Enquête de test}
modules:
  - {id: demographics, version: 1.0.0}
  - {id: mehm, version: 1.0.0}
  - {id: phq9, version: 1.0.0}
  - {id: needs, version: 1.0.0}
  - {id: hvs, version: 1.0.0}
site:
  centre: C1
  languages: [fr, en]
"""


def write_modules(folder: Path) -> Path:
    """Write the benchmark's module and survey definitions into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bench_survey.yaml").write_text(textwrap.dedent(SURVEY), encoding="utf-8")
    for name, text in MODULES.items():
        if text is None:
            shutil.copy(REPO / "questionnaires" / f"{name}.yaml", folder / f"{name}.yaml")
        else:
            (folder / f"{name}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def make_dataset(out: Path, n: int, seed: int = 7, chunk: int = 1_000_000) -> None:
    """Write ``n`` synthetic responses as a Parquet dataset in ``out``.

    Random but plausible: 3 centres, 26 weeks, 3 languages, 0.1 % test mode,
    85 % complete, 10 % partial (they stop at a random module), 5 %
    declined; 3 % prefer-not-to-answer per question; skip logic on the
    second HVS item (asked when the first is not "never").
    """
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    shutil.rmtree(out, ignore_errors=True)
    (out / "responses").mkdir(parents=True)
    for part, start in enumerate(range(0, n, chunk)):
        m = min(chunk, n - start)
        # Random 64-bit rids, like ingest's (collisions at 10M: ~3e-6).
        rid = pl.Series("rid", rng.integers(0, 2**64, m, dtype=np.uint64, endpoint=False))
        u = rng.random(m)
        status = np.where(u < 0.85, "complete", np.where(u < 0.95, "partial", "declined"))
        weeks = [f"2026-W{w:02d}" for w in range(1, 27)]
        resp = pl.DataFrame({
            "rid": rid, "survey": "bench", "survey_version": "1.0.0",
            "centre": rng.choice(["C1", "C2", "C3"], m), "period": rng.choice(weeks, m),
            "lang": rng.choice(["fr", "en", "ar"], m, p=[0.7, 0.2, 0.1]), "status": status,
            "test": rng.random(m) < 0.001})
        resp.write_parquet(out / "responses" / f"part-{part}.parquet")
        # Partial responses stop after a random number of modules (0-4).
        reached = np.where(status == "complete", 5, np.where(status == "partial", rng.integers(0, 5, m), -1))
        rids = resp["rid"]

        def single(mask: Any, item: str, codes: list[str], p: Any = None) -> pl.DataFrame:
            idx = np.nonzero(mask)[0]
            k = len(idx)
            refused = rng.random(k) < 0.03
            values = rng.choice(codes, k, p=p)
            return pl.DataFrame({"rid": rids.gather(idx), "version": "1.0.0", "item": item,
                                 "state": np.where(refused, "refused", "answered"),
                                 "value": pl.Series(values).zip_with(pl.Series(~refused), pl.Series([None] * k,
                                                                                                     dtype=pl.String))})

        def write(module: str, frames: list[pl.DataFrame]) -> None:
            d = out / "answers" / f"module={module}" / "major=1"
            d.mkdir(parents=True, exist_ok=True)
            # The column types ingest writes (analysis.ingest.ANSWER_SCHEMA).
            (pl.concat(frames).sample(fraction=1.0, shuffle=True, seed=seed)
             .with_columns(pl.col("version", "item", "state", "value").cast(pl.Categorical))
             .write_parquet(d / f"part-{part}.parquet"))

        write("demographics", [single(reached >= 1, "age_band", ["a18", "a30", "a45", "a60", "a75"]),
                               single(reached >= 1, "gender", ["f", "m", "x"], [0.52, 0.46, 0.02]),
                               single(reached >= 1, "neighbourhood", [f"n{i}" for i in range(12)])])
        write("mehm", [single(reached >= 2, "general_health", list("12345"), [0.2, 0.35, 0.3, 0.1, 0.05]),
                       single(reached >= 2, "chronic", ["1", "2"]),
                       single(reached >= 2, "limitation", ["1", "2", "3"], [0.1, 0.25, 0.65])])
        write("phq9", [single(reached >= 3, f"q{i}", ["0", "1", "2", "3"], [0.5, 0.3, 0.12, 0.08])
                       for i in range(1, 10)])
        idx = np.nonzero(reached >= 4)[0]
        sel = rng.random((len(idx), 8)) < 0.2
        frames = [pl.DataFrame({"rid": rids.gather(idx[sel[:, j]]), "version": "1.0.0", "item": "needs",
                                "state": "answered", "value": f"o{j}"}) for j in range(8)]
        none = idx[~sel.any(axis=1)]
        frames.append(pl.DataFrame({"rid": rids.gather(none), "version": "1.0.0", "item": "needs", "state": "none",
                                    "value": pl.Series([None] * len(none), dtype=pl.String)}))
        write("needs", frames)
        reached5 = reached >= 5
        first = single(reached5, "worried", ["often", "sometimes", "never"], [0.1, 0.2, 0.7])
        # Skip logic: ran_out is asked unless worried is "never" (refusal asks it too).
        asked = np.zeros(m, dtype=bool)
        asked[np.nonzero(reached5)[0]] = (first["value"] != "never").fill_null(True).to_numpy()
        second = single(asked, "ran_out", ["often", "sometimes", "never"], [0.1, 0.3, 0.6])
        skip_idx = np.nonzero(reached5 & ~asked)[0]
        skipped = pl.DataFrame({"rid": rids.gather(skip_idx), "version": "1.0.0", "item": "ran_out",
                                "state": "skipped", "value": pl.Series([None] * len(skip_idx), dtype=pl.String)})
        write("hvs", [first, second, skipped])


# --------------------------------------------------------------- workers

POLARS_CHILD = """
import json, resource, sys, time
from analysis.ingest import module_index, scan_answers, scan_responses
from analysis.report import release_from_frames, render_html, survey_orders
from analysis import tables
from analysis.report import _score_query
data, qdir, what = sys.argv[1], sys.argv[2], sys.argv[3]
index = module_index([qdir])
t = time.perf_counter()
if what == "counts":
    modules = {(m.id, m.major): m for m in index.values()}
    multiple = [(m.id, m.major, it.id) for m in modules.values() for it in m.items if it.type == "multiple"]
    extra = [(m.id, m.major, _score_query(sc, m.id, m.major, frozenset(i.id for i in m.items if i.type == "multiple")))
             for m in modules.values() for sc in m.scores]
    order = survey_orders([qdir])
    answers = scan_answers(data)
    # The module versions present, as the report finds them.
    present = answers.select("module", "major", "version").unique().collect(engine="streaming")
    c = tables.collect_counts(scan_responses(data), answers, tables.DEFAULT_BREAKDOWNS, multiple,
                              order, "quarter", extra, partitions=sorted(set(present.select("module", "major").rows())))
    # Scores by every breakdown, as the report sums them.
    marg = [tables.marginal(f, c.cells, by, ["class"], ("n", "sum", "sumsq"))
            for f in c.extra for by in [None, *tables.DEFAULT_BREAKDOWNS]]
    size = sum(f.height for f in c.items.values()) + sum(f.height for f in marg)
else:
    release = release_from_frames(scan_responses(data), scan_answers(data), index, [qdir])
    size = len(render_html(release, "fr"))
elapsed = time.perf_counter() - t
print(json.dumps({"seconds": elapsed, "rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
                  "size": size}))
"""

PANDAS_CHILD = """
import json, resource, sys, time, glob, os
import pandas as pd
data = sys.argv[1]
BREAKDOWNS = {"neighbourhood": "neighbourhood", "centre": "centre", "age_band": "age_band", "gender": "gender",
              "lang": "lang", "period": "period"}
t = time.perf_counter()
resp = pd.concat([pd.read_parquet(f) for f in sorted(glob.glob(os.path.join(data, "responses", "*.parquet")))])
frames = []
for f in sorted(glob.glob(os.path.join(data, "answers", "module=*", "major=*", "*.parquet"))):
    df = pd.read_parquet(f)
    parts = f.split(os.sep)
    df["module"] = parts[-3].split("=", 1)[1]
    df["major"] = int(parts[-2].split("=", 1)[1])
    frames.append(df)
ans = pd.concat(frames, ignore_index=True)
units = resp[(~resp["test"]) & (resp["status"] != "declined")].copy()
units["survey"] = units["survey"] + "@" + units["survey_version"]
w = units["period"].str.slice(6, 8).astype(int)
units["period"] = units["period"].str.slice(0, 4) + "-Q" + ((w - 1) // 13 + 1).clip(upper=4).astype(str)
for item in ("neighbourhood", "age_band", "gender"):
    d = ans[(ans["module"] == "demographics") & (ans["item"] == item) & ans["state"].isin(["answered", "refused"])]
    d = d.assign(**{item: d["value"].where(d["state"] == "answered", "_refused")})[["rid", item]]
    units = units.merge(d, on="rid", how="left")
    units[item] = units[item].fillna("_missing")
ans["cat"] = ans["value"].where(ans["state"] == "answered", "_" + ans["state"])
joined = ans.merge(units[["rid", "survey", *BREAKDOWNS]], on="rid", how="inner")
size = 0
for by in [None, *BREAKDOWNS]:
    keys = ["module", "major", "item", "cat", "survey"] + ([by] if by else [])
    size += len(joined.groupby(keys, observed=True).size())
    multi = joined[(joined["item"] == "needs") & (joined["state"] == "answered")]
    size += len(multi.groupby(["module", "major", "item", "survey"] + ([by] if by else []))["rid"].nunique())
    size += len(units.groupby(["survey"] + ([by] if by else [])).size())
size += len(resp[~resp["test"]].groupby("status").size())
# PHQ-9 total and HVS any-of, per respondent, then by breakdown and class.
phq = joined[(joined["module"] == "phq9")]
pts = phq.assign(p=pd.to_numeric(phq["cat"], errors="coerce"), ok=(phq["state"] == "answered"))
per = pts.groupby("rid").agg(rows=("item", "size"), valid=("ok", "sum"), total=("p", "sum"))
per["value"] = per["total"].where((per["rows"] == 9) & (per["valid"] == 9)).round(2)
hv = joined[joined["module"] == "hvs"]
hv = hv.assign(hit=hv["cat"].isin(["often", "sometimes"]), ok=(hv["state"] == "answered"))
per_h = hv.groupby("rid").agg(rows=("item", "size"), valid=("ok", "sum"), hit=("hit", "any"))
per_h["value"] = per_h["hit"].astype(float).where((per_h["rows"] == 2) & (per_h["valid"] == 2))
bands = [0, 5, 10, 15, 20]
for per_score in (per, per_h):
    s = per_score.dropna(subset=["value"]).join(units.set_index("rid")[["survey", *BREAKDOWNS]], how="inner")
    s["cls"] = pd.cut(s["value"], bins=[-1e9, *bands[1:], 1e9], right=False, labels=False)
    s["sq"] = s["value"] ** 2
    for by in [None, *BREAKDOWNS]:
        keys = ["survey", "cls"] + ([by] if by else [])
        size += len(s.groupby(keys).agg(n=("value", "size"), sum=("value", "sum"), sumsq=("sq", "sum")))
elapsed = time.perf_counter() - t
print(json.dumps({"seconds": elapsed, "rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
                  "size": size}))
"""


def _child(code: str, *args: str, timeout: float = 1800) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=REPO)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark worker failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _row(benchmark: str, measure: float, baseline: float | None, goal: str, met: bool, notes: str,
         unit: str) -> dict[str, Any]:
    """A result row (ratio = measure / baseline, as in bench.common)."""
    from bench.common import row

    out = row(benchmark, round(measure, 3), None if baseline is None else round(baseline, 3), goal, bool(met),
              notes, unit)
    if out["ratio"] is not None:
        out["ratio"] = round(out["ratio"], 3)
    return out


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Run the benchmark; one row per measure (seconds, GB or speed-up)."""
    sizes = [100_000] if quick else [1_000_000, 10_000_000]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        qdir = write_modules(Path(tmp) / "questionnaires")
        for n in sizes:
            data = Path(tmp) / f"data-{n}"
            t0 = time.perf_counter()
            make_dataset(data, n)
            gen = time.perf_counter() - t0
            label = f"{n // 1000}k" if n < 1_000_000 else f"{n // 1_000_000}M"
            goal_s = 5.0 if n <= 1_000_000 else 30.0
            pol = _child(POLARS_CHILD, str(data), str(qdir), "counts")
            pandas = _child(PANDAS_CHILD, str(data)) if n <= 1_000_000 else None
            note = f"{n:,} responses, ~18 answer rows each; data generated in {gen:.0f} s; 2 cores"
            rows.append(_row(f"report counts+scores {label} (polars streaming)", pol["seconds"],
                             pandas["seconds"] if pandas else None, f"<= {goal_s:g} s",
                             pol["seconds"] <= goal_s, note + ("; baseline: the same counts in pandas" if pandas
                                                               else "; pandas not run at 10M (its memory grows with "
                                                               "the data: see its 1M peak)"), "s"))
            rows.append(_row(f"report counts+scores {label} peak memory", pol["rss_gb"],
                             pandas["rss_gb"] if pandas else None, "<= 4 GB", pol["rss_gb"] <= 4.0,
                             "peak RSS of the worker process (baseline: pandas)", "GB"))
            if pandas:
                speedup = pandas["seconds"] / pol["seconds"]
                rows.append(_row(f"speed-up vs pandas {label}", speedup, None, ">= 5x", speedup >= 5.0,
                                 f"pandas {pandas['seconds']:.2f} s vs polars {pol['seconds']:.2f} s, "
                                 "same counts, same run", "x"))
            if n <= 1_000_000:
                full = _child(POLARS_CHILD, str(data), str(qdir), "report")
                rows.append(_row(f"full report {label} (counts, gating, HTML)", full["seconds"], None,
                                 f"<= {goal_s:g} s", full["seconds"] <= goal_s,
                                 f"peak {full['rss_gb']:.2f} GB; HTML {full['size'] / 1e6:.1f} MB", "s"))
            shutil.rmtree(data, ignore_errors=True)
    return rows


def main() -> None:
    """Print the rows as JSON lines (``--quick`` for 100k)."""
    for row in run(quick="--quick" in sys.argv):
        print(json.dumps(row, ensure_ascii=False))


if __name__ == "__main__":
    main()
