"""The full shipped survey in a real browser, in Arabic, Dari, Pashto,
Tigrinya and Ukrainian: every screen, from the welcome page to the crisis
resources on the thank-you page, shows the text of the chosen language, in
the page direction of that language; a screenshot of every screen is kept in
test-artifacts/full-survey/<lang>/, and no request leaves the machine."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from surveycore import i18n
from surveycore.questionnaire import load_survey
from kiosk.config import load_config
from kiosk.flow import Respondent
from kiosk.screen import numerals
from kiosk.store import Outbox
from tests.support.browser import browser_page, kiosk_server, non_loopback, wait_idle, wait_readable
from tests.support.kiosks import full_survey_kiosk

pytestmark = [pytest.mark.browser, pytest.mark.slow]

QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "questionnaires"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "full-survey"
SURVEY = load_survey(QUESTIONNAIRES / "full_survey.yaml")
# Answers that open every branch; other questions take their first answer.
CHOSEN = {"housing.situation": "tenant_private", "phq9.q9": "1"}


@pytest.fixture(scope="module")
def server(tmp_path_factory, team):
    cfg = full_survey_kiosk(tmp_path_factory.mktemp("full-browser") / "kiosk", team)
    with kiosk_server(cfg) as url:
        yield url, cfg


def _tap(page, name: str) -> None:
    wait_readable(page)
    page.get_by_role("button", name=name, exact=True).click()
    page.wait_for_timeout(100)
    wait_idle(page)


@pytest.mark.parametrize("lang", ["ar", "fa_AF", "ps", "ti", "uk"])
def test_the_full_survey_in_a_real_browser(server, lang: str) -> None:
    url, cfg = server
    t = i18n.translations(lang).gettext
    shots = ARTIFACTS / lang
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    direction = i18n.direction(lang)
    requests: list[str] = []
    outbox = Outbox(load_config(cfg).outbox_path)
    before = outbox.count()
    with browser_page(requests) as page:
        page.goto(url + "/")
        # This walk is about texts: the touch guard (tests/e2e/test_browser_patient.py)
        # would only slow it down by a second a screen.
        page.wait_for_function("() => !!window.__kioskGuard")
        page.evaluate("() => { window.__kioskGuard.ms = 0; }")
        native = i18n.native_name(lang)
        page.get_by_role("button", name=native, exact=True).wait_for()
        wait_idle(page)
        page.screenshot(path=str(shots / "00-welcome.png"))
        _tap(page, native)
        page.get_by_text(SURVEY.title[lang], exact=True).wait_for()
        page.screenshot(path=str(shots / "01-consent.png"))
        _tap(page, t("I agree, start"))
        mirror = Respondent(SURVEY, lang)
        n = 2
        while not mirror.finished:
            item = mirror.current
            assert item is not None
            page.get_by_text(item.text[lang], exact=True).wait_for()
            wait_idle(page)
            assert page.evaluate("document.documentElement.lang") == lang
            assert page.evaluate("document.documentElement.dir") == direction
            done, total = mirror.progress()
            # Digits of the language's numbering system (CLDR, via babel).
            progress = t("Question {number} of {total}").format(number=numerals(done + 1, lang),
                                                                total=numerals(total, lang))
            assert page.get_by_text(progress, exact=True).count() == 1
            for choice in item.choices:
                label = ("☐ " if item.type == "multiple" else "") + choice.label[lang]
                assert page.get_by_role("button", name=label, exact=True).count() == 1, (item.key, label)
            if item.hint:
                assert page.get_by_text(item.hint[lang], exact=True).count() == 1
            page.screenshot(path=str(shots / f"{n:02d}-{item.key}.png"), full_page=True)
            n += 1
            if item.type == "note":
                _tap(page, t("Next"))
                mirror.next()
            elif item.type == "multiple":
                code = item.choices[0].code
                _tap(page, "☐ " + item.choices[0].label[lang])
                _tap(page, t("Next"))
                mirror.set_pending([code])
                mirror.next()
            else:
                code = CHOSEN.get(item.key, item.choices[0].code)
                _tap(page, next(c.label[lang] for c in item.choices if c.code == code))
                mirror.answer(code)
        page.get_by_text(t("Thank you!"), exact=True).wait_for()
        page.get_by_text(SURVEY.site.crisis[lang], exact=True).wait_for()
        wait_idle(page)
        page.screenshot(path=str(shots / f"{n:02d}-thanks.png"))
    assert outbox.count() == before + 1
    outbox.close()
    assert non_loopback(requests) == []
    assert len(list(shots.glob("*.png"))) == n + 1
