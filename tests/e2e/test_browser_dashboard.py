"""The team dashboard in a real browser (``analysis dashboard`` as a user
starts it, headless Debian chromium): charts with 95 % intervals like the
report's, Streamlit's widget texts in the team's language, nothing fetched
beyond this computer."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.browser import browser_page, free_port, non_loopback, wait_idle
from tests.support.browser import wait_healthy as _wait_healthy
from tests.support.datasets import MODULE_DEMO, MODULE_T, Data, write_modules

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"


# The tables of the page for this data: participation, the neighbourhood,
# the two single-choice items and the multiple choice.
TABLES_SHOWN = 5


@pytest.mark.browser
def test_the_dashboard_draws_intervals_and_speaks_french(tmp_path: Path) -> None:
    qdir = write_modules(tmp_path / "q", MODULE_T, MODULE_DEMO)
    d = Data()
    d.respond({"demographics.neighbourhood": "n1", "t.q1": "a"}, centre="C1", period="2026-W02", times=40)
    d.respond({"demographics.neighbourhood": "n1", "t.q1": "b"}, centre="C1", period="2026-W02", times=25)
    d.respond({"demographics.neighbourhood": "n2", "t.q1": "b"}, centre="C2", period="2026-W20", times=30)
    data = d.write(tmp_path / "data")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "analysis", "dashboard", "--data", str(data), "--port",
                             str(port), "--questionnaires", str(qdir)], cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    record: list[str] = []
    try:
        _wait_healthy(port, proc)
        with browser_page(record) as page:
            page.goto(f"http://127.0.0.1:{port}/")
            wait_idle(page, timeout=90000)
            page.wait_for_selector("svg.dots", timeout=60000)
            # The item's chart: a dot and a whisker per published share, and a
            # text alternative with every figure and interval (French format).
            chart = page.locator('svg.dots[data-chart="t.q1"]')
            assert chart.count() == 1
            assert chart.locator("circle").count() == 3 and chart.locator("path[stroke='#222']").count() == 3
            alt = chart.get_attribute("aria-label") or ""
            assert re.search(r"Pomme \d+,\d\u00a0?% \[\d+,\d – \d+,\d\] · \d+", alt), alt
            # Streamlit's own widget texts where it takes them: the filters'
            # placeholder and the spinner text are the team's language.
            boxes = page.locator('[data-testid="stMultiSelect"]')
            assert boxes.all_inner_texts() == ["Période", "Centre", "Quartier"]
            shown = [boxes.nth(i).evaluate("e => e.textContent + ' ' + [...e.querySelectorAll('input')]"
                                           ".map(x => x.placeholder).join(' ')") for i in range(boxes.count())]
            assert all("Tous (aucun filtre)" in t for t in shown), shown
            ARTIFACTS.mkdir(exist_ok=True)
            chart.screenshot(path=str(ARTIFACTS / "dashboard-interval-chart.png"))
            # The tables reach Streamlit as Arrow tables: the browser draws
            # every one of them (participation, each item), and none fails.
            tables = page.locator('[data-testid="stDataFrame"]')
            assert tables.count() == TABLES_SHOWN
            assert tables.nth(0).locator("canvas").count() >= 1
            assert page.locator('[data-testid="stException"]').count() == 0
            tables.nth(0).screenshot(path=str(ARTIFACTS / "dashboard-participation-table.png"))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert non_loopback(record) == []
