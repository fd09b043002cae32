"""The patient flow in AppTest: every screen and branch, and exactly one
sealed envelope per completed survey."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.envelopes import open_envelope
from kiosk.config import load_config
from kiosk.store import Outbox
from tests.support.driver import choose, click, headers, labels, start


# The demo survey offers every shipped language, each under its own name.
WELCOME = ["Français", "English", "العربية", "دری", "پښتو", "ትግርኛ", "Українська", "Română", "Español",
           "Русский", "বাংলা", "ქართული", "Soomaali"]


def stored(config: Path) -> list[bytes]:
    outbox = Outbox(load_config(config).outbox_path)
    try:
        return [env for _, env in outbox.pending()]
    finally:
        outbox.close()


@pytest.mark.parametrize("lang, first_question, agree, thanks", [
    ("fr", "Comment est votre état de santé en général ?", "J’accepte, commencer", "Merci !"),
    ("en", "How is your health in general?", "I agree, start", "Thank you!"),
])
def test_walk_through_ends_with_one_sealed_envelope(monkeypatch, kiosk_dir: Path, team, lang: str,
                                                    first_question: str, agree: str, thanks: str) -> None:
    at = start(monkeypatch, kiosk_dir)
    assert labels(at) == WELCOME
    click(at, f"lang-{lang}")
    assert labels(at)[0] == agree
    click(at, "consent-yes")
    assert headers(at) == [first_question]
    choose(at, "2")          # general health: good
    choose(at, "1")          # chronic: yes
    assert stored(kiosk_dir) == []  # nothing is written before the end
    choose(at, "3")          # limitation: not limited
    assert [t.value for t in at.title] == [thanks]
    envelopes = stored(kiosk_dir)
    assert len(envelopes) == 1
    body, _device = open_envelope(envelopes[0], team.keys)
    assert body["answers"] == {"mehm.general_health": "2", "mehm.chronic": "1", "mehm.limitation": "3"}
    assert body["lang"] == lang and body["status"] == "complete" and body["centre"] == "DEMO"
    assert body["skipped"] == []


def test_prefer_not_to_answer_and_back(monkeypatch, kiosk_dir: Path, team) -> None:
    at = start(monkeypatch, kiosk_dir)
    click(at, "lang-en")
    click(at, "consent-yes")
    assert "Prefer not to answer" in labels(at)
    assert "Back" not in labels(at)  # nothing to go back to on the first screen
    click(at, "-pna")
    assert headers(at) == ["Do you have any longstanding illness or longstanding health problem?"]
    choose(at, "2")
    click(at, "-back")
    assert headers(at) == ["Do you have any longstanding illness or longstanding health problem?"]
    # The previous answer is shown as selected when coming back.
    assert "✓ No" in labels(at)
    choose(at, "1")
    choose(at, "1")
    body, _ = open_envelope(stored(kiosk_dir)[0], team.keys)
    assert body["answers"] == {"mehm.general_health": None, "mehm.chronic": "1", "mehm.limitation": "1"}


def test_progress_indicator(monkeypatch, kiosk_dir: Path) -> None:
    at = start(monkeypatch, kiosk_dir)
    click(at, "lang-en")
    click(at, "consent-yes")
    assert at.get("progress")[0].proto.text == "Question 1 of 3"
    choose(at, "1")
    assert at.get("progress")[0].proto.text == "Question 2 of 3"


def test_no_thanks_is_only_counted(monkeypatch, kiosk_dir: Path, team) -> None:
    at = start(monkeypatch, kiosk_dir)
    click(at, "lang-fr")
    click(at, "consent-no")
    assert labels(at) == WELCOME  # back to the welcome screen
    (env,) = stored(kiosk_dir)
    body, _ = open_envelope(env, team.keys)
    assert body["status"] == "declined" and body["answers"] == {} and body["lang"] == "fr"


def test_finish_returns_to_a_clean_welcome(monkeypatch, kiosk_dir: Path) -> None:
    at = start(monkeypatch, kiosk_dir)
    click(at, "lang-en")
    click(at, "consent-yes")
    for code in ("1", "1", "1"):
        choose(at, code)
    click(at, "finish")
    assert labels(at) == WELCOME
    assert "respondent" not in at.session_state and "lang" not in at.session_state


def test_browser_back_after_submitting_goes_to_welcome(monkeypatch, kiosk_dir: Path) -> None:
    # The survey's end is thanked in place of its last question, at the
    # question page's address; the browser's Back from there lands on the
    # consent page of a session whose respondent is gone, then on the
    # question page: the welcome screen shows each time, no answer.
    at = start(monkeypatch, kiosk_dir)
    click(at, "lang-en")
    click(at, "consent-yes")
    for code in ("1", "1", "1"):
        choose(at, code)
    assert [t.value for t in at.title] == ["Thank you!"]
    assert labels(at) == ["Finish"]
    at.switch_page("pages/consent.py").run()
    assert labels(at) == WELCOME
    at.switch_page("pages/question.py").run()
    assert labels(at) == WELCOME
    assert len(stored(kiosk_dir)) == 1  # no double submission


def test_the_thanks_address_mid_survey_thanks_nobody_and_keeps_the_answers(monkeypatch, kiosk_dir: Path) -> None:
    # The end of a survey is thanked in place; the thanks page's own address
    # reached mid-survey shows no thanks, and what was answered is sealed.
    at = start(monkeypatch, kiosk_dir)
    click(at, "lang-en")
    click(at, "consent-yes")
    choose(at, "1")
    at.switch_page("pages/thanks.py").run()
    assert labels(at) == WELCOME
    assert [t.value for t in at.title] != ["Thank you!"]
    assert len(stored(kiosk_dir)) == 1


def test_a_response_the_kiosk_cannot_store_is_not_thanked_and_can_be_tried_again(monkeypatch,
                                                                                 kiosk_dir: Path) -> None:
    # The outbox's disk has no room left (the real check of Outbox.put,
    # S-023): the last tap shows a calm error and "Try again", never the
    # thanks; once room is back, "Try again" stores the response and thanks.
    at = start(monkeypatch, kiosk_dir)
    click(at, "lang-en")
    click(at, "consent-yes")
    choose(at, "1")
    choose(at, "1")
    room = Outbox.room_bytes
    monkeypatch.setattr(Outbox, "room_bytes", lambda self: 0)
    choose(at, "1")
    assert [e.value for e in at.error] == ["Sorry, something went wrong and your answers could not be saved. "
                                           "Please tell the reception staff."]
    assert [t.value for t in at.title] == [] and labels(at) == ["Try again"]
    assert stored(kiosk_dir) == []
    monkeypatch.setattr(Outbox, "room_bytes", room)
    [retry] = [b for b in at.button if (b.key or "").startswith("retry-")]
    retry.click().run()
    assert [t.value for t in at.title] == ["Thank you!"] and labels(at) == ["Finish"]
    assert len(stored(kiosk_dir)) == 1
