"""A choice label written once as plain text: the same in every language.

Place names and proper nouns (a site's neighbourhoods, "Les Tilleuls") are
not translated; a site writes them once instead of copying them into every
language, and such a label is never missing in a language.
"""

from __future__ import annotations

from pathlib import Path

from surveycore.questionnaire import load_module, load_survey
from kiosk.check import check_paths
from kiosk.translate import export_catalog, import_module
from kiosk.translation_status import status_report

REPO = Path(__file__).resolve().parents[2]
QUESTIONNAIRES = REPO / "questionnaires"

MODULE = '''id: m
version: "1.0.0"
title: {fr: Titre, en: Title, ar: عنوان}
source: test
license: test
languages: {fr: validated, en: draft, ar: draft}
choices:
  area:
    - {code: tilleuls, label: "Les Tilleuls"}
    - {code: elsewhere, label: {fr: Ailleurs, en: Elsewhere, ar: مكان آخر}}
items:
  - id: area
    type: single
    text: {fr: Où ?, en: Where?, ar: أين؟}
    choices: area
'''

SURVEY = '''id: s
version: "1.0.0"
modules:
  - {id: m, version: "1.0.0"}
site:
  centre: C1
  languages: [fr, ar, uk]
  allow_draft_languages: true
  choices:
    area:
      - {code: moulin, label: "Le Moulin"}
      - {code: elsewhere, label: {fr: Ailleurs, ar: مكان آخر, uk: Деінде}}
'''


def _write(folder: Path, module: str = MODULE, survey: str | None = None) -> Path:
    (folder / "m.yaml").write_text(module, encoding="utf-8")
    if survey is not None:
        (folder / "s.yaml").write_text(survey, encoding="utf-8")
    return folder


def test_a_module_label_in_plain_text_is_the_same_in_each_declared_language(tmp_path: Path) -> None:
    _write(tmp_path)
    assert check_paths([tmp_path / "m.yaml"]) == []
    module = load_module(tmp_path / "m.yaml")
    tilleuls = module.item("area").choices[0]
    assert tilleuls.label == {"ar": "Les Tilleuls", "en": "Les Tilleuls", "fr": "Les Tilleuls"}
    assert tilleuls.same_text == "Les Tilleuls"
    assert module.item("area").choices[1].same_text is None


def test_a_site_label_in_plain_text_never_hides_a_language(tmp_path: Path) -> None:
    module = MODULE.replace("{fr: validated, en: draft, ar: draft}", "{fr: validated, en: draft, ar: draft, "
                            "uk: draft}").replace("ar: عنوان}", "ar: عنوان, uk: Назва}").replace(
        "ar: أين؟}", "ar: أين؟, uk: Де?}").replace("ar: مكان آخر}}", "ar: مكان آخر, uk: Деінде}}")
    _write(tmp_path, module, SURVEY)
    assert [p.render() for p in check_paths([tmp_path])] == []
    survey = load_survey(tmp_path / "s.yaml")
    assert survey.offered_languages() == ["fr", "ar", "uk"]
    moulin = survey.module("m").item("area").choices[0]
    # Every site language and every language of the module (the analysis
    # reads labels in the language of its report).
    assert moulin.label == {lang: "Le Moulin" for lang in ("fr", "ar", "uk", "en")}
    assert [c.code for c in survey.module("m").item("area").choices] == ["moulin", "elsewhere"]


def test_an_empty_plain_label_is_refused_with_its_place(tmp_path: Path) -> None:
    _write(tmp_path, MODULE.replace('label: "Les Tilleuls"', 'label: " "'))
    assert [p.render() for p in check_paths([tmp_path / "m.yaml"])] == [
        f"{tmp_path}/m.yaml:9: error [Q-TXT-004] label of choice 'tilleuls' in 'area' is empty; write the "
        "text, or a map of language code to text"]


def test_the_shipped_surveys_write_their_place_names_once() -> None:
    for name in ("full_survey.yaml", "full_survey_phq8.yaml"):
        survey = load_survey(QUESTIONNAIRES / name)
        labels = {c.code: c for c in survey.module("demographics").item("neighbourhood").choices}
        for code, text in (("les_tilleuls", "Les Tilleuls"), ("le_moulin", "Le Moulin")):
            assert labels[code].same_text == text
            assert {labels[code].label[lang] for lang in survey.site.languages} == {text}


def test_export_leaves_a_plain_label_out_and_import_keeps_it(tmp_path: Path) -> None:
    _write(tmp_path)
    catalog = export_catalog(tmp_path / "m.yaml", "uk")
    assert [m.context for m in catalog if m.id] == ["title", "choices.area.elsewhere", "items.area.text"]
    for message in catalog:
        if message.id:
            message.string = {"Titre": "Назва", "Ailleurs": "Деінде", "Où ?": "Де?"}[message.id]
    po = tmp_path / "m.uk.po"
    from babel.messages.pofile import write_po
    with open(po, "wb") as fh:
        write_po(fh, catalog)
    result = import_module(tmp_path / "m.yaml", po, "uk")
    assert result.errors == []
    text = (tmp_path / "m.yaml").read_text(encoding="utf-8")
    assert '    - {code: tilleuls, label: "Les Tilleuls"}\n' in text
    assert load_module(tmp_path / "m.yaml").item("area").choices[0].label["uk"] == "Les Tilleuls"


def test_status_counts_a_plain_site_label_in_every_language(tmp_path: Path) -> None:
    module = MODULE.replace("{fr: validated, en: draft, ar: draft}", "{fr: validated, en: draft, ar: draft, "
                            "uk: draft}").replace("ar: عنوان}", "ar: عنوان, uk: Назва}").replace(
        "ar: أين؟}", "ar: أين؟, uk: Де?}").replace("ar: مكان آخر}}", "ar: مكان آخر, uk: Деінде}}")
    _write(tmp_path, module, SURVEY)
    lines = status_report(tmp_path / "s.yaml").splitlines()
    site_cells = {line.split()[0]: line for line in lines[2:5]}
    # Two site texts (the two labels of the site list), both present.
    for lang in ("fr", "ar", "uk"):
        assert "  2/2  " in site_cells[lang], site_cells[lang]


def test_a_translation_of_a_place_name_is_refused_with_the_reason(tmp_path: Path) -> None:
    _write(tmp_path)
    po = tmp_path / "m.uk.po"
    po.write_text('msgid ""\nmsgstr ""\n"Language: uk\\n"\n\nmsgctxt "choices.area.tilleuls"\n'
                  'msgid "Les Tilleuls"\nmsgstr "Липи"\n', encoding="utf-8")
    before = (tmp_path / "m.yaml").read_bytes()
    result = import_module(tmp_path / "m.yaml", po, "uk")
    assert [p.render() for p in result.errors] == [
        f"{po}:6: error [TR-005] item 'choices.area.tilleuls': choices.area.tilleuls: this label is written once, "
        "the same in every language (a place name); there is nothing to translate: leave it out or export again"]
    assert (tmp_path / "m.yaml").read_bytes() == before
