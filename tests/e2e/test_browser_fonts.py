"""Bengali and Georgian in a real browser: the demo kiosk's first question is
drawn with the bundled Noto Sans Bengali and Noto Sans Georgian faces (served
by the kiosk, never fetched from elsewhere), in the page language and
direction; screenshots kept in test-artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest

from surveycore.questionnaire import load_module
from tests.support.browser import browser_page, kiosk_server, non_loopback, tap, wait_idle, wait_readable
from tests.support.browser import fonts_in_use

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
MEHM = load_module(Path(__file__).resolve().parents[2] / "questionnaires" / "mehm.yaml")


@pytest.fixture(scope="module")
def server(tmp_path_factory, team):
    from tests.support.kiosks import make_kiosk
    cfg = make_kiosk(tmp_path_factory.mktemp("fonts") / "kiosk", team)
    with kiosk_server(cfg) as url:
        yield url


@pytest.mark.parametrize("lang, native, face", [
    ("bn", "বাংলা", "Noto Sans|U+980-9FF"),
    ("ka", "ქართული", "Noto Sans|U+10A0-10FF"),
])
def test_bengali_and_georgian_use_their_bundled_font(server, lang: str, native: str, face: str) -> None:
    question = MEHM.item("general_health").text[lang]
    requests: list[str] = []
    with browser_page(requests) as page:
        page.goto(server + "/")
        page.get_by_role("button", name=native, exact=True).wait_for()
        wait_idle(page)
        tap(page, native)
        wait_readable(page)  # the touch guard drops a tap on a screen painted too recently
        page.locator("[class*='st-key-consent-yes'] button").click()
        page.get_by_text(question, exact=True).wait_for()
        wait_idle(page)
        assert page.evaluate("document.documentElement.lang") == lang
        assert page.evaluate("document.documentElement.dir") == "ltr"
        faces = fonts_in_use(page)
        assert any(f.startswith(face) for f in faces), faces
        assert page.evaluate(f"document.fonts.check('22px \"Noto Sans\"', {question!r})")
        page.screenshot(path=str(ARTIFACTS / f"question-{lang}.png"))
    assert non_loopback(requests) == []
    assert any(r.endswith(f"/app/static/NotoSans{'Bengali' if lang == 'bn' else 'Georgian'}-Regular.ttf")
               for r in requests)
