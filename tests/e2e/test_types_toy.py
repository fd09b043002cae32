"""Adding a question type is one registry entry plus one renderer: a toy
"rating" type (one to five stars) registered here works end to end: a
module using it loads, the kiosk shows and answers it, the sealed body
validates on the analysis side and flattens into the dataset, simulate
answers it, and an XLSForm row imports to it. The registration is undone
after each test."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Collection, Iterator

import polars as pl
import pytest
import streamlit as st
from openpyxl import Workbook

from surveycore import types
from surveycore.bundle import write_bundle
from surveycore.definitions import record_of
from surveycore.keys import load_public_key
from surveycore.questionnaire import Item, load_module, load_survey
from surveycore.response import max_body_size, response_body
from analysis.ingest import ingest, scan_answers
from kiosk import answers
from kiosk import cli as kiosk_cli
from kiosk.definitions import block_of
from kiosk.keys import load_device_key
from kiosk.sealing import seal
from kiosk.simulate import Behaviour, simulate
from kiosk.xlsform import convert
from tests.support.kiosks import inline_kiosk
from tests.support.driver import click, headers, labels, start


# ------------------------------------------------ the toy type: one entry...
def _fits_rating(value: Any, codes: Collection[str], minimum: int | None, maximum: int | None) -> bool:
    return type(value) is int and 1 <= value <= 5


RATING = types.QuestionType(
    "rating", types.NUMBER, (("rating", None),), check=_fits_rating,
    longest=lambda item: None,  # "prefer not" (null, 4 characters) is longer than any 1-5
    flatten=lambda value: [("answered", str(value))],
    simulate=lambda item, rng: rng.randint(1, 5))


# ... and one renderer: five buttons, a tap answers.
def _stars(area: answers.AnswerArea) -> None:
    for n in range(1, 6):
        st.button("★" * n + "☆" * (5 - n), key=f"{area.key}-r-{n}", use_container_width=True,
                  on_click=area.choose, args=(area.respondent, area.item.key, n))


STARS = answers.Renderer(_stars, taps=True)


@pytest.fixture
def rating() -> Iterator[None]:
    with types.registered(RATING), answers.registered("rating", STARS):
        yield
    # Nothing leaks into other tests.
    assert "rating" not in types.names() and "rating" not in answers.RENDERERS


MODULE = """
id: toyrating
version: 1.0.0
title: {en: Your visit}
source: test fixture
license: CC0
languages: {en: validated}
choices:
  yn:
    - {code: "1", label: {en: "Yes"}}
    - {code: "2", label: {en: "No"}}
items:
  - id: visit
    type: rating
    text: {en: How was your visit today?}
    required: true
  - id: again
    type: single
    text: {en: Would you come back?}
    choices: yn
"""

SURVEY = """
id: toysurvey
version: 1.0.0
modules:
  - {id: toyrating, version: 1.0.0}
site:
  centre: TEST
  languages: [en]
"""


@pytest.fixture
def toy_kiosk(tmp_path: Path, team, rating: None) -> Path:
    return inline_kiosk(tmp_path / "kiosk", team, SURVEY, {"toyrating.yaml": MODULE})


def _answer_rows(data: Path) -> list[tuple[str, str, str | None]]:
    return (scan_answers(data).filter(pl.col("module") == "toyrating").select("item", "state", "value")
            .collect().sort(pl.all(), nulls_last=True).rows())


def test_a_toy_type_is_refused_unless_registered(tmp_path: Path) -> None:
    (tmp_path / "toyrating.yaml").write_text(MODULE, encoding="utf-8")
    from surveycore.errors import ValidationError
    with pytest.raises(ValidationError) as caught:
        load_module(tmp_path / "toyrating.yaml")
    assert "[Q-ITEM-005] item 'visit': unknown type 'rating'" in str(caught.value)


def test_the_toy_type_loads_and_the_kiosk_answers_it(monkeypatch, toy_kiosk: Path, team,
                                                      tmp_path: Path) -> None:
    module = load_module(toy_kiosk.parent / "survey" / "toyrating.yaml")
    visit = module.item("visit")
    assert visit.type == "rating" and visit.is_question and [it.id for it in module.items] == ["visit", "again"]
    at = start(monkeypatch, toy_kiosk)
    click(at, "lang-en")
    click(at, "consent-yes")
    assert headers(at) == ["How was your visit today?"]
    # The renderer's stars, no Next (a tap answers), "prefer not" as for every question.
    assert labels(at)[:5] == ["★☆☆☆☆", "★★☆☆☆", "★★★☆☆", "★★★★☆", "★★★★★"]
    assert "Next" not in labels(at) and "Prefer not to answer" in labels(at)
    click(at, "-r-4")
    assert headers(at) == ["Would you come back?"]
    click(at, "-c-1")
    assert [t.value for t in at.title] == ["Thank you!"]
    # Sealed, exported, then opened, validated and flattened by the analysis.
    bundle = tmp_path / "toy.hkb"
    assert kiosk_cli.main(["export", "--config", str(toy_kiosk), "--out", str(bundle)]) == 0
    data = tmp_path / "data"
    result = ingest([bundle], team.keys, data, [toy_kiosk.parent / "survey"], workers=1)
    assert (result.ingested, result.quarantined) == (1, [])
    assert _answer_rows(data) == [("again", "answered", "1"), ("visit", "answered", "4")]


def test_the_analysis_refuses_a_rating_out_of_range(toy_kiosk: Path, team, tmp_path: Path) -> None:
    survey = load_survey(toy_kiosk.parent / "survey" / "demo_survey.yaml")
    device = load_device_key(toy_kiosk.parent / "device" / "device.key")
    public = load_public_key(toy_kiosk.parent / "team" / "team.pub")
    good = response_body(survey, "en", "complete", {"toyrating.visit": 5}, ["toyrating.again"])
    bad = response_body(survey, "en", "complete", {"toyrating.visit": 9}, ["toyrating.again"])
    pad = max_body_size(survey)
    bundle = tmp_path / "forged.hkb"
    write_bundle(bundle, [seal(good, public, device, pad), seal(bad, public, device, pad)],
                 block_of([record_of(survey)], device))
    data = tmp_path / "data"
    result = ingest([bundle], team.keys, data, [toy_kiosk.parent / "survey"], workers=1)
    assert result.ingested == 1
    ((_, index, reason),) = result.quarantined
    assert index == 1 and "ING-007" in reason and "answer 9 is not valid for item 'toyrating.visit'" in reason
    assert _answer_rows(data) == [("again", "skipped", None), ("visit", "answered", "5")]


def test_simulate_answers_the_toy_type(toy_kiosk: Path, team, tmp_path: Path) -> None:
    bundle = tmp_path / "sim.hkb"
    counts = simulate(60, toy_kiosk.parent / "survey" / "demo_survey.yaml", toy_kiosk.parent / "team" / "team.pub",
                      toy_kiosk.parent / "device" / "device.key", bundle, seed=4,
                      behaviour=Behaviour(decline=0.0, abandon_per_screen=0.0, prefer_not=0.0),
                      module_dirs=[toy_kiosk.parent / "survey"])
    assert counts["complete"] == 60
    data = tmp_path / "data"
    assert ingest([bundle], team.keys, data, [toy_kiosk.parent / "survey"], workers=1).ingested == 60
    visits = [v for item, state, v in _answer_rows(data) if item == "visit"]
    assert len(visits) == 60 and set(visits) == {"1", "2", "3", "4", "5"}
    # The simulation facet itself: always a valid rating.
    item: Item = load_module(toy_kiosk.parent / "survey" / "toyrating.yaml").item("visit")
    rng = random.Random(1)
    assert all(_fits_rating(RATING.simulate(item, rng), (), None, None) for _ in range(100))  # type: ignore[misc]


def test_an_xlsform_spelling_imports_to_the_toy_type(tmp_path: Path, rating: None) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(["type", "name", "label::English (en)", "required"])
    ws.append(["rating", "visit", "How was your visit today?", "yes"])
    ss = wb.create_sheet("settings")
    ss.append(["form_id", "form_title", "version", "source", "license"])
    ss.append(["visit", "Your visit", "1.0.0", "Written for a test", "CC0-1.0"])
    wb.save(tmp_path / "form.xlsx")
    result = convert(tmp_path / "form.xlsx")
    assert result.errors == []
    assert result.data is not None
    assert result.data["items"] == [{"id": "visit", "type": "rating", "text": {"en": "How was your visit today?"},
                                     "required": True}]
    out = tmp_path / "visit.yaml"
    assert result.yaml_text is not None
    out.write_text(result.yaml_text, encoding="utf-8")
    assert load_module(out).item("visit").type == "rating"
