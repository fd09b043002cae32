"""Utility of the protections compared on the shipped full survey.

For 200, 1,000 and 5,000 responses sealed through the real path, the key
indicators of the report - every percentage of a single-choice question and
every share of a score class over the whole population - are published

* with the cell key method (the release as the report makes it), and
* with differential privacy: every count of the release gets discrete
  Laplace noise from OpenDP (``make_laplace`` on integers), the budget
  ``epsilon`` shared by every count one person changes (each table: a cell
  and its totals), so the scale is that number over ``epsilon``.

The measure is the absolute error in percentage points against the true
percentage (median and 95th percentile over indicators) and the share of
indicators not published (hidden or without a denominator of ``k``). The
baseline is the true value, so there is no ratio: ``make bench`` records the
figures in docs/benchmarks.md and docs/disclosure.md discusses them.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
QDIR = REPO / "questionnaires"
EPSILONS = (1.0, 10.0)


def _indicators(release: Any) -> dict[tuple[str, str], tuple[int | None, int | None, float | None]]:
    """(view, row) -> (count, denominator, percentage) of every 1-D percentage."""
    out = {}
    for v in release.views.values():
        if v.kind not in ("frequency", "score") or v.by is not None:
            continue
        for row in v.rows:
            if row.startswith("_"):
                continue
            f = v.cells[(row, "")]
            out[(v.id, row)] = (f.n, v.total.n, f.pct)
    return out


def _sensitivity(release: Any, one_d_only: bool = False) -> int:
    """How many published counts one person changes (cell and totals of each
    table); ``one_d_only``: a release of the 1-D tables alone."""
    kinds = ("frequency", "score") if one_d_only else ("frequency", "status", "crosstab", "score",
                                                       "score_status", "score_by")
    return sum(4 if v.by is not None else 2 for v in release.views.values() if v.kind in kinds)


def _measure(n: int, root: Path) -> list[dict[str, Any]]:
    import opendp.prelude as dp

    from analysis.disclosure import Protection
    from analysis.report import build_release
    from bench.bench_release import _sealed_dataset

    dp.enable_features("contrib")
    data = _sealed_dataset(root, n)
    truth = _indicators(build_release(data, [QDIR], protection=Protection(k=1, ptable=None, rules=False)))
    ckm_release = build_release(data, [QDIR])
    ckm = _indicators(ckm_release)
    delta = _sensitivity(ckm_release)
    delta_1d = _sensitivity(ckm_release, one_d_only=True)
    rows = []

    def summary(method: str, published: dict[tuple[str, str], float | None], notes: str) -> dict[str, Any]:
        errors = [abs(published[key] - truth[key][2]) for key in truth
                  if published.get(key) is not None and truth[key][2] is not None]
        missing = sum(1 for key in truth if published.get(key) is None) / len(truth)
        p95 = sorted(errors)[int(0.95 * (len(errors) - 1))]
        return {"benchmark": f"{method}, {n:,} responses", "measure": round(statistics.median(errors), 2),
                "unit": "pp", "baseline": None, "ratio": None, "goal": "median error of the key indicators",
                "met": None, "notes": f"95th percentile {p95:.2f} pp; {100 * missing:.1f} % of the {len(truth)} "
                                      f"indicators not published; {notes}"}

    rows.append(summary("cell key method", {key: value[2] for key, value in ckm.items()},
                        "noise at most 2, variance 1; < 11 hidden; the release the report publishes"))
    for eps, sens in [(e, delta) for e in EPSILONS] + [(EPSILONS[-1], delta_1d)]:
        laplace = dp.m.make_laplace(dp.atom_domain(T=int), dp.absolute_distance(T=int), scale=sens / eps)
        published: dict[tuple[str, str], float | None] = {}
        for key, (count, total, _) in truth.items():
            if count is None or not total:
                continue
            x, d = max(0, laplace(count)), max(0, laplace(total))
            published[key] = None if d < 11 else min(100.0, 100 * x / d)
        scope = "" if sens == delta else " (1-D tables only)"
        rows.append(summary(f"differential privacy, epsilon {eps:g}{scope}", published,
                            f"OpenDP discrete Laplace, scale {sens}/{eps:g} (one person changes {sens} "
                            f"counts of the release{scope}); denominators below 11 not published"))
    return rows


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Rows of utility per protection and size (``quick``: 200 and 1,000)."""
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-disclosure-") as tmp:
        for n in (200, 1_000) if quick else (200, 1_000, 5_000):
            rows += _measure(n, Path(tmp))
    return rows


def main() -> None:
    for r in run(quick="--quick" in sys.argv):
        print(json.dumps(r, ensure_ascii=False))


if __name__ == "__main__":
    main()
