"""Faults: a kiosk killed at random points loses no acknowledged response;
damaged, forged, foreign, untrusted and replayed envelopes are each refused
or deduplicated with their exact reason while everything valid is ingested,
and the dataset ends up identical to a clean ingest; key mistakes give clear
errors from the command line."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from analysis import cli as analysis_cli
from analysis.envelopes import open_envelope
from analysis.ingest import ingest
from analysis.receipts import write_receipts
from analysis.keys import keygen
from bench.fault_kill import check_outbox, kill_rounds
from surveycore.bundle import read_bundle, write_bundle
from surveycore.envelope import (HEADER_LEN, INFO_PREFIX, Header, bucket_size, build_inner, canonical_json,
                                 signed_message)
from surveycore.keys import device_id, device_raw, hpke_suite, load_public_key
from surveycore.response import max_body_size, response_body
from kiosk import cli as kiosk_cli
from kiosk.config import KioskRuntime, load_config
from kiosk.flow import Respondent
from kiosk.keys import load_device_key
from kiosk.sealing import seal
from tests.support.kiosks import PASSPHRASE, make_kiosk
from tests.support.datasets import content

AGAIN = "export it again from the kiosk: nothing was removed there"
CANNOT_OPEN = "[ENV-022] cannot open: the envelope was altered, truncated, or sealed for another key"
BAD_SIGNATURE = "[ENV-013] device signature does not verify: forged or altered response"


@pytest.mark.slow
def test_kill_9_during_submissions_loses_no_acknowledged_response(kiosk_dir: Path, team) -> None:
    acked, killed = kill_rounds(kiosk_dir, kills=5, per_round=60)
    assert killed == 5
    check = check_outbox(kiosk_dir, acked, team.keys)
    assert check.acknowledged >= 5
    assert check.missing == []
    assert check.integrity == "ok"
    assert check.unreadable == []
    assert check.stored >= check.acknowledged  # a kill after the commit, before the print, is not a loss


# ---------------------------------------------------------------- ingest


def flip(env: bytes, offset: int, mask: int = 0x01) -> bytes:
    b = bytearray(env)
    b[offset] ^= mask
    return bytes(b)


def forge(body: dict, pub, device, pad: int, *, bad_signature: bool = False, altered: bool = False) -> bytes:
    """Seal a body the way a kiosk does, except for the fault asked for: a
    flipped signature bit, or a body changed after signing. Anyone holding
    the team's public key can seal; only the device key can sign."""
    header = Header(1, pub.suite, pub.key_id).to_bytes()
    data = canonical_json(body)
    signature = device.sign(signed_message(header, data))
    if bad_signature:
        signature = flip(signature, 17)
    if altered:  # the language changed after signing (whichever the body had)
        other = "en" if body["lang"] == "fr" else "fr"
        changed = data.replace(f'"lang":"{body["lang"]}"'.encode(), f'"lang":"{other}"'.encode())
        assert changed != data
        data = changed
    inner = build_inner(data, device_raw(device.public_key()), signature, bucket_size(len(data), pad))
    return header + hpke_suite(pub.suite).encrypt(inner, pub.key, info=INFO_PREFIX + header)


@pytest.fixture
def scene(kiosk_dir: Path, team, tmp_path: Path):
    """A trusted kiosk with 12 responses and 2 declines exported as good.hkb,
    a kiosk nobody trusted, and a kiosk sealing for another team's key."""
    rt = KioskRuntime(load_config(kiosk_dir))
    plans = [("1", "1", "3"), ("2", "2", "3"), ("3", "1", "2"), (None, "2", "1")]
    for i in range(12):
        r = Respondent(rt.survey, "fr")
        for code in plans[i % 4]:
            r.prefer_not() if code is None else r.answer(code)
        rt.submit(r)
    rt.decline("en")
    rt.decline("fr")
    survey = rt.survey
    pad = max_body_size(survey)
    rt.outbox.close()
    assert kiosk_cli.main(["export", "--config", str(kiosk_dir), "--out", str(tmp_path / "good.hkb")]) == 0
    good = read_bundle(tmp_path / "good.hkb").envelopes

    rogue_cfg = make_kiosk(tmp_path / "rogue", team)
    rogue_rt = KioskRuntime(load_config(rogue_cfg))
    rogue_rt.decline("fr")
    rogue_env = rogue_rt.outbox.pending()[0][1]
    rogue_rt.outbox.close()

    keygen(tmp_path / "other-team", PASSPHRASE, n=2 ** 12)
    foreign_pub = load_public_key(tmp_path / "other-team" / "team.pub")
    device = load_device_key(load_config(kiosk_dir).device_key)
    foreign = seal(response_body(survey, "fr", "declined", {}, [], dt.date(2026, 11, 22)), foreign_pub, device, pad)
    trusted = [device_raw(device.public_key())]
    return {"good": good, "rogue": rogue_env, "rogue_fp": device_id(load_device_key(
        load_config(rogue_cfg).device_key).public_key()), "foreign": foreign, "foreign_id": foreign_pub.key_id,
        "device": device, "pad": pad, "trusted": trusted}


def test_damaged_forged_foreign_and_replayed_envelopes(scene, team, kiosk_dir: Path, tmp_path: Path) -> None:
    good, device, pad = scene["good"], scene["device"], scene["pad"]
    pub = load_public_key(team.dir / "team.pub")
    ours = team.private.public.key_id.hex()
    body0, _ = open_envelope(good[0], team.keys)
    body8, _ = open_envelope(good[8], team.keys)
    conflicting = dict(body0, lang="en" if body0["lang"] == "fr" else "fr")
    cases = [
        (flip(good[1], 0), "[ENV-003] not an envelope (bad magic bytes): damaged or not ours"),
        (flip(good[2], 4), "[ENV-004] envelope format version 0 is not supported (expected 1); update the "
                           "analysis software"),
        (flip(good[3], 5, 0x04), "[ENV-005] unknown cipher suite 5 in header: damaged"),
        (flip(good[3], 5, 0x03), "[ENV-021] header suite does not match the key's suite: altered header"),
        (flip(good[4], 9), f"[ENV-020] sealed for key {flip(good[4], 9)[6:14].hex()}, which is not one of ours "
                           f"({ours})"),
        (flip(good[5], HEADER_LEN + 10), CANNOT_OPEN),               # the KEM encapsulation
        (flip(good[6], len(good[6]) // 2), CANNOT_OPEN),              # the ciphertext
        (flip(good[7], len(good[7]) - 1), CANNOT_OPEN),               # the authentication tag
        (good[7][:200], CANNOT_OPEN),                                  # a truncated envelope
        (good[7][:9], "[ENV-002] envelope too short (9 bytes): truncated"),
        (forge(body8, pub, device, pad, bad_signature=True), BAD_SIGNATURE),
        (forge(body8, pub, device, pad, altered=True), BAD_SIGNATURE),
        (scene["foreign"], f"[ENV-020] sealed for key {scene['foreign_id'].hex()}, which is not one of ours "
                           f"({ours})"),
        (scene["rogue"], f"[ENV-023] signed by device {scene['rogue_fp']}, which is not in the trusted devices "
                         "list; add its device.pub with 'analysis trust' if it is one of yours"),
        (forge(conflicting, pub, device, pad), "[ING-022] same envelope id as the response ingested in good.hkb #0 "
                                               "but different content: replayed id or forged response"),
    ]
    # mixed.hkb: the faults, then replays of good envelopes (the same bytes,
    # and the first one twice), then one valid envelope found nowhere else.
    fresh = forge(dict(body8, id="ab" * 16), pub, device, pad)
    mixed = [env for env, _ in cases] + [good[0], good[0], good[9], fresh]
    write_bundle(tmp_path / "mixed.hkb", mixed)
    truncated = tmp_path / "truncated.hkb"
    write_bundle(truncated, good[:3])
    truncated.write_bytes(truncated.read_bytes()[:-40])

    data = tmp_path / "data"
    bundles = [tmp_path / "good.hkb", tmp_path / "mixed.hkb", truncated]
    first = ingest(bundles, team.keys, data, [kiosk_dir.parent / "survey"], scene["trusted"])
    n = len(cases)
    assert first.quarantined == [
        ("truncated.hkb", -1, f"[BND-006] bundle {str(truncated)!r} is truncated (ends inside envelope 3 of 3); "
                              f"{AGAIN}"),
        *[("mixed.hkb", i, reason) for i, (_, reason) in enumerate(cases)]]
    assert first.duplicate_list == [
        ("mixed.hkb", n, "[ING-020] same response as good.hkb #0 in this run"),
        ("mixed.hkb", n + 1, "[ING-020] same response as good.hkb #0 in this run"),
        ("mixed.hkb", n + 2, "[ING-020] same response as good.hkb #9 in this run")]
    assert (first.ingested, first.duplicates, first.run) == (15, 3, 1)
    good_ids = {open_id(env, team) for env in good}
    assert first.receipt_ids == sorted(good_ids | {"ab" * 16})

    # The same bundles twice more: every valid envelope is a duplicate now.
    for run in (2, 3):
        again = ingest(bundles, team.keys, data, [kiosk_dir.parent / "survey"], scene["trusted"])
        assert (again.ingested, again.run) == (0, run)
        assert again.duplicate_list[:2] == [("good.hkb", 0, "[ING-021] already ingested (run 1)"),
                                            ("good.hkb", 1, "[ING-021] already ingested (run 1)")]
        assert again.duplicates == 14 + 4
        # The id reused with other content now conflicts with the ledger.
        assert again.quarantined == first.quarantined[:-1] + [(
            "mixed.hkb", n - 1, "[ING-022] same envelope id as the response ingested in run 1 but different "
                                "content: replayed id or forged response")]
        assert again.receipt_ids == first.receipt_ids

    # The dataset is exactly what a clean ingest of the valid envelopes gives.
    write_bundle(tmp_path / "clean.hkb", good + [fresh])
    clean = tmp_path / "clean"
    assert ingest([tmp_path / "clean.hkb"], team.keys, clean, [kiosk_dir.parent / "survey"]).ingested == 15
    assert content(data) == content(clean)
    assert len(content(data)) == 15


def open_id(env: bytes, team) -> str:
    return open_envelope(env, team.keys)[0]["id"]


# ------------------------------------------------------ key mistakes (CLI)

@pytest.fixture
def exported(kiosk_dir: Path, tmp_path: Path) -> Path:
    rt = KioskRuntime(load_config(kiosk_dir))
    rt.decline("fr")
    rt.outbox.close()
    bundle = tmp_path / "b.hkb"
    assert kiosk_cli.main(["export", "--config", str(kiosk_dir), "--out", str(bundle)]) == 0
    return bundle


def _ingest_args(bundle: Path, key: Path, passphrase: str, tmp_path: Path) -> list[str]:
    pw = tmp_path / "pw.txt"
    pw.write_text(passphrase + "\n")
    return ["ingest", str(bundle), "--key", str(key), "--passphrase-file", str(pw),
            "--data", str(tmp_path / "data"), "--any-device"]


def test_wrong_passphrase(exported: Path, team, tmp_path: Path, capsys) -> None:
    capsys.readouterr()
    assert analysis_cli.main(_ingest_args(exported, team.dir / "team.key", "not the passphrase", tmp_path)) == 1
    assert capsys.readouterr() == ("", f"error: [KEY-043] wrong passphrase for {str(team.dir / 'team.key')!r} "
                                       "(or the file was altered); give the passphrase chosen at 'analysis keygen' (--passphrase-file or the prompt) (see docs/errors.md#key-043)\n")
    assert not (tmp_path / "data").exists()


def test_wrong_key(exported: Path, team, tmp_path: Path, capsys) -> None:
    other = keygen(tmp_path / "other", PASSPHRASE, n=2 ** 12)
    capsys.readouterr()
    assert analysis_cli.main(_ingest_args(exported, tmp_path / "other" / "team.key", PASSPHRASE.decode(),
                                          tmp_path)) == 1
    assert capsys.readouterr() == ("", (
        f"error: [KEY-050] no envelope is sealed for the key(s) given (key id {other.public.key_id.hex()}); the "
        f"bundles are sealed for key id {team.private.public.key_id.hex()}: give that team key with --key (see docs/errors.md#key-050)\n"))
    assert not (tmp_path / "data").exists()


def test_missing_key_file_and_public_key_given(exported: Path, team, tmp_path: Path, capsys) -> None:
    capsys.readouterr()
    missing = tmp_path / "nope.key"
    assert analysis_cli.main(_ingest_args(exported, missing, PASSPHRASE.decode(), tmp_path)) == 1
    assert capsys.readouterr() == ("", f"error: [KEY-040] private key file {str(missing)!r} not found; give the "
                                       "path to the team's .key file made by 'analysis keygen' (see docs/errors.md#key-040)\n")
    assert analysis_cli.main(_ingest_args(exported, team.dir / "team.pub", PASSPHRASE.decode(), tmp_path)) == 1
    assert capsys.readouterr() == ("", f"error: [KEY-041] {str(team.dir / 'team.pub')!r} is not a team private "
                                       "key file (this is the public key; give the .key file) (see docs/errors.md#key-041)\n")
    assert not (tmp_path / "data").exists()


def test_receipt_of_a_faulty_ingest_lets_the_kiosk_keep_what_was_refused(kiosk_dir: Path, team,
                                                                         tmp_path: Path, capsys) -> None:
    rt = KioskRuntime(load_config(kiosk_dir))
    ids = [rt.decline("fr") for _ in range(3)]
    rt.outbox.close()
    assert kiosk_cli.main(["export", "--config", str(kiosk_dir), "--out", str(tmp_path / "b.hkb")]) == 0
    envs = read_bundle(tmp_path / "b.hkb").envelopes
    damaged_id = open_id(envs[1], team)
    write_bundle(tmp_path / "b.hkb", [envs[0], flip(envs[1], len(envs[1]) // 2), envs[2]])
    result = ingest([tmp_path / "b.hkb"], team.keys, tmp_path / "data", [kiosk_dir.parent / "survey"])
    assert result.quarantined == [("b.hkb", 1, CANNOT_OPEN)]
    (receipt,) = write_receipts(tmp_path / "receipts", result.run, result.receipt_devices, team.keys)
    assert json.loads(receipt.read_text())["envelopes"] == sorted(set(ids) - {damaged_id})
    capsys.readouterr()
    assert kiosk_cli.main(["confirm", str(receipt), "--config", str(kiosk_dir)]) == 0
    assert capsys.readouterr().out == ("removed 2 envelope(s) confirmed as ingested\n"
                                       "1 envelope(s) remain on this kiosk\n")


def test_a_torn_quarantine_line_stays_alone_and_is_skipped_by_the_reader(kiosk_dir: Path, team,
                                                                          tmp_path: Path) -> None:
    from analysis.jsonlog import read_lines
    rt = KioskRuntime(load_config(kiosk_dir))
    rt.decline("fr")
    rt.outbox.close()
    assert kiosk_cli.main(["export", "--config", str(kiosk_dir), "--out", str(tmp_path / "b.hkb")]) == 0
    (env,) = read_bundle(tmp_path / "b.hkb").envelopes
    write_bundle(tmp_path / "b.hkb", [flip(env, len(env) // 2)])
    data = tmp_path / "data"
    data.mkdir()
    # A kill in the middle of an earlier append left half a line.
    (data / "quarantine.jsonl").write_text('{"run": 1, "bundle": "a.hkb", "index": 0, "co')
    ingest([tmp_path / "b.hkb"], team.keys, data, [kiosk_dir.parent / "survey"])
    lines = (data / "quarantine.jsonl").read_text().split("\n")
    assert lines[0] == '{"run": 1, "bundle": "a.hkb", "index": 0, "co' and lines[-1] == ""
    assert json.loads(lines[1])["code"] == "ENV-022"
    entries, damaged = read_lines(data / "quarantine.jsonl")
    assert damaged == 1 and [e["code"] for e in entries] == ["ENV-022"]
