"""The welcome screen (rendering lives in :mod:`kiosk.patient`)."""

from kiosk import patient

patient.welcome_page()
