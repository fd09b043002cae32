"""The outbox: a write-only SQLite store of sealed envelopes, and the bundle
and receipt files that carry envelopes to the analysts and back.

WAL mode with ``synchronous=FULL`` makes each committed response durable; one
transaction per response; the table is ``WITHOUT ROWID`` keyed by the random
envelope id so storage order reveals no arrival order; ``secure_delete``
overwrites removed envelopes. The store never sees a plaintext answer.

An envelope leaves the outbox only through :meth:`Outbox.confirm`, with the
ids of a receipt written by ``analysis ingest`` once the envelopes are safe in
the team's dataset; export alone never removes anything. Formats are in
``docs/envelope.md``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import sqlite3
import stat
import struct
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.errors import ConfigError, EnvelopeError, StoreError

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
CREATE TABLE IF NOT EXISTS definition_files (
    sha256 TEXT PRIMARY KEY,
    body BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS surveys_run (
    hash TEXT PRIMARY KEY,
    manifest BLOB NOT NULL
) WITHOUT ROWID;
"""

PAGE_SIZE = 65536
BUNDLE_MAGIC = b"HKBUNDLE"
# Version 2 carries the signed questionnaire definitions; version 1 (no
# definitions) is still read.
BUNDLE_VERSION = 2
BUNDLE_VERSION_LEGACY = 1
BUNDLE_DIGEST_LEN = 32
# No envelope comes near this; a larger length field means a damaged bundle.
MAX_ENVELOPE_LEN = 1 << 20
# What one bundle may cost the analysts' machine: a kiosk exporting weekly
# stays orders of magnitude below; a larger file is refused whole (BND-007)
# before it is read.
MAX_BUNDLE_ENVELOPES = 200_000
MAX_BUNDLE_BYTES = 1 << 30
MAX_DEFINITIONS_LEN = 16 << 20
RECEIPT_KIND = "health-kiosk-receipt"
RECEIPT_VERSION = 1
_ENVELOPE_ID_RE = re.compile(r"[0-9a-f]{32}")

# SQLite primary result codes (the low byte of ``sqlite_errorcode``).
_SQLITE_READONLY = 8
_SQLITE_IOERR = 10
_SQLITE_FULL = 13
_SQLITE_CANTOPEN = 14


def _store_error(action: str, exc: sqlite3.Error, default_code: str) -> StoreError:
    """A coded :class:`StoreError` for an SQLite failure: the staff area and
    the logs can tell a full disk from a read-only one from anything else."""
    primary = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
    if primary == _SQLITE_FULL:
        return StoreError(f"{action}: the kiosk's disk is full; free space or export and confirm "
                          "stored responses (nothing already stored was lost)", code="S-016")
    if primary in (_SQLITE_READONLY, _SQLITE_CANTOPEN):
        return StoreError(f"{action}: the outbox cannot be written (read-only file, folder or disk); "
                          "check the data folder's permissions (nothing already stored was lost)",
                          code="S-017")
    if primary == _SQLITE_IOERR:
        return StoreError(f"{action}: the disk reported a write error ({exc}); nothing already "
                          "stored was lost, but check the storage", code="S-018")
    return StoreError(f"{action}: {exc}", code=default_code)


@dataclass(frozen=True)
class ConfirmOutcome:
    """What :meth:`Outbox.confirm_ids` did with the ids of a receipt."""

    removed: int
    unknown: int          # not on this kiosk: removed earlier, or another kiosk's
    not_exported: int     # on this kiosk but never exported: kept


class Outbox:
    """Durable, append-mostly store of envelopes on the kiosk.

    One connection is shared by every Streamlit session of the kiosk, so
    every transaction runs under a lock: SQLite connections are not meant to
    interleave transactions from several threads.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, one per response.
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                      timeout=30)
            # Large pages keep each envelope inside its B-tree leaf: overflow
            # pages would be allocated one after the other in arrival order,
            # and the file would tell which response came when. (Only takes
            # effect on a new file, before WAL mode.)
            self.db.execute(f"PRAGMA page_size={PAGE_SIZE}")
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA secure_delete=ON")
            self.db.executescript(SCHEMA)
        except OSError as exc:
            raise StoreError(f"cannot open the outbox {str(self.path)!r}: {exc.strerror}",
                             code="S-011") from None
        except sqlite3.Error as exc:
            raise _store_error(f"cannot open the outbox {str(self.path)!r}", exc, "S-011") from None

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self.db.close()

    def _rollback(self) -> None:
        # After SQLITE_FULL or an I/O error SQLite may already have rolled
        # back; a second ROLLBACK then fails harmlessly.
        try:
            self.db.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    def put(self, envelope_id: str, envelope: bytes) -> None:
        """Store one envelope in its own durable transaction. Returns only
        after the commit: the patient is thanked after this call. On any
        failure nothing is written and a coded :class:`StoreError` is raised
        (S-016 disk full, S-017 read-only, S-018 I/O error, S-012 other)."""
        try:
            key = bytes.fromhex(envelope_id)
        except ValueError:
            raise StoreError(f"envelope id {envelope_id!r} is not hexadecimal", code="S-019") from None
        with self._lock:
            try:
                self.db.execute("BEGIN IMMEDIATE")
                self.db.execute("INSERT INTO outbox (id, envelope) VALUES (?, ?)", (key, envelope))
                self.db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise _store_error("could not store the response", exc, "S-012") from None

    def count(self) -> int:
        """Number of envelopes held (not yet confirmed as ingested)."""
        with self._lock:
            return int(self.db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def pending(self) -> list[tuple[bytes, bytes]]:
        """All envelopes held, in key order (random, not arrival order)."""
        with self._lock:
            return [(bytes(r[0]), bytes(r[1])) for r in
                    self.db.execute("SELECT id, envelope FROM outbox ORDER BY id")]

    def ids(self) -> set[bytes]:
        """The ids of every envelope held."""
        with self._lock:
            return {bytes(r[0]) for r in self.db.execute("SELECT id FROM outbox")}

    def mark_exported(self, ids: list[bytes], when: dt.date | None = None) -> None:
        """Record that these envelopes went into a bundle (they stay stored)."""
        day = (when or dt.date.today()).isoformat()
        with self._lock:
            try:
                self.db.execute("BEGIN IMMEDIATE")
                self.db.executemany("UPDATE outbox SET exported = exported + 1 WHERE id = ?",
                                    [(i,) for i in ids])
                self.db.execute("INSERT OR REPLACE INTO meta VALUES ('last_export', ?)", (day,))
                self.db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise _store_error("could not record the export", exc, "S-013") from None

    def export_bundle(self, path: str | Path, when: dt.date | None = None,
                      definitions: bytes | None = None) -> int:
        """Write every envelope held to a bundle file (with the signed
        ``definitions`` block, see :mod:`kiosk.definitions`), then record the
        export; return how many. Nothing is removed: that waits for a receipt."""
        # No lock around the file write: responses submitted meanwhile are
        # simply not in this bundle and not marked.
        pending = self.pending()
        write_bundle(path, [env for _, env in pending], definitions)
        self.mark_exported([i for i, _ in pending], when)
        self.reshuffle()
        return len(pending)

    def reshuffle(self) -> None:
        """Rewrite the file in key order (random ids), so that where an
        envelope lies in the file no longer reflects when it arrived; then
        fold the write-ahead log into it. Run after each export and confirm."""
        with self._lock:
            try:
                self.db.execute("VACUUM")
                self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:
                # A failed reshuffle leaves the data as it was: report, keep going.
                raise _store_error("could not reorder the outbox", exc, "S-021") from None

    def confirm_ids(self, ids: list[bytes]) -> ConfirmOutcome:
        """Delete the envelopes whose ids a receipt lists, in one transaction.

        Only envelopes that were exported are removed (an envelope that never
        left this kiosk cannot have been ingested); ids this kiosk does not
        hold are counted and ignored. Running it again removes nothing more.
        """
        wanted = sorted(set(ids))
        with self._lock:
            try:
                self.db.execute("BEGIN IMMEDIATE")
                removed = not_exported = 0
                for i in wanted:
                    row = self.db.execute("SELECT exported FROM outbox WHERE id = ?", (i,)).fetchone()
                    if row is None:
                        continue
                    if row[0] == 0:
                        not_exported += 1
                        continue
                    removed += self.db.execute("DELETE FROM outbox WHERE id = ?", (i,)).rowcount
                self.db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise _store_error("could not remove confirmed envelopes", exc, "S-014") from None
        if removed:
            self.reshuffle()
        return ConfirmOutcome(removed, len(wanted) - removed - not_exported, not_exported)

    def confirm(self, ids: list[bytes]) -> int:
        """Delete exported envelopes the analysts confirmed; return how many."""
        return self.confirm_ids(ids).removed

    def meta(self, key: str) -> str | None:
        """A staff-visible setting such as the date of the last export."""
        with self._lock:
            row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Store a staff-visible setting."""
        with self._lock:
            try:
                self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
            except sqlite3.Error as exc:
                raise _store_error("could not save a setting", exc, "S-012") from None

    def integrity_ok(self) -> bool:
        """``PRAGMA integrity_check`` passes."""
        with self._lock:
            return self.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    # Questionnaire definitions this kiosk has run (public texts, never
    # patient data), kept for every bundle to describe itself.
    def record_survey(self, manifest: dict, files: dict[str, bytes]) -> None:
        """Keep a survey's manifest and file bytes (no-op when known)."""
        with self._lock:
            try:
                self.db.execute("BEGIN IMMEDIATE")
                # Compressed: smaller on a small disk, and the outbox file then
                # holds no questionnaire wording in clear, so a scan of the
                # kiosk's disk for answer labels stays meaningful.
                self.db.executemany("INSERT OR IGNORE INTO definition_files VALUES (?, ?)",
                                    [(sha, zlib.compress(blob, 9)) for sha, blob in files.items()])
                self.db.execute("INSERT OR IGNORE INTO surveys_run VALUES (?, ?)",
                                (manifest["hash"], zlib.compress(json.dumps(manifest, sort_keys=True).encode())))
                self.db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise _store_error("could not record the survey definitions", exc, "S-022") from None

    def surveys_run(self) -> list[dict]:
        """Manifests of every survey this kiosk has run."""
        with self._lock:
            return [json.loads(zlib.decompress(bytes(r[0])))
                    for r in self.db.execute("SELECT manifest FROM surveys_run ORDER BY hash")]

    def definition_files(self) -> dict[str, bytes]:
        """Recorded definition files by SHA-256."""
        with self._lock:
            return {str(r[0]): zlib.decompress(bytes(r[1]))
                    for r in self.db.execute("SELECT sha256, body FROM definition_files")}


# ------------------------------------------------------------------ bundles

@dataclass(frozen=True)
class Bundle:
    """Envelopes carried from a kiosk to the analysts."""

    envelopes: list[bytes]
    sha256: str = ""  # hex checksum stored at the end of the file
    # Version 2: the signed block of the questionnaire definitions the
    # envelopes were answered with (kiosk.definitions); empty in version 1.
    definitions: bytes = b""
    version: int = BUNDLE_VERSION_LEGACY


def bundle_bytes(envelopes: list[bytes], definitions: bytes | None = None) -> bytes:
    """The bytes of a bundle: magic, version, (version 2: the definitions
    block,) count, length-prefixed envelopes, then a SHA-256 of everything
    before it. Without ``definitions`` a version 1 bundle is written."""
    if definitions is None:
        parts = [BUNDLE_MAGIC, struct.pack(">BI", BUNDLE_VERSION_LEGACY, len(envelopes))]
    else:
        parts = [BUNDLE_MAGIC, struct.pack(">BI", BUNDLE_VERSION, len(definitions)), definitions,
                 struct.pack(">I", len(envelopes))]
    for env in envelopes:
        parts.append(struct.pack(">I", len(env)))
        parts.append(env)
    payload = b"".join(parts)
    return payload + hashlib.sha256(payload).digest()


def write_bundle(path: str | Path, envelopes: list[bytes], definitions: bytes | None = None) -> None:
    """Write a bundle durably (with its signed ``definitions`` block, see
    :func:`kiosk.definitions.block_of`). It is written to a temporary name,
    flushed to disk, then renamed, so a half-written bundle never looks
    complete."""
    p = Path(path)
    tmp = p.with_name(p.name + ".part")
    try:
        with open(tmp, "wb") as fh:
            fh.write(bundle_bytes(envelopes, definitions))
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(p)
        dir_fd = os.open(p.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"cannot write the bundle {str(p)!r}: {exc.strerror}; nothing was removed "
                         "from the kiosk", code="S-020") from None


def display_name(path: str | Path) -> str:
    """A bundle's path as printable text: bytes that are not UTF-8 in a file
    name (kept by Python as surrogates) are shown as U+FFFD instead of
    failing when printed or stored."""
    return os.fsencode(str(path)).decode("utf-8", "replace")


def bundle_count(path: str | Path) -> int:
    """The envelope count a bundle's header announces, read without the rest
    of the file (0 when it is unreadable or not a bundle: :func:`read_bundle`
    then says why)."""
    head = len(BUNDLE_MAGIC) + 5
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return 0
        with open(path, "rb") as fh:
            data = fh.read(head)
            if len(data) < head or data[:len(BUNDLE_MAGIC)] != BUNDLE_MAGIC:
                return 0
            version, value = struct.unpack(">BI", data[len(BUNDLE_MAGIC):head])
            if version == BUNDLE_VERSION:
                fh.seek(head + value)
                more = fh.read(4)
                return int(struct.unpack(">I", more)[0]) if len(more) == 4 else 0
            return int(value)
    except (OSError, ValueError):
        return 0


class _Reader:
    """Reads a bundle file in pieces, hashing what it reads."""

    def __init__(self, fh: Any, size: int) -> None:
        self.fh, self.size, self.off = fh, size, 0
        self.digest = hashlib.sha256()

    def take(self, n: int) -> bytes:
        data = self.fh.read(n)
        self.digest.update(data)
        self.off += len(data)
        return data


def check_bundle_file(path: str | Path) -> None:
    """Refuse, before any work (and before a passphrase is asked), a bundle
    path that is missing (BND-001), a folder (BND-002), not a regular file
    (BND-008), too large (BND-007) or unreadable (BND-009)."""
    p = Path(path)
    shown = display_name(p)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise EnvelopeError(f"bundle {shown!r} not found", code="BND-001") from None
    except OSError as exc:
        raise EnvelopeError(f"bundle {shown!r} cannot be read ({exc.strerror})", code="BND-009") from None
    if stat.S_ISDIR(st.st_mode):
        raise EnvelopeError(f"{shown!r} is a folder, not a bundle", code="BND-002")
    if not stat.S_ISREG(st.st_mode):
        # A pipe or a device would block or never end: only files are bundles.
        raise EnvelopeError(f"{shown!r} is not a regular file (a pipe, socket or device); copy the bundle "
                            "to a file first", code="BND-008")
    if st.st_size > MAX_BUNDLE_BYTES:
        raise EnvelopeError(f"bundle {shown!r} is {st.st_size:,} bytes, more than one bundle may hold "
                            f"({MAX_BUNDLE_BYTES:,}); export more often so each bundle is smaller",
                            code="BND-007")
    try:
        with open(p, "rb"):
            pass
    except OSError as exc:
        raise EnvelopeError(f"bundle {shown!r} cannot be read ({exc.strerror})", code="BND-009") from None


def read_bundle(path: str | Path) -> Bundle:
    """Read and verify a bundle, reading the file in pieces and within the
    limits of :data:`MAX_BUNDLE_BYTES` and :data:`MAX_BUNDLE_ENVELOPES`;
    raise :class:`EnvelopeError` naming the file and the problem: missing
    (BND-001), not a bundle (BND-002), damaged (BND-003), unknown version
    (BND-004), malformed (BND-005), truncated (BND-006), beyond the limits
    (BND-007), not a regular file (BND-008), unreadable (BND-009), bad
    definitions (BND-010, BND-011)."""
    p = Path(path)
    shown = display_name(p)
    check_bundle_file(p)
    try:
        with open(p, "rb") as fh:
            return _read_bundle(_Reader(fh, os.fstat(fh.fileno()).st_size), shown)
    except OSError as exc:
        raise EnvelopeError(f"bundle {shown!r} cannot be read ({exc.strerror})", code="BND-009") from None


def _read_bundle(r: _Reader, shown: str) -> Bundle:
    again = "export it again from the kiosk: nothing was removed there"
    head = len(BUNDLE_MAGIC) + 5
    data = r.take(head)
    if data[:len(BUNDLE_MAGIC)] != BUNDLE_MAGIC:
        raise EnvelopeError(f"{shown!r} is not a kiosk bundle (bad magic bytes)", code="BND-002")
    if len(data) < head:
        raise EnvelopeError(f"bundle {shown!r} is truncated (ends inside its header); {again}", code="BND-006")
    version, value = struct.unpack(">BI", data[len(BUNDLE_MAGIC):head])
    if version not in (BUNDLE_VERSION_LEGACY, BUNDLE_VERSION):
        raise EnvelopeError(f"bundle {shown!r} has version {version}; expected {BUNDLE_VERSION} (or "
                            f"{BUNDLE_VERSION_LEGACY})", code="BND-004")
    definitions = b""
    count = value
    if version == BUNDLE_VERSION:
        if value > MAX_DEFINITIONS_LEN:
            raise EnvelopeError(f"bundle {shown!r} is damaged (its definitions claim {value} bytes); {again}",
                                code="BND-003")
        definitions = r.take(value)
        more = r.take(4)
        if len(definitions) < value or len(more) < 4:
            raise EnvelopeError(f"bundle {shown!r} is truncated (ends inside its definitions); {again}",
                                code="BND-006")
        (count,) = struct.unpack(">I", more)
    if count > MAX_BUNDLE_ENVELOPES:
        raise EnvelopeError(f"bundle {shown!r} announces {count:,} envelopes, more than one bundle may hold "
                            f"({MAX_BUNDLE_ENVELOPES:,}); export more often so each bundle is smaller",
                            code="BND-007")
    # Walk the structure first so a short file is reported as truncated,
    # then check the digest, which catches any other change.
    envelopes: list[bytes] = []
    for k in range(count):
        raw = r.take(4)
        if len(raw) < 4:
            raise EnvelopeError(f"bundle {shown!r} is truncated (ends before envelope {k + 1} of "
                                f"{count}); {again}", code="BND-006")
        (n,) = struct.unpack(">I", raw)
        if n > MAX_ENVELOPE_LEN:
            raise EnvelopeError(f"bundle {shown!r} is damaged (envelope {k + 1} of {count} claims "
                                f"{n} bytes); {again}", code="BND-003")
        env = r.take(n)
        if len(env) < n:
            raise EnvelopeError(f"bundle {shown!r} is truncated (ends inside envelope {k + 1} of "
                                f"{count}); {again}", code="BND-006")
        envelopes.append(env)
    digest = r.digest.digest()
    stored = r.fh.read(BUNDLE_DIGEST_LEN)
    if len(stored) < BUNDLE_DIGEST_LEN:
        raise EnvelopeError(f"bundle {shown!r} is truncated (checksum missing); {again}", code="BND-006")
    if stored != digest:
        raise EnvelopeError(f"bundle {shown!r} is damaged (checksum mismatch); {again}", code="BND-003")
    trailing = r.size - r.off - BUNDLE_DIGEST_LEN
    if trailing > 0 or r.fh.read(1):
        raise EnvelopeError(f"bundle {shown!r} has {max(trailing, 1)} trailing byte(s) after its checksum; "
                            f"{again}", code="BND-005")
    return Bundle(envelopes, digest.hex(), definitions, version)


# ------------------------------------------------------------------ receipts

def receipt_json(envelope_ids: list[str]) -> str:
    """A receipt: the ids of envelopes the analysts hold safely (ingested now
    or earlier), sorted, so the kiosk may delete them."""
    ids = sorted(set(envelope_ids))
    for i in ids:
        if not _ENVELOPE_ID_RE.fullmatch(i):
            raise ValueError(f"not an envelope id: {i!r}")
    return json.dumps({"kind": RECEIPT_KIND, "version": RECEIPT_VERSION, "count": len(ids),
                       "envelopes": ids}, indent=1) + "\n"


def read_receipt(path: str | Path) -> list[bytes]:
    """The envelope ids of a receipt, all checked before anything is used:
    a damaged receipt removes nothing (CFG-020 missing, CFG-021 not a
    receipt or damaged)."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"receipt {str(p)!r} not found", code="CFG-020") from None
    except (ValueError, UnicodeDecodeError, IsADirectoryError):
        data = None
    bad = ConfigError(f"{str(p)!r} is not an ingest receipt (made by 'analysis ingest'); nothing was "
                      "removed", code="CFG-021")
    if not isinstance(data, dict) or data.get("kind") != RECEIPT_KIND:
        raise bad
    if data.get("version") != RECEIPT_VERSION:
        raise ConfigError(f"receipt {str(p)!r} has version {data.get('version')!r}; expected "
                          f"{RECEIPT_VERSION}; nothing was removed", code="CFG-022")
    ids = data.get("envelopes")
    if not isinstance(ids, list) or not all(isinstance(i, str) and _ENVELOPE_ID_RE.fullmatch(i) for i in ids):
        raise bad
    if "count" in data and data["count"] != len(ids):
        raise ConfigError(f"receipt {str(p)!r} is damaged (lists {len(ids)} envelope(s), says "
                          f"{data['count']}); nothing was removed", code="CFG-023")
    return [bytes.fromhex(i) for i in ids]
