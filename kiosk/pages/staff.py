"""The staff screen (rendering lives in :mod:`kiosk.staff`)."""

from kiosk import staff

staff.staff_page()
