"""Benchmark: the protected release against bare counting, in the same run.

* full report (counts, cell key protection, HTML) of the shipped full survey
  at 300, 1,000 and 5,000 responses sealed through the real path
  (``kiosk simulate`` then ingest): goal <= 3 s each;
* full report of the benchmark survey (bench.bench_report's generator) at
  1M responses: goal <= 5 s;
* one dashboard selection (a neighbourhood filter) at 100,000 responses:
  goal <= 1 s.

The baseline of each row is the bare counting of the same data
(:func:`analysis.tables.collect_counts` with every score query), so the
ratio is the cost of the tables, the protection and the HTML over counting.
``run(quick=True)`` stops at 5,000 and 100,000 responses.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
QDIR = REPO / "questionnaires"


def _counts(data: Path, qdirs: list[Path], filters: dict[str, list[str]] | None = None) -> float:
    """Seconds of the bare counting of a dataset (the report's counts, no table)."""
    from analysis import tables
    from analysis.ingest import module_index, scan_answers, scan_responses
    from analysis.report import _apply_filters, _score_query, survey_orders

    t = time.perf_counter()
    index = module_index(qdirs)
    modules = {(m.id, m.major): m for m in index.values()}
    multiple = [(m.id, m.major, it.id) for m in modules.values() for it in m.items if it.type == "multiple"]
    extra = [(m.id, m.major, _score_query(sc, m.id, m.major, frozenset(i.id for i in m.items
                                                                        if i.type == "multiple")))
             for m in modules.values() for sc in m.scores]
    responses, answers = scan_responses(data), scan_answers(data)
    if filters:
        responses = _apply_filters(responses, answers, tables.DEFAULT_BREAKDOWNS, "quarter", filters)
    present = answers.select("module", "major").unique().collect(engine="streaming").rows()
    tables.collect_counts(responses, answers, tables.DEFAULT_BREAKDOWNS, multiple, survey_orders(qdirs),
                          "quarter", extra, partitions=sorted(set(present)))
    return time.perf_counter() - t


def _report(data: Path, qdirs: list[Path], filters: dict[str, list[str]] | None = None) -> tuple[float, int]:
    """Seconds of the whole release (counts, protection, views) and its HTML."""
    from analysis.report import build_release, render_html

    t = time.perf_counter()
    release = build_release(data, qdirs, filters=filters)
    size = len(render_html(release, "fr")) if filters is None else len(release.views)
    return time.perf_counter() - t, size


def _sealed_dataset(root: Path, n: int) -> Path:
    """``n`` responses of the full survey, sealed and ingested."""
    from analysis.ingest import ingest
    from analysis.keys import keygen, load_private_key
    from kiosk.simulate import simulate
    from kiosk.keys import create_device_key

    team = root / "team"
    if not (team / "team.key").exists():
        keygen(team, b"bench passphrase", n=2 ** 12)
        create_device_key(root / "device.key")
    key = load_private_key(team / "team.key", b"bench passphrase")
    bundle = root / f"sim-{n}.hkb"
    simulate(n, QDIR / "full_survey.yaml", team / "team.pub", root / "device.key", bundle, seed=n,
             module_dirs=[QDIR])
    data = root / f"data-{n}"
    ingest([bundle], {key.public.key_id: key}, data, [QDIR])
    return data


def _row(benchmark: str, measure: float, baseline: float, goal: float, notes: str) -> dict[str, Any]:
    from bench.common import row

    out = row(benchmark, round(measure, 3), round(baseline, 3), f"<= {goal:g} s", measure <= goal, notes, "s")
    out["ratio"] = round(out["ratio"], 2)
    return out


def run(quick: bool = False) -> list[dict[str, Any]]:
    """One row per measure: seconds, baseline = bare counting of the same data."""
    from bench.bench_report import make_dataset, write_modules
    from bench.common import best_of

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-release-") as tmp:
        root = Path(tmp)
        for n in (300, 1_000, 5_000):
            data = _sealed_dataset(root, n)
            base = best_of(lambda: _counts(data, [QDIR]), repeat=2)
            times = []
            for _ in range(2):
                seconds, size = _report(data, [QDIR])
                times.append(seconds)
            rows.append(_row(f"full report, full survey, {n:,} responses", min(times), base, 3.0,
                             f"sealed and ingested; counts, cell key protection, views and HTML "
                             f"({size / 1e6:.1f} MB); baseline: bare counting"))
        qdir = write_modules(root / "bench-q")
        sizes = [100_000] if quick else [100_000, 1_000_000]
        for n in sizes:
            data = root / f"bench-{n}"
            make_dataset(data, n)
            if n == 100_000:
                filters = {"neighbourhood": ["n3"]}
                base = best_of(lambda: _counts(data, [qdir], filters), repeat=2)
                # The first selection of a dashboard session (nothing cached).
                seconds = min(_report(data, [qdir], filters)[0] for _ in range(2))
                rows.append(_row("dashboard selection, 100,000 responses", seconds, base, 1.0,
                                 "one neighbourhood (about 1/12 of the responses), every table of the "
                                 "benchmark survey; baseline: bare counting of the same selection"))
            if n == 1_000_000 or quick:
                base = _counts(data, [qdir])
                seconds, size = _report(data, [qdir])
                rows.append(_row(f"full report, benchmark survey, {n:,} responses", seconds, base,
                                 5.0 if n == 1_000_000 else 3.0,
                                 f"5 modules, ~18 answer rows a response; HTML {size / 1e6:.1f} MB; "
                                 "baseline: bare counting"))
    return rows


def main() -> None:
    """Print the rows as JSON lines (``--quick``: no 1M run)."""
    for r in run(quick="--quick" in sys.argv):
        print(json.dumps(r, ensure_ascii=False))


if __name__ == "__main__":
    main()
