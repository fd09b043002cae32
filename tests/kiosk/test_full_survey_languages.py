"""The full shipped survey (questionnaires/full_survey.yaml, unchanged)
answered through the kiosk pages in every shipped language.

Each screen is checked item by item against the module and site texts of the
chosen language: question, group heading, hint, every answer (the site's
neighbourhoods included) and the interface around them; no English or French
text of the item, and no English interface text, shows instead. The walk
takes the branches that ask every question (complementary cover, fear of
losing one's home, which care and why, PHQ-9 item 9 positive), ends on the
thank-you screen with the site's crisis text in that language, and the
sealed response opens with exactly the answers given.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from surveycore import i18n
from surveycore.questionnaire import Item, load_survey
from analysis.envelopes import open_envelope
from kiosk.config import load_config
from kiosk.flow import Respondent
from kiosk.screen import numerals
from kiosk.store import Outbox
from tests.support.kiosks import full_survey_kiosk
from tests.support.driver import click, start
from tests.support.languages import leaks, visible

QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "questionnaires"
SURVEY = load_survey(QUESTIONNAIRES / "full_survey.yaml")
LANGS = ["fr", "en", "ar", "fa_AF", "ps", "ti", "uk", "ro", "es", "ru", "bn", "ka", "so"]
# Answers that open every branch; other single choices take the first answer.
CHOSEN = {"housing.situation": "tenant_private", "phq9.q9": "1"}


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory, team) -> Path:
    cfg = full_survey_kiosk(tmp_path_factory.mktemp("full"), team)
    return cfg


def _item_texts(item: Item, lang: str) -> list[str]:
    """The item's own texts in ``lang``: group heading, question, hint, answers."""
    return ([item.group_text[lang]] if item.group_text else []) + [item.text[lang]] + (
        [item.hint[lang]] if item.hint else []) + [c.label[lang] for c in item.choices]


def test_the_survey_offers_every_shipped_language() -> None:
    assert SURVEY.offered_languages() == LANGS
    assert sorted(i18n.shipped_languages()) == sorted(LANGS)


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGS)
def test_the_full_survey_is_answered_in_every_language(monkeypatch, kiosk: Path, team, lang: str) -> None:
    t = i18n.translations(lang).gettext
    at = start(monkeypatch, kiosk)
    click(at, f"lang-{lang}")
    assert [x.value for x in at.title] == [SURVEY.title[lang]]
    click(at, "consent-yes")
    mirror = Respondent(SURVEY, lang)
    given: dict[str, object] = {}
    screens = notes = 0
    while not mirror.finished:
        item = mirror.current
        assert item is not None
        done, total = mirror.progress()
        where = f"{item.key} in {lang}"
        assert [p.proto.text for p in at.get("progress")] == [
            t("Question {number} of {total}").format(number=numerals(done + 1, lang), total=numerals(total, lang))
        ], where
        assert [s.value for s in at.subheader] == ([item.group_text[lang]] if item.group_text else []), where
        assert [h.value for h in at.header] == [item.text[lang]], where
        assert [c.value for c in at.caption] == ([item.hint[lang]] if item.hint else []), where
        page = visible(at)
        # No text of the item in another language where this one differs.
        for other in ("en", "fr"):
            if other != lang:
                for mine, theirs in zip(_item_texts(item, lang), _item_texts(item, other)):
                    if mine != theirs:
                        assert theirs not in [s.strip("✓☑☐ ") for s in page], (where, theirs)
        if lang != "en":
            assert leaks(page, lang) == [], where
        if item.type == "multiple":
            assert [b.label for b in at.button if "-m-" in (b.key or "")] == [
                "☐ " + c.label[lang] for c in item.choices], where
            code = item.choices[0].code
            click(at, f"-m-{code}")
            click(at, "-next")
            mirror.set_pending([code])
            mirror.next()
            given[item.key] = [code]
        elif item.type == "note":
            assert [b.label for b in at.button if "-c-" in (b.key or "") or "-m-" in (b.key or "")] == [], where
            click(at, "-next")
            mirror.next()
            notes += 1
        else:
            assert item.type in ("single", "scale"), where
            assert [b.label for b in at.button if "-c-" in (b.key or "")] == [
                c.label[lang] for c in item.choices], where
            code = CHOSEN.get(item.key, item.choices[0].code)
            click(at, f"-c-{code}")
            mirror.answer(code)
            given[item.key] = code
        screens += 1
    # Every question of the survey was asked: no branch left out.
    assert screens - notes == len(SURVEY.questions)
    # The thank-you screen, with the site's crisis resources in this language.
    assert [x.value for x in at.title] == [t("Thank you!")]
    assert SURVEY.site.crisis[lang] in [x.value for x in at.text]
    outbox = Outbox(load_config(kiosk).outbox_path)
    envelopes = [e for _, e in outbox.pending()]
    outbox.close()
    (body,) = [b for b in (open_envelope(e, team.keys)[0] for e in envelopes) if b["lang"] == lang]
    assert body["status"] == "complete"
    assert body["answers"] == given
    assert body["answers"]["demographics.neighbourhood"] == "centre_ville"
    assert body["skipped"] == []


def test_every_language_of_the_kiosk_can_be_named_as_spoken_at_home() -> None:
    codes = [c.code for c in SURVEY.module("demographics").item("home_language").choices]
    assert {lang.split("_")[0] for lang in SURVEY.offered_languages()} <= set(codes)
    assert SURVEY.module("demographics").version == "1.1.0"
