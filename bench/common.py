"""Helpers shared by the benchmarks: timing, percentiles, memory, rows."""

from __future__ import annotations

import os
import statistics
import time
from typing import Any, Callable


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation."""
    if not values:
        return float("nan")
    data = sorted(values)
    k = (len(data) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def best_of(fn: Callable[[], Any], repeat: int = 3) -> float:
    """Best wall time of ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def rss_mb(pid: int | None = None) -> float:
    """Resident memory of a process in MB (from /proc)."""
    with open(f"/proc/{pid or os.getpid()}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb(pid: int | None = None) -> float:
    """Peak resident memory (VmHWM) of a process in MB."""
    with open(f"/proc/{pid or os.getpid()}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def row(benchmark: str, measure: float, baseline: float | None, goal: str, met: bool,
        notes: str = "", unit: str = "") -> dict[str, Any]:
    """One result row; ``ratio`` is measure / baseline when there is one."""
    ratio = measure / baseline if baseline else None
    return {"benchmark": benchmark, "measure": measure, "baseline": baseline, "ratio": ratio,
            "goal": goal, "met": met, "notes": notes, "unit": unit}


def median(values: list[float]) -> float:
    """Median of a list."""
    return statistics.median(values)
