"""XLSForms as ODK and pyxform read them: each fault that would change what
a patient sees has a minimal form here, imported, then walked through the
real flow (``Respondent``) where the patient's path is at stake."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook

from surveycore.questionnaire import Survey, load_module, load_survey
from kiosk.check import check_paths
from kiosk.flow import Respondent
from kiosk.xlsform import convert, import_xlsform, parse_type

SETTINGS = [["form_id", "version", "source", "license"], ["odk", "1.0.0", "Written for a test", "CC0-1.0"]]


def workbook(path: Path, survey: list[list[Any]], choices: list[list[Any]] | None = None,
             settings: list[list[Any]] | None = None) -> Path:
    """A workbook whose sheets are given with their header row first."""
    wb = Workbook()
    ws = wb.active
    ws.title = "survey"
    for r in survey:
        ws.append(r)
    if choices is not None:
        cs = wb.create_sheet("choices")
        for r in choices:
            cs.append(r)
    ss = wb.create_sheet("settings")
    for r in settings or SETTINGS:
        ss.append(r)
    wb.save(path)
    return path


def rendered(problems: list) -> list[str]:
    """Problems as printed, but for the one-title warning (X-SET-003) that
    every multilingual form gets; it has its own test."""
    return [p.render() for p in problems if p.code != "X-SET-003"]


def survey_of(module: Path, langs: tuple[str, ...] = ("en", "fr")) -> Survey:
    """A one-module survey around an imported module, as a site would run it."""
    m = load_module(module)
    s = module.parent / "survey.yaml"
    s.write_text(f'id: s\nversion: "1.0.0"\nmodules: [{{id: {m.id}, version: "{m.version}"}}]\n'
                 f"site:\n  centre: C1\n  languages: [{', '.join(langs)}]\n  allow_draft_languages: true\n",
                 encoding="utf-8")
    return load_survey(s)


def shown(r: Respondent) -> list[str]:
    """Ids of the screens the patient is shown from here to the end, moving on
    without answering."""
    out = []
    while r.current is not None:
        out.append(r.current.id)
        assert r.next() is None
    return out


# ----------------------------------------------------- multiple choices

MULTI = [["type", "name", "label::English (en)", "label::French (fr)", "relevant"],
         ["select_multiple symptoms", "symptoms", "Which symptoms?", "Quels symptômes ?", None],
         ["select_one yn", "since", "For more than a week?", "Depuis plus d'une semaine ?", "${symptoms} != ''"],
         ["select_one yn", "none", "Nothing at all?", "Rien du tout ?", "${symptoms} = ''"],
         ["note", "many", "Several symptoms", "Plusieurs symptômes", "count-selected(${symptoms}) >= 2"]]
CHOICES = [["list_name", "name", "label::English (en)", "label::French (fr)"],
           ["symptoms", "fever", "Fever", "Fièvre"], ["symptoms", "cough", "Cough", "Toux"],
           ["yn", "y", "Yes", "Oui"], ["yn", "n", "No", "Non"]]


def test_something_ticked_shows_the_follow_up(tmp_path: Path) -> None:
    form = workbook(tmp_path / "form.xlsx", MULTI, CHOICES)
    out = tmp_path / "m.yaml"
    assert rendered(import_xlsform(form, out).problems) == []
    survey = survey_of(out)
    r = Respondent(survey, "en")
    assert r.answer(["fever"]) is None
    assert shown(r) == ["since"]
    r = Respondent(survey, "en")
    assert r.answer(["cough", "fever"]) is None
    assert shown(r) == ["since", "many"]
    r = Respondent(survey, "fr")
    assert r.answer([]) is None  # nothing ticked
    assert shown(r) == ["none"]
    r = Respondent(survey, "fr")
    r.prefer_not()
    assert shown(r) == ["none"]


# ------------------------------------------------------- header aliases

def test_every_header_spelling_pyxform_accepts(tmp_path: Path) -> None:
    """Single-colon languages, ``relevance``, ``constraint message`` with a
    space, ``value``/``list name`` on the choices sheet, ``Label`` in
    capitals: nothing is lost."""
    form = workbook(tmp_path / "form.xlsx", [
        ["Type", "Name", "Label:English", "Label:French", "Relevance", "Constraint",
         "Constraint Message:English", "constraint message:French", "Required", "required message:English"],
        ["select one yn", "smoker", "Do you smoke?", "Fumez-vous ?", None, None, None, None, "yes", "Please"],
        ["integer", "per_day", "How many a day?", "Combien par jour ?", "${smoker} = 'y'",
         ". >= 1 and . <= 80 and . != 13", "1 to 80, not 13", "De 1 à 80, sauf 13", None, None],
        ["select all that apply drinks", "drinks", "Drinks", "Boissons", "selected(${smoker}, 'n')",
         None, None, None, None, None],
    ], [["list name", "value", "label:English", "label:French"],
        ["yn", "y", "Yes", "Oui"], ["yn", "n", "No", "Non"],
        ["drinks", "tea", "Tea", "Thé"], ["drinks", "coffee", "Coffee", "Café"]])
    out = tmp_path / "m.yaml"
    result = import_xlsform(form, out)
    assert rendered(result.problems) == [
        f"{form}[survey]:2: warning [X-COL-001] item 'smoker': column 'required message:English' is not used by "
        "the kiosk; the kiosk shows its own translated message when a required answer is missing; its values "
        "are left out"]
    assert check_paths([out]) == []
    m = load_module(out)
    assert m.languages == {"en": "draft", "fr": "draft"}
    smoker, per_day, drinks = m.items
    assert (smoker.type, smoker.required, smoker.text) == ("single", True, {"en": "Do you smoke?",
                                                                           "fr": "Fumez-vous ?"})
    assert [(c.code, c.label) for c in smoker.choices] == [("y", {"en": "Yes", "fr": "Oui"}),
                                                          ("n", {"en": "No", "fr": "Non"})]
    assert per_day.relevant == "${smoker} = 'y'"
    assert (per_day.minimum, per_day.maximum) == (1, 80)
    assert per_day.constraint == "${per_day} >= 1 and ${per_day} <= 80 and ${per_day} != 13"
    assert per_day.constraint_message == {"en": "1 to 80, not 13", "fr": "De 1 à 80, sauf 13"}
    assert (drinks.type, drinks.relevant) == ("multiple", "selected(${smoker}, 'n')")


def test_two_spellings_of_one_column_are_refused(tmp_path: Path) -> None:
    form = workbook(tmp_path / "form.xlsx", [
        ["type", "name", "label::English (en)", "relevant", "relevance"],
        ["note", "a", "A", None, None]])
    assert rendered(convert(form).problems) == [
        f"{form}[survey]:1: error [X-COL-003] columns 'relevant' and 'relevance' both mean 'relevant'; keep one "
        "of them"]


def test_attribute_columns_are_not_languages(tmp_path: Path) -> None:
    """``bind::``, ``instance::``, ``body::`` and other ``prefix::`` columns
    are attributes; a ``bind::`` attribute or a read-only question changes
    behaviour, so it is an error (left out with --drop-unsupported)."""
    survey = [["type", "name", "label::English (en)", "instance::odk:tag", "body::accuracyThreshold",
               "tool::colour", "bind::odk:length", "read_only", "disabled"],
              ["select_one yn", "a", "A?", "t", "5", "red", None, None, None],
              ["select_one yn", "b", "B?", None, None, None, "1-3", None, None],
              ["select_one yn", "c", "C?", None, None, None, None, "yes", None],
              ["select_one yn", "d", "D?", None, None, None, None, None, "yes"],
              ["note", "e", "E", None, None, None, None, "yes", None]]
    form = workbook(tmp_path / "form.xlsx", survey, [["list_name", "name", "label::English (en)"],
                                                     ["yn", "y", "Yes"], ["yn", "n", "No"]])
    s = f"{form}[survey]"
    assert rendered(convert(form).problems) == [
        f"{s}:2: warning [X-COL-001] item 'a': column 'instance::odk:tag' is not used by the kiosk; instance "
        "attributes concern ODK servers; its values are left out",
        f"{s}:2: warning [X-COL-001] item 'a': column 'body::accuracyThreshold' is not used by the kiosk; "
        "display attributes are for ODK Collect; the kiosk shows one question a screen, large buttons; its "
        "values are left out",
        f"{s}:2: warning [X-COL-001] item 'a': column 'tool::colour' is not used by the kiosk; 'tool' attributes "
        "are unknown to the kiosk; its values are left out",
        f"{s}:3: error [X-COL-002] item 'b': column 'bind::odk:length' ('1-3'): the form attribute 'odk:length' "
        "changes how the answer is checked or stored, which the kiosk cannot do",
        f"{s}:4: error [X-COL-002] item 'c': column 'read_only' ('yes'): read-only questions are not supported "
        "(the patient could change the answer)",
        f"{s}:5: warning [X-ROW-003] item 'd': row is disabled ('disabled' is 'yes'); left out, as ODK does",
    ]
    out = tmp_path / "m.yaml"
    result = import_xlsform(form, out, drop_unsupported=True)
    assert [p.code for p in result.errors] == []
    assert [it.id for it in load_module(out).items] == ["a", "e"]


def test_type_spellings_pyxform_accepts() -> None:
    assert parse_type("select one yn") == ("select_one", "yn", False)
    assert parse_type("select1 yn") == ("select_one", "yn", False)
    assert parse_type("Select_One  yn or_other") == ("select_one", "yn", True)
    assert parse_type("select all that apply drinks") == ("select_multiple", "drinks", False)
    assert parse_type("select_one_from_file towns.csv") == ("select_one_from_file", "towns.csv", False)
    assert parse_type("select one from file towns.csv") == ("select_one_from_file", "towns.csv", False)
    assert parse_type("begin group") == ("begin_group", None, False)
    assert parse_type("begin repeat") == ("begin_repeat", None, False)
    assert parse_type("end_group") == ("end_group", None, False)
    assert parse_type("int") == ("integer", None, False)
    assert parse_type("imei") == ("deviceid", None, False)
    assert parse_type("gps") == ("geopoint", None, False)


# ------------------------------------------------- texts the patient reads

def test_answer_placeholders_in_texts_are_refused(tmp_path: Path) -> None:
    form = workbook(tmp_path / "form.xlsx", [
        ["type", "name", "label::English (en)", "hint::English (en)"],
        ["select_one yn", "a", "Do you smoke?", None],
        ["select_one yn", "b", "Since when? You said ${a}", "About ${a}"]],
        [["list_name", "name", "label::English (en)"], ["yn", "y", "Yes"], ["yn", "n", "No"]])
    assert rendered(convert(form).problems) == [
        f"{form}[survey]:3: error [X-TXT-001] item 'b': label in 'en' holds '${{a}}': the kiosk does not insert "
        "earlier answers into texts; rephrase it without the placeholder"]
    result = convert(form, drop_unsupported=True)
    assert [it["id"] for it in result.data["items"]] == ["a"]  # type: ignore[index]


def test_a_question_without_text_is_refused(tmp_path: Path) -> None:
    """pyxform refuses a question with no label; so does the kiosk, rather
    than show a blank screen."""
    form = workbook(tmp_path / "form.xlsx", [
        ["type", "name", "label::English (en)"],
        ["select_one yn", "a", None]],
        [["list_name", "name", "label::English (en)"], ["yn", "y", "Yes"], ["yn", "n", "No"]])
    assert rendered(convert(form).problems) == [
        f"{form}[choices]:2: warning [X-CHO-003] choice list 'yn' is not used by any question; left out",
        f"{form}[survey]:2: error [X-TXT-002] item 'a': the row has no label in any language; give it the "
        "question's text"]


# ------------------------------------------------- forms that should import

YN = [["list_name", "name", "label::English (en)", "label::French (fr)"],
      ["yn", "y", "Yes", "Oui"], ["yn", "n", "No", "Non"]]
HEAD = ["type", "name", "label::English (en)", "label::French (fr)", "relevant", "constraint", "calculation"]


def test_drop_unsupported_leaves_out_what_depends_on_a_dropped_row(tmp_path: Path) -> None:
    """Rows that depend on a row left out go too; a name used again only by
    a dropped row is no collision; a list with a repeated code matters only
    if a kept question uses it; an integer without range is left out."""
    form = workbook(tmp_path / "form.xlsx", [
        HEAD,
        ["geopoint", "where", "Where?", "Où ?", None, None, None],
        ["select_one yn", "near", "Near a clinic?", "Près d'une clinique ?", "${where} != ''", None, None],
        ["begin_group", "g", "Follow-up", "Suivi", "${near} = 'y'", None, None],
        ["select_one dup", "kind", "Kind?", "Genre ?", None, None, None],
        ["end_group", None, None, None, None, None, None],
        ["integer", "rooms", "Rooms?", "Pièces ?", None, ". >= 0", None],
        ["text", "ok", "Free?", "Libre ?", None, None, None],
        ["select_one yn", "ok", "All right?", "Ça va ?", None, None, None],
    ], YN + [["dup", "a", "A", "A"], ["dup", "a", "A again", "A encore"]])
    s = f"{form}[survey]"
    result = convert(form, drop_unsupported=True)
    assert rendered(result.problems) == [
        f"{form}[choices]:4: warning [X-CHO-003] choice list 'dup' is not used by any question; left out",
        f"{s}:2: warning [X-TYPE-001] item 'where': type 'geopoint' cannot be imported: a location would identify "
        "a person (row left out)",
        f"{s}:3: warning [X-ROW-004] item 'near': depends on ${{where}} (row 2), which is left out; left out too",
        f"{s}:4: warning [X-ROW-004] item 'g': depends on ${{near}} (row 3), which is left out; left out too",
        f"{s}:5: warning [X-ROW-004] item 'kind': is in group 'g' (row 4), which is left out; left out too",
        f"{s}:7: warning [X-INT-001] item 'rooms': an integer needs a lowest and a highest value; add a constraint "
        "like '. >= 0 and . <= 120' (row left out)",
        f"{s}:8: warning [X-TYPE-004] item 'ok': type 'text' cannot be imported: free text can identify a person; "
        "use choices, or import with --allow-free-text if it is essential (the site must also enable free text) "
        "(row left out)"]
    assert [it["id"] for it in result.data["items"]] == ["ok"]  # type: ignore[index]
    assert result.data["items"][0]["text"] == {"en": "All right?", "fr": "Ça va ?"}  # type: ignore[index]
    # Without --drop-unsupported the rows are errors, and the list used by a
    # question that could be kept is wrong.
    assert [p.code for p in convert(form).errors] == ["X-CHO-005", "X-TYPE-001", "X-INT-001", "X-TYPE-004"]


def test_same_name_in_two_groups(tmp_path: Path) -> None:
    form = workbook(tmp_path / "form.xlsx", [
        HEAD,
        ["begin_group", "mother", "Mother", "Mère", None, None, None],
        ["select_one yn", "vaccinated", "Vaccinated?", "Vaccinée ?", None, None, None],
        ["end_group", None, None, None, None, None, None],
        ["begin_group", "child", "Child", "Enfant", None, None, None],
        ["select_one yn", "vaccinated", "Vaccinated?", "Vacciné ?", None, None, None],
        ["end_group", None, None, None, None, None, None],
        ["select_one yn", "card", "Card?", "Carnet ?", "${vaccinated} = 'y'", None, None],
        ["select_one yn", "vaccinated", "Again?", "Encore ?", None, None, None],
    ], YN)
    result = convert(form)
    assert rendered(result.problems) == [
        f"{form}[survey]:6: warning [X-NAME-003] item 'child_vaccinated': name 'vaccinated' is also used at row 3 "
        "(another group), as ODK allows; imported as 'child_vaccinated', and ${vaccinated} refers to row 3",
        f"{form}[survey]:9: warning [X-NAME-003] item 'top_vaccinated': name 'vaccinated' is also used at row 3 "
        "(another group), as ODK allows; imported as 'top_vaccinated', and ${vaccinated} refers to row 3"]
    ids = [[i["id"] for i in it.get("items", [it])] for it in result.data["items"]]  # type: ignore[index]
    assert ids == [["vaccinated"], ["child_vaccinated"], ["card"], ["top_vaccinated"]]
    assert result.data["items"][2]["relevant"] == "${vaccinated} = 'y'"  # type: ignore[index]


def test_arithmetic_calculations_feed_relevance(tmp_path: Path) -> None:
    form = workbook(tmp_path / "form.xlsx", [
        HEAD,
        ["integer", "adults", "Adults?", "Adultes ?", None, ". >= 1 and . <= 20", None],
        ["integer", "children", "Children?", "Enfants ?", None, ". >= 0 and . <= 20", None],
        ["calculate", "size", None, None, None, None, "${adults} + ${children}"],
        ["calculate", "crowded", None, None, None, None, "${size} div 2"],
        ["select_one yn", "space", "Enough room?", "Assez de place ?", "${crowded} >= 3", None, None],
        ["calculate", "stamp", None, None, None, None, "now()"],
    ], YN)
    out = tmp_path / "m.yaml"
    result = import_xlsform(form, out)
    assert rendered(result.problems) == [
        f"{form}[survey]:4: warning [X-CALC-001] item 'size': calculation '${{adults}} + ${{children}}' is not "
        "stored; it is put in place of ${size} wherever the form uses it",
        f"{form}[survey]:5: warning [X-CALC-001] item 'crowded': calculation '${{size}} div 2' is not stored; it is "
        "put in place of ${crowded} wherever the form uses it",
        f"{form}[survey]:7: error [X-TYPE-001] item 'stamp': type 'calculate' cannot be imported: only a calculation "
        "that is arithmetic on earlier answers can be imported; declare scores in the module's 'scores'"]
    result = import_xlsform(form, out, drop_unsupported=True)
    assert result.errors == []
    assert load_module(out).item("space").relevant == "((${adults} + ${children}) div 2) >= 3"
    survey = survey_of(out)
    r = Respondent(survey, "en")
    assert r.answer(2) is None and r.answer(3) is None
    assert shown(r) == []  # 5 people: 2.5, not crowded
    r = Respondent(survey, "fr")
    assert r.answer(2) is None and r.answer(4) is None
    assert shown(r) == ["space"]


def test_choices_from_a_csv_file_next_to_the_form(tmp_path: Path) -> None:
    (tmp_path / "towns.csv").write_text("name,label::English (en),label::French (fr)\nnorth,North,Nord\n"
                                        "south,South,Sud\n", encoding="utf-8")
    form = workbook(tmp_path / "form.xlsx", [
        HEAD, ["select_one_from_file towns.csv", "town", "Town?", "Ville ?", None, None, None],
        ["select one from file regions.csv", "region", "Region?", "Région ?", None, None, None]])
    result = convert(form, drop_unsupported=True)
    assert rendered(result.problems) == [
        f"{form}[survey]:3: warning [X-CHO-006] item 'region': choice file 'regions.csv' is not next to the form; "
        f"copy it into {str(tmp_path)!r} (row left out)"]
    assert result.data["choices"] == {"towns": [  # type: ignore[index]
        {"code": "north", "label": {"en": "North", "fr": "Nord"}},
        {"code": "south", "label": {"en": "South", "fr": "Sud"}}]}


def test_languages_option_keeps_complete_languages(tmp_path: Path) -> None:
    form = workbook(tmp_path / "form.xlsx", [
        ["type", "name", "label::English (en)", "label::French (fr)", "label::Arabic (ar)"],
        ["select_one yn", "a", "A?", "A ?", "أ؟"],
        ["select_one yn", "b", "B?", "B ?", None]],
        [["list_name", "name", "label::English (en)", "label::French (fr)", "label::Arabic (ar)"],
         ["yn", "y", "Yes", "Oui", "نعم"], ["yn", "n", "No", "Non", None]])
    result = convert(form, languages=["fr", "ar"])
    assert [p.render() for p in result.problems] == [
        f"{form}: warning [X-LANG-004] language 'en' is not asked for (--languages); left out",
        f"{form}: warning [X-LANG-004] language 'ar' lacks the text of b, choice 'n' of list 'yn'; left out"]
    assert result.data["languages"] == {"fr": "draft"}  # type: ignore[index]
    assert result.data["title"] == {"fr": "form"}  # type: ignore[index]
    assert result.data["choices"]["yn"][0]["label"] == {"fr": "Oui"}  # type: ignore[index]
    assert rendered(convert(form, languages=["ar"]).problems) == [
        f"{form}: warning [X-LANG-004] language 'en' is not asked for (--languages); left out",
        f"{form}: warning [X-LANG-004] language 'fr' is not asked for (--languages); left out",
        f"{form}: warning [X-LANG-004] language 'ar' lacks the text of b, choice 'n' of list 'yn'; left out",
        f"{form}: error [X-LANG-003] no language asked for (--languages ar) is complete; translate the missing "
        "texts or ask for another language"]
    # With --drop-unsupported alone, the incomplete language is left out too.
    result = convert(form, drop_unsupported=True)
    assert set(result.data["languages"]) == {"en", "fr"}  # type: ignore[index]


def test_one_title_for_several_languages_is_said(tmp_path: Path) -> None:
    form = workbook(tmp_path / "form.xlsx", [HEAD, ["note", "hello", "Hello", "Bonjour", None, None, None]],
                    settings=[["form_title", "source", "license"], ["Health", "test", "CC0-1.0"]])
    result = convert(form)
    assert [p.render() for p in result.problems] == [
        f"{form}[settings]:2: warning [X-SET-003] the form title 'Health' is in one language only; it is written "
        "as the title in en, fr: translate it in the module"]
    assert result.data["title"] == {"en": "Health", "fr": "Health"}  # type: ignore[index]
    assert result.data["items"][0]["type"] == "note"  # type: ignore[index]


def test_every_problem_in_one_run(tmp_path: Path) -> None:
    """Rows refused and the module's own problems come together; a
    reference to a refused row is not reported twice."""
    form = workbook(tmp_path / "form.xlsx", [
        HEAD,
        ["geopoint", "where", "Where?", "Où ?", None, None, None],
        ["select_one yn", "near", "Near?", "Près ?", "${where} != ''", None, None],
        ["select_one yn", "far", "Far?", "Loin ?", "${near} = 'maybe'", None, None],
        ["select_one yn", "self", "Self?", "Soi ?", "${self} = 'y'", None, None],
    ], YN)
    s = f"{form}[survey]"
    assert rendered(convert(form).problems) == [
        f"{s}:2: error [X-TYPE-001] item 'where': type 'geopoint' cannot be imported: a location would identify a "
        "person",
        f"{s}:4: error [Q-REF-006] item 'far': relevant: 'maybe' is not a choice of ${{near}}; its codes are y, n",
        f"{s}:5: error [Q-REF-005] item 'self': relevant refers to ${{self}}, the item itself; it can only depend "
        "on earlier answers"]


def test_command_line_languages(tmp_path: Path, capsys) -> None:
    from kiosk import cli
    form = workbook(tmp_path / "form.xlsx", [
        ["type", "name", "label::English (en)", "label::French (fr)"], ["select_one yn", "a", "A?", None]],
        [["list_name", "name", "label::English (en)", "label::French (fr)"], ["yn", "y", "Yes", "Oui"],
         ["yn", "n", "No", "Non"]])
    out = tmp_path / "m.yaml"
    assert cli.main(["import-xlsform", str(form), "-o", str(out), "--languages", "fr"]) == 1
    text = capsys.readouterr().out
    assert f"{form}: warning [X-LANG-004] language 'fr' lacks the text of a; left out" in text
    assert f"{form}: error [X-LANG-003] no language asked for (--languages fr) is complete" in text
    assert not out.exists()
    assert cli.main(["import-xlsform", str(form), "-o", str(out), "--languages", "en"]) == 0
    assert load_module(out).languages == {"en": "draft"}


# ------------------------------------------------------- XPath paths

def test_xpath_paths_in_expressions_are_references(tmp_path: Path) -> None:
    """ODK forms (the Community Health Toolkit's among them) write
    references as XPath paths besides ``${name}``: relative to the row
    itself (``..`` is the group around it) or absolute from the form's root.
    Each becomes the reference to the row it names, whatever group it is
    in, and the patient's path is the one ODK would give."""
    form = workbook(tmp_path / "form.xlsx", [
        HEAD,
        ["begin_group", "signs", "Danger signs", "Signes de danger", None, None, None],
        ["select_one yn", "fever", "Fever?", "Fièvre ?", None, None, None],
        ["select_one yn", "since", "For more than 2 days?", "Plus de 2 jours ?", "../fever = 'y'", None, None],
        ["end_group", None, None, None, None, None, None],
        ["begin_group", "visit", "Visit", "Visite", None, None, None],
        ["begin_group", "when", "When", "Quand", None, None, None],
        ["select_one yn", "today", "Seen today?", "Vu aujourd'hui ?",
         "selected(../../../signs/fever, 'y') and /odk/signs/since = 'y'", None, None],
        ["end_group", None, None, None, None, None, None],
        ["end_group", None, None, None, None, None, None],
        ["select_one yn", "home", "At home?", "À la maison ?", "not(./../signs/fever = 'n')", None, None],
    ], YN)
    out = tmp_path / "m.yaml"
    result = import_xlsform(form, out)
    assert rendered(result.problems) == []
    module = load_module(out)
    assert module.item("since").relevant == "${fever} = 'y'"
    assert module.item("today").relevant == "selected(${fever}, 'y') and ${since} = 'y'"
    assert module.item("home").relevant == "not(${fever} = 'n')"
    survey = survey_of(out)
    r = Respondent(survey, "en")
    assert r.answer("y") is None
    assert r.current.id == "since"
    assert r.answer("y") is None
    assert shown(r) == ["today", "home"]
    r = Respondent(survey, "fr")
    assert r.answer("n") is None
    assert shown(r) == []


def test_a_path_to_no_row_is_named(tmp_path: Path) -> None:
    form = workbook(tmp_path / "form.xlsx", [
        HEAD,
        ["select_one yn", "fever", "Fever?", "Fièvre ?", None, None, None],
        ["select_one yn", "since", "Since?", "Depuis ?", "../fevr = 'y'", None, None],
    ], YN)
    assert [p.code for p in convert(form).errors] == ["Q-EXP-001"]
    assert "../fevr" in convert(form).errors[0].message


def test_smart_quotes_are_plain_quotes_as_in_odk(tmp_path: Path) -> None:
    """A spreadsheet turns 'y' into ‘y’ as it is typed; pyxform (so ODK)
    reads them as plain quotes, in expressions and texts alike, and runs of
    spaces as one, unless the settings say ``clean_text_values: no``."""
    survey = [HEAD,
              ["select_one yn", "fever", "The  “fever”  question", "La question « fièvre »", None, None, None],
              ["select_one yn", "since", "Since?", "Depuis ?", "${fever} = ‘y’", None, None]]
    out = tmp_path / "m.yaml"
    assert rendered(import_xlsform(workbook(tmp_path / "a.xlsx", survey, YN), out).problems) == []
    module = load_module(out)
    assert module.item("since").relevant == "${fever} = 'y'"
    assert module.item("fever").text == {"en": 'The "fever" question', "fr": "La question « fièvre »"}
    r = Respondent(survey_of(out), "en")
    assert r.answer("y") is None
    assert shown(r) == ["since"]
    kept = workbook(tmp_path / "b.xlsx", survey, YN, [SETTINGS[0] + ["clean_text_values"], SETTINGS[1] + ["no"]])
    assert [p.code for p in convert(kept).errors] == ["Q-EXP-001"]


def test_formatting_and_links_in_texts_become_plain_words(tmp_path: Path) -> None:
    """ODK shows HTML and Markdown links in labels; the kiosk would print the
    tags as written, and a link or picture address would send the patient
    off the kiosk or fetch from elsewhere: each is left out, with a warning
    naming the row and what it now reads."""
    form = workbook(tmp_path / "form.xlsx", [
        HEAD,
        ["note", "intro", '<h4 style="text-align:center;">Welcome &amp; thanks</h4>',
         "Bienvenue<br>et merci", None, None, None],
        ["select_one yn", "fever", "Fever?<i class=\"fa fa-warning\"></i>", "Fièvre ? [voir](https://example.org/f)",
         None, None, None],
        ["note", "more", "See ![map](http://example.org/m.png) or www.example.org", "Voir", None, None, None],
    ], [YN[0], ["yn", "y", '<span style="color:green">Yes</span>', "Oui"], YN[2]])
    out = tmp_path / "m.yaml"
    result = import_xlsform(form, out)
    assert rendered(result.problems) == [
        f"{form}[choices]:2: warning [X-TXT-003] label in 'en' holds HTML formatting, left out: the kiosk shows "
        "plain text and never links off its page; it reads 'Yes'",
        f"{form}[survey]:2: warning [X-TXT-003] label in 'en' holds HTML formatting, left out: the kiosk shows "
        "plain text and never links off its page; it reads 'Welcome & thanks'",
        f"{form}[survey]:2: warning [X-TXT-003] label in 'fr' holds HTML formatting, left out: the kiosk shows "
        "plain text and never links off its page; it reads 'Bienvenue et merci'",
        f"{form}[survey]:3: warning [X-TXT-003] label in 'en' holds HTML formatting, left out: the kiosk shows "
        "plain text and never links off its page; it reads 'Fever?'",
        f"{form}[survey]:3: warning [X-TXT-003] label in 'fr' holds a link or picture address, left out: the kiosk "
        "shows plain text and never links off its page; it reads 'Fièvre ? voir'",
        f"{form}[survey]:4: warning [X-TXT-003] label in 'en' holds a link or picture address, a web address, left "
        "out: the kiosk shows plain text and never links off its page; it reads 'See map or'"]
    module = load_module(out)
    assert module.item("intro").text == {"en": "Welcome & thanks", "fr": "Bienvenue et merci"}
    assert module.item("fever").text == {"en": "Fever?", "fr": "Fièvre ? voir"}
    assert [c.label for c in module.choice_lists["yn"]] == [{"en": "Yes", "fr": "Oui"}, {"en": "No", "fr": "Non"}]
    assert "example.org" not in out.read_text(encoding="utf-8")


def test_drop_unsupported_leaves_out_conditions_the_kiosk_cannot_evaluate(tmp_path: Path) -> None:
    """A relevance that refers to a later question (ODK re-evaluates it on
    the same screen) or uses a function the kiosk lacks stops the import,
    naming the row; with --drop-unsupported the row is left out with the
    reason, and what depends on it too, instead of nothing being written."""
    form = workbook(tmp_path / "form.xlsx", [
        HEAD,
        ["note", "age_note", "About your age", "Votre âge", "${method} = 'y'", None, None],
        ["select_one yn", "method", "Do you know your age?", "Connaissez-vous votre âge ?", None, None, None],
        ["select_one yn", "visit", "First visit?", "Première visite ?", "today() > 20000", None, None],
        ["select_one yn", "why", "Referred?", "Adressé ?", "${visit} = 'n'", None, None],
        ["select_one yn", "ok", "All right?", "Ça va ?", None, ". = 'y' or ${method} = 'n'", None],
    ], YN)
    out = tmp_path / "m.yaml"
    strict = import_xlsform(form, out)
    assert [(p.code, p.line, p.item) for p in strict.errors] == [
        ("Q-REF-004", 2, "age_note"), ("Q-EXP-001", 4, "visit")]
    assert not out.exists()
    result = import_xlsform(form, out, drop_unsupported=True)
    s = f"{form}[survey]"
    assert rendered(result.problems) == [
        f"{s}:2: warning [X-ROW-006] item 'age_note': its relevant refers to ${{method}} (row 3), which comes "
        "later: the kiosk asks in order and cannot ask again; left out",
        f"{s}:4: warning [X-ROW-006] item 'visit': its relevant cannot be evaluated by the kiosk: cannot read "
        "expression 'today() > 20000': unexpected character 't' at column 1 (function today() is not supported; "
        "the functions are selected(), count-selected(), not(), true(), false()); left out",
        f"{s}:5: warning [X-ROW-004] item 'why': depends on ${{visit}} (row 4), which is left out; left out too",
        f"{s}:6: warning [Q-CON-001] item 'ok': a constraint needs a 'constraint_message' telling the patient what "
        "to change, in each language"]
    assert [i.id for i in load_module(out).items] == ["method", "ok"]
    r = Respondent(survey_of(out), "en")
    assert r.answer("n") is None
    assert shown(r) == ["ok"]


def test_a_path_names_the_row_of_its_own_group_when_a_name_is_used_twice(tmp_path: Path) -> None:
    """``${vaccinated}`` means the first row of that name; ``../vaccinated``
    in the child's group means the child's row, as in ODK."""
    form = workbook(tmp_path / "form.xlsx", [
        HEAD,
        ["begin_group", "mother", "Mother", "Mère", None, None, None],
        ["select_one yn", "vaccinated", "Vaccinated?", "Vaccinée ?", None, None, None],
        ["end_group", None, None, None, None, None, None],
        ["begin_group", "child", "Child", "Enfant", None, None, None],
        ["select_one yn", "vaccinated", "Vaccinated?", "Vacciné ?", None, None, None],
        ["select_one yn", "card", "Card?", "Carnet ?", "../vaccinated = 'y'", None, None],
        ["end_group", None, None, None, None, None, None],
    ], YN)
    out = tmp_path / "m.yaml"
    assert [p.code for p in import_xlsform(form, out).problems if p.code != "X-SET-003"] == ["X-NAME-003"]
    assert load_module(out).item("card").relevant == "${child_vaccinated} = 'y'"
    r = Respondent(survey_of(out), "en")
    assert r.answer("n") is None  # the mother
    assert r.answer("y") is None  # the child
    assert r.current is not None and r.current.id == "card"
    r = Respondent(survey_of(out), "fr")
    assert r.answer("y") is None and r.answer("n") is None
    assert r.current is None


def test_a_calculation_with_a_relevance_is_not_put_in_place_of_its_name(tmp_path: Path) -> None:
    """In ODK a calculation that is not relevant (by its own relevance or
    its group's) is empty: ``${bonus} >= 3`` is then false. Put in place of
    its name, the arithmetic would count for everyone and show ``reward`` to
    a patient ODK would never ask; the row is refused, naming the condition."""
    form = workbook(tmp_path / "form.xlsx", [
        HEAD,
        ["select_one yn", "member", "Member?", "Membre ?", None, None, None],
        ["integer", "visits", "Visits?", "Visites ?", None, ". >= 0 and . <= 20", None],
        ["calculate", "bonus", None, None, "${member} = 'y'", None, "${visits} + 1"],
        ["begin_group", "extra", "Extra", "Extra", "${visits} > 2", None, None],
        ["calculate", "double", None, None, None, None, "${visits} * 2"],
        ["end_group", None, None, None, None, None, None],
        ["select_one yn", "reward", "Reward?", "Récompense ?", "${bonus} >= 3", None, None],
        ["select_one yn", "twice", "Twice?", "Deux fois ?", "${double} >= 4", None, None],
    ], YN)
    s = f"{form}[survey]"
    assert rendered(convert(form).errors) == [
        f"{s}:4: error [X-TYPE-001] item 'bonus': calculation '${{visits}} + 1' holds only when its relevance "
        "\"${member} = 'y'\" does (ODK leaves it empty otherwise), which the kiosk cannot express; compute it "
        "without a condition, or declare a score in the module's 'scores'",
        f"{s}:6: error [X-TYPE-001] item 'double': calculation '${{visits}} * 2' holds only when the relevance of "
        "its group 'extra' does (ODK leaves it empty otherwise), which the kiosk cannot express; compute it "
        "without a condition, or declare a score in the module's 'scores'"]
    out = tmp_path / "m.yaml"
    result = import_xlsform(form, out, drop_unsupported=True)
    assert [(p.code, p.item) for p in result.problems if p.code in ("X-TYPE-001", "X-ROW-004")] == [
        ("X-TYPE-001", "bonus"), ("X-TYPE-001", "double"), ("X-ROW-004", "reward"), ("X-ROW-004", "twice")]
    assert [i.id for i in load_module(out).items] == ["member", "visits"]
