"""Ingest: parallel and in-process opening give the same dataset; trusted
devices; key rotation end to end; site choice lists; validation reasons;
a crash at any point of a run neither loses nor doubles records."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from pathlib import Path

import polars as pl
import pytest

from surveycore.bundle import read_bundle, write_bundle
from surveycore.errors import EnvelopeError
from surveycore.keys import device_id, load_public_key
from surveycore.questionnaire import load_survey
from surveycore.response import response_body
from analysis import cli as analysis_cli
from analysis import ingest as ingest_module
from analysis.ingest import _DataLock, ingest, scan_answers, scan_responses
from analysis.keys import keygen, load_private_key
from kiosk import cli as kiosk_cli
from kiosk.cli import QUESTIONNAIRES
from kiosk.config import KioskRuntime, load_config
from kiosk.flow import Respondent
from kiosk.keys import create_device_key, load_device_key
from tests.support.kiosks import PASSPHRASE, make_kiosk, receipt_of
from tests.support.kiosks import seal_body

# (general health, chronic, limitation) codes; None = prefer not to answer.
PLANS = [("1", "1", "3"), ("2", "2", "3"), ("3", "1", "2"), (None, "2", "1"), ("5", "1", "1")]


def fill(config: Path, n: int, declines: int = 0) -> list[str]:
    """Submit ``n`` responses (cycling through PLANS) and ``declines``."""
    rt = KioskRuntime(load_config(config))
    try:
        ids = []
        for i in range(n):
            r = Respondent(rt.survey, "fr" if i % 3 else "en")
            for code in PLANS[i % len(PLANS)]:
                r.prefer_not() if code is None else r.answer(code)
            ids.append(rt.submit(r))
        ids += [rt.decline("en") for _ in range(declines)]
        return ids
    finally:
        rt.outbox.close()


def export(config: Path, out: Path) -> Path:
    assert kiosk_cli.main(["export", "--config", str(config), "--out", str(out)]) == 0
    return out


def content(data: Path) -> list[tuple]:
    """The dataset without row ids: each response with its sorted answers."""
    responses = scan_responses(data).collect()
    answers = scan_answers(data).collect()
    assert set(answers["rid"]) <= set(responses["rid"])
    assert responses["rid"].n_unique() == responses.height
    per: dict[str, list[tuple]] = {}
    for row in answers.iter_rows(named=True):
        per.setdefault(row["rid"], []).append(tuple(v for k, v in row.items() if k != "rid"))
    return sorted(((tuple(v for k, v in row.items() if k != "rid"), tuple(sorted(per.get(row["rid"], []), key=repr)))
                   for row in responses.iter_rows(named=True)), key=repr)


def qdirs(config: Path) -> list[Path]:
    return [config.parent / "survey"]


@pytest.mark.slow
def test_worker_processes_and_in_process_give_the_same_dataset(kiosk_dir: Path, team, tmp_path: Path) -> None:
    fill(kiosk_dir, 40, declines=5)
    bundle = export(kiosk_dir, tmp_path / "b.hkb")
    inproc = ingest([bundle], team.keys, tmp_path / "a", qdirs(kiosk_dir), workers=1)
    parallel = ingest([bundle], team.keys, tmp_path / "b", qdirs(kiosk_dir), workers=2, parallel_min=0)
    assert (inproc.workers, parallel.workers) == (1, 2)
    assert (parallel.ingested, parallel.duplicates, parallel.quarantined) == (45, 0, [])
    assert content(tmp_path / "a") == content(tmp_path / "b")
    assert len(content(tmp_path / "a")) == 45
    assert inproc.receipt_ids == parallel.receipt_ids
    assert inproc.receipt_devices == parallel.receipt_devices  # worker processes tell the kiosk too
    assert len(inproc.receipt_devices) == 45
    # Small inputs are opened in-process even when workers are allowed.
    again = ingest([bundle], team.keys, tmp_path / "c", qdirs(kiosk_dir), workers=2)
    assert again.workers == 1


def test_ingest_requires_a_trusted_list_or_any_device(kiosk_dir: Path, team, tmp_path: Path, capsys) -> None:
    ids = fill(kiosk_dir, 3)
    other = make_kiosk(tmp_path / "other", team)  # a kiosk nobody trusted
    fill(other, 2)
    bundles = [export(kiosk_dir, tmp_path / "ours.hkb"), export(other, tmp_path / "theirs.hkb")]
    pw = tmp_path / "pw.txt"
    pw.write_text(PASSPHRASE.decode() + "\n")
    data = tmp_path / "data"
    args = ["ingest", *map(str, bundles), "--key", str(team.dir / "team.key"), "--passphrase-file", str(pw),
            "--data", str(data), "--questionnaires", str(kiosk_dir.parent / "survey")]
    assert analysis_cli.main(args) == 1
    assert capsys.readouterr().err == (
        f"error: [ING-030] no list of trusted devices in {str(data)!r}; add each kiosk's device.pub with "
        f"'analysis trust DEVICE.pub --data {data}', or pass --any-device to accept any kiosk whose "
        "signature verifies (see docs/errors.md#ing-030)\n")
    assert not data.exists()

    device_pub = load_config(kiosk_dir).device_key.with_name("device.pub")
    assert analysis_cli.main(["trust", str(device_pub), "--data", str(data)]) == 0
    capsys.readouterr()
    assert analysis_cli.main(args) == 3  # something was quarantined
    other_fp = device_id(load_device_key(load_config(other).device_key).public_key())
    untrusted = (f"signed by device {other_fp}, which is not in the trusted devices list; add its "
                 "device.pub with 'analysis trust' if it is one of yours")
    assert capsys.readouterr().out == (
        "ingested: 3\nalready ingested (skipped): 0\nquarantined: 2\n"
        f"  [ENV-023] 2 envelope(s), e.g. theirs.hkb #0 and 1 more: {untrusted}; fix: once trusted, run "
        "'analysis ingest --retry-quarantine' with the same --key and --data\n"
        f"devices: 1 trusted ({data / 'trusted_devices.json'})\n"
        "run 1: 5 envelope(s) opened in-process\n"
        f"receipt for the kiosk ('kiosk confirm'): {receipt_of(data, kiosk_dir, 1)}\n"
        f"exit status 3: 2 refused (see above); details in {data / 'quarantine.jsonl'}\n")
    # Only the trusted kiosk's envelopes are receipted; the others stay on their kiosk.
    assert json.loads(receipt_of(data, kiosk_dir, 1).read_text())["envelopes"] == sorted(ids)
    assert sorted(p.name for p in (data / "receipts").iterdir()) == [receipt_of(data, kiosk_dir, 1).name]

    # Explicitly accepting any device takes the other kiosk's responses too.
    assert analysis_cli.main(args + ["--any-device"]) == 0
    assert capsys.readouterr().out.startswith("ingested: 2\nalready ingested (skipped): 3\nquarantined: 0\n"
                                              "devices: any device whose signature verifies was accepted "
                                              "(--any-device)\n")


def test_key_rotation_end_to_end(kiosk_dir: Path, team, tmp_path: Path, capsys) -> None:
    before = fill(kiosk_dir, 3)
    keygen(tmp_path / "new", b"another passphrase", n=2 ** 12)
    assert kiosk_cli.main(["set-key", str(tmp_path / "new" / "team.pub"), "--config", str(kiosk_dir)]) == 0
    after = fill(kiosk_dir, 2, declines=1)
    bundle = export(kiosk_dir, tmp_path / "b.hkb")
    new_key = load_public_key(tmp_path / "new" / "team.pub")
    assert sorted(env[6:14] == new_key.key_id for env in read_bundle(bundle).envelopes) == [False] * 3 + [True] * 3
    (tmp_path / "old.pw").write_text(PASSPHRASE.decode() + "\n")
    (tmp_path / "new.pw").write_text("another passphrase\n")
    capsys.readouterr()

    # Only the new key: the old envelopes are quarantined and stay on the kiosk.
    data = tmp_path / "data"
    base = ["ingest", str(bundle), "--data", str(data), "--any-device",
            "--questionnaires", str(kiosk_dir.parent / "survey")]
    assert analysis_cli.main(base + ["--key", str(tmp_path / "new" / "team.key"),
                                     "--passphrase-file", str(tmp_path / "new.pw")]) == 3
    out = capsys.readouterr().out
    assert out.startswith("ingested: 3\nalready ingested (skipped): 0\nquarantined: 3\n")
    old_id = load_public_key(team.dir / "team.pub").key_id.hex()
    assert out.count(f"  [ENV-020] 3 envelope(s), e.g. b.hkb #") == 1
    assert out.count(f" and 2 more: sealed for key {old_id}, which is not one of ours ({new_key.key_id.hex()}); "
                     "fix: give the team key they are sealed for with --key") == 1
    assert json.loads(receipt_of(data, kiosk_dir, 1).read_text())["envelopes"] == sorted(after)
    assert kiosk_cli.main(["confirm", str(receipt_of(data, kiosk_dir, 1)), "--config", str(kiosk_dir)]) == 0
    assert "removed 3 envelope(s) confirmed as ingested\n" in capsys.readouterr().out

    # Both keys, each with its own passphrase: the rest comes in.
    bundle2 = export(kiosk_dir, tmp_path / "b2.hkb")
    capsys.readouterr()
    assert analysis_cli.main(["ingest", str(bundle2), "--data", str(data), "--any-device",
                              "--questionnaires", str(kiosk_dir.parent / "survey"),
                              "--key", str(team.dir / "team.key"), "--key", str(tmp_path / "new" / "team.key"),
                              "--passphrase-file", str(tmp_path / "old.pw"),
                              "--passphrase-file", str(tmp_path / "new.pw")]) == 0
    assert capsys.readouterr().out.startswith("ingested: 3\nalready ingested (skipped): 0\nquarantined: 0\n")
    receipt = json.loads(receipt_of(data, kiosk_dir, 2).read_text())
    assert receipt["envelopes"] == sorted(before)
    # Signed by both keys: a kiosk with either team key accepts it.
    assert sorted(s["key_id"] for s in receipt["signatures"]) == sorted(
        [load_public_key(team.dir / "team.pub").key_id.hex(), new_key.key_id.hex()])
    assert kiosk_cli.main(["confirm", str(receipt_of(data, kiosk_dir, 2)), "--config", str(kiosk_dir)]) == 0
    assert "removed 3 envelope(s) confirmed as ingested\n" in capsys.readouterr().out
    assert scan_responses(data).collect().height == 6



def test_site_choice_lists_validate_against_the_survey(team, tmp_path: Path) -> None:
    survey = load_survey(QUESTIONNAIRES / "full_survey.yaml")
    device = create_device_key(tmp_path / "d.key")
    day = dt.date(2026, 11, 22)
    site_code = response_body(survey, "fr", "partial", {"demographics.neighbourhood": "la_gare"}, [], day)
    placeholder = response_body(survey, "fr", "partial", {"demographics.neighbourhood": "local"}, [], day)
    write_bundle(tmp_path / "b.hkb", [seal_body(survey, site_code, team, device),
                                      seal_body(survey, placeholder, team, device)])
    result = ingest([tmp_path / "b.hkb"], team.keys, tmp_path / "data", [QUESTIONNAIRES])
    assert result.ingested == 1
    assert result.quarantined == [
        ("b.hkb", 1, "[ING-007] answer 'local' is not valid for item 'demographics.neighbourhood'")]
    answers = scan_answers(tmp_path / "data").collect()
    assert answers.filter(answers["item"] == "neighbourhood")[["state", "value"]].rows() == [("answered", "la_gare")]


@pytest.mark.parametrize("change, reason", [
    (lambda b: b.update(period="2026-11-22"),
     "[ING-009] field 'period' '2026-11-22' is not an ISO week, month or quarter"),
    (lambda b: b.update(period="2026-W47\n"),
     "[ING-009] field 'period' '2026-W47\\n' is not an ISO week, month or quarter"),
    (lambda b: b.update(answers={"mehm.general_health": "9"}),
     "[ING-007] answer '9' is not valid for item 'mehm.general_health'"),
    (lambda b: b.update(answers={"mehm.no_such_item": "1"}), "[ING-006] answer to unknown item 'mehm.no_such_item'"),
    (lambda b: b["modules"][0].update(hash="0000000000000000"),
     "[ING-004] module mehm 1.0.0: definition hash 0000000000000000 differs from the local file's {hash}; use "
     "the exact module file the kiosk ran"),
    (lambda b: b["modules"][0].update(version="9.0.0"),
     "[ING-003] module 'mehm' version 9.0.0 is not in the questionnaire folders given to ingest (--questionnaires)"),
    (lambda b: b.update(v=2), "[ING-008] response format version 2 is not supported (expected 1); update the "
                              "analysis software"),
    (lambda b: b.update(when="09:41"), "[ING-010] response has unknown field(s) 'when' for format version 1"),
    (lambda b: b.pop("centre"), "[ING-001] response lacks field 'centre'"),
    (lambda b: b.update(id="not-an-id"), "[ING-009] field 'id' is not 32 lowercase hexadecimal digits"),
    (lambda b: b.update(status="maybe"), "[ING-002] unknown status 'maybe'"),
    (lambda b: b.update(status="declined"), "[ING-011] a response declined at consent carries answers"),
    (lambda b: b.update(answers=["1"]), "[ING-005] answers are not a mapping"),
])
def test_signed_but_invalid_bodies_are_quarantined_with_their_reason(team, tmp_path: Path, change,
                                                                      reason: str) -> None:
    survey = load_survey(QUESTIONNAIRES / "demo_survey.yaml")
    device = create_device_key(tmp_path / "d.key")
    good = response_body(survey, "fr", "complete", {"mehm.general_health": "1"}, [], dt.date(2026, 11, 22))
    bad = json.loads(json.dumps(good))
    bad["id"] = "f" * 32
    change(bad)
    write_bundle(tmp_path / "b.hkb", [seal_body(survey, good, team, device), seal_body(survey, bad, team, device)])
    result = ingest([tmp_path / "b.hkb"], team.keys, tmp_path / "data", [QUESTIONNAIRES])
    mehm_hash = survey.modules[0].hash
    assert (result.ingested, result.quarantined) == (1, [("b.hkb", 1, reason.format(hash=mehm_hash))])
    assert result.receipt_ids == [good["id"]]
    log = [json.loads(line) for line in (tmp_path / "data" / "quarantine.jsonl").read_text().splitlines()]
    assert [(e["bundle"], e["index"], e["code"], e["reason"]) for e in log] == [
        ("b.hkb", 1, reason[1:8], reason.format(hash=mehm_hash))]
    assert (tmp_path / "data" / "quarantine" / f"{log[0]['sha256']}.env").exists()


def test_a_crash_after_the_commit_is_completed_by_the_next_run(kiosk_dir: Path, team, tmp_path: Path,
                                                               monkeypatch) -> None:
    fill(kiosk_dir, 7)
    bundle = export(kiosk_dir, tmp_path / "b.hkb")
    data = tmp_path / "data"

    def crash(staged):
        raise KeyboardInterrupt  # the power goes out right after the ledger commit

    monkeypatch.setattr(ingest_module, "_publish", crash)
    with pytest.raises(KeyboardInterrupt):
        ingest([bundle], team.keys, data, qdirs(kiosk_dir))
    monkeypatch.undo()
    assert scan_responses(data).collect().height == 0  # staged files are not part of the dataset yet
    assert len(list(data.rglob("*.parquet.staged"))) >= 2

    again = ingest([bundle], team.keys, data, qdirs(kiosk_dir))
    assert (again.ingested, again.duplicates) == (0, 7)
    assert again.duplicate_list[0][2] == "[ING-021] already ingested (run 1)"
    assert scan_responses(data).collect().height == 7
    assert list(data.rglob("*.parquet.staged")) == []


def test_a_crash_before_the_commit_leaves_nothing(kiosk_dir: Path, team, tmp_path: Path, monkeypatch) -> None:
    fill(kiosk_dir, 4)
    bundle = export(kiosk_dir, tmp_path / "b.hkb")
    data = tmp_path / "data"
    real_write = ingest_module._write_staged

    def write_then_crash(*args):
        real_write(*args)
        raise KeyboardInterrupt

    monkeypatch.setattr(ingest_module, "_write_staged", write_then_crash)
    with pytest.raises(KeyboardInterrupt):
        ingest([bundle], team.keys, data, qdirs(kiosk_dir))
    monkeypatch.undo()
    assert len(list(data.rglob("*.parquet.staged"))) >= 2
    again = ingest([bundle], team.keys, data, qdirs(kiosk_dir))
    assert (again.ingested, again.duplicates, again.run) == (4, 0, 1)
    assert list(data.rglob("*.parquet.staged")) == []
    assert scan_responses(data).collect().height == 4


def test_one_ingest_at_a_time_and_the_ledger_keeps_every_run(kiosk_dir: Path, team, tmp_path: Path) -> None:
    fill(kiosk_dir, 2)
    bundle = export(kiosk_dir, tmp_path / "b.hkb")
    data = tmp_path / "data"
    data.mkdir()
    lock = _DataLock(data)
    try:
        with pytest.raises(EnvelopeError) as exc:
            ingest([bundle], team.keys, data, qdirs(kiosk_dir))
        assert exc.value.user_text() == f"[ING-040] another ingest is running on {str(data)!r}; wait for it to finish (see docs/errors.md#ing-040)"
    finally:
        lock.release()
    ingest([bundle], team.keys, data, qdirs(kiosk_dir))
    ingest([bundle, tmp_path / "missing.hkb"], team.keys, data, qdirs(kiosk_dir))
    db = sqlite3.connect(data / "ledger.sqlite3")
    try:
        runs = db.execute("SELECT n, bundles, ingested, duplicates, quarantined, state FROM runs").fetchall()
        outcomes = db.execute("SELECT run, bundle, idx, code FROM outcomes ORDER BY run, bundle, idx").fetchall()
    finally:
        db.close()
    assert runs == [(1, '["b.hkb"]', 2, 0, 0, "done"), (2, '["b.hkb", "missing.hkb"]', 0, 2, 1, "done")]
    assert outcomes == [(2, "b.hkb", 0, "ING-021"), (2, "b.hkb", 1, "ING-021"), (2, "missing.hkb", -1, "BND-001")]


def test_private_key_secret_rebuilds_the_same_key(team) -> None:
    from analysis.keys import key_from_secret
    again = key_from_secret(team.private.suite, team.private.secret)
    assert again.public.key_id == team.private.public.key_id
    assert "secret" not in repr(team.private)
    assert load_private_key(team.dir / "team.key", PASSPHRASE).secret == team.private.secret


def test_the_module_definition_is_found_by_its_hash_among_folders(team, tmp_path: Path) -> None:
    # Two folders hold mehm 1.0.0; the second copy was reworded (another hash).
    first, second = tmp_path / "first", tmp_path / "second"
    for d in (first, second):
        d.mkdir()
        shutil.copy(QUESTIONNAIRES / "demo_survey.yaml", d)
    shutil.copy(QUESTIONNAIRES / "mehm.yaml", first)
    (second / "mehm.yaml").write_text((QUESTIONNAIRES / "mehm.yaml").read_text().replace(
        "Your health in general", "Your health, in general"))
    survey = load_survey(second / "demo_survey.yaml")
    assert survey.modules[0].hash != load_survey(first / "demo_survey.yaml").modules[0].hash
    device = create_device_key(tmp_path / "d.key")
    body = response_body(survey, "en", "complete", {"mehm.general_health": "1"}, [], dt.date(2026, 11, 22))
    write_bundle(tmp_path / "b.hkb", [seal_body(survey, body, team, device)])
    result = ingest([tmp_path / "b.hkb"], team.keys, tmp_path / "data", [first, second])
    assert (result.ingested, result.quarantined) == (1, [])


def test_workers_must_be_at_least_one(tmp_path: Path, capsys) -> None:
    args = ["ingest", str(tmp_path / "b.hkb"), "--key", "k", "--data", str(tmp_path / "d"), "--workers", "0"]
    assert analysis_cli.main(args) == 1
    assert capsys.readouterr().err == "error: [CFG-030] --workers must be 1 (open in-process) or more; give --workers 1 (open in-process) or a larger number (see docs/errors.md#cfg-030)\n"


def test_dataset_rows_keep_64_bit_rids_and_categorical_answers(tmp_path: Path) -> None:
    # Half of all random 64-bit rids are 2**63 or more: they must survive the
    # row-to-frame step unchanged, next to categorical answer columns.
    from analysis.ingest import ANSWER_SCHEMA, _frame

    rows = [(2**64 - 1, "m", 1, "1.0.0", "q1", "answered", "a"), (2**63, "m", 1, "1.0.0", "q1", "refused", None),
            (5, "m", 1, "1.0.0", "q2", "answered", "b")]
    df = _frame(rows, ANSWER_SCHEMA)
    dtypes = [pl.UInt64, pl.String, pl.Int64, pl.Categorical, pl.Categorical, pl.Categorical, pl.Categorical]
    assert df.columns == list(ANSWER_SCHEMA) and df.dtypes == dtypes
    assert df.rows() == rows
    assert _frame([], ANSWER_SCHEMA).dtypes == dtypes
