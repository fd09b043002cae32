"""The ledger: hashed envelope ids, runs and outcomes in ``ledger.sqlite3``
(what makes a re-ingest a no-op), recovery of a run cut short, and the
lock that keeps one ingest at a time on a dataset.
"""

from __future__ import annotations

import fcntl
import hashlib
import sqlite3
from pathlib import Path

from surveycore.errors import EnvelopeError
from analysis.ingest.dataset import STAGED


_LEDGER_SCHEMA = """
CREATE TABLE IF NOT EXISTS ingested (id_hash BLOB PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs (n INTEGER PRIMARY KEY, bundles TEXT, ingested INTEGER,
    duplicates INTEGER, quarantined INTEGER);
CREATE TABLE IF NOT EXISTS outcomes (run INTEGER NOT NULL, bundle TEXT NOT NULL, idx INTEGER NOT NULL,
    code TEXT NOT NULL, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bundles (sha256 TEXT NOT NULL, run INTEGER NOT NULL, name TEXT NOT NULL,
    envelopes INTEGER NOT NULL, PRIMARY KEY (sha256, run)) WITHOUT ROWID;
"""


_LEDGER_COLUMNS = {"ingested": {"body_hash": "BLOB", "run": "INTEGER"},
                   "runs": {"day": "TEXT", "part": "TEXT", "state": "TEXT", "workers": "INTEGER"}}


def _ledger(data_dir: Path) -> sqlite3.Connection:
    db = sqlite3.connect(data_dir / "ledger.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(_LEDGER_SCHEMA)
    for table, columns in _LEDGER_COLUMNS.items():  # ledgers of earlier versions gain the new columns
        have = {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
        for name, kind in columns.items():
            if name not in have:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
    return db


def _id_hash(envelope_id: str) -> bytes:
    # Hashed so the ledger does not keep the ids the kiosks' outboxes used.
    return hashlib.sha256(b"health-kiosk/ledger/" + envelope_id.encode()).digest()


def _recover(data: Path, ledger: sqlite3.Connection) -> None:
    """Finish or undo a run a crash interrupted (see the module docstring)."""
    committed = {r[0] for r in ledger.execute("SELECT part FROM runs WHERE state = 'staged'")}
    for staged in sorted(data.glob(f"responses/*{STAGED}")) + sorted(data.glob(f"answers/*/*/*{STAGED}")):
        # part-<uuid>.parquet, or part-<uuid>-0001.parquet for a run's next parts
        part = staged.name.removeprefix("part-").removesuffix(".parquet" + STAGED).split("-")[0]
        if part in committed:
            staged.replace(staged.with_name(staged.name.removesuffix(STAGED)))
        else:
            staged.unlink()
    if committed:
        ledger.execute("UPDATE runs SET state = 'done' WHERE state = 'staged'")


class _DataLock:
    """An exclusive lock on the dataset for the length of one ingest."""

    def __init__(self, data: Path) -> None:
        self.fh = open(data / ".ingest.lock", "a+b")
        try:
            fcntl.flock(self.fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.fh.close()
            raise EnvelopeError(f"another ingest is running on {str(data)!r}; wait for it to finish",
                                code="ING-040") from None

    def release(self) -> None:
        fcntl.flock(self.fh.fileno(), fcntl.LOCK_UN)
        self.fh.close()
