"""A score is pooled across versions only when it is one instrument in every
version: same items, same answer codes, same points. Otherwise it is
reported per version, and the report and exports say so.

Two centres run the shipped EPICES and PHQ-9 modules; Marseille runs a
1.1.0 of each: EPICES with one item's weight changed (not poolable), PHQ-9
with one question reworded (poolable).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from analysis.disclosure import Protection
from analysis.export import readme_frame, tables_frame
from analysis.ingest import ingest, scan_answers, scan_responses
from analysis.report import build_release, render_html
from surveycore import scoring
from surveycore.questionnaire import load_module
from tests.support.kiosks import TeamKeys
from tests.support.surveys import bumped, versioned_site

ROOT = Path(__file__).resolve().parents[2]
QUESTIONNAIRES = ROOT / "questionnaires"

def site(folder: Path, centre: str, version: str, team: TeamKeys, n: int, seed: int) -> Path:
    """One centre's survey and a bundle of ``n`` simulated responses."""
    edited = {}
    if version == "1.1.0":
        # EPICES 1.1.0: item 5's weight changed; PHQ-9 1.1.0: a question reworded.
        edited = {"epices.yaml": bumped("epices.yaml", ('q5: {"yes": 14.80}', 'q5: {"yes": 4.80}'),
                                        ("range: [0, 100]", "range: [0, 90]")),
                  "phq9.yaml": bumped("phq9.yaml", ('en: "Little interest or pleasure in doing things"',
                                                    'en: "Little interest or pleasure in doing anything"'))}
    return versioned_site(folder, centre, ["epices", "phq9"], version, edited, team, n, seed)


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory, team: TeamKeys) -> Path:
    tmp = tmp_path_factory.mktemp("versions")
    bundles = [site(tmp / "saint-denis", "SAINT-DENIS", "1.0.0", team, 300, 1),
               site(tmp / "marseille", "MARSEILLE", "1.1.0", team, 300, 2)]
    data = tmp / "data"
    result = ingest(bundles, team.keys, data, [])
    assert (result.ingested, result.quarantined) == (600, [])
    return data


def expected(data: Path, module: str, version: str | None, cut: float) -> tuple[int, int]:
    """(scored, at or above ``cut``) computed person by person with the
    reference engine of the kiosk and the module ``version`` the answers were
    given with (``None``: every version, each with its own definition)."""
    modules = {"1.0.0": load_module(QUESTIONNAIRES / f"{module}.yaml")}
    answers = scan_answers(data).filter(pl.col("module") == module).collect()
    test = scan_responses(data).filter(pl.col("test")).select("rid").collect()["rid"].to_list()
    scored = positive = 0
    for (rid, v), rows in answers.group_by("rid", "version"):
        if rid in test or (version is not None and v != version):
            continue
        if v not in modules:
            modules[v] = load_module(data / "definitions" / "files" / _file_of(data, module, v))
        sc = modules[v].scores[0]
        given = {r["item"]: r["value"] for r in rows.iter_rows(named=True) if r["state"] == "answered"}
        value = scoring.compute(sc, given)
        if value is not None:
            scored += 1
            positive += value >= cut
    return scored, positive


def _file_of(data: Path, module: str, version: str) -> str:
    import json
    for manifest in (data / "definitions" / "surveys").glob("*.json"):
        for m in json.loads(manifest.read_text())["modules"]:
            if m["id"] == module and m["version"] == version:
                return f"{m['file']}.yaml"
    raise AssertionError(f"{module} {version} not kept")


def screen(release, view_id: str) -> tuple[int, int]:
    """(scored, screen-positive) of a published score, without noise."""
    v = release.views.get(f"{view_id}.screen") or release.views[view_id]
    neg, pos = v.cells[("_negative", "")].n, v.cells[("_positive", "")].n
    return neg + pos, pos


def test_a_score_whose_weights_changed_is_reported_per_version(network: Path) -> None:
    release = build_release(network, [QUESTIONNAIRES], breakdowns={}, protection=Protection.exact())
    # Not one EPICES over both versions: one per version, from its own answers.
    assert "score.epices.score" not in release.views
    old, new = expected(network, "epices", "1.0.0", 30.17), expected(network, "epices", "1.1.0", 30.17)
    assert screen(release, "score.epices.score@1.0.0") == old
    assert screen(release, "score.epices.score@1.1.0") == new
    # Scored with 1.1.0's weights, Saint-Denis's answers would give another
    # prevalence: pooling them as one instrument would have been wrong.
    latest = load_module(network.parent / "marseille" / "epices.yaml").scores[0]
    answers = scan_answers(network).filter((pl.col("module") == "epices") & (pl.col("version") == "1.0.0")).collect()
    rescored = [scoring.compute(latest, {r["item"]: r["value"] for r in rows.iter_rows(named=True)
                                         if r["state"] == "answered"})
                for _, rows in answers.group_by("rid")]
    assert sum(1 for x in rescored if x is not None and x >= 30.17) != old[1]
    assert release.unpooled_scores == [{
        "module": "epices", "major": 1, "score": "score",
        "label": release.unpooled_scores[0]["label"],
        "versions": [{"version": "1.0.0", "sites": ["SAINT-DENIS"]}, {"version": "1.1.0", "sites": ["MARSEILLE"]}]}]

    html = render_html(release, "en")
    assert ("EPICES score (0-100): reported separately for epices 1.0.0 (SAINT-DENIS), epices 1.1.0 "
            "(MARSEILLE), not pooled: the answer codes or the points of its items differ between these "
            "versions.") in html
    assert "EPICES score (0-100) (epices 1.0.0: SAINT-DENIS)" in html
    assert "EPICES score (0-100) (epices 1.1.0: MARSEILLE)" in html
    # The key indicator too: one line per version, each of its own scored.
    assert "Precariousness (EPICES score ≥ 30.17) (epices 1.0.0: SAINT-DENIS)" in html
    assert "Precariousness (EPICES score ≥ 30.17) (epices 1.1.0: MARSEILLE)" in html
    assert "Score EPICES (0-100) : présenté séparément pour epices 1.0.0 (SAINT-DENIS), epices 1.1.0 " \
           "(MARSEILLE), sans regroupement : les codes de réponse ou les points de ses questions diffèrent " \
           "entre ces versions." in render_html(release, "fr")
    # The exports: one table per version, and their README says why.
    tables = set(tables_frame(release, "en")["table"].to_list())
    assert {"score.epices.score@1.0.0", "score.epices.score@1.1.0"} <= tables
    assert "score.epices.score" not in tables and "score.phq9.total" in tables
    # The exports' README says it too.
    assert ("EPICES score (0-100): reported separately for epices 1.0.0 (SAINT-DENIS), epices 1.1.0 "
            "(MARSEILLE), not pooled: the answer codes or the points of its items differ between these "
            "versions.") in readme_frame(release, "en")["text"].to_list()


def test_a_score_whose_questions_were_only_reworded_is_pooled(network: Path) -> None:
    release = build_release(network, [QUESTIONNAIRES], breakdowns={}, protection=Protection.exact())
    assert not any(v.startswith("score.phq9.total@") for v in release.views)
    assert screen(release, "score.phq9.total") == expected(network, "phq9", None, 10)
    assert [u["module"] for u in release.unpooled_scores] == ["epices"]
    html = render_html(release, "en")
    assert "PHQ-9 score:" not in html and "Depressive symptoms (PHQ-9 ≥ 10) (" not in html


SCORED = """id: s
version: "{version}"
title: {{en: Scale}}
source: tests
license: tests
languages: {{en: validated}}
items:
{items}
scores:
  - id: total
    label: {{en: Total}}
    items: [{scored}]
    values: {{"0": 0, "1": 1}}
    range: [0, {top}]
"""
ITEM = """  - id: {id}
    type: single
    text: {{en: "{text}"}}
    choices: [{{code: "0", label: {{en: "No"}}}}, {{code: "1", label: {{en: "Yes"}}}}]
"""


def scale(version: str, items: dict[str, str]):
    from surveycore.questionnaire import load_module_text
    return load_module_text(SCORED.format(version=version, items="".join(ITEM.format(id=i, text=t)
                                                                         for i, t in items.items()),
                                          scored=", ".join(items), top=len(items)))


def pooled(*modules):
    from analysis import pooling
    pool = pooling.Pooling()
    pooling._split(pool, {(m.id, m.version): m for m in modules}, [(m.id, 1, m.version) for m in modules])
    merged = pool.modules.get((modules[-1].id, modules[-1].version), modules[-1])
    return [sc.id for sc in merged.scores], [sc.items for sc in merged.scores], pool.unpooled_scores


def test_a_score_with_an_item_added_in_a_new_version_is_reported_per_version() -> None:
    ids, items, unpooled = pooled(scale("1.0.0", {"a": "A", "b": "B"}), scale("1.1.0", {"a": "A", "b": "B", "c": "C"}))
    assert ids == ["total@1.0.0", "total@1.1.0"]
    assert items == [("a@1.0.0", "b@1.0.0"), ("a@1.1.0", "b@1.1.0", "c@1.1.0")]
    assert [(u["score"], [p["version"] for p in u["versions"]]) for u in unpooled] == [
        ("total", ["1.0.0", "1.1.0"])]


def test_a_score_whose_items_were_only_reworded_stays_one_score() -> None:
    ids, items, unpooled = pooled(scale("1.0.0", {"a": "A", "b": "B"}), scale("1.1.0", {"a": "A?", "b": "B!"}))
    assert (ids, items, unpooled) == (["total"], [("a", "b")], [])
