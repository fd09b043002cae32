"""Interface catalogs: the CI gate over every shipped catalog, the check's
reports on broken catalogs, review marks, plural forms, numbers, direction
and scripts, and the CSS that covers Streamlit's own English texts."""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from surveycore import i18n
from surveycore.errors import Problem
from kiosk.cli import main

REPO = Path(__file__).resolve().parents[2]
LANGUAGES = ["fr", "en", "ar", "fa_AF", "ps", "ti", "ro", "es", "uk", "ru", "bn", "ka", "so"]
UNREVIEWED_LANGUAGES = ["ar", "fa_AF", "ps", "ti", "ro", "es", "uk", "ru", "bn", "ka", "so"]

HEADER = """msgid ""
msgstr ""
"Language: {lang}\\n"
"Plural-Forms: {plural}\\n"
"MIME-Version: 1.0\\n"
"Content-Type: text/plain; charset=utf-8\\n"
"Content-Transfer-Encoding: 8bit\\n"

"""
RU_PLURAL = ("nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) "
             "? 1 : 2);")


def write_catalog(root: Path, lang: str, body: str, plural: str = "nplurals=2; plural=(n != 1);") -> Path:
    """A catalog file ``root/<lang>/LC_MESSAGES/messages.po``."""
    path = root / lang / "LC_MESSAGES" / "messages.po"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER.format(lang=lang, plural=plural) + body, encoding="utf-8")
    return path


def template(root: Path, *msgids: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    body = "".join(f'msgid "{m}"\nmsgstr ""\n\n' for m in msgids)
    path = root / "messages.pot"
    path.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n' + body,
                    encoding="utf-8")
    return path


# ------------------------------------------------------------ the CI gate

def test_every_shipped_language_has_a_catalog() -> None:
    assert set(LANGUAGES) <= set(i18n.shipped_languages())


def test_every_shipped_catalog_compiles_and_is_complete() -> None:
    # The gate: compiles, placeholders match, nothing of messages.pot missing
    # or untranslated, nothing fuzzy, nothing obsolete (warnings count too).
    assert [p.render() for p in i18n.check_catalogs()] == []


def test_unreviewed_marks_are_counted_per_language() -> None:
    counts = i18n.unreviewed_counts()
    assert counts["fr"] == 0 and counts["en"] == 0  # French is reviewed; English is the source
    for lang in LANGUAGES:
        text = i18n.po_path(lang).read_text(encoding="utf-8")
        stats = i18n.catalog_stats(lang)
        assert stats.unreviewed == counts[lang] == text.count("\n# unreviewed\n"), lang
        assert stats.fuzzy == 0 and stats.unreviewed <= stats.translated, lang


def test_review_marks_are_spelled_as_the_convention_says() -> None:
    # A mistyped mark ("# unreveiwed") would silently count as reviewed.
    odd = []
    for lang in i18n.shipped_languages():
        with i18n.po_path(lang).open("rb") as fh:
            for message in read_po(fh):
                odd += [(lang, c) for c in message.user_comments
                        if "review" in c.lower() and c.strip() != i18n.UNREVIEWED]
    assert odd == []


@pytest.mark.parametrize("lang", UNREVIEWED_LANGUAGES + ["fr"])
def test_the_required_answer_message_quotes_the_button_as_translated(lang: str) -> None:
    t = i18n.translations(lang)
    button = t.gettext("Prefer not to answer")
    message = t.gettext("Please choose an answer, or tap “Prefer not to answer”.")
    assert button != "Prefer not to answer" and button in message


def test_the_template_holds_every_string_the_extraction_finds(tmp_path: Path, monkeypatch) -> None:
    """messages.pot is not stale: the Makefile's own pybabel command, run on the
    tree, finds no string that the template lacks."""
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^i18n-extract:.*\n((?:\t.*\\\n)*\t.*\n)", makefile, re.M)
    assert recipe is not None
    args = shlex.split(recipe.group(1).replace("\\\n", " "))
    assert args[0] == "$(BIN)/pybabel"
    out = tmp_path / "fresh.pot"
    args = ["pybabel", "--quiet"] + args[1:]
    args[args.index("-o") + 1] = str(out)
    monkeypatch.chdir(REPO)
    CommandLineInterface().run(args)
    fresh = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(out.open("rb")) if m.id}
    shipped = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(i18n.template_path().open("rb")) if m.id}
    assert sorted(fresh - shipped) == []


_CALLS = {"_": (0,), "N_": (0,), "gettext": (0,), "_t": (1,), "ngettext": (0, 1), "_staff_text": (0,),
          "_staff_ntext": (0, 1)}


def _used_msgids() -> dict[str, str]:
    """Literal msgids handed to a translation call anywhere in kiosk/,
    surveycore/ and analysis/, found in the syntax tree: unlike babel's extractor on Python
    3.11, this also sees calls written inside f-strings."""
    found: dict[str, str] = {}
    for path in sorted([*(REPO / "kiosk").rglob("*.py"), *(REPO / "surveycore").rglob("*.py"),
                         *(REPO / "analysis").rglob("*.py")]):
        calls = dict(_CALLS)
        if path == REPO / "kiosk" / "staff.py":
            calls["t"] = (0,)  # the staff pages' alias t = _staff_text
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in ("gettext", "ngettext"):
                name = func.attr
            elif isinstance(func, ast.Name):
                name = func.id
            else:
                continue
            for index in calls.get(name, ()):
                if index < len(node.args) and isinstance(node.args[index], ast.Constant) \
                        and isinstance(node.args[index].value, str):
                    found.setdefault(node.args[index].value, f"{path.relative_to(REPO)}:{node.lineno}")
    return found


@pytest.mark.slow
def test_every_string_the_code_translates_is_in_the_template() -> None:
    used = _used_msgids()
    assert "Question {number} of {total}" in used  # the scan sees the kiosk's calls
    with i18n.template_path().open("rb") as fh:
        pot = read_po(fh)
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in pot if m.id}
    known |= {m.id[1] for m in pot if isinstance(m.id, tuple)}
    missing = sorted(f"{where}: {msgid!r}" for msgid, where in used.items() if msgid not in known)
    assert missing == []


def test_no_compiled_catalog_is_shipped_or_needed(tmp_path: Path) -> None:
    assert sorted(i18n.LOCALES_DIR.rglob("*.mo")) == []
    write_catalog(tmp_path, "fr", 'msgid "Next"\nmsgstr "Suivant"\n')
    # A stale .mo next to the catalog is never read: the .po is the truth.
    (tmp_path / "fr" / "LC_MESSAGES" / "messages.mo").write_bytes(b"not a mo file")
    assert i18n.translations("fr", tmp_path).gettext("Next") == "Suivant"


def test_an_edited_catalog_is_compiled_again(tmp_path: Path) -> None:
    path = write_catalog(tmp_path, "es", 'msgid "Next"\nmsgstr "Siguiente"\n')
    assert i18n.translations("es", tmp_path).gettext("Next") == "Siguiente"
    path.write_text(path.read_text(encoding="utf-8").replace("Siguiente", "Adelante"), encoding="utf-8")
    assert i18n.translations("es", tmp_path).gettext("Next") == "Adelante"


def test_the_locales_folder_can_be_chosen_by_environment(tmp_path: Path, monkeypatch) -> None:
    write_catalog(tmp_path, "tr", 'msgid "Next"\nmsgstr "İleri"\n', "nplurals=2; plural=(n != 1);")
    assert i18n.translations("tr").gettext("Next") == "Next"
    monkeypatch.setenv(i18n.LOCALES_ENV, str(tmp_path))
    assert i18n.shipped_languages() == ["tr"]
    assert i18n.translations("tr").gettext("Next") == "İleri"


# ---------------------------------------------------- the check on bad input

def test_a_broken_catalog_is_reported_with_file_msgid_and_problem(tmp_path: Path) -> None:
    template(tmp_path, "Question {number} of {total}", "Next", "Welcome", "Back")
    path = write_catalog(tmp_path, "ar", """msgid "Question {number} of {total}"
msgstr "السؤال {numero} من {total}"

#, fuzzy
msgid "Next"
msgstr "التالي"

msgid "Back"
msgstr ""

msgid "Gone"
msgstr "ذهب"
""")
    problems = i18n.check_catalogs(tmp_path)
    assert [(p.code, p.file, p.line, p.severity) for p in problems] == [
        ("I18N-002", str(path), 9, "error"),
        ("I18N-006", str(path), 13, "error"),
        ("I18N-005", str(path), 16, "error"),
        ("I18N-004", str(path), None, "error"),
        ("I18N-007", str(path), 19, "warning"),
    ]
    assert problems[0].message == ('msgid "Question {number} of {total}": placeholders do not match: the '
                                   "translation lacks {number} and has unknown {numero}; keep the msgid's "
                                   "placeholders exactly")
    assert problems[1].message.startswith('msgid "Next" is marked fuzzy: babel leaves it out when compiling')
    assert problems[2].message.startswith('msgid "Back" is not translated')
    assert problems[3].message.startswith('msgid "Welcome" of messages.pot is missing from the catalog')
    assert problems[4].message.startswith('msgid "Gone" is not in messages.pot any more')
    assert problems[0].render() == (f"{path}:9: error [I18N-002] " + problems[0].message)


def test_a_catalog_that_does_not_compile_is_reported_with_its_line(tmp_path: Path) -> None:
    template(tmp_path, "Next")
    path = write_catalog(tmp_path, "ru", 'msgid "Next"\nmsgstr "Далее\n', RU_PLURAL)
    problems = i18n.check_catalogs(tmp_path)
    assert [(p.code, p.file, p.line) for p in problems] == [("I18N-001", str(path), 10)]
    assert problems[0].message == ('the catalog does not compile: line 10 is not valid PO syntax (msgstr "Далее); '
                                   "check the quotes")


def test_a_catalog_babel_refuses_is_reported_with_its_line(tmp_path: Path) -> None:
    template(tmp_path, "Next", "Back")
    path = write_catalog(tmp_path, "uk", 'msgid "Next"\nmsgid "Back"\nmsgstr "Назад"\n', RU_PLURAL)
    problems = i18n.check_catalogs(tmp_path)
    assert [(p.code, p.file, p.line) for p in problems] == [("I18N-001", str(path), 9)]
    assert problems[0].message == "the catalog does not compile: missing msgstr for msgid 'Next'"


def test_a_format_string_that_would_crash_is_reported(tmp_path: Path) -> None:
    template(tmp_path, "Please enter a number between {minimum} and {maximum}.")
    path = write_catalog(tmp_path, "es", 'msgid "Please enter a number between {minimum} and {maximum}."\n'
                                         'msgstr "Escriba un número entre {minimum} y {maximum."\n')
    (problem,) = i18n.check_catalogs(tmp_path)
    assert (problem.code, problem.file, problem.line) == ("I18N-003", str(path), 9)
    assert problem.message.startswith('msgid "Please enter a number between {minimum} and {maximum}.": the '
                                      "translation is not a valid format string")


def test_plural_entries_are_checked_form_by_form(tmp_path: Path) -> None:
    pot = template(tmp_path)
    pot.write_text(pot.read_text(encoding="utf-8") + 'msgid "{n} envelope"\nmsgid_plural "{n} envelopes"\n'
                   'msgstr[0] ""\nmsgstr[1] ""\n', encoding="utf-8")
    path = write_catalog(tmp_path, "ru", """msgid "{n} envelope"
msgid_plural "{n} envelopes"
msgstr[0] "{n} конверт"
msgstr[1] "{count} конверта"
""", RU_PLURAL)
    problems = i18n.check_catalogs(tmp_path)
    # babel pads the missing third form with an empty one: untranslated.
    assert [(p.code, p.file, p.line) for p in problems] == [("I18N-002", str(path), 9), ("I18N-005", str(path), 9)]
    assert problems[0].message == ('msgid "{n} envelope": placeholders do not match: the translation (plural '
                                   "form 1) has unknown {count}; keep the msgid's placeholders exactly")
    assert problems[1].message.startswith('msgid "{n} envelope" is not translated')


def test_a_plural_entry_with_extra_forms_is_reported_where_it_is(tmp_path: Path) -> None:
    # Two forms in a language of two (Romanian is given two here), three
    # written: babel refuses the entry while reading, so the count never
    # reaches its plural-forms checker (I18N-009 is out of reach).
    pot = template(tmp_path)
    pot.write_text(pot.read_text(encoding="utf-8") + 'msgid "{n} envelope"\nmsgid_plural "{n} envelopes"\n'
                   'msgstr[0] ""\nmsgstr[1] ""\n', encoding="utf-8")
    path = write_catalog(tmp_path, "ro", """msgid "{n} envelope"
msgid_plural "{n} envelopes"
msgstr[0] "{n} plic"
msgstr[1] "{n} plicuri"
msgstr[2] "{n} de plicuri"
""")
    problems = i18n.check_catalogs(tmp_path)
    assert [(p.code, p.file, p.line) for p in problems] == [("I18N-001", str(path), 9)]
    assert problems[0].message == "the catalog does not compile: msg has more translations than num_plurals of catalog"


def test_a_language_babel_does_not_know_is_reported(tmp_path: Path) -> None:
    template(tmp_path, "Next")
    path = write_catalog(tmp_path, "prs", 'msgid "Next"\nmsgstr "بعدی"\n', "nplurals=1; plural=0;")
    problems = i18n.check_catalogs(tmp_path)
    assert [(p.code, p.file) for p in problems][:1] == [("I18N-010", str(path))]
    assert "Dari is fa_AF" in problems[0].message


def test_a_missing_template_is_reported(tmp_path: Path) -> None:
    write_catalog(tmp_path, "fr", 'msgid "Next"\nmsgstr "Suivant"\n')
    assert i18n.check_catalogs(tmp_path) == [
        Problem("I18N-011", "locales/messages.pot is missing; run 'make i18n-extract'",
                str(tmp_path / "messages.pot"))]


# -------------------------------------------------------------- review marks

def test_unreviewed_entries_are_counted_and_still_shown(tmp_path: Path) -> None:
    write_catalog(tmp_path, "ps", """# unreviewed
msgid "Next"
msgstr "بل"

msgid "Back"
msgstr "شاته"

#, fuzzy
msgid "Welcome"
msgstr "ښه راغلاست"

msgid "Finish"
msgstr ""
""")
    assert i18n.catalog_stats("ps", tmp_path) == i18n.CatalogStats("ps", total=4, translated=2, unreviewed=1,
                                                                   fuzzy=1)
    t = i18n.translations("ps", tmp_path)
    assert t.gettext("Next") == "بل"          # unreviewed: compiled and used
    assert t.gettext("Welcome") == "Welcome"  # fuzzy: dropped by babel, hence not the convention


# ------------------------------------------------------------- plural forms

def test_plural_forms_come_from_babel_locale_data(tmp_path: Path) -> None:
    write_catalog(tmp_path, "ru", """msgid "{n} envelope"
msgid_plural "{n} envelopes"
msgstr[0] "{n} конверт"
msgstr[1] "{n} конверта"
msgstr[2] "{n} конвертов"
""", RU_PLURAL)
    t = i18n.translations("ru", tmp_path)
    assert [t.ngettext("{n} envelope", "{n} envelopes", n).format(n=n) for n in (1, 2, 5, 11, 21, 22)] == [
        "1 конверт", "2 конверта", "5 конвертов", "11 конвертов", "21 конверт", "22 конверта"]


@pytest.mark.parametrize("lang, expected", [
    ("ru", ["Неверный PIN-код (осталась 1 попытка).", "Неверный PIN-код (осталось 3 попытки).",
            "Неверный PIN-код (осталось 5 попыток)."]),
    ("ar", ["رمز خاطئ (بقيت محاولة واحدة).", "رمز خاطئ (بقيت 3 محاولات).", "رمز خاطئ (بقيت 5 محاولات)."]),
    ("fr", ["Code erroné (encore 1 essai).", "Code erroné (encore 3 essais).", "Code erroné (encore 5 essais)."]),
    ("fa_AF", ["رمز نادرست (1 کوشش باقی مانده).", "رمز نادرست (3 کوشش باقی مانده).",
               "رمز نادرست (5 کوشش باقی مانده)."]),
])
def test_shipped_catalogs_have_every_plural_form(lang: str, expected: list[str]) -> None:
    t = i18n.translations(lang)
    assert [t.ngettext("Wrong PIN ({left} try left).", "Wrong PIN ({left} tries left).", n).format(left=n)
            for n in (1, 3, 5)] == expected


def test_numbers_and_percentages_follow_the_language() -> None:
    assert i18n.format_number(1234567, "fr") == "1\u202f234\u202f567"
    assert i18n.format_number(1234567, "ru") == "1\u00a0234\u00a0567"
    assert i18n.format_number(1234567, "en") == "1,234,567"
    assert i18n.format_percent(0.256, "fr") == "25,6\u00a0%"
    assert i18n.format_percent(0.256, "es") == "25,6\u00a0%"
    assert i18n.format_percent(0.256, "en") == "25.6%"
    assert i18n.format_percent(0.25, "ru", decimals=0) == "25\u00a0%"


# ------------------------------------------------------- direction, scripts

@pytest.mark.parametrize("lang, direction, script, name", [
    ("ar", "rtl", "Arab", "العربية"),
    ("fa_AF", "rtl", "Arab", "دری"),
    ("ps", "rtl", "Arab", "پښتو"),
    ("ti", "ltr", "Ethi", "ትግርኛ"),
    ("fr", "ltr", "Latn", "Français"),
    ("ru", "ltr", "Cyrl", "Русский"),
    ("uk", "ltr", "Cyrl", "Українська"),
    ("ka", "ltr", "Geor", "ქართული"),  # Georgian has no capital at the start of a word
])
def test_direction_script_and_native_name_come_from_babel(lang: str, direction: str, script: str,
                                                          name: str) -> None:
    assert i18n.direction(lang) == direction
    assert i18n.is_rtl(lang) is (direction == "rtl")
    assert i18n.script(lang) == script
    assert i18n.native_name(lang) == name


# ------------------------------------------------------ Streamlit's own texts

def test_css_strings_cannot_break_out_of_the_style_element() -> None:
    assert i18n.css_string('a "b" \\ c</style>\nd') == '"a \\"b\\" \\\\ c\\3C /style>\\A d"'


@pytest.mark.parametrize("lang", ["ar", "ti", "fr"])
def test_the_cover_css_speaks_the_patients_language(lang: str) -> None:
    css = i18n.chrome_css(lang)
    t = i18n.translations(lang)
    assert f"content: {i18n.css_string(t.gettext(i18n.MSG_CONNECTION_LOST))};" in css
    assert f"content: {i18n.css_string(t.gettext(i18n.MSG_UNEXPECTED))};" in css
    assert f"direction: {i18n.direction(lang)};" in css
    assert t.gettext(i18n.MSG_CONNECTION_LOST) != i18n.MSG_CONNECTION_LOST
    for selector in ('[data-testid="stDialog"]', '[data-testid="InputInstructions"]',
                     '[data-testid="stTooltipErrorHoverTarget"]', '[data-testid="stException"]',
                     '[data-test-connection-state="CONNECTED"]'):
        assert selector in css


def test_the_cover_css_before_a_language_is_chosen_has_no_words() -> None:
    css = i18n.chrome_css(None)
    assert 'content: "⏳";' in css and "direction: ltr;" in css


# ------------------------------------------------------------ command line

def test_the_check_command_passes_on_the_shipped_catalogs(capsys, monkeypatch) -> None:
    monkeypatch.delenv(i18n.LOCALES_ENV, raising=False)
    assert main(["i18n", "check"]) == 0
    assert capsys.readouterr().out == f"0 error(s), 0 warning(s) in {i18n.LOCALES_DIR}\n"


def test_the_check_command_fails_on_a_broken_catalog(tmp_path: Path, capsys) -> None:
    template(tmp_path, "Next", "Back")
    path = write_catalog(tmp_path, "ti", 'msgid "Next"\nmsgstr "ዝቕጽል"\n')
    assert main(["i18n", "check", "--locales", str(tmp_path)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{path}: error [I18N-004] msgid \"Back\" of messages.pot is missing from the catalog; run "
        "'make i18n-update', then translate it",
        f"1 error(s), 0 warning(s) in {tmp_path}",
    ]
