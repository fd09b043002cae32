"""Real-browser tests of the patient and staff promises: idle timeout,
Back and refresh after submitting, the staff URL without a PIN, the PIN
lockout, and no request leaving loopback."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kiosk.config import load_config
from kiosk.pin import set_pin
from kiosk.store import Outbox
from tests.support.browser import browser_page, kiosk_server, non_loopback, tap, wait_idle
from tests.support.surveys import MODULE, SURVEY as FLOW_SURVEY
from tests.support.kiosks import inline_kiosk

pytestmark = pytest.mark.browser

# The AppTest flow survey with the shortest idle timeout, so timeouts can be
# watched in a real browser.
SURVEY = FLOW_SURVEY.replace("  keep_partial: true", "  idle_timeout: 15\n  keep_partial: true")
assert "idle_timeout: 15" in SURVEY


@pytest.fixture(scope="module")
def server(tmp_path_factory, team):
    cfg = inline_kiosk(tmp_path_factory.mktemp("bk") / "kiosk", team, SURVEY, {"flowtest.yaml": MODULE})
    set_pin(cfg.parent / "staff.pin", "135790")
    with kiosk_server(cfg) as url:
        yield url, cfg


def count(cfg: Path) -> int:
    outbox = Outbox(load_config(cfg).outbox_path)
    try:
        return outbox.count()
    finally:
        outbox.close()


def open_welcome(page, url: str) -> None:
    page.goto(url + "/")
    page.get_by_role("button", name="English", exact=True).wait_for()
    wait_idle(page)


def finish_survey(page) -> None:
    tap(page, "English")
    tap(page, "I agree, start")
    tap(page, "Next")
    tap(page, "No")
    tap(page, "Prefer not to answer")
    tap(page, "Not at all")
    page.get_by_text("Thank you!").wait_for()


def test_back_and_refresh_after_submit_show_no_answers(server) -> None:
    url, cfg = server
    before = count(cfg)
    requests: list[str] = []
    with browser_page(requests) as page:
        open_welcome(page, url)
        finish_survey(page)
        page.go_back()
        page.wait_for_timeout(500)
        wait_idle(page)
        page.get_by_role("button", name="English", exact=True).wait_for()
        assert page.get_by_text("Which care did you go without?").count() == 0
        page.reload()
        page.get_by_role("button", name="English", exact=True).wait_for()
        wait_idle(page)
        assert page.get_by_text("Thank you!").count() == 0
        page.goto(url + "/question")
        page.get_by_role("button", name="English", exact=True).wait_for()
        wait_idle(page)
    assert count(cfg) == before + 1  # no double submission
    assert non_loopback(requests) == []


def test_idle_timeout_returns_to_welcome_and_keeps_the_partial(server) -> None:
    url, cfg = server
    before = count(cfg)
    requests: list[str] = []
    with browser_page(requests) as page:
        open_welcome(page, url)
        tap(page, "English")
        tap(page, "I agree, start")
        tap(page, "Next")
        tap(page, "Yes")
        page.get_by_text("How many cigarettes a day?").wait_for()
        # Nobody touches the tablet: after 15 s the welcome screen is back.
        page.get_by_role("button", name="English", exact=True).wait_for(timeout=30000)
        wait_idle(page)
        assert page.get_by_text("How many cigarettes a day?").count() == 0
        assert count(cfg) == before + 1  # the partial response was sealed
        tap(page, "English")
        tap(page, "I agree, start")
        tap(page, "Next")
        buttons = page.get_by_role("button").all_inner_texts()
        assert "✓ Yes" not in buttons and not any(b.startswith("✓") for b in buttons)
    assert non_loopback(requests) == []


def test_staff_url_without_pin_and_lockout(server) -> None:
    url, cfg = server
    requests: list[str] = []
    with browser_page(requests) as page:
        page.goto(url + "/staff")
        page.wait_for_timeout(500)
        wait_idle(page)
        assert page.get_by_text("Responses stored").count() == 0
        assert page.get_by_text("Export a bundle").count() == 0
        page.goto(url + "/pin")
        page.get_by_text("Staff area").wait_for()
        for left in (4, 3, 2, 1):
            page.get_by_label("PIN").fill("000000")
            tap(page, "Unlock")
            page.get_by_text(f"Wrong PIN ({left} {'try' if left == 1 else 'tries'} left).").wait_for()
        page.get_by_label("PIN").fill("000000")
        tap(page, "Unlock")
        page.get_by_text("Too many wrong PINs. Try again in 5 minutes.").first.wait_for()
        page.get_by_label("PIN").fill("135790")
        tap(page, "Unlock")
        page.wait_for_timeout(300)
        assert page.get_by_text("Responses stored").count() == 0
    # Unlock again for the other tests sharing this kiosk.
    (load_config(cfg).pin_file.with_name("staff.pin.state")).unlink()
    with browser_page(requests) as page:
        page.goto(url + "/pin")
        page.get_by_label("PIN").wait_for()
        wait_idle(page)
        page.get_by_label("PIN").fill("135790")
        tap(page, "Unlock")
        page.get_by_text("Responses stored").wait_for()
        page.get_by_text("Export a bundle").wait_for()
    assert non_loopback(requests) == []


def test_server_restart_mid_survey_shows_nothing_of_the_patient(tmp_path: Path, team) -> None:
    from tests.support.browser import free_port
    from tests.support.kiosks import make_kiosk
    cfg = make_kiosk(tmp_path / "restart", team)
    port = free_port()
    requests: list[str] = []
    with browser_page(requests) as page:
        with kiosk_server(cfg, port) as url:
            open_welcome(page, url)
            tap(page, "English")
            tap(page, "I agree, start")
            tap(page, "Very bad")
            page.get_by_text("Do you have any longstanding illness or longstanding health problem?").wait_for()
        # The server is gone (power cut, update); it comes back on the same port.
        with kiosk_server(cfg, port) as url:
            # The page notices the server is back and starts afresh.
            page.get_by_role("button", name="English", exact=True).wait_for(timeout=30000)
            wait_idle(page)
            assert page.get_by_text("Do you have any longstanding illness").count() == 0
            tap(page, "English")
            tap(page, "I agree, start")
            page.get_by_text("How is your health in general?").wait_for()
            buttons = page.get_by_role("button").all_inner_texts()
            assert "✓ Very bad" not in buttons
    assert count(cfg) == 0  # nothing was sealed: the patient never finished
    assert non_loopback(requests) == []


def test_thanks_screen_and_staff_area_time_out_by_themselves(server) -> None:
    url, cfg = server
    (load_config(cfg).pin_file.with_name("staff.pin.state")).unlink(missing_ok=True)
    requests: list[str] = []
    with browser_page(requests) as page:
        open_welcome(page, url)
        finish_survey(page)
        # Nobody taps "Finish": the welcome screen comes back by itself.
        page.get_by_role("button", name="English", exact=True).wait_for(timeout=30000)
        assert page.get_by_text("Thank you!").count() == 0
        page.goto(url + "/pin")
        page.get_by_label("PIN").wait_for()
        wait_idle(page)
        page.get_by_label("PIN").fill("135790")
        tap(page, "Unlock")
        page.get_by_text("Responses stored").wait_for()
        # Staff walks away: logged out, and the staff page is gone again.
        page.get_by_role("button", name="English", exact=True).wait_for(timeout=30000)
        page.goto(url + "/staff")
        page.wait_for_timeout(500)
        wait_idle(page)
        assert page.get_by_text("Responses stored").count() == 0
    assert non_loopback(requests) == []


def test_crisis_screen_names_the_centre_first_and_follows_the_idle_timeout(server) -> None:
    url, cfg = server
    requests: list[str] = []
    with browser_page(requests) as page:
        open_welcome(page, url)
        tap(page, "English")
        tap(page, "I agree, start")
        tap(page, "Next")
        tap(page, "No")
        tap(page, "Prefer not to answer")
        tap(page, "Several days")  # a positive answer to the crisis item
        shown = time.monotonic()
        desk = page.get_by_text("Please tell the reception staff now: someone at the centre can help you right away.")
        line = page.get_by_text("Call 3114, day and night.")
        desk.wait_for()
        # The centre's own help first, then the crisis line, in large type.
        assert desk.bounding_box()["y"] < line.bounding_box()["y"]
        assert float(line.evaluate("e => getComputedStyle(e).fontSize").rstrip("px")) >= 30
        # Nobody touches the tablet: gone within the site's 15 s idle timeout
        # (a reload included), not after 90 s.
        page.get_by_role("button", name="English", exact=True).wait_for(timeout=25000)
        assert time.monotonic() - shown < 20
        assert page.get_by_text("Call 3114").count() == 0
    assert non_loopback(requests) == []
