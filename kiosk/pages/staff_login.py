"""The staff login screen (rendering lives in :mod:`kiosk.ui`)."""

from kiosk import ui

ui.staff_login_page()
