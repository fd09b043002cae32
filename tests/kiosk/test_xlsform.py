"""``kiosk import-xlsform``: forms built with openpyxl in each test, converted,
checked like hand-written modules, and every unsupported row reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from surveycore.questionnaire import load_module
from kiosk import cli
from kiosk.check import check_paths
from kiosk.xlsform import convert, import_xlsform, normalise_id
from tests.support.xlsforms import SURVEY_HEAD, make_form
from tests.support.xlsforms import YESNO, row, SETTINGS


def rendered(problems: list) -> list[str]:
    """Problems as printed, but for the one-title warning (X-SET-003) that
    every multilingual form gets; it has its own test."""
    return [p.render() for p in problems if p.code != "X-SET-003"]


def test_types_logic_and_labels_become_a_clean_module(tmp_path: Path) -> None:
    form = make_form(tmp_path / "form.xlsx", [
        row("note", "intro", "Quelques questions", "A few questions"),
        row("begin_group", "habits", "Vos habitudes", "Your habits", relevant=""),
        row("select_one yesno", "smoker", "Fumez-vous ?", "Do you smoke?", required="yes"),
        row("integer", "per_day", "Combien par jour ?", "How many a day?", relevant="${smoker} = 'yes'",
            constraint=". >= 1 and . <= 80"),
        row("end_group", ""),
        row("select_one often", "stress", "Stressé(e) ?", "Stressed?", appearance="likert"),
        row("select_multiple drinks", "drinks", "Boissons", "Drinks",
            relevant="selected(${smoker}, 'yes') or count-selected(${drinks}) = 0"),
    ], YESNO + [["often", 0, "Jamais", "Never"], ["often", 1, "Souvent", "Often"],
                ["drinks", "tea", "Thé", "Tea"], ["drinks", "coffee", "Café", "Coffee"]], SETTINGS)
    result = import_xlsform(form, tmp_path / "out" / "smoking.yaml", validated=["fr"])
    assert rendered(result.problems) == [
        f"{form}[survey]:8: error [Q-REF-005] item 'drinks': relevant refers to ${{drinks}}, the item itself; it "
        "can only depend on earlier answers"]
    assert not (tmp_path / "out" / "smoking.yaml").exists()  # nothing is written while there is an error

    form = make_form(tmp_path / "form.xlsx", [
        row("note", "intro", "Quelques questions", "A few questions"),
        row("begin_group", "habits", "Vos habitudes", "Your habits"),
        row("select_one yesno", "smoker", "Fumez-vous ?", "Do you smoke?", required="yes"),
        row("integer", "per_day", "Combien par jour ?", "How many a day?", relevant="${smoker} = 'yes'",
            constraint=". >= 1 and . <= 80"),
        row("end_group", ""),
        row("select_one often", "stress", "Stressé(e) ?", "Stressed?", appearance="likert"),
        row("select_multiple drinks", "drinks", "Boissons", "Drinks", relevant="selected(${smoker}, 'yes')",
            constraint="count-selected(.) <= 1",
            extra={"constraint_message::French (fr)": "Un seul choix",
                   "constraint_message::English (en)": "One choice only"}),
    ], YESNO + [["often", 0, "Jamais", "Never"], ["often", 1, "Souvent", "Often"],
                ["drinks", "tea", "Thé", "Tea"], ["drinks", "coffee", "Café", "Coffee"]], SETTINGS)
    out = tmp_path / "out" / "smoking.yaml"
    result = import_xlsform(form, out, validated=["fr"])
    assert rendered(result.problems) == []
    assert check_paths([out]) == []
    m = load_module(out)
    assert (m.id, m.version, m.source, m.license) == ("smoking", "1.2.0", "Written for a test", "CC0-1.0")
    assert m.languages == {"fr": "validated", "en": "draft"}
    assert m.title == {"fr": "Tabac", "en": "Tabac"}
    assert [(it.id, it.type) for it in m.items] == [
        ("intro", "note"), ("smoker", "single"), ("per_day", "integer"), ("stress", "scale"),
        ("drinks", "multiple")]
    smoker, per_day, stress, drinks = m.items[1:]
    assert smoker.required and smoker.group_text == {"fr": "Vos habitudes", "en": "Your habits"}
    assert (per_day.minimum, per_day.maximum, per_day.constraint) == (1, 80, None)
    assert per_day.relevant == "${smoker} = 'yes'"
    assert [c.code for c in stress.choices] == ["0", "1"]
    assert drinks.constraint == "count-selected(${drinks}) <= 1"
    assert drinks.constraint_message == {"fr": "Un seul choix", "en": "One choice only"}
    assert out.read_text(encoding="utf-8").startswith("# Imported from form.xlsx by `kiosk import-xlsform`.")


def test_multilingual_form_with_arabic_hints_and_media(tmp_path: Path) -> None:
    head = ["type", "name", "label::Français (fr)", "label::Arabic (ar)", "label::English (en)",
            "hint::Arabic (ar)", "hint::French (fr)", "hint::English (en)", "image::French (fr)",
            "image::Arabic (ar)", "image::English (en)", "audio::Arabic (ar)", "audio::French (fr)",
            "audio::English (en)"]
    form = make_form(tmp_path / "form.xlsx", [
        ["select_one yesno", "pain", "Avez-vous mal ?", "هل تشعر بألم؟", "Are you in pain?",
         "اختر إجابة واحدة", "Une seule réponse", "One answer", "pain.png", "pain.png", "pain.png",
         "pain_ar.mp3", "pain_fr.mp3", "pain_en.mp3"],
    ], [["yesno", "yes", "Oui", "نعم", "Yes"], ["yesno", "no", "Non", "لا", "No"]],
        [["form_id", "default_language"], ["pain", "French (fr)"]], survey_head=head,
        choices_head=["list_name", "name", "label::French (fr)", "label::Arabic (ar)", "label::English (en)"])
    out = tmp_path / "pain.yaml"
    result = import_xlsform(form, out, source="test", license="test")
    assert rendered(result.problems) == []
    for name in ("pain.png", "pain_ar.mp3", "pain_fr.mp3", "pain_en.mp3"):
        (tmp_path / name).write_bytes(b"media")
    assert check_paths([out]) == []
    m = load_module(out)
    pain = m.item("pain")
    assert list(m.languages) == ["fr", "ar", "en"]
    assert pain.text["ar"] == "هل تشعر بألم؟" and pain.hint["ar"] == "اختر إجابة واحدة"
    assert [c.label["ar"] for c in pain.choices] == ["نعم", "لا"]
    assert pain.images == {lang: str(tmp_path / "pain.png") for lang in ("fr", "ar", "en")}
    assert pain.audio["ar"] == str(tmp_path / "pain_ar.mp3")
    assert "هل تشعر بألم؟" in out.read_text(encoding="utf-8")  # written as UTF-8, not escaped


def test_a_missing_translation_is_reported_at_its_row(tmp_path: Path) -> None:
    head = ["type", "name", "label::French (fr)", "label::Arabic (ar)"]
    form = make_form(tmp_path / "form.xlsx", [["note", "a", "Bonjour", "مرحبا"], ["note", "b", "Au revoir", None]],
                     settings=[["form_id", "source", "license"], ["hello", "test", "test"]], survey_head=head)
    result = convert(form)
    assert rendered(result.problems) == [
        f"{form}: error [Q-LANG-003] language 'ar' is declared but lacks text for b; translate them or remove "
        "the language"]
    assert result.yaml_text is None


def test_unsupported_rows_are_reported_with_the_reason(tmp_path: Path) -> None:
    form = make_form(tmp_path / "form.xlsx", [
        row("start", "start"),
        row("deviceid", "deviceid"),
        row("select_one yesno", "ok", "Oui ?", "Yes?"),
        row("geopoint", "where", "Où ?", "Where?"),
        row("calculate", "total"),
        row("text", "name", "Votre nom", "Your name"),
        row("date", "dob", "Date de naissance", "Date of birth"),
        row("select_one yesno or_other", "other", "Autre", "Other"),
        row("begin_repeat", "children", "Enfants", "Children"),
        row("integer", "age", "Âge", "Age", constraint=". >= 0"),
        row("end_repeat", ""),
        row("integer", "rooms", "Pièces", "Rooms"),
        row("barcode", "card", "Carte", "Card"),
        row("hologram", "odd", "Bizarre", "Odd"),
    ], YESNO, SETTINGS)
    result = convert(form)
    s = f"{form}[survey]"
    assert rendered(result.problems) == [
        f"{s}:2: warning [X-TYPE-003] item 'start': metadata 'start' is not collected: the kiosk records no "
        "device, person or time of day",
        f"{s}:3: warning [X-TYPE-003] item 'deviceid': metadata 'deviceid' is not collected: the kiosk records no "
        "device, person or time of day",
        f"{s}:5: error [X-TYPE-001] item 'where': type 'geopoint' cannot be imported: a location would identify "
        "a person",
        f"{s}:6: error [X-TYPE-001] item 'total': type 'calculate' cannot be imported: only a calculation "
        "that is arithmetic on earlier answers can be imported; declare scores in the module's 'scores'",
        f"{s}:7: error [X-TYPE-004] item 'name': type 'text' cannot be imported: free text can identify a "
        "person; use choices, or import with --allow-free-text if it is essential (the site must also enable "
        "free text)",
        f"{s}:8: error [X-TYPE-001] item 'dob': type 'date' cannot be imported: an exact date could identify a "
        "person; ask in bands with select_one",
        f"{s}:9: error [X-TYPE-001] item 'other': type 'select_one yesno or_other' cannot be imported: "
        "'or_other' adds a free-text answer, which can identify a person; add an 'other' choice instead",
        f"{s}:10: error [X-TYPE-001] item 'children': type 'begin_repeat' cannot be imported: repeats are not "
        "supported; ask a fixed number of questions instead",
        f"{s}:11: error [X-ROW-002] item 'age': 'integer' is inside the block that begins at row 10, which "
        "cannot be imported",
        f"{s}:13: error [X-INT-001] item 'rooms': an integer needs a lowest and a highest value; add a "
        "constraint like '. >= 0 and . <= 120'",
        f"{s}:14: error [X-TYPE-001] item 'card': type 'barcode' cannot be imported: barcodes (card or document "
        "numbers) would identify a person",
        f"{s}:15: error [X-TYPE-002] item 'odd': unknown type 'hologram'; the kiosk imports select_one, "
        "select_multiple, integer, note and groups",
    ]
    assert result.data is None and result.yaml_text is None


def test_drop_unsupported_writes_what_can_run(tmp_path: Path) -> None:
    form = make_form(tmp_path / "form.xlsx", [
        row("select_one yesno", "ok", "Oui ?", "Yes?"),
        row("geopoint", "where", "Où ?", "Where?"),
        row("begin_group", "g", "Groupe", "Group"),
        row("calculate", "total"),
        row("end_group", ""),
    ], YESNO, SETTINGS)
    out = tmp_path / "m.yaml"
    result = import_xlsform(form, out, drop_unsupported=True)
    s = f"{form}[survey]"
    assert rendered(result.problems) == [
        f"{s}:3: warning [X-TYPE-001] item 'where': type 'geopoint' cannot be imported: a location would "
        "identify a person (row left out)",
        f"{s}:4: warning [X-GRP-003] item 'g': group 'g' (row 4) holds no question that could be imported; "
        "left out",
        f"{s}:5: warning [X-TYPE-001] item 'total': type 'calculate' cannot be imported: only a calculation that "
        "is arithmetic on earlier answers can be imported; declare scores in the module's 'scores' (row left out)",
    ]
    assert [it.id for it in load_module(out).items] == ["ok"]
    assert check_paths([out]) == []


def test_free_text_when_allowed(tmp_path: Path) -> None:
    form = make_form(tmp_path / "form.xlsx", [row("text", "other", "Autre chose ?", "Anything else?")],
                     settings=SETTINGS)
    out = tmp_path / "m.yaml"
    assert rendered(import_xlsform(form, out, allow_free_text=True).problems) == []
    item = load_module(out).item("other")
    assert (item.type, item.allow_free_text) == ("text", True)


def test_names_are_made_valid_ids_and_references_follow(tmp_path: Path) -> None:
    form = make_form(tmp_path / "form.xlsx", [
        row("select_one Yes-No", "Q1", "Un", "One"),
        row("note", "Q2-b", "Deux", "Two", relevant="${Q1} = 'yes'"),
    ], [["Yes-No", "yes", "Oui", "Yes"], ["Yes-No", "no", "Non", "No"]],
        [["form_id", "source", "license"], ["Demo Form", "test", "test"]])
    out = tmp_path / "m.yaml"
    result = import_xlsform(form, out)
    assert rendered(result.problems) == [
        f"{form}[settings]:2: warning [X-NAME-001] form_id 'Demo Form' written as module id 'demo_form'",
        f"{form}[choices]:2: warning [X-NAME-001] choice list 'Yes-No' written as 'yes_no'",
        f"{form}[survey]:2: warning [X-NAME-001] item 'q1': name 'Q1' written as 'q1' (ids use a-z, 0-9 and "
        "'_'); references to it are rewritten",
        f"{form}[survey]:3: warning [X-NAME-001] item 'q2_b': name 'Q2-b' written as 'q2_b' (ids use a-z, 0-9 "
        "and '_'); references to it are rewritten",
    ]
    m = load_module(out)
    assert m.id == "demo_form" and m.item("q2_b").relevant == "${q1} = 'yes'"
    assert m.item("q1").choice_list == "yes_no"
    assert normalise_id("2 enfants") == "q_2_enfants"


def test_validation_problems_point_at_the_row(tmp_path: Path) -> None:
    form = make_form(tmp_path / "form.xlsx", [
        row("note", "first", "Un", "One", relevant="${second} = 'yes'"),
        row("select_one yesno", "second", "Deux", "Two"),
        row("note", "third", "Trois", "Three", relevant="${second} = 'oui'"),
        row("note", "fourth", "Quatre", "Four", relevant="string-length(${second}) > 0"),
    ], YESNO, SETTINGS)
    s = f"{form}[survey]"
    assert rendered(convert(form).problems) == [
        f"{s}:2: error [Q-REF-004] item 'first': relevant refers to ${{second}}, which comes later; a question "
        "can only depend on earlier answers",
        f"{s}:4: error [Q-REF-006] item 'third': relevant: 'oui' is not a choice of ${{second}}; its codes are "
        "yes, no",
        f"{s}:5: error [Q-EXP-001] item 'fourth': relevant: cannot read expression 'string-length(${{second}}) > "
        "0': unexpected character 's' at column 1 (function string-length() is not supported; the functions are "
        "selected(), count-selected(), not(), true(), false())",
    ]


@pytest.mark.parametrize("survey, choices, settings, expected", [
    ([row("select_one colour", "c", "Couleur", "Colour")], [["colours", "red", "Rouge", "Red"]], SETTINGS,
     ["{f}[choices]:2: warning [X-CHO-003] choice list 'colours' is not used by any question; left out",
      "{s}:2: error [X-CHO-001] item 'c': choice list 'colour' is not in the choices sheet; did you mean "
      "'colours'?"]),
    ([row("select_one", "c", "Couleur", "Colour")], None, SETTINGS,
     ["{s}:2: error [X-CHO-001] item 'c': select_one needs a choice list name, like 'select_one yesno'"]),
    ([row("begin_group", "g", "G", "G"), row("note", "n", "N", "N")], None, SETTINGS,
     ["{s}:2: error [X-GRP-002] item 'g': the block that begins at row 2 has no end_group/end_repeat"]),
    ([row("note", "n", "N", "N"), row("end_group", "")], None, SETTINGS,
     ["{s}:3: error [X-GRP-001] end_group without a matching begin"]),
    ([row("note", "", "N", "N")], None, SETTINGS,
     ["{s}:2: error [X-ROW-001] 'note' row has no name; give it a unique name"]),
    ([row("note", "n", "N", "N"), row("note", "N", "N", "N")], None, SETTINGS,
     ["{s}:3: warning [X-NAME-001] item 'n': name 'N' written as 'n' (ids use a-z, 0-9 and '_'); references "
      "to it are rewritten",
      "{s}:3: error [X-NAME-002] item 'n': name 'N' becomes 'n', which row 2 ('n') already uses; "
      "rename one of them"]),
    # A group and its question whose names differ by '-' and '_' (the
    # Community Health Toolkit's COVID-19 test capture form): what refers to
    # the refused one is not said again as a reference to nothing.
    ([row("begin_group", "repeat-test", "Test", "Test"), row("select_one yesno", "repeat_test", "Encore ?", "Again?"),
      row("select_one yesno", "why", "Pourquoi ?", "Why?", relevant="${repeat_test} = 'yes'"), row("end_group", "")],
     YESNO, SETTINGS,
     ["{s}:2: warning [X-NAME-001] item 'repeat_test': name 'repeat-test' written as 'repeat_test' (ids use a-z, "
      "0-9 and '_'); references to it are rewritten",
      "{s}:3: error [X-NAME-002] item 'repeat_test': name 'repeat_test' becomes 'repeat_test', which row 2 "
      "('repeat-test') already uses; rename one of them"]),
    ([row("select_one yesno", "c", "Couleur", "Colour", choice_filter="${x} = 1")], YESNO, SETTINGS,
     ["{f}[choices]:2: warning [X-CHO-003] choice list 'yesno' is not used by any question; left out",
      "{s}:2: error [X-COL-002] item 'c': column 'choice_filter' ('${x} = 1'): choice filters are not "
      "supported; split the list or the question"]),
    ([row("select_one yesno", "c", "Oui", "Yes")], YESNO + [["yesno", "yes", "Encore", "Again"]], SETTINGS,
     ["{f}[choices]:4: error [X-CHO-005] choice name 'yes' appears twice in list 'yesno' (first at row 2); "
      "codes must be unique in a list"]),
    ([row("select_one yesno", "c", "Oui", "Yes")], YESNO + [["yesno", "peut être", "Peut-être", "Maybe"]],
     SETTINGS,
     ["{f}[choices]:4: error [X-CHO-004] choice name 'peut être' in list 'yesno' must be 1-32 letters, digits, "
      "'_' or '-': it is the code stored in every response"]),
    ([row("note", "n", "N", "N", required="${x} = 1")], None, SETTINGS,
     ["{s}:2: error [X-COL-002] item 'n': required '${x} = 1': only yes or no is supported (a condition "
      "cannot be imported)"]),
])
def test_form_mistakes(tmp_path: Path, survey: list, choices: list | None, settings: list,
                       expected: list[str]) -> None:
    form = make_form(tmp_path / "form.xlsx", survey, choices, settings, survey_head=SURVEY_HEAD + ["choice_filter"])
    assert rendered(convert(form).problems) == [e.replace("{s}", f"{form}[survey]").replace("{f}", str(form))
                                                for e in expected]


def test_form_level_problems(tmp_path: Path) -> None:
    missing = tmp_path / "nope.xlsx"
    assert rendered(convert(missing).problems) == [
        f"{missing}: error [X-FILE-001] file not found; check the path {str(missing)!r}"]
    not_xlsx = tmp_path / "form.xlsx"
    not_xlsx.write_text("type,name\nnote,a\n", encoding="utf-8")
    assert rendered(convert(not_xlsx).problems) == [
        f"{not_xlsx}: error [X-FILE-002] not an .xlsx workbook (BadZipFile); save the form as Excel "
        ".xlsx (ODK and KoboToolbox both export it)"]
    wb = Workbook()
    wb.active.title = "questions"
    wb.save(not_xlsx)
    assert rendered(convert(not_xlsx).problems) == [
        f"{not_xlsx}: error [X-SHEET-001] the workbook has no 'survey' sheet; an XLSForm needs survey, choices "
        "and (optionally) settings sheets"]
    bare = make_form(tmp_path / "bare.xlsx", [["note", "a", "Bonjour"]], survey_head=["type", "name", "label"])
    assert rendered(convert(bare).problems) == [
        f"{bare}[survey]:1: error [X-LANG-002] column(s) 'label' say no language; name it in the settings sheet "
        "(default_language: 'French (fr)'), or import with --lang fr"]
    odd = make_form(tmp_path / "odd.xlsx", [["note", "a", "Bonjour"]], survey_head=["type", "name", "label::Elvish"])
    assert rendered(convert(odd).problems) == [
        f"{odd}[survey]:1: error [X-LANG-001] cannot tell the language of column 'label::Elvish'; write it with "
        "the language's code in brackets, as 'label::Elvish (xx)' ('label::English (en)', 'label::Tigrinya (ti)')"]
    # Languages named in English without a code, as many forms do (CLDR's
    # names): the Community Health Toolkit's Hindi and Nepali, UNHCR's Oromo.
    named = make_form(tmp_path / "named.xlsx", [["note", "a", "Hi", "Namaste", "Nagaa"]],
                      survey_head=["type", "name", "label::English", "label::Hindi", "label::Oromo"])
    assert convert(named).data["languages"] == {"en": "draft", "hi": "draft", "om": "draft"}  # type: ignore[index]


def test_bare_label_with_a_default_language(tmp_path: Path) -> None:
    form = make_form(tmp_path / "form.xlsx", [["note", "a", "Bonjour"]], survey_head=["type", "name", "label"],
                     settings=[["version", "default_language"], ["2024-05-01", "French (fr)"]])
    result = convert(form)
    assert rendered(result.problems) == [
        f"{form}: warning [X-LIC-001] the form says no source or licence; the module says it is unknown: fill "
        "in 'source' and 'license' (or import with --source and --license)",
        f"{form}[settings]:2: warning [X-SET-001] version '2024-05-01' is not semantic (like 1.0.0); the module "
        "is written as version 1.0.0: raise it by hand when the wording changes"]
    assert result.data is not None
    assert result.data["id"] == "form" and result.data["items"][0]["text"] == {"fr": "Bonjour"}
    bare = make_form(tmp_path / "bare.xlsx", [["note", "a", "Hello"]], survey_head=["type", "name", "label"])
    assert convert(bare, default_language="en").data["items"][0]["text"] == {"en": "Hello"}  # type: ignore[index]


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    form = make_form(tmp_path / "form.xlsx", [row("select_one yesno", "ok", "Oui ?", "Yes?"),
                                              row("geopoint", "where", "Où ?", "Where?")], YESNO, SETTINGS)
    out = tmp_path / "questionnaires" / "smoking.yaml"
    assert cli.main(["import-xlsform", str(form), "-o", str(out)]) == 1
    text = capsys.readouterr().out
    assert "error [X-TYPE-001] item 'where'" in text and "1 error(s), 1 warning(s)" in text
    assert text.strip().endswith(f"nothing written to {out}: fix the form (or pass --drop-unsupported to leave "
                                 "out the rows the kiosk cannot run)")
    assert not out.exists()
    # Already passed: the hint would send the user round in a circle.
    assert cli.main(["import-xlsform", str(form), "-o", str(out), "--drop-unsupported", "--languages", "de"]) == 1
    assert capsys.readouterr().out.strip().endswith(f"nothing written to {out}: fix the form")
    assert cli.main(["import-xlsform", str(form), "-o", str(out), "--drop-unsupported", "--validated", "fr,en"]) == 0
    assert capsys.readouterr().out.strip().endswith(f"wrote {out}")
    assert cli.main(["check", str(out)]) == 0
    assert load_module(out).languages == {"fr": "validated", "en": "validated"}


def test_a_page_header_openpyxl_cannot_parse_prints_no_python_warning(tmp_path: Path) -> None:
    """UNHCR's forms carry a page header '&P' (Excel's page number); openpyxl
    warns about it on stderr, which the user would read among the coded
    problems as a Python warning."""
    import subprocess
    import sys
    import zipfile

    form = make_form(tmp_path / "plain.xlsx", [row("select_one yesno", "ok", "Oui ?", "Yes?")], YESNO, SETTINGS)
    headed = tmp_path / "form.xlsx"
    with zipfile.ZipFile(form) as src, zipfile.ZipFile(headed, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</worksheet>", b"<headerFooter><oddHeader>&amp;P</oddHeader></headerFooter>"
                                                     b"</worksheet>")
            dst.writestr(info, data)
    out = tmp_path / "m.yaml"
    # As a user runs it (pytest would catch the warning before stderr).
    done = subprocess.run([sys.executable, "-m", "kiosk", "import-xlsform", str(headed), "-o", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.strip().endswith(f"wrote {out}")
