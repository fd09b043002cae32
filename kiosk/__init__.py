"""Anonymous, multilingual health-survey kiosk.

The kiosk seals every response with the diagnostic team's public key and can
never read a response back. The formats and the questionnaire model it shares
with the analysis live in ``surveycore``; here, the pure modules (flow,
sealing, store, keys) hold the kiosk's behaviour, and ``kiosk/app.py`` and
``kiosk/pages/`` are a thin Streamlit shell around them.
"""

__version__ = "0.1.0"
