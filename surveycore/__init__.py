"""The contract the kiosk and the analysis share.

Questionnaire model, loader and logic; the response body schema; the
envelope, bundle and receipt formats; public key formats; reference scoring;
interface translations; the error hierarchy and the registry of its codes. ``kiosk`` (sealing, outbox,
Streamlit shell) and ``analysis`` (opening, dataset, tables, disclosure,
outputs) both depend on this package and never on each other. Nothing here
imports Streamlit, holds a private key or decrypts (tests enforce it).
"""
