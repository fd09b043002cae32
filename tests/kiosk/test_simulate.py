"""Synthetic responses through the real sealing path: walk the survey with
kiosk.flow, seal, bundle, then ingest and report."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import polars as pl

from surveycore.bundle import read_bundle
from surveycore.questionnaire import load_survey
from analysis import cli as analysis_cli
from kiosk import cli as kiosk_cli
from analysis.ingest import ingest, scan_answers, scan_responses
from analysis.report import build_release
from kiosk.simulate import Behaviour, simulate
from tests.support.paths import REPO
from tests.support.kiosks import TeamKeys, make_kiosk

SURVEY = REPO / "questionnaires" / "full_survey.yaml"
TODAY = dt.date(2026, 6, 15)


def simulated_dataset(tmp_path: Path, team: TeamKeys, name: str, seed: int, n: int = 120) -> tuple[Path, dict]:
    kiosk = make_kiosk(tmp_path / f"kiosk-{name}", team)
    bundle = tmp_path / f"{name}.hkb"
    counts = simulate(n, SURVEY, team.dir / "team.pub", kiosk.parent / "device" / "device.key", bundle,
                      seed=seed, behaviour=Behaviour(decline=0.1, abandon_per_screen=0.01, test_mode=0.05),
                      module_dirs=[REPO / "questionnaires"], today=TODAY)
    envelopes = read_bundle(bundle).envelopes
    assert len(envelopes) == n
    assert len({len(e) for e in envelopes}) == 1  # padded: sizes reveal nothing
    data = tmp_path / f"data-{name}"
    result = ingest([bundle], team.keys, data, [REPO / "questionnaires"])
    assert (result.ingested, len(result.quarantined)) == (n, 0)
    return data, counts


def rows(data: Path) -> tuple[list, list]:
    responses = scan_responses(data).collect().drop("rid").sort(pl.all()).rows()
    answers = scan_answers(data).collect().drop("rid").sort(pl.all(), nulls_last=True).rows()
    return responses, answers


@pytest.mark.slow
def test_simulated_bundle_ingests_and_is_reproducible(tmp_path: Path, team: TeamKeys) -> None:
    data, counts = simulated_dataset(tmp_path, team, "a", seed=11)
    assert counts["complete"] + counts["partial"] + counts["declined"] == 120
    assert counts["declined"] > 0 and counts["partial"] > 0 and counts["test"] > 0
    responses = scan_responses(data).collect()
    assert responses.group_by("status").len().sort("status").rows() == sorted(
        (s, counts[s]) for s in ("complete", "declined", "partial") if counts[s])
    assert int(responses["test"].sum()) == counts["test"]
    # Periods are ISO weeks within the last 26 weeks before TODAY.
    allowed = {"{}-W{:02d}".format(*(TODAY - dt.timedelta(days=d)).isocalendar()[:2]) for d in range(182)}
    weeks = set(responses["period"].to_list())
    assert weeks <= allowed and len(weeks) > 10
    survey = load_survey(SURVEY, [REPO / "questionnaires"])
    assert set(responses["lang"].to_list()) <= set(survey.site.languages)
    answers = scan_answers(data).collect()
    states = set(answers["state"].to_list())
    assert {"answered", "refused"} <= states
    # The same seed gives the same answers (envelope ids and rids stay random).
    again, _ = simulated_dataset(tmp_path, team, "b", seed=11)
    assert rows(data) == rows(again)
    other, _ = simulated_dataset(tmp_path, team, "c", seed=12)
    assert rows(data) != rows(other)


@pytest.mark.slow
def test_simulate_command_then_report(tmp_path: Path, team: TeamKeys, capsys) -> None:  # type: ignore[no-untyped-def]
    kiosk = make_kiosk(tmp_path / "kiosk", team)
    bundle = tmp_path / "sim.hkb"
    assert kiosk_cli.main(["simulate", "--n", "40", "--survey", str(SURVEY), "--pub", str(team.dir / "team.pub"),
                           "--device-key", str(kiosk.parent / "device" / "device.key"), "--out", str(bundle),
                           "--seed", "3"]) == 0
    assert "40 synthetic responses sealed into" in capsys.readouterr().out
    data = tmp_path / "data"
    assert ingest([bundle], team.keys, data, [REPO / "questionnaires"]).ingested == 40
    release = build_release(data, [REPO / "questionnaires"])
    # Published with the cell key method's noise (at most 2 either way).
    assert abs(release.views["participation"].total.n - 40) <= 2
    shutil.rmtree(data)


def test_analysis_simulate_names_the_kiosk_command(capsys) -> None:  # type: ignore[no-untyped-def]
    # Simulation seals with a kiosk's device key: it is a kiosk command. The
    # old spelling says where it went, with a code, and no argparse noise.
    assert analysis_cli.main(["simulate", "--n", "40", "--survey", str(SURVEY), "--out", "x.hkb"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ("error: [CFG-060] 'analysis simulate' is now 'kiosk simulate', with the same options "
                            "(it seals responses with a kiosk's device key); run 'kiosk simulate --help' (see docs/errors.md#cfg-060)\n")
