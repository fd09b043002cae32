"""The outbox: a write-only SQLite store of sealed envelopes.

WAL mode with ``synchronous=FULL`` makes each committed response durable; one
transaction per response; the table is ``WITHOUT ROWID`` keyed by the random
envelope id so storage order reveals no arrival order; ``secure_delete``
overwrites removed envelopes. The store never sees a plaintext answer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
import struct
from dataclasses import dataclass
from pathlib import Path

from kiosk.errors import EnvelopeError, StoreError

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id BLOB PRIMARY KEY,
    envelope BLOB NOT NULL,
    exported INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
"""

BUNDLE_MAGIC = b"HKBUNDLE"
BUNDLE_VERSION = 1


class Outbox:
    """Durable, append-mostly store of envelopes on the kiosk."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, one per response.
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                      timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA secure_delete=ON")
            self.db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the outbox {str(self.path)!r}: {exc}", code="S-011") from None

    def close(self) -> None:
        """Close the database connection."""
        self.db.close()

    def put(self, envelope_id: str, envelope: bytes) -> None:
        """Store one envelope in its own durable transaction. Returns only
        after the commit: the patient is thanked after this call."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("INSERT INTO outbox (id, envelope) VALUES (?, ?)",
                            (bytes.fromhex(envelope_id), envelope))
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            try:
                self.db.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            raise StoreError(f"could not store the response: {exc}", code="S-012") from None

    def count(self) -> int:
        """Number of envelopes held (not yet confirmed as ingested)."""
        return int(self.db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def pending(self) -> list[tuple[bytes, bytes]]:
        """All envelopes held, in key order (random, not arrival order)."""
        return [(bytes(r[0]), bytes(r[1])) for r in
                self.db.execute("SELECT id, envelope FROM outbox ORDER BY id")]

    def mark_exported(self, ids: list[bytes], when: dt.date | None = None) -> None:
        """Record that these envelopes went into a bundle (they stay stored)."""
        day = (when or dt.date.today()).isoformat()
        try:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany("UPDATE outbox SET exported = exported + 1 WHERE id = ?",
                                [(i,) for i in ids])
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('last_export', ?)", (day,))
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            self.db.execute("ROLLBACK")
            raise StoreError(f"could not record the export: {exc}", code="S-013") from None

    def confirm(self, ids: list[bytes]) -> int:
        """Delete envelopes the analysts confirmed as ingested; return how many."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
            cur = self.db.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in ids])
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            self.db.execute("ROLLBACK")
            raise StoreError(f"could not remove confirmed envelopes: {exc}", code="S-014") from None
        return cur.rowcount

    def meta(self, key: str) -> str | None:
        """A staff-visible setting such as the date of the last export."""
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Store a staff-visible setting."""
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def integrity_ok(self) -> bool:
        """``PRAGMA integrity_check`` passes."""
        return self.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# ------------------------------------------------------------------ bundles

@dataclass(frozen=True)
class Bundle:
    """Envelopes carried from a kiosk to the analysts."""

    envelopes: list[bytes]


def write_bundle(path: str | Path, envelopes: list[bytes]) -> None:
    """Write a bundle: magic, version, count, length-prefixed envelopes, then
    a SHA-256 of everything before it. Written to a temporary name then
    renamed, so a half-written bundle never looks complete."""
    p = Path(path)
    parts = [BUNDLE_MAGIC, struct.pack(">BI", BUNDLE_VERSION, len(envelopes))]
    for env in envelopes:
        parts.append(struct.pack(">I", len(env)))
        parts.append(env)
    payload = b"".join(parts)
    tmp = p.with_name(p.name + ".part")
    with open(tmp, "wb") as fh:
        fh.write(payload + hashlib.sha256(payload).digest())
        fh.flush()
        import os
        os.fsync(fh.fileno())
    tmp.replace(p)


def read_bundle(path: str | Path) -> Bundle:
    """Read and verify a bundle; raise :class:`EnvelopeError` naming the file
    and the problem when it is truncated or damaged."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise EnvelopeError(f"bundle {str(p)!r} not found", code="BND-001") from None
    if len(data) < len(BUNDLE_MAGIC) + 5 + 32 or data[:len(BUNDLE_MAGIC)] != BUNDLE_MAGIC:
        raise EnvelopeError(f"{str(p)!r} is not a kiosk bundle (bad magic or too short)", code="BND-002")
    payload, digest = data[:-32], data[-32:]
    if hashlib.sha256(payload).digest() != digest:
        raise EnvelopeError(f"bundle {str(p)!r} is truncated or damaged (checksum mismatch); export it "
                            "again from the kiosk: nothing was removed there", code="BND-003")
    off = len(BUNDLE_MAGIC)
    version, count = struct.unpack(">BI", payload[off:off + 5])
    if version != BUNDLE_VERSION:
        raise EnvelopeError(f"bundle {str(p)!r} has version {version}; expected {BUNDLE_VERSION}",
                            code="BND-004")
    off += 5
    envelopes = []
    for _ in range(count):
        if off + 4 > len(payload):
            raise EnvelopeError(f"bundle {str(p)!r} ends early", code="BND-005")
        (n,) = struct.unpack(">I", payload[off:off + 4])
        off += 4
        envelopes.append(payload[off:off + n])
        off += n
    if off != len(payload):
        raise EnvelopeError(f"bundle {str(p)!r} has trailing bytes", code="BND-005")
    return Bundle(envelopes)
