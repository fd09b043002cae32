"""The staff's screens: the PIN door, the staff area (counts, never
answers; versions, fingerprints, languages; export, pause, test mode) and
the recordings screen.

The staff pages join a session's page list (:mod:`kiosk.app`) only after a
correct PIN (:mod:`kiosk.pin`), so for patients they are absent, not just
hidden. Staff screens speak the site's first language, or the staff's own
choice.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from surveycore import i18n
from surveycore.errors import KioskError, StoreError
from surveycore.keys import device_id
from kiosk import screen
from kiosk.config import KioskRuntime
from kiosk.pin import MAX_FAILURES, PinGate
from kiosk.shell import STAFF, STAFF_AUDIO, WELCOME, asset, reset, runtime
from kiosk.style import style


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
    style(None, rt.survey.site.idle_timeout)
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
    # The tablet's number pad for the PIN field: set in the browser by the
    # screen script of style() (screen.NUMERIC_KEYS), on every render.
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
    # Auto-logout: the idle reload starts a session whose page list has no
    # staff page.
    style(None, rt.survey.site.idle_timeout)
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
        st.error(t("Last storage error: {error}").format(error=rt.last_error.user_text()))
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
            st.error(StoreError(f"cannot write to {str(out_dir)!r}: {exc.strerror}", code="S-020").user_text())
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
        st.audio(asset(item.module, current))
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

