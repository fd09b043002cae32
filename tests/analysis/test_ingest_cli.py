"""`analysis ingest` tells the truth: exit statuses, one summary line per
reason code with the fix, a retry of the quarantine, progress only on a
terminal, nothing asked before the inputs are known readable, and bounds on
what one hostile bundle may cost."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import struct
from pathlib import Path

import pytest

from surveycore.bundle import bundle_bytes, read_bundle, write_bundle
from analysis import cli as analysis_cli
from analysis import keys as analysis_keys
from analysis.ingest import QUARANTINE_DETAIL_MAX
from kiosk.simulate import simulate
from kiosk.keys import create_device_key
from tests.support.kiosks import PASSPHRASE, TeamKeys
from tests.support.paths import REPO
from tests.support.surveys import SAINT_DENIS, site_survey

QUESTIONNAIRES = REPO / "questionnaires"


@pytest.fixture
def setup(tmp_path: Path, team: TeamKeys) -> dict:
    """A device the dataset trusts, and the ingest arguments."""
    device = tmp_path / "device" / "device.key"
    create_device_key(device)
    data = tmp_path / "data"
    assert analysis_cli.main(["trust", str(device.with_name("device.pub")), "--data", str(data)]) == 0
    pw = tmp_path / "pw.txt"
    pw.write_text(PASSPHRASE.decode() + "\n")
    return {"device": device, "data": data,
            "args": ["--key", str(team.dir / "team.key"), "--passphrase-file", str(pw), "--data", str(data)]}


def test_a_missing_bundle_stops_the_run_before_the_passphrase(tmp_path: Path, team: TeamKeys, monkeypatch,
                                                              capsys) -> None:  # type: ignore[no-untyped-def]
    def asked(*_a, **_k):  # type: ignore[no-untyped-def]
        raise AssertionError("the passphrase was asked for")
    monkeypatch.setattr(analysis_keys, "read_passphrase", asked)
    data = tmp_path / "data"
    missing = tmp_path / "monday.hkb"
    code = analysis_cli.main(["ingest", str(missing), "--key", str(team.dir / "team.key"), "--data", str(data),
                              "--any-device"])
    assert code == analysis_cli.EXIT_NOT_STARTED == 1
    assert capsys.readouterr().err == f"error: [BND-001] bundle {str(missing)!r} not found; export the bundle again from the kiosk (nothing was removed there) and ingest the new file (see docs/errors.md#bnd-001)\n"
    assert not data.exists()


def test_a_fifo_is_refused_instead_of_hanging(tmp_path: Path, team: TeamKeys, capsys) -> None:  # type: ignore[no-untyped-def]
    fifo = tmp_path / "pipe.hkb"
    os.mkfifo(fifo)
    code = analysis_cli.main(["ingest", str(fifo), "--key", str(team.dir / "team.key"), "--data",
                              str(tmp_path / "data"), "--any-device"])
    assert code == 1
    assert capsys.readouterr().err == (f"error: [BND-008] {str(fifo)!r} is not a regular file (a pipe, socket or "
                                       "device); copy the bundle to a file first (see docs/errors.md#bnd-008)\n")


def test_full_quarantine_exits_non_zero_with_one_line_per_code_then_retry(tmp_path: Path, team: TeamKeys,
                                                                         setup: dict, capsys) -> None:  # type: ignore[no-untyped-def]
    # A version 1 bundle (no definitions) from a site with its own
    # neighbourhoods, ingested without the site's survey file.
    survey = site_survey(tmp_path / "site", "SAINT-DENIS", "saint_denis", SAINT_DENIS)
    simulate(80, survey, team.dir / "team.pub", setup["device"], tmp_path / "new.hkb", seed=4,
             module_dirs=[QUESTIONNAIRES])
    old = tmp_path / "old.hkb"
    write_bundle(old, read_bundle(tmp_path / "new.hkb").envelopes)
    code = analysis_cli.main(["ingest", str(old), *setup["args"]])
    out = capsys.readouterr().out
    assert code == analysis_cli.EXIT_QUARANTINED == 3
    lines = out.splitlines()
    quarantined = int(lines[2].removeprefix("quarantined: "))
    ingested = int(lines[0].removeprefix("ingested: "))
    assert quarantined > 40 and ingested + quarantined == 80
    detail = [x for x in lines if x.startswith("  ")]
    assert len(detail) == 1  # one line per reason code, never one per envelope
    assert detail[0].startswith(f"  [ING-007] {quarantined} envelope(s), e.g. old.hkb #")
    assert "answer '" in detail[0] and "is not valid for item 'demographics.neighbourhood'" in detail[0]
    assert detail[0].endswith("; fix: the definitions the kiosk ran are not known here: export a new bundle from "
                              "the kiosk (it carries them), or give the site's survey folder with --questionnaires; "
                              "then run 'analysis ingest --retry-quarantine --key K --data DATA'")
    data = setup["data"]
    assert len(list((data / "quarantine").glob("*.env"))) == quarantined
    # Retry with the site's survey: everything leaves the quarantine.
    code = analysis_cli.main(["ingest", "--retry-quarantine", "--questionnaires", str(survey.parent),
                              *setup["args"]])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith(f"ingested: {quarantined}\nalready ingested (skipped): 0\nquarantined: 0\n")
    assert f"left the quarantine: {quarantined}\n" in out
    assert list((data / "quarantine").glob("*.env")) == []
    assert (data / "quarantine.jsonl").read_text() == ""
    # The retry's run has its own receipt (one per kiosk and per run).
    latest = max((data / "receipts").iterdir(), key=lambda p: int(p.stem.rsplit("-run", 1)[1]))
    receipt = json.loads(latest.read_text())
    assert receipt["count"] == quarantined
    # The version 2 bundle: everything already held, exit 0.
    assert analysis_cli.main(["ingest", str(tmp_path / "new.hkb"), *setup["args"]]) == 0
    assert capsys.readouterr().out.startswith("ingested: 0\nalready ingested (skipped): 80\nquarantined: 0\n")


def test_a_retry_keeps_what_still_fails(tmp_path: Path, team: TeamKeys, setup: dict, capsys) -> None:  # type: ignore[no-untyped-def]
    envs = [b"HKSE" + bytes([1, 1]) + bytes(8) + bytes([i]) * 40 for i in range(3)]  # unopenable
    write_bundle(tmp_path / "junk.hkb", envs)
    assert analysis_cli.main(["ingest", str(tmp_path / "junk.hkb"), *setup["args"], "--any-device"]) == 1
    assert "[KEY-050]" in capsys.readouterr().err  # sealed for no key given: the run does not start
    good = tmp_path / "good.hkb"
    simulate(3, QUESTIONNAIRES / "demo_survey.yaml", team.dir / "team.pub", setup["device"], good, seed=1,
             module_dirs=[QUESTIONNAIRES])
    mixed = tmp_path / "mixed.hkb"
    write_bundle(mixed, read_bundle(good).envelopes + [e[:6] + team.private.public.key_id + e[14:] for e in envs])
    assert analysis_cli.main(["ingest", str(mixed), *setup["args"]]) == 3
    assert len(list((setup["data"] / "quarantine").glob("*.env"))) == 3
    capsys.readouterr()
    assert analysis_cli.main(["ingest", "--retry-quarantine", *setup["args"]]) == 3
    out = capsys.readouterr().out
    assert "quarantined: 3\n  [ENV-022] 3 envelope(s), e.g. <quarantine> #0 and 2 more" in out
    assert "left the quarantine: 0\n" in out
    log = [json.loads(x) for x in (setup["data"] / "quarantine.jsonl").read_text().splitlines()]
    assert sorted(e["code"] for e in log) == ["ENV-022"] * 3  # one line each, not one per attempt


@pytest.mark.slow
def test_a_hostile_bundle_costs_bounded_work(tmp_path: Path, team: TeamKeys, setup: dict,
                                             capsys) -> None:  # type: ignore[no-untyped-def]
    # Announcing more envelopes than a bundle may hold: refused at once.
    huge = tmp_path / "huge.hkb"
    huge.write_bytes(b"HKBUNDLE" + struct.pack(">BI", 1, 200_001) + bytes(64))
    # Many small distinct envelopes: each is refused, but only the first
    # QUARANTINE_DETAIL_MAX are kept one by one.
    n = QUARANTINE_DETAIL_MAX + 500
    key_id = team.private.public.key_id
    small = tmp_path / "small.hkb"
    small.write_bytes(bundle_bytes([b"HKSE\x01\x01" + key_id + i.to_bytes(4, "big") for i in range(n)]))
    code = analysis_cli.main(["ingest", str(huge), str(small), *setup["args"], "--any-device"])
    out = capsys.readouterr().out
    assert code == 3
    assert f"quarantined: {n + 1}\n" in out
    assert ("  [BND-007] 1 bundle(s), e.g. huge.hkb: bundle 'huge.hkb' announces 200,001 envelopes, more than one "
            "bundle may hold (200,000); export more often so each bundle is smaller; fix: export more often so "
            "each bundle stays within the limits\n") in out.replace(str(tmp_path) + "/", "")
    assert f"  [ENV-022] {n} envelope(s), e.g. small.hkb #0 and {n - 1} more: " in out
    data = setup["data"]
    # The refused bundle is one of the entries kept one by one (no file).
    assert len(list((data / "quarantine").glob("*.env"))) == QUARANTINE_DETAIL_MAX - 1
    log = (data / "quarantine.jsonl").read_text().splitlines()
    assert len(log) == QUARANTINE_DETAIL_MAX + 1
    assert json.loads(log[-1])["count"] == n + 1 - QUARANTINE_DETAIL_MAX
    db = sqlite3.connect(data / "ledger.sqlite3")
    assert db.execute("SELECT count(*) FROM outcomes").fetchone()[0] == QUARANTINE_DETAIL_MAX + 1
    db.close()


def test_a_bundle_name_that_is_not_utf8(tmp_path: Path, team: TeamKeys, setup: dict, capsys) -> None:  # type: ignore[no-untyped-def]
    name = os.fsdecode(b"lundi-\xff.hkb")
    path = tmp_path / name
    simulate(2, QUESTIONNAIRES / "demo_survey.yaml", team.dir / "team.pub", setup["device"], tmp_path / "ok.hkb",
             seed=1, module_dirs=[QUESTIONNAIRES])
    raw = (tmp_path / "ok.hkb").read_bytes()
    path.write_bytes(raw[:-1] + bytes([raw[-1] ^ 1]))  # damaged checksum
    assert analysis_cli.main(["ingest", str(path), *setup["args"]]) == 3
    out = capsys.readouterr().out
    assert "  [BND-003] 1 bundle(s), e.g. lundi-\ufffd.hkb: bundle '" in out


def test_progress_only_on_a_terminal(tmp_path: Path, team: TeamKeys, setup: dict, monkeypatch,
                                     capsys) -> None:  # type: ignore[no-untyped-def]
    bundle = tmp_path / "b.hkb"
    simulate(30, QUESTIONNAIRES / "demo_survey.yaml", team.dir / "team.pub", setup["device"], bundle, seed=1,
             module_dirs=[QUESTIONNAIRES])
    assert analysis_cli.main(["ingest", str(bundle), *setup["args"]]) == 0
    assert capsys.readouterr().err == ""  # not a terminal: quiet

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True
    screen = Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    assert analysis_cli.main(["ingest", str(bundle), *setup["args"]]) == 0
    shown = screen.getvalue()
    for label in ("reading bundles", "opening envelopes", "writing the dataset"):
        assert label in shown
    assert "opening envelopes: 100%" in shown and "30/30" in shown
