"""Opening envelopes with the team's private key(s) and checking them.

This is the only place that decrypts. Every failure is an
:class:`~kiosk.errors.EnvelopeError` with a precise, stable code so ingest can
quarantine the envelope with its reason.
"""

from __future__ import annotations

from typing import Any

from kiosk.errors import EnvelopeError
from kiosk.keys import fingerprint, hpke_suite
from kiosk.sealing import HEADER_LEN, INFO_PREFIX, parse_header, parse_inner

from analysis.keys import TeamPrivateKey


def open_envelope(envelope: bytes, keys: dict[bytes, TeamPrivateKey],
                  trusted_devices: set[str] | None = None) -> tuple[dict[str, Any], str]:
    """Decrypt, verify and parse one envelope; return (body, device fingerprint).

    ``keys`` maps recipient key ids to private keys (several during a key
    rotation). ``trusted_devices`` is the set of device fingerprints accepted;
    ``None`` accepts any device whose signature verifies.
    """
    header = parse_header(envelope)
    key = keys.get(header.key_id)
    if key is None:
        raise EnvelopeError(f"sealed for key {header.key_id.hex()}, which is not one of ours "
                            f"({', '.join(k.hex() for k in keys) or 'none loaded'})", code="ENV-020")
    if key.suite != header.suite:
        raise EnvelopeError("header suite does not match the key's suite: altered header", code="ENV-021")
    raw_header = envelope[:HEADER_LEN]
    try:
        inner = hpke_suite(header.suite).decrypt(envelope[HEADER_LEN:], key.key, info=INFO_PREFIX + raw_header)
    except Exception:
        raise EnvelopeError("cannot open: the envelope was altered, truncated, or sealed for another "
                            "key", code="ENV-022") from None
    body, device = parse_inner(inner, raw_header)
    device_fp = fingerprint(device)
    if trusted_devices is not None and device_fp not in trusted_devices:
        raise EnvelopeError(f"signed by device {device_fp}, which is not in the trusted devices list; "
                            "add its device.pub with 'analysis trust' if it is one of yours",
                            code="ENV-023")
    return body, device_fp
