"""The outbox: a write-only SQLite store of sealed envelopes. The bundle and
receipt files that carry envelopes to the analysts and back are formats of
``surveycore.bundle`` and ``surveycore.receipt``.

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
import json
import os
import sqlite3
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path

from surveycore.bundle import bundle_bytes, fsync_dir, write_part
from surveycore.errors import StoreError

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
                write_part(part, bundle_bytes([env for _, env in pending], definitions))
            except OSError as exc:
                self._rollback()
                part.unlink(missing_ok=True)
                raise StoreError(f"cannot write the bundle {str(p)!r}: {exc.strerror}; nothing was removed "
                                 "from the kiosk and no export was recorded; choose an --out path on a disk "
                                 "with room that you can write", code="S-020") from None
            try:
                self.db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                part.unlink(missing_ok=True)
                raise _store_error("could not record the export (the bundle was deleted again)", exc,
                                   "S-013") from None
        try:
            part.replace(p)
            fsync_dir(p.parent)
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
