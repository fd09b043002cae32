"""A patient in a real browser on the shipped full survey: the viewports,
deliberate touches, the answer buttons on screen, and the sealed bodies
opened with the team's key (shared by the patient-screen browser tests)."""

from __future__ import annotations

import re
from pathlib import Path

from surveycore import i18n
from surveycore.questionnaire import Survey, load_survey
from analysis.envelopes import open_envelope
from kiosk.config import load_config
from kiosk.store import Outbox
from tests.support.browser import wait_idle, wait_readable

QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "questionnaires"
SURVEY: Survey = load_survey(QUESTIONNAIRES / "full_survey.yaml")


LANDSCAPE = {"width": 1280, "height": 800}


PORTRAIT = {"width": 800, "height": 1280}


def sealed(cfg: Path, team) -> list[dict]:
    """Every body in the outbox, opened with the team's private key."""
    outbox = Outbox(load_config(cfg).outbox_path)
    try:
        return [open_envelope(env, team.keys)[0] for _, env in outbox.pending()]
    finally:
        outbox.close()


def new_bodies(cfg: Path, team, seen: set[str]) -> list[dict]:
    """The sealed bodies whose ids are not in ``seen`` (the outbox keeps no
    arrival order), and adds their ids to it."""
    out = [b for b in sealed(cfg, team) if b["id"] not in seen]
    seen.update(b["id"] for b in out)
    return out


def t(lang: str, msgid: str) -> str:
    return i18n.translations(lang).gettext(msgid)


def touch(page, locator) -> None:
    """A deliberate touch at the centre of ``locator``, once the screen can
    be read."""
    wait_readable(page)
    centre(locator)
    box = locator.bounding_box()
    page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_timeout(100)
    wait_idle(page)


def centre(locator) -> None:
    """Scroll an answer button to the middle of the screen, clear of the
    navigation bar (whose own buttons do not move)."""
    locator.evaluate("(e) => { if (!e.closest('.st-key-kiosk-nav')) e.scrollIntoView({block: 'center'}); }")


def button(page, text: str):
    """The button whose text is exactly ``text`` (by its text, not its
    accessible name, which drops the zero-width non-joiners of Dari)."""
    return page.locator("[data-testid='stMain'] button").filter(
        has_text=re.compile("^" + re.escape(text) + "$"))


def start(page, url: str, lang: str) -> None:
    page.goto(url + "/")
    wait_idle(page)
    touch(page, button(page, i18n.native_name(lang)))
    touch(page, button(page, t(lang, "I agree, start")))


def _item_of(key_class: str) -> tuple[str, str] | None:
    """(item key, choice code) of an answer button's container class."""
    m = re.match(r"st-key-[0-9a-f]{16}-(.+)-\d+-([cm])-(.+)$", key_class)
    if not m:
        return None
    flat, kind, code_flat = m.groups()
    for item in SURVEY.items:
        if item.key.replace(".", "-") == flat:
            for c in item.choices:
                if re.sub(r"[^a-zA-Z0-9_-]", "-", c.code) == code_flat:
                    return item.key, c.code
    raise AssertionError(f"no item for {key_class}")


def answer_buttons(page, kind: str) -> list[tuple[str, str, object]]:
    """(item key, code, locator) of the answer buttons on screen, once it
    has been painted and can be read."""
    wait_idle(page)
    wait_readable(page)
    out = []
    for el in page.locator(f"[class*='st-key-'][class*='-{kind}-']").all():
        cls = [c for c in (el.get_attribute("class") or "").split() if c.startswith("st-key-")]
        if cls and (found := _item_of(cls[0])):
            out.append((found[0], found[1], el.locator("button")))
    return out


def answer(page, lang: str) -> tuple[str, object]:
    """Answer the screen with its second choice (or tick its first box and
    tap Next); return (item key, answer)."""
    singles = answer_buttons(page, "c")
    if singles:
        key, code, loc = singles[1]
        touch(page, loc)
        return key, code
    key, code, loc = answer_buttons(page, "m")[0]
    touch(page, loc)
    touch(page, button(page, t(lang, "Next")))
    return key, [code]
