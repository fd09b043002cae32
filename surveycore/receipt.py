"""The receipt format: the list of envelopes the team holds safely, signed
with the team's receipt key by ``analysis ingest``, and checked by a kiosk
before it removes anything (``kiosk confirm``). See ``docs/envelope.md``.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from surveycore.envelope import ENVELOPE_ID_RE
from surveycore.errors import ConfigError
from surveycore.keys import TeamPublicKey, fingerprint

RECEIPT_KIND = "health-kiosk-receipt"
RECEIPT_VERSION = 2  # 1: unsigned receipts, refused since receipts are signed
RECEIPT_SIGNATURE_PREFIX = b"health-kiosk/receipt/v2"
# A receipt lists at most a kiosk's outbox: far below this. A larger file is
# not a receipt, and is refused before it is parsed.
MAX_RECEIPT_BYTES = 64 << 20


def receipt_payload(device: bytes, run: int, envelope_ids: list[str]) -> dict[str, Any]:
    """The signed part of a receipt: the kiosk it is for (raw device public
    key), the ingest run, and the ids of envelopes the team holds safely
    (ingested now or earlier), sorted and without repeats."""
    ids = sorted(set(envelope_ids))
    for i in ids:
        if not ENVELOPE_ID_RE.fullmatch(i):
            raise ValueError(f"not an envelope id: {i!r}")
    return {"kind": RECEIPT_KIND, "version": RECEIPT_VERSION,
            "device": base64.b64encode(device).decode("ascii"), "run": run, "count": len(ids),
            "envelopes": ids}


def receipt_signed_message(payload: dict[str, Any]) -> bytes:
    """What the team's receipt key signs: a prefix, then the receipt without
    its ``signatures`` as canonical JSON (keys sorted, no spaces)."""
    body = {k: v for k, v in payload.items() if k != "signatures"}
    return RECEIPT_SIGNATURE_PREFIX + json.dumps(body, sort_keys=True, ensure_ascii=False,
                                                 separators=(",", ":")).encode("utf-8")


def receipt_text(payload: dict[str, Any], signatures: list[tuple[bytes, bytes]]) -> str:
    """A receipt file: the payload and one ``(team key id, signature)`` per
    team key that signed it (several during a key rotation)."""
    signed = {**payload, "signatures": [
        {"key_id": key_id.hex(), "signature": base64.b64encode(sig).decode("ascii")}
        for key_id, sig in signatures]}
    return json.dumps(signed, indent=1) + "\n"


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Receipt:
    """A receipt whose team signature verified, for this kiosk."""

    run: int
    ids: list[bytes]


def read_receipt(path: str | Path, team: TeamPublicKey, device: bytes) -> Receipt:
    """Read a receipt and check that the team made it for this kiosk, before
    anything is removed: a receipt is a licence to delete, so its list must
    come from the holder of the team key, not from whoever held the USB key.

    Refused, removing nothing: missing (CFG-020); not a receipt or damaged
    (CFG-021); unknown version (CFG-022); count differs from the list
    (CFG-023); unsigned (CFG-024: made before receipts were signed); a
    signature that does not verify, i.e. forged or edited (CFG-025); made for
    another kiosk (CFG-026); this kiosk's team key has no receipt key
    (CFG-027: how to install it); not signed by this kiosk's team key
    (CFG-028)."""
    p = Path(path)
    nothing = "nothing was removed"
    data: object = None
    try:
        with open(p, "rb") as fh:
            raw = fh.read(MAX_RECEIPT_BYTES + 1)
        if len(raw) <= MAX_RECEIPT_BYTES:
            data = json.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"receipt {str(p)!r} not found; give the receipt file that 'analysis ingest' "
                          "wrote for this kiosk", code="CFG-020") from None
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        data = None
    bad = ConfigError(f"{str(p)!r} is not an ingest receipt (made by 'analysis ingest'); {nothing}",
                      code="CFG-021")
    if not isinstance(data, dict) or data.get("kind") != RECEIPT_KIND:
        raise bad
    if team.receipt_raw is None:
        raise ConfigError("the team public key installed on this kiosk predates signed receipts and "
                          "cannot check one; on the team's machine run 'analysis public-key --key "
                          "team.key --out team.pub', bring that team.pub here and run 'kiosk set-key "
                          f"team.pub', then confirm again; {nothing}", code="CFG-027")
    version = data.get("version")
    if _is_int(version) and version == 1 or (version == RECEIPT_VERSION and "signatures" not in data):
        raise ConfigError(f"receipt {str(p)!r} is not signed by the team: a kiosk deletes only what "
                          "a signed receipt lists; ingest the bundle again with the current 'analysis' "
                          f"to get a signed receipt; {nothing}", code="CFG-024")
    if not _is_int(version) or version != RECEIPT_VERSION:
        raise ConfigError(f"receipt {str(p)!r} has version {version!r}; expected {RECEIPT_VERSION}; "
                          f"{nothing}", code="CFG-022")
    ids = data.get("envelopes")
    if not isinstance(ids, list) or not all(isinstance(i, str) and ENVELOPE_ID_RE.fullmatch(i) for i in ids):
        raise bad
    count = data.get("count")
    if not _is_int(count) or count != len(ids):
        raise ConfigError(f"receipt {str(p)!r} is damaged (lists {len(ids)} envelope(s), says "
                          f"{count!r}); {nothing}", code="CFG-023")
    run, sigs = data.get("run"), data.get("signatures")
    try:
        receipt_device = base64.b64decode(data.get("device"), validate=True)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        receipt_device = b""
    if not _is_int(run) or len(receipt_device) != 32 or not isinstance(sigs, list) or \
            set(data) != {"kind", "version", "device", "run", "count", "envelopes", "signatures"}:
        raise bad
    if receipt_device != device:
        raise ConfigError(f"receipt {str(p)!r} is for the kiosk with device fingerprint "
                          f"{fingerprint(receipt_device)}, not this one ({fingerprint(device)}); confirm "
                          f"it on that kiosk; {nothing}", code="CFG-026")
    mine = [s for s in sigs if isinstance(s, dict) and s.get("key_id") == team.key_id.hex()]
    if not mine:
        others = ", ".join(str(s.get("key_id")) for s in sigs if isinstance(s, dict)) or "none"
        raise ConfigError(f"receipt {str(p)!r} is not signed by this kiosk's team key (key id "
                          f"{team.key_id.hex()}; signed by: {others}); ingest with that team key too "
                          f"(--key), or install the team key that signed it ('kiosk set-key'); {nothing}",
                          code="CFG-028")
    try:
        signature = base64.b64decode(mine[0].get("signature"), validate=True)  # type: ignore[arg-type]
        ed25519.Ed25519PublicKey.from_public_bytes(team.receipt_raw).verify(
            signature, receipt_signed_message(data))
    except (TypeError, ValueError, InvalidSignature):
        raise ConfigError(f"receipt {str(p)!r} does not carry a valid team signature: it was forged or "
                          "edited after ingest; use the receipt exactly as 'analysis ingest' wrote it; "
                          f"{nothing}", code="CFG-025") from None
    return Receipt(run, [bytes.fromhex(i) for i in ids])

