"""The team dashboard through streamlit.testing.v1.AppTest: gated tables,
filters by period, centre and neighbourhood, never a suppressed number."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.test_tables import MODULE_DEMO, MODULE_T, Data, write_modules

APP = str(Path(__file__).resolve().parent.parent / "analysis" / "dashboard_app.py")


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    qdir = write_modules(tmp_path / "q", MODULE_T, MODULE_DEMO)
    d = Data()
    d.respond({"demographics.neighbourhood": "n1", "t.q1": "a"}, centre="C1", period="2026-W02", times=25)
    d.respond({"demographics.neighbourhood": "n1", "t.q1": "b"}, centre="C1", period="2026-W02", times=12)
    d.respond({"demographics.neighbourhood": "n2", "t.q1": "b"}, centre="C2", period="2026-W20", times=14)
    d.respond({"demographics.neighbourhood": "n2", "t.q1": "a"}, centre="C2", period="2026-W20", times=4)
    data = d.write(tmp_path / "data")
    monkeypatch.setenv("ANALYSIS_DATA", str(data))
    monkeypatch.setenv("ANALYSIS_QUESTIONNAIRES", str(qdir))
    monkeypatch.setenv("ANALYSIS_K", "11")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    return at


def shown(at: AppTest) -> list[list[list[str]]]:
    """Every table on the page as rows of strings."""
    out = []
    for df in at.dataframe:
        frame = df.value
        rows = [[str(v) for v in row] for row in (frame.rows() if hasattr(frame, "rows") else frame.values.tolist())]
        out.append(rows)
    return out


def assert_no_small_count(at: AppTest) -> None:
    for table in shown(at):
        for row in table:
            for cell in row:
                assert not re.fullmatch(r"([1-9]|10)( \(.*\))?", cell), cell


def test_dashboard_shows_gated_tables(app: AppTest) -> None:
    app.radio(key="lang").set_value("en").run()
    tables = shown(app)
    assert ["Complete", "55"] in tables[0] and ["Total", "55"] in tables[0]
    q1 = next(t for t in tables if t and t[0][0] == "Apple")
    # 29 a, 26 b, no refusal: every count >= 11 or 0.
    assert [r[:3] for r in q1] == [["Apple", "29", "52.7%"], ["Banana", "26", "47.3%"],
                                   ["Prefer not to answer", "0", "0.0%"], ["Total", "55", ""]]
    assert_no_small_count(app)


def test_filters_are_applied_before_gating(app: AppTest) -> None:
    app.radio(key="lang").set_value("en").run()
    assert app.multiselect(key="filter_period").options == ["2026-Q1", "2026-Q2"]
    assert app.multiselect(key="filter_centre").options == ["C1", "C2"]
    app.multiselect(key="filter_neighbourhood").set_value(["n2"]).run()
    assert not app.exception
    q1 = next(t for t in shown(app) if t and t[0][0] == "Apple")
    # South only: 4 "a" (hidden) and 14 "b" (hidden as its complement: the total is 18).
    assert [r[:2] for r in q1] == [["Apple", "< 11"], ["Banana", "< 11"], ["Prefer not to answer", "0"],
                                   ["Total", "18"]]
    assert_no_small_count(app)
    app.multiselect(key="filter_neighbourhood").set_value([]).run()
    app.multiselect(key="filter_centre").set_value(["C1"]).run()
    q1 = next(t for t in shown(app) if t and t[0][0] == "Apple")
    assert [r[:2] for r in q1] == [["Apple", "25"], ["Banana", "12"], ["Prefer not to answer", "0"], ["Total", "37"]]


def test_crosstab_selection(app: AppTest) -> None:
    app.radio(key="lang").set_value("en").run()
    app.selectbox(key="by").set_value("neighbourhood").run()
    assert not app.exception
    crosstab = next(df.value for df in app.dataframe if list(df.value.columns) == ["Answer", "North", "South", "Total"])
    crosstab = [[str(v) for v in row] for row in crosstab.values.tolist()]
    # a/South = 4 is hidden; hiding the other three cells keeps it anywhere in 0..18.
    assert crosstab == [["Apple", "< 11", "< 11", "29"], ["Banana", "< 11", "< 11", "26"],
                        ["Prefer not to answer", "0 (0.0%)", "0 (0.0%)", "0"], ["Total", "37", "18", "55"]]
    assert_no_small_count(app)
