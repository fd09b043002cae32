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
    DATA/quarantine/<sha256>.defs                       definitions carried by an untrusted kiosk's bundle
    DATA/trusted_devices.json                           kiosks whose envelopes are accepted

Bundles are read one envelope at a time (:class:`surveycore.bundle.BundleReader`):
once to check each whole (a damaged bundle is refused before any of it is
opened), then again in batches as fast as the envelopes are opened; a run is
written in parts of :data:`CHUNK_RESPONSES` responses. Memory does not grow
with the bundles (``bench/bench_ingest.py``).

A run's Parquet files are first written as ``*.parquet.staged``; the ledger
commit is the commit point, after which they are renamed. A run interrupted
before its commit leaves only staged files, which the next run deletes; one
interrupted after it is completed by the next run. So a crash never loses a
committed run nor lets the next run add the same records twice.

This module is the run (reading bundles, batching, writing parts, the
summary); :mod:`~analysis.ingest.ledger`, :mod:`~analysis.ingest.opening`,
:mod:`~analysis.ingest.dataset`, :mod:`~analysis.ingest.quarantine`,
:mod:`~analysis.ingest.definitions` and :mod:`~analysis.ingest.outcome`
hold the rest. Errors are rendered only by :mod:`analysis.cli`.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator


from surveycore.bundle import BundleReader, bundle_count, display_name
from surveycore.errors import EnvelopeError
from surveycore.questionnaire import Survey
from analysis.envelopes import Opened, rows_of, validate_body
from analysis.keys import TeamPrivateKey
from analysis.ingest.dataset import (ANSWER_SCHEMA, RESPONSE_SCHEMA, STAGED, STATES, _frame, _publish, _write_staged,
                                     scan_answers, scan_responses)
from analysis.ingest.definitions import (_bundle_definitions, catalogue_of, cross_check, dataset_surveys,
                                         keep_definitions, module_index, with_surveys)
from analysis.ingest.outcome import FIXES, QUARANTINE_DETAIL_MAX, IngestResult
from analysis.ingest.ledger import _DataLock, _id_hash, _ledger, _recover
from analysis.ingest.opening import _Entry, _Opening, _check_keys, _key_id
from analysis.ingest.quarantine import (RETRY_NAME, _bounded, _settle_quarantine, _size, _write_quarantine,
                                        held_definitions, hold_definitions, quarantined_envelopes)


__all__ = ["ANSWER_SCHEMA", "RESPONSE_SCHEMA", "STATES", "IngestResult", "ingest", "module_index",
           "catalogue_of", "validate_body", "rows_of", "scan_responses", "scan_answers",
           "PARALLEL_MIN", "DEFAULT_WORKERS"]


DEFAULT_WORKERS = 2


# Below this many envelopes, starting a worker process costs more than it
# saves. bench/bench_ingest.py on 2 shared cores, with the workers started
# while the bundles are read: 500 envelopes took 1.7x the in-process time
# with a second process, 1,000 took 0.90x, 2,000 0.76x, 8,000 0.58x.
PARALLEL_MIN = 1000


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
    held: list[bytes] = []                     # definitions of bundles from kiosks not trusted yet
    for k, bundle_path in enumerate(bundles):
        tell("read", sum(sizes[:k]), sum(sizes))
        name = display_name(Path(bundle_path).name)
        try:
            with BundleReader(bundle_path) as reader:
                ids = _check_pass(reader, name, tell, sum(sizes[:k]), sum(sizes))
            if reader.definitions:
                surveys, manifests = _bundle_definitions(reader.definitions, name, trusted)
                if not manifests:
                    held.append(reader.definitions)  # a kiosk not trusted yet: for the retry once it is
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
    used: list[Path] = []
    if retry:
        retried = quarantined_envelopes(data_dir)
        sources.append(_Source(RETRY_NAME, None, len(retried), envelopes=retried))
        # The definitions of the quarantined envelopes: those their bundles
        # carried from a kiosk trusted since, and those the dataset keeps.
        for f in held_definitions(data_dir):
            try:
                surveys, manifests = _bundle_definitions(f.read_bytes(), RETRY_NAME, trusted)
            except (OSError, EnvelopeError):
                continue  # a damaged copy: the kiosk's next bundle carries them again
            if manifests:
                carried.update(surveys)
                carried_files.update(manifests)
                used.append(f)
        for h, survey in dataset_surveys(data_dir).items():
            carried.setdefault(h, survey)
        key_ids |= {i for i in map(_key_id, retried) if i is not None}
    if require_key_match:
        _check_keys(key_ids, keys)  # before anything is written
    data = Path(data_dir)
    data.mkdir(parents=True, exist_ok=True)
    lock = _DataLock(data)
    try:
        result = _ingest(bundles, sources, quarantine, bundle_rows, data, questionnaire_dirs, opening, processes,
                         today or dt.date.today(), clock, carried, carried_files, tell)
        hold_definitions(data, held)
        if retry:
            _settle_quarantine(data, retried, result)
            for f in used:  # now kept in DATA/definitions/
                f.unlink(missing_ok=True)
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
