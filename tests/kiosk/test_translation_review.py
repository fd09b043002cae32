"""The WHO method in the translators' round trip: the exported file has a
back-translation field and a review line for every text, the import keeps
them in the module (state, back-translation, a role and a date: never a
person), and `kiosk i18n status` says how far each draft is reviewed and
which texts still lack a back-translation. Bad review lines are refused with
the place and the fix, and nothing is written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from surveycore.questionnaire import load_module
from kiosk.cli import QUESTIONNAIRES, main
from kiosk.translate import export_module, import_module
from kiosk.translation_status import status_report

REVIEWED = ["back-translation: Votre santé en général", "review: reviewed by bilingual panel on 2026-11-28"]
BACK_TRANSLATED = ["back-translation: Très bonne", "review: back-translated by back-translator on 2026-11-27"]


def _module(tmp_path: Path) -> Path:
    """A copy of the shipped MEHM module (French validated, Arabic a project draft)."""
    return Path(shutil.copy(QUESTIONNAIRES / "mehm.yaml", tmp_path / "mehm.yaml"))


def _edit(po: Path, comments: dict[str, list[str]]) -> None:
    """What the back-translator and the panel do in Poedit: fill the comments."""
    with po.open("rb") as fh:
        catalog = read_po(fh)
    for message in catalog:
        if message.id and message.context in comments:
            message.user_comments = list(comments[message.context])
    with po.open("wb") as fh:
        write_po(fh, catalog, width=76)


def test_export_writes_a_back_translation_field_for_every_text(tmp_path: Path) -> None:
    module = _module(tmp_path)
    po = tmp_path / "mehm.ar.po"
    assert export_module(module, "ar", po) == 15
    text = po.read_text(encoding="utf-8")
    assert text.count("\n# back-translation:\n") == 15
    assert ("# Review: 'review: STATE by ROLE on YYYY-MM-DD', STATE one of draft,\n"
            "# back-translated, reviewed, validated; a role, never a name.\n") in text
    assert '# back-translation:\n#. module title\n#. English: Your health in general\nmsgctxt "title"\n' in text


@pytest.mark.slow
def test_import_keeps_the_back_translation_and_the_review(tmp_path: Path, capsys) -> None:
    module = _module(tmp_path)
    hash_before = load_module(module).hash
    po = tmp_path / "mehm.ar.po"
    export_module(module, "ar", po)
    _edit(po, {"title": REVIEWED, "choices.health5.1": BACK_TRANSLATED})
    assert main(["i18n", "import", str(module), str(po), "--lang", "ar"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"imported 0 new and 0 changed text(s) into {module} (15 unchanged, 0 untranslated); ar: draft; "
        "2 review record(s) updated")
    text = module.read_text(encoding="utf-8")
    assert text.endswith(
        "review:\n"
        "  ar:\n"
        '    title: {state: reviewed, back: "Votre santé en général", by: bilingual panel, date: "2026-11-28"}\n'
        '    choices.health5.1: {state: back-translated, back: "Très bonne", by: back-translator, '
        'date: "2026-11-27"}\n')
    # The review changes no wording: the definition's hash stays the same.
    assert load_module(module).hash == hash_before
    # A new export gives the records back to the translators.
    again = tmp_path / "again.po"
    export_module(module, "ar", again)
    with again.open("rb") as fh:
        comments = {m.context: m.user_comments for m in read_po(fh) if m.id}
    assert comments["title"] == REVIEWED
    assert comments["choices.health5.1"] == BACK_TRANSLATED
    assert comments["choices.health5.2"] == ["back-translation:"]
    # A second import of the same file changes nothing.
    assert not import_module(module, again, "ar").written
    report = status_report(module).splitlines()
    assert report[3] == ("  ar     draft       15/15   100%  project  review: 1 reviewed, 1 back-translated, 13 draft; "
                         "13 lack a back-translation")
    assert report[1] == "  fr     validated   15/15   100%"


def test_a_back_translation_without_its_review_line_is_refused(tmp_path: Path, capsys) -> None:
    module = _module(tmp_path)
    before = module.read_bytes()
    po = tmp_path / "mehm.ar.po"
    export_module(module, "ar", po)
    _edit(po, {"title": ["back-translation: Votre santé en général"]})
    line = next(m.lineno for m in read_po(po.open("rb")) if m.context == "title")
    assert main(["i18n", "import", str(module), str(po), "--lang", "ar"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{po}:{line}: error [TR-017] item 'title': title: a back-translation without its review line; add "
        "'# review: back-translated by ROLE on YYYY-MM-DD' (a role, never a name)",
        f"1 error(s): nothing imported into {module}"]
    assert module.read_bytes() == before


def test_a_person_in_place_of_a_role_is_refused(tmp_path: Path) -> None:
    module = _module(tmp_path)
    before = module.read_bytes()
    po = tmp_path / "mehm.ar.po"
    export_module(module, "ar", po)
    _edit(po, {"title": ["back-translation: Votre santé en général",
                         "review: reviewed by jane.doe@example.org on 2026-11-28"]})
    result = import_module(module, po, "ar")
    assert not result.written
    assert [p.code for p in result.errors] == ["Q-REV-005"]
    assert "'by' 'jane.doe@example.org' must name a role" in result.errors[0].message
    assert module.read_bytes() == before


def test_a_project_draft_cannot_have_validated_texts(tmp_path: Path) -> None:
    module = _module(tmp_path)
    po = tmp_path / "mehm.ar.po"
    export_module(module, "ar", po)
    _edit(po, {"title": ["back-translation: Votre santé en général",
                         "review: validated by bilingual panel on 2026-11-28"]})
    result = import_module(module, po, "ar")
    assert not result.written
    assert [p.code for p in result.errors] == ["Q-REV-006"]


def test_a_malformed_review_line_names_the_expected_form(tmp_path: Path) -> None:
    module = _module(tmp_path)
    po = tmp_path / "mehm.ar.po"
    export_module(module, "ar", po)
    _edit(po, {"title": ["back-translation: Votre santé en général", "review: ok by panel"]})
    result = import_module(module, po, "ar")
    assert [p.render().split("] ", 1)[1] for p in result.errors] == [
        "item 'title': title: review line 'ok by panel' must read 'STATE by ROLE on YYYY-MM-DD', STATE one of "
        "draft, back-translated, reviewed, validated"]
