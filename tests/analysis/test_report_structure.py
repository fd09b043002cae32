"""The report as a diagnostic: title page, contents, key indicators with
labels only, themes in the survey's order, comparisons, appendix, methods.

Built on the shipped modules (questionnaires/) with exact counts, so every
figure asserted here is the true one."""

from __future__ import annotations

import html
import re
from pathlib import Path

from analysis import report
from analysis.disclosure import Protection
from analysis.report import render_html
from tests.support.published import Tables
from tests.support.datasets import Data, release
from tests.support.datasets import shipped_dataset as _dataset

REPO = Path(__file__).resolve().parents[2]
QUESTIONNAIRES = REPO / "questionnaires"



def _report(tmp_path: Path, lang: str) -> tuple[str, Tables]:
    r = release(_dataset(tmp_path), QUESTIONNAIRES, breakdowns={"centre": "centre", "period": "period"},
                period="week", protection=Protection.exact(11))
    text = render_html(r, lang)
    parser = Tables()
    parser.feed(text)
    return text, parser


def test_the_report_opens_with_a_title_page_contents_and_the_key_indicators(tmp_path: Path) -> None:
    text, tables = _report(tmp_path, "en")
    plain = html.unescape(re.sub(r"<[^>]+>", " ", text))
    # Title page: centres, survey and version, period covered as dates, respondents.
    title = text[text.index('id="title"'):text.index('id="contents"')]
    facts = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", title)
    assert facts[:4] == [("Centres", "C1, C2"), ("Surveys and versions", "full_survey 1.0.0"),
                         ("Period covered", "from March 2, 2026 to March 22, 2026"), ("Respondents", "51")]
    # Sections in this order; themes in the survey's order (not alphabetical).
    sections = re.findall(r'<section id="([^"]+)"', text)
    assert sections == ["summary", "participation", "theme-mehm", "theme-hunger_vital_sign", "theme-phq9",
                        "comparisons", "appendix", "methods"]
    # The contents link to every section, and only to anchors of the page.
    assert re.findall(r'<li><a href="#([^"]+)">', text) == sections
    # The summary: labels only, exact shares of those who answered.
    summary = tables.tables["summary"]
    assert summary[0] == ["Indicator", "Persons", "%", "95% CI"]
    rows = {row[0]: row[1:] for row in summary[1:]}
    assert rows["Respondents"] == ["51", "", ""]
    assert rows["Self-rated health bad or very bad"] == ["11", "21.6%", "[12.5 – 34.6]"]
    assert rows["Chronic illness or long-standing health problem"][:2] == ["24", "47.1%"]
    assert rows["Food insecurity (Hunger Vital Sign)"][:2] == ["23", "45.1%"]
    assert rows["Depressive symptoms (PHQ-9 ≥ 10)"][:2] == ["23", "45.1%"]
    assert list(rows) == ["Respondents", "Completion rate (complete among started)",
                          "Self-rated health bad or very bad", "Chronic illness or long-standing health problem",
                          "Food insecurity (Hunger Vital Sign)", "Depressive symptoms (PHQ-9 ≥ 10)"]
    # No code reaches a reader: score bands by their module text, no always-empty band.
    assert [row[0] for row in tables.tables["score.phq9.total"][1:-1]] == [
        "Minimal", "Mild", "Moderate", "Moderately severe", "Severe"]
    for code in ("moderately_severe", "not_at_risk", "general_health", "Below the first band"):
        assert code not in plain, code
    # A yes/no score has no mean.
    assert "score.hunger_vital_sign.at_risk.summary" not in tables.tables
    assert ["Mean", "5.00", ""] not in tables.tables["score.hunger_vital_sign.at_risk.status"]
    assert tables.tables["score.phq9.total.summary"][0][:2] == ["Mean", "8.10"]


def test_each_key_indicator_is_compared_by_centre_and_period_with_intervals(tmp_path: Path) -> None:
    text, _ = _report(tmp_path, "en")
    chart = re.search(r'<svg data-chart="compare.phq9"[^>]*aria-label="([^"]+)"', text)
    assert chart is not None
    alt = html.unescape(chart.group(1))
    # The text alternative gives every figure: share, Wilson interval, count.
    assert alt.startswith("Depressive symptoms (PHQ-9 ≥ 10). All respondents: All respondents 45.1% "
                          "[32.3 – 58.6] · 23. Centre: C1 42.3% ")
    assert "; C2 48.0% [30.0 – 66.5] · 12. Period: 2026-W10 100.0% [74.1 – 100.0] · 11; 2026-W11 48.0% " \
           "[30.0 – 66.5] · 12; 2026-W12 0.0% [0.0 – 20.4] · 0." in alt
    # The appendix keeps the cross-tabs by centre; the methods close the report.
    assert "score.phq9.total.by.centre" in text and text.index('id="appendix"') < text.index('id="methods"')


def test_the_french_report_names_bands_and_indicators_in_french(tmp_path: Path) -> None:
    text, tables = _report(tmp_path, "fr")
    assert [row[0] for row in tables.tables["summary"][1:3]] == ["Répondants",
                                                                 "Taux de complétion (complets parmi les commencés)"]
    assert "État de santé perçu mauvais ou très mauvais" in html.unescape(text)
    bands = [row[0] for row in tables.tables["score.hunger_vital_sign.at_risk"][1:-1]]
    assert bands == ["Pas de risque repéré", "À risque"]
    assert "du 2 mars 2026 au 22 mars 2026" in html.unescape(text)


def test_period_bounds() -> None:
    assert report.period_bounds("2026-W01") == (report.dt.date(2025, 12, 29), report.dt.date(2026, 1, 4))
    assert report.period_bounds("2026-02") == (report.dt.date(2026, 2, 1), report.dt.date(2026, 2, 28))
    assert report.period_bounds("2026-Q4") == (report.dt.date(2026, 10, 1), report.dt.date(2026, 12, 31))
    assert report.period_bounds("2026") == (report.dt.date(2026, 1, 1), report.dt.date(2026, 12, 31))
    assert report.period_bounds("soon") is None


def _cli(*args: str) -> int:
    from analysis import cli
    return cli.main(list(args))


def test_a_report_that_cannot_be_made_is_refused_before_any_work(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    data = _dataset(tmp_path)
    out = tmp_path / "r.html"
    cases = [
        (["--lang", "xx"], "error: [RPT-003] --lang 'xx' is not supported; use one of ar, bn, en, es, fa_AF, fr, ka, ps, "
                           "ro, ru, so, ti, uk (a language needs its catalog in locales/)"),
        (["--where", "town=X"], "error: [RPT-001] --where town=...: 'town' is not a breakdown; use one of "
                                "neighbourhood, centre, age_band, gender, lang, period"),
        (["--where", "centre"], "error: [RPT-001] --where 'centre': use NAME=VALUE, e.g. centre=MARSEILLE "
                                "(several values: centre=MARSEILLE,ECHIROLLES)"),
        (["--where", "centre=C9"], "error: [RPT-002] --where centre=C9: no response in the dataset matches; check "
                                   "the spelling of the category (as the report names it); the dataset's centres "
                                   "are C1, C2"),
    ]
    for extra, message in cases:
        assert _cli("report", "--data", str(data), "--out", str(out), *extra) == 1
        code = message[len("error: ["):message.index("]")].lower()
        assert capsys.readouterr().err.strip() == f"{message} (see docs/errors.md#{code})"
        assert not out.exists()
    assert _cli("report", "--data", str(tmp_path / "nothing"), "--out", str(out)) == 1
    assert "[RPT-005]" in capsys.readouterr().err and not out.exists()


def test_a_report_for_one_centre_is_a_release_of_its_own(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    data = _dataset(tmp_path)
    out = tmp_path / "c1.html"
    assert _cli("report", "--data", str(data), "--out", str(out), "--lang", "en", "--where", "centre=C1",
                "--period", "year") == 0
    text = out.read_text(encoding="utf-8")
    title = text[text.index('id="title"'):text.index('id="contents"')]
    assert "<dt>Centres</dt><dd>C1</dd>" in title and "<dt>Respondents</dt><dd>26</dd>" in title
    ledger = [line for line in (data / "releases.jsonl").read_text().splitlines() if line]
    assert len(ledger) == 1 and '"responses": 26' in ledger[0]
    # The whole dataset differs from that release by 25 responses (>= 11): allowed.
    assert _cli("report", "--data", str(data), "--out", str(tmp_path / "all.html"), "--lang", "en") == 0
    # C2 alone (25) differs from C1 alone (26) by one response: refused, nothing written.
    assert _cli("report", "--data", str(data), "--out", str(tmp_path / "c2.html"), "--where", "centre=C2") == 1
    assert "[REL-001]" in capsys.readouterr().err and not (tmp_path / "c2.html").exists()


def test_an_indicator_over_several_bands_is_published_as_one_figure(tmp_path: Path) -> None:
    # WHO-5 <= 50: 11 persons in "likely depression", 5 in "poor wellbeing"
    # (a band too small to publish alone), 20 above. The indicator counts 16:
    # never "< 11" for a figure that is not below 11.
    d = Data()
    for times, answer in ((11, "1"), (5, "2"), (20, "5")):
        d.respond({f"who5.q{i}": answer for i in range(1, 6)}, survey="full_survey", lang="en", times=times)
    r = release(d.write(tmp_path / "data"), QUESTIONNAIRES, breakdowns={"centre": "centre"},
                protection=Protection.exact(11))
    parser = Tables()
    parser.feed(render_html(r, "en"))
    rows = {row[0]: row[1:] for row in parser.tables["summary"][1:]}
    assert rows["Poor wellbeing (WHO-5 ≤ 50)"] == ["16", "44.4%", "[29.5 – 60.4]"]
    assert [row[:2] for row in parser.tables["score.who5.wellbeing"][1:-1]] == [
        ["Likely depression (<= 28)", "11"], ["Poor wellbeing (<= 50)", "< 11"], ["Adequate wellbeing (> 50)", "20"]]


def test_an_unknown_breakdown_source_is_refused_before_any_work(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    data = _dataset(tmp_path)
    for command, out in (("report", tmp_path / "r.html"), ("export", tmp_path / "tables.xlsx")):
        extra = ["--format", "xlsx"] if command == "export" else []
        for source in ("demographics.nosuch", "town", "housing.fear_losing_typo"):
            assert _cli(command, "--data", str(data), "--out", str(out), *extra,
                        "--breakdown", f"area={source}") == 1
            err = capsys.readouterr().err.strip()
            assert err.startswith(f"error: [RPT-006] --breakdown area={source}: '{source}' is not a breakdown "
                                  "source; use a response column (centre, lang, period) or a single-choice "
                                  "question as module.item (demographics.age_band, "), err
            # Every valid source is listed; a multiple choice is not one.
            assert "housing.fear_losing" in err and "mehm.general_health" in err
            assert "forgoing_care.reasons" not in err and "\n" not in err
            assert not out.exists()
    # A valid source is accepted: the report is written.
    assert _cli("report", "--data", str(data), "--out", str(tmp_path / "r.html"), "--breakdown",
                "health=mehm.general_health") == 0
    assert (tmp_path / "r.html").exists()
