"""Ingest: bundles of sealed envelopes → the team's Parquet dataset.

Idempotent: a ledger of hashed envelope ids makes re-ingesting a bundle a
no-op. What fails (damaged, forged, for another key, from an untrusted
device, unknown module, invalid answers, an id reused with other content) is
quarantined with one coded reason per envelope; everything valid is still
ingested. Records are shuffled and given fresh random row ids, so neither
arrival order nor envelope ids survive into the dataset.

Envelopes are opened in worker processes (``spawn`` context: polars in
``fork``-ed workers deadlocks) when there are enough of them to pay for
starting the workers, else in-process; ``bench/bench_ingest.py`` measures
where the two cross (:data:`PARALLEL_MIN`).

Dataset layout (hive-partitioned)::

    DATA/responses/part-<uuid>.parquet                 one row per response
    DATA/answers/module=<id>/major=<n>/part-<uuid>.parquet   one row per answer
    DATA/ledger.sqlite3                                 hashed envelope ids, runs, outcomes
    DATA/quarantine/<sha256>.env + quarantine.jsonl     rejected envelopes and reasons
    DATA/trusted_devices.json                           kiosks whose envelopes are accepted

Bundles are read one envelope at a time (:class:`kiosk.store.BundleReader`):
once to check each whole (a damaged bundle is refused before any of it is
opened), then again in batches as fast as the envelopes are opened; a run is
written in parts of :data:`CHUNK_RESPONSES` responses. Memory does not grow
with the bundles (``bench/bench_ingest.py``).

A run's Parquet files are first written as ``*.parquet.staged``; the ledger
commit is the commit point, after which they are renamed. A run interrupted
before its commit leaves only staged files, which the next run deletes; one
interrupted after it is completed by the next run. So a crash never loses a
committed run nor lets the next run add the same records twice.
"""

from __future__ import annotations

import collections
import datetime as dt
import fcntl
import functools
import hashlib
import json
import multiprocessing
import os
import secrets
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import polars as pl

from surveycore.bundle import BundleReader, bundle_count, display_name, read_bundle
from surveycore.definitions import load_record, parse_block
from surveycore.envelope import HEADER_LEN, MAGIC
from surveycore.errors import EnvelopeError, KeyFileError, KioskError, ValidationError
from surveycore.keys import fingerprint
from surveycore.questionnaire import Module, Survey, file_kind_of, load_module, load_survey

from analysis.envelopes import (BatchOpener, Catalogue, ModuleSpec, Opened, init_worker, rows_of,
                                validate_body, worker_open)
from analysis.jsonlog import append_lines, read_lines
from analysis.keys import TeamPrivateKey

__all__ = ["ANSWER_SCHEMA", "RESPONSE_SCHEMA", "STATES", "IngestResult", "ingest", "module_index",
           "catalogue_of", "validate_body", "rows_of", "scan_responses", "scan_answers",
           "PARALLEL_MIN", "DEFAULT_WORKERS"]

# rid: a random 64-bit response id drawn at ingest (never the envelope id).
# Stored as an integer and the answer columns as categoricals: the analysis
# joins and groups tens of millions of answer rows on them, several times
# faster than on text.
RESPONSE_SCHEMA = {"rid": pl.UInt64, "survey": pl.String, "survey_version": pl.String,
                   "centre": pl.String, "period": pl.String, "lang": pl.String,
                   "status": pl.String, "test": pl.Boolean, "survey_hash": pl.String}
ANSWER_SCHEMA = {"rid": pl.UInt64, "module": pl.String, "major": pl.Int64, "version": pl.Categorical,
                 "item": pl.Categorical, "state": pl.Categorical, "value": pl.Categorical}
# Answer states: answered (value = code or number), refused ("prefer not to
# answer"), skipped (not shown by skip logic), none (multiple choice, nothing).
STATES = ("answered", "refused", "skipped", "none")

DEFAULT_WORKERS = 2
# Below this many envelopes, starting a worker process costs more than it
# saves. bench/bench_ingest.py on 2 shared cores, with the workers started
# while the bundles are read: 500 envelopes took 1.7x the in-process time
# with a second process, 1,000 took 0.90x, 2,000 0.76x, 8,000 0.58x.
PARALLEL_MIN = 1000
STAGED = ".staged"


# Loaded definitions, by file signature: parsing YAML and loading surveys is
# the slowest fixed cost of an ingest, and the files rarely change.
_MODULE_CACHE: dict[tuple[str, int, int], Module | None] = {}
_SURVEY_CACHE: dict[tuple, dict[str, dict[tuple[str, str], ModuleSpec]]] = {}


def _signature(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return (str(path.resolve()), st.st_mtime_ns, st.st_size)


def _load_module_cached(path: Path) -> Module | None:
    key = _signature(path)
    if key not in _MODULE_CACHE:
        try:
            _MODULE_CACHE[key] = load_module(path)
        except ValidationError:
            _MODULE_CACHE[key] = None  # surveys and broken files are reported by 'kiosk check'
    return _MODULE_CACHE[key]


def module_index(dirs: Iterable[str | Path]) -> dict[tuple[str, str], Module]:
    """Every valid module found in ``dirs``, by (id, version)."""
    out: dict[tuple[str, str], Module] = {}
    for d in dirs:
        for f in sorted(Path(d).glob("*.yaml")):
            m = _load_module_cached(f)
            if m is not None:
                out.setdefault((m.id, m.version), m)
    return out


def _bundle_definitions(block: bytes, name: str, trusted: list[Any] | None
                        ) -> tuple[dict[str, Survey], dict[str, tuple[dict, dict[str, bytes]]]]:
    """The surveys a bundle carries, verified: each giving the content hashes
    its manifest names (BND-010 … BND-012). Definitions signed by a device
    that is not trusted are not used (its envelopes are refused, ENV-023)."""
    defs = parse_block(block, name)
    if trusted is not None and defs.device not in {bytes(d) for d in trusted if isinstance(d, (bytes, bytearray))} \
            and fingerprint(defs.device) not in {d for d in trusted if isinstance(d, str)}:
        return {}, {}
    surveys = defs.surveys()
    files = {m["hash"]: (m, {r["file"]: defs.files[r["file"]] for r in [m, *m["modules"]]})
             for m in defs.manifests}
    return surveys, files


def with_surveys(catalogue: Catalogue, surveys: dict[str, Survey]) -> Catalogue:
    """``catalogue`` with the surveys bundles carried: their modules, site
    lists applied, become the definitions for envelopes naming their hash
    (they take precedence over any folder: they are what was asked)."""
    per_survey = dict(catalogue.surveys)
    by_hash = dict(catalogue.by_hash)
    for h, survey in surveys.items():
        specs = {(m.id, m.version): ModuleSpec.of(m) for m in survey.modules}
        per_survey[h] = specs
        for spec in specs.values():
            by_hash.setdefault((spec.id, spec.version, spec.hash), spec)
    return Catalogue(catalogue.modules, per_survey, by_hash)


def cross_check(surveys: dict[str, Survey], catalogue: Catalogue) -> list[str]:
    """Where the questionnaire folders given to ingest hold another text
    under the same module id and version than a bundle carried: one note
    each (the bundle's definition, the one the patients saw, is used)."""
    notes = []
    ran = {(m.id, m.version, m.hash) for survey in surveys.values() for m in survey.modules}
    for m_id, version, local_hash in sorted(catalogue.by_hash):
        for _, _, kiosk_hash in sorted(x for x in ran if x[:2] == (m_id, version) and x[2] != local_hash):
            notes.append(f"cross-check: module {m_id} {version} in the questionnaire folders (hash "
                         f"{local_hash}) differs from the one the kiosk ran (hash {kiosk_hash}); the kiosk's "
                         "definition, carried by the bundle, was used")
    return notes


def keep_definitions(data: Path, carried: dict[str, tuple[dict, dict[str, bytes]]]) -> None:
    """Keep every survey definition ingested, by hash, in the dataset
    (``DATA/definitions/``): the file bytes by SHA-256, and one manifest per
    survey hash. Content-addressed, so writing them again changes nothing."""
    root = data / "definitions"
    (root / "files").mkdir(parents=True, exist_ok=True)
    (root / "surveys").mkdir(exist_ok=True)
    for survey_hash, (manifest, files) in carried.items():
        for sha, blob in files.items():
            target = root / "files" / f"{sha}.yaml"
            if not target.exists():
                _atomic_write(target, blob)
        target = root / "surveys" / f"{survey_hash}.json"
        if not target.exists():
            _atomic_write(target, (json.dumps(manifest, sort_keys=True, indent=1) + "\n").encode("utf-8"))


def _atomic_write(path: Path, blob: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(blob)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


def dataset_surveys(data_dir: str | Path) -> dict[str, Survey]:
    """Every survey definition the dataset keeps, loaded from its own bytes,
    by survey hash (see :func:`keep_definitions`)."""
    root = Path(data_dir) / "definitions"
    out: dict[str, Survey] = {}
    for f in sorted((root / "surveys").glob("*.json")):
        # Content-addressed files never change: each survey is loaded once
        # per process (the dashboard rebuilds its figures at every filter).
        key = (str(f.resolve()), f.stem)
        if key not in _DEFINITION_CACHE:
            manifest = json.loads(f.read_text(encoding="utf-8"))
            files = {r["file"]: (root / "files" / f"{r['file']}.yaml").read_bytes()
                     for r in [manifest, *manifest["modules"]]}
            _DEFINITION_CACHE[key] = load_record(manifest, files)
        out[_DEFINITION_CACHE[key].hash] = _DEFINITION_CACHE[key]
    return out


_DEFINITION_CACHE: dict[tuple[str, str], Survey] = {}


def catalogue_of(dirs: Iterable[str | Path]) -> Catalogue:
    """Module definitions for validation: every module of ``dirs``, and for
    every survey there whose site supplies choice lists (neighbourhoods),
    its modules with those lists, keyed by the survey's hash."""
    dirs = [Path(d) for d in dirs]
    modules = {k: ModuleSpec.of(m) for k, m in module_index(dirs).items()}
    surveys: dict[str, dict[tuple[str, str], ModuleSpec]] = {}
    by_hash: dict[tuple[str, str, str], ModuleSpec] = {}
    files = [f for d in dirs for f in sorted(Path(d).glob("*.yaml"))]
    for f in files:
        m = _load_module_cached(f)
        if m is not None:
            # Two folders may hold different definitions of one version.
            by_hash.setdefault((m.id, m.version, m.hash), ModuleSpec.of(m))
            continue
        if file_kind_of(f) != "survey":
            continue  # a module that does not load: 'kiosk check' reports it
        try:
            text = f.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if "choices" not in text:
            continue  # no site lists: the module files alone validate its responses
        # The survey loader reads the survey's own folder as well.
        key = (_signature(f), tuple(_signature(x) for x in files + sorted(f.parent.glob("*.yaml"))))
        if key not in _SURVEY_CACHE:
            try:
                s = load_survey(f, dirs)
                _SURVEY_CACHE[key] = {s.hash: {(m.id, m.version): ModuleSpec.of(m) for m in s.modules}}
            except (ValidationError, KioskError):
                _SURVEY_CACHE[key] = {}
        for h, specs in _SURVEY_CACHE[key].items():
            surveys.setdefault(h, specs)
    return Catalogue(modules, surveys, by_hash)


_AGAIN = ("export the bundle again from the kiosk (nothing was removed there) and ingest the new file")
_DEFS = ("the definitions the kiosk ran are not known here: export a new bundle from the kiosk (it carries "
         "them), or give the site's survey folder with --questionnaires; then run 'analysis ingest "
         "--retry-quarantine --key K --data DATA'")
_DAMAGED = ("damaged or altered on the way; nothing to do here: the kiosk keeps these responses and sends them "
            "again in its next bundle")
# The fix printed once per reason code in the summary (docs/envelope.md §5).
FIXES = {
    "BND-001": _AGAIN, "BND-002": "give a bundle written by 'kiosk export'", "BND-003": _AGAIN,
    "BND-004": "update the analysis software", "BND-005": _AGAIN, "BND-006": _AGAIN,
    "BND-007": "export more often so each bundle stays within the limits", "BND-008": "copy the bundle to a file",
    "BND-009": "check the file's permissions", "BND-010": _AGAIN, "BND-011": _AGAIN, "BND-012": _AGAIN,
    "ENV-002": _DAMAGED, "ENV-003": _DAMAGED, "ENV-004": "update the analysis software", "ENV-005": _DAMAGED,
    "ENV-010": _DAMAGED, "ENV-011": _DAMAGED, "ENV-012": _DAMAGED, "ENV-015": _DAMAGED, "ENV-021": _DAMAGED,
    "ENV-022": _DAMAGED,
    "ENV-013": "forged or altered responses: keep them in quarantine and check who handled the bundle",
    "ENV-020": "give the team key they are sealed for with --key (repeat --key during a key rotation), then run "
               "'analysis ingest --retry-quarantine'",
    "ENV-023": "once trusted, run 'analysis ingest --retry-quarantine' with the same --key and --data",
    "ING-003": _DEFS, "ING-004": _DEFS, "ING-006": _DEFS, "ING-007": _DEFS,
    "ING-022": "an envelope id reused with other content (replayed or forged): keep it in quarantine and check "
               "the kiosk",
    "ING-090": "report it to the developers; the envelope is kept in quarantine",
}
# At most this many quarantined envelopes of one run are kept one by one (a
# copy, a log line, a ledger row); beyond it, one line and one row per reason
# code count the rest, which stay on their kiosk (never receipted) and come
# back in its next bundle. Hostile bundles cannot fill the disk this way.
QUARANTINE_DETAIL_MAX = 1000


@dataclass
class IngestResult:
    """What one ingest run did."""

    ingested: int = 0
    duplicates: int = 0
    quarantined: list[tuple[str, int, str]] = field(default_factory=list)  # (bundle, index, reason)
    notes: list[str] = field(default_factory=list)  # cross-check findings, for the command line
    resolved: int = 0  # envelopes that left the quarantine (--retry-quarantine)
    receipt_ids: list[str] = field(default_factory=list)
    # The kiosk (raw device public key) of each receipted envelope: one receipt per kiosk.
    receipt_devices: dict[str, bytes] = field(default_factory=dict)
    duplicate_list: list[tuple[str, int, str]] = field(default_factory=list)  # (bundle, index, reason)
    run: int = 0
    envelopes: int = 0
    workers: int = 1  # processes that opened envelopes: this one + spawned workers
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase, for benchmarks

    def summary(self) -> str:
        """One line per fact and one per reason code (never one per
        envelope), for the command line."""
        lines = [f"ingested: {self.ingested}", f"already ingested (skipped): {self.duplicates}",
                 f"quarantined: {len(self.quarantined)}"]
        groups: dict[str, list[tuple[str, int, str]]] = {}
        for entry in self.quarantined:
            groups.setdefault(entry[2][1:8], []).append(entry)
        for code, entries in sorted(groups.items()):
            bundle, index, reason = entries[0]
            where = f"{bundle}" if index < 0 else f"{bundle} #{index}"
            what = "bundle(s)" if all(i < 0 for _, i, _ in entries) else "envelope(s)"
            more = f" and {len(entries) - 1} more" if len(entries) > 1 else ""
            fix = FIXES.get(code)
            lines.append(f"  [{code}] {len(entries)} {what}, e.g. {where}{more}: {reason[10:]}"
                         + (f"; fix: {fix}" if fix else ""))
        return "\n".join(lines)


# ------------------------------------------------------------------ ledger

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


# ------------------------------------------------------------------ opening

class _Opening:
    """Opens envelopes with ``processes`` processes: this one and
    ``processes - 1`` workers of the ``spawn`` context, all taking batches
    from one queue, so no core idles while the workers start (they start
    when this object is made, while the questionnaires are loaded)."""

    BATCH = 200

    def __init__(self, keys: dict[bytes, TeamPrivateKey], trusted: list[Any] | None, processes: int) -> None:
        self.keys, self.trusted = keys, trusted
        self.spawned = max(0, processes - 1)
        self.pool = None
        if self.spawned:
            ctx = multiprocessing.get_context("spawn")
            self.pool = ctx.Pool(self.spawned, initializer=init_worker,
                                 initargs=([(k.suite, k.secret) for k in keys.values()], trusted))

    def run(self, batches: Iterator[list["_Entry"]], catalogue: Catalogue,
            consume: Callable[[list["_Entry"], list[Opened]], None], total: int,
            tell: Callable[[str, int, int], None] = lambda phase, done, total: None) -> None:
        """Open the envelopes of ``batches`` (pulled from the iterator only as
        processes are free for them, so that a bundle is read as it is
        opened) and hand each batch with its outcomes to ``consume``, in
        batch order, on this thread. ``total``: envelopes announced, for
        progress."""
        local = BatchOpener(self.keys, self.trusted, catalogue)
        done_n = 0
        if self.pool is None:
            for batch in batches:
                tell("open", done_n, total)
                consume(batch, local.open_batch(_to_open(batch)))
                done_n += len(batch)
            tell("open", total, total)
            return
        source = enumerate(batches)
        results: dict[int, tuple[list[_Entry], list[Opened]]] = {}
        errors: list[BaseException] = []
        cond = threading.Condition()
        # Batches read but not yet consumed stay within a window, so that a
        # slow worker never makes this process read the bundle far ahead.
        window = 4 * (self.spawned + 1)
        state = {"sent": 0, "next": 0, "exhausted": False, "idle": 0}
        full = object()
        task = functools.partial(worker_open, catalogue, secrets.randbits(62))

        def take() -> Any:
            # Under cond: the next batch from the file; None at its end;
            # ``full`` while the window is full.
            if state["exhausted"] or errors:
                return None
            if state["sent"] - state["next"] >= window:
                return full
            try:
                item = next(source, None)
            except BaseException as exc:  # noqa: BLE001 - a changed file: raised by run()
                errors.append(exc)
                item = None
            if item is None:
                state["exhausted"] = True
                return None
            state["sent"] += 1
            return item

        def done(no: int, batch: list[_Entry], opened: list[Opened]) -> None:
            # Runs in the pool's result thread: record, then feed the worker again.
            with cond:
                results[no] = (batch, opened)
                cond.notify_all()
            feed()

        def failed(exc: BaseException) -> None:
            with cond:
                errors.append(exc)
                cond.notify_all()

        def feed() -> None:
            with cond:
                item = take()
                if item is full:
                    state["idle"] += 1  # fed again once batches are consumed
                    return
            if item is None:
                return
            no, batch = item
            assert self.pool is not None
            self.pool.apply_async(task, (_to_open(batch),), callback=functools.partial(done, no, batch),
                                  error_callback=failed)

        for _ in range(2 * self.spawned):  # two in flight per worker: no gap between batches
            feed()
        while True:
            with cond:
                item = take()
            if item is not None and item is not full:
                no, batch = item
                opened = local.open_batch(_to_open(batch))
                with cond:
                    results[no] = (batch, opened)
            with cond:
                if item is None or item is full:
                    # Wait for the next batch from a worker.
                    while (state["next"] not in results and not errors
                           and not (state["exhausted"] and state["next"] >= state["sent"])):
                        cond.wait()
                if errors:
                    break
                ready = []
                while state["next"] in results:
                    ready.append(results.pop(state["next"]))
                    state["next"] += 1
                finished = state["exhausted"] and state["next"] >= state["sent"]
                idle, state["idle"] = state["idle"], 0
            for batch, opened in ready:
                consume(batch, opened)
                done_n += len(batch)
            tell("open", min(done_n, total), total)
            if finished:
                break
            for _ in range(idle):
                feed()
        if errors:
            raise errors[0]
        tell("open", total, total)

    def terminate(self) -> None:
        """Stop the workers at once (they are idle once ``run`` returned)."""
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None


def _key_id(env: bytes) -> bytes | None:
    """The recipient key id in an envelope's header (None if it has none)."""
    return env[6:HEADER_LEN] if len(env) >= HEADER_LEN and env[:4] == MAGIC else None


def _check_keys(ids: set[bytes], keys: dict[bytes, TeamPrivateKey]) -> None:
    """Refuse a run in which no envelope is sealed for any key given (``ids``:
    the key ids the envelopes name): the wrong key file was given, and
    quarantining everything would only hide it."""
    ids = ids - {None}
    if ids and not ids & set(keys):
        given = ", ".join(sorted(k.hex() for k in keys)) or "none"
        wanted = ", ".join(sorted(i.hex() for i in ids))
        raise KeyFileError(f"no envelope is sealed for the key(s) given (key id {given}); the bundles are "
                           f"sealed for key id {wanted}: give that team key with --key", code="KEY-050")


# ------------------------------------------------------------------ ingest

def ingest(bundles: list[str | Path], keys: dict[bytes, TeamPrivateKey], data_dir: str | Path,
           questionnaire_dirs: list[str | Path], trusted_devices: Iterable[Any] | None = None, *,
           workers: int = DEFAULT_WORKERS, parallel_min: int = PARALLEL_MIN,
           require_key_match: bool = False, today: dt.date | None = None, retry_quarantine: bool = False,
           progress: Callable[[str, int, int], None] | None = None) -> IngestResult:
    """Open, verify, validate, deduplicate and store the envelopes of
    ``bundles``. Safe to run any number of times on the same bundles.

    ``trusted_devices``: accepted devices (raw 32-byte public keys or
    fingerprints); ``None`` accepts any device whose signature verifies.
    ``workers``: processes that open envelopes (this one and ``workers - 1``
    spawned workers) when there are at least ``parallel_min`` of them;
    below that, or with ``workers`` ≤ 1, everything is opened in-process.
    ``require_key_match``: raise KEY-050, writing nothing, instead of
    quarantining everything when no envelope is sealed for ``keys``.
    ``retry_quarantine``: also try again every envelope kept in
    ``DATA/quarantine/``; those that now ingest (or are already held) leave
    the quarantine. ``progress(phase, done, total)`` is called as bundles
    are read (bytes), envelopes opened and the dataset written.
    """
    clock = time.perf_counter()
    trusted = None if trusted_devices is None else list(trusted_devices)
    # Decide from the bundle headers, and start the workers now: they boot
    # while this process reads and checks the bundles.
    announced = sum(bundle_count(b) for b in bundles)
    processes = workers if workers > 1 and announced >= parallel_min else 1
    opening = _Opening(keys, trusted, processes)
    try:
        return _read_and_ingest(bundles, keys, data_dir, questionnaire_dirs, trusted, opening, processes,
                                require_key_match, today, clock, retry_quarantine, progress)
    finally:
        # Every result is in (or the run failed): the idle workers can go.
        opening.terminate()


@dataclass
class _Source:
    """Where a run's envelopes come from: a bundle file (read again, one
    envelope at a time, as they are opened) or the retried quarantine."""

    name: str
    path: Path | None
    count: int
    sha256: str = ""
    envelopes: list[bytes] | None = None  # the retried quarantine only


# One envelope of a run: global number, bundle name, index in the bundle, bytes.
_Entry = tuple[int, str, int, bytes]


def _to_open(batch: list[_Entry]) -> list[tuple[int, bytes]]:
    """The (number, envelope) pairs of a batch, as the openers take them."""
    return [(g, env) for g, _, _, env in batch]


def _check_pass(reader: BundleReader, name: str, tell: Callable[[str, int, int], None], done: int,
                total: int) -> set[bytes]:
    """Read a whole bundle once without keeping its envelopes: its structure
    and checksum are verified before any of it is opened (a damaged bundle
    is refused whole), and the key ids its envelopes name are collected."""
    ids: set[bytes] = set()
    for k, env in enumerate(reader):
        key = _key_id(env)
        if key is not None:
            ids.add(key)
        if k % 4096 == 0:
            tell("read", done + reader.offset, total)
    return ids


def _stream(sources: list[_Source], batch_size: int) -> Iterator[list[_Entry]]:
    """The run's envelopes in batches, read from the bundle files as they
    are asked for. A file that changed since it was checked stops the run
    (BND-003). The same bytes given twice (a bundle given twice) are opened
    twice: remembering every envelope's digest would make memory grow with
    the bundles, and the second is then a duplicate by its envelope id."""
    batch: list[_Entry] = []
    g = 0
    changed = (f"changed while it was being ingested; nothing of this run was kept: run the ingest again")
    for src in sources:
        reader = None
        try:
            if src.envelopes is None:
                assert src.path is not None
                reader = BundleReader(src.path)
            envelopes: Iterable[bytes] = reader if reader is not None else (src.envelopes or [])
            for index, env in enumerate(envelopes):
                batch.append((g, src.name, index, env))
                g += 1
                if len(batch) >= batch_size:
                    yield batch
                    batch = []
        except EnvelopeError:
            raise EnvelopeError(f"bundle {src.name!r} {changed}", code="BND-003") from None
        finally:
            if reader is not None:
                reader.close()
        if reader is not None and reader.sha256 != src.sha256:
            raise EnvelopeError(f"bundle {src.name!r} {changed}", code="BND-003")
    if batch:
        yield batch


def _read_and_ingest(bundles: list[str | Path], keys: dict[bytes, TeamPrivateKey], data_dir: str | Path,
                     questionnaire_dirs: list[str | Path], trusted: list[Any] | None, opening: "_Opening",
                     processes: int, require_key_match: bool, today: dt.date | None, clock: float,
                     retry: bool = False, progress: Callable[[str, int, int], None] | None = None) -> IngestResult:
    tell = progress or (lambda phase, done, total: None)
    sizes = [_size(b) for b in bundles]
    quarantine: list[tuple[str, int, str, str, bytes | None]] = []  # bundle, index, code, reason, envelope
    bundle_rows: list[tuple[str, str, int]] = []
    sources: list[_Source] = []
    key_ids: set[bytes] = set()
    carried: dict[str, Survey] = {}            # survey hash -> definitions carried by the bundles
    carried_files: dict[str, tuple[dict, dict[str, bytes]]] = {}
    for k, bundle_path in enumerate(bundles):
        tell("read", sum(sizes[:k]), sum(sizes))
        name = display_name(Path(bundle_path).name)
        try:
            with BundleReader(bundle_path) as reader:
                ids = _check_pass(reader, name, tell, sum(sizes[:k]), sum(sizes))
            if reader.definitions:
                surveys, manifests = _bundle_definitions(reader.definitions, name, trusted)
                carried.update(surveys)
                carried_files.update(manifests)
        except EnvelopeError as exc:
            quarantine.append((name, -1, exc.code, f"[{exc.code}] {exc.message}", None))  # a ledger record
            continue
        key_ids |= ids
        bundle_rows.append((reader.sha256, name, reader.count))
        sources.append(_Source(name, Path(bundle_path), reader.count, reader.sha256))
    tell("read", sum(sizes), sum(sizes))
    retried: list[bytes] = []
    if retry:
        retried = quarantined_envelopes(data_dir)
        sources.append(_Source(RETRY_NAME, None, len(retried), envelopes=retried))
        key_ids |= {i for i in map(_key_id, retried) if i is not None}
    if require_key_match:
        _check_keys(key_ids, keys)  # before anything is written
    data = Path(data_dir)
    data.mkdir(parents=True, exist_ok=True)
    lock = _DataLock(data)
    try:
        result = _ingest(bundles, sources, quarantine, bundle_rows, data, questionnaire_dirs, opening, processes,
                         today or dt.date.today(), clock, carried, carried_files, tell)
        if retry:
            _settle_quarantine(data, retried, result)
        return result
    finally:
        lock.release()


CHUNK_RESPONSES = 10_000
"""Responses a run holds before it writes them to a staged Parquet part:
with the envelopes read as they are opened, this bounds an ingest's memory
whatever the bundle's size (``bench/bench_ingest.py`` measures it)."""


def _ingest(bundles: list[str | Path], sources: list[_Source],
            quarantine: list[tuple[str, int, str, str, bytes | None]], bundle_rows: list[tuple[str, str, int]],
            data: Path, questionnaire_dirs: list[str | Path], opening: "_Opening", processes: int, today: dt.date,
            clock: float, carried: dict[str, Survey] | None = None,
            carried_files: dict[str, tuple[dict, dict[str, bytes]]] | None = None,
            tell: Callable[[str, int, int], None] = lambda phase, done, total: None) -> IngestResult:
    total = sum(src.count for src in sources)
    result = IngestResult(envelopes=total)

    def lap(phase: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        result.timings[phase] = result.timings.get(phase, 0.0) + now - clock
        clock = now

    outcomes: list[tuple[str, int, str, str]] = []  # duplicates and quarantine, for the ledger
    lap("read")
    ledger = _ledger(data)
    part = uuid.uuid4().hex
    staged: list[Path] = []
    committed = False
    try:
        _recover(data, ledger)
        result.workers = processes
        catalogue = catalogue_of(questionnaire_dirs)
        if carried:
            result.notes.extend(cross_check(carried, catalogue))
            catalogue = with_surveys(catalogue, carried)
            keep_definitions(data, carried_files or {})
        lap("catalogue")

        # Deduplicate by envelope id, in bundle order, batch by batch as they
        # are opened: against the ledger, then within this run. Same id and
        # same content = duplicate (receipted, the team holds it); same id
        # and other content = conflict.
        seen: dict[bytes, tuple[str, int, bytes]] = {}  # id hash -> (bundle, index, body hash)
        responses: list[tuple] = []
        answers: list[tuple] = []
        written = chunks = 0
        receipt: set[str] = set()
        devices: dict[str, bytes] = {}
        kiosks: dict[bytes, bytes] = {}  # one bytes object per kiosk, not one per envelope

        def flush() -> None:
            # The first part of a run is part-<uuid>, the next ones
            # part-<uuid>-0001, … (see _recover).
            nonlocal responses, answers, written, chunks
            if responses:
                name = part if chunks == 0 else f"{part}-{chunks:04d}"
                staged.extend(_write_staged(data, name, responses, answers))
                written += len(responses)
                chunks += 1
            responses, answers = [], []

        def consume(batch: list[_Entry], opened_list: list[Opened]) -> None:
            opened = {o.index: o for o in opened_list}
            wanted = list({_id_hash(o.envelope_id) for o in opened_list if o.code is None and o.envelope_id})
            known: dict[bytes, tuple[bytes | None, int | None]] = {}
            for i in range(0, len(wanted), 500):
                chunk = wanted[i:i + 500]
                marks = ",".join("?" * len(chunk))
                for id_hash, body_hash, run in ledger.execute(
                        f"SELECT id_hash, body_hash, run FROM ingested WHERE id_hash IN ({marks})", chunk):
                    known[bytes(id_hash)] = (None if body_hash is None else bytes(body_hash), run)
            for g, name, index, env in batch:
                o = opened[g]
                if o.code is not None:
                    quarantine.append((name, index, o.code, o.reason or "", _kept(env, quarantine)))
                    continue
                assert o.envelope_id is not None and o.body_hash is not None
                h = _id_hash(o.envelope_id)
                if h in seen:
                    fname, findex, body_hash = seen[h]
                    if body_hash != o.body_hash:
                        quarantine.append((name, index, "ING-022", _conflict_text(f"{fname} #{findex}"),
                                           _kept(env, quarantine)))
                        continue
                    result.duplicate_list.append((name, index, f"[ING-020] same response as {fname} #{findex} "
                                                               "in this run"))
                    receipt.add(o.envelope_id)
                    continue
                if h in known:
                    body_hash, run = known[h]
                    if body_hash is not None and body_hash != o.body_hash:
                        quarantine.append((name, index, "ING-022", _conflict_text(f"run {run}"),
                                           _kept(env, quarantine)))
                        continue
                    reason = f"[ING-021] already ingested (run {run})" if run else "[ING-021] already ingested"
                    result.duplicate_list.append((name, index, reason))
                    receipt.add(o.envelope_id)
                    if o.device is not None:
                        devices[o.envelope_id] = kiosks.setdefault(o.device, o.device)
                    continue
                seen[h] = (name, index, o.body_hash)  # also the ledger rows of this run
                receipt.add(o.envelope_id)
                if o.device is not None:
                    devices[o.envelope_id] = kiosks.setdefault(o.device, o.device)
                assert o.response is not None and o.answers is not None
                responses.append(o.response)
                answers.extend(o.answers)
            if len(responses) >= CHUNK_RESPONSES:
                flush()

        opening.run(_stream(sources, opening.BATCH), catalogue, consume, total, tell)
        lap("open")
        opening.terminate()
        lap("dedup")
        tell("write", 0, written + len(responses))
        flush()
        tell("write", written, written)
        lap("write")
        outcomes.extend(_bounded([(name, index, code, reason) for name, index, code, reason, _ in quarantine]))
        outcomes.extend(_bounded([(name, index, reason[1:8], reason) for name, index, reason in result.duplicate_list]))
        # The commit point: from here the run's records are part of the dataset.
        ledger.execute("BEGIN IMMEDIATE")
        cur = ledger.execute(
            "INSERT INTO runs (bundles, ingested, duplicates, quarantined, day, part, state, workers) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (json.dumps([Path(b).name for b in bundles]), written, len(result.duplicate_list),
             len(quarantine), today.isoformat(), part, "staged" if staged else "done", result.workers))
        run = int(cur.lastrowid or 0)
        ledger.executemany("INSERT INTO ingested (id_hash, body_hash, run) VALUES (?, ?, ?)",
                           [(h, b, run) for h, (_, _, b) in seen.items()])
        ledger.executemany("INSERT INTO outcomes VALUES (?, ?, ?, ?, ?)", [(run, *o) for o in outcomes])
        ledger.executemany("INSERT OR IGNORE INTO bundles VALUES (?, ?, ?, ?)",
                           [(sha, run, name, n) for sha, name, n in bundle_rows])
        ledger.execute("COMMIT")
        committed = True
        _publish(staged)
        if staged:
            ledger.execute("UPDATE runs SET state = 'done' WHERE n = ?", (run,))
    except BaseException:
        # Not committed: the staged parts of this run go (the next run would
        # delete them too); committed ones are completed by the next run.
        if not committed:
            for p in staged:
                p.unlink(missing_ok=True)
        raise
    finally:
        ledger.close()

    _write_quarantine(data, run, quarantine)
    lap("commit")
    result.run = run
    result.ingested = written
    result.duplicates = len(result.duplicate_list)
    result.quarantined = [(name, index, reason) for name, index, _, reason, _ in quarantine]
    result.receipt_ids = sorted(receipt)
    result.receipt_devices = devices
    return result


def _kept(env: bytes, quarantine: list) -> bytes | None:
    """The envelope's bytes when the quarantine keeps it (the first
    :data:`QUARANTINE_DETAIL_MAX`), else None: beyond, only counts are kept."""
    return env if len(quarantine) < QUARANTINE_DETAIL_MAX else None


def _conflict_text(where: str) -> str:
    return (f"[ING-022] same envelope id as the response ingested in {where} but different content: "
            "replayed id or forged response")


def _write_staged(data: Path, part: str, responses: list[tuple], answers: list[tuple]) -> list[Path]:
    """Write the run's Parquet files under staged names; return them."""
    out: list[Path] = []
    # Shuffle so file order carries no arrival order.
    rdf = _frame(responses, RESPONSE_SCHEMA).sample(fraction=1.0, shuffle=True)
    (data / "responses").mkdir(exist_ok=True)
    out.append(_write_parquet(rdf, data / "responses" / f"part-{part}.parquet{STAGED}"))
    adf = _frame(answers, ANSWER_SCHEMA)
    for (module, major), group in adf.group_by(["module", "major"]):
        d = data / "answers" / f"module={module}" / f"major={major}"
        d.mkdir(parents=True, exist_ok=True)
        out.append(_write_parquet(group.drop("module", "major").sample(fraction=1.0, shuffle=True),
                                  d / f"part-{part}.parquet{STAGED}"))
    return out


def _frame(rows: list[tuple], schema: dict[str, Any]) -> pl.DataFrame:
    """A frame from row tuples, built column by column: polars' row builder
    cannot take the rids of 2**63 and above into a UInt64 column."""
    columns = list(zip(*rows)) if rows else [()] * len(schema)
    return pl.DataFrame([pl.Series(name, values, dtype=dtype)
                         for (name, dtype), values in zip(schema.items(), columns)])


def _write_parquet(df: pl.DataFrame, path: Path) -> Path:
    df.write_parquet(path)
    with open(path, "rb") as fh:  # on disk before the ledger commit refers to it
        os.fsync(fh.fileno())
    return path


def _publish(staged: list[Path]) -> None:
    """Rename a committed run's staged files to their final names."""
    dirs = set()
    for p in staged:
        p.replace(p.with_name(p.name.removesuffix(STAGED)))
        dirs.add(p.parent)
    for d in dirs:
        fd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


RETRY_NAME = "<quarantine>"


def _size(path: str | Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def quarantined_envelopes(data_dir: str | Path) -> list[bytes]:
    """The envelopes kept in ``DATA/quarantine/`` (by content hash)."""
    return [f.read_bytes() for f in sorted((Path(data_dir) / "quarantine").glob("*.env"))]


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


def scan_responses(data_dir: str | Path) -> pl.LazyFrame:
    """All responses of the dataset (lazy)."""
    files = sorted((Path(data_dir) / "responses").glob("*.parquet"))
    if not files:
        return pl.DataFrame(schema=RESPONSE_SCHEMA).lazy()
    # Files written before survey_hash existed read it as null; column types
    # are the files' own (datasets written by other tools may differ).
    schema: dict[str, Any] = {}
    for f in files:
        for name, dtype in pl.read_parquet_schema(f).items():
            schema.setdefault(name, dtype)
    for name, declared in RESPONSE_SCHEMA.items():
        schema.setdefault(name, declared)
    return pl.scan_parquet(files, schema=schema, missing_columns="insert")


def scan_answers(data_dir: str | Path) -> pl.LazyFrame:
    """All answers of the dataset (lazy), with module and major from the
    hive partition path."""
    root = Path(data_dir) / "answers"
    if not any(root.glob("module=*/major=*/*.parquet")):
        return pl.DataFrame(schema=ANSWER_SCHEMA).lazy()
    return pl.scan_parquet(root / "**" / "*.parquet", hive_partitioning=True,
                           hive_schema={"module": pl.String, "major": pl.Int64}).select(list(ANSWER_SCHEMA))
