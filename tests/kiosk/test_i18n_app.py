"""Every shipped language through the kiosk in AppTest: welcome, consent and
question pages render in that language, with no English interface text (and
no English module text) leaking through, and right-to-left pages for
Arabic, Dari and Pashto."""

from __future__ import annotations

from pathlib import Path

import pytest

from surveycore import i18n
from kiosk.screen import numerals
from tests.support.driver import click, start
from tests.support.kiosks import inline_kiosk
from tests.support.languages import leaks, visible

LANGS = ["fr", "en", "ar", "fa_AF", "ps", "ti", "ro", "es", "uk", "ru", "bn", "ka", "so"]


def _texts(**by_lang: str) -> str:
    return "{" + ", ".join(f'{lang}: "{text}"' for lang, text in by_lang.items()) + "}"


TITLE = dict(fr="Le tabac", en="Smoking", ar="التدخين", fa_AF="سگرت کشیدن", ps="سګرټ څکول", ti="ምትካኽ",
             ro="Fumatul", es="El tabaco", uk="Куріння", ru="Курение", bn="ধূমপান", ka="მოწევა", so="Sigaar cabbidda")
SMOKER = dict(fr="Fumez-vous ?", en="Do you smoke?", ar="هل تدخن؟", fa_AF="آیا سگرت می‌کشید؟",
              ps="ایا تاسو سګرټ څکوئ؟", ti="ሽጋራ ተትክኹ ዶ?", ro="Fumați?", es="¿Fuma usted?", uk="Ви курите?",
              ru="Вы курите?", bn="আপনি কি ধূমপান করেন?", ka="ეწევით?", so="Ma cabtaa sigaar?")
YES = dict(fr="Oui", en="Yes", ar="نعم", fa_AF="بلی", ps="هو", ti="እወ", ro="Da", es="Sí", uk="Так", ru="Да",
           bn="হ্যাঁ", ka="დიახ", so="Haa")
NO = dict(fr="Non", en="No", ar="لا", fa_AF="نخیر", ps="نه", ti="ኣይፋል", ro="Nu", es="No", uk="Ні", ru="Нет",
          bn="না", ka="არა", so="Maya")
CIGS = dict(fr="Combien de cigarettes par jour ?", en="How many cigarettes a day?", ar="كم سيجارة في اليوم؟",
            fa_AF="روزانه چند سگرت؟", ps="په ورځ کې څو سګرټ؟", ti="ኣብ መዓልቲ ክንደይ ሽጋራ?", ro="Câte țigări pe zi?",
            es="¿Cuántos cigarrillos al día?", uk="Скільки сигарет на день?", ru="Сколько сигарет в день?",
            bn="দিনে কয়টি সিগারেট?", ka="რამდენ სიგარეტს დღეში?", so="Immisa sigaar maalintii?")
MODULE_TEXTS = [TITLE, SMOKER, YES, NO, CIGS]

MODULE = f"""
id: smoking
version: 1.0.0
title: {_texts(**TITLE)}
source: test fixture
license: CC0
languages: {{fr: validated, en: validated, ar: draft, fa_AF: draft, ps: draft, ti: draft, ro: draft, es: draft,
             uk: draft, ru: draft, bn: draft, ka: draft, so: draft}}
items:
  - id: smoker
    type: single
    text: {_texts(**SMOKER)}
    choices:
      - {{code: "1", label: {_texts(**YES)}}}
      - {{code: "2", label: {_texts(**NO)}}}
  - id: cigs
    type: integer
    text: {_texts(**CIGS)}
    min: 1
    max: 80
    required: true
"""

SURVEY = f"""
id: alllanguages
version: 1.0.0
modules:
  - {{id: smoking, version: 1.0.0}}
site:
  centre: TEST
  languages: [{", ".join(LANGS)}]
  allow_draft_languages: true
"""


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory, team) -> Path:
    return inline_kiosk(tmp_path_factory.mktemp("all-languages"), team, SURVEY, {"smoking.yaml": MODULE})



def html_blocks(at) -> list[str]:
    return [e.proto.body for e in at.get("html")]


def test_the_welcome_page_greets_in_every_language(monkeypatch, kiosk: Path) -> None:
    at = start(monkeypatch, kiosk)
    greetings = ["\u2068" + i18n.translations(lang).gettext("Welcome") + "\u2069" for lang in LANGS]
    assert [t.value for t in at.title] == [" · ".join(greetings)]
    assert len(set(greetings)) == len(LANGS)  # thirteen different greetings, none left in English
    assert [b.label for b in at.button if b.key.startswith("lang-")] == [i18n.native_name(lang) for lang in LANGS]
    assert [b.label for b in at.button if b.key.startswith("lang-")] == [
        "Français", "English", "العربية", "دری", "پښتو", "ትግርኛ", "Română", "Español", "Українська", "Русский",
        "বাংলা", "ქართული", "Soomaali"]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.slow
def test_consent_and_questions_are_in_the_chosen_language(monkeypatch, kiosk: Path, lang: str) -> None:
    t = i18n.translations(lang).gettext
    at = start(monkeypatch, kiosk)
    click(at, f"lang-{lang}")
    consent = visible(at)
    assert [x.value for x in at.title] == [t("Health survey")]
    assert [m.value for m in at.markdown] == ["\n".join("- " + t(s) for s in (
        "A few questions about your health and your living conditions.",
        "It is anonymous: we do not ask your name, and your answers are locked as soon as you finish.",
        "It is voluntary: you can skip any question or stop at any time.",
        "Your answers help the centre understand the needs of the neighbourhood."))]
    assert [b.label for b in at.button if b.key.startswith("consent")] == [t("I agree, start"), t("No thanks")]
    direction = "rtl" if lang in ("ar", "fa_AF", "ps") else "ltr"
    assert i18n.direction(lang) == direction
    assert any('[data-testid="stMain"] { direction: rtl; }' in h for h in html_blocks(at)) is (direction == "rtl")
    assert any(f'document.documentElement.dir="{direction}"' in h for h in html_blocks(at))

    click(at, "consent-yes")
    first = visible(at)
    assert [h.value for h in at.header] == [SMOKER[lang]]
    assert at.get("progress")[0].proto.text == t("Question {number} of {total}").format(
        number=numerals(1, lang), total=numerals(2, lang))
    assert [b.label for b in at.button if b.key not in ("staff-door", "kiosk-idle")] == [
        YES[lang], NO[lang], t("Prefer not to answer"), t("Stop the survey")]

    click(at, "-c-1")
    second = visible(at)
    assert [h.value for h in at.header] == [CIGS[lang]]
    assert [n.label for n in at.number_input] == [t("Your answer")]
    assert [b.label for b in at.button if b.key not in ("staff-door", "kiosk-idle")] == [
        t("Next"), t("Prefer not to answer"), t("Back"), t("Stop the survey")]
    click(at, "-next")
    assert [w.value for w in at.warning] == [t("Please choose an answer, or tap “Prefer not to answer”.")]
    warned = visible(at)

    click(at, "-stop")
    confirm = visible(at)
    assert [h.value for h in at.header] == [t("Stop the survey?")]
    assert [b.label for b in at.button if b.key.endswith(("stop-yes", "stop-no"))] == [t("Yes, stop"),
                                                                                      t("No, continue")]
    pages = consent + first + second + warned + confirm
    if lang == "en":
        assert "I agree, start" in pages and leaks(pages, lang, MODULE_TEXTS) != []  # the check does see English
    else:
        assert leaks(pages, lang, MODULE_TEXTS) == []


def test_this_test_covers_every_shipped_language() -> None:
    # A new catalog needs its line in the module above (and in LANGS).
    assert sorted(i18n.shipped_languages()) == sorted(LANGS)
