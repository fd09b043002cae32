"""Sealing cost on the kiosk: what a patient waits for after the last
answer (``KioskRuntime.submit``: body, canonical JSON, Ed25519 signature,
padding, HPKE seal, one durable SQLite commit) against the bare minimum in
the same run: a raw HPKE seal of a plaintext of the same size plus a
one-row INSERT committed in a bare SQLite table (WAL, synchronous=FULL).

    python -m bench.bench_sealing [--quick]
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import percentile, row


def _measure(suite: str, n: int, work: Path) -> dict[str, Any]:
    from bench.fault_kill import make_kiosk
    from kiosk.config import KioskRuntime, load_config
    from kiosk.flow import Respondent
    from surveycore.keys import hpke_suite
    from surveycore.envelope import INFO_PREFIX, bucket_size

    cfg, _keys = make_kiosk(work / suite, suite)
    rt = KioskRuntime(load_config(cfg))
    codes = ("1", "2", "3")
    respondents = []
    for i in range(n):
        r = Respondent(rt.survey, "fr")
        for code in codes[i % 3:] + codes[:i % 3]:
            r.answer(code)
        respondents.append(r)
    pub = rt.public_key
    hsuite = hpke_suite(pub.suite)
    plaintext = os.urandom(bucket_size(0, rt.pad_to))
    info = INFO_PREFIX + b"\0" * 14
    bare = sqlite3.connect(work / f"bare-{suite}.sqlite3", isolation_level=None)
    bare.execute("PRAGMA journal_mode=WAL")
    bare.execute("PRAGMA synchronous=FULL")
    bare.execute("CREATE TABLE t (v BLOB NOT NULL)")

    def baseline_one() -> None:
        sealed = hsuite.encrypt(plaintext, pub.key, info=info)
        bare.execute("BEGIN IMMEDIATE")
        bare.execute("INSERT INTO t VALUES (?)", (sealed,))
        bare.execute("COMMIT")

    ours, base = [], []
    block = 25
    # Interleaved blocks so both see the same disk and the same neighbours.
    for start in range(0, n, block):
        for r in respondents[start:start + block]:
            t = time.perf_counter()
            rt.submit(r)
            ours.append(time.perf_counter() - t)
        for _ in range(min(block, n - start)):
            t = time.perf_counter()
            baseline_one()
            base.append(time.perf_counter() - t)
    rt.outbox.close()
    bare.close()
    return {"ours": ours, "base": base}


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Per-response sealing + commit, both suites, against the bare minimum."""
    n = 300 if quick else 3000
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-sealing-") as tmp:
        for suite, label in (("mlkem768-x25519", "hybrid ML-KEM-768+X25519"), ("x25519", "classic X25519")):
            m = _measure(suite, n, Path(tmp))
            ours_us = sum(m["ours"]) / n * 1e6
            base_us = sum(m["base"]) / n * 1e6
            ratio = ours_us / base_us
            rows.append(row(
                f"seal + durable commit per response, {label} (µs)", ours_us, base_us, "≤ 3× baseline",
                ratio <= 3.0,
                f"KioskRuntime.submit vs raw HPKE seal of a same-size plaintext + one-row commit in a bare "
                f"WAL/synchronous=FULL SQLite table; {n} responses each, interleaved; p99 "
                f"{percentile(m['ours'], 99) * 1e3:.2f} ms vs {percentile(m['base'], 99) * 1e3:.2f} ms",
                unit="µs"))
    return rows


if __name__ == "__main__":
    for r in run(quick="--quick" in sys.argv[1:]):
        print(json.dumps(r, ensure_ascii=False))
