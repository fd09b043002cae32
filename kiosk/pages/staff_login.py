"""The staff login screen (rendering lives in :mod:`kiosk.staff`)."""

from kiosk import staff

staff.staff_login_page()
