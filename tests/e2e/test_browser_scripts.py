"""Real-browser tests of scripts and direction: a whole survey in French,
Arabic and Tigrinya, with `<html lang dir>`, mirrored layout, the bundled
Noto fonts actually used, and screenshots kept as test artefacts."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config import load_config
from kiosk.store import Outbox
from tests.support.browser import browser_page, kiosk_server, non_loopback, wait_idle, wait_readable
from tests.support.kiosks import inline_kiosk
from tests.support.browser import fonts_in_use

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

MODULE = """
id: scripts
version: 1.0.0
title: {fr: Votre santé, ar: صحتك, ti: ጥዕናኹም}
source: test fixture
license: CC0
languages: {fr: validated, ar: validated, ti: validated}
choices:
  yn:
    - {code: "1", label: {fr: Oui, ar: نعم, ti: እወ}}
    - {code: "2", label: {fr: Non, ar: لا, ti: ኣይፋል}}
items:
  - id: health
    type: single
    text: {fr: Êtes-vous en bonne santé ?, ar: هل أنت بصحة جيدة؟, ti: ጥዕናኹም ጽቡቕ ድዩ፧}
    choices: yn
  - id: doctor
    type: single
    text: {fr: Avez-vous un médecin ?, ar: هل لديك طبيب؟, ti: ሓኪም ኣለኩም ድዩ፧}
    choices: yn
"""

SURVEY = """
id: scripts_survey
version: 1.0.0
modules:
  - {id: scripts, version: 1.0.0}
site:
  centre: TEST
  languages: [fr, ar, ti]
"""

CASES = {
    # lang: (native name on the welcome button, question 1, answer, question 2, dir, script sample)
    "fr": ("Français", "Êtes-vous en bonne santé ?", "Oui", "Avez-vous un médecin ?", "ltr", "é"),
    "ar": ("العربية", "هل أنت بصحة جيدة؟", "نعم", "هل لديك طبيب؟", "rtl", "صحتك"),
    "ti": ("ትግርኛ", "ጥዕናኹም ጽቡቕ ድዩ፧", "እወ", "ሓኪም ኣለኩም ድዩ፧", "ltr", "ጥዕናኹም"),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory, team):
    cfg = inline_kiosk(tmp_path_factory.mktemp("scripts") / "kiosk", team, SURVEY, {"scripts.yaml": MODULE})
    with kiosk_server(cfg) as url:
        yield url, cfg



@pytest.mark.parametrize("lang", list(CASES))
def test_full_survey_in_each_script(server, lang: str) -> None:
    url, cfg = server
    native, q1, answer, q2, direction, sample = CASES[lang]
    ARTIFACTS.mkdir(exist_ok=True)
    requests: list[str] = []
    outbox = Outbox(load_config(cfg).outbox_path)
    before = outbox.count()
    with browser_page(requests) as page:
        page.goto(url + "/")
        page.get_by_role("button", name=native, exact=True).wait_for()
        wait_idle(page)
        page.screenshot(path=str(ARTIFACTS / "welcome.png"))
        wait_readable(page)
        page.get_by_role("button", name=native, exact=True).click()
        wait_idle(page)
        wait_readable(page)
        page.locator("[class*='st-key-consent-yes'] button").click()
        page.get_by_text(q1, exact=True).wait_for()
        wait_idle(page)
        assert page.evaluate("document.documentElement.lang") == lang
        assert page.evaluate("document.documentElement.dir") == direction
        main_dir = page.evaluate("getComputedStyle(document.querySelector('[data-testid=stMain]')).direction")
        assert main_dir == direction
        heading = page.get_by_text(q1, exact=True)
        box, viewport = heading.bounding_box(), page.viewport_size
        if direction == "rtl":
            # Mirrored: the heading hugs the right edge.
            assert box["x"] + box["width"] > viewport["width"] * 0.8
        page.screenshot(path=str(ARTIFACTS / f"question-{lang}.png"))
        # Large type and touch targets of at least 48 px for every button.
        assert float(page.evaluate("getComputedStyle(document.body).fontSize").rstrip("px")) >= 20
        heights = page.locator("[data-testid=stMain] button:visible").evaluate_all(
            "els => els.map(e => e.getBoundingClientRect().height)")
        assert heights and min(heights) >= 48, heights
        faces = fonts_in_use(page)
        # The text is drawn with the bundled face for its script, never a
        # fallback with empty boxes.
        needed = {"ar": "Noto Sans|U+600-6FF", "ti": "Noto Sans|U+1200-139F"}.get(lang, "Noto Sans|U+0-10FFFF")
        assert any(f.startswith(needed) for f in faces), faces
        assert page.evaluate(f"document.fonts.check('22px \"Noto Sans\"', {sample!r})")
        wait_readable(page)
        page.get_by_role("button", name=answer, exact=True).click()
        page.get_by_text(q2, exact=True).wait_for()
        wait_idle(page)
        wait_readable(page)
        page.get_by_role("button", name=answer, exact=True).click()
        wait_idle(page)
        page.wait_for_timeout(300)
        page.screenshot(path=str(ARTIFACTS / f"thanks-{lang}.png"))
    assert outbox.count() == before + 1
    outbox.close()
    assert non_loopback(requests) == []
