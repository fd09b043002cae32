"""Recordings for patients who read little: saved from the staff area as
assets of the module (a WAV file and its path in the module's audio map),
played on the question screen; refused with a code when they cannot be
saved, leaving the module and its files as they were."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from surveycore.errors import ConfigError
from surveycore.questionnaire import load_module
from kiosk.config import load_config
from kiosk.pin import set_pin
from kiosk.recording import save_recording
from tests.support.driver import click, start
from tests.support.media import tone

PIN = "246810"



@pytest.fixture
def mehm(tmp_path: Path) -> Path:
    return Path(shutil.copy(Path(__file__).resolve().parents[2] / "questionnaires" / "mehm.yaml",
                            tmp_path / "mehm.yaml"))


@pytest.mark.slow
def test_a_question_recording_becomes_an_asset_of_the_module(mehm: Path) -> None:
    before = load_module(mehm)
    wav = tone()
    saved = save_recording(mehm, "ar", "chronic", None, wav)
    assert saved == mehm.parent / "audio" / "mehm" / "ar" / "chronic.wav"
    assert saved.read_bytes() == wav
    text = mehm.read_text(encoding="utf-8")
    assert "    audio: {ar: audio/mehm/ar/chronic.wav}\n" in text
    after = load_module(mehm)
    assert after.item("chronic").audio == {"ar": str(saved)}
    # Only the audio map was added: every text is as it was.
    assert after.item("chronic").text == before.item("chronic").text
    assert after.hash != before.hash


@pytest.mark.slow
def test_an_answer_recording_goes_on_the_choice_of_its_list(mehm: Path) -> None:
    save_recording(mehm, "ps", "general_health", "1", tone())
    text = mehm.read_text(encoding="utf-8")
    assert "      audio: {ps: audio/mehm/ps/health5--1.wav}\n" in text
    module = load_module(mehm)
    assert module.item("general_health").choices[0].audio == {
        "ps": str(mehm.parent / "audio" / "mehm" / "ps" / "health5--1.wav")}
    # A second language joins the same map; a new take replaces the old one.
    save_recording(mehm, "ti", "general_health", "1", tone(0.2))
    again = tone(0.3)
    save_recording(mehm, "ps", "general_health", "1", again)
    assert "      audio: {ps: audio/mehm/ps/health5--1.wav, ti: audio/mehm/ti/health5--1.wav}\n" in \
        mehm.read_text(encoding="utf-8")
    assert (mehm.parent / "audio" / "mehm" / "ps" / "health5--1.wav").read_bytes() == again


@pytest.mark.parametrize("lang, item, code, data, expected", [
    ("ar", "chronic", None, b"not a sound at all" * 10, ("REC-001", "the recording is not a WAV sound; record it again")),
    ("tr", "chronic", None, None, ("REC-003", "the module 'mehm' is not written in 'tr'; record a language it has")),
    ("ar", "smoker", None, None, ("REC-002", "no item 'smoker' in the module; choose a question of the module")),
    ("ar", "chronic", "9", None, ("REC-002", "item 'chronic' has no answer '9'; choose one of its answers")),
])
@pytest.mark.slow
def test_a_recording_that_cannot_be_saved_changes_nothing(mehm: Path, lang, item, code, data, expected) -> None:
    before = mehm.read_bytes()
    with pytest.raises(ConfigError) as exc:
        save_recording(mehm, lang, item, code, data if data is not None else tone())
    assert (exc.value.code, exc.value.message) == expected
    assert mehm.read_bytes() == before
    assert not (mehm.parent / "audio").exists() or not any((mehm.parent / "audio").rglob("*.wav"))


@pytest.mark.slow
def test_the_question_screen_plays_the_recording_of_its_language(monkeypatch, kiosk_dir: Path) -> None:
    survey_dir = kiosk_dir.parent / "survey"
    saved = save_recording(survey_dir / "mehm.yaml", "ar", "general_health", None, tone())
    at = start(monkeypatch, kiosk_dir)
    click(at, "lang-ar")
    click(at, "consent-yes")
    players = at.get("audio")
    assert len(players) == 1
    assert players[0].proto.url.endswith(".wav")  # served by the kiosk itself
    # Another language has no recording: no player.
    at = start(monkeypatch, kiosk_dir)
    click(at, "lang-uk")
    click(at, "consent-yes")
    assert at.get("audio") == []
    assert saved.exists()


def test_the_staff_area_has_a_recording_screen(monkeypatch, kiosk_dir: Path) -> None:
    set_pin(load_config(kiosk_dir).pin_file, PIN)
    at = start(monkeypatch, kiosk_dir)
    click(at, "staff-door")
    at.text_input(key="staff-pin").input(PIN)
    at.button[0].click()
    at.run()
    click(at, "staff-audio")
    # In the staff's language (the site's first one, French).
    assert [t.value for t in at.title] == ["Enregistrements"]
    assert [s.label for s in at.selectbox] == ["Langue", "Module", "Question", "Texte à enregistrer"]
    at.selectbox(key="rec-lang").set_value("ar").run()
    assert at.selectbox(key="rec-item-mehm").format_func("chronic") == \
        "هل لديك مرض أو مشكلة صحية مزمنة أو طويلة الأمد؟"
    assert [b.key for b in at.button if b.key.startswith("rec-")] == ["rec-back"]


def test_only_the_staff_recordings_screen_uses_the_microphone() -> None:
    import ast
    kiosk = Path(__file__).resolve().parents[2] / "kiosk"
    users = {(f.name, fn.name) for f in sorted(kiosk.rglob("*.py"))
             for fn in ast.walk(ast.parse(f.read_text(encoding="utf-8"))) if isinstance(fn, ast.FunctionDef)
             for node in ast.walk(fn) if isinstance(node, ast.Attribute) and node.attr == "audio_input"}
    assert users == {("staff.py", "staff_audio_page")}
    pages = Path(__file__).resolve().parents[2] / "kiosk" / "pages"
    assert [p.name for p in sorted(pages.glob("*.py")) if "audio_input" in p.read_text(encoding="utf-8")] == []
