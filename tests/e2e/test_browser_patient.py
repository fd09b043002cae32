"""A patient on a tablet, in a real browser with touch emulation, on the
shipped full survey: ghost taps answer nothing, Back and the browser's Back
keep what was given, every screen starts at the top with its navigation
within reach, on 1280x800 and 800x1280.

``KIOSK_SCREENSHOTS=DIR`` makes the screen walk save a picture of every
screen in every language and both viewports into DIR (``make screenshots``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from surveycore import i18n
from kiosk.flow import Respondent
from kiosk.screen import numerals
from tests.support.browser import browser_page, kiosk_server, non_loopback, wait_idle, wait_readable
from tests.support.kiosks import full_survey_kiosk
from tests.support.patient import (LANDSCAPE, PORTRAIT, SURVEY, answer, answer_buttons, button, centre, new_bodies,
                                  sealed, start, t, touch)

pytestmark = pytest.mark.browser

QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "questionnaires"
GAPS_MS = (100, 250, 400, 550, 700, 850, 1000)
OFFERED = SURVEY.offered_languages()
SURVEY_TOTAL = Respondent(SURVEY, "fr").progress()[1]
# French and Arabic (right to left) where the survey offers them.
GHOST_LANGS = [lang for lang in ("fr", "ar") if lang in OFFERED] or OFFERED[:1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, team):
    cfg = full_survey_kiosk(tmp_path_factory.mktemp("patient") / "kiosk", team)
    with kiosk_server(cfg) as url:
        yield url, cfg



def screen_marker(page) -> str:
    return page.evaluate("() => (document.querySelector(\"[class*='st-key-kiosk-screen-']\")||{}).className||''")


@pytest.mark.parametrize("lang", GHOST_LANGS)
def test_ghost_taps_answer_nothing(server, team, lang: str) -> None:
    """Each single-choice screen gets a deliberate touch and, 100 ms to 1 s
    later, a second touch at the same spot where the next question paints:
    the sealed response holds the deliberate answers only."""
    url, cfg = server
    seen = {b["id"] for b in sealed(cfg, team)}
    requests: list[str] = []
    intended: dict[str, object] = {}
    with browser_page(requests) as page:
        page.set_viewport_size(LANDSCAPE)
        start(page, url, lang)
        doubles = 0
        while doubles < 16:
            if doubles == 8:
                page.set_viewport_size(PORTRAIT)
            singles = answer_buttons(page, "c")
            if not singles:
                (key, code, loc), *_ = answer_buttons(page, "m")
                touch(page, loc)
                touch(page, button(page, t(lang, "Next")))
                intended[key] = [code]
                continue
            # Different spots: the last choice, the first, one in between.
            key, code, loc = singles[(-1, 0, len(singles) // 2)[doubles % 3]]
            marker = screen_marker(page)
            wait_readable(page)
            centre(loc)
            box = loc.bounding_box()
            x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            page.touchscreen.tap(x, y)
            intended[key] = code
            page.wait_for_timeout(GAPS_MS[doubles % len(GAPS_MS)])
            page.touchscreen.tap(x, y)  # the ghost
            wait_idle(page)
            assert screen_marker(page) != marker
            doubles += 1
        touch(page, button(page, t(lang, "Stop the survey")))
        touch(page, button(page, t(lang, "Yes, stop")))
        page.get_by_text(t(lang, "Thank you!")).wait_for()
    bodies = new_bodies(cfg, team, seen)
    assert len(bodies) == 1
    assert bodies[0]["status"] == "partial" and bodies[0]["lang"] == lang
    assert bodies[0]["answers"] == intended
    assert non_loopback(requests) == []


def test_back_then_stop_and_browser_back_keep_every_answer(server, team) -> None:
    """Six answers, Back four times, Stop: six answers sealed, as the stop
    screen says. Then three answers and the browser's Back: the welcome
    screen, and the three answers sealed."""
    url, cfg = server
    lang = "fr"
    seen = {b["id"] for b in sealed(cfg, team)}
    requests: list[str] = []
    with browser_page(requests) as page:
        page.set_viewport_size(PORTRAIT)
        start(page, url, lang)
        given = dict(answer(page, lang) for _ in range(6))
        for _ in range(4):
            touch(page, button(page, t(lang, "Back")))
        # The screen shows the answer given there as chosen.
        shown = [b for b in page.get_by_role("button").all_inner_texts() if b.startswith(("✓", "☑"))]
        assert len(shown) == 1
        touch(page, button(page, t(lang, "Stop the survey")))
        page.get_by_text(t(lang, "The answers you gave so far will be kept, locked like the others.")).wait_for()
        touch(page, button(page, t(lang, "Yes, stop")))
        page.get_by_text(t(lang, "Thank you!")).wait_for()
        (body,) = new_bodies(cfg, team, seen)
        assert body["status"] == "partial" and body["answers"] == given

        start(page, url, lang)
        given = dict(answer(page, lang) for _ in range(3))
        page.go_back()
        button(page, i18n.native_name(lang)).wait_for()
        wait_idle(page)
        (body,) = new_bodies(cfg, team, seen)
        assert body["status"] == "partial" and body["answers"] == given
    assert non_loopback(requests) == []


# ----------------------------------------------------------- screen walk

IN_VIEW = """(sel) => { const out = [];
  for (const b of document.querySelectorAll(sel)) {
    const r = b.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    // A label cut short (an ellipsis) has an element wider inside than out.
    const cut = [b, ...b.querySelectorAll('*')].some((e) => e.scrollWidth > e.clientWidth + 1);
    out.push({text: b.innerText, top: r.top, bottom: r.bottom, left: r.left, right: r.right,
              hit: !!hit && b.contains(hit), cut: cut});
  } return out; }"""


def settle(page) -> None:
    """Wait for the end of the server's run and two frames of the browser."""
    page.wait_for_selector('[data-test-script-state="notRunning"]', state="attached")
    page.evaluate("() => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)))")
    wait_readable(page)


def check_reach(page, lang: str, size: dict, where: str) -> None:
    """Every navigation button lies inside the viewport, uncovered, with
    its whole label shown."""
    page.set_viewport_size(size)
    page.evaluate("() => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)))")
    nav = page.evaluate(IN_VIEW, ".st-key-kiosk-nav button")
    assert nav, f"{where}: no navigation bar"
    for b in nav:
        assert 0 <= b["top"] and b["bottom"] <= size["height"] and 0 <= b["left"] and b["right"] <= size["width"] \
            and b["hit"], f"{where} {size}: {b['text']!r} is not within reach: {b}"
        assert not b["cut"], f"{where} {size}: the label {b['text']!r} is cut short"
    # Buttons side by side are one row: a label that wraps makes its
    # neighbour as tall, not a step in the bar.
    for a in nav:
        for b in nav:
            if abs(a["top"] - b["top"]) < 1:
                assert abs(a["bottom"] - b["bottom"]) < 1, f"{where} {size}: {a['text']!r} and {b['text']!r} " \
                                                             f"side by side differ in height: {a}, {b}"


def screenshot(page, lang: str, n: int, size: dict, name: str = "") -> None:
    """With KIOSK_SCREENSHOTS set, keep a picture of the screen as it is:
    DIR/<lang>/<n>[-name]-<width>x<height>.png."""
    folder = os.environ.get("KIOSK_SCREENSHOTS")
    if folder:
        out = Path(folder) / lang
        out.mkdir(parents=True, exist_ok=True)
        suffix = f"-{name}" if name else ""
        page.screenshot(path=str(out / f"{n:02d}{suffix}-{size['width']}x{size['height']}.png"))


# French and Arabic on every run; with KIOSK_SCREENSHOTS (make screenshots)
# every offered language, with the same checks.
WALK_LANGS = OFFERED if os.environ.get("KIOSK_SCREENSHOTS") else GHOST_LANGS


@pytest.mark.parametrize("lang", WALK_LANGS)
def test_every_screen_starts_at_the_top_with_navigation_in_reach(server, lang: str) -> None:
    url, _ = server
    requests: list[str] = []
    with browser_page(requests) as page:
        page.set_viewport_size(LANDSCAPE)
        page.goto(url + "/")
        wait_idle(page)
        # This walk is about layout: the touch guard (tested above) would
        # only slow it down by a second a screen.
        page.evaluate("() => { window.__kioskGuard.ms = 0; }")
        # The welcome screen: every offered language at once, in both viewports.
        for n, size in enumerate((LANDSCAPE, PORTRAIT)):
            page.set_viewport_size(size)
            page.wait_for_timeout(60)
            langs = page.evaluate(IN_VIEW, ".st-key-kiosk-langs button")
            assert sorted(b["text"] for b in langs) == sorted(i18n.native_name(x) for x in OFFERED)
            assert all(b["hit"] and b["bottom"] <= size["height"] for b in langs), langs
            screenshot(page, lang, 0, size, "welcome")
        page.set_viewport_size(LANDSCAPE)
        touch(page, button(page, i18n.native_name(lang)))
        for size in (LANDSCAPE, PORTRAIT):
            check_reach(page, lang, size, "consent")
            screenshot(page, lang, 1, size, "consent")
        page.set_viewport_size(LANDSCAPE)
        touch(page, button(page, t(lang, "I agree, start")))
        # The stop confirmation, then on with the survey.
        touch(page, button(page, t(lang, "Stop the survey")))
        for size in (LANDSCAPE, PORTRAIT):
            page.set_viewport_size(size)
            for name in ("Yes, stop", "No, continue"):
                box = button(page, t(lang, name)).bounding_box()
                assert box and box["y"] + box["height"] <= size["height"], (lang, name, size)
            screenshot(page, lang, 1, size, "stop")
        page.set_viewport_size(LANDSCAPE)
        touch(page, button(page, t(lang, "No, continue")))
        thanks = t(lang, "Thank you!")
        n = 1
        while True:
            settle(page)
            if page.get_by_text(thanks, exact=True).count():
                for size in (LANDSCAPE, PORTRAIT):
                    page.set_viewport_size(size)
                    screenshot(page, lang, n + 1, size, "thanks")
                break
            n += 1
            assert n < 80, "the survey never ends"
            where = f"{lang} screen {n}"
            # A new screen starts at the top: its question is in view.
            top = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTop")
            assert top == 0, f"{where}: opened scrolled down by {top}px"
            heading = page.locator("[data-testid='stMain'] h2").first.bounding_box()
            assert heading and heading["y"] >= 0, f"{where}: question not visible"
            for size in (LANDSCAPE, PORTRAIT):
                check_reach(page, lang, size, where)
                screenshot(page, lang, n, size)
            # Leave each long screen scrolled to its bottom, as a patient
            # reaching its last choice would.
            page.set_viewport_size(LANDSCAPE if n % 2 else PORTRAIT)
            page.evaluate("() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
                          " m.scrollTop = m.scrollHeight; }")
            marker = screen_marker(page)
            singles = page.locator("[class*='-c-'] button")
            if singles.count():
                singles.last.click()
            else:
                multiples = page.locator("[class*='-m-'] button")
                if multiples.count():
                    multiples.last.click()
                    settle(page)
                button(page, t(lang, "Next")).click()
            page.wait_for_function("(m) => { const e = document.querySelector(\"[class*='st-key-kiosk-screen-']\");"
                                   " return !e || e.className !== m; }", arg=marker, polling=20)
        assert n > 40
    assert non_loopback(requests) == []


# Every kind of address a tablet's browser could be left on: a page of the
# kiosk, nested paths (whose relative asset addresses once resolved under
# the nested folder and left a blank page), with and without a query string.
DEEP_PATHS = ("/question", "/consent", "/thanks", "/staff", "/pin-", "/no-such-page",
              "/pages/question.py", "/pages/", "/kiosk/pages/x", "/anything/deeper/path",
              "/pages/question.py?lang=fr&page=question", "/anything/deeper/path?x=1",
              "/question?embed=true", "/static/", "/app/static/deeper/x", "/media/x/y")


def test_deep_urls_land_on_the_welcome_screen(server) -> None:
    """Any address, nested or not, shows the language grid at both
    viewports: never a blank page, never a survey started, nothing of the
    patient who used the tablet before."""
    url, _ = server
    requests: list[str] = []
    with browser_page(requests) as page:
        # A patient leaves the tablet in the middle of the survey.
        page.set_viewport_size(LANDSCAPE)
        start(page, url, "fr")
        answer(page, "fr")
        for size in (LANDSCAPE, PORTRAIT):
            page.set_viewport_size(size)
            for path in DEEP_PATHS:
                page.goto(url + path)
                # The language grid, never a blank screen or Streamlit's dialog.
                button(page, i18n.native_name(OFFERED[0])).wait_for(timeout=15000)
                wait_idle(page)
                where = f"{path} at {size}"
                langs = page.evaluate(IN_VIEW, ".st-key-kiosk-langs button")
                assert sorted(b["text"] for b in langs) == sorted(i18n.native_name(x) for x in OFFERED), where
                assert all(b["hit"] and b["bottom"] <= size["height"] for b in langs), where
                assert page.locator('[data-testid="stDialog"]:visible').count() == 0, where
                # No survey started, no answer of anybody shown.
                texts = page.locator("[data-testid='stMain']").inner_text()
                assert t("fr", "I agree, start") not in texts and "✓" not in texts, where
                assert page.locator("[data-testid='stMain'] h2").count() == 0, where
    assert non_loopback(requests) == []


RTL_LANGS = [lang for lang in ("ar", "fa_AF", "ps") if lang in OFFERED]
BOXES = """(sel) => [...document.querySelectorAll(sel)].map((e) => { const r = e.getBoundingClientRect();
  const s = getComputedStyle(e); return {left: r.left, right: r.right, align: s.textAlign, dir: s.direction}; })"""


@pytest.mark.parametrize("lang", RTL_LANGS)
def test_right_to_left_is_complete(server, lang: str) -> None:
    """Consent bullets inside the column and aligned right, the hint and the
    stop screen's paragraph aligned right, the progress bar filling from the
    right, progress digits of the language (CLDR)."""
    url, _ = server
    requests: list[str] = []
    with browser_page(requests) as page:
        page.set_viewport_size(PORTRAIT)
        page.goto(url + "/")
        wait_idle(page)
        page.evaluate("() => { window.__kioskGuard.ms = 0; }")  # layout only
        touch(page, button(page, i18n.native_name(lang)))
        page.locator("[data-testid='stMain'] [data-testid='stMarkdown'] li").nth(3).wait_for()
        wait_readable(page)
        column = page.locator("[data-testid='stMainBlockContainer']").bounding_box()
        right = column["x"] + column["width"]
        items = page.evaluate(BOXES, "[data-testid='stMain'] [data-testid='stMarkdown'] li")
        assert len(items) == 4
        for li in items:
            assert li["dir"] == "rtl" and li["align"] in ("start", "right"), li
            assert li["right"] <= right and li["left"] >= column["x"], (li, column)
        markers = page.locator("[data-testid='stMain'] [data-testid='stMarkdown'] ul").evaluate_all(
            "(us) => us.map((u) => parseFloat(getComputedStyle(u).paddingRight))")
        assert markers and all(p > 0 for p in markers)  # room for the bullets, inside the column
        touch(page, button(page, t(lang, "I agree, start")))
        # Screen 3 of the full survey has a hint.
        for _ in range(2):
            # By key: Dari's label holds a zero-width non-joiner that the
            # accessible name does not keep.
            touch(page, page.locator("[class*='-pna'] button"))
        page.locator("[data-testid='stMain'] [data-testid='stCaptionContainer'] p").wait_for()
        (hint,) = page.evaluate(BOXES, "[data-testid='stMain'] [data-testid='stCaptionContainer'] p")
        assert hint["dir"] == "rtl" and hint["align"] in ("start", "right"), hint
        progress = t(lang, "Question {number} of {total}").format(number=numerals(3, lang),
                                                                  total=numerals(SURVEY_TOTAL, lang))
        page.get_by_text(progress, exact=True).wait_for()
        if lang in ("fa_AF", "ps"):
            assert "۳" in progress  # Extended Arabic-Indic digits (CLDR: arabext)
        track = page.locator("[data-testid='stProgressBarTrack']").bounding_box()
        fill = page.locator("[data-testid='stProgressBarTrack'] > div").bounding_box()
        visible_left = max(fill["x"], track["x"])
        visible_right = min(fill["x"] + fill["width"], track["x"] + track["width"])
        assert abs(visible_right - (track["x"] + track["width"])) < 2, (fill, track)  # filled from the right
        assert visible_right - visible_left < track["width"] / 2
        touch(page, page.locator("[class*='-stop'] button"))
        paragraph = t(lang, "The answers you gave so far will be kept, locked like the others.")
        page.get_by_text(paragraph).wait_for()
        (p,) = [b for b in page.evaluate(BOXES, "[data-testid='stMain'] [data-testid='stMarkdown'] p")]
        assert p["dir"] == "rtl" and p["align"] in ("start", "right"), p
    assert non_loopback(requests) == []
