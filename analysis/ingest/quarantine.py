"""The quarantine: rejected envelopes kept as files with one coded reason
each (``quarantine/``), and envelopes retried from it.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from analysis.jsonlog import append_lines, read_lines
from analysis.ingest.outcome import IngestResult, QUARANTINE_DETAIL_MAX


RETRY_NAME = "<quarantine>"


def _size(path: str | Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def quarantined_envelopes(data_dir: str | Path) -> list[bytes]:
    """The envelopes kept in ``DATA/quarantine/`` (by content hash)."""
    return [f.read_bytes() for f in sorted((Path(data_dir) / "quarantine").glob("*.env"))]


def hold_definitions(data: Path, blocks: list[bytes]) -> None:
    """Keep the definitions blocks of bundles signed by a kiosk not trusted
    yet (``DATA/quarantine/<sha256>.defs``): its envelopes are quarantined
    (ENV-023), and once it is trusted ``--retry-quarantine`` reads them with
    the definitions they were answered with. Public texts, not patient data."""
    if not blocks:
        return
    qdir = data / "quarantine"
    qdir.mkdir(exist_ok=True)
    for block in blocks:
        target = qdir / f"{hashlib.sha256(block).hexdigest()}.defs"
        if not target.exists():
            tmp = target.with_name(target.name + ".tmp")
            tmp.write_bytes(block)
            tmp.replace(target)


def held_definitions(data_dir: str | Path) -> list[Path]:
    """The definitions blocks :func:`hold_definitions` kept."""
    return sorted((Path(data_dir) / "quarantine").glob("*.defs"))


def _settle_quarantine(data: Path, envelopes: list[bytes], result: IngestResult) -> None:
    """After a retry: retried ``envelopes`` that did not fail again leave the
    quarantine (file and log lines); those that failed again keep one log
    line, the latest."""
    retried = {hashlib.sha256(env).hexdigest(): i for i, env in enumerate(envelopes)}
    failed_again = {i for name, i, _ in result.quarantined if name == RETRY_NAME}
    resolved = {h for h, i in retried.items() if i not in failed_again}
    for h in resolved:
        (data / "quarantine" / f"{h}.env").unlink(missing_ok=True)
    log = data / "quarantine.jsonl"
    if not log.exists():
        return
    lines, _torn = read_lines(log)  # a line torn by a kill is dropped here, not fatal
    latest: dict[str, int] = {e["sha256"]: k for k, e in enumerate(lines) if "sha256" in e}
    keep = [e for k, e in enumerate(lines) if "sha256" not in e or
            (e["sha256"] not in resolved and latest[e["sha256"]] == k)]
    result.resolved = len(resolved)
    tmp = log.with_name(log.name + ".tmp")
    tmp.write_text("".join(json.dumps(e) + "\n" for e in keep), encoding="utf-8")
    tmp.replace(log)


def _bounded(outcomes: list[tuple[str, int, str, str]]) -> list[tuple[str, int, str, str]]:
    """The first :data:`QUARANTINE_DETAIL_MAX` outcomes one by one, then one
    row per code counting the rest (bundle ``*``, index -2)."""
    head = outcomes[:QUARANTINE_DETAIL_MAX]
    rest = collections.Counter(code for _, _, code, _ in outcomes[QUARANTINE_DETAIL_MAX:])
    return head + [("*", -2, code, f"[{code}] {n} more envelope(s) of this run with this reason, not kept one "
                                   "by one") for code, n in sorted(rest.items())]


def _write_quarantine(data: Path, run: int, quarantine: list[tuple[str, int, str, str, bytes | None]]) -> None:
    """Keep each rejected envelope (by content hash) and log why; beyond
    :data:`QUARANTINE_DETAIL_MAX`, one line per reason code."""
    if not quarantine:
        return
    qdir = data / "quarantine"
    qdir.mkdir(exist_ok=True)
    entries: list[dict[str, Any]] = []
    for name, index, code, reason, env in quarantine[:QUARANTINE_DETAIL_MAX]:
        entry: dict[str, Any] = {"run": run, "bundle": name, "index": index, "code": code, "reason": reason}
        if env is not None:
            digest = hashlib.sha256(env).hexdigest()
            target = qdir / f"{digest}.env"
            if not target.exists():
                target.write_bytes(env)
            entry["sha256"] = digest
        entries.append(entry)
    rest = collections.Counter(code for _, _, code, _, _ in quarantine[QUARANTINE_DETAIL_MAX:])
    for code, n in sorted(rest.items()):
        entries.append({"run": run, "bundle": "*", "index": -2, "code": code, "count": n,
                        "reason": f"[{code}] {n} more envelope(s) of this run with this reason, not kept: "
                                  "they stay on their kiosk and come back in its next bundle"})
    # One append after a torn last line is closed: a kill never merges lines.
    append_lines(data / "quarantine.jsonl", entries)
