"""What a partial response keeps after Back, Stop, an idle timeout and a
change of branch, on the shipped full survey (pure core and AppTest): every
answer the patient gave and did not change, nothing from a branch a later
change closed, and messages that say so truthfully."""

from __future__ import annotations

from pathlib import Path

import pytest

from surveycore.questionnaire import Survey, load_survey
from surveycore.response import PREFER_NOT
from kiosk.flow import Respondent
from tests.support.kiosks import full_survey_kiosk
from tests.support.driver import click, headers, labels, start
from tests.support.surveys import bodies

QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "questionnaires"


@pytest.fixture(scope="module")
def full() -> Survey:
    return load_survey(QUESTIONNAIRES / "full_survey.yaml")


def _first_six(r: Respondent) -> dict[str, object]:
    """Answer the first six screens of the full survey with their first
    choice (ticking the first box of a multiple choice); return them."""
    given: dict[str, object] = {}
    for _ in range(6):
        item = r.current
        assert item is not None
        code = item.choices[0].code
        if item.type == "multiple":
            r.set_pending([code])
            assert r.next() is None
            given[item.key] = [code]
        else:
            assert r.answer(code) is None
            given[item.key] = code
    return given


def test_back_four_times_keeps_all_six_answers(full: Survey) -> None:
    r = Respondent(full, "fr")
    given = _first_six(r)
    for _ in range(4):
        assert r.back()
    assert r.current.key == "demographics.home_language"
    answers, skipped = r.sealed_answers()
    assert answers == given
    assert skipped == []
    assert r.keeps_something()


def test_back_to_the_first_screen_still_keeps_its_answer(full: Survey) -> None:
    r = Respondent(full, "fr")
    r.answer(full.items[0].choices[2].code)
    assert r.back() and not r.history
    assert r.sealed_answers()[0] == {"demographics.age_band": full.items[0].choices[2].code}
    assert r.keeps_something()


def test_a_changed_branch_drops_only_its_own_answers(full: Survey) -> None:
    r = Respondent(full, "fr")
    while r.current.key != "forgoing_care.forgone":
        r.prefer_not()
    r.answer("yes")
    r.set_pending(["dentist"] if any(c.code == "dentist" for c in r.current.choices)
                  else [r.current.choices[0].code])
    which = r.answers["forgoing_care.which_care"]
    assert r.next() is None
    assert r.current.key == "forgoing_care.reasons"
    reason = r.current.choices[0].code
    r.set_pending([reason])
    assert r.next() is None
    assert r.answer("yes") is None  # epices.q1
    # Back to "forgone", answered "no": the two follow-ups are now off the path.
    while r.current.key != "forgoing_care.forgone":
        r.back()
    r.answer("no")
    assert r.current.key == "epices.q1"
    answers, skipped = r.sealed_answers()
    assert "forgoing_care.which_care" not in answers and "forgoing_care.reasons" not in answers
    assert answers["forgoing_care.forgone"] == "no"
    assert answers["epices.q1"] == "yes"  # given after the branch and not changed: kept
    assert {"forgoing_care.which_care", "forgoing_care.reasons"} <= set(skipped)
    # Changing back to "yes" shows the earlier ticks again, as given.
    while r.current.key != "forgoing_care.forgone":
        r.back()
    r.answer("yes")
    assert r.value() == which
    assert r.sealed_answers()[0]["forgoing_care.reasons"] == [reason]


def test_prefer_not_is_kept_and_shown_after_back(full: Survey) -> None:
    r = Respondent(full, "fr")
    r.prefer_not()
    r.back()
    assert r.value() is PREFER_NOT
    assert r.sealed_answers()[0] == {"demographics.age_band": None}


# ------------------------------------------------------------- AppTest

@pytest.fixture
def full_kiosk(tmp_path: Path, team) -> Path:
    cfg = full_survey_kiosk(tmp_path / "kiosk", team)
    return cfg


def _answer_first(at) -> tuple[str, str]:
    keys = [b.key or "" for b in at.button]
    single = [k for k in keys if "-c-" in k][0]
    click(at, single)
    return single.rsplit("-c-", 1)[1], single


def test_stop_after_back_on_the_first_question_keeps_what_it_shows(monkeypatch, full_kiosk: Path,
                                                                   team) -> None:
    at = start(monkeypatch, full_kiosk)
    click(at, "lang-fr")
    click(at, "consent-yes")
    code, _ = _answer_first(at)
    click(at, "-back")
    assert [b.label for b in at.button if (b.key or "").endswith(f"-c-{code}")][0].startswith("✓ ")
    click(at, "-stop")
    assert headers(at) == ["Arrêter l’enquête ?"]
    assert "Les réponses déjà données seront gardées, verrouillées comme les autres." in [
        m.value for m in at.markdown]
    click(at, "-stop-yes")
    (body,) = bodies(full_kiosk, team)
    assert body["status"] == "partial" and body["answers"] == {"demographics.age_band": code}


@pytest.mark.slow
def test_stop_with_nothing_given_says_nothing_is_kept(monkeypatch, full_kiosk: Path, team) -> None:
    at = start(monkeypatch, full_kiosk)
    click(at, "lang-fr")
    click(at, "consent-yes")
    click(at, "-stop")
    assert "Rien ne sera gardé." in [m.value for m in at.markdown]
    click(at, "-stop-yes")
    assert bodies(full_kiosk, team) == []


def test_idle_timeout_after_back_keeps_the_later_answers(monkeypatch, full_kiosk: Path, team) -> None:
    at = start(monkeypatch, full_kiosk)
    click(at, "lang-fr")
    click(at, "consent-yes")
    first, _ = _answer_first(at)
    second, _ = _answer_first(at)
    click(at, "-back")
    click(at, "-back")
    click(at, "kiosk-idle")
    assert "respondent" not in at.session_state
    (body,) = bodies(full_kiosk, team)
    assert body["answers"] == {"demographics.age_band": first, "demographics.gender": second}


@pytest.mark.slow
def test_earlier_prefer_not_shows_as_chosen(monkeypatch, full_kiosk: Path) -> None:
    at = start(monkeypatch, full_kiosk)
    click(at, "lang-fr")
    click(at, "consent-yes")
    click(at, "-pna")
    click(at, "-back")
    (pna,) = [b for b in at.button if (b.key or "").endswith("-pna")]
    assert pna.label == "✓ Je préfère ne pas répondre"
    assert pna.proto.type == "primary"
    assert not any(label.startswith("✓") for label in labels(at) if label != pna.label)


def test_the_progress_total_never_grows_as_branches_open(full: Survey) -> None:
    """Answers that open every follow-up (private tenant, care forgone, PHQ-9
    items above 0): the announced total never goes up, and the last screen
    is announced as the last."""
    r = Respondent(full, "fr")
    opening = {"housing.situation": "tenant_private", "forgoing_care.forgone": "yes"}
    totals = []
    while not r.finished:
        item = r.current
        done, total = r.progress()
        totals.append(total)
        assert done == len(totals) - 1
        if item.type == "multiple":
            r.set_pending([item.choices[0].code])
            r.next()
        elif item.type == "note" or not item.choices:
            r.next()
        else:
            r.answer(opening.get(item.key, item.choices[-1].code))
    assert totals == sorted(totals, reverse=True), totals
    assert totals[-1] == len(totals)
