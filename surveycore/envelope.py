"""The envelope format: what a kiosk seals and the analysis opens.

Layout (see ``docs/envelope.md``)::

    envelope = header || HPKE(enc || ciphertext)
    header   = "HKSE" | format version (1 byte) | suite (1 byte) | recipient key id (8 bytes)
    info     = "health-kiosk/envelope/v1" || header        (binds the header)
    inner    = "HKIN" | body length (u32 BE) | body | device public key (32) | signature (64) | zeros
    signed   = "health-kiosk/signature/v1" || header || body

The body is canonical JSON (sorted keys, UTF-8). The inner plaintext is padded
with zeros to a fixed bucket per survey so its length reveals no branch taken.
Sealing (encryption and the device signature) is ``kiosk.sealing.seal``;
opening is the analysis' alone.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import struct
from dataclasses import dataclass
from typing import Any

from surveycore.errors import EnvelopeError, SealError
from surveycore.keys import SUITE_NAMES

MAGIC = b"HKSE"
FORMAT_VERSION = 1
HEADER_LEN = 14
INFO_PREFIX = b"health-kiosk/envelope/v1"
SIG_PREFIX = b"health-kiosk/signature/v1"
INNER_MAGIC = b"HKIN"
INNER_FIXED = 4 + 4 + 32 + 64
BUCKET = 1024
STATUSES = ("complete", "partial", "declined")


@dataclass(frozen=True)
class Header:
    """The plaintext header of an envelope."""

    version: int
    suite: int
    key_id: bytes

    def to_bytes(self) -> bytes:
        """Serialise the 14-byte header."""
        return MAGIC + bytes([self.version, self.suite]) + self.key_id


def parse_header(envelope: bytes) -> Header:
    """Read and check an envelope's header (no key needed)."""
    if len(envelope) < HEADER_LEN:
        raise EnvelopeError(f"envelope too short ({len(envelope)} bytes): truncated", code="ENV-002")
    if envelope[:4] != MAGIC:
        raise EnvelopeError("not an envelope (bad magic bytes): damaged or not ours", code="ENV-003")
    version, suite = envelope[4], envelope[5]
    if version != FORMAT_VERSION:
        raise EnvelopeError(f"envelope format version {version} is not supported (expected "
                            f"{FORMAT_VERSION}); update the analysis software", code="ENV-004")
    if suite not in SUITE_NAMES:
        raise EnvelopeError(f"unknown cipher suite {suite} in header: damaged", code="ENV-005")
    return Header(version, suite, envelope[6:14])


def period_of(day: dt.date, granularity: str) -> str:
    """The coarse period recorded instead of any time: ISO week (``2026-W47``),
    month (``2026-11``) or quarter (``2026-Q4``)."""
    if granularity == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if granularity == "month":
        return f"{day.year}-{day.month:02d}"
    if granularity == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    raise SealError(f"unknown period granularity {granularity!r}", code="S-002")


def canonical_json(obj: Any) -> bytes:
    """Deterministic JSON encoding used for the signed body."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# What a random envelope id looks like (see :func:`new_envelope_id`).
ENVELOPE_ID_RE = re.compile(r"[0-9a-f]{32}")


def new_envelope_id() -> str:
    """A random 128-bit envelope id (hex); random so it reveals no order."""
    return secrets.token_hex(16)


def bucket_size(body_len: int, minimum: int = 0) -> int:
    """Padded inner size: a multiple of :data:`BUCKET` covering the body and
    at least ``minimum`` (the survey's largest possible body)."""
    need = max(body_len, minimum) + INNER_FIXED
    return -(-need // BUCKET) * BUCKET


def signed_message(header: bytes, data: bytes) -> bytes:
    """What the device key signs: a domain prefix, the 14 header bytes and
    the body bytes. Signing the header binds the recipient key id and suite."""
    return SIG_PREFIX + header + data


def build_inner(data: bytes, device_public: bytes, signature: bytes, size: int) -> bytes:
    """Assemble the inner plaintext and pad it with zeros to ``size`` bytes."""
    inner = INNER_MAGIC + struct.pack(">I", len(data)) + data + device_public + signature
    return inner + b"\0" * (size - len(inner))


def split_inner(inner: bytes) -> tuple[bytes, bytes, bytes]:
    """Split a decrypted inner plaintext into (body bytes, device public key,
    signature), checking magic, bucket padding and zero padding. The
    signature is *not* verified here."""
    if len(inner) < INNER_FIXED or inner[:4] != INNER_MAGIC:
        raise EnvelopeError("decrypted content is not a response (bad inner magic)", code="ENV-010")
    if len(inner) % BUCKET:
        # Every writer pads to a whole bucket; anything else leaks length.
        raise EnvelopeError(f"decrypted content is {len(inner)} bytes, not a multiple of {BUCKET}: "
                            "not padded as the format requires", code="ENV-015")
    (length,) = struct.unpack(">I", inner[4:8])
    end = 8 + length + 96
    if end > len(inner):
        raise EnvelopeError("decrypted content is truncated (body length beyond end)", code="ENV-011")
    if inner.count(0, end) != len(inner) - end:  # C-speed check that the padding is all zeros
        raise EnvelopeError("padding is not zero: content altered", code="ENV-012")
    return inner[8:8 + length], inner[8 + length:8 + length + 32], inner[8 + length + 32:end]


def decode_body(data: bytes) -> dict[str, Any]:
    """The signed body bytes as a JSON object (ENV-014 if not)."""
    try:
        body = json.loads(data)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise EnvelopeError("signed body is not JSON", code="ENV-014") from None
    if not isinstance(body, dict):
        raise EnvelopeError("signed body is not a JSON object", code="ENV-014")
    return body
