"""A key indicator read from a score that is not pooled across versions
(WHO-5 scored differently at one centre) has one table per version; the
exports label its rows with the indicator and the version it comes from,
like the report does."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.disclosure import Protection
from analysis.export import tables_frame
from analysis.ingest import ingest
from analysis.report import ViewId, build_release
from tests.support.kiosks import TeamKeys
from tests.support.surveys import bumped, versioned_site

ROOT = Path(__file__).resolve().parents[2]
QUESTIONNAIRES = ROOT / "questionnaires"

def site(folder: Path, centre: str, version: str, team: TeamKeys, n: int, seed: int) -> Path:
    """One centre running WHO-5 ``version`` (1.1.0: other points, not poolable) and ``n`` simulated responses."""
    edited = {"who5.yaml": bumped("who5.yaml", ("multiplier: 4", "multiplier: 3"),
                                  ("range: [0, 100]", "range: [0, 75]"))} if version == "1.1.0" else {}
    return versioned_site(folder, centre, ["who5"], version, edited, team, n, seed)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory, team: TeamKeys) -> Path:
    tmp = tmp_path_factory.mktemp("who5")
    bundles = [site(tmp / "saint-denis", "SAINT-DENIS", "1.0.0", team, 150, 1),
               site(tmp / "marseille", "MARSEILLE", "1.1.0", team, 150, 2)]
    data = tmp / "data"
    result = ingest(bundles, team.keys, data, [])
    assert (result.ingested, result.quarantined) == (300, [])
    return data


def test_a_per_version_indicator_is_labelled_in_the_exports(dataset: Path) -> None:
    release = build_release(dataset, [QUESTIONNAIRES], protection=Protection.exact())
    assert release.get(ViewId.indicator("who5")) is None
    long = tables_frame(release, "en")
    for version, centre in (("1.0.0", "SAINT-DENIS"), ("1.1.0", "MARSEILLE")):
        vid = ViewId.indicator(f"who5@{version}")
        assert release.get(vid) is not None
        label = f"Poor wellbeing (WHO-5 ≤ 50) (who5 {version}: {centre})"
        # Its breakdowns too (by centre there is none: each version has one centre).
        keys = [vid.key, *(vid.per(by).key for by in release.breakdowns if release.get(vid.per(by)) is not None)]
        assert len(keys) > 1
        for key in keys:
            rows = long.filter(long["table"] == key)["row"].to_list()
            # The share's row is named by the indicator, never by its code.
            assert label in rows, (key, rows)
            assert "_positive" not in rows
