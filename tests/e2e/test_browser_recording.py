"""A recording made in a real browser: the mediator unlocks the staff area,
records the first question with the tablet's microphone (a fake microphone
here), listens, confirms and saves it; the module then names the recording,
and on the question screen one tap on the player plays it. No request
leaves the machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from surveycore.questionnaire import load_module
from kiosk.config import load_config
from kiosk.pin import set_pin
from kiosk.recording import save_recording
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, kiosk_server, non_loopback, wait_idle, wait_readable
from tests.support.media import tone

pytestmark = pytest.mark.browser
PIN = "246810"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "recording"


def test_record_in_the_staff_area_then_play_with_one_tap(kiosk_dir: Path) -> None:
    from playwright.sync_api import sync_playwright
    set_pin(load_config(kiosk_dir).pin_file, PIN)
    module_file = kiosk_dir.parent / "survey" / "mehm.yaml"
    # An Arabic recording made earlier: on a right-to-left page too, the
    # player's play button is where a tap is expected.
    save_recording(module_file, "ar", "general_health", None, tone(1.0))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    requests: list[str] = []
    with kiosk_server(kiosk_dir) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + [
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            "--autoplay-policy=user-gesture-required"])
        context = browser.new_context(viewport={"width": 800, "height": 1280}, has_touch=True)
        context.grant_permissions(["microphone"], origin=url)
        page = context.new_page()
        page.on("request", lambda req: requests.append(req.url))
        try:
            page.goto(url + "/")
            page.locator(".st-key-staff-door button").wait_for()
            wait_idle(page)
            wait_readable(page)  # the touch guard drops taps on a screen painted too recently
            page.locator(".st-key-staff-door button").click()
            page.locator(".st-key-staff-pin input").wait_for()
            page.locator(".st-key-staff-pin input").fill(PIN)
            page.locator(".st-key-staff-pin input").press("Enter")
            page.locator(".st-key-staff-audio button").wait_for()
            wait_idle(page)
            wait_readable(page)
            page.locator(".st-key-staff-audio button").click()
            page.get_by_text("Enregistrements", exact=True).wait_for()
            wait_idle(page)
            # The text to read, in the chosen language (French, the first one).
            page.get_by_text("Comment est votre état de santé en général ?", exact=True).wait_for()
            page.screenshot(path=str(ARTIFACTS / "1-staff-recordings.png"))
            wait_readable(page)
            page.locator("[data-testid=stAudioInputActionButton]").click()
            page.wait_for_timeout(1500)
            wait_readable(page)
            page.locator("[data-testid=stAudioInputActionButton]").click()
            # Listened to, then confirmed: only then can it be saved.
            save = page.locator(".st-key-rec-save button")
            save.wait_for()
            wait_idle(page)
            assert save.is_disabled()
            wait_readable(page)
            page.get_by_text("Je l'ai écouté : il dit exactement ce texte.", exact=True).click()
            wait_idle(page)
            page.screenshot(path=str(ARTIFACTS / "2-recorded.png"))
            wait_readable(page)
            save.click()
            page.get_by_text("Enregistrement sauvegardé.", exact=True).wait_for()
            wait_idle(page)
            page.screenshot(path=str(ARTIFACTS / "3-saved.png"))
            saved = module_file.parent / "audio" / "mehm" / "fr" / "general_health.wav"
            assert saved.read_bytes()[:4] == b"RIFF" and saved.stat().st_size > 10_000
            assert load_module(module_file).item("general_health").audio == {
                "ar": str(saved.parent.parent / "ar" / "general_health.wav"), "fr": str(saved)}
            # A patient: the question screen has the player; one tap plays it.
            wait_readable(page)
            page.locator(".st-key-rec-back button").click()
            page.locator(".st-key-staff-logout button").wait_for()
            wait_idle(page)
            wait_readable(page)
            page.locator(".st-key-staff-logout button").click()
            page.get_by_role("button", name="Français", exact=True).wait_for()
            wait_idle(page)
            wait_readable(page)
            page.get_by_role("button", name="Français", exact=True).click()
            wait_idle(page)
            wait_readable(page)
            page.locator("[class*='st-key-consent-yes'] button").click()
            page.get_by_text("Comment est votre état de santé en général ?", exact=True).wait_for()
            wait_idle(page)
            audio = page.locator("[data-testid=stMain] audio")
            assert audio.count() == 1
            box = audio.bounding_box()
            assert box["height"] >= 48 and box["width"] > 600, box  # a big target
            assert audio.evaluate("a => a.paused")
            # One tap on the play button (the control's start edge).
            page.touchscreen.tap(box["x"] + 24, box["y"] + box["height"] / 2)
            page.wait_for_timeout(800)
            assert audio.evaluate("a => !a.paused || a.currentTime > 0")
            page.screenshot(path=str(ARTIFACTS / "4-question-with-player.png"))
            # The same in Arabic, a right-to-left page.
            page.goto(url + "/")
            page.get_by_role("button", name="العربية", exact=True).wait_for()
            wait_idle(page)
            wait_readable(page)
            page.get_by_role("button", name="العربية", exact=True).click()
            wait_idle(page)
            wait_readable(page)
            page.locator("[class*='st-key-consent-yes'] button").click()
            page.get_by_text("كيف هي حالتك الصحية بشكل عام؟", exact=True).wait_for()
            wait_idle(page)
            assert page.evaluate("document.documentElement.dir") == "rtl"
            audio = page.locator("[data-testid=stMain] audio")
            box = audio.bounding_box()
            assert audio.evaluate("a => a.paused")
            page.touchscreen.tap(box["x"] + 24, box["y"] + box["height"] / 2)
            page.wait_for_timeout(800)
            assert audio.evaluate("a => !a.paused || a.currentTime > 0")
            page.screenshot(path=str(ARTIFACTS / "5-question-with-player-ar.png"))
        finally:
            context.close()
            browser.close()
    assert non_loopback(requests) == []
