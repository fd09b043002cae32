"""The validated instruments (PHQ-9, PHQ-8, GAD-7, WHO-5, Hunger Vital Sign,
EPICES) in every language a waiting room speaks: complete item by item and
choice by choice, each language's provenance recorded honestly, and PHQ-9
item 9 still showing crisis resources whatever the language."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from surveycore import scoring
from surveycore.questionnaire import Module, load_module, load_survey
from kiosk.flow import Respondent

QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "questionnaires"
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
            assert prov.publisher and prov.title and prov.licence, (name, lang)
            assert prov.year or prov.status == "draft", (name, lang)


def test_the_published_originals_are_recorded(modules: dict[str, Module]) -> None:
    assert modules["phq9"].provenance["en"].summary() == (
        "published: Journal of General Internal Medicine (Kroenke, Spitzer, Williams), 2001")
    assert modules["gad7"].provenance["en"].year == 2006
    assert modules["who5"].provenance["en"].url == (
        "https://www.psykiatri-regionh.dk/who-5/who-5-questionnaires/Pages/default.aspx")
    assert modules["epices"].provenance["fr"].origin == "published"
    assert modules["epices"].provenance["en"].summary() == "project"
    assert modules["hunger_vital_sign"].provenance["fr"].status == "draft"


def test_the_spanish_phq_follows_the_published_form(modules: dict[str, Module]) -> None:
    for name in ("phq9", "phq8"):
        m = modules[name]
        prov = m.provenance["es"]
        # Found only as a copy of the publisher's form: published, still a draft.
        assert (prov.origin, prov.status, prov.publisher) == ("published", "draft", "Pfizer Inc. (PHQ Screeners)")
        assert m.item("q1").group_text["es"] == ("Durante las últimas 2 semanas, ¿qué tan seguido ha tenido "
                                                 "molestias debido a los siguientes problemas?")
        assert [c.label["es"] for c in m.item("q1").choices] == [
            "Ningún día", "Varios días", "Más de la mitad de los días", "Casi todos los días"]
        assert [c.label["es"] for c in m.item("difficulty").choices] == [
            "No ha sido difícil", "Un poco difícil", "Muy difícil", "Extremadamente difícil"]
    assert modules["phq9"].item("q9").text["es"] == ("Pensamientos de que estaría mejor muerto(a) o de "
                                                     "lastimarse de alguna manera")


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


# How each language says the instruments' time frames (a translation must
# keep them: "over the last 2 weeks" is part of what PHQ-9, GAD-7 and WHO-5
# measure, "the last 12 months" of the Hunger Vital Sign and EPICES).
TWO_WEEKS = {"fr": r"(2|deux) dernières semaines|14 derniers jours", "en": r"(2|two) weeks",
             "ar": "الأسبوعين الماضيين", "fa_AF": "دو هفته گذشته", "ps": "تېرو دوو اونیو",
             "ti": "(2|ክልተ) ሰሙናት", "uk": "(2|двох) тижнів", "ro": "(2|două) săptămâni",
             "es": "(2|dos) (últimas )?semanas", "ru": "(2|двух|две) недел", "bn": "(২|দুই) সপ্তাহ",
             "ka": "(2|ორი) კვირის", "so": "[Ll]abadii toddobaad"}
TWELVE_MONTHS = {"fr": "12 derniers mois", "en": "12 months", "ar": "الأشهر الاثني عشر", "fa_AF": "12 ماه",
                 "ps": "12 میاشتو", "ti": "12 ኣዋርሕ", "uk": "12 місяців", "ro": "12 luni", "es": "12 meses",
                 "ru": "12 месяцев", "bn": "১২ মাস", "ka": "12 თვის", "so": "12-kii bilood"}
SIX_MONTHS = {"fr": "6 derniers mois", "en": "6 months", "ar": "الأشهر الستة", "fa_AF": "6 ماه", "ps": "6 میاشتو",
              "ti": "6 ኣዋርሕ", "uk": "6 місяців", "ro": "6 luni", "es": "6 meses", "ru": "6 месяцев",
              "bn": "৬ মাস", "ka": "6 თვის", "so": "6-dii bilood"}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_translation_keeps_the_time_frame(modules: dict[str, Module], lang: str) -> None:
    assert set(TWO_WEEKS) == set(TWELVE_MONTHS) == set(SIX_MONTHS) == set(LANGUAGES)
    two_weeks = [modules["phq9"].item("q1").group_text, modules["phq8"].item("q1").group_text,
                 modules["gad7"].item("q1").group_text, modules["who5"].item("instructions").text,
                 modules["who5"].item("q1").group_text]
    for texts in two_weeks:
        assert re.search(TWO_WEEKS[lang], texts[lang]), texts[lang]
    hvs, epices = modules["hunger_vital_sign"], modules["epices"]
    twelve = [hvs.item("worried").group_text, hvs.item("worried").text, hvs.item("ran_out").text,
              epices.item("q6").text, epices.item("q7").text, epices.item("q8").text]
    for texts in twelve:
        assert TWELVE_MONTHS[lang] in texts[lang], texts[lang]
    assert SIX_MONTHS[lang] in epices.item("q9").text[lang]


def test_the_instruments_are_in_exactly_the_shipped_languages(modules: dict[str, Module]) -> None:
    for m in modules.values():
        assert sorted(m.languages) == sorted(LANGUAGES), m.id
