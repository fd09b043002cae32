"""The answer widgets of the question screen: one renderer per question type.

The kiosk's half of the question-type registry (:mod:`surveycore.types`):
for every type shown on a screen, the function that draws its answer area
and how the navigation bar treats it. Adding a type is one registry entry
plus one :func:`register` call here.

Privacy: every widget is a button, or has the respondent's random nonce in
its key (``area.key``), so no value of a previous patient can be re-sent by
the browser.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import streamlit as st

from surveycore import i18n, types
from surveycore.questionnaire import Item
from kiosk.flow import Respondent


@dataclass(frozen=True)
class AnswerArea:
    """What a widget needs of the screen it is drawn on.

    ``choose(respondent, item_key, value)`` and ``toggle(respondent,
    item_key, code)`` are the screen's button callbacks: the first answers
    and moves on, the second adds or removes a code of a selection in
    progress. Both do nothing when the tap lands on a screen that is no
    longer the current one.
    """

    respondent: Respondent
    item: Item
    key: str
    lang: str
    current: Any
    gettext: Callable[[str], str]
    asset: Callable[[str, str], str]
    choose: Callable[[Respondent, str, Any], None]
    toggle: Callable[[Respondent, str, str], None]


@dataclass(frozen=True)
class Renderer:
    """How one question type is drawn.

    ``taps``: a tap on the widget answers and moves on (no Next button).
    ``read``: given the screen's widget key, the value the Next button
    submits (``None`` when nothing was entered: Next then just moves on);
    without it, Next moves on with what the widget recorded.
    """

    widget: Callable[[AnswerArea], None]
    taps: bool = False
    read: Callable[[str], Any] | None = None


RENDERERS: dict[str, Renderer] = {}


def register(type_name: str, renderer: Renderer) -> Renderer:
    """Add the renderer of a registered question type."""
    if type_name in RENDERERS:
        raise ValueError(f"question type {type_name!r} already has a renderer")
    RENDERERS[type_name] = renderer
    return renderer


@contextmanager
def registered(type_name: str, renderer: Renderer) -> Iterator[Renderer]:
    """Register a renderer for the duration of a ``with`` block."""
    register(type_name, renderer)
    try:
        yield renderer
    finally:
        RENDERERS.pop(type_name, None)


def missing_renderers() -> list[str]:
    """Registered question types shown on a screen (all but containers such
    as groups) that have no renderer here."""
    return [t.name for t in types.all_types() if not t.container and t.name not in RENDERERS]


def renderer_of(item: Item) -> Renderer:
    """The renderer of an item's type."""
    return RENDERERS[item.type]


def _choice_media(area: AnswerArea, choice: Any) -> None:
    picture = choice.images.get(area.lang) or choice.image
    if picture:
        st.image(area.asset(area.item.module, picture), width=160)
    if choice.audio.get(area.lang):
        st.audio(area.asset(area.item.module, choice.audio[area.lang]))


def one_choice(area: AnswerArea) -> None:
    """One big button a choice; a tap answers and moves on."""
    for choice in area.item.choices:
        label = i18n.text_for(choice.label, area.lang)
        _choice_media(area, choice)
        chosen = area.current == choice.code
        st.button(("✓ " if chosen else "") + label, key=f"{area.key}-c-{choice.code}",
                  type="primary" if chosen else "secondary", use_container_width=True,
                  on_click=area.choose, args=(area.respondent, area.item.key, choice.code))


def many_choices(area: AnswerArea) -> None:
    """One toggle button a choice; Next records the selection."""
    selected = list(area.current) if isinstance(area.current, list) else []
    for choice in area.item.choices:
        on = choice.code in selected
        _choice_media(area, choice)
        label = ("☑ " if on else "☐ ") + i18n.text_for(choice.label, area.lang)
        st.button(label, key=f"{area.key}-m-{choice.code}", type="primary" if on else "secondary",
                  use_container_width=True, on_click=area.toggle, args=(area.respondent, area.item.key, choice.code))


def whole_number(area: AnswerArea) -> None:
    """A number field within the item's range; Next submits it."""
    st.number_input(area.gettext("Your answer"), min_value=area.item.minimum, max_value=area.item.maximum,
                    value=area.current if isinstance(area.current, int) else None, step=1, key=f"{area.key}-n")


def _read_number(key: str) -> Any:
    value = st.session_state.get(f"{key}-n")
    return int(value) if value is not None else None


def no_answer(area: AnswerArea) -> None:
    """Nothing to answer (a note; free text has no widget on the kiosk)."""


register("single", Renderer(one_choice, taps=True))
register("scale", Renderer(one_choice, taps=True))
register("multiple", Renderer(many_choices))
register("integer", Renderer(whole_number, read=_read_number))
register("text", Renderer(no_answer))
register("note", Renderer(no_answer))
