"""The answer widgets of a question (one branch per question type) and the
callbacks their taps call. :mod:`kiosk.patient`'s question screen renders
them inside its screen container, above its navigation bar.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from surveycore import i18n
from kiosk import screen
from kiosk.flow import Respondent
# The names the widgets below were written with.
from kiosk.shell import _, asset as _asset

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


def _answer_cb(r: Respondent, item_key: str, code: str) -> None:
    if _on(r, item_key):
        _problem(r.answer(code))


def _toggle_cb(r: Respondent, item_key: str, code: str) -> None:
    if _on(r, item_key):
        current = r.value()
        selected = list(current) if isinstance(current, list) else []
        r.set_pending([c for c in selected if c != code] if code in selected else selected + [code])


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

    current = r.value(item)
    if item.type in ("single", "scale"):
        for choice in item.choices:
            label = i18n.text_for(choice.label, lang)
            if choice.images.get(lang) or choice.image:
                st.image(_asset(item.module, choice.images.get(lang) or choice.image), width=160)
            if choice.audio.get(lang):
                st.audio(_asset(item.module, choice.audio[lang]))
            chosen = current == choice.code
            st.button(("✓ " if chosen else "") + label, key=f"{key}-c-{choice.code}",
                      type="primary" if chosen else "secondary", use_container_width=True,
                      on_click=_answer_cb, args=(r, item.key, choice.code))
    elif item.type == "multiple":
        selected = list(current) if isinstance(current, list) else []
        for choice in item.choices:
            on = choice.code in selected
            if choice.images.get(lang) or choice.image:
                st.image(_asset(item.module, choice.images.get(lang) or choice.image), width=160)
            if choice.audio.get(lang):
                st.audio(_asset(item.module, choice.audio[lang]))
            label = ("☑ " if on else "☐ ") + i18n.text_for(choice.label, lang)
            st.button(label, key=f"{key}-m-{choice.code}", type="primary" if on else "secondary",
                      use_container_width=True, on_click=_toggle_cb, args=(r, item.key, choice.code))
    elif item.type == "integer":
        st.number_input(_("Your answer"), min_value=item.minimum, max_value=item.maximum,
                        value=current if isinstance(current, int) else None, step=1, key=f"{key}-n")

