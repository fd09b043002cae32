"""A translator's round trip on a copy of a shipped module: export to .po,
translate, import back into the YAML (layout kept, status draft), and every
refusal: validated wording, unknown places, stale source text, placeholders,
incomplete or wrong-language files."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from surveycore.questionnaire import load_module, load_survey
from surveycore.textslots import text_slots
from kiosk.cli import QUESTIONNAIRES, main
from kiosk.module_texts import dump, yaml_for
from kiosk.translate import export_module, import_module
from kiosk.translation_status import status_report

CONTEXTS = [
    "title",
    "choices.health5.1", "choices.health5.2", "choices.health5.3", "choices.health5.4", "choices.health5.5",
    "choices.yesno.1", "choices.yesno.2",
    "choices.limitation3.1", "choices.limitation3.2", "choices.limitation3.3",
    "items.general_health.text", "items.chronic.text", "items.chronic.hint", "items.limitation.text",
]
ARABIC = {
    "title": "صحتك بشكل عام",
    "choices.health5.1": "جيدة جداً", "choices.health5.2": "جيدة", "choices.health5.3": "مقبولة",
    "choices.health5.4": "سيئة", "choices.health5.5": "سيئة جداً",
    "choices.yesno.1": "نعم", "choices.yesno.2": "لا",
    "choices.limitation3.1": "نعم، محدود بشدة", "choices.limitation3.2": "نعم، محدود ولكن ليس بشدة",
    "choices.limitation3.3": "لا، غير محدود أبداً",
    "items.general_health.text": "كيف هي صحتك بشكل عام؟",
    "items.chronic.text": "هل لديك مرض أو مشكلة صحية مزمنة أو طويلة الأمد؟",
    "items.chronic.hint": "مرض استمر، أو يُتوقع أن يستمر، 6 أشهر أو أكثر.",
    "items.limitation.text": "خلال الأشهر الستة الماضية على الأقل، إلى أي حد كنت محدوداً بسبب مشكلة صحية في "
                             "الأنشطة التي يقوم بها الناس عادةً؟",
}


@pytest.fixture
def module(tmp_path: Path) -> Path:
    """A private copy of the MEHM module in French and English only, as it
    was before any translation: the round trip adds Arabic to it."""
    text = (QUESTIONNAIRES / "mehm.yaml").read_text(encoding="utf-8")
    y, exact = yaml_for(text)
    assert exact
    data = y.load(text)
    for slot in text_slots(data):
        for lang in [lang for lang in slot.texts if lang not in ("fr", "en")]:
            del slot.texts[lang]
    for lang in [lang for lang in data["languages"] if lang not in ("fr", "en")]:
        del data["languages"][lang]
    out = tmp_path / "mehm.yaml"
    out.write_text(dump(y, data), encoding="utf-8")
    assert load_module(out).languages == {"fr": "validated", "en": "validated"}
    return out


def translate(po: Path, texts: dict[str, str], fuzzy: tuple[str, ...] = (),
              msgids: dict[str, str] | None = None) -> None:
    """What a translator does in Poedit: fill msgstr (and, for the tests,
    make a few entries wrong)."""
    with po.open("rb") as fh:
        catalog = read_po(fh)
    for message in list(catalog):
        if message.id and message.context in texts:
            message.string = texts[message.context]
            if message.context in fuzzy:
                message.flags.add("fuzzy")
    for context, msgid in (msgids or {}).items():
        old = next(m for m in catalog if m.context == context)
        catalog.delete(old.id, context=context)
        catalog.add(msgid, string=old.string, context=context)
    buf = io.BytesIO()
    write_po(buf, catalog, sort_output=False)
    po.write_bytes(buf.getvalue())


def po_lines(po: Path) -> dict[str, int]:
    with po.open("rb") as fh:
        return {m.context: m.lineno for m in read_po(fh) if m.id}


# --------------------------------------------------------------------- export

def test_export_gives_every_text_with_its_place_and_source_text(module: Path, tmp_path: Path) -> None:
    po = tmp_path / "mehm.ar.po"
    assert export_module(module, "ar", po) == 15
    with po.open("rb") as fh:
        catalog = read_po(fh)
    entries = [(m.context, m.id, m.string) for m in catalog if m.id]
    assert [e[0] for e in entries] == CONTEXTS
    assert entries[0] == ("title", "Votre santé en général", "")
    assert entries[13] == ("items.chronic.hint", "Une maladie qui dure, ou devrait durer, au moins 6 mois.", "")
    hint = catalog.get("Une maladie qui dure, ou devrait durer, au moins 6 mois.", context="items.chronic.hint")
    assert hint.auto_comments == ["hint under question 'chronic'",
                                  "English: One that has lasted, or is expected to last, 6 months or more."]
    assert (catalog.locale_identifier, catalog.project, catalog.version) == ("ar", "mehm", "1.0.0")


def test_export_carries_the_translation_already_in_the_module(module: Path, tmp_path: Path) -> None:
    po = tmp_path / "mehm.en.po"
    export_module(module, "en", po)
    with po.open("rb") as fh:
        catalog = read_po(fh)
    assert catalog.get("Comment est votre état de santé en général ?", context="items.general_health.text"
                       ).string == "How is your health in general?"
    assert all(m.string for m in catalog if m.id)


def test_the_source_language_cannot_be_exported(module: Path, tmp_path: Path) -> None:
    assert main(["i18n", "export", str(module), "--lang", "fr", "-o", str(tmp_path / "x.po")]) == 1
    assert not (tmp_path / "x.po").exists()


# --------------------------------------------------------------------- import

def test_round_trip_adds_the_language_as_draft_and_keeps_the_file_layout(module: Path, tmp_path: Path) -> None:
    before = module.read_text(encoding="utf-8")
    po = tmp_path / "mehm.ar.po"
    export_module(module, "ar", po)
    translate(po, ARABIC)
    result = import_module(module, po, "ar")
    assert result.problems == []
    assert (result.written, result.status, result.added, result.changed) == (True, "draft", CONTEXTS, [])
    a = ARABIC
    expected = before.replace("  en: validated\nchoices:", "  en: validated\n  ar: draft\nchoices:")
    expected = expected.replace("  en: Your health in general\n", f"  en: Your health in general\n  ar: {a['title']}\n")
    for old, ctx in [("{fr: Très bon, en: Very good}", "choices.health5.1"), ("{fr: Bon, en: Good}", "choices.health5.2"),
                     ("{fr: Assez bon, en: Fair}", "choices.health5.3"), ("{fr: Mauvais, en: Bad}", "choices.health5.4"),
                     ("{fr: Très mauvais, en: Very bad}", "choices.health5.5"),
                     ('{fr: Oui, en: "Yes"}', "choices.yesno.1"), ('{fr: Non, en: "No"}', "choices.yesno.2"),
                     ('{fr: "Oui, fortement limité(e)", en: Severely limited}', "choices.limitation3.1"),
                     ('{fr: "Oui, limité(e) mais pas fortement", en: Limited but not severely}', "choices.limitation3.2"),
                     ('{fr: "Non, pas limité(e) du tout", en: Not limited at all}', "choices.limitation3.3")]:
        assert expected.count(old) == 1
        expected = expected.replace(old, old[:-1] + f", ar: {a[ctx]}}}")
    for en_line, ctx in [("      en: How is your health in general?\n", "items.general_health.text"),
                         ("      en: Do you have any longstanding illness or longstanding health problem?\n",
                          "items.chronic.text"),
                         ("      en: One that has lasted, or is expected to last, 6 months or more.\n",
                          "items.chronic.hint"),
                         ('      en: "For at least the past 6 months, to what extent have you been limited because of '
                          'a health problem in activities people usually do?"\n', "items.limitation.text")]:
        assert expected.count(en_line) == 1
        expected = expected.replace(en_line, en_line + f"      ar: {a[ctx]}\n")
    assert module.read_text(encoding="utf-8") == expected  # comments, quotes, order: all kept
    loaded = load_module(module)
    assert loaded.languages == {"fr": "validated", "en": "validated", "ar": "draft"}
    assert loaded.item("chronic").hint["ar"] == a["items.chronic.hint"]


def test_importing_unchanged_text_leaves_the_file_byte_identical(module: Path, tmp_path: Path) -> None:
    before = module.read_bytes()
    po = tmp_path / "mehm.en.po"
    export_module(module, "en", po)
    result = import_module(module, po, "en")
    assert (result.problems, result.written, result.unchanged, result.status) == ([], False, 15, "validated")
    assert module.read_bytes() == before


def test_validated_wording_is_locked(module: Path, tmp_path: Path) -> None:
    before = module.read_bytes()
    po = tmp_path / "mehm.en.po"
    export_module(module, "en", po)
    translate(po, {"items.chronic.hint": "An illness that lasts 6 months or more."})
    result = import_module(module, po, "en")
    assert [(p.code, p.item, p.file, p.line) for p in result.problems] == [
        ("TR-009", "chronic", str(po), po_lines(po)["items.chronic.hint"])]
    assert result.problems[0].message.startswith("items.chronic.hint: the en wording is marked validated")
    assert not result.written and module.read_bytes() == before


def test_every_mismatch_is_reported_by_item_and_nothing_is_written(module: Path, tmp_path: Path) -> None:
    before = module.read_bytes()
    po = tmp_path / "mehm.ar.po"
    export_module(module, "ar", po)
    texts = dict(ARABIC, **{"items.chronic.text": "هل لديك {illness} مزمن؟"})
    translate(po, texts, msgids={"items.general_health.text": "Comment va votre santé ?"})
    with po.open("ab") as fh:
        fh.write('\nmsgctxt "items.smoking.text"\nmsgid "Fumez-vous ?"\nmsgstr "هل تدخن؟"\n'.encode())
    lines = po_lines(po)
    result = import_module(module, po, "ar")
    assert [(p.code, p.item, p.line) for p in result.problems] == [
        ("TR-008", "chronic", lines["items.chronic.text"]),
        ("TR-006", "general_health", lines["items.general_health.text"]),
        ("TR-005", "items.smoking.text", lines["items.smoking.text"]),
    ]
    assert result.problems[0].message == ("items.chronic.text: placeholders do not match (source has none, "
                                          "translation has {illness}); keep them exactly")
    assert result.problems[1].message.startswith("items.general_health.text: the fr text changed since the export "
                                                 '(was "Comment va votre santé ?", now "Comment est votre')
    assert result.problems[2].message.startswith("unknown msgctxt 'items.smoking.text'")
    assert result.summary() == f"3 error(s): nothing imported into {module}"
    assert module.read_bytes() == before


def test_an_incomplete_translation_is_refused_by_the_module_check(module: Path, tmp_path: Path) -> None:
    before = module.read_bytes()
    po = tmp_path / "mehm.ar.po"
    export_module(module, "ar", po)
    translate(po, {"title": ARABIC["title"]})
    result = import_module(module, po, "ar")
    assert [(p.code, p.file) for p in result.errors] == [("Q-LANG-003", str(module))]
    assert "language 'ar' is declared but lacks text for general_health" in result.errors[0].message
    assert result.untranslated == 14 and module.read_bytes() == before


def test_fuzzy_entries_are_left_out_with_a_warning(module: Path, tmp_path: Path) -> None:
    po = tmp_path / "mehm.ar.po"
    export_module(module, "ar", po)
    translate(po, ARABIC, fuzzy=("items.chronic.hint",))
    result = import_module(module, po, "ar")
    assert [(p.code, p.severity, p.item) for p in result.problems] == [
        ("TR-007", "warning", "chronic"), ("Q-LANG-005", "warning", None)]
    assert result.written and "items.chronic.hint" not in result.added
    assert "ar" not in load_module(module).item("chronic").hint


def test_validated_status_only_when_asked(module: Path, tmp_path: Path) -> None:
    po = tmp_path / "mehm.ar.po"
    export_module(module, "ar", po)
    translate(po, ARABIC)
    assert import_module(module, po, "ar", status="validated").status == "validated"
    assert load_module(module).languages["ar"] == "validated"


def test_a_file_for_another_language_is_refused(module: Path, tmp_path: Path) -> None:
    po = tmp_path / "mehm.ar.po"
    export_module(module, "ar", po)
    translate(po, ARABIC)
    result = import_module(module, po, "ps")
    assert [p.code for p in result.errors] == ["TR-002"]
    assert "ps" not in load_module(module).languages


def test_translations_yaml_would_misread_are_written_in_quotes(module: Path, tmp_path: Path) -> None:
    po = tmp_path / "mehm.es.po"
    export_module(module, "es", po)
    spanish = {c: f"texto {i}" for i, c in enumerate(CONTEXTS)}
    spanish.update({"choices.yesno.1": "Sí", "choices.yesno.2": "No", "choices.health5.1": "1.5"})
    translate(po, spanish)
    assert import_module(module, po, "es").written
    text = module.read_text(encoding="utf-8")
    assert '      label: {fr: Non, en: "No", es: "No"}\n' in text
    assert '      label: {fr: Oui, en: "Yes", es: Sí}\n' in text
    assert '      label: {fr: Très bon, en: Very good, es: "1.5"}\n' in text
    assert load_module(module).item("chronic").choices[1].label["es"] == "No"


# ------------------------------------------------------------ command line

@pytest.mark.slow
def test_the_command_line_round_trip(module: Path, tmp_path: Path, capsys) -> None:
    po = tmp_path / "mehm.ar.po"
    assert main(["i18n", "export", str(module), "--lang", "ar", "-o", str(po)]) == 0
    assert capsys.readouterr().out.startswith(f"15 text(s) of {module} written to {po}")
    translate(po, ARABIC)
    assert main(["i18n", "import", str(module), str(po), "--lang", "ar", "--dry-run"]) == 0
    assert capsys.readouterr().out == (f"would import 15 new and 0 changed text(s) into {module} "
                                       "(0 unchanged, 0 untranslated); ar: draft\n")
    assert "ar" not in load_module(module).languages
    assert main(["i18n", "import", str(module), str(po), "--lang", "ar"]) == 0
    assert capsys.readouterr().out == (f"imported 15 new and 0 changed text(s) into {module} "
                                       "(0 unchanged, 0 untranslated); ar: draft\n")
    translate(po, {"title": "عنوان آخر"})
    assert main(["i18n", "import", str(module), str(po), "--lang", "ar", "--status", "validated"]) == 0
    assert main(["i18n", "export", str(module), "--lang", "ar", "-o", str(po)]) == 0
    translate(po, {"title": "عنوان ثالث"})
    capsys.readouterr()
    assert main(["i18n", "import", str(module), str(po), "--lang", "ar"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{po}:{po_lines(po)['title']}: error [TR-009] item 'title': title: the ar wording")
    assert out[1] == f"1 error(s): nothing imported into {module}"


# The demo survey as it was in French and English only, before translation.
DEMO_SURVEY = """id: demo
version: 1.0.0
title:
  fr: Enquête santé du quartier (démonstration)
  en: Neighbourhood health survey (demo)
modules:
  - {id: mehm, version: 1.0.0}
site:
  centre: DEMO
  languages: [fr, en]
  idle_timeout: 90
  period: week
  keep_partial: true
"""


def _locales(root: Path) -> Path:
    for lang, body in (("fr", 'msgid "Next"\nmsgstr "Suivant"\n'),
                       ("ar", '# unreviewed\nmsgid "Next"\nmsgstr "التالي"\n')):
        path = root / lang / "LC_MESSAGES" / "messages.po"
        path.parent.mkdir(parents=True)
        path.write_text(f'msgid ""\nmsgstr ""\n"Language: {lang}\\n"\n\n' + body, encoding="utf-8")
    return root


def test_status_shows_every_language_of_the_survey_and_its_modules(module: Path, tmp_path: Path, capsys,
                                                                   monkeypatch) -> None:
    survey = tmp_path / "demo_survey.yaml"
    survey.write_text(DEMO_SURVEY, encoding="utf-8")
    po = tmp_path / "mehm.ar.po"
    export_module(module, "ar", po)
    translate(po, {c: t for c, t in ARABIC.items() if c != "items.chronic.hint"})
    assert import_module(module, po, "ar").written
    locales = _locales(tmp_path / "locales")
    monkeypatch.chdir(tmp_path)
    assert main(["i18n", "status", "demo_survey.yaml", "--locales", str(locales)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "survey demo 1.0.0  demo_survey.yaml",
        "  lang  interface                   site   kiosk",
        "  fr    1/1, all reviewed           1/1    offered  (ltr, Français)",
        "  en    source language             1/1    offered  (ltr, English)",
        "  ar    1/1, 1 unreviewed           0/1    not enabled by the site  (rtl, العربية)",
        "  module mehm 1.0.0  mehm.yaml  (source fr)",
        "    fr    validated   15/15   100%",
        "    en    validated   15/15   100%",
        "    ar    draft       14/15    93%  review: 14 draft; 14 lack a back-translation",
    ]
    assert main(["i18n", "status", "mehm.yaml", "--items", "--locales", str(locales)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:5] == [
        "module mehm 1.0.0  mehm.yaml  (source fr)",
        "  fr    validated   15/15   100%",
        "  en    validated   15/15   100%",
        "  ar    draft       14/15    93%  review: 14 draft; 14 lack a back-translation",
        "  text                       fr  en  ar",
    ]
    assert out[5] == "  title                      ok  ok  ok"
    assert out[18] == "  items.chronic.hint         ok  ok  --"
    # Which texts still need a back-translation (the WHO method's second step).
    assert out[20] == ("  ar lacks a back-translation: title, choices.health5.1, choices.health5.2, choices.health5.3, "
                       "choices.health5.4, choices.health5.5, choices.yesno.1, choices.yesno.2, "
                       "choices.limitation3.1, choices.limitation3.2, choices.limitation3.3, "
                       "items.general_health.text, items.chronic.text, items.limitation.text")
    assert len(out) == 21


def _arabic_as_project_translation(module: Path, tmp_path: Path) -> Path:
    """Import the Arabic, then record it in the long form as a project
    translation; the .po is returned for a second import."""
    po = tmp_path / "mehm.ar.po"
    export_module(module, "ar", po)
    translate(po, ARABIC)
    assert import_module(module, po, "ar").written
    text = module.read_text(encoding="utf-8")
    assert "  ar: draft\n" in text
    module.write_text(text.replace("  ar: draft\n", "  ar: {status: draft, origin: project}\n"), encoding="utf-8")
    return po


def test_status_shows_where_each_language_comes_from(module: Path, tmp_path: Path, capsys,
                                                     monkeypatch) -> None:
    po = _arabic_as_project_translation(module, tmp_path)
    text = module.read_text(encoding="utf-8")
    module.write_text(text.replace("  en: validated\n", (
        "  en:\n    status: validated\n    origin: published\n    publisher: \"Eurostat\"\n"
        "    title: \"EHIS wave 3 methodological manual\"\n    year: 2018\n    licence: \"CC BY 4.0\"\n")),
        encoding="utf-8")
    # A second import (a corrected text) keeps the provenance mapping.
    translate(po, {"items.chronic.hint": "مرض استمر أو يُتوقع أن يستمر 6 أشهر أو أكثر."})
    assert import_module(module, po, "ar").written
    assert "  ar: {status: draft, origin: project}\n" in module.read_text(encoding="utf-8")
    assert load_module(module).provenance["ar"].origin == "project"
    monkeypatch.chdir(tmp_path)
    assert main(["i18n", "status", "mehm.yaml", "--locales", str(_locales(tmp_path / "locales"))]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "module mehm 1.0.0  mehm.yaml  (source fr)",
        "  fr    validated   15/15   100%",
        "  en    validated   15/15   100%  published: Eurostat, 2018",
        "  ar    draft       15/15   100%  project  review: 15 draft; 15 lack a back-translation",
    ]


def test_importing_validated_into_a_project_translation_is_refused(module: Path, tmp_path: Path) -> None:
    po = _arabic_as_project_translation(module, tmp_path)
    before = module.read_bytes()
    result = import_module(module, po, "ar", status="validated")
    assert not result.written
    assert [p.render().split("] ", 1)[1] for p in result.problems] == [
        "language 'ar' is a translation made for this project, so its status is 'draft'; only a publisher's "
        "validated translation (origin: published) may be 'validated'"]
    assert module.read_bytes() == before


def test_status_explains_why_a_language_is_not_offered(module: Path, tmp_path: Path) -> None:
    survey_text = DEMO_SURVEY
    survey = tmp_path / "demo_survey.yaml"
    survey.write_text(survey_text.replace("languages: [fr, en]", "languages: [fr, en, ar, ti]"), encoding="utf-8")
    po = tmp_path / "mehm.ar.po"
    export_module(module, "ar", po)
    translate(po, ARABIC)
    import_module(module, po, "ar")
    assert load_survey(survey).offered_languages() == ["fr", "en"]
    report = status_report(survey, locales=_locales(tmp_path / "locales"))
    assert "  ar    1/1, 1 unreviewed           0/1    not offered: draft in mehm (the site allows no drafts)" \
        in report
    assert "  ti    no catalog                  0/1    not offered: missing in mehm" in report


@pytest.mark.parametrize("name", sorted(p.name for p in QUESTIONNAIRES.glob("*.yaml")))
@pytest.mark.slow
def test_every_shipped_questionnaire_keeps_its_layout_through_an_import(name: str) -> None:
    from kiosk.module_texts import dump, yaml_for
    text = (QUESTIONNAIRES / name).read_text(encoding="utf-8")
    y, exact = yaml_for(text)
    assert exact and dump(y, y.load(text)) == text


def test_a_layout_the_writer_cannot_keep_is_announced(module: Path, tmp_path: Path) -> None:
    text = module.read_text(encoding="utf-8").replace("id: mehm\n", "id:   mehm\n")
    module.write_text(text, encoding="utf-8")
    po = tmp_path / "mehm.ar.po"
    export_module(module, "ar", po)
    translate(po, ARABIC)
    result = import_module(module, po, "ar", dry_run=True)
    assert [(p.code, p.severity, p.file) for p in result.problems] == [("TR-016", "warning", str(module))]
    assert module.read_text(encoding="utf-8") == text  # dry run
