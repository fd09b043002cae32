"""The shipped full survey with the shortest idle timeout a site may set
(15 s), in a real browser: the idle timeout reloads the page exactly once,
and the staff PIN screen shows a number pad, is not locked by patients
tapping the staff dot, and says a lockout once."""

from __future__ import annotations

import time

import pytest

from surveycore import i18n
from kiosk.config import load_config
from kiosk.pin import set_pin
from tests.support.browser import browser_page, kiosk_server, non_loopback, wait_idle, wait_readable
from tests.support.kiosks import full_survey_kiosk
from tests.support.patient import LANDSCAPE, PORTRAIT, answer, button, new_bodies, sealed, start
from tests.support.paths import QUESTIONNAIRES

pytestmark = pytest.mark.browser

PIN = "975310"
IDLE = 15
# Longer than the browser's own fallback reload (5 s after the idle tap).
AFTER_WELCOME_S = 7
FULL = (QUESTIONNAIRES / "full_survey.yaml").read_text("utf-8")
SHORT = FULL.replace("  idle_timeout: 120\n", f"  idle_timeout: {IDLE}\n")
assert SHORT != FULL


@pytest.fixture(scope="module")
def server(tmp_path_factory, team):
    cfg = full_survey_kiosk(tmp_path_factory.mktemp("idle") / "kiosk", team, SHORT)
    set_pin(load_config(cfg).pin_file, PIN)
    with kiosk_server(cfg) as url:
        yield url, cfg


# Every document the tab loads leaves a line in sessionStorage (kept across
# reloads of the same tab): how many times the page really reloaded.
COUNT_LOADS = """(() => { const n = +(sessionStorage.getItem('kiosk-test-loads') || 0) + 1;
  sessionStorage.setItem('kiosk-test-loads', String(n)); window.__kioskTestLoad = n; })();"""


def loads(page) -> int:
    return int(page.evaluate("() => +sessionStorage.getItem('kiosk-test-loads')"))


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_idle_timeout_reloads_the_page_once(server, team, lang: str) -> None:
    """Two answers, then nobody touches the tablet: one reload of the page
    (counted in the browser), the welcome screen, no second reload after it,
    and the two answers sealed as a partial response."""
    url, cfg = server
    seen = {b["id"] for b in sealed(cfg, team)}
    requests: list[str] = []
    with browser_page(requests) as page:
        page.add_init_script(COUNT_LOADS)
        navigations: list[str] = []
        page.on("framenavigated", lambda f: navigations.append(f.url) if f == page.main_frame else None)
        page.set_viewport_size(LANDSCAPE)
        start(page, url, lang)
        given = dict(answer(page, lang) for _ in range(2))
        wait_readable(page)
        before_loads, before_navs = loads(page), len(navigations)
        idle_from = time.monotonic()
        # The language grid is back: after the timeout, not before.
        button(page, i18n.native_name("fr")).wait_for(timeout=(IDLE + 15) * 1000)
        assert time.monotonic() - idle_from >= IDLE - 1
        wait_idle(page)
        assert loads(page) == before_loads + 1, "the welcome screen came back without exactly one reload"
        shown_in = page.evaluate("() => window.__kioskTestLoad")
        # Whoever walks up next has the welcome screen to themselves: it is
        # not reloaded under their finger.
        page.wait_for_timeout(AFTER_WELCOME_S * 1000)
        assert loads(page) == before_loads + 1, "the page reloaded again after the welcome screen"
        assert page.evaluate("() => window.__kioskTestLoad") == shown_in
        assert navigations[before_navs:] == [url + "/"], navigations[before_navs:]
        (body,) = new_bodies(cfg, team, seen)
        assert body["status"] == "partial" and body["answers"] == given
    assert non_loopback(requests) == []


STAFF_LANG = "fr"  # the staff screens speak the site's first language


def staff_t(msgid: str) -> str:
    return i18n.translations(STAFF_LANG).gettext(msgid)


def staff_nt(singular: str, plural: str, n: int, **kw: object) -> str:
    return i18n.translations(STAFF_LANG).ngettext(singular, plural, n).format(**kw)


def tap_at(page, locator) -> None:
    """A touch at the centre of ``locator`` once the screen can be read."""
    wait_readable(page)
    locator.wait_for()
    box = locator.bounding_box()
    page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_timeout(100)
    wait_idle(page)


def pin_field(page):
    return page.locator(".st-key-staff-pin input")


def alerts(page) -> list[str]:
    """Every message box on the screen, as shown."""
    return page.locator("[data-testid='stMain'] [data-testid='stAlert']").all_inner_texts()


def keypad(page) -> tuple[str | None, str | None]:
    field = pin_field(page)
    field.wait_for()
    page.wait_for_function("() => { const i = document.querySelector('.st-key-staff-pin input');"
                           " return i && i.getAttribute('inputmode') === 'numeric'; }", timeout=5000)
    return field.get_attribute("inputmode"), field.get_attribute("pattern")


def try_pin(page, pin: str) -> None:
    pin_field(page).fill(pin)
    tap_at(page, button(page, staff_t("Unlock")))


def test_pin_screen_number_pad_dot_taps_and_one_lockout_message(server) -> None:
    url, cfg = server
    state = load_config(cfg).pin_file.with_name(load_config(cfg).pin_file.name + ".state")
    state.unlink(missing_ok=True)
    lock = staff_nt("Too many wrong PINs. Try again in {minutes} minute.",
                    "Too many wrong PINs. Try again in {minutes} minutes.", 5, minutes=5)
    requests: list[str] = []
    try:
        with browser_page(requests) as page:
            page.set_viewport_size(PORTRAIT)
            page.goto(url + "/")
            wait_idle(page)
            # Patients tap the staff dot again and again, sometimes "Unlock"
            # with nothing typed, and go back: none of it is a failed PIN.
            for round_ in range(6):
                tap_at(page, page.locator(".st-key-staff-door button"))
                # The number pad of a tablet: digits only.
                assert keypad(page) == ("numeric", "[0-9]*"), round_
                if round_ % 2:
                    tap_at(page, button(page, staff_t("Unlock")))
                assert alerts(page) == [], round_
                tap_at(page, button(page, staff_t("Back to the survey")))
                button(page, i18n.native_name("fr")).wait_for()
            assert not state.exists() or '"failures": 0' in state.read_text()
            tap_at(page, page.locator(".st-key-staff-door button"))
            # The first wrong PIN is the first failure: every try is left.
            for left in (4, 3, 2, 1):
                try_pin(page, "000000")
                assert alerts(page) == [staff_nt("Wrong PIN ({left} try left).", "Wrong PIN ({left} tries left).",
                                                 left, left=left)]
            page.set_viewport_size(LANDSCAPE)
            try_pin(page, "000000")
            assert alerts(page) == [lock]  # one message, not two
            assert keypad(page) == ("numeric", "[0-9]*")  # still the number pad after the reruns
            try_pin(page, "111111")
            assert alerts(page) == [lock]
            try_pin(page, PIN)  # even the right PIN waits for the end of the lockout
            assert alerts(page) == [lock]
            assert page.get_by_text(staff_t("Responses stored")).count() == 0
            # Back to the welcome screen and through the dot again: still one.
            tap_at(page, button(page, staff_t("Back to the survey")))
            tap_at(page, page.locator(".st-key-staff-door button"))
            pin_field(page).wait_for()
            assert alerts(page) == [lock]
        # Once the lockout is over the right PIN opens the staff area.
        state.unlink()
        with browser_page(requests) as page:
            page.goto(url + "/")
            wait_idle(page)
            tap_at(page, page.locator(".st-key-staff-door button"))
            try_pin(page, PIN)
            page.get_by_text(staff_t("Responses stored")).wait_for()
    finally:
        state.unlink(missing_ok=True)
    assert non_loopback(requests) == []
