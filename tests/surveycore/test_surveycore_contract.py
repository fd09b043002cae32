"""Facts the kiosk and the analysis used to state each in their own way,
now stated once in surveycore and used by both."""

from __future__ import annotations

from pathlib import Path

import pytest

from surveycore import i18n
from surveycore.errors import ValidationError
from surveycore.questionnaire import file_kind, file_kind_of, load_module, load_survey
from analysis import cli as analysis_cli
from analysis import disclosure
from kiosk.check import check_paths
from kiosk.translation_status import status_report
from tests.support.paths import REPO

QUESTIONNAIRES = REPO / "questionnaires"
SURVEYS = {"demo_survey.yaml", "full_survey.yaml", "full_survey_phq8.yaml"}


def test_one_rule_tells_a_survey_from_a_module_for_every_shipped_file() -> None:
    files = sorted(QUESTIONNAIRES.glob("*.yaml"))
    assert {f.name for f in files if file_kind_of(f) == "survey"} == SURVEYS
    for f in files:
        if file_kind_of(f) == "survey":
            assert load_survey(f).id
        else:
            assert load_module(f).id
    assert file_kind({"modules": []}) == file_kind({"site": {}}) == "survey"
    assert file_kind({"id": "x", "items": []}) == file_kind(None) == file_kind([1]) == "module"


def test_an_unreadable_file_is_left_to_the_module_loader(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"\xff\xfe not utf-8")
    assert file_kind_of(bad) == "module"
    assert file_kind_of(tmp_path / "missing.yaml") == "module"


def test_a_survey_without_site_settings_is_checked_as_a_survey_everywhere(tmp_path: Path) -> None:
    # The translators' status and 'kiosk check' used different rules: a
    # survey that lacks its site settings was a "module" for one of them.
    survey = tmp_path / "survey.yaml"
    survey.write_text("id: s\nversion: 1.0.0\nmodules:\n  - mehm\n", encoding="utf-8")
    assert file_kind_of(survey) == "survey"
    assert [p.code for p in check_paths([survey])] == ["Q-SITE-001", "Q-SUR-006"]
    with pytest.raises(ValidationError) as raised:
        status_report(survey)
    assert [p.code for p in raised.value.problems] == ["Q-SITE-001", "Q-SUR-006"]


def test_the_cli_default_threshold_is_the_disclosure_constant(monkeypatch) -> None:
    monkeypatch.setattr(disclosure, "DEFAULT_K", 15)
    parser = analysis_cli.build_parser()
    for argv in (["report", "--data", "d", "--out", "r.html"], ["export", "--data", "d", "--format", "csv",
                                                                 "--out", "o"], ["dashboard", "--data", "d"]):
        assert parser.parse_args(argv).k == 15, argv


@pytest.mark.parametrize("lang, text", [("fr", "58,4\u00a0%"), ("en", "58.4%"), ("de", "58,4\u00a0%")])
def test_the_report_writes_percentages_with_the_one_formatter(lang: str, text: str) -> None:
    from analysis.report import Fmt
    assert Fmt(lang, 11).pct(58.4) == i18n.format_percent(0.584, lang) == text
