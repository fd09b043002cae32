"""Screens of the kiosk. Each page file in ``kiosk/pages/`` calls one
function here; these functions only render and call the pure core
(:mod:`kiosk.flow`, :class:`kiosk.config.KioskRuntime`, :mod:`kiosk.pin`).

Privacy rules applied here:
- answers live in ``st.session_state`` (server memory) only, never in
  ``st.cache_*`` and never logged;
- every answer widget is a button or has the respondent's random nonce in its
  key, so no value of a previous patient can be re-sent by the browser;
- after a response is sealed the respondent is dropped from the session and
  the browser is sent back to ``/`` (a new session, empty widget memory).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Callable

import streamlit as st

from surveycore import i18n, scoring
from surveycore.errors import KioskError
from surveycore.keys import device_id
from surveycore.response import PREFER_NOT
from kiosk import answers, screen
from kiosk.config import KioskRuntime, config_path_from_env, load_config
from kiosk.flow import Respondent
from kiosk.pin import MAX_FAILURES, PinGate

WELCOME = "pages/welcome.py"
CONSENT = "pages/consent.py"
QUESTION = "pages/question.py"
THANKS = "pages/thanks.py"
STAFF_LOGIN = "pages/staff_login.py"
STAFF = "pages/staff.py"
STAFF_AUDIO = "pages/staff_audio.py"

# Keys of st.session_state this app uses; reset() removes all of them.
STATE_KEYS = ("lang", "respondent", "crisis", "problem", "store_failed", "confirm_stop", "staff", "rec_round",
              "staff_message")
THANKS_SECONDS = 20


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
[data-testid="stMain"] audio { width: 100%; height: 64px; }
[data-testid="stMain"] h1, [data-testid="stMain"] h2, [data-testid="stMain"] h3 { text-align: start; }
#MainMenu, [data-testid="stToolbar"], [data-testid="stDecoration"], footer { display: none !important; }
.st-key-kiosk-idle { display: none !important; }
.st-key-staff-door button { min-height: 48px !important; width: 48px !important; border: none !important;
  background: transparent !important; color: #ddd !important; }
"""
    if direction == "rtl":
        css += screen.rtl_css()
    # Streamlit's own English texts: hidden, or covered in the patient's language.
    css += screen.layout_css()
    css += i18n.chrome_css(lang) + "</style>"
    st.html(css)
    # <html lang dir> for screen readers, fonts and mirroring; Streamlit's own
    # dialogs closed at once (hidden but open, they would make the page inert).
    st.html(f"<script>document.documentElement.lang={json.dumps(lang or 'en')};"
            f"document.documentElement.dir={json.dumps(direction)};{i18n.chrome_script()}"
            f"{screen.guard_script()}</script>",
            unsafe_allow_javascript=True)


def idle_timer(seconds: int, seal_partial: bool = False) -> None:
    """After ``seconds`` without a touch, return the browser to ``/``.

    With ``seal_partial`` the hidden "kiosk-idle" button is pressed first so
    the server can seal the partial response; then the page reloads, which
    starts a new session and clears the browser's widget memory.
    """
    if seal_partial:
        if st.button("idle", key="kiosk-idle"):
            _on_idle()
    st.html(
        "<script>(function(){"
        "const w=window; if(w.__kioskIdle){clearTimeout(w.__kioskIdle.t);}"
        f"const ms={int(seconds) * 1000};"
        "const s={t:null}; w.__kioskIdle=s;"
        "const fire=()=>{const b=document.querySelector('.st-key-kiosk-idle button');"
        "if(b){b.click(); setTimeout(()=>w.location.replace('/'),5000);} else {w.location.replace('/');}};"
        "s.arm=()=>{clearTimeout(s.t); s.t=setTimeout(fire, ms);};"
        "if(!w.__kioskIdleBound){w.__kioskIdleBound=true;"
        "['pointerdown','keydown','touchstart'].forEach(e=>document.addEventListener(e,"
        "()=>{if(w.__kioskIdle){w.__kioskIdle.arm();}},true));}"
        "s.arm();"
        # After a server restart this browser holds a page of a session the
        # server no longer knows: as soon as the server answers again, start
        # afresh from the welcome screen.
        "if(!w.__kioskWatch){let down=false;w.__kioskWatch=setInterval(()=>{"
        "fetch('/_stcore/health',{cache:'no-store'}).then(r=>{if(r.ok&&down){w.location.replace('/');}"
        "else if(!r.ok){down=true;}}).catch(()=>{down=true;});},1000);}"
        "})();</script>",
        unsafe_allow_javascript=True)


def no_idle_timer() -> None:
    """Disarm the idle timer (the welcome screen has nothing to clear)."""
    st.html("<script>if(window.__kioskIdle){clearTimeout(window.__kioskIdle.t);window.__kioskIdle=null;}"
            "</script>", unsafe_allow_javascript=True)


def _on_idle() -> None:
    rt = runtime()
    r: Respondent | None = st.session_state.get("respondent")
    _seal_abandoned(rt, r)
    reset()
    # One full reload to the welcome screen (a new session, empty browser
    # widget memory); the browser's own fallback reload never also fires.
    st.html("<script>window.location.replace('/');</script>", unsafe_allow_javascript=True)
    st.stop()


def _seal_abandoned(rt: KioskRuntime, r: Respondent | None) -> None:
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


def _asset(item_module: str, ref: str) -> str:
    """Images and audio are given relative to their module file."""
    rt = runtime()
    try:
        base = Path(rt.survey.module(item_module).path).parent
    except KeyError:
        return ref
    return str((base / ref).resolve())


# ------------------------------------------------------------------ pages

def welcome_page() -> None:
    """Language choice: one big button per offered language, native names."""
    rt = runtime()
    # Reached mid-survey only by the browser's Back: what was answered is kept.
    _seal_abandoned(rt, st.session_state.get("respondent"))
    reset()
    style(None)
    no_idle_timer()
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
    if st.session_state.get("respondent") is not None:
        # The browser's Back out of the survey: keep what was answered, then
        # start afresh from the welcome screen.
        _seal_abandoned(rt, st.session_state.get("respondent"))
        reset()
        st.switch_page(WELCOME)
        return
    if lang not in rt.survey.offered_languages() or rt.out_of_service:
        reset()
        st.switch_page(WELCOME)
        return
    style(lang)
    idle_timer(rt.survey.site.idle_timeout)
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


def _submit(rt: KioskRuntime, r: Respondent, status: str) -> None:
    """Seal and store; thank the patient only after the commit."""
    try:
        rt.submit(r, status)
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
    """One question a screen with Back, "prefer not to answer" and Stop."""
    rt = runtime()
    r: Respondent | None = st.session_state.get("respondent")
    if r is None or r.submitted:
        # Browser Back or a refresh after submitting: never show answers again.
        reset()
        st.switch_page(WELCOME)
        return
    lang = r.lang
    style(lang)
    idle_timer(rt.survey.site.idle_timeout, seal_partial=True)
    if r.finished:
        _submit(rt, r, "complete")
        return
    if st.session_state.get("confirm_stop"):
        _confirm_stop(rt, r)
        return
    item = r.current
    assert item is not None
    key = f"{r.nonce}-{item.key}-{len(r.history)}"
    with st.container(key=screen.screen_key(r.nonce, len(r.history), r.pos)):
        _question(r, item, key, lang)
    _navigation(r, item, key)


# Taps act in widget callbacks, which Streamlit runs before the script: one
# run per tap paints the next screen (st.rerun() after acting would run the
# whole page twice). Each callback first checks that the screen it belongs
# to is still the current one, so a late tap on an old screen does nothing.

def _problem(result: Any) -> None:
    if result is not None:
        st.session_state["problem"] = result


def _on(r: Respondent, item_key: str) -> bool:
    return not r.submitted and r.current is not None and r.current.key == item_key \
        and not st.session_state.get("confirm_stop")


def _answer_cb(r: Respondent, item_key: str, code: Any) -> None:
    if _on(r, item_key):
        _problem(r.answer(code))


def _toggle_cb(r: Respondent, item_key: str, code: str) -> None:
    if _on(r, item_key):
        current = r.value()
        selected = list(current) if isinstance(current, list) else []
        r.set_pending([c for c in selected if c != code] if code in selected else selected + [code])


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


def _question(r: Respondent, item: Any, key: str, lang: str) -> None:
    """The question area: progress, texts, media, answers."""
    done, total = r.progress()
    st.progress(min(done / max(total, 1), 1.0),
                text=_("Question {number} of {total}").format(number=screen.numerals(done + 1, lang),
                                                              total=screen.numerals(total, lang)))
    if item.group_text:
        st.subheader(i18n.text_for(item.group_text, lang))
    st.header(i18n.text_for(item.text, lang))
    if item.hint:
        st.caption(i18n.text_for(item.hint, lang))
    picture = item.images.get(lang) or item.image
    if picture:
        st.image(_asset(item.module, picture))
    if item.audio.get(lang):
        st.audio(_asset(item.module, item.audio[lang]))
    problem = st.session_state.pop("problem", None)
    if problem:
        msgid, args = problem
        st.warning(_(msgid).format(**args))

    # The answer area is the item type's renderer (kiosk.answers).
    answers.renderer_of(item).widget(answers.AnswerArea(r, item, key, lang, r.value(item), _, _asset,
                                                        _answer_cb, _toggle_cb))


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
        if first:
            for name, col in zip(first, st.columns(len(first))):
                with col:
                    if name == "next":
                        st.button(_("Next"), key=f"{key}-next", type="primary", use_container_width=True,
                                  on_click=_next_cb,
                                  args=(r, item.key, renderer.read, key))
                    else:
                        refused = current is PREFER_NOT
                        st.button(("✓ " if refused else "") + _("Prefer not to answer"), key=f"{key}-pna",
                                  type="primary" if refused else "secondary", use_container_width=True,
                                  on_click=_prefer_not_cb, args=(r, item.key))
        back, stop = st.columns(2)
        with back:
            if r.history:
                st.button(_("Back"), key=f"{key}-back", use_container_width=True, on_click=_back_cb,
                          args=(r, item.key))
        with stop:
            st.button(_("Stop the survey"), key=f"{key}-stop", use_container_width=True, on_click=_stop_cb,
                      args=(r, item.key))


def _confirm_stop(rt: KioskRuntime, r: Respondent) -> None:
    with st.container(key=screen.screen_key(r.nonce, "stop")):
        st.header(_("Stop the survey?"))
    keep = rt.survey.site.keep_partial and r.keeps_something()
    st.write(_("The answers you gave so far will be kept, locked like the others.") if keep
             else _("Nothing will be kept."))
    if st.button(_("Yes, stop"), key=f"{r.nonce}-stop-yes", type="primary", use_container_width=True):
        st.session_state.pop("confirm_stop", None)
        if keep:
            _submit(rt, r, "partial")
        else:
            lang = r.lang
            reset()
            st.session_state["lang"] = lang
            st.session_state["crisis"] = False
            st.switch_page(THANKS)
        return
    st.button(_("No, continue"), key=f"{r.nonce}-stop-no", use_container_width=True,
              on_click=lambda: st.session_state.pop("confirm_stop", None))


def thanks_page() -> None:
    """Thanks, crisis resources when flagged, then a full reset."""
    rt = runtime()
    lang = st.session_state.get("lang")
    if lang is None:
        st.switch_page(WELCOME)
        return
    style(lang)
    with st.container(key=screen.screen_key("thanks")):
        st.title(_("Thank you!"))
    st.write(_("Your answers have been saved and locked. Nobody at the centre can link them to you."))
    crisis = bool(st.session_state.get("crisis"))
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
    # Back to the welcome screen by a full reload (a new session, empty browser
    # memory) after a few seconds, or at once with the button.
    idle_timer(rt.survey.site.idle_timeout if crisis else min(THANKS_SECONDS, rt.survey.site.idle_timeout))
    if st.button(_("Finish"), key="finish", type="primary", use_container_width=True):
        reset()
        st.html("<script>window.location.replace('/');</script>", unsafe_allow_javascript=True)
        st.switch_page(WELCOME)


# ------------------------------------------------------------------ staff

def _staff_text(msgid: str) -> str:
    lang = st.session_state.get("staff_lang") or runtime().survey.site.languages[0]
    return i18n.translations(lang).gettext(msgid)


def _staff_ntext(singular: str, plural: str, n: int) -> str:
    lang = st.session_state.get("staff_lang") or runtime().survey.site.languages[0]
    return i18n.translations(lang).ngettext(singular, plural, n)


def staff_login_page() -> None:
    """The PIN screen. Staff pages join this session's page list only after
    a correct PIN; five wrong PINs lock the door for a while."""
    rt = runtime()
    t = _staff_text
    style(None)
    idle_timer(rt.survey.site.idle_timeout)
    with st.container(key=screen.screen_key("pin")):
        st.title(t("Staff area"))
    gate = PinGate(rt.config.pin_file)

    def lockout(seconds: int) -> str:
        minutes = (seconds + 59) // 60
        return _staff_ntext("Too many wrong PINs. Try again in {minutes} minute.",
                            "Too many wrong PINs. Try again in {minutes} minutes.", minutes).format(minutes=minutes)

    slot = st.empty()  # one message at most, above the PIN
    with st.form("pin-form", clear_on_submit=True):
        pin = st.text_input(t("PIN"), type="password", key="staff-pin", max_chars=12)
        submitted = st.form_submit_button(t("Unlock"))
    # The tablet's numeric keypad for the PIN field.
    st.html("<script>(function(){let n=0;const s=()=>{const i=document.querySelector('.st-key-staff-pin input');"
            "if(i){i.setAttribute('inputmode','numeric');i.setAttribute('pattern','[0-9]*');"
            "i.setAttribute('autocomplete','off');}else if(n++<50){setTimeout(s,100);}};s();})();</script>",
            unsafe_allow_javascript=True)
    message = None
    # An empty PIN (a patient who tapped the staff dot, then Unlock) is no
    # attempt: it never counts towards the lockout.
    if submitted and pin.strip():
        result = gate.attempt(pin.strip())
        if result.ok:
            st.session_state["staff"] = True
            st.rerun()  # the app rebuilds the page list with the staff page
        elif not result.configured:
            message = t("No staff PIN is set. Set one with 'kiosk set-pin'.")
        elif result.locked_for:
            message = lockout(result.locked_for)
        else:
            left = MAX_FAILURES - result.failures
            message = _staff_ntext("Wrong PIN ({left} try left).", "Wrong PIN ({left} tries left).", left).format(
                left=left)
    elif gate.locked_for():
        message = lockout(gate.locked_for())
    if message:
        slot.error(message)
    if st.button(t("Back to the survey"), key="staff-back"):
        reset()
        st.switch_page(WELCOME)
    if st.session_state.get("staff"):
        st.switch_page(STAFF)


def _staff_header(rt: KioskRuntime, title: str) -> bool:
    """Open a staff screen: back to the welcome screen without the PIN
    (False), else the styling, the idle timer, the title and the message
    left by the previous action (True)."""
    if not st.session_state.get("staff"):
        st.switch_page(WELCOME)
        return False
    style(None)
    # Auto-logout: the reload starts a session whose page list has no staff page.
    idle_timer(rt.survey.site.idle_timeout)
    st.title(title)
    message = st.session_state.pop("staff_message", None)
    if message:
        st.success(message)
    return True


def staff_page() -> None:
    """Counts (never answers), versions, fingerprints, and the staff actions."""
    rt = runtime()
    t = _staff_text
    if not _staff_header(rt, t("Staff area")):
        return
    if rt.last_error:
        st.error(t("Last storage error: {error}").format(error=rt.last_error))
    storage = rt.storage()
    if storage.level == "full":
        st.error(t("Storage full: the kiosk takes no more responses. Export a bundle, hand it to the team "
                   "and confirm its receipt."))
    elif storage.level == "low":
        st.warning(t("Storage almost full: room for about {n} more responses. Export a bundle, hand it to "
                     "the team and confirm its receipt.").format(n=storage.room_responses))
    free = rt.disk_free()
    facts = {
        t("Responses stored"): str(rt.outbox.count()),
        t("Free disk space"): f"{free // 2**20} MiB",
        t("Last export"): rt.outbox.meta("last_export") or t("never"),
        t("Team key fingerprint"): rt.public_key.fingerprint,
        t("Device fingerprint"): device_id(rt.device_key.public_key()),
        t("Survey"): f"{rt.survey.id} {rt.survey.version}",
        t("Status"): t("paused") if rt.paused else t("running"),
        t("Test mode"): t("on") if rt.test_mode else t("off"),
    }
    st.table({t("Item"): list(facts), t("Value"): list(facts.values())})
    st.subheader(t("Modules"))
    st.table({"id": [m.id for m in rt.survey.modules], "version": [m.version for m in rt.survey.modules],
              "hash": [m.hash for m in rt.survey.modules]})
    st.subheader(t("Languages"))
    offered = rt.survey.offered_languages()
    # What the centre offers: a draft is a translation no native speaker
    # has reviewed yet, and the staff should know it.
    states = {"validated": t("validated"), "draft": t("draft (not reviewed yet)"), "missing": t("missing")}
    rows = []
    for lang in rt.survey.site.languages:
        status = rt.survey.language_status(lang)
        if lang in offered:
            why = t("offered, as a draft translation") if status == "draft" else t("offered")
        elif status == "draft":
            why = t("not offered: some modules have only a draft translation")
        else:
            missing = [m.id for m in rt.survey.modules if lang not in m.languages]
            why = t("not offered: missing in {modules}").format(modules=", ".join(missing))
        rows.append((lang, i18n.native_name(lang), states[status], why))
    st.table({t("Code"): [r[0] for r in rows], t("Name"): [r[1] for r in rows],
              t("Translation"): [r[2] for r in rows], t("On the kiosk"): [r[3] for r in rows]})
    st.subheader(t("Actions"))
    if st.button(t("Export a bundle"), key="staff-export"):
        from kiosk.definitions import outbox_block
        out_dir = rt.config.data_dir / "exports"
        name = f"{rt.survey.site.centre}-{dt.date.today().isoformat()}-{len(list(out_dir.glob('*.hkb'))) + 1}.hkb"
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            # Bundle and bookkeeping as one unit: a failed export leaves neither.
            n = rt.outbox.export_bundle(out_dir / name,
                                         definitions=outbox_block(rt.outbox, rt.device_key))
        except KioskError as exc:
            st.error(exc.user_text())  # staff see the coded error; nothing was recorded
        except OSError as exc:
            st.error(f"[S-020] cannot write to {str(out_dir)!r}: {exc.strerror}")
        else:
            st.session_state["staff_message"] = _staff_ntext(
                "Exported {n} envelope to {path}", "Exported {n} envelopes to {path}", n).format(
                n=n, path=str(out_dir / name))
            st.rerun()
    if st.button(t("Resume the kiosk") if rt.paused else t("Pause the kiosk (out of service)"),
                 key="staff-pause"):
        rt.paused = not rt.paused
        st.rerun()
    if st.button(t("Turn test mode off") if rt.test_mode else t("Turn test mode on"), key="staff-test"):
        rt.test_mode = not rt.test_mode
        st.rerun()
    if st.button(t("Record audio"), key="staff-audio"):
        st.switch_page(STAFF_AUDIO)
    if st.button(t("Log out"), key="staff-logout"):
        reset()
        st.html("<script>window.location.replace('/');</script>", unsafe_allow_javascript=True)
        st.switch_page(WELCOME)


def staff_audio_page() -> None:
    """Recordings for patients who read little: the mediator picks a text,
    records it read aloud, listens, confirms, and saves it with the module
    (:mod:`kiosk.recording`). Nothing of a patient is ever recorded here."""
    from surveycore.questionnaire import load_survey
    from kiosk.recording import save_recording
    rt = runtime()
    t = _staff_text
    if not _staff_header(rt, t("Recordings")):
        return
    st.write(t("Read the text aloud, then listen to the recording before saving it. Recordings are saved "
               "with the questionnaire, never with the answers of patients."))
    langs = rt.survey.offered_languages()
    lang = st.selectbox(t("Language"), langs, format_func=lambda c: f"{i18n.native_name(c)} ({c})",
                        key="rec-lang")
    module = rt.survey.module(st.selectbox(t("Module"), [m.id for m in rt.survey.modules],
                                           format_func=lambda m: i18n.text_for(rt.survey.module(m).title, lang)
                                           or m, key="rec-module"))
    items = [it for it in module.items if it.text]
    item = module.item(st.selectbox(t("Question"), [it.id for it in items],
                                    format_func=lambda i: i18n.text_for(module.item(i).text, lang),
                                    key=f"rec-item-{module.id}"))
    codes: list[str | None] = [None] + [c.code for c in item.choices]
    labels = {c.code: i18n.text_for(c.label, lang) for c in item.choices}
    code = st.selectbox(t("Text to record"), codes,
                        format_func=lambda c: i18n.text_for(item.text, lang) if c is None else labels[c],
                        key=f"rec-code-{module.id}-{item.id}")
    text = i18n.text_for(item.text, lang) if code is None else labels[code]
    st.markdown(f"<div dir='{i18n.direction(lang)}' lang='{lang}' style='font-size:1.6rem'>"
                f"{st_escape(text)}</div>", unsafe_allow_html=True)
    current = item.audio.get(lang) if code is None else next(
        (c.audio.get(lang) for c in item.choices if c.code == code), None)
    if current:
        st.caption(t("Current recording"))
        st.audio(_asset(item.module, current))
    # A new key after each save empties the recorder.
    n = st.session_state.setdefault("rec_round", 0)
    recorded = st.audio_input(t("Record"), key=f"rec-{n}-{lang}-{module.id}-{item.id}-{code}")
    if recorded is not None:
        heard = st.checkbox(t("I listened to it: it says exactly this text."), key=f"rec-ok-{n}")
        if st.button(t("Save the recording"), key="rec-save", disabled=not heard, type="primary"):
            try:
                save_recording(module.path, lang, item.id, code, recorded.getvalue())
                # Sessions that start now read the module with its recording.
                rt.survey = load_survey(rt.config.survey, list(rt.config.module_dirs))
            except KioskError as exc:
                st.error(exc.user_text())
            else:
                st.session_state["rec_round"] = n + 1
                st.session_state["staff_message"] = t("Recording saved.")
                st.rerun()
    if st.button(t("Back to the staff area"), key="rec-back"):
        st.switch_page(STAFF)


def st_escape(text: str) -> str:
    """Text for HTML: the module's wording shown as it is, never as markup."""
    import html
    return html.escape(text)

