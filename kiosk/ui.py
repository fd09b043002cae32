"""The answer widgets of a question (one branch per question type) and the
callbacks their taps call. :mod:`kiosk.patient`'s question screen renders
them inside its screen container, above its navigation bar.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from surveycore import i18n
from kiosk import answers, screen
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


def _answer_cb(r: Respondent, item_key: str, code: Any) -> None:
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

    # The answer area is the item type's renderer (kiosk.answers).
    answers.renderer_of(item).widget(answers.AnswerArea(r, item, key, lang, r.value(item), _, _asset,
                                                        _answer_cb, _toggle_cb))

