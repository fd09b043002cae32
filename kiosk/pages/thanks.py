"""The thanks screen (rendering lives in :mod:`kiosk.ui`)."""

from kiosk import ui

ui.thanks_page()
