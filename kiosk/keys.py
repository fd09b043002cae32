"""The kiosk's own keys: its Ed25519 device signing key, and installing a
new team public key (key rotation).

The kiosk holds only the diagnostic team's *public* key (its format is in
``surveycore.keys``) and its own device key. Nothing here can read a team
private key: that lives in ``analysis.keys`` and the kiosk never imports it
(a test enforces this).
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from surveycore.errors import KeyFileError
from surveycore.keys import (TeamPublicKey, device_public_json, load_public_key, public_key_json, read_small,
                             write_atomic)


def install_public_key(new_file: str | Path, target: str | Path) -> tuple[TeamPublicKey | None, TeamPublicKey]:
    """Key rotation on a kiosk: check ``new_file`` is a team public key and
    write it over ``target`` (the ``public_key`` path of kiosk.toml).

    The file is rewritten also when only the receipt key differs: that is
    how a kiosk installed before receipts were signed gets its receipt key.

    Returns (previous key or None, new key). Envelopes already stored stay
    sealed for the previous key: the team keeps that private key until they
    are ingested. A private key file is refused by :func:`load_public_key`.
    """
    new = load_public_key(new_file)
    old: TeamPublicKey | None = None
    if Path(target).exists():
        try:
            old = load_public_key(target)
        except KeyFileError:
            old = None  # a damaged current key is exactly what set-key repairs
    if old is None or old.key_id != new.key_id or old.receipt_raw != new.receipt_raw:
        write_atomic(target, public_key_json(new).encode("utf-8"))
    return old, new


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())  # losing the device key after setup would orphan its fingerprint


def create_device_key(path: str | Path) -> ed25519.Ed25519PrivateKey:
    """Create this kiosk's Ed25519 signing key (mode 0600) and, beside it,
    ``device.pub`` for the diagnostic team's list of trusted devices."""
    p = Path(path)
    if p.exists():
        raise KeyFileError(f"device key {str(p)!r} already exists; refusing to overwrite it",
                           code="KEY-020")
    key = ed25519.Ed25519PrivateKey.generate()
    _write_private(p, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
    p.with_name(p.stem + ".pub").write_text(device_public_json(key.public_key()), encoding="utf-8")
    return key


def load_device_key(path: str | Path) -> ed25519.Ed25519PrivateKey:
    """Load this kiosk's device signing key."""
    p = Path(path)
    try:
        key = serialization.load_pem_private_key(read_small(p).encode("utf-8"), password=None)
    except FileNotFoundError:
        raise KeyFileError(f"device key {str(p)!r} not found; create it with 'kiosk demo' or "
                           "'kiosk init-device'", code="KEY-021") from None
    except OSError as exc:
        raise KeyFileError(f"{str(p)!r} is not a readable device key ({exc.strerror})", code="KEY-022") from None
    except (ValueError, TypeError, UnicodeDecodeError):
        raise KeyFileError(f"{str(p)!r} is not a readable device key", code="KEY-022") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise KeyFileError(f"{str(p)!r} is not an Ed25519 device key", code="KEY-022")
    return key


def ensure_device_key(path: str | Path) -> tuple[ed25519.Ed25519PrivateKey, bool]:
    """This kiosk's device key, created if missing; returns (key, created)."""
    p = Path(path)
    if p.exists():
        key = load_device_key(p)
        pub = p.with_name(p.stem + ".pub")
        if not pub.exists():  # restore the shareable half if it was lost
            pub.write_text(device_public_json(key.public_key()), encoding="utf-8")
        return key, False
    return create_device_key(p), True

