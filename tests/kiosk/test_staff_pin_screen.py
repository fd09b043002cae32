"""The staff PIN screen: patients who tap the staff dot and "Unlock" with
no PIN never lock the staff out; a locked door says so once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.driver import click, start
from tests.support.surveys import PIN, flow_kiosk, staff_login  # noqa: F401 (fixture)


def _unlock(at, pin: str):
    at.text_input(key="staff-pin").input(pin)
    at.button[0].click()  # the form's submit button
    at.run()
    assert not at.exception
    return [e.value for e in at.error]


def test_empty_pins_never_lock_the_door(monkeypatch, flow_kiosk: Path) -> None:
    at = start(monkeypatch, flow_kiosk)
    click(at, "staff-door")
    for _ in range(8):
        assert _unlock(at, "") == []
    assert _unlock(at, PIN) == []
    assert at.session_state["staff"] is True


@pytest.mark.slow
def test_a_locked_door_shows_one_message(monkeypatch, flow_kiosk: Path) -> None:
    at = staff_login(monkeypatch, flow_kiosk, "000000")
    for _ in range(4):
        _unlock(at, "111111")
    lock = "Too many wrong PINs. Try again in 5 minutes."
    assert _unlock(at, "222222") == [lock]
    assert _unlock(at, PIN) == [lock]  # still locked: one message, not two
    at = start(monkeypatch, flow_kiosk)
    click(at, "staff-door")
    assert [e.value for e in at.error] == [lock]
