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

import base64
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
from typing import Any, Iterator

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from kiosk.errors import ConfigError, EnvelopeError, StoreError
from kiosk.keys import TeamPublicKey, fingerprint

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
CREATE TABLE IF NOT EXISTS exported (
    id BLOB PRIMARY KEY
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
# The write-ahead log is folded into the database after this many pages
# (256 KiB) and cut back to this size afterwards: SQLite's default (1,000
# pages = 64 MiB with these pages) filled a small disk before the first
# checkpoint.
WAL_AUTOCHECKPOINT_PAGES = 4
JOURNAL_SIZE_LIMIT = 4 * PAGE_SIZE
# Space kept free for export and confirm: new responses are refused (S-023)
# before the disk is so full that the kiosk could no longer record an
# export or remove what the team holds, which is the only way back.
RESERVE_BYTES = 8 * PAGE_SIZE
# The most the write-ahead log takes: the checkpoint threshold plus the
# pages of one transaction.
WAL_ALLOWANCE = (WAL_AUTOCHECKPOINT_PAGES + 4) * PAGE_SIZE
# "Storage almost full" from when fewer responses than this still fit.
WARN_ROOM_RESPONSES = 1000
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
RECEIPT_VERSION = 2  # 1: unsigned receipts, refused since receipts are signed
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


def disk_free(folder: Path) -> int:
    """Free bytes an unprivileged process may use on ``folder``'s disk."""
    st = os.statvfs(folder)
    return st.f_bavail * st.f_frsize


def _disk_is_full(folder: Path) -> bool:
    try:
        return disk_free(folder) < PAGE_SIZE
    except OSError:
        return False


def _fsync_dir(folder: Path) -> None:
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _write_part(part: Path, data: bytes) -> None:
    with open(part, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _remove_stale(part: Path) -> bool:
    """Delete a ``FILE.part`` left by an export that was interrupted."""
    try:
        part.unlink()
        return True
    except FileNotFoundError:
        return False
    except OSError:
        return False  # the write below reports the real problem


@dataclass(frozen=True)
class Storage:
    """The kiosk's storage as staff see it: ``level`` is ``ok``, ``low``
    (fewer than WARN_ROOM_RESPONSES responses still fit: export and confirm
    soon) or ``full`` (new responses are refused, S-023)."""

    level: str
    free_bytes: int
    room_responses: int
    reshuffle_pending: bool = False


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
            # Freed pages can be given back to the disk after a confirm
            # (incremental vacuum); on an older file it takes effect at the
            # next reshuffle's VACUUM.
            self.db.execute("PRAGMA auto_vacuum=INCREMENTAL")
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA secure_delete=ON")
            self.db.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
            self.db.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")
            self.db.executescript(SCHEMA)
        except OSError as exc:
            raise StoreError(f"cannot open the outbox {str(self.path)!r}: {exc.strerror}",
                             code="S-011") from None
        except sqlite3.Error as exc:
            if _disk_is_full(self.path.parent):  # SQLite says "I/O error" when it cannot create its log
                raise StoreError(f"cannot open the outbox {str(self.path)!r}: the kiosk's disk is full; free "
                                 "space on it (nothing already stored was lost), then export and confirm",
                                 code="S-016") from None
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
            if self.room_bytes() < RESERVE_BYTES + len(envelope):
                raise StoreError("storage almost full: the kiosk keeps its last free space for exporting "
                                 "and confirming, and takes no more responses; export, hand the bundle to "
                                 "the team and confirm its receipt (nothing already stored was lost)",
                                 code="S-023")
            try:
                self.db.execute("BEGIN IMMEDIATE")
                self.db.execute("INSERT INTO outbox (id, envelope) VALUES (?, ?)", (key, envelope))
                self.db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise _store_error("could not store the response", exc, "S-012") from None

    stale_part_removed: bool = False  # set by export_bundle

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
        with self._lock:
            try:
                self.db.execute("BEGIN IMMEDIATE")
                self._record_export(ids, when)
                self.db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise _store_error("could not record the export", exc, "S-013") from None

    def _record_export(self, ids: list[bytes], when: dt.date | None) -> None:
        # Ids go to a table of their own: marking a column of every envelope
        # would rewrite every page of the outbox, and need as much free disk.
        day = (when or dt.date.today()).isoformat()
        self.db.executemany("INSERT OR IGNORE INTO exported (id) VALUES (?)", [(i,) for i in ids])
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('last_export', ?)", (day,))

    def export_bundle(self, path: str | Path, when: dt.date | None = None,
                      definitions: bytes | None = None) -> int:
        """Write every envelope held to a bundle file (with the signed
        ``definitions`` block, see :mod:`kiosk.definitions`) and record the
        export, as one unit; return how many. Nothing is removed: that waits
        for a receipt.

        The export is recorded in a transaction that commits only once the
        bundle is on disk as ``FILE.part``; the rename to ``FILE`` follows
        the commit. So a bundle under its final name is always recorded, and
        when anything fails (disk full, kill) there is no bundle and nothing
        recorded, or at worst a recorded export without its file, which
        removes nothing. A ``FILE.part`` left by an interrupted export is
        deleted first.
        """
        p = Path(path)
        part = p.with_name(p.name + ".part")
        self.stale_part_removed = _remove_stale(part)
        with self._lock:
            try:
                self.db.execute("BEGIN IMMEDIATE")
                pending = [(bytes(r[0]), bytes(r[1])) for r in
                           self.db.execute("SELECT id, envelope FROM outbox ORDER BY id")]
                self._record_export([i for i, _ in pending], when)
            except sqlite3.Error as exc:
                self._rollback()
                raise _store_error("could not record the export (no bundle written)", exc, "S-013") from None
            try:
                _write_part(part, bundle_bytes([env for _, env in pending], definitions))
            except OSError as exc:
                self._rollback()
                part.unlink(missing_ok=True)
                raise StoreError(f"cannot write the bundle {str(p)!r}: {exc.strerror}; nothing was removed "
                                 "from the kiosk and no export was recorded", code="S-020") from None
            try:
                self.db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                part.unlink(missing_ok=True)
                raise _store_error("could not record the export (the bundle was deleted again)", exc,
                                   "S-013") from None
        try:
            part.replace(p)
            _fsync_dir(p.parent)
        except OSError as exc:
            part.unlink(missing_ok=True)
            raise StoreError(f"cannot write the bundle {str(p)!r}: {exc.strerror}; nothing was removed "
                             "from the kiosk; export again", code="S-020") from None
        self.reshuffle_if_room()
        return len(pending)

    def reshuffle_if_room(self) -> bool:
        """Reshuffle when the disk has room for it (VACUUM writes the whole
        file again); otherwise postpone it (``kiosk status`` says so) rather
        than fail an export or a confirmation that has succeeded."""
        size = self.file_bytes()
        if disk_free(self.path.parent) < 2 * size + RESERVE_BYTES:
            self.set_meta("reshuffle_pending", "1")
            return False
        self.reshuffle()
        return True

    def reshuffle(self) -> None:
        """Rewrite the file in key order (random ids), so that where an
        envelope lies in the file no longer reflects when it arrived; then
        fold the write-ahead log into it. Run after each export and confirm."""
        with self._lock:
            try:
                self.db.execute("PRAGMA auto_vacuum=INCREMENTAL")  # older files: takes effect here
                self.db.execute("VACUUM")
                self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                self.db.execute("DELETE FROM meta WHERE key = 'reshuffle_pending'")
            except sqlite3.Error as exc:
                # A failed reshuffle leaves the data as it was: report, keep going.
                raise _store_error("could not reorder the outbox", exc, "S-021") from None

    def confirm_ids(self, ids: list[bytes]) -> ConfirmOutcome:
        """Delete the envelopes whose ids a receipt lists.

        Only envelopes that were exported are removed (an envelope that never
        left this kiosk cannot have been ingested); ids this kiosk does not
        hold are counted and ignored. Running it again removes nothing more.
        Deletions go in transactions sized to the free disk (each rewrites
        the pages it touches into the write-ahead log), so a nearly full
        disk can still be emptied; an interruption leaves some removed and
        the rest for the next run. Freed pages are then given back to the
        disk so the kiosk takes responses again.
        """
        wanted = sorted(set(ids))
        removed = not_exported = unknown = 0
        k = 0
        while k < len(wanted):
            batch = wanted[k:k + max(1, min(2000, (disk_free(self.path.parent) - PAGE_SIZE) // (4 * PAGE_SIZE)))]
            with self._lock:
                try:
                    self.db.execute("BEGIN IMMEDIATE")
                    for i in batch:
                        row = self.db.execute(
                            "SELECT exported > 0 OR EXISTS (SELECT 1 FROM exported e WHERE e.id = o.id) "
                            "FROM outbox o WHERE id = ?", (i,)).fetchone()
                        if row is None:
                            unknown += 1
                        elif not row[0]:
                            not_exported += 1
                        else:
                            removed += self.db.execute("DELETE FROM outbox WHERE id = ?", (i,)).rowcount
                    self.db.execute("DELETE FROM exported WHERE id NOT IN (SELECT id FROM outbox)")
                    self.db.execute("COMMIT")
                except sqlite3.Error as exc:
                    self._rollback()
                    raise _store_error("could not remove confirmed envelopes", exc, "S-014") from None
            k += len(batch)
        if removed:
            self.give_back_space()
            self.reshuffle_if_room()
        return ConfirmOutcome(removed, unknown, not_exported)

    def give_back_space(self) -> None:
        """Return the outbox's free pages to the disk, a few at a time (each
        step rewrites moved pages into the write-ahead log)."""
        with self._lock:
            try:
                while int(self.db.execute("PRAGMA freelist_count").fetchone()[0]) > 0:
                    before = self.file_bytes()
                    self.db.execute("PRAGMA incremental_vacuum(4)").fetchall()
                    self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    if self.file_bytes() >= before:
                        break  # not an incremental-vacuum file yet: the next reshuffle converts it
            except sqlite3.Error:
                pass  # the envelopes are removed; the space comes back at the next reshuffle

    def file_bytes(self) -> int:
        """Bytes the outbox takes on disk (database and write-ahead log)."""
        total = 0
        for suffix in ("", "-wal"):
            try:
                total += os.stat(str(self.path) + suffix).st_size
            except OSError:
                pass
        return total

    def room_bytes(self) -> int:
        """Space new envelopes can use: free disk plus the outbox's free
        pages, counting the write-ahead log at its largest whatever its size
        now (it is deleted when the last connection closes), so that the
        answer does not change with it."""
        free_pages = int(self.db.execute("PRAGMA freelist_count").fetchone()[0])
        try:
            wal = os.stat(str(self.path) + "-wal").st_size
        except OSError:
            wal = 0
        return disk_free(self.path.parent) + free_pages * PAGE_SIZE + wal - WAL_ALLOWANCE

    def storage(self, envelope_size: int) -> "Storage":
        """How full the kiosk's storage is, for the staff area and ``kiosk status``."""
        with self._lock:
            room = self.room_bytes()
        # An envelope takes its size in a 64 KiB page, plus the page's own bookkeeping.
        per = max(1, envelope_size + 64)
        fit = max(0, (room - RESERVE_BYTES) // per)
        level = "full" if room < RESERVE_BYTES + per else "low" if fit < WARN_ROOM_RESPONSES else "ok"
        return Storage(level, disk_free(self.path.parent), int(fit),
                       self.meta("reshuffle_pending") == "1")

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
        _write_part(tmp, bundle_bytes(envelopes, definitions))
        tmp.replace(p)
        _fsync_dir(p.parent)
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
    definitions (BND-010, BND-011). Holds every envelope in memory: to go
    through a large bundle, use :class:`BundleReader`."""
    with BundleReader(path) as reader:
        envelopes = list(reader)
        return Bundle(envelopes, reader.sha256, reader.definitions, reader.version)


class BundleReader:
    """A bundle read one envelope at a time, so that memory does not grow
    with the bundle: the header (version, definitions, announced count) is
    read and checked on opening, the envelopes are yielded as the file is
    read, and the end of the iteration checks the checksum and that nothing
    follows it. Raises :class:`EnvelopeError` with the codes of
    :func:`read_bundle`; an envelope yielded before a damaged end is not to
    be trusted (the caller discards what it got from the bundle).

    ``fh``: an already opened binary file (tests use one that records its
    reads); by default ``path`` is opened after :func:`check_bundle_file`.
    """

    def __init__(self, path: str | Path, fh: Any = None) -> None:
        p = Path(path)
        self.shown = display_name(p)
        self.sha256 = ""  # set once the whole bundle was read and verified
        self.definitions = b""
        self.version = BUNDLE_VERSION_LEGACY
        self.count = 0
        own = self._own = fh is None
        self._fh = None
        if own:
            check_bundle_file(p)
        try:
            if own:
                fh = open(p, "rb")
            self._fh = fh
            self._r = _Reader(fh, os.fstat(fh.fileno()).st_size)
            self._head()
        except OSError as exc:
            self.close()
            raise EnvelopeError(f"bundle {self.shown!r} cannot be read ({exc.strerror})", code="BND-009") from None
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> "BundleReader":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def offset(self) -> int:
        """Bytes read so far (for progress)."""
        return self._r.off

    def close(self) -> None:
        """Close the file (when this reader opened it)."""
        if self._fh is not None and self._own:
            self._fh.close()
        self._fh = None

    def _head(self) -> None:
        r, shown = self._r, self.shown
        head = len(BUNDLE_MAGIC) + 5
        data = r.take(head)
        if data[:len(BUNDLE_MAGIC)] != BUNDLE_MAGIC:
            raise EnvelopeError(f"{shown!r} is not a kiosk bundle (bad magic bytes)", code="BND-002")
        if len(data) < head:
            raise EnvelopeError(f"bundle {shown!r} is truncated (ends inside its header); {_AGAIN}", code="BND-006")
        version, value = struct.unpack(">BI", data[len(BUNDLE_MAGIC):head])
        if version not in (BUNDLE_VERSION_LEGACY, BUNDLE_VERSION):
            raise EnvelopeError(f"bundle {shown!r} has version {version}; expected {BUNDLE_VERSION} (or "
                                f"{BUNDLE_VERSION_LEGACY})", code="BND-004")
        count = value
        if version == BUNDLE_VERSION:
            if value > MAX_DEFINITIONS_LEN:
                raise EnvelopeError(f"bundle {shown!r} is damaged (its definitions claim {value} bytes); "
                                    f"{_AGAIN}", code="BND-003")
            self.definitions = r.take(value)
            more = r.take(4)
            if len(self.definitions) < value or len(more) < 4:
                raise EnvelopeError(f"bundle {shown!r} is truncated (ends inside its definitions); {_AGAIN}",
                                    code="BND-006")
            (count,) = struct.unpack(">I", more)
        if count > MAX_BUNDLE_ENVELOPES:
            raise EnvelopeError(f"bundle {shown!r} announces {count:,} envelopes, more than one bundle may hold "
                                f"({MAX_BUNDLE_ENVELOPES:,}); export more often so each bundle is smaller",
                                code="BND-007")
        self.version, self.count = version, count

    def __iter__(self) -> Iterator[bytes]:
        r, shown, count = self._r, self.shown, self.count
        try:
            # Walk the structure first so a short file is reported as
            # truncated, then check the digest, which catches any other change.
            for k in range(count):
                raw = r.take(4)
                if len(raw) < 4:
                    raise EnvelopeError(f"bundle {shown!r} is truncated (ends before envelope {k + 1} of "
                                        f"{count}); {_AGAIN}", code="BND-006")
                (n,) = struct.unpack(">I", raw)
                if n > MAX_ENVELOPE_LEN:
                    raise EnvelopeError(f"bundle {shown!r} is damaged (envelope {k + 1} of {count} claims "
                                        f"{n} bytes); {_AGAIN}", code="BND-003")
                env = r.take(n)
                if len(env) < n:
                    raise EnvelopeError(f"bundle {shown!r} is truncated (ends inside envelope {k + 1} of "
                                        f"{count}); {_AGAIN}", code="BND-006")
                yield env
            digest = r.digest.digest()
            stored = r.fh.read(BUNDLE_DIGEST_LEN)
            if len(stored) < BUNDLE_DIGEST_LEN:
                raise EnvelopeError(f"bundle {shown!r} is truncated (checksum missing); {_AGAIN}", code="BND-006")
            if stored != digest:
                raise EnvelopeError(f"bundle {shown!r} is damaged (checksum mismatch); {_AGAIN}", code="BND-003")
            trailing = r.size - r.off - BUNDLE_DIGEST_LEN
            if trailing > 0 or r.fh.read(1):
                raise EnvelopeError(f"bundle {shown!r} has {max(trailing, 1)} trailing byte(s) after its "
                                    f"checksum; {_AGAIN}", code="BND-005")
        except OSError as exc:
            raise EnvelopeError(f"bundle {shown!r} cannot be read ({exc.strerror})", code="BND-009") from None
        self.sha256 = digest.hex()


_AGAIN = "export it again from the kiosk: nothing was removed there"


# ------------------------------------------------------------------ receipts

RECEIPT_SIGNATURE_PREFIX = b"health-kiosk/receipt/v2"
# A receipt lists at most a kiosk's outbox: far below this. A larger file is
# not a receipt, and is refused before it is parsed.
MAX_RECEIPT_BYTES = 64 << 20


def receipt_payload(device: bytes, run: int, envelope_ids: list[str]) -> dict:
    """The signed part of a receipt: the kiosk it is for (raw device public
    key), the ingest run, and the ids of envelopes the team holds safely
    (ingested now or earlier), sorted and without repeats."""
    ids = sorted(set(envelope_ids))
    for i in ids:
        if not _ENVELOPE_ID_RE.fullmatch(i):
            raise ValueError(f"not an envelope id: {i!r}")
    return {"kind": RECEIPT_KIND, "version": RECEIPT_VERSION,
            "device": base64.b64encode(device).decode("ascii"), "run": run, "count": len(ids),
            "envelopes": ids}


def receipt_signed_message(payload: dict) -> bytes:
    """What the team's receipt key signs: a prefix, then the receipt without
    its ``signatures`` as canonical JSON (keys sorted, no spaces)."""
    body = {k: v for k, v in payload.items() if k != "signatures"}
    return RECEIPT_SIGNATURE_PREFIX + json.dumps(body, sort_keys=True, ensure_ascii=False,
                                                 separators=(",", ":")).encode("utf-8")


def receipt_text(payload: dict, signatures: list[tuple[bytes, bytes]]) -> str:
    """A receipt file: the payload and one ``(team key id, signature)`` per
    team key that signed it (several during a key rotation)."""
    signed = {**payload, "signatures": [
        {"key_id": key_id.hex(), "signature": base64.b64encode(sig).decode("ascii")}
        for key_id, sig in signatures]}
    return json.dumps(signed, indent=1) + "\n"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Receipt:
    """A receipt whose team signature verified, for this kiosk."""

    run: int
    ids: list[bytes]


def read_receipt(path: str | Path, team: TeamPublicKey, device: bytes) -> Receipt:
    """Read a receipt and check that the team made it for this kiosk, before
    anything is removed: a receipt is a licence to delete, so its list must
    come from the holder of the team key, not from whoever held the USB key.

    Refused, removing nothing: missing (CFG-020); not a receipt or damaged
    (CFG-021); unknown version (CFG-022); count differs from the list
    (CFG-023); unsigned (CFG-024: made before receipts were signed); a
    signature that does not verify, i.e. forged or edited (CFG-025); made for
    another kiosk (CFG-026); this kiosk's team key has no receipt key
    (CFG-027: how to install it); not signed by this kiosk's team key
    (CFG-028)."""
    p = Path(path)
    nothing = "nothing was removed"
    data: object = None
    try:
        with open(p, "rb") as fh:
            raw = fh.read(MAX_RECEIPT_BYTES + 1)
        if len(raw) <= MAX_RECEIPT_BYTES:
            data = json.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"receipt {str(p)!r} not found; give the receipt file that 'analysis ingest' "
                          "wrote for this kiosk", code="CFG-020") from None
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        data = None
    bad = ConfigError(f"{str(p)!r} is not an ingest receipt (made by 'analysis ingest'); {nothing}",
                      code="CFG-021")
    if not isinstance(data, dict) or data.get("kind") != RECEIPT_KIND:
        raise bad
    if team.receipt_raw is None:
        raise ConfigError("the team public key installed on this kiosk predates signed receipts and "
                          "cannot check one; on the team's machine run 'analysis public-key --key "
                          "team.key --out team.pub', bring that team.pub here and run 'kiosk set-key "
                          f"team.pub', then confirm again; {nothing}", code="CFG-027")
    version = data.get("version")
    if _is_int(version) and version == 1 or (version == RECEIPT_VERSION and "signatures" not in data):
        raise ConfigError(f"receipt {str(p)!r} is not signed by the team: a kiosk deletes only what "
                          "a signed receipt lists; ingest the bundle again with the current 'analysis' "
                          f"to get a signed receipt; {nothing}", code="CFG-024")
    if not _is_int(version) or version != RECEIPT_VERSION:
        raise ConfigError(f"receipt {str(p)!r} has version {version!r}; expected {RECEIPT_VERSION}; "
                          f"{nothing}", code="CFG-022")
    ids = data.get("envelopes")
    if not isinstance(ids, list) or not all(isinstance(i, str) and _ENVELOPE_ID_RE.fullmatch(i) for i in ids):
        raise bad
    count = data.get("count")
    if not _is_int(count) or count != len(ids):
        raise ConfigError(f"receipt {str(p)!r} is damaged (lists {len(ids)} envelope(s), says "
                          f"{count!r}); {nothing}", code="CFG-023")
    run, sigs = data.get("run"), data.get("signatures")
    try:
        receipt_device = base64.b64decode(data.get("device"), validate=True)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        receipt_device = b""
    if not _is_int(run) or len(receipt_device) != 32 or not isinstance(sigs, list) or \
            set(data) != {"kind", "version", "device", "run", "count", "envelopes", "signatures"}:
        raise bad
    if receipt_device != device:
        raise ConfigError(f"receipt {str(p)!r} is for the kiosk with device fingerprint "
                          f"{fingerprint(receipt_device)}, not this one ({fingerprint(device)}); confirm "
                          f"it on that kiosk; {nothing}", code="CFG-026")
    mine = [s for s in sigs if isinstance(s, dict) and s.get("key_id") == team.key_id.hex()]
    if not mine:
        others = ", ".join(str(s.get("key_id")) for s in sigs if isinstance(s, dict)) or "none"
        raise ConfigError(f"receipt {str(p)!r} is not signed by this kiosk's team key (key id "
                          f"{team.key_id.hex()}; signed by: {others}); ingest with that team key too "
                          f"(--key), or install the team key that signed it ('kiosk set-key'); {nothing}",
                          code="CFG-028")
    try:
        signature = base64.b64decode(mine[0].get("signature"), validate=True)
        ed25519.Ed25519PublicKey.from_public_bytes(team.receipt_raw).verify(
            signature, receipt_signed_message(data))
    except (TypeError, ValueError, InvalidSignature):
        raise ConfigError(f"receipt {str(p)!r} does not carry a valid team signature: it was forged or "
                          "edited after ingest; use the receipt exactly as 'analysis ingest' wrote it; "
                          f"{nothing}", code="CFG-025") from None
    return Receipt(run, [bytes.fromhex(i) for i in ids])
