"""The consent screen (rendering lives in :mod:`kiosk.patient`)."""

from kiosk import patient

patient.consent_page()
