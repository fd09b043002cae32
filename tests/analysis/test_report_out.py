"""Where `analysis report` writes (--out, --pdf), on a dataset of the
shipped full survey: a folder given for the file, or a place that cannot be
written, is refused before any work and records no release; a new folder
on the way is created, as `analysis export` does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis import cli as analysis_cli
from analysis.ingest import ingest
from kiosk.keys import create_device_key
from kiosk.simulate import simulate
from tests.support.kiosks import TeamKeys
from tests.support.paths import QUESTIONNAIRES
from tests.support.surveys import site_survey


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory, team: TeamKeys) -> Path:
    root = tmp_path_factory.mktemp("report-out")
    survey = site_survey(root / "lyon", "LYON", "lyon", [("nord", "Nord"), ("sud", "Sud")])
    create_device_key(root / "device.key")
    simulate(60, survey, team.dir / "team.pub", root / "device.key", root / "b.hkb", seed=3,
             module_dirs=[QUESTIONNAIRES])
    assert ingest([root / "b.hkb"], team.keys, root / "dataset", []).ingested == 60
    return root / "dataset"


def _releases(data: Path) -> list[str]:
    ledger = data / "releases.jsonl"
    return [json.loads(x)["file"] for x in ledger.read_text().splitlines()] if ledger.exists() else []


def test_a_folder_or_an_unwritable_place_is_refused_before_any_work(dataset: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    before = _releases(dataset)
    folder = tmp_path / "reports"
    folder.mkdir()
    assert analysis_cli.main(["report", "--data", str(dataset), "--out", str(folder)]) == 1
    assert capsys.readouterr().err == (
        f"error: [RPT-007] --out {str(folder)!r} is a folder; give the report's file name in it, for example "
        f"{str(folder / 'report.html')!r} (see docs/errors.md#rpt-007)\n")
    assert analysis_cli.main(["report", "--data", str(dataset), "--out", str(tmp_path / "r.html"),
                              "--pdf", str(folder)]) == 1
    assert capsys.readouterr().err.startswith(f"error: [RPT-007] --pdf {str(folder)!r} is a folder; ")
    assert analysis_cli.main(["report", "--data", str(dataset), "--out", "/proc/no-such/report.html"]) == 1
    assert capsys.readouterr().err == (
        "error: [RPT-007] --out '/proc/no-such/report.html': cannot create the folder '/proc/no-such' (No such "
        "file or directory); choose a folder you can write (see docs/errors.md#rpt-007)\n")
    assert list(folder.iterdir()) == [] and not (tmp_path / "r.html").exists()
    assert _releases(dataset) == before


def test_a_new_folder_on_the_way_is_created(dataset: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "2026" / "q4" / "report.html"
    assert analysis_cli.main(["report", "--data", str(dataset), "--out", str(out), "--lang", "en"]) == 0
    assert capsys.readouterr().out == f"report written to {out}\n"
    assert out.read_text(encoding="utf-8").startswith("<!doctype html><html lang=\"en\"")
    assert _releases(dataset)[-1] == "report.html"
