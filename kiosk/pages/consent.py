"""The consent screen (rendering lives in :mod:`kiosk.ui`)."""

from kiosk import ui

ui.consent_page()
