"""The dataset folder is the format docs/dataset.md describes: DuckDB reads
it as is and finds the project's own figures; two teams' datasets pool only
when compatible."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from analysis import cli as analysis_cli
from analysis.federate import PoolError, pool
from analysis.ingest import ingest, scan_responses
from analysis.disclosure import Protection
from analysis.report import build_release
from kiosk.simulate import simulate
from kiosk.keys import create_device_key
from surveycore.questionnaire import load_module
from tests.support.paths import REPO
from tests.support.kiosks import TeamKeys

QUESTIONNAIRES = REPO / "questionnaires"


def team_dataset(tmp_path: Path, team: TeamKeys, name: str, centres: list[str], n: int = 60,
                 edit=lambda text: text) -> Path:  # type: ignore[no-untyped-def]
    """A dataset of ``n`` simulated demo-survey responses per centre."""
    data = tmp_path / name / "dataset"
    bundles = []
    for centre in centres:
        folder = tmp_path / name / centre
        folder.mkdir(parents=True)
        text = edit((QUESTIONNAIRES / "demo_survey.yaml").read_text().replace("centre: DEMO", f"centre: {centre}"))
        (folder / "survey.yaml").write_text(text)
        shutil.copy(QUESTIONNAIRES / "mehm.yaml", folder / "mehm.yaml")
        create_device_key(folder / "device.key")
        simulate(n, folder / "survey.yaml", team.dir / "team.pub", folder / "device.key", folder / "b.hkb", seed=7)
        bundles.append(folder / "b.hkb")
    result = ingest(bundles, team.keys, data, [])
    assert (result.ingested, result.quarantined) == (n * len(centres), [])
    return data


def test_duckdb_reads_the_dataset_and_finds_the_projects_figures(tmp_path: Path, team: TeamKeys) -> None:
    data = team_dataset(tmp_path, team, "a", ["NORD", "SUD"], n=200)
    # The counting itself (no perturbation) is what DuckDB must find again.
    release = build_release(data, [QUESTIONNAIRES], protection=Protection.exact())
    db = duckdb.connect()
    # The documented globs and columns, nothing else.
    answers = f"read_parquet('{data}/answers/**/*.parquet', hive_partitioning = true)"
    responses = f"read_parquet('{data}/responses/*.parquet')"
    types = dict(db.execute(f"DESCRIBE SELECT * FROM {responses}").fetchall()[i][:2]
                 for i in range(9))
    assert types == {"rid": "UBIGINT", "survey": "VARCHAR", "survey_version": "VARCHAR", "centre": "VARCHAR",
                     "period": "VARCHAR", "lang": "VARCHAR", "status": "VARCHAR", "test": "BOOLEAN",
                     "survey_hash": "VARCHAR"}
    total = db.execute(f"SELECT count(*) FROM {responses} WHERE NOT test").fetchone()[0]
    assert total == release.views["participation"].total.n == 400
    rows = db.execute(f"""
        SELECT a.value, count(*) FROM {answers} a JOIN {responses} r USING (rid)
        WHERE a.module = 'mehm' AND a.major = 1 AND a.item = 'general_health' AND a.state = 'answered'
          AND NOT r.test
        GROUP BY a.value ORDER BY a.value""").fetchall()
    view = release.views["mehm.general_health"]
    compared = 0
    for code, persons in rows:
        figure = view.cells[(code, "")]
        if figure.n is not None:  # a hidden figure is not published: nothing to compare
            assert figure.n == persons, code
            compared += 1
    assert compared >= 2
    # Every response names a definition the dataset keeps.
    hashes = {h for (h,) in db.execute(f"SELECT DISTINCT survey_hash FROM {responses}").fetchall()}
    assert {p.stem for p in (data / "definitions" / "surveys").glob("*.json")} == hashes


def test_two_teams_pool_when_compatible(tmp_path: Path, team: TeamKeys, capsys) -> None:  # type: ignore[no-untyped-def]
    a = team_dataset(tmp_path, team, "a", ["NORD"])
    b = team_dataset(tmp_path, team, "b", ["SUD"])
    out = tmp_path / "region"
    assert analysis_cli.main(["pool", str(a), str(b), "--out", str(out)]) == 0
    assert capsys.readouterr().out == (f"pooled 120 response(s) of 2 dataset(s) into {out}: definitions compatible, "
                                       "no response in two datasets\n")
    centres = scan_responses(out).collect().group_by("centre").len().sort("centre").rows()
    assert centres == [("NORD", 60), ("SUD", 60)]
    release = build_release(out, [QUESTIONNAIRES], protection=Protection.exact())
    assert release.views["participation"].total.n == 120
    # A pooled dataset is for analysis only.
    assert analysis_cli.main(["ingest", str(tmp_path / "a" / "NORD" / "b.hkb"), "--key", "k", "--data", str(out),
                              "--any-device"]) == 1
    assert "[POOL-005]" in capsys.readouterr().err


def test_incompatible_or_overlapping_datasets_are_refused(tmp_path: Path, team: TeamKeys) -> None:
    a = team_dataset(tmp_path, team, "a", ["NORD"])
    # The same bundles ingested by a second team: counted twice if pooled.
    twice = tmp_path / "twice"
    ingest([tmp_path / "a" / "NORD" / "b.hkb"], team.keys, twice, [])
    with pytest.raises(PoolError) as exc:
        pool([a, twice], tmp_path / "out1")
    assert exc.value.code == "POOL-006"
    # mehm edited in place by the other team: one version, two texts.
    changed = team_dataset(tmp_path, team, "c", ["EST"])
    mehm = tmp_path / "c" / "EST" / "mehm.yaml"
    mehm.write_text(mehm.read_text().replace("Very good", "Very well", 1))
    (tmp_path / "c2").mkdir()
    survey = tmp_path / "c" / "EST" / "survey.yaml"
    create_device_key(tmp_path / "c2" / "device.key")
    simulate(20, survey, team.dir / "team.pub", tmp_path / "c2" / "device.key", tmp_path / "c2" / "b.hkb", seed=1)
    other = tmp_path / "c2" / "dataset"
    ingest([tmp_path / "c2" / "b.hkb"], team.keys, other, [])
    with pytest.raises(PoolError) as exc:
        pool([a, other], tmp_path / "out2")
    assert exc.value.code == "POOL-003"
    mehm_hashes = sorted([(load_module(QUESTIONNAIRES / "mehm.yaml").hash, "NORD", a),
                          (load_module(mehm).hash, "EST", other)])
    assert exc.value.message.startswith(
        "module(s) mehm 1.0.0 (" + "; ".join(f"hash {h} in {str(d)!r} ({c})" for h, c, d in mehm_hashes)
        + ") have different texts under the same version")
    assert not (tmp_path / "out1").exists() and not (tmp_path / "out2").exists()
    assert changed.exists()


def test_an_item_whose_answer_codes_differ_within_one_major_version_is_refused(tmp_path: Path,
                                                                               team: TeamKeys) -> None:
    a = team_dataset(tmp_path, team, "a", ["NORD"])
    # The other team gave mehm a new minor version in which an answer code
    # of general health changed: the two datasets' answers mean different
    # things under one major version.
    folder = tmp_path / "b" / "OUEST"
    folder.mkdir(parents=True)
    (folder / "survey.yaml").write_text((QUESTIONNAIRES / "demo_survey.yaml").read_text()
                                        .replace("centre: DEMO", "centre: OUEST")
                                        .replace("{id: mehm, version: 1.0.0}", "{id: mehm, version: 1.1.0}"))
    mehm = (QUESTIONNAIRES / "mehm.yaml").read_text().replace("version: 1.0.0", "version: 1.1.0", 1)
    (folder / "mehm.yaml").write_text(mehm.replace('    - code: "1"\n', '    - code: "0"\n', 1))
    create_device_key(folder / "device.key")
    simulate(20, folder / "survey.yaml", team.dir / "team.pub", folder / "device.key", folder / "b.hkb", seed=3)
    other = tmp_path / "b" / "dataset"
    assert ingest([folder / "b.hkb"], team.keys, other, []).ingested == 20
    with pytest.raises(PoolError) as exc:
        pool([a, other], tmp_path / "out")
    assert exc.value.code == "POOL-004"
    # Each answer-code list is named with its module version, centre and dataset.
    assert exc.value.message.startswith(
        f"item(s) mehm@1.general_health (single, codes 1 2 3 4 5: mehm 1.0.0 in {str(a)!r} (NORD); single, "
        f"codes 0 2 3 4 5: mehm 1.1.0 in {str(other)!r} (OUEST)) have different types or answer codes "
        "within one major version")
    assert not (tmp_path / "out").exists()
