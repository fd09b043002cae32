"""The patient's screens: welcome (language choice), consent, one question
a screen with its navigation bar and the stop confirmation, and thanks.

Each screen renders and calls the pure core (:mod:`kiosk.flow`,
:class:`kiosk.config.KioskRuntime`); the answer widgets of a question are
in :mod:`kiosk.ui`.

Privacy rules applied here:
- every answer widget is a button or has the respondent's random nonce in its
  key, so no value of a previous patient can be re-sent by the browser;
- after a response is sealed the respondent is dropped from the session and
  the browser is sent back to ``/`` (a new session, empty widget memory);
- a patient is thanked only after the response is committed.
"""

from __future__ import annotations

from typing import Any, Callable

import streamlit as st

from surveycore import i18n, scoring
from surveycore.errors import KioskError
from surveycore.response import PREFER_NOT
from kiosk import answers, screen
from kiosk.config import KioskRuntime
from kiosk.flow import Respondent
from kiosk.shell import (CONSENT, QUESTION, STAFF_LOGIN, WELCOME, _, idle_seal_button, reset,
                         runtime, seal_abandoned, show_error)
from kiosk.style import style
# The question's answer widgets, and the two helpers the navigation bar's
# callbacks share with theirs.
from kiosk.ui import _on, _problem, _question

THANKS_SECONDS = 20


def welcome_page() -> None:
    """Language choice: one big button per offered language, native names."""
    rt = runtime()
    # Reached mid-survey only by the browser's Back: what was answered is kept.
    seal_abandoned(rt, st.session_state.get("respondent"))
    reset()
    style(None, idle_seconds=None)
    if rt.out_of_service:
        first = rt.survey.site.languages[0] if rt.survey.site.languages else "en"
        langs = rt.survey.offered_languages() or [first]
        st.title("⏸")
        for lang in langs:
            st.write(i18n.translations(lang).gettext("This survey is paused. Please ask at the reception."))
    else:
        langs = rt.survey.offered_languages()
        # Each greeting in a Unicode isolate (FSI … PDI), so right-to-left
        # and left-to-right greetings on one line keep their own order.
        greetings = " · ".join(dict.fromkeys(
            "\u2068" + i18n.translations(lang).gettext("Welcome") + "\u2069" for lang in langs))
        with st.container(key=screen.screen_key("welcome")):
            st.title(greetings)
            st.write(" · ".join(dict.fromkeys("\u2068" + i18n.translations(lang).gettext("Choose your language")
                                              + "\u2069" for lang in langs)))
        # Every offered language at once, as a grid of native names.
        with st.container(key=screen.LANGS_KEY):
            for lang in langs:
                if st.button(i18n.native_name(lang), key=f"lang-{lang}", use_container_width=True):
                    st.session_state["lang"] = lang
                    st.switch_page(CONSENT)
    # A discreet door to the staff PIN screen.
    if st.button("·", key="staff-door"):
        st.switch_page(STAFF_LOGIN)


def consent_page() -> None:
    """What is asked, anonymous and voluntary; agree or no thanks."""
    rt = runtime()
    lang = st.session_state.get("lang")
    if st.session_state.get("respondent") is not None or st.session_state.get("thanked"):
        # The browser's Back out of the survey (or out of its thanks): keep
        # what was answered, then start afresh from the welcome screen.
        seal_abandoned(rt, st.session_state.get("respondent"))
        reset()
        st.switch_page(WELCOME)
        return
    if lang not in rt.survey.offered_languages() or rt.out_of_service:
        reset()
        st.switch_page(WELCOME)
        return
    style(lang, rt.survey.site.idle_timeout)
    with st.container(key=screen.screen_key("consent")):
        st.title(i18n.text_for(rt.survey.title, lang) or _("Health survey"))
    site_text = rt.survey.site.consent.get(lang)
    if site_text:
        st.write(site_text)
    st.markdown(
        "- " + _("A few questions about your health and your living conditions.") + "\n"
        "- " + _("It is anonymous: we do not ask your name, and your answers are locked as soon as you finish.") + "\n"
        "- " + _("It is voluntary: you can skip any question or stop at any time.") + "\n"
        "- " + _("Your answers help the centre understand the needs of the neighbourhood.")
    )
    with st.container(key=screen.NAV_KEY):
        yes, no = st.columns(2)
        with yes:
            agreed = st.button(_("I agree, start"), key="consent-yes", type="primary", use_container_width=True)
        with no:
            declined = st.button(_("No thanks"), key="consent-no", use_container_width=True)
    if agreed:
        st.session_state["respondent"] = Respondent(rt.survey, lang)
        st.switch_page(QUESTION)
    if declined:
        try:
            rt.decline(lang)
        except KioskError:
            pass  # a lost "no thanks" count must never block the welcome screen
        reset()
        st.switch_page(WELCOME)


def _end(rt: KioskRuntime, r: Respondent, status: str | None) -> None:
    """Seal and store (``status`` "complete" or "partial"; ``None`` when a
    stopped survey keeps nothing), then thank the patient in this same run,
    in place of the last screen: only after the commit, and without a page
    switch, so the tap that ends the survey costs one run like any other."""
    if status is not None:
        try:
            rt.submit(r, status)
        except KioskError as exc:
            style(r.lang, rt.survey.site.idle_timeout)
            idle_seal_button()
            st.session_state["store_failed"] = True
            show_error(exc)
            if st.button(_("Try again"), key=f"retry-{r.nonce}", use_container_width=True):
                st.rerun()
            return
        r.submitted = True
    crisis = status is not None and scoring.crisis_flagged(rt.survey, r.answers)
    lang = r.lang
    reset()
    st.session_state["lang"] = lang
    st.session_state["crisis"] = crisis
    st.session_state["thanked"] = True
    _thanks(rt, lang, crisis)


def question_page() -> None:
    """One question a screen with Back, "prefer not to answer" and Stop."""
    rt = runtime()
    r: Respondent | None = st.session_state.get("respondent")
    if r is None and st.session_state.get("thanked"):
        # The thanks screen shown in place of the last question: its Finish
        # button reruns this page.
        _thanks(rt, st.session_state["lang"], bool(st.session_state.get("crisis")))
        return
    if r is None or r.submitted:
        # Browser Back or a refresh after submitting: never show answers again.
        reset()
        st.switch_page(WELCOME)
        return
    if r.finished:
        _end(rt, r, "complete")
        return
    if st.session_state.pop("stop_now", False):
        _end(rt, r, "partial" if rt.survey.site.keep_partial and r.keeps_something() else None)
        return
    lang = r.lang
    style(lang, rt.survey.site.idle_timeout)
    idle_seal_button()
    if st.session_state.get("confirm_stop"):
        _confirm_stop(rt, r)
        return
    item = r.current
    assert item is not None
    key = f"{r.nonce}-{item.key}-{len(r.history)}"
    with st.container(key=screen.screen_key(r.nonce, len(r.history), r.pos)):
        _question(r, item, key, lang)
    _navigation(r, item, key)


# The navigation bar's taps act in widget callbacks too (see kiosk.ui):
# each first checks that its screen is still the current one.

def _next_cb(r: Respondent, item_key: str, read: Callable[[str], Any] | None, key: str) -> None:
    if not _on(r, item_key):
        return
    value = read(key) if read is not None else None
    _problem(r.answer(value) if value is not None else r.next())


def _prefer_not_cb(r: Respondent, item_key: str) -> None:
    if _on(r, item_key):
        r.prefer_not()


def _back_cb(r: Respondent, item_key: str) -> None:
    if _on(r, item_key):
        r.back()


def _stop_cb(r: Respondent, item_key: str) -> None:
    if _on(r, item_key):
        st.session_state["confirm_stop"] = True


def _navigation(r: Respondent, item: Any, key: str) -> None:
    """The bar fixed at the bottom of the screen: Next (when the question
    has one), Prefer not to answer, Back and Stop, always within reach."""
    current = r.value(item)
    with st.container(key=screen.NAV_KEY):
        first = []
        renderer = answers.renderer_of(item)
        if not renderer.taps:
            first.append("next")
        if item.is_question:
            first.append("pna")

        def first_row(name: str) -> None:
            if name == "next":
                st.button(_("Next"), key=f"{key}-next", type="primary", use_container_width=True,
                          on_click=_next_cb, args=(r, item.key, renderer.read, key))
            else:
                refused = current is PREFER_NOT
                st.button(("✓ " if refused else "") + _("Prefer not to answer"), key=f"{key}-pna",
                          type="primary" if refused else "secondary", use_container_width=True,
                          on_click=_prefer_not_cb, args=(r, item.key))

        if len(first) > 1:
            for name, col in zip(first, st.columns(len(first))):
                with col:
                    first_row(name)
        else:
            # A lone button needs no row of columns: two fewer elements sent
            # on every tap of a one-tap question.
            for name in first:
                first_row(name)
        back, stop = st.columns(2)
        with back:
            if r.history:
                st.button(_("Back"), key=f"{key}-back", use_container_width=True, on_click=_back_cb,
                          args=(r, item.key))
        with stop:
            st.button(_("Stop the survey"), key=f"{key}-stop", use_container_width=True, on_click=_stop_cb,
                      args=(r, item.key))


def _stop_yes_cb(r: Respondent) -> None:
    # Acted on at the top of the next run, before anything is drawn, so the
    # thanks screen replaces the confirmation in that run.
    if st.session_state.get("respondent") is r and st.session_state.pop("confirm_stop", None):
        st.session_state["stop_now"] = True


def _confirm_stop(rt: KioskRuntime, r: Respondent) -> None:
    with st.container(key=screen.screen_key(r.nonce, "stop")):
        st.header(_("Stop the survey?"))
    keep = rt.survey.site.keep_partial and r.keeps_something()
    st.write(_("The answers you gave so far will be kept, locked like the others.") if keep
             else _("Nothing will be kept."))
    st.button(_("Yes, stop"), key=f"{r.nonce}-stop-yes", type="primary", use_container_width=True,
              on_click=_stop_yes_cb, args=(r,))
    st.button(_("No, continue"), key=f"{r.nonce}-stop-no", use_container_width=True,
              on_click=lambda: st.session_state.pop("confirm_stop", None))


def thanks_page() -> None:
    """The thanks screen at its own address: reached only by a deep link,
    since a survey's end is thanked in place (:func:`_end`)."""
    rt = runtime()
    lang = st.session_state.get("lang")
    if lang is None or not st.session_state.get("thanked"):
        seal_abandoned(rt, st.session_state.get("respondent"))
        reset()
        st.switch_page(WELCOME)
        return
    _thanks(rt, lang, bool(st.session_state.get("crisis")))


def _thanks(rt: KioskRuntime, lang: str, crisis: bool) -> None:
    """Thanks, crisis resources when flagged, then a full reset."""
    # Back to the welcome screen by a full reload (a new session, empty browser
    # memory) after a few seconds, or at once with the button.
    style(lang, rt.survey.site.idle_timeout if crisis else min(THANKS_SECONDS, rt.survey.site.idle_timeout))
    with st.container(key=screen.screen_key("thanks")):
        st.title(_("Thank you!"))
    st.write(_("Your answers have been saved and locked. Nobody at the centre can link them to you."))
    if crisis:
        # The centre's own help first, then the crisis line, large. The
        # screen follows the site's idle timeout like any other: never
        # longer, so the next person in the room does not read it.
        help_text = rt.survey.site.crisis_help.get(lang) or _(
            "Please tell the reception staff now: someone at the centre can help you right away.")
        st.error(help_text)
        st.warning(_("If you are having thoughts of hurting yourself, you are not alone. Help is available now:"))
        with st.container(key="kiosk-crisis-line"):
            st.text(rt.survey.site.crisis.get(lang, ""))
    if st.button(_("Finish"), key="finish", type="primary", use_container_width=True):
        reset()
        st.html("<script>window.location.replace('/');</script>", unsafe_allow_javascript=True)
        st.switch_page(WELCOME)
