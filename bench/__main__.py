"""Run every benchmark and append the results to docs/benchmarks.md.

    python -m bench            # full run (what `make bench` does)
    python -m bench --quick    # small sizes, for a smoke run
    python -m bench kiosk      # only the named benchmark modules
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

MODULES = ["sealing", "ingest", "report", "kiosk", "release", "disclosure", "dashboard"]
DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = """# Benchmarks

Every figure is measured against a baseline run in the same process run, on
the machine named in its section; `make bench` appends a new section. Goals
that are not met are stated as such, with the measured gap.
"""


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, {platform.system()} {platform.release()}"


def _versions() -> str:
    from importlib.metadata import version
    names = ["streamlit", "cryptography", "polars", "pandas", "babel"]
    parts = [f"Python {platform.python_version()}"]
    for n in names:
        try:
            parts.append(f"{n} {version(n)}")
        except Exception:
            parts.append(f"{n} not installed")
    return ", ".join(parts)


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        text = f"{value:.3g}" if abs(value) < 100 else f"{value:,.0f}"
    else:
        text = str(value)
    return f"{text} {unit}".strip()


def table(rows: list[dict[str, Any]]) -> str:
    """Markdown table of result rows."""
    lines = ["| benchmark | measured | baseline | ratio | goal | met | notes |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        ratio = f"{r['ratio']:.2f}×" if r.get("ratio") else "–"
        lines.append(f"| {r['benchmark']} | {_fmt(r.get('measure'), r.get('unit', ''))} | "
                     f"{_fmt(r.get('baseline'), r.get('unit', ''))} | {ratio} | {r.get('goal', '')} | "
                     f"{'–' if r.get('met') is None else 'yes' if r.get('met') else '**no**'} | "
                     f"{r.get('notes', '')} |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Run the benchmarks named in ``argv`` (all by default)."""
    quick = "--quick" in argv
    names = [a for a in argv if not a.startswith("-")] or MODULES
    sections = []
    started = time.monotonic()
    for name in names:
        try:
            module = importlib.import_module(f"bench.bench_{name}")
        except ModuleNotFoundError as exc:
            print(f"bench_{name}: not available ({exc})", file=sys.stderr)
            continue
        t = time.monotonic()
        print(f"running bench_{name}{' (quick)' if quick else ''} ...", flush=True)
        rows = module.run(quick=quick)
        print(table(rows), flush=True)
        sections.append((name, rows, time.monotonic() - t))
    total = time.monotonic() - started
    text = [f"\n## {dt.date.today().isoformat()}{' (quick run)' if quick else ''}\n",
            f"Machine: {_machine()}.  \nVersions: {_versions()}.  \nTotal time: {total / 60:.1f} min.\n"]
    for name, rows, secs in sections:
        text.append(f"\n### {name} ({secs:.0f} s)\n\n{table(rows)}\n")
    DOC.parent.mkdir(exist_ok=True)
    if not DOC.exists():
        DOC.write_text(HEADER, encoding="utf-8")
    with open(DOC, "a", encoding="utf-8") as fh:
        fh.write("".join(text))
    print(f"results appended to {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
