"""Every branch of the patient flow and the staff area, in AppTest, on a
small survey that uses every item type."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config import load_config
from tests.support.driver import click, headers, labels, start
from tests.support.surveys import PIN, SURVEY, bodies, flow_kiosk, staff_login  # noqa: F401 (fixture)


def begin(monkeypatch, config: Path, lang: str = "en"):
    at = start(monkeypatch, config)
    click(at, f"lang-{lang}")
    click(at, "consent-yes")
    return at


def warnings(at) -> list[str]:
    return [w.value for w in at.warning]


def test_every_item_type_and_the_crisis_screen(monkeypatch, flow_kiosk: Path, team) -> None:
    at = begin(monkeypatch, flow_kiosk)
    assert headers(at) == ["A few questions about smoking."]
    assert "Prefer not to answer" not in labels(at)  # a note asks nothing
    click(at, "-next")
    click(at, "-c-1")  # smoker: yes → the cigarettes question is shown
    assert headers(at) == ["How many cigarettes a day?"]
    click(at, "-next")  # required, nothing entered
    assert warnings(at) == ["Please choose an answer, or tap “Prefer not to answer”."]
    at.number_input[0].set_value(70).run()
    click(at, "-next")
    assert warnings(at) == ["At most 60 please."]  # the module's constraint message
    assert headers(at) == ["How many cigarettes a day?"]
    at.number_input[0].set_value(12).run()
    click(at, "-next")
    assert headers(at) == ["Which care did you go without?"]
    click(at, "-next")
    assert warnings(at) == ["Please choose an answer, or tap “Prefer not to answer”."]
    click(at, "-m-eyes")
    click(at, "-m-dent")
    assert labels(at)[:2] == ["☑ Dentist", "☑ Glasses"]
    click(at, "-m-eyes")  # untick
    click(at, "-next")
    click(at, "-c-1")  # mood: several days → crisis
    assert [t.value for t in at.title] == ["Thank you!"]
    # The centre's own help first, then the crisis line.
    assert [e.value for e in at.error] == [
        "Please tell the reception staff now: someone at the centre can help you right away."]
    assert [w.value for w in at.warning] == [
        "If you are having thoughts of hurting yourself, you are not alone. Help is available now:"]
    assert [t.value for t in at.text] == ["Call 3114, day and night."]
    (body,) = bodies(flow_kiosk, team)
    assert body["answers"] == {"flowtest.smoker": "1", "flowtest.cigs": 12, "flowtest.forgo": ["dent"],
                               "flowtest.mood": "1"}
    assert body["status"] == "complete" and body["test"] is False


def test_the_site_names_its_own_help_first_on_the_crisis_screen(monkeypatch, flow_kiosk: Path) -> None:
    survey = flow_kiosk.parent / "survey" / "demo_survey.yaml"
    survey.write_text(SURVEY + '  crisis_help: {en: "Tell the nurse at desk 2.", fr: "Prévenez '
                      "l'infirmière du guichet 2.\"}\n", encoding="utf-8")
    at = begin(monkeypatch, flow_kiosk, "fr")
    click(at, "-next")
    click(at, "-c-2")
    click(at, "-pna")
    click(at, "-c-1")
    assert [t.value for t in at.title] == ["Merci !"]
    assert [e.value for e in at.error] == ["Prévenez l'infirmière du guichet 2."]
    assert [t.value for t in at.text] == ["Appelez le 3114, jour et nuit."]


def test_skip_logic_and_no_crisis(monkeypatch, flow_kiosk: Path, team) -> None:
    at = begin(monkeypatch, flow_kiosk, "fr")
    click(at, "-next")
    click(at, "-c-2")  # non-smoker: the cigarettes question is skipped
    assert headers(at) == ["À quels soins avez-vous renoncé ?"]
    assert at.get("progress")[0].proto.text == "Question 3 sur 4"
    click(at, "-pna")
    click(at, "-c-0")
    assert [t.value for t in at.title] == ["Merci !"]
    assert at.warning == [] or [w.value for w in at.warning] == []
    (body,) = bodies(flow_kiosk, team)
    assert body["answers"] == {"flowtest.smoker": "2", "flowtest.forgo": None, "flowtest.mood": "0"}
    assert body["skipped"] == ["flowtest.cigs"]


def test_stop_keeps_a_partial_response(monkeypatch, flow_kiosk: Path, team) -> None:
    at = begin(monkeypatch, flow_kiosk)
    click(at, "-next")
    click(at, "-c-2")
    click(at, "-stop")
    assert headers(at) == ["Stop the survey?"]
    click(at, "-stop-no")
    assert headers(at) == ["Which care did you go without?"]
    click(at, "-stop")
    click(at, "-stop-yes")
    assert [t.value for t in at.title] == ["Thank you!"]
    (body,) = bodies(flow_kiosk, team)
    assert body["status"] == "partial"
    assert body["answers"] == {"flowtest.smoker": "2"} and body["skipped"] == ["flowtest.cigs"]


def test_idle_timeout_seals_partial_and_returns_to_welcome(monkeypatch, flow_kiosk: Path, team) -> None:
    at = begin(monkeypatch, flow_kiosk)
    click(at, "-next")
    click(at, "-c-1")
    click(at, "kiosk-idle")  # what the browser's idle timer presses
    # Nothing of the patient is shown while the browser reloads "/" once.
    assert labels(at) == [] and headers(at) == []
    assert "respondent" not in at.session_state
    at.run()
    assert labels(at) == ["English", "Français"]
    (body,) = bodies(flow_kiosk, team)
    assert body["status"] == "partial" and body["answers"] == {"flowtest.smoker": "1"}


def test_idle_before_any_answer_keeps_nothing(monkeypatch, flow_kiosk: Path, team) -> None:
    at = begin(monkeypatch, flow_kiosk)
    click(at, "kiosk-idle")
    assert labels(at) == [] and "respondent" not in at.session_state
    assert bodies(flow_kiosk, team) == []



def test_staff_page_is_absent_without_the_pin(monkeypatch, flow_kiosk: Path) -> None:
    at = start(monkeypatch, flow_kiosk)
    # Not in this session's page list: there is no such page to go to.
    with pytest.raises(ValueError, match="Could not find a navigation page for .*staff.py"):
        at.switch_page("pages/staff.py")
    at = staff_login(monkeypatch, flow_kiosk)
    at.switch_page("pages/staff.py").run()  # registered once unlocked
    assert [t.value for t in at.title] == ["Staff area"]


def test_wrong_pins_lock_the_door(monkeypatch, flow_kiosk: Path) -> None:
    at = staff_login(monkeypatch, flow_kiosk, "000000")
    assert [e.value for e in at.error] == ["Wrong PIN (4 tries left)."]
    for left in (3, 2, 1):
        at.text_input(key="staff-pin").input("111111")
        at.button[0].click()
        at.run()
        assert [e.value for e in at.error] == [f"Wrong PIN ({left} {'try' if left == 1 else 'tries'} left)."]
    at.text_input(key="staff-pin").input("222222")
    at.button[0].click()
    at.run()
    assert [e.value for e in at.error][-1] == "Too many wrong PINs. Try again in 5 minutes."
    # Even the right PIN is refused while locked, in any session.
    at2 = staff_login(monkeypatch, flow_kiosk, PIN)
    assert "Too many wrong PINs. Try again in 5 minutes." in [e.value for e in at2.error]
    assert "staff" not in at2.session_state


@pytest.mark.slow
def test_staff_area_counts_exports_pauses_and_test_mode(monkeypatch, flow_kiosk: Path, team) -> None:
    at = begin(monkeypatch, flow_kiosk)
    click(at, "-next")
    click(at, "-c-2")
    click(at, "-pna")
    click(at, "-c-0")
    at = staff_login(monkeypatch, flow_kiosk)
    assert [t.value for t in at.title] == ["Staff area"]
    facts = at.table[0].value
    values = dict(zip(facts.iloc[:, 0], facts.iloc[:, 1]))
    assert values["Responses stored"] == "1"
    assert values["Last export"] == "never"
    assert values["Status"] == "running" and values["Test mode"] == "off"
    langs = at.table[2].value
    assert list(langs.iloc[:, 3]) == ["offered", "offered"]
    click(at, "staff-export")
    assert at.success[0].value.startswith("Exported 1 envelope to ")
    exported = list((load_config(flow_kiosk).data_dir / "exports").glob("*.hkb"))
    assert len(exported) == 1
    # The staff export carries the survey's signed definitions, like 'kiosk export'.
    from surveycore.definitions import parse_block
    from surveycore.bundle import read_bundle
    bundle = read_bundle(exported[0])
    survey = load_config(flow_kiosk).survey
    assert bundle.version == 2 and survey.read_bytes() in parse_block(bundle.definitions).files.values()
    click(at, "staff-test")
    click(at, "staff-pause")
    click(at, "staff-logout")
    assert "staff" not in at.session_state
    # Paused: the welcome screen says so and offers no language.
    at = start(monkeypatch, flow_kiosk)
    assert labels(at) == []
    assert [m.value for m in at.markdown if "paused" in m.value] == [
        "This survey is paused. Please ask at the reception."]
    # Resume; responses are now marked as test.
    at = staff_login(monkeypatch, flow_kiosk)
    click(at, "staff-pause")
    at = begin(monkeypatch, flow_kiosk)
    click(at, "-next")
    click(at, "-c-2")
    click(at, "-pna")
    click(at, "-c-0")
    tests = sorted(b["test"] for b in bodies(flow_kiosk, team))
    assert tests == [False, True]


MEDIA_MODULE = """
id: media
version: 1.0.0
title: {en: Pictures, fr: Images}
source: test fixture
license: CC0
languages: {en: validated, fr: validated}
items:
  - id: teeth
    type: single
    text: {en: Do your teeth hurt?, fr: Avez-vous mal aux dents ?}
    image: media/teeth.png
    audio: {en: media/teeth-en.wav, fr: media/teeth-fr.wav}
    choices:
      - {code: "1", label: {en: "Yes", fr: Oui}, image: media/yes.png, audio: {en: media/yes-en.wav, fr: media/yes-fr.wav}}
      - {code: "2", label: {en: "No", fr: Non}}
"""

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c63f8cf000000030101001827b6d60000000049454e44ae426082")


def _wav(path: Path, frames: int) -> None:
    import wave
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * frames)


def test_pictures_and_audio_in_the_chosen_language(monkeypatch, flow_kiosk: Path) -> None:
    survey_dir = flow_kiosk.parent / "survey"
    (survey_dir / "flowtest.yaml").unlink()
    (survey_dir / "media.yaml").write_text(MEDIA_MODULE, encoding="utf-8")
    (survey_dir / "demo_survey.yaml").write_text(
        SURVEY.replace("flowtest", "media"), encoding="utf-8")
    (survey_dir / "media").mkdir()
    for name in ("teeth.png", "yes.png"):
        (survey_dir / "media" / name).write_bytes(PNG)
    # Different lengths so the test can tell which language's file is played.
    for name, frames in (("teeth-en.wav", 800), ("teeth-fr.wav", 1600), ("yes-en.wav", 400),
                         ("yes-fr.wav", 1200)):
        _wav(survey_dir / "media" / name, frames)
    seen = {}
    for lang in ("fr", "en"):
        at = begin(monkeypatch, flow_kiosk, lang)
        assert headers(at) == [{"fr": "Avez-vous mal aux dents ?", "en": "Do your teeth hurt?"}[lang]], [e for e in at.main.children.values()]
        assert len(at.get("image")) == 2  # the question's picture and the "yes" picture
        audio = at.get("audio")
        assert len(audio) == 2
        seen[lang] = [a.proto.url for a in audio]
    # The media are served by the kiosk itself and differ by language.
    assert all(u.startswith("/mock/media/") for urls in seen.values() for u in urls)
    assert seen["fr"] != seen["en"]


@pytest.mark.slow
def test_storage_almost_full_and_full_in_the_staff_area_and_for_patients(monkeypatch, flow_kiosk: Path) -> None:
    from kiosk import store
    # Room for about 500 more responses: staff are warned early, patients still served.
    monkeypatch.setattr(store, "disk_free", lambda folder: store.RESERVE_BYTES + store.WAL_ALLOWANCE + 500 * 2300)
    at = staff_login(monkeypatch, flow_kiosk)
    (warning,) = [w.value for w in at.warning]
    assert warning.startswith("Storage almost full: room for about ")
    assert warning.endswith(" more responses. Export a bundle, hand it to the team and confirm its receipt.")
    assert labels(start(monkeypatch, flow_kiosk)) == ["English", "Français"]
    # No room left: out of service for patients, an error for staff.
    monkeypatch.setattr(store, "disk_free", lambda folder: store.RESERVE_BYTES // 2)
    at = staff_login(monkeypatch, flow_kiosk)
    assert "Storage full: the kiosk takes no more responses. Export a bundle, hand it to the team and confirm " \
           "its receipt." in [e.value for e in at.error]
    at = start(monkeypatch, flow_kiosk)
    assert labels(at) == []
    assert [m.value for m in at.markdown if "paused" in m.value] == [
        "This survey is paused. Please ask at the reception."]
