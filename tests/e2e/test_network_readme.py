"""The README's "A network of centres", followed to the letter: three
centres with their own neighbourhood lists, a year of synthetic responses
each; every response is ingested without the centres' survey files, and the
report names each centre's neighbourhoods and the definitions pooled."""

from __future__ import annotations

import getpass
import html
import re
import shlex
import shutil
from pathlib import Path

import pytest

from surveycore.questionnaire import load_survey
from analysis import cli as analysis_cli
from analysis.ingest import scan_responses
from kiosk import cli as kiosk_cli
from tests.support import report_print

REPO = Path(__file__).resolve().parents[2]


def readme_commands() -> list[list[str]]:
    """The command lines of the README's "A network of centres" code block."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## A network of centres\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    return [shlex.split(line) for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]


def run(command: list[str]) -> int:
    """Run a README command in this process: the same program, arguments and
    working folder as in a shell."""
    program = Path(command[0]).name
    if program == "cp":
        shutil.copyfile(command[1], command[2])
        return 0
    if program == "kiosk":
        return kiosk_cli.main(command[1:])
    assert program == "analysis", command
    return analysis_cli.main(command[1:])


@pytest.mark.slow
def test_the_readme_network_of_three_centres(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    # A fresh checkout: the shipped questionnaires and examples only.
    work = tmp_path / "checkout"
    shutil.copytree(REPO / "questionnaires", work / "questionnaires")
    shutil.copytree(REPO / "examples", work / "examples")
    monkeypatch.chdir(work)
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": "network passphrase")  # typed at each prompt

    commands = readme_commands()
    assert [c[1] for c in commands] == ["keygen", "network/team/team.pub",
                                        "network/team/team.pub", "network/team/team.pub",
                                        *["init-device"] * 3, *["trust"] * 3, *["simulate"] * 3, "ingest", "report"]
    for command in commands:
        code = run(command)
        out = capsys.readouterr().out
        assert code == 0, (command, out)
        if command[1] == "ingest":
            ingest_out = out

    # Every response is in, nothing quarantined.
    assert ingest_out.startswith("ingested: 2400\nalready ingested (skipped): 0\nquarantined: 0\n")
    responses = scan_responses(work / "network" / "dataset").collect()
    assert sorted(responses.group_by("centre").len().rows()) == [("ECHIROLLES", 800), ("MARSEILLE", 800),
                                                                 ("SAINT-DENIS", 800)]
    weeks = set(responses["period"].to_list())
    assert min(weeks) == "2026-W01" and max(weeks) == "2026-W52"

    # The report names each centre's neighbourhoods from its own list.
    report = html.unescape((work / "network" / "report.html").read_text(encoding="utf-8"))
    for folder, centre in (("saint-denis", "SAINT-DENIS"), ("marseille", "MARSEILLE"), ("echirolles", "ECHIROLLES")):
        survey = load_survey(work / "examples" / "network" / folder / "survey.yaml", [work / "questionnaires"])
        places = survey.module("demographics").item("neighbourhood").choices
        for place in places:
            if place.code in ("elsewhere", "no_fixed_address"):
                continue  # the same text in every list (below)
            assert f"{place.label['fr']} ({centre})" in report, place.code
    # centre_ville is in all three lists, with the same label: still three places.
    assert report.count("Centre-ville (ECHIROLLES)") and report.count("Centre-ville (MARSEILLE)")
    assert "Centre-ville (SAINT-DENIS)" in report
    # The pooling is stated per module: version, hash, centres.
    demographics = load_survey(work / "examples" / "network" / "marseille" / "survey.yaml",
                               [work / "questionnaires"]).module("demographics")
    assert (f"Définitions regroupées: {demographics.version} (hash {demographics.hash}): ECHIROLLES, MARSEILLE, SAINT-DENIS"
            in report)

    # The French report as a diagnostic: key indicators first, labels only.
    sections = re.findall(r'<section id="([^"]+)"', report)
    assert sections[:3] == ["summary", "participation", "theme-demographics"]
    assert sections[-3:] == ["comparisons", "appendix", "methods"]
    plain = re.sub(r"<[^>]+>", " ", report)
    for code in ("franc_moisin", "moderately_severe", "precarious", "likely_depression", "general_health"):
        assert code not in plain, code
    assert "Symptômes dépressifs (PHQ-9 ≥ 10)" in plain and "Franc-Moisin (SAINT-DENIS)" in plain
    # Centres compared on age- and sex-standardised shares too, with labels and
    # intervals; the methods name the reference population and the interval.
    chronic = report[report.index('id="compare-chronic"'):]
    chronic = re.sub(r"<[^>]+>", " ", chronic[:chronic.index("</figure>")])
    standardised = re.findall(r"Centre — standardisé sur l’âge et le sexe: (.*?)\.", chronic)
    assert standardised and re.fullmatch(r"([A-Z-]+ \d+,\d\u00a0% \[\d+,\d – \d+,\d\] · \d+(; )?)+",
                                         standardised[0]), chronic
    assert "Parts standardisées sur l’âge et le sexe" in plain and "Insee, RP2018 exploitation principale" in plain
    assert "méthode gamma de Fay et Feuer (1997)" in plain

    # Printed on A4 by the headless browser: nothing sticks out of the page;
    # screenshots for a reviewer in test-artifacts/.
    pdf = work / "network" / "report.pdf"
    assert run([".venv/bin/analysis", "report", "--data", "network/dataset/", "--out", "network/report.html",
                "--lang", "fr", "--pdf", str(pdf)]) == 0
    assert pdf.read_bytes().startswith(b"%PDF") and 10 < report_print.pdf_pages(pdf) <= 40
    assert report_print.check_print_layout(work / "network" / "report.html", "network-fr") == []
    # Every breakdown in the appendix: wide cross-tabs are split, none is wider than the page.
    full = work / "network" / "full.html"
    assert run([".venv/bin/analysis", "report", "--data", "network/dataset/", "--out", str(full),
                "--lang", "fr", "--appendix", "all"]) == 0
    assert 'data-item="mehm.general_health.by.neighbourhood~2"' in full.read_text(encoding="utf-8")
    assert report_print.check_print_layout(full, "network-fr-all") == []
