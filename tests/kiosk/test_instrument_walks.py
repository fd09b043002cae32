"""The validated instruments answered through the kiosk pages in every
language they are written in: each screen shows the instrument's own text in
the chosen language (question, group heading, answers), PHQ-9 item 9 brings
the crisis resources, and the sealed response opens with the answers given."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from surveycore.questionnaire import load_module
from analysis.envelopes import open_envelope
from kiosk.config import load_config
from kiosk.store import Outbox
from tests.support.kiosks import inline_kiosk
from tests.support.driver import click, headers, start

QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "questionnaires"
MODULES = ["epices", "hunger_vital_sign", "who5", "phq9", "gad7"]
LANGS = ["fr", "en", "ar", "fa_AF", "ps", "ti", "uk", "ro", "es", "ru", "bn", "ka", "so"]
CRISIS = "3114 (24/7)"

SURVEY = f"""
id: instruments
version: "1.0.0"
modules:
{chr(10).join(f'  - {{id: {m}, version: "1.0.0"}}' for m in MODULES)}
site:
  centre: TEST
  languages: [{", ".join(LANGS)}]
  allow_draft_languages: true
  crisis: {{{", ".join(f'{lang}: "{CRISIS}"' for lang in LANGS)}}}
"""


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory, team) -> Path:
    cfg = inline_kiosk(tmp_path_factory.mktemp("instruments"), team, SURVEY, {})
    for m in MODULES:
        shutil.copy(QUESTIONNAIRES / f"{m}.yaml", cfg.parent / "survey" / f"{m}.yaml")
    return cfg


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGS)
def test_the_instruments_are_answered_in_every_language(monkeypatch, kiosk: Path, team, lang: str) -> None:
    at = start(monkeypatch, kiosk)
    click(at, f"lang-{lang}")
    click(at, "consent-yes")
    expected = [(m, it) for m in (load_module(QUESTIONNAIRES / f"{name}.yaml") for name in MODULES)
                for it in m.items]
    given: dict[str, str] = {}
    for module, item in expected:
        if module.id == "phq9" and item.id == "difficulty":
            break  # asked after a problem only: checked below
        key = f"{module.id}.{item.id}"
        assert headers(at) == [item.text[lang]], key
        assert [s.value for s in at.subheader] == ([item.group_text[lang]] if item.group_text else []), key
        answers = [b for b in at.button if "-c-" in (b.key or "")]
        if item.type == "note":
            assert answers == []
            click(at, "-next")
            continue
        assert [b.label for b in answers] == [c.label[lang] for c in item.choices], key
        # The first answer, except "several days" on PHQ-9 item 9.
        code = "1" if key == "phq9.q9" else item.choices[0].code
        given[key] = code
        click(at, f"-c-{code}")
    phq9 = load_module(QUESTIONNAIRES / "phq9.yaml")
    assert headers(at) == [phq9.item("difficulty").text[lang]]
    assert [b.label for b in at.button if "-c-" in (b.key or "")] == [
        c.label[lang] for c in phq9.item("difficulty").choices]
    click(at, "-c-0")
    given["phq9.difficulty"] = "0"
    gad7 = load_module(QUESTIONNAIRES / "gad7.yaml")
    for item in gad7.items:
        assert headers(at) == [item.text[lang]], item.id
        assert [s.value for s in at.subheader] == [item.group_text[lang]]
        assert [b.label for b in at.button if "-c-" in (b.key or "")] == [c.label[lang] for c in item.choices]
        given[f"gad7.{item.id}"] = "0"
        click(at, "-c-0")
    # PHQ-9 item 9 answered "several days": the crisis resources are shown.
    assert CRISIS in [t.value for t in at.text]
    outbox = Outbox(load_config(kiosk).outbox_path)
    envelopes = [e for _, e in outbox.pending()]
    outbox.close()
    bodies = [open_envelope(e, team.keys)[0] for e in envelopes]
    (body,) = [b for b in bodies if b["lang"] == lang]
    assert body["status"] == "complete"
    assert body["answers"] == given
    assert body["skipped"] == []
