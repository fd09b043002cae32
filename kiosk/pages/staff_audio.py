"""The staff screen for recordings (rendering lives in :mod:`kiosk.staff`)."""

from kiosk import staff

staff.staff_audio_page()
