"""The question screen (rendering lives in :mod:`kiosk.patient`)."""

from kiosk import patient

patient.question_page()
