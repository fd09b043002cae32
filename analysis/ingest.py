"""Ingest: bundles of sealed envelopes → the team's Parquet dataset.

Idempotent: a ledger of hashed envelope ids makes re-ingesting a bundle a
no-op. What fails (damaged, forged, for another key, unknown module, invalid
answers) is quarantined with one reason per envelope; everything valid is
still ingested. Records are shuffled and given fresh random row ids, so
neither arrival order nor envelope ids survive into the dataset.

Dataset layout (hive-partitioned)::

    DATA/responses/part-<uuid>.parquet                 one row per response
    DATA/answers/module=<id>/major=<n>/part-<uuid>.parquet   one row per answer
    DATA/ledger.sqlite3                                 hashed envelope ids, ingest log
    DATA/quarantine/<sha256>.env + quarantine.jsonl     rejected envelopes and reasons
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import polars as pl

from kiosk.errors import EnvelopeError, KioskError, ValidationError
from kiosk.questionnaire import Module, load_module
from kiosk.sealing import STATUSES
from kiosk.store import read_bundle

from analysis.envelopes import open_envelope
from analysis.keys import TeamPrivateKey

RESPONSE_SCHEMA = {"rid": pl.String, "survey": pl.String, "survey_version": pl.String,
                   "centre": pl.String, "period": pl.String, "lang": pl.String,
                   "status": pl.String, "test": pl.Boolean}
ANSWER_SCHEMA = {"rid": pl.String, "module": pl.String, "major": pl.Int64, "version": pl.String,
                 "item": pl.String, "state": pl.String, "value": pl.String}
# Answer states: answered (value = code or number), refused ("prefer not to
# answer"), skipped (not shown by skip logic), none (multiple choice, nothing).
STATES = ("answered", "refused", "skipped", "none")


def module_index(dirs: Iterable[str | Path]) -> dict[tuple[str, str], Module]:
    """Every valid module found in ``dirs``, by (id, version)."""
    out: dict[tuple[str, str], Module] = {}
    for d in dirs:
        for f in sorted(Path(d).glob("*.yaml")):
            try:
                m = load_module(f)
            except ValidationError:
                continue  # surveys and broken files are reported by 'kiosk check'
            out.setdefault((m.id, m.version), m)
    return out


def validate_body(body: dict[str, Any], modules: dict[tuple[str, str], Module]) -> list[Module]:
    """Check a decrypted body against the module definitions; return the
    modules it uses or raise :class:`EnvelopeError` with the first problem."""
    for key in ("id", "survey", "modules", "centre", "period", "lang", "status", "answers"):
        if key not in body:
            raise EnvelopeError(f"response lacks field {key!r}", code="ING-001")
    if body["status"] not in STATUSES:
        raise EnvelopeError(f"unknown status {body['status']!r}", code="ING-002")
    used = []
    for ref in body["modules"]:
        m = modules.get((str(ref.get("id")), str(ref.get("version"))))
        if m is None:
            raise EnvelopeError(f"module {ref.get('id')!r} version {ref.get('version')} is not in the "
                                "questionnaire folders given to ingest (--questionnaires)", code="ING-003")
        if m.hash != ref.get("hash"):
            raise EnvelopeError(f"module {m.id} {m.version}: definition hash {ref.get('hash')} differs from "
                                f"the local file's {m.hash}; use the exact module file the kiosk ran",
                                code="ING-004")
        used.append(m)
    items = {it.key: it for m in used for it in m.items}
    answers = body["answers"]
    if not isinstance(answers, dict):
        raise EnvelopeError("answers are not a mapping", code="ING-005")
    for key, value in answers.items():
        it = items.get(key)
        if it is None:
            raise EnvelopeError(f"answer to unknown item {key!r}", code="ING-006")
        if value is None:
            continue
        codes = {c.code for c in it.choices}
        ok = True
        if it.type in ("single", "scale"):
            ok = isinstance(value, str) and value in codes
        elif it.type == "multiple":
            ok = isinstance(value, list) and all(isinstance(v, str) and v in codes for v in value)
        elif it.type == "integer":
            ok = isinstance(value, int) and not isinstance(value, bool) and \
                (it.minimum is None or it.minimum <= value <= (it.maximum if it.maximum is not None else value))
        if not ok:
            raise EnvelopeError(f"answer {value!r} is not valid for item {key!r}", code="ING-007")
    for key in body.get("skipped", []):
        if key not in items:
            raise EnvelopeError(f"skipped item {key!r} is unknown", code="ING-006")
    return used


@dataclass
class IngestResult:
    """What one ingest run did."""

    ingested: int = 0
    duplicates: int = 0
    quarantined: list[tuple[str, int, str]] = field(default_factory=list)  # (bundle, index, reason)
    receipt_ids: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line per fact, for the command line."""
        lines = [f"ingested: {self.ingested}", f"already ingested (skipped): {self.duplicates}",
                 f"quarantined: {len(self.quarantined)}"]
        for bundle, index, reason in self.quarantined:
            lines.append(f"  {bundle} #{index}: {reason}")
        return "\n".join(lines)


def _ledger(data_dir: Path) -> sqlite3.Connection:
    db = sqlite3.connect(data_dir / "ledger.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE IF NOT EXISTS ingested (id_hash BLOB PRIMARY KEY) WITHOUT ROWID")
    db.execute("CREATE TABLE IF NOT EXISTS runs (n INTEGER PRIMARY KEY, bundles TEXT, ingested INTEGER,"
               " duplicates INTEGER, quarantined INTEGER)")
    return db


def _id_hash(envelope_id: str) -> bytes:
    return hashlib.sha256(b"health-kiosk/ledger/" + envelope_id.encode()).digest()


def rows_of(body: dict[str, Any], used: list[Module], rid: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Flatten one response into a responses row and answer rows."""
    response = {"rid": rid, "survey": str(body["survey"]["id"]), "survey_version": str(body["survey"]["version"]),
                "centre": str(body["centre"]), "period": str(body["period"]), "lang": str(body["lang"]),
                "status": str(body["status"]), "test": bool(body.get("test", False))}
    answers = body["answers"]
    skipped = set(body.get("skipped", []))
    rows: list[dict[str, Any]] = []
    for m in used:
        for it in m.items:
            if not it.is_question:
                continue
            base = {"rid": rid, "module": m.id, "major": m.major, "version": m.version, "item": it.id}
            if it.key in skipped:
                rows.append({**base, "state": "skipped", "value": None})
            elif it.key in answers:
                value = answers[it.key]
                if value is None:
                    rows.append({**base, "state": "refused", "value": None})
                elif isinstance(value, list):
                    if not value:
                        rows.append({**base, "state": "none", "value": None})
                    rows.extend({**base, "state": "answered", "value": str(v)} for v in value)
                else:
                    rows.append({**base, "state": "answered", "value": str(value)})
            # Items neither answered nor skipped were never reached (partial).
    return response, rows


def ingest(bundles: list[str | Path], keys: dict[bytes, TeamPrivateKey], data_dir: str | Path,
           questionnaire_dirs: list[str | Path], trusted_devices: set[str] | None = None) -> IngestResult:
    """Open, verify, validate, deduplicate and store the envelopes of
    ``bundles``. Safe to run any number of times on the same bundles."""
    data = Path(data_dir)
    data.mkdir(parents=True, exist_ok=True)
    modules = module_index(questionnaire_dirs)
    ledger = _ledger(data)
    result = IngestResult()
    responses: list[dict[str, Any]] = []
    answers: list[dict[str, Any]] = []
    new_hashes: list[bytes] = []
    seen_now: set[bytes] = set()
    quarantine_log: list[dict[str, Any]] = []
    for bundle_path in bundles:
        name = Path(bundle_path).name
        try:
            bundle = read_bundle(bundle_path)
        except EnvelopeError as exc:
            result.quarantined.append((name, -1, exc.user_text()))
            quarantine_log.append({"bundle": name, "index": -1, "reason": exc.user_text()})
            continue
        for index, env in enumerate(bundle.envelopes):
            try:
                body, _device = open_envelope(env, keys, trusted_devices)
                used = validate_body(body, modules)
            except KioskError as exc:
                result.quarantined.append((name, index, exc.user_text()))
                digest = hashlib.sha256(env).hexdigest()
                (data / "quarantine").mkdir(exist_ok=True)
                (data / "quarantine" / f"{digest}.env").write_bytes(env)
                quarantine_log.append({"bundle": name, "index": index, "sha256": digest,
                                       "reason": exc.user_text()})
                continue
            h = _id_hash(str(body["id"]))
            if h in seen_now or ledger.execute("SELECT 1 FROM ingested WHERE id_hash = ?", (h,)).fetchone():
                result.duplicates += 1
                result.receipt_ids.append(str(body["id"]))
                continue
            seen_now.add(h)
            new_hashes.append(h)
            result.receipt_ids.append(str(body["id"]))
            response, rows = rows_of(body, used, secrets.token_hex(8))
            responses.append(response)
            answers.extend(rows)
    if responses:
        _write(data, responses, answers)
    # The ledger is committed after the data files: a crash in between leaves
    # records that the next run would add again, so the ledger and files are
    # committed in this order and a run's files are named by a fresh uuid.
    ledger.execute("BEGIN")
    ledger.executemany("INSERT OR IGNORE INTO ingested VALUES (?)", [(h,) for h in new_hashes])
    ledger.execute("INSERT INTO runs (bundles, ingested, duplicates, quarantined) VALUES (?, ?, ?, ?)",
                   (json.dumps([Path(b).name for b in bundles]), len(responses), result.duplicates,
                    len(result.quarantined)))
    ledger.execute("COMMIT")
    ledger.close()
    if quarantine_log:
        with open(data / "quarantine.jsonl", "a", encoding="utf-8") as fh:
            for entry in quarantine_log:
                fh.write(json.dumps(entry) + "\n")
    result.ingested = len(responses)
    return result


def _write(data: Path, responses: list[dict[str, Any]], answers: list[dict[str, Any]]) -> None:
    part = uuid.uuid4().hex
    # Shuffle so file order carries no arrival order.
    rdf = pl.DataFrame(responses, schema=RESPONSE_SCHEMA).sample(fraction=1.0, shuffle=True)
    (data / "responses").mkdir(exist_ok=True)
    rdf.write_parquet(data / "responses" / f"part-{part}.parquet")
    adf = pl.DataFrame(answers, schema=ANSWER_SCHEMA)
    for (module, major), group in adf.group_by(["module", "major"]):
        d = data / "answers" / f"module={module}" / f"major={major}"
        d.mkdir(parents=True, exist_ok=True)
        group.drop("module", "major").sample(fraction=1.0, shuffle=True).write_parquet(d / f"part-{part}.parquet")


def write_receipt(path: str | Path, result: IngestResult) -> None:
    """The receipt a kiosk needs to delete what the analysts hold safely."""
    Path(path).write_text(json.dumps({"kind": "health-kiosk-receipt", "version": 1,
                                      "envelopes": sorted(result.receipt_ids)}, indent=1) + "\n",
                          encoding="utf-8")


def scan_responses(data_dir: str | Path) -> pl.LazyFrame:
    """All responses of the dataset (lazy)."""
    files = sorted((Path(data_dir) / "responses").glob("*.parquet"))
    if not files:
        return pl.DataFrame(schema=RESPONSE_SCHEMA).lazy()
    return pl.scan_parquet(files)


def scan_answers(data_dir: str | Path) -> pl.LazyFrame:
    """All answers of the dataset (lazy), with module and major from the
    hive partition path."""
    root = Path(data_dir) / "answers"
    if not any(root.glob("module=*/major=*/*.parquet")):
        return pl.DataFrame(schema=ANSWER_SCHEMA).lazy()
    return pl.scan_parquet(root / "**" / "*.parquet", hive_partitioning=True,
                           hive_schema={"module": pl.String, "major": pl.Int64}).select(list(ANSWER_SCHEMA))
