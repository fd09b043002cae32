"""Append-only JSON-lines logs that survive a kill: each batch of lines is
appended with one write after any torn last line has been closed, and the
reader skips (and counts) lines a kill left incomplete. Used for
``DATA/quarantine.jsonl``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def append_lines(path: str | Path, entries: list[dict[str, Any]]) -> None:
    """Append ``entries`` as JSON lines in one ``write`` and flush them to
    disk. A last line left without its newline by an earlier kill is ended
    first, so the torn line stays on its own and the new ones stay whole."""
    if not entries:
        return
    data = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries).encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        if size:
            with open(path, "rb") as fh:
                fh.seek(size - 1)
                if fh.read(1) != b"\n":
                    data = b"\n" + data
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def read_lines(path: str | Path) -> tuple[list[dict[str, Any]], int]:
    """Every whole entry of a JSON-lines log, and how many lines were torn
    or damaged (skipped). A missing file is an empty log."""
    entries: list[dict[str, Any]] = []
    damaged = 0
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        return entries, 0
    with fh:
        for raw in fh:
            if not raw.strip():
                continue
            try:
                entry = json.loads(raw.decode("utf-8"))
            except (ValueError, UnicodeDecodeError, RecursionError):
                damaged += 1
                continue
            if isinstance(entry, dict):
                entries.append(entry)
            else:
                damaged += 1
    return entries, damaged
