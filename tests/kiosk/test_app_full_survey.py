"""The full reference survey (every shipped module) answered through the
kiosk pages, in French and in English, ending in one sealed envelope with
the crisis screen when PHQ-9 item 9 is positive."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.envelopes import open_envelope
from kiosk.config import load_config
from kiosk.store import Outbox
from tests.support.kiosks import full_survey_kiosk
from tests.support.driver import click, start

QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "questionnaires"


@pytest.fixture
def full_kiosk(tmp_path: Path, team) -> Path:
    cfg = full_survey_kiosk(tmp_path / "kiosk", team)
    return cfg


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.slow
def test_every_reference_module_runs_in_the_kiosk(monkeypatch, full_kiosk: Path, team, lang: str) -> None:
    at = start(monkeypatch, full_kiosk)
    click(at, f"lang-{lang}")
    click(at, "consent-yes")
    screens = 0
    while not at.title or at.title[0].value not in ("Merci !", "Thank you!"):
        keys = [b.key or "" for b in at.button]
        singles = [k for k in keys if "-c-" in k]
        multiples = [k for k in keys if "-m-" in k]
        if singles:
            # The last choice: answers "nearly every day" on PHQ-9 item 9 too.
            click(at, singles[-1])
        elif multiples:
            click(at, multiples[0])
            click(at, "-next")
        else:
            if at.number_input:
                at.number_input[0].set_value(at.number_input[0].min).run()
            click(at, "-next")
        screens += 1
        assert screens < 200, "the survey never ends"
    assert screens > 40
    # PHQ-9 item 9 answered positively: the site's crisis resources are shown.
    assert "3114" in " ".join(t.value for t in at.text)
    outbox = Outbox(load_config(full_kiosk).outbox_path)
    (env,) = [e for _, e in outbox.pending()]
    outbox.close()
    body, _ = open_envelope(env, team.keys)
    assert body["status"] == "complete" and body["lang"] == lang
    assert {m["id"] for m in body["modules"]} >= {"demographics", "mehm", "epices", "phq9", "gad7", "who5"}
    assert body["answers"]["phq9.q9"] == "3"
