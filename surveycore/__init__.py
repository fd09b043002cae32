"""The contract shared by the kiosk and the analysis: formats, models and the error code registry."""
