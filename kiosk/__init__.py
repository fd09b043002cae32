"""Anonymous, multilingual health-survey kiosk.

The kiosk seals every response with the diagnostic team's public key and can
never read a response back. The pure core modules (questionnaire, logic,
sealing, store, flow) hold all behaviour; ``kiosk/app.py`` and
``kiosk/pages/`` are a thin Streamlit shell around them.
"""

__version__ = "0.1.0"
