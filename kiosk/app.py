"""Streamlit entry point of the kiosk: builds this session's page list.

Pages are hidden from navigation. The staff page is added to the list only
after the staff PIN was entered in this session, so for patients it is
absent (not just hidden) and its URL leads nowhere.
"""

from __future__ import annotations

import streamlit as st

from kiosk import shell

st.set_page_config(page_title="Kiosk", layout="centered", initial_sidebar_state="collapsed")

# Building a page resolves its file on disk (a stat of every folder on the
# path): a session keeps the pages it built, so a tap does not pay for that
# again. Page objects hold paths and titles only, nothing of a patient.
PAGES_KEY = "kiosk-pages"


def _pages(staff: bool) -> list[st.Page]:
    kept = st.session_state.get(PAGES_KEY)
    if kept is not None and kept[0] == staff:
        return list(kept[1])
    pages = [
        st.Page(shell.WELCOME, title="Welcome", default=True),
        st.Page(shell.CONSENT, title="Consent"),
        st.Page(shell.QUESTION, title="Question"),
        st.Page(shell.THANKS, title="Thanks"),
        st.Page(shell.STAFF_LOGIN, title="PIN", url_path="pin"),
    ]
    if staff:
        pages.append(st.Page(shell.STAFF, title="Staff", url_path="staff"))
        pages.append(st.Page(shell.STAFF_AUDIO, title="Recordings", url_path="recordings"))
    st.session_state[PAGES_KEY] = (staff, tuple(pages))
    return pages


st.navigation(_pages(bool(st.session_state.get("staff"))), position="hidden").run()
