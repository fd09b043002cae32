"""The thanks screen (rendering lives in :mod:`kiosk.patient`)."""

from kiosk import patient

patient.thanks_page()
