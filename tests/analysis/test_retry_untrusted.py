"""A new centre's bundle ingested before its kiosk was trusted, then the fix
the message gives: trust its device.pub, run 'analysis ingest
--retry-quarantine'. Every response comes in, read with the definitions its
bundle carried (the centre's own neighbourhoods), none refused for an
answer those definitions allow."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from analysis import cli as analysis_cli
from analysis.ingest import scan_answers, scan_responses
from kiosk.keys import create_device_key
from kiosk.simulate import simulate
from tests.support.kiosks import PASSPHRASE, TeamKeys
from tests.support.paths import QUESTIONNAIRES
from tests.support.surveys import site_survey

PLACES = [("villeneuve", "Villeneuve"), ("berriat", "Berriat"), ("mistral", "Mistral")]


def test_retry_after_trusting_the_kiosk_uses_the_definitions_its_bundle_carried(tmp_path: Path, team: TeamKeys,
                                                                                capsys) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "grenoble"
    survey = site_survey(folder, "GRENOBLE", "grenoble", PLACES)
    create_device_key(folder / "device.key")
    bundle = folder / "b.hkb"
    counts = simulate(40, survey, team.dir / "team.pub", folder / "device.key", bundle, seed=5,
                      module_dirs=[QUESTIONNAIRES])
    passphrase = tmp_path / "passphrase.txt"
    passphrase.write_bytes(PASSPHRASE + b"\n")
    data = tmp_path / "dataset"
    ingest = ["ingest", "--key", str(team.dir / "team.key"), "--passphrase-file", str(passphrase),
              "--data", str(data)]
    # Another kiosk is trusted, this one not yet: all 40 quarantined.
    other = tmp_path / "other.key"
    create_device_key(other)
    assert analysis_cli.main(["trust", str(other.with_suffix(".pub")), "--data", str(data)]) == 0
    capsys.readouterr()
    assert analysis_cli.main([*ingest, str(bundle)]) == 3
    out = capsys.readouterr().out
    assert out.startswith("ingested: 0\nalready ingested (skipped): 0\nquarantined: 40\n  [ENV-023] 40 envelope(s)")

    assert analysis_cli.main(["trust", str(folder / "device.pub"), "--data", str(data), "--label", "Grenoble"]) == 0
    capsys.readouterr()
    assert analysis_cli.main([*ingest, "--retry-quarantine"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ingested: 40\nalready ingested (skipped): 0\nquarantined: 0\n"), out
    assert "left the quarantine: 40\n" in out

    responses = scan_responses(data).collect()
    assert responses.height == 40 and set(responses["centre"]) == {"GRENOBLE"}
    assert responses.group_by("status").len().sort("status").rows() == sorted(
        (s, n) for s, n in counts.items() if s != "test" and n)
    # Each response names a survey definition the dataset keeps: the centre's.
    kept = {p.stem: json.loads(p.read_text()) for p in (data / "definitions" / "surveys").glob("*.json")}
    assert set(responses["survey_hash"]) <= set(kept)
    assert {m["id"] for m in kept.values()} == {"grenoble"}
    answers = scan_answers(data).filter((pl.col("item") == "neighbourhood") & (pl.col("state") == "answered"))
    places = set(answers.collect()["value"])
    assert places and places <= {code for code, _ in PLACES}
    # Nothing is left in the quarantine.
    assert sorted(p.name for p in (data / "quarantine").iterdir()) == []
