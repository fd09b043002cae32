"""Streamlit entry point of the kiosk: builds this session's page list.

Pages are hidden from navigation; staff pages are added to the list only
after the staff PIN is entered in this session, so they are absent (not just
hidden) for patients.
"""

from __future__ import annotations

import streamlit as st

from kiosk import ui

st.set_page_config(page_title="Kiosk", layout="centered", initial_sidebar_state="collapsed")

pages = [
    st.Page(ui.WELCOME, title="Welcome", default=True),
    st.Page(ui.CONSENT, title="Consent"),
    st.Page(ui.QUESTION, title="Question"),
    st.Page(ui.THANKS, title="Thanks"),
]
st.navigation(pages, position="hidden").run()
