"""Pooling teams' datasets of the shipped full survey as a region does it
(docs/dataset.md, "Pooling two teams' datasets"): the pooled counts are the
sum of the teams'; a response is never counted twice, even when a pooled
dataset is pooled again with one of the datasets it already holds; and the
teams' earlier public releases still guard the region's (REL-001)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis import cli as analysis_cli
from analysis.ingest import ingest, scan_responses
from kiosk.keys import create_device_key
from kiosk.simulate import simulate
from tests.support.kiosks import TeamKeys
from tests.support.paths import QUESTIONNAIRES
from tests.support.surveys import site_survey


def team_dataset(root: Path, team: TeamKeys, centres: dict[str, int]) -> Path:
    """One team's dataset: for each centre, its own copy of the shipped full
    survey and a bundle of simulated responses from its own kiosk."""
    bundles = []
    for centre, n in centres.items():
        folder = root / centre.lower()
        survey = site_survey(folder, centre, centre.lower().replace("-", "_"),
                             [("nord", "Nord"), ("sud", "Sud"), ("elsewhere", "Ailleurs")])
        create_device_key(folder / "device.key")
        simulate(n, survey, team.dir / "team.pub", folder / "device.key", folder / "b.hkb", seed=len(centre),
                 module_dirs=[QUESTIONNAIRES])
        bundles.append(folder / "b.hkb")
    data = root / "dataset"
    result = ingest(bundles, team.keys, data, [])
    assert (result.ingested, result.quarantined) == (sum(centres.values()), [])
    return data


@pytest.fixture(scope="module")
def teams(tmp_path_factory: pytest.TempPathFactory, team: TeamKeys) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("teams")
    return {"a": team_dataset(root / "a", team, {"LYON": 40, "LILLE": 30}),
            "b": team_dataset(root / "b", team, {"SAINT-DENIS": 25, "MARSEILLE": 20}),
            "c": team_dataset(root / "c", team, {"NANTES": 15}),
            "small": team_dataset(root / "small", team, {"GAP": 5})}


def centres(data: Path) -> dict[str, int]:
    return dict(scan_responses(data).collect().group_by("centre").len().rows())


def test_a_region_of_regions_counts_every_response_once(teams: dict[str, Path], tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    ab = tmp_path / "ab"
    assert analysis_cli.main(["pool", str(teams["a"]), str(teams["b"]), "--out", str(ab)]) == 0
    assert capsys.readouterr().out == (f"pooled 115 response(s) of 2 dataset(s) into {ab}: definitions compatible, "
                                       "no response in two datasets\n")
    assert centres(ab) == {"LYON": 40, "LILLE": 30, "SAINT-DENIS": 25, "MARSEILLE": 20}
    # A pooled dataset pooled again with another team: still the sum.
    abc = tmp_path / "abc"
    assert analysis_cli.main(["pool", str(ab), str(teams["c"]), "--out", str(abc)]) == 0
    assert centres(abc) == {"LYON": 40, "LILLE": 30, "SAINT-DENIS": 25, "MARSEILLE": 20, "NANTES": 15}


def test_a_pooled_dataset_given_with_a_dataset_it_holds_is_refused(teams: dict[str, Path], tmp_path: Path,
                                                                    capsys) -> None:  # type: ignore[no-untyped-def]
    ab = tmp_path / "ab"
    assert analysis_cli.main(["pool", str(teams["a"]), str(teams["b"]), "--out", str(ab)]) == 0
    capsys.readouterr()
    out = tmp_path / "again"
    assert analysis_cli.main(["pool", str(ab), str(teams["a"]), "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"error: [POOL-006] 70 response(s) of {str(teams['a'])!r} are also in {str(ab)!r} (a pooled dataset "
        "already holds the datasets it was pooled from; the same bundles ingested by two teams are in both "
        "their datasets): pooling would count them twice; give each response's dataset once: leave out the "
        "datasets a pooled dataset already holds (see docs/errors.md#pool-006)\n")
    assert not out.exists()
    # A pooled dataset made before pooled datasets kept their envelope ids
    # is still recognised: its responses are the very ones of its sources.
    (ab / "pooled_ids.sqlite3").unlink()
    assert analysis_cli.main(["pool", str(teams["a"]), str(ab), "--out", str(out)]) == 1
    assert "[POOL-006] 70 response(s) of" in capsys.readouterr().err
    assert not out.exists()


def test_a_dataset_given_twice_is_refused(teams: dict[str, Path], tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "twice"
    assert analysis_cli.main(["pool", str(teams["a"]), str(teams["a"]) + "/", "--out", str(out)]) == 1
    assert capsys.readouterr().err == (
        f"error: [POOL-006] {str(teams['a'])!r} is given twice; give each dataset once "
        "(see docs/errors.md#pool-006)\n")
    assert not out.exists()


def test_the_teams_releases_guard_the_regions(teams: dict[str, Path], tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    # Team A published its report; a region adds team "small" (5 responses)
    # to it: the region's report minus A's would be those 5 people.
    a = tmp_path / "a"
    _copy(teams["a"], a)
    assert analysis_cli.main(["report", "--data", str(a), "--out", str(tmp_path / "a.html"), "--lang", "fr"]) == 0
    region = tmp_path / "region"
    assert analysis_cli.main(["pool", str(a), str(teams["small"]), "--out", str(region)]) == 0
    capsys.readouterr()
    assert analysis_cli.main(["report", "--data", str(region), "--out", str(tmp_path / "r.html")]) == 1
    err = capsys.readouterr().err
    today = json.loads((a / "releases.jsonl").read_text(encoding="utf-8"))["date"]
    assert err.startswith(f"error: [REL-001] this release would cover 75 responses and the report of {today} "
                          f"(a.html, dataset {str(a)!r}) covered 70: "), err
    assert not (tmp_path / "r.html").exists()
    # The region with a team large enough differs by 11 or more: published.
    big = tmp_path / "big"
    assert analysis_cli.main(["pool", str(a), str(teams["c"]), "--out", str(big)]) == 0
    assert analysis_cli.main(["report", "--data", str(big), "--out", str(tmp_path / "big.html")]) == 0
    assert (tmp_path / "big.html").exists()
    # The pooled ledger keeps the team's release, named with its dataset.
    (inherited, own) = [json.loads(line) for line in (big / "releases.jsonl").read_text().splitlines()]
    assert (inherited["file"], inherited["responses"], inherited["dataset"]) == ("a.html", 70, str(a))
    assert (own["file"], own["responses"], "dataset" in own) == ("big.html", 85, False)
    # And the groups it published: the region's groups that are a few
    # people larger than the team's are withheld.
    assert (big / "releases" / inherited["groups"]).read_bytes() == \
        (a / "releases" / inherited["groups"]).read_bytes()
    # Team c's 15 people spread over the age bands, genders, languages and
    # periods A published (which of them, with the cell-key noise that
    # decides what A could publish, varies with the draw); A's centres are
    # unchanged, and NANTES was never published by A.
    withheld = {tuple(g) for g in own["withheld"]}
    assert withheld and {by for by, _ in withheld} <= {"age_band", "gender", "lang", "period", "neighbourhood"}, \
        withheld


def _copy(src: Path, dst: Path) -> None:
    import shutil
    shutil.copytree(src, dst)


def test_an_incompatible_team_is_named_with_its_version_centres_and_dataset(teams: dict[str, Path], team: TeamKeys,
                                                                            tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    # Another team's centre runs mehm 1.1.0, whose "very bad" answer code changed.
    folder = tmp_path / "gap"
    survey = site_survey(folder, "GAP", "gap", [("nord", "Nord")])
    survey.write_text(survey.read_text(encoding="utf-8").replace("{id: mehm, version: \"1.0.0\"}",
                                                                 "{id: mehm, version: \"1.1.0\"}"), encoding="utf-8")
    mehm = (QUESTIONNAIRES / "mehm.yaml").read_text(encoding="utf-8").replace("version: 1.0.0", "version: 1.1.0", 1)
    (folder / "mehm.yaml").write_text(mehm.replace('    - code: "5"\n', '    - code: "6"\n', 1), encoding="utf-8")
    create_device_key(folder / "device.key")
    simulate(20, survey, team.dir / "team.pub", folder / "device.key", folder / "b.hkb", seed=2,
             module_dirs=[QUESTIONNAIRES])
    other = tmp_path / "other"
    assert ingest([folder / "b.hkb"], team.keys, other, []).ingested == 20
    out = tmp_path / "region"
    assert analysis_cli.main(["pool", str(teams["a"]), str(other), "--out", str(out)]) == 1
    assert capsys.readouterr().err == (
        f"error: [POOL-004] item(s) mehm@1.general_health (single, codes 1 2 3 4 5: mehm 1.0.0 in "
        f"{str(teams['a'])!r} (LILLE, LYON); single, codes 1 2 3 4 6: mehm 1.1.0 in {str(other)!r} (GAP)) have "
        "different types or answer codes within one major version: their answers cannot be pooled; give the "
        "changed module a new major version (see docs/errors.md#pool-004)\n")
    assert not out.exists()
