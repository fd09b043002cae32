"""The README's "Adding a language" routine, followed to the letter: its
commands, run in order on copies of locales/ and of a survey, add Turkish,
and the kiosk then offers it."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from babel import Locale, UnknownLocaleError
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po, write_po

from surveycore import i18n
from surveycore.questionnaire import load_survey
from kiosk import cli
from kiosk.keys import create_device_key
from tests.support.driver import click, start

REPO = Path(__file__).resolve().parents[2]
LANG = "tr"
# The languages the demo survey already offers.
SHIPPED = ["fr", "en", "ar", "fa_AF", "ps", "ti", "uk", "ro", "es", "ru", "bn", "ka", "so"]


def readme_commands() -> list[list[str]]:
    """The command lines of the README's "Adding a language" code block."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Adding a language\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    return [shlex.split(line) for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]


def translate_file(path: Path, prefix: str) -> None:
    """A translator's work, simulated: every entry gets a text that keeps
    its placeholders, marked unreviewed."""
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=LANG)
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, (list, tuple)):
            message.string = tuple(prefix + message.id[-1] for _ in range(catalog.num_plurals))
        else:
            message.string = prefix + message.id
        message.user_comments.append(i18n.UNREVIEWED)
    with path.open("wb") as fh:
        write_po(fh, catalog, width=76)


def enable_for_the_site(survey: Path) -> None:
    """README step 3, done by hand in the survey file."""
    text = survey.read_text(encoding="utf-8")
    assert f"  languages: [{', '.join(SHIPPED)}]\n" in text
    survey.write_text(text.replace(f"  languages: [{', '.join(SHIPPED)}]\n",
                                   f"  languages: [{', '.join(SHIPPED)}, {LANG}]\n"), encoding="utf-8")


def run(command: list[str]) -> int:
    """Run a README command in this process: the same program, arguments and
    working folder as in a shell."""
    program = Path(command[0]).name
    if program == "pybabel":
        CommandLineInterface().run(["pybabel", "--quiet", *command[1:]])
        return 0
    assert program == "kiosk", command
    return cli.main(command[1:])


@pytest.mark.slow
def test_the_readme_routine_adds_a_language_the_kiosk_offers(tmp_path: Path, monkeypatch, team, capsys) -> None:
    work = tmp_path / "checkout"
    shutil.copytree(i18n.LOCALES_DIR, work / "locales")
    (work / "questionnaires").mkdir()
    for name in ("demo_survey.yaml", "mehm.yaml"):
        shutil.copy(REPO / "questionnaires" / name, work / "questionnaires" / name)
    monkeypatch.chdir(work)
    monkeypatch.setenv(i18n.LOCALES_ENV, str(work / "locales"))
    survey = work / "questionnaires" / "demo_survey.yaml"

    commands = readme_commands()
    assert [c[:3] for c in commands] == [
        [".venv/bin/pybabel", "init", "-i"], [".venv/bin/kiosk", "i18n", "export"],
        [".venv/bin/kiosk", "i18n", "import"], [".venv/bin/kiosk", "i18n", "check"],
        [".venv/bin/kiosk", "check", "questionnaires"], [".venv/bin/kiosk", "i18n", "status"]]
    assert all(LANG in c for c in commands[:3])
    for command in commands:
        assert run(command) == 0, (command, capsys.readouterr())
        if command[1] == "init":
            translate_file(i18n.po_path(LANG), "[tr] ")
        elif command[1:3] == ["i18n", "export"]:
            translate_file(work / command[command.index("-o") + 1], "[tr] ")
        elif command[1:3] == ["i18n", "import"]:
            enable_for_the_site(survey)
    out = capsys.readouterr().out
    assert "0 error(s), 0 warning(s) in " + str(work / "locales") in out
    total = i18n.catalog_stats("fr").total
    assert re.search(rf"^  tr +{total}/{total}, {total} unreviewed +0/1 +offered  \(ltr, Türkçe\)$", out, re.M)
    assert re.search(r"^    tr +draft +15/15 +100%  review: 15 draft; 15 lack a back-translation$", out, re.M)

    # The kiosk offers it: the welcome page has a Turkish button, and the
    # consent and first question pages are in the new catalog and module text.
    assert load_survey(survey).offered_languages() == [*SHIPPED, LANG]
    kiosk = tmp_path / "kiosk"
    (kiosk / "team").mkdir(parents=True)
    shutil.copy(team.dir / "team.pub", kiosk / "team" / "team.pub")
    create_device_key(kiosk / "device" / "device.key")
    shutil.copytree(work / "questionnaires", kiosk / "survey")
    (kiosk / "kiosk.toml").write_text(cli._demo_toml(), encoding="utf-8")
    at = start(monkeypatch, kiosk / "kiosk.toml")
    assert [b.label for b in at.button if b.key.startswith("lang-")][-2:] == ["Soomaali", "Türkçe"]
    click(at, f"lang-{LANG}")
    assert [b.label for b in at.button if b.key.startswith("consent")] == ["[tr] I agree, start", "[tr] No thanks"]
    click(at, "consent-yes")
    assert [h.value for h in at.header] == ["[tr] Comment est votre état de santé en général ?"]


def test_babel_has_no_prs_so_dari_is_fa_af() -> None:
    # Why the README insists on fa_AF: babel knows no "prs".
    with pytest.raises(UnknownLocaleError):
        Locale.parse("prs")
    assert i18n.native_name("fa_AF") == "دری"
