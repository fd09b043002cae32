"""The team dashboard through streamlit.testing.v1.AppTest: protected
tables, filters by period, centre and neighbourhood, never a count from 1
to 10; served on loopback only, and saying so."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analysis import cli as analysis_cli
from tests.support.published import plausible
from tests.support.datasets import MODULE_DEMO, MODULE_T, Data, write_modules

APP = str(Path(__file__).resolve().parents[2] / "analysis" / "dashboard_app.py")


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
    serve_on(monkeypatch, "127.0.0.1")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    return at


def serve_on(monkeypatch: pytest.MonkeyPatch, address: str) -> None:
    """Make the page believe it is served on ``address`` (as ``--server.address``)."""
    import streamlit as st

    real = st.get_option
    monkeypatch.setattr(st, "get_option", lambda name: address if name == "server.address" else real(name))


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


def fits(cell: str, true: int) -> bool:
    """A dashboard cell ("n" or "n (pct)") can show the true count under the
    cell key method, or is withheld ([c])."""
    return cell == "[c]" or plausible(cell.split(" (")[0], true)


def test_dashboard_shows_protected_tables_and_says_team_only(app: AppTest) -> None:
    app.radio(key="lang").set_value("en").run()
    assert any("Team only: served on this computer alone (loopback)" in i.value for i in app.info)
    tables = shown(app)
    assert [r[0] for r in tables[0][:4]] == ["Complete", "Partial", "Declined at consent", "Total"]
    assert all(fits(r[1], true) for r, true in zip(tables[0], [55, 0, 0, 55]))
    q1 = next(t for t in tables if t and t[0][0] == "Apple")
    # 29 a, 26 b, no refusal.
    assert [r[0] for r in q1] == ["Apple", "Banana", "Prefer not to answer", "Total"]
    assert all(fits(r[1], true) for r, true in zip(q1, [29, 26, 0, 55])) and q1[2][1] == "0"
    assert_no_small_count(app)


def test_the_page_refuses_any_address_but_loopback(app: AppTest, monkeypatch: pytest.MonkeyPatch) -> None:
    serve_on(monkeypatch, "0.0.0.0")
    app.run()
    assert not app.exception and not app.dataframe
    # In the page's default language, French.
    assert app.error[0].value.startswith("Ce tableau de bord est réservé à l’équipe du diagnostic et n’est servi "
                                         "que sur cet ordinateur (127.0.0.1). Il n’est pas affiché à l’adresse "
                                         "0.0.0.0")


def test_the_command_refuses_a_network_address(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = analysis_cli.main(["dashboard", "--data", str(tmp_path), "--address", "192.168.1.20"])
    assert code == 1
    assert capsys.readouterr().err.startswith("error: [DSH-001] --address 192.168.1.20: the dashboard is served "
                                              "on loopback only")


def test_filters_are_applied_before_protection(app: AppTest) -> None:
    app.radio(key="lang").set_value("en").run()
    assert app.multiselect(key="filter_period").options == ["2026-Q1", "2026-Q2"]
    assert app.multiselect(key="filter_centre").options == ["C1", "C2"]
    app.multiselect(key="filter_neighbourhood").set_value(["n2"]).run()
    assert not app.exception
    q1 = next(t for t in shown(app) if t and t[0][0] == "Apple")
    # South only: 4 "a" (below 11 whatever the noise) and 14 "b".
    assert [r[0] for r in q1] == ["Apple", "Banana", "Prefer not to answer", "Total"]
    assert q1[0][1] in ("< 11", "[c]") and all(fits(r[1], t) for r, t in zip(q1[1:], [14, 0, 18]))
    assert_no_small_count(app)
    app.multiselect(key="filter_neighbourhood").set_value([]).run()
    app.multiselect(key="filter_centre").set_value(["C1"]).run()
    q1 = next(t for t in shown(app) if t and t[0][0] == "Apple")
    assert all(fits(r[1], t) for r, t in zip(q1, [25, 12, 0, 37]))


def test_crosstab_selection(app: AppTest) -> None:
    app.radio(key="lang").set_value("en").run()
    app.selectbox(key="by").set_value("neighbourhood").run()
    assert not app.exception
    crosstab = next(df.value for df in app.dataframe if list(df.value.columns) == ["Answer", "North", "South", "Total"])
    crosstab = [[str(v) for v in row] for row in crosstab.values.tolist()]
    assert [row[0] for row in crosstab] == ["Apple", "Banana", "Prefer not to answer", "Total"]
    truth = [[25, 4, 29], [12, 14, 26], [0, 0, 0], [37, 18, 55]]
    assert all(fits(cell, t) for row, trow in zip(crosstab, truth) for cell, t in zip(row[1:], trow)), crosstab
    assert crosstab[0][2] in ("< 11", "[c]")  # a/South = 4
    assert_no_small_count(app)


def test_small_groups_are_not_offered_and_the_whole_minus_a_few_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    qdir = write_modules(tmp_path / "q", MODULE_T, MODULE_DEMO)
    d = Data()
    d.respond({"demographics.neighbourhood": "n1", "t.q1": "a"}, centre="C1", times=25)
    d.respond({"demographics.neighbourhood": "n2", "t.q1": "b"}, centre="C1", times=20)
    d.respond({"demographics.neighbourhood": "n3", "t.q1": "b"}, centre="C1", times=3)
    data = d.write(tmp_path / "data")
    monkeypatch.setenv("ANALYSIS_DATA", str(data))
    monkeypatch.setenv("ANALYSIS_QUESTIONNAIRES", str(qdir))
    monkeypatch.setenv("ANALYSIS_K", "11")
    serve_on(monkeypatch, "127.0.0.1")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.radio(key="lang").set_value("en").run()
    # n3 (3 persons) is no filter of its own.
    assert at.multiselect(key="filter_neighbourhood").options == ["North", "South"]
    # North and South together are everyone but the 3 of n3: compared with
    # the whole, the selection would show them. Refused, nothing shown.
    at.multiselect(key="filter_neighbourhood").set_value(["n1", "n2"]).run()
    assert not at.exception and not at.dataframe
    assert at.warning[0].value == ("This selection leaves out fewer than 11 responses: compared with the whole data "
                                   "it would show their answers. Widen or narrow the selection.")
    at.multiselect(key="filter_neighbourhood").set_value(["n1"]).run()
    assert not at.warning and at.dataframe


def test_new_data_gives_new_tables_and_the_filters_speak_the_teams_language(
        app: AppTest, tmp_path: Path) -> None:
    # French by default: the filters' own placeholder too.
    assert app.multiselect(key="filter_centre").proto.placeholder == "Tous (aucun filtre)"
    app.radio(key="lang").set_value("en").run()
    assert app.multiselect(key="filter_centre").proto.placeholder == "All (no filter)"
    assert fits(shown(app)[0][3][1], 55)
    # A new ingest (here: the dataset rewritten with 20 more responses): the
    # cache is keyed by the dataset's content, so the page counts them.
    d = Data()
    d.respond({"demographics.neighbourhood": "n1", "t.q1": "a"}, centre="C1", period="2026-W02", times=45)
    d.respond({"demographics.neighbourhood": "n1", "t.q1": "b"}, centre="C1", period="2026-W02", times=12)
    d.respond({"demographics.neighbourhood": "n2", "t.q1": "b"}, centre="C2", period="2026-W20", times=14)
    d.respond({"demographics.neighbourhood": "n2", "t.q1": "a"}, centre="C2", period="2026-W20", times=4)
    d.write(tmp_path / "data")
    app.run()
    assert not app.exception
    assert fits(shown(app)[0][3][1], 75)


def test_scores_are_broken_down_like_items(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = Data()
    for centre, worried, times in (("C1", "often", 15), ("C1", "never", 20), ("C2", "sometimes", 12),
                                   ("C2", "never", 25)):
        d.respond({"hunger_vital_sign.worried": worried, "hunger_vital_sign.ran_out": "never"},
                  centre=centre, survey="full_survey", times=times)
    monkeypatch.setenv("ANALYSIS_DATA", str(d.write(tmp_path / "data")))
    monkeypatch.setenv("ANALYSIS_QUESTIONNAIRES", str(Path(__file__).resolve().parents[2] / "questionnaires"))
    monkeypatch.setenv("ANALYSIS_K", "11")
    serve_on(monkeypatch, "127.0.0.1")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.radio(key="lang").set_value("en").run()
    at.selectbox(key="by").set_value("centre").run()
    assert not at.exception
    table = next(t for t in shown(at) if t and t[0][0] == "Below the cut-off")
    assert [row[0] for row in table] == ["Below the cut-off", "At or above the cut-off", "Total",
                                         "Share at or above the cut-off"]
    assert fits(table[1][1].split(" (")[0], 15) and fits(table[1][2].split(" (")[0], 12)
    assert re.fullmatch(r"\d+\.\d% \[\d+\.\d – \d+\.\d\]", table[3][1]), table[3][1]
    # No always-empty "below the first band" line in the score's table.
    assert not any(row[0] == "Below the first band" for t in shown(at) for row in t)


@pytest.mark.slow
def test_stopping_the_command_stops_the_server_it_started(tmp_path: Path) -> None:
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    d = Data()
    d.respond({"t.q1": "a"}, times=12)
    data = d.write(tmp_path / "data")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "analysis", "dashboard", "--data", str(data), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.5)
        os.kill(proc.pid, signal.SIGTERM)  # to the command only, not its process group
        proc.wait(timeout=30)
        time.sleep(0.5)
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_the_page_opens_in_the_teams_language(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    qdir = write_modules(tmp_path / "q", MODULE_T, MODULE_DEMO)
    d = Data()
    d.respond({"demographics.neighbourhood": "n1", "t.q1": "a"}, centre="C1", times=30)
    d.respond({"demographics.neighbourhood": "n2", "t.q1": "b"}, centre="C2", times=30)
    monkeypatch.setenv("ANALYSIS_DATA", str(d.write(tmp_path / "data")))
    monkeypatch.setenv("ANALYSIS_QUESTIONNAIRES", str(qdir))
    monkeypatch.setenv("ANALYSIS_LANG", "es")
    serve_on(monkeypatch, "127.0.0.1")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert at.title[0].value == "Diagnóstico de salud comunitaria"
    assert at.radio(key="lang").value == "es" and at.radio(key="lang").options[:2] == ["Español", "العربية"]
    assert at.multiselect(key="filter_centre").placeholder == "Todos (sin filtro)"
    code = analysis_cli.main(["dashboard", "--data", str(tmp_path), "--lang", "xx"])
    assert code == 1 and capsys.readouterr().err.startswith("error: [RPT-003] --lang 'xx' is not supported")


def two_centres(tmp_path: Path) -> tuple[Path, Path]:
    """A dataset of two centres (25 and 14 responses, two periods) and its
    questionnaire folder: (data folder, questionnaires folder)."""
    qdir = write_modules(tmp_path / "q", MODULE_T, MODULE_DEMO)
    d = Data()
    d.respond({"demographics.neighbourhood": "n1", "t.q1": "a"}, centre="C1", period="2026-W02", times=25)
    d.respond({"demographics.neighbourhood": "n2", "t.q1": "b"}, centre="C2", period="2026-W20", times=14)
    return d.write(tmp_path / "data"), qdir


FIRST_PAGE = textwrap.dedent("""
    import json, sys
    import streamlit as st
    from streamlit.testing.v1 import AppTest
    real = st.get_option
    st.get_option = lambda name: "127.0.0.1" if name == "server.address" else real(name)
    at = AppTest.from_file(sys.argv[1], default_timeout=120)
    at.run()
    print(json.dumps({"exception": [str(e.value) for e in at.exception], "tables": len(at.dataframe),
                      "loaded": sorted(m for m in ("scipy", "pandas") if m in sys.modules)}))
""")


def test_the_first_page_loads_neither_scipy_nor_pandas(tmp_path: Path) -> None:
    # A fresh process, as the one 'analysis dashboard' starts: the first page
    # must not pay for importing SciPy (the p-table is written out) nor pandas
    # (tables go to Streamlit as Arrow tables); together about a second.
    data, qdir = two_centres(tmp_path)
    env = {**os.environ, "ANALYSIS_DATA": str(data), "ANALYSIS_QUESTIONNAIRES": str(qdir), "ANALYSIS_K": "11",
           "PYTHONPATH": str(Path(APP).parents[1])}
    out = subprocess.run([sys.executable, "-c", FIRST_PAGE, APP], capture_output=True, text=True, env=env,
                         timeout=180, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["exception"] == [] and result["tables"] >= 4
    assert result["loaded"] == []


def test_the_first_page_computes_its_release_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from analysis import dashboard

    calls: list[dict] = []
    real = dashboard.build_release

    def counted(*args, **kw):  # type: ignore[no-untyped-def]
        calls.append(kw.get("filters") or {})
        return real(*args, **kw)

    monkeypatch.setattr(dashboard, "build_release", counted)
    data, qdir = two_centres(tmp_path)
    monkeypatch.setenv("ANALYSIS_DATA", str(data))
    monkeypatch.setenv("ANALYSIS_QUESTIONNAIRES", str(qdir))
    monkeypatch.setenv("ANALYSIS_K", "11")
    serve_on(monkeypatch, "127.0.0.1")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception and at.dataframe
    # No filter chosen: one release, without filters, for the filters' labels
    # and for the tables alike.
    assert calls == [{}]
    first = shown(at)
    at.multiselect(key="filter_centre").set_value(["C1"]).run()
    assert calls == [{}, {"centre": ["C1"]}]
    # Back to no filter: the first release again, from the cache, same tables.
    at.multiselect(key="filter_centre").set_value([]).run()
    assert calls == [{}, {"centre": ["C1"]}] and shown(at) == first
