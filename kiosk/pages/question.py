"""The question screen (rendering lives in :mod:`kiosk.ui`)."""

from kiosk import ui

ui.question_page()
