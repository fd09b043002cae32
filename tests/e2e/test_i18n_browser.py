"""In a real browser: the CSS of :func:`surveycore.i18n.chrome_css` hides the
English texts Streamlit itself shows (connection lost, page not found,
number input hints, unexpected error) and covers the ones that matter with
the patient's language."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from surveycore import i18n
from tests.support.browser import browser_page, free_port, wait_idle

pytestmark = pytest.mark.browser

LANG = "ar"
APP = """
import os
import streamlit as st
from surveycore import i18n


def main() -> None:
    st.html("<style>" + i18n.chrome_css(os.environ["CHROME_TEST_LANG"]) + "</style>")
    st.html("<script>" + i18n.chrome_script() + "</script>", unsafe_allow_javascript=True)
    st.number_input("n", min_value=1, max_value=80, value=None, key="n")
    if st.button("boom"):
        raise RuntimeError("an unexpected failure")


# Like the kiosk: st.navigation, so that an unknown URL opens "Page not found".
st.navigation([st.Page(main, title="Main", default=True)], position="hidden").run()
"""


def _serve(script: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ, CHROME_TEST_LANG=LANG)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless=true",
         f"--server.port={port}", "--server.address=127.0.0.1", "--browser.gatherUsageStats=false",
         "--client.showErrorDetails=none", "--client.toolbarMode=minimal", "--server.fileWatcherType=none"],
        cwd=script.parent, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("streamlit did not start")
        time.sleep(0.2)


def _pseudo(page, selector: str, which: str, prop: str) -> str:
    return page.evaluate(f"getComputedStyle(document.querySelector({json.dumps(selector)}), "
                         f"{json.dumps(which)}).getPropertyValue({json.dumps(prop)})")


def test_streamlit_texts_are_hidden_and_covered_in_the_patients_language(tmp_path: Path) -> None:
    t = i18n.translations(LANG).gettext
    script = tmp_path / "app.py"
    script.write_text(APP, encoding="utf-8")
    port = free_port()
    proc = _serve(script, port)
    url = f"http://127.0.0.1:{port}"
    try:
        with browser_page([]) as page:
            page.goto(url + "/no-such-page")
            wait_idle(page)
            page.wait_for_timeout(500)
            # "Page not found" is never seen, and closed: an open dialog, even
            # hidden, would leave the page inert (the click below would fail).
            assert page.locator('[data-testid="stDialog"]').count() == 0
            assert not page.get_by_text("Page not found").is_visible()
            assert not page.get_by_text("Skip to main content").is_visible()

            field = page.locator('[data-testid="stNumberInputField"]')
            field.click()
            field.fill("500")
            page.wait_for_timeout(300)
            assert page.locator('[data-testid="InputInstructions"]').count() == 1
            assert not page.get_by_text("Press Enter to apply").is_visible()
            field.press("Tab")
            page.wait_for_timeout(500)
            assert page.locator('[data-testid="stTooltipErrorHoverTarget"]').count() == 1
            assert not page.locator('[data-testid="stTooltipErrorHoverTarget"]').is_visible()
            assert not page.get_by_text("Number is outside the allowed range", exact=False).is_visible()

            page.get_by_role("button", name="boom").click()
            page.wait_for_selector('[data-testid="stException"]', state="attached")
            wait_idle(page)
            assert not page.get_by_text("This app has encountered an error", exact=False).is_visible()
            assert _pseudo(page, '[data-testid="stException"]', "::before", "content") == \
                json.dumps(t(i18n.MSG_UNEXPECTED), ensure_ascii=False)

            assert _pseudo(page, '[data-testid="stApp"]', "::after", "content") == "none"  # connected
            proc.terminate()
            proc.wait(timeout=10)
            page.wait_for_selector('[data-testid="stApp"]:not([data-test-connection-state="CONNECTED"])',
                                   state="attached", timeout=15000)
            page.wait_for_timeout(3000)  # Streamlit opens its "Connection error" dialog meanwhile
            assert not page.get_by_text("Connection error").is_visible()
            assert _pseudo(page, '[data-testid="stApp"]', "::after", "content") == \
                json.dumps(t(i18n.MSG_CONNECTION_LOST), ensure_ascii=False)
            assert _pseudo(page, '[data-testid="stApp"]', "::after", "direction") == "rtl"

            # The server comes back: the notice goes away and the page works.
            proc = _serve(script, port)
            page.wait_for_selector('[data-testid="stApp"][data-test-connection-state="CONNECTED"]',
                                   state="attached", timeout=30000)
            wait_idle(page)
            assert _pseudo(page, '[data-testid="stApp"]', "::after", "content") == "none"
            assert page.locator('[data-testid="stDialog"]').count() == 0
            page.locator('[data-testid="stNumberInputField"]').click(timeout=5000)
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)
