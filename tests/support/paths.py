"""Where things are, for every test whatever its folder."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
QUESTIONNAIRES = REPO / "questionnaires"
LOCALES = REPO / "locales"
ARTIFACTS = REPO / "test-artifacts"
