"""The welcome screen (rendering lives in :mod:`kiosk.ui`)."""

from kiosk import ui

ui.welcome_page()
