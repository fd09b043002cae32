"""The shipped questionnaires: clean under ``kiosk check``, licensed, complete
in French and English, and walkable to the end by a patient."""

from __future__ import annotations

from pathlib import Path

import pytest

from surveycore import scoring
from surveycore.questionnaire import Module, Survey, load_module, load_survey
from surveycore.response import PREFER_NOT
from kiosk import cli
from kiosk.check import check_paths
from kiosk.flow import Respondent

QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "questionnaires"
MODULES = ["demographics", "mehm", "health_coverage", "housing", "forgoing_care", "epices",
           "hunger_vital_sign", "who5", "phq9", "phq8", "gad7"]
PFIZER = ("Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, with an "
          "educational grant from Pfizer Inc. No permission required to reproduce, translate, display or "
          "distribute.")


@pytest.fixture(scope="module")
def modules() -> dict[str, Module]:
    return {name: load_module(QUESTIONNAIRES / f"{name}.yaml") for name in MODULES}


@pytest.fixture(scope="module")
def full() -> Survey:
    return load_survey(QUESTIONNAIRES / "full_survey.yaml")


@pytest.mark.slow
def test_kiosk_check_finds_no_error_and_no_warning() -> None:
    assert [p.render() for p in check_paths([QUESTIONNAIRES])] == []


def test_kiosk_check_command_exits_0_on_the_shipped_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check", str(QUESTIONNAIRES)]) == 0
    assert capsys.readouterr().out.strip() == "0 error(s), 0 warning(s)"


def test_kiosk_check_command_exits_1_with_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((QUESTIONNAIRES / "gad7.yaml").read_text(encoding="utf-8").replace("choices: frequency",
                                                                                       "choices: frequncy", 1),
                   encoding="utf-8")
    assert cli.main(["check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "[Q-REF-001] item 'q1': choice list 'frequncy' is not defined in 'choices'; did you mean " \
           "'frequency'?" in out
    assert out.strip().endswith("1 error(s), 0 warning(s)")


def test_every_module_names_its_source_and_licence(modules: dict[str, Module]) -> None:
    for m in modules.values():
        assert len(m.source) > 20 and len(m.license) > 10, m.id
        assert {"fr", "en"} <= set(m.languages), m.id
    for name in ("phq9", "phq8", "gad7"):
        assert modules[name].license == PFIZER
    assert modules["who5"].license.startswith(
        "© Psychiatric Research Unit, WHO Collaborating Centre in Mental Health, Frederiksborg General Hospital")


def test_prapare_is_not_shipped() -> None:
    for f in QUESTIONNAIRES.glob("*.yaml"):
        assert "prapare" not in f.read_text(encoding="utf-8").lower(), f.name


def test_every_language_is_complete(modules: dict[str, Module]) -> None:
    for m in modules.values():
        for lang in ("fr", "en"):
            assert lang in m.title
            for it in m.items:
                assert it.text.get(lang), (m.id, it.id, lang)
                assert all(c.label.get(lang) for c in it.choices), (m.id, it.id, lang)
                if it.hint:
                    assert it.hint.get(lang), (m.id, it.id, lang)


def test_published_wordings(modules: dict[str, Module]) -> None:
    phq9 = modules["phq9"]
    assert phq9.item("q1").group_text["fr"] == ("Au cours des 2 dernières semaines, selon quelle fréquence "
                                                 "avez-vous été gêné(e) par les problèmes suivants ?")
    assert phq9.item("q1").group_text["en"] == ("Over the last 2 weeks, how often have you been bothered by "
                                                "any of the following problems?")
    assert [c.label["fr"] for c in phq9.item("q1").choices] == [
        "Jamais", "Plusieurs jours", "Plus de la moitié du temps", "Presque tous les jours"]
    assert phq9.item("q9").text["en"] == ("Thoughts that you would be better off dead or of hurting yourself "
                                          "in some way")
    assert [it.id for it in modules["phq8"].items] == [f"q{i}" for i in range(1, 9)] + ["difficulty"]
    assert modules["gad7"].item("q1").text["en"] == "Feeling nervous, anxious, or on edge"
    assert modules["who5"].item("q1").text["fr"] == "Je me suis senti(e) bien et de bonne humeur"
    assert modules["epices"].item("q1").text["fr"] == "Rencontrez-vous parfois un travailleur social ?"
    assert len([it for it in modules["epices"].items if it.is_question]) == 11


def test_age_is_asked_in_bands_and_nothing_identifies(modules: dict[str, Module]) -> None:
    demo = modules["demographics"]
    assert demo.item("age_band").type == "single"
    assert [c.code for c in demo.item("age_band").choices][1:3] == ["18-24", "25-34"]
    for m in modules.values():
        assert not [it.id for it in m.items if it.type in ("integer", "text")], m.id
    assert demo.item("neighbourhood").choice_list == "neighbourhood"


def test_complementary_cover_is_asked_only_on_top_of_securite_sociale(full: Survey) -> None:
    r = Respondent(full, "fr")
    items = {it.key: i for i, it in enumerate(full.items)}
    for basic, asked in (("securite_sociale", True), ("ame", False), ("pending", False), ("none", False),
                         ("dont_know", False)):
        r.answers["health_coverage.basic"] = basic
        assert r.relevant(items["health_coverage.complementary"]) is asked, basic
    r.answers["health_coverage.basic"] = PREFER_NOT
    assert r.relevant(items["health_coverage.complementary"]) is False


def test_forgoing_care_details_only_after_yes(full: Survey) -> None:
    r = Respondent(full, "en")
    items = {it.key: i for i, it in enumerate(full.items)}
    for answer, asked in (("yes", True), ("no", False), ("dont_know", False), (PREFER_NOT, False)):
        r.answers["forgoing_care.forgone"] = answer
        assert r.relevant(items["forgoing_care.which_care"]) is asked
        assert r.relevant(items["forgoing_care.reasons"]) is asked
    assert full.module("forgoing_care").item("which_care").type == "multiple"


def test_the_site_replaces_the_neighbourhood_list(full: Survey, modules: dict[str, Module]) -> None:
    codes = [c.code for c in full.module("demographics").item("neighbourhood").choices]
    assert codes == ["centre_ville", "les_tilleuls", "la_gare", "le_moulin", "elsewhere", "no_fixed_address"]
    # The module itself, and so its hash, is untouched.
    assert full.module("demographics").hash == modules["demographics"].hash


def test_full_survey_settings(full: Survey) -> None:
    assert full.site.centre == "CSC-DEMO"
    # Every shipped language; all but French and English are drafts the site allows.
    assert full.offered_languages() == ["fr", "en", "ar", "fa_AF", "ps", "ti", "uk", "ro", "es", "ru", "bn", "ka",
                                        "so"]
    assert [full.language_status(lang) for lang in ("fr", "en", "ar")] == ["draft", "draft", "draft"]
    assert full.site.allow_draft_languages is True
    assert set(full.site.crisis) == set(full.offered_languages())
    assert full.site.crisis["fr"].startswith("3114 — numéro national de prévention du suicide, 24h/24, gratuit")
    assert full.site.crisis["en"].startswith("3114 — French national suicide prevention line, 24/7, free")
    assert [m.id for m in full.modules] == ["demographics", "mehm", "health_coverage", "housing",
                                            "forgoing_care", "epices", "hunger_vital_sign", "who5", "phq9",
                                            "gad7"]


def _walk_first_choice(survey: Survey, lang: str) -> Respondent:
    r = Respondent(survey, lang)
    screens = 0
    while not r.finished:
        item = r.current
        assert item is not None and item.text.get(lang), item
        if item.type == "multiple":
            r.set_pending([item.choices[0].code])
            assert r.next() is None
        elif item.choices:
            assert r.answer(item.choices[0].code) is None, item.key
        elif item.type == "integer":
            assert r.answer(item.minimum) is None, item.key
        else:
            assert r.next() is None
        screens += 1
        assert screens < 200
    return r


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_full_survey_walks_to_the_end_with_first_choices(full: Survey, lang: str) -> None:
    r = _walk_first_choice(full, lang)
    answers, skipped = r.sealed_answers()
    # "Yes" comes first, so the details of forgone care are asked; "not at
    # all" everywhere in PHQ-9 skips its difficulty question; owners are not
    # asked whether they fear losing their home.
    assert answers["forgoing_care.which_care"] == ["gp"]
    assert skipped == ["housing.fear_losing", "phq9.difficulty"]
    assert answers["epices.q1"] == "yes"
    assert not scoring.crisis_flagged(full, r.answers)
    body = r.body("complete")
    assert body["centre"] == "CSC-DEMO" and len(body["modules"]) == 10


def test_full_survey_walks_to_the_end_refusing_everything(full: Survey) -> None:
    r = Respondent(full, "fr")
    while not r.finished:
        item = r.current
        assert item is not None
        if item.is_question:
            r.prefer_not()
        else:
            assert r.next() is None
    answers, skipped = r.sealed_answers()
    assert set(answers.values()) == {None}
    # Refusals skip what depends on them.
    assert "health_coverage.complementary" in skipped and "forgoing_care.which_care" in skipped
    assert not scoring.crisis_flagged(full, r.answers)
    for m in full.modules:
        local = {k.split(".", 1)[1]: v for k, v in r.answers.items() if k.startswith(m.id + ".")}
        assert all(v is None for v in scoring.compute_module(m, local).values())


def test_phq8_survey_walks_to_the_end_without_crisis_text() -> None:
    survey = load_survey(QUESTIONNAIRES / "full_survey_phq8.yaml")
    assert survey.site.crisis == {}
    r = _walk_first_choice(survey, "en")
    assert "phq8.q8" in r.sealed_answers()[0]


def test_phq9_item_9_shows_crisis_resources(full: Survey) -> None:
    for code, flagged in (("0", False), ("1", True), ("2", True), ("3", True)):
        assert scoring.crisis_flagged(full, {"phq9.q9": code}) is flagged
    assert scoring.crisis_flagged(full, {"phq9.q9": PREFER_NOT}) is False
    assert scoring.crisis_flagged(full, {"phq8.q9": "3", "gad7.q1": "3"}) is False
