"""The staff screen for recordings (rendering lives in :mod:`kiosk.ui`)."""

from kiosk import ui

ui.staff_audio_page()
