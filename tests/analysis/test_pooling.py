"""Pooling is explicit: versions whose answer lists differ get their own
denominators; unchanged items are pooled; the report says which definitions
it pooled."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from surveycore.bundle import write_bundle
from surveycore.definitions import record_of
from surveycore.keys import load_public_key
from surveycore.questionnaire import load_survey
from surveycore.response import max_body_size, response_body
from analysis.ingest import ingest
from analysis.disclosure import Protection
from analysis.report import build_release, render_html
from kiosk.definitions import block_of
from kiosk.keys import create_device_key
from kiosk.sealing import seal
from tests.support.kiosks import TeamKeys

MODULE = """id: t
version: {version}
title: {{en: Test module, fr: Module test}}
source: tests
license: tests
languages: {{en: validated, fr: validated}}
items:
  - id: q1
    type: single
    text: {{en: Fruit, fr: Fruit}}
    choices: [{choices}]
  - id: q2
    type: single
    text: {{en: Second question, fr: Deuxième question}}
    choices: [{{code: "1", label: {{en: "Yes", fr: Oui}}}}, {{code: "2", label: {{en: "No", fr: Non}}}}]
"""
A = '{code: a, label: {en: Apple, fr: Pomme}}'
B = '{code: b, label: {en: Banana, fr: Banane}}'
C = '{code: c, label: {en: Cherry, fr: Cerise}}'
SURVEY = """id: {sid}
version: "1.0.0"
modules:
  - {{id: t, version: "{version}"}}
site:
  centre: {centre}
  languages: [fr, en]
"""


def site_bundle(folder: Path, team: TeamKeys, centre: str, version: str, choices: str,
                plan: list[tuple[str, str, int]]) -> Path:
    """A site running module t ``version``; ``plan``: (q1, q2, how many)."""
    folder.mkdir(parents=True)
    (folder / "t.yaml").write_text(MODULE.format(version=version, choices=choices))
    (folder / "survey.yaml").write_text(SURVEY.format(sid=centre.lower(), version=version, centre=centre))
    survey = load_survey(folder / "survey.yaml")
    device = create_device_key(folder / "device.key")
    public = load_public_key(team.dir / "team.pub")
    envelopes = [seal(response_body(survey, "fr", "complete", {"t.q1": q1, "t.q2": q2}, [], dt.date(2026, 3, 2)),
                      public, device, max_body_size(survey))
                 for q1, q2, n in plan for _ in range(n)]
    write_bundle(folder / "b.hkb", envelopes, block_of([record_of(survey)], device))
    return folder / "b.hkb"


def test_a_choice_added_in_a_minor_version_has_its_own_denominator(tmp_path: Path, team: TeamKeys) -> None:
    old = site_bundle(tmp_path / "nord", team, "NORD", "1.0.0", f"{A}, {B}", [("a", "1", 20), ("b", "2", 14)])
    new = site_bundle(tmp_path / "sud", team, "SUD", "1.1.0", f"{A}, {B}, {C}",
                      [("a", "1", 12), ("b", "2", 13), ("c", "1", 15)])
    data = tmp_path / "data"
    result = ingest([old, new], team.keys, data, [])
    assert (result.ingested, result.quarantined) == (74, [])
    release = build_release(data, [], breakdowns={}, protection=Protection.exact())

    def cells(view_id: str) -> dict[str, int | None]:
        view = release.views[view_id]
        return {row: view.cells[(row, "")].n for row in view.rows}

    # Cherry was offered only by 1.1.0: its percentage is of 1.1.0's 40 answers.
    assert "t.q1" not in release.views
    assert cells("t.q1@1.0.0") == {"a": 20, "b": 14, "_refused": 0}
    assert cells("t.q1@1.1.0") == {"a": 12, "b": 13, "c": 15, "_refused": 0}
    assert release.views["t.q1@1.1.0"].cells[("c", "")].pct == 100 * 15 / 40
    # The unchanged item is pooled across both versions.
    assert cells("t.q2") == {"1": 47, "2": 27, "_refused": 0}
    html = render_html(release, "en")
    assert "Fruit (t 1.0.0)" in html and "Fruit (t 1.1.0)" in html
    pooled = {(r["version"], r["hash"], tuple(r["sites"])) for r in release.pooled}
    assert {(v, tuple(s)) for v, _, s in pooled} == {("1.0.0", ("NORD",)), ("1.1.0", ("SUD",))}
