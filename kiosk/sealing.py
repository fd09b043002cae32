"""Sealing a response into an envelope only the diagnostic team can open.

The envelope's layout lives in ``surveycore.envelope`` (see
``docs/envelope.md``); this module holds the one step only a kiosk takes:
sign the body with the device key, then encrypt it to the team public key.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from surveycore.envelope import FORMAT_VERSION, INFO_PREFIX, Header, bucket_size, build_inner, canonical_json, signed_message
from surveycore.errors import SealError
from surveycore.keys import TeamPublicKey, device_raw, hpke_suite


def seal(body: dict[str, Any], public_key: TeamPublicKey, device_key: ed25519.Ed25519PrivateKey,
         pad_to_body: int = 0) -> bytes:
    """Sign and seal one response body; return the envelope bytes.

    ``pad_to_body`` is the largest body this survey can produce, so every
    envelope of the survey has the same size.
    """
    header = Header(FORMAT_VERSION, public_key.suite, public_key.key_id).to_bytes()
    data = canonical_json(body)
    signature = device_key.sign(signed_message(header, data))
    inner = build_inner(data, device_raw(device_key.public_key()), signature,
                        bucket_size(len(data), pad_to_body))
    try:
        sealed = hpke_suite(public_key.suite).encrypt(inner, public_key.key, info=INFO_PREFIX + header)
    except Exception as exc:  # the library raises plain exceptions; keep ours coded
        raise SealError(f"sealing failed ({exc.__class__.__name__})", code="S-003") from None
    return header + sealed

