"""The kiosk's shell: what every screen stands on.

The one runtime shared by all sessions (the only ``st.cache_*`` of the
kiosk), the session's interface language, the reset that forgets a patient,
the hidden button the idle timer presses (the timer itself is sent with each
screen's style), the one error view, and the paths of the pages that
:mod:`kiosk.app` registers and the screens switch between. The screens
themselves are in :mod:`kiosk.patient` and :mod:`kiosk.staff`, their styling
in :mod:`kiosk.style`.

Privacy rules applied here:
- answers live in ``st.session_state`` (server memory) only, never in
  ``st.cache_*`` and never logged;
- :func:`reset` drops every key this app keeps in the session, and leaving a
  survey goes through a full reload of ``/`` (a new session, empty widget
  memory in the browser).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from surveycore import i18n
from surveycore.errors import KioskError
from kiosk.config import KioskRuntime, config_path_from_env, load_config
from kiosk.flow import Respondent

# The pages of kiosk.app, as st.switch_page takes them.
WELCOME = "pages/welcome.py"
CONSENT = "pages/consent.py"
QUESTION = "pages/question.py"
THANKS = "pages/thanks.py"
STAFF_LOGIN = "pages/staff_login.py"
STAFF = "pages/staff.py"
STAFF_AUDIO = "pages/staff_audio.py"

# Keys of st.session_state this app uses; reset() removes all of them.
STATE_KEYS = ("lang", "respondent", "crisis", "problem", "store_failed", "confirm_stop", "stop_now", "thanked",
              "staff", "rec_round", "staff_message")


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


def idle_seal_button() -> None:
    """The hidden "kiosk-idle" button of a survey screen: when the idle timer
    (:func:`kiosk.screen.idle_script`, sent with the screen's style) fires,
    it presses this button first so the server can seal the partial
    response; then the page reloads, which starts a new session and clears
    the browser's widget memory."""
    if st.button("idle", key="kiosk-idle"):
        _on_idle()


def _on_idle() -> None:
    rt = runtime()
    r: Respondent | None = st.session_state.get("respondent")
    seal_abandoned(rt, r)
    reset()
    # One full reload to the welcome screen (a new session, empty browser
    # widget memory); the browser's own fallback reload never also fires.
    st.html("<script>window.location.replace('/');</script>", unsafe_allow_javascript=True)
    st.stop()


def seal_abandoned(rt: KioskRuntime, r: Respondent | None) -> None:
    """Seal what a patient who walked away (idle timeout, browser Back out of
    the survey) had answered, when the site keeps partial responses."""
    if r is not None and not r.submitted and rt.survey.site.keep_partial and r.keeps_something():
        try:
            rt.submit(r, "partial")
        except KioskError:
            pass  # the staff area shows the fault; an idle tablet has nobody to tell
        r.submitted = True


def show_error(exc: KioskError) -> None:
    """The one place a kiosk error becomes patient-facing text: calm, in the
    patient's language, never a stack trace. Details go to the staff area."""
    st.error(_("Sorry, something went wrong and your answers could not be saved. "
               "Please tell the reception staff."))


def asset(item_module: str, ref: str) -> str:
    """Images and audio are given relative to their module file."""
    rt = runtime()
    try:
        base = Path(rt.survey.module(item_module).path).parent
    except KeyError:
        return ref
    return str((base / ref).resolve())

