"""The staff PIN: scrypt hash on disk, constant-time comparison, lockout.

The PIN file holds only a salted scrypt hash. After :data:`MAX_FAILURES`
wrong PINs in a row the staff area locks for :data:`LOCKOUT_SECONDS`; the
failure count is kept in a small state file next to the hash so a restart
does not reset it.
"""

from __future__ import annotations

import base64
import hmac
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from surveycore.errors import ConfigError

MAX_FAILURES = 5
LOCKOUT_SECONDS = 300
MIN_PIN_LENGTH = 6
_N, _R, _P = 2 ** 14, 8, 1


def _hash(pin: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=_N, r=_R, p=_P).derive(pin.encode("utf-8"))


def set_pin(path: str | Path, pin: str) -> None:
    """Store a new staff PIN (digits, at least :data:`MIN_PIN_LENGTH`)."""
    if not pin.isdigit() or len(pin) < MIN_PIN_LENGTH:
        raise ConfigError(f"the staff PIN must be at least {MIN_PIN_LENGTH} digits", code="PIN-001")
    salt = os.urandom(16)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"kdf": "scrypt", "n": _N, "r": _R, "p": _P, "salt": base64.b64encode(salt).decode(),
                   "hash": base64.b64encode(_hash(pin, salt)).decode()}, fh)
    tmp.replace(p)
    _state_path(p).unlink(missing_ok=True)


def _state_path(path: Path) -> Path:
    return path.with_name(path.name + ".state")


@dataclass(frozen=True)
class PinCheck:
    """Outcome of a PIN attempt."""

    ok: bool
    locked_for: int = 0      # seconds left of a lockout
    failures: int = 0        # consecutive failures so far
    configured: bool = True  # False when no PIN was ever set


class PinGate:
    """Checks PIN attempts against the stored hash, with lockout."""

    def __init__(self, path: str | Path, clock=time.time) -> None:
        self.path = Path(path)
        self.clock = clock

    def _state(self) -> dict:
        try:
            return json.loads(_state_path(self.path).read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {"failures": 0, "locked_until": 0}

    def _save(self, state: dict) -> None:
        _state_path(self.path).write_text(json.dumps(state), encoding="utf-8")

    def locked_for(self) -> int:
        """Seconds left before another attempt is allowed (0 when open)."""
        return max(0, int(self._state()["locked_until"] - self.clock() + 0.999))

    def attempt(self, pin: str) -> PinCheck:
        """Check one attempt. Locked: refused without even comparing."""
        try:
            stored = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return PinCheck(False, configured=False)
        state = self._state()
        wait = self.locked_for()
        if wait:
            return PinCheck(False, locked_for=wait, failures=state["failures"])
        salt = base64.b64decode(stored["salt"])
        ok = hmac.compare_digest(_hash(pin, salt), base64.b64decode(stored["hash"]))
        if ok:
            self._save({"failures": 0, "locked_until": 0})
            return PinCheck(True)
        failures = int(state["failures"]) + 1
        locked_until = self.clock() + LOCKOUT_SECONDS if failures >= MAX_FAILURES else 0
        self._save({"failures": 0 if locked_until else failures, "locked_until": locked_until})
        return PinCheck(False, locked_for=LOCKOUT_SECONDS if locked_until else 0, failures=failures)
