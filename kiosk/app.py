"""Streamlit entry point of the kiosk: builds this session's page list.

Pages are hidden from navigation. The staff page is added to the list only
after the staff PIN was entered in this session, so for patients it is
absent (not just hidden) and its URL leads nowhere.
"""

from __future__ import annotations

import streamlit as st

from kiosk import shell

st.set_page_config(page_title="Kiosk", layout="centered", initial_sidebar_state="collapsed")

pages = [
    st.Page(shell.WELCOME, title="Welcome", default=True),
    st.Page(shell.CONSENT, title="Consent"),
    st.Page(shell.QUESTION, title="Question"),
    st.Page(shell.THANKS, title="Thanks"),
    st.Page(shell.STAFF_LOGIN, title="PIN", url_path="pin"),
]
if st.session_state.get("staff"):
    pages.append(st.Page(shell.STAFF, title="Staff", url_path="staff"))
    pages.append(st.Page(shell.STAFF_AUDIO, title="Recordings", url_path="recordings"))
st.navigation(pages, position="hidden").run()
