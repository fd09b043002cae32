"""The validated instruments (PHQ-9, PHQ-8, GAD-7, WHO-5, Hunger Vital Sign,
EPICES) in every language a waiting room speaks: complete item by item and
choice by choice, each language's provenance recorded honestly, and PHQ-9
item 9 still showing crisis resources whatever the language."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kiosk import scoring
from kiosk.flow import Respondent
from kiosk.questionnaire import Module, load_module, load_survey

QUESTIONNAIRES = Path(__file__).resolve().parent.parent / "questionnaires"
INSTRUMENTS = ["phq9", "phq8", "gad7", "who5", "hunger_vital_sign", "epices"]
# The original wordings, then the languages the instruments are translated into.
ORIGINALS = {"fr", "en"}
LANGUAGES = ["fr", "en", "ar", "fa_AF", "ps", "ti", "uk", "ro", "es", "ru", "bn", "ka", "so"]
# Words that are rightly the same as in English.
SAME_AS_ENGLISH = {("es", "No")}


@pytest.fixture(scope="module")
def modules() -> dict[str, Module]:
    return {name: load_module(QUESTIONNAIRES / f"{name}.yaml") for name in INSTRUMENTS}


def _texts(m: Module) -> list[tuple[str, dict[str, str]]]:
    """Every text a patient or a report reader meets, with where it is."""
    out = [("title", m.title)]
    for it in m.items:
        out.append((f"{it.id}.text", it.text))
        if it.hint:
            out.append((f"{it.id}.hint", it.hint))
        if it.group_text:
            out.append((f"{it.id}.group", it.group_text))
        out.extend((f"{it.id}:{c.code}", c.label) for c in it.choices)
    for s in m.scores:
        if s.label:
            out.append((f"score {s.id}", s.label))
        out.extend((f"score {s.id} band {b}", t) for b, t in s.band_text.items())
    return out


@pytest.mark.parametrize("name", INSTRUMENTS)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_text_exists_in_every_language(modules: dict[str, Module], name: str, lang: str) -> None:
    m = modules[name]
    assert lang in m.languages
    for where, texts in _texts(m):
        assert str(texts.get(lang) or "").strip(), (name, where, lang)
    if lang not in ORIGINALS:
        # A translation, not a copy of the English left in place.
        copied = [where for where, texts in _texts(m)
                  if texts.get(lang) == texts.get("en") and not where.startswith("score ")
                  and (lang, texts.get(lang)) not in SAME_AS_ENGLISH]
        assert copied == [], (name, lang)


@pytest.mark.parametrize("name", INSTRUMENTS)
def test_the_same_choices_are_offered_in_every_language(modules: dict[str, Module], name: str) -> None:
    m = modules[name]
    for it in m.items:
        for c in it.choices:
            assert set(LANGUAGES) <= set(c.label), (name, it.id, c.code)


@pytest.mark.parametrize("name", INSTRUMENTS)
def test_every_translation_says_where_it_comes_from(modules: dict[str, Module], name: str) -> None:
    m = modules[name]
    for lang in LANGUAGES:
        if lang in ORIGINALS and lang not in m.provenance:
            continue  # an original wording in the short form
        prov = m.provenance[lang]
        assert prov.status == m.languages[lang]
        if prov.origin == "project":
            # Never presented as validated.
            assert prov.status == "draft", (name, lang)
            assert prov.note, (name, lang)
        else:
            assert prov.publisher and prov.title and prov.year and prov.licence, (name, lang)


def test_the_published_originals_are_recorded(modules: dict[str, Module]) -> None:
    assert modules["phq9"].provenance["en"].summary() == (
        "published: Journal of General Internal Medicine (Kroenke, Spitzer, Williams), 2001")
    assert modules["gad7"].provenance["en"].year == 2006
    assert modules["who5"].provenance["en"].url == (
        "https://www.psykiatri-regionh.dk/who-5/who-5-questionnaires/Pages/default.aspx")
    assert modules["epices"].provenance["fr"].origin == "published"
    assert modules["epices"].provenance["en"].summary() == "project"
    assert modules["hunger_vital_sign"].provenance["fr"].status == "draft"


def test_phq8_is_phq9_without_item_9_in_every_language(modules: dict[str, Module]) -> None:
    phq9, phq8 = modules["phq9"], modules["phq8"]
    for lang in LANGUAGES:
        for it in phq8.items:
            assert it.text[lang] == phq9.item(it.id).text[lang], (it.id, lang)
            assert [c.label[lang] for c in it.choices] == [c.label[lang] for c in phq9.item(it.id).choices]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_phq9_item_9_shows_crisis_resources_in_every_language(tmp_path: Path, lang: str) -> None:
    shutil.copy(QUESTIONNAIRES / "phq9.yaml", tmp_path / "phq9.yaml")
    (tmp_path / "s.yaml").write_text(
        'id: s\nversion: "1.0.0"\n'
        f'title: {{{lang}: "PHQ-9"}}\n'
        'modules:\n  - {id: phq9, version: "1.0.0"}\n'
        f"site:\n  centre: C1\n  languages: [{lang}]\n  allow_draft_languages: true\n"
        f'  crisis: {{{lang}: "3114"}}\n', encoding="utf-8")
    survey = load_survey(tmp_path / "s.yaml")
    assert survey.offered_languages() == [lang]
    self_harm = next(s for s in survey.module("phq9").scores if s.id == "self_harm")
    assert self_harm.crisis and self_harm.items == ("q9",) and self_harm.positive_at == 1
    r = Respondent(survey, lang)
    shown = []
    while not r.finished:
        item = r.current
        assert item is not None
        shown.append(item.text[lang])
        # "Several days" to item 9 only.
        assert r.answer("1" if item.id == "q9" else "0") is None
    phq9 = load_module(QUESTIONNAIRES / "phq9.yaml")
    assert shown == [phq9.item(f"q{i}").text[lang] for i in range(1, 10)] + [phq9.item("difficulty").text[lang]]
    assert scoring.crisis_flagged(survey, r.answers) is True
    assert scoring.crisis_flagged(survey, {**r.answers, "phq9.q9": "0"}) is False
