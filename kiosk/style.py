"""Styling of the kiosk's screens: large type and touch targets, the page
direction of the language (right-to-left mirroring), Streamlit's own chrome
hidden or covered in the patient's language, the browser-side touch guard
and the idle timer. The CSS and JavaScript texts of the screens' layout are in
:mod:`kiosk.screen`; the fonts for scripts that need one are served by the
Streamlit configuration (:mod:`kiosk.server`).
"""

from __future__ import annotations

import json
from functools import lru_cache

import streamlit as st

from surveycore import i18n
from kiosk import screen


def style(lang: str | None, idle_seconds: int | None) -> None:
    """Large type, big touch targets, the page direction of the language,
    and the idle timer (``idle_seconds`` without a touch return the tablet to
    the welcome screen; ``None`` disarms it)."""
    css, script = _texts(lang, idle_seconds)
    st.html(css)
    # <html lang dir> for screen readers, fonts and mirroring; Streamlit's own
    # dialogs closed at once (hidden but open, they would make the page inert);
    # the touch guard; the idle timer. One element: every tap sends it.
    st.html(script, unsafe_allow_javascript=True)


@lru_cache(maxsize=256)
def _texts(lang: str | None, idle_seconds: int | None) -> tuple[str, str]:
    # Every screen of every tap sends these: composed once per language.
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
    script = (f"<script>document.documentElement.lang={json.dumps(lang or 'en')};"
              f"document.documentElement.dir={json.dumps(direction)};{i18n.chrome_script()}"
              f"{screen.guard_script()}{screen.idle_script(idle_seconds)}</script>")
    return css, script

