"""Screens of the kiosk. Each page file in ``kiosk/pages/`` calls one
function here; these functions only render and call the pure core
(:mod:`kiosk.flow`, :class:`kiosk.config.KioskRuntime`).

Privacy rules applied here:
- answers live in ``st.session_state`` (server memory) only, never in
  ``st.cache_*`` and never logged;
- every answer widget is a button or has the respondent's random nonce in its
  key, so no value of a previous patient can be re-sent by the browser;
- after a response is sealed the respondent is dropped from the session and
  the browser is sent back to ``/`` (a new session).
"""

from __future__ import annotations

import html
import json
from typing import Any, Callable

import streamlit as st

from kiosk import i18n, scoring
from kiosk.config import KioskRuntime, config_path_from_env, load_config
from kiosk.errors import KioskError
from kiosk.flow import PREFER_NOT, Respondent

WELCOME = "pages/welcome.py"
CONSENT = "pages/consent.py"
QUESTION = "pages/question.py"
THANKS = "pages/thanks.py"

# Keys of st.session_state this app uses; reset() removes all of them.
STATE_KEYS = ("lang", "respondent", "crisis", "problem", "store_failed")


@st.cache_resource(show_spinner=False)
def _runtime(config_path: str) -> KioskRuntime:
    # Shared by all sessions: survey definitions, public key, device key and
    # the outbox connection. Never anything of a patient.
    return KioskRuntime(load_config(config_path))


def runtime() -> KioskRuntime:
    """The kiosk runtime named by ``KIOSK_CONFIG``."""
    return _runtime(str(config_path_from_env()))


def _(msgid: str) -> str:
    """Translate an interface string into the session's language."""
    lang = st.session_state.get("lang", "en")
    return i18n.translations(lang).gettext(msgid)


def reset() -> None:
    """Forget everything about the current patient in this session."""
    # Only our own keys: widget keys carry the respondent's nonce and are
    # dropped by Streamlit once their widgets are no longer rendered.
    for key in STATE_KEYS:
        st.session_state.pop(key, None)


def style(lang: str | None) -> None:
    """Large type, big touch targets, and the page direction of the language."""
    direction = i18n.direction(lang) if lang else "ltr"
    css = """
<style>
html, body, [data-testid="stAppViewContainer"] { font-size: 22px; }
[data-testid="stMain"] p, [data-testid="stMain"] li { font-size: 1.15rem; }
[data-testid="stMain"] .stButton button { min-height: 64px; width: 100%; font-size: 1.25rem; }
[data-testid="stMain"] .stButton button p { font-size: 1.25rem; }
[data-testid="stMain"] h1, [data-testid="stMain"] h2, [data-testid="stMain"] h3 { text-align: start; }
#MainMenu, [data-testid="stToolbar"], [data-testid="stDecoration"], footer { display: none !important; }
"""
    if direction == "rtl":
        css += '[data-testid="stMain"] { direction: rtl; }\n'
    css += "</style>"
    st.html(css)
    # <html lang dir> for screen readers, fonts and mirroring.
    code = json.dumps(lang or "en")
    st.html(f"<script>document.documentElement.lang={code};"
            f"document.documentElement.dir={json.dumps(direction)};</script>",
            unsafe_allow_javascript=True)


def idle_reload(seconds: int) -> None:
    """Return the browser to ``/`` after ``seconds`` without a touch. A full
    reload starts a new session and clears the browser's widget memory."""
    st.html(
        "<script>(function(){"
        "if(window.__kioskIdle){clearTimeout(window.__kioskIdle.t);}"
        "const ms=" + str(int(seconds) * 1000) + ";"
        "const st={t:null};window.__kioskIdle=st;"
        "const arm=()=>{clearTimeout(st.t);st.t=setTimeout(()=>{window.location.replace('/');},ms);};"
        "if(!window.__kioskIdleBound){window.__kioskIdleBound=true;"
        "['pointerdown','keydown','touchstart'].forEach(e=>document.addEventListener(e,()=>window.__kioskIdle&&window.__kioskIdle.arm(),true));}"
        "st.arm=arm;arm();})();</script>",
        unsafe_allow_javascript=True)


def show_error(exc: KioskError) -> None:
    """The one place a kiosk error becomes patient-facing text: calm, in the
    patient's language, never a stack trace."""
    st.error(_("Sorry, something went wrong and your answers could not be saved. "
               "Please tell the reception staff."))


# ------------------------------------------------------------------ pages

def welcome_page() -> None:
    """Language choice: one big button per offered language, native names."""
    rt = runtime()
    reset()
    style(None)
    if rt.paused:
        st.header("⏸")
        st.write(i18n.translations(rt.survey.site.languages[0]).gettext(
            "This survey is paused. Please ask at the reception."))
        return
    langs = rt.survey.offered_languages()
    greetings = " · ".join(dict.fromkeys(i18n.translations(l).gettext("Welcome") for l in langs))
    st.title(greetings)
    st.write(" · ".join(dict.fromkeys(i18n.translations(l).gettext("Choose your language") for l in langs)))
    for lang in langs:
        if st.button(i18n.native_name(lang), key=f"lang-{lang}", use_container_width=True):
            st.session_state["lang"] = lang
            st.switch_page(CONSENT)


def consent_page() -> None:
    """What is asked, anonymous and voluntary; agree or no thanks."""
    rt = runtime()
    lang = st.session_state.get("lang")
    if lang not in rt.survey.offered_languages():
        st.switch_page(WELCOME)
    style(lang)
    idle_reload(rt.survey.site.idle_timeout)
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
    if st.button(_("I agree, start"), key="consent-yes", type="primary", use_container_width=True):
        st.session_state["respondent"] = Respondent(rt.survey, lang)
        st.switch_page(QUESTION)
    if st.button(_("No thanks"), key="consent-no", use_container_width=True):
        try:
            rt.decline(lang)
        except KioskError:
            pass  # a lost "no thanks" count must never block the welcome screen
        reset()
        st.switch_page(WELCOME)


def _submit(rt: KioskRuntime, r: Respondent) -> None:
    try:
        rt.submit(r, "complete")
    except KioskError as exc:
        st.session_state["store_failed"] = True
        show_error(exc)
        if st.button(_("Try again"), key=f"retry-{r.nonce}", use_container_width=True):
            st.rerun()
        return
    r.submitted = True
    crisis = scoring.crisis_flagged(rt.survey, r.answers)
    reset()
    st.session_state["crisis"] = crisis
    st.session_state["lang"] = r.lang
    st.switch_page(THANKS)


def question_page() -> None:
    """One question a screen with Back and "prefer not to answer"."""
    rt = runtime()
    r: Respondent | None = st.session_state.get("respondent")
    if r is None or r.submitted:
        # Browser Back or a refresh after submitting: never show answers again.
        reset()
        st.switch_page(WELCOME)
        return
    lang = r.lang
    style(lang)
    idle_reload(rt.survey.site.idle_timeout)
    if r.finished:
        _submit(rt, r)
        return
    item = r.current
    assert item is not None
    done, total = r.progress()
    st.progress(min(done / max(total, 1), 1.0),
                text=_("Question {number} of {total}").format(number=done + 1, total=total))
    if item.group_text:
        st.subheader(i18n.text_for(item.group_text, lang))
    st.header(i18n.text_for(item.text, lang))
    if item.hint:
        st.caption(i18n.text_for(item.hint, lang))
    if item.image:
        st.image(item.image)
    if item.audio.get(lang):
        st.audio(item.audio[lang])
    problem = st.session_state.pop("problem", None)
    if problem:
        msgid, args = problem
        st.warning(_(msgid).format(**args))

    def act(result: Any) -> None:
        if result is not None:
            st.session_state["problem"] = result
        st.rerun()

    key = f"{r.nonce}-{item.key}-{len(r.history)}"
    current = r.value(item)
    if item.type in ("single", "scale"):
        for choice in item.choices:
            label = i18n.text_for(choice.label, lang)
            if choice.audio.get(lang):
                st.audio(choice.audio[lang])
            if choice.image:
                st.image(choice.image, width=160)
            chosen = current == choice.code
            if st.button(("✓ " if chosen else "") + label, key=f"{key}-c-{choice.code}",
                         type="primary" if chosen else "secondary", use_container_width=True):
                act(r.answer(choice.code))
    elif item.type == "multiple":
        selected = list(current) if isinstance(current, list) else []
        for choice in item.choices:
            on = choice.code in selected
            label = ("☑ " if on else "☐ ") + i18n.text_for(choice.label, lang)
            if st.button(label, key=f"{key}-m-{choice.code}", type="primary" if on else "secondary",
                         use_container_width=True):
                new = [c for c in selected if c != choice.code] if on else selected + [choice.code]
                r.set_pending(new)
                st.rerun()
        if st.button(_("Next"), key=f"{key}-next", type="primary", use_container_width=True):
            act(r.next())
    elif item.type == "integer":
        value = st.number_input(_("Your answer"), min_value=item.minimum, max_value=item.maximum,
                                value=current if isinstance(current, int) else None, step=1,
                                key=f"{key}-n")
        if st.button(_("Next"), key=f"{key}-next", type="primary", use_container_width=True):
            act(r.answer(int(value)) if value is not None else r.next())
    else:  # note
        if st.button(_("Next"), key=f"{key}-next", type="primary", use_container_width=True):
            act(r.next())
    if item.is_question:
        if st.button(_("Prefer not to answer"), key=f"{key}-pna", use_container_width=True):
            r.prefer_not()
            st.rerun()
    if r.history and st.button(_("Back"), key=f"{key}-back", use_container_width=True):
        r.back()
        st.rerun()


def thanks_page() -> None:
    """Thanks, crisis resources when flagged, then a full reset."""
    rt = runtime()
    lang = st.session_state.get("lang")
    if lang is None:
        st.switch_page(WELCOME)
        return
    style(lang)
    st.title(_("Thank you!"))
    st.write(_("Your answers have been saved and locked. Nobody at the centre can link them to you."))
    if st.session_state.get("crisis"):
        st.warning(_("If you are having thoughts of hurting yourself, you are not alone. Help is available now:"))
        st.markdown(html.escape(rt.survey.site.crisis.get(lang, "")))
    # Back to the welcome screen by a full reload (a new session, empty browser
    # memory) after a few seconds, or at once with the button.
    idle_reload(min(rt.survey.site.idle_timeout, 20 if not st.session_state.get("crisis") else 90))
    if st.button(_("Finish"), key="finish", type="primary", use_container_width=True):
        reset()
        st.html("<script>window.location.replace('/');</script>", unsafe_allow_javascript=True)
        st.switch_page(WELCOME)
