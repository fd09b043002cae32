"""Drive the kiosk app in AppTest like a patient would."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "kiosk" / "app.py")


def start(monkeypatch, config: Path) -> AppTest:
    """A fresh session on the welcome screen."""
    monkeypatch.setenv("KIOSK_CONFIG", str(config))
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    return at


def click(at: AppTest, key: str) -> AppTest:
    """Tap the button with this key (or whose key ends with it)."""
    matches = [b for b in at.button if b.key == key or (b.key or "").endswith(key)]
    assert len(matches) == 1, f"button {key!r} not found among {[b.key for b in at.button]}"
    matches[0].click().run()
    assert not at.exception, at.exception
    return at


def choose(at: AppTest, code: str) -> AppTest:
    """Tap the answer button of a choice code on the current question."""
    return click(at, f"-c-{code}")


def labels(at: AppTest) -> list[str]:
    """Visible button labels (the discreet staff door excluded)."""
    return [b.label for b in at.button if b.key not in ("staff-door", "kiosk-idle")]


def headers(at: AppTest) -> list[str]:
    return [h.value for h in at.header]
