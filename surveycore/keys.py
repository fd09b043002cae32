"""Public-key formats both sides share: HPKE suites, key ids and
fingerprints, the team public key file and a kiosk's device public key.

Nothing here holds or reads a private key (a test enforces this): the team
private key lives in ``analysis.keys``, the kiosk's device signing key in
``kiosk.keys``.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hpke, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, mlkem, x25519

from surveycore.errors import KeyFileError

# The recipient keys of the two suites: the post-quantum hybrid and classic X25519.
HpkePublicKey = hpke.MLKEM768X25519PublicKey | x25519.X25519PublicKey

PUBLIC_KIND = "health-kiosk-team-public-key"
DEVICE_PUBLIC_KIND = "health-kiosk-device-public-key"

# Suite identifiers written in every envelope header.
SUITE_HYBRID = 1  # HPKE ML-KEM-768+X25519 / HKDF-SHA256 / ChaCha20-Poly1305
SUITE_X25519 = 2  # HPKE DHKEM(X25519) / HKDF-SHA256 / ChaCha20-Poly1305
SUITE_NAMES = {SUITE_HYBRID: "mlkem768-x25519", SUITE_X25519: "x25519"}
SUITE_BY_NAME = {v: k for k, v in SUITE_NAMES.items()}
MLKEM768_PUBLIC_LEN = 1184
X25519_LEN = 32


def hpke_suite(suite: int) -> hpke.Suite:
    """The HPKE suite object for a suite identifier."""
    if suite == SUITE_HYBRID:
        return hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
    if suite == SUITE_X25519:
        return hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
    raise KeyFileError(f"unknown cipher suite {suite}", code="KEY-010")


def key_id_for(suite: int, raw_public: bytes) -> bytes:
    """8-byte recipient key id: SHA-256 over the suite name and raw public key."""
    return hashlib.sha256(SUITE_NAMES[suite].encode() + b"\0" + raw_public).digest()[:8]


def fingerprint(raw: bytes) -> str:
    """A short human-checkable fingerprint: 5 groups of 4 hex digits."""
    h = hashlib.sha256(raw).hexdigest()[:20].upper()
    return " ".join(h[i:i + 4] for i in range(0, 20, 4))


@dataclass(frozen=True)
class TeamPublicKey:
    """The diagnostic team's public key as the kiosk uses it.

    ``receipt_raw`` is the raw Ed25519 public key that verifies the team's
    ingest receipts (``None`` in a file made before receipts were signed:
    such a kiosk refuses every receipt until the new file is installed)."""

    suite: int
    raw: bytes
    key: HpkePublicKey
    receipt_raw: bytes | None = None

    @property
    def receipt_fingerprint(self) -> str | None:
        """Fingerprint of the receipt-verifying key, for people to compare."""
        return fingerprint(self.receipt_raw) if self.receipt_raw is not None else None

    @property
    def key_id(self) -> bytes:
        """Recipient key id written in envelope headers."""
        return key_id_for(self.suite, self.raw)

    @property
    def fingerprint(self) -> str:
        """Human-checkable fingerprint shown in the staff area and by keygen."""
        return fingerprint(self.raw)


def public_key_from_raw(suite: int, raw: bytes, receipt_raw: bytes | None = None) -> TeamPublicKey:
    """Build the HPKE public key object from raw bytes (and, when given, the
    team's receipt-verifying Ed25519 key); refuse a key that cannot seal.

    A small-order X25519 key (all zeros, for instance) parses, but every
    seal with it fails: a trial seal here refuses it when it is installed and
    at start-up, not at the end of a patient's survey."""
    try:
        if suite == SUITE_HYBRID:
            if len(raw) != MLKEM768_PUBLIC_LEN + X25519_LEN:
                raise ValueError("length")
            key: HpkePublicKey = hpke.MLKEM768X25519PublicKey(
                mlkem.MLKEM768PublicKey.from_public_bytes(raw[:MLKEM768_PUBLIC_LEN]),
                x25519.X25519PublicKey.from_public_bytes(raw[MLKEM768_PUBLIC_LEN:]))
        elif suite == SUITE_X25519:
            key = x25519.X25519PublicKey.from_public_bytes(raw)
        else:
            raise ValueError("suite")
    except ValueError:
        raise KeyFileError("the public key bytes are damaged or of the wrong kind; copy the "
                           "team's .pub file again", code="KEY-011") from None
    try:
        hpke_suite(suite).encrypt(b"", key, info=b"health-kiosk/key-check")
    except ValueError:
        raise KeyFileError("the team public key is unusable (a weak X25519 key that no response could "
                           "be sealed for); get the team's real .pub file made by 'analysis keygen'",
                           code="KEY-013") from None
    if receipt_raw is not None:
        try:
            ed25519.Ed25519PublicKey.from_public_bytes(receipt_raw)
        except ValueError:
            raise KeyFileError("the receipt key of the team public key is damaged; copy the team's .pub "
                               "file again", code="KEY-014") from None
    return TeamPublicKey(suite, raw, key, receipt_raw)


def public_key_json(pub: TeamPublicKey) -> str:
    """Serialise a team public key file (JSON text)."""
    data: dict[str, object] = {
        "kind": PUBLIC_KIND, "version": 1, "suite": SUITE_NAMES[pub.suite],
        "key_id": pub.key_id.hex(), "fingerprint": pub.fingerprint,
        "public": base64.b64encode(pub.raw).decode("ascii"),
    }
    if pub.receipt_raw is not None:
        data["receipt_public"] = base64.b64encode(pub.receipt_raw).decode("ascii")
    return json.dumps(data, indent=2) + "\n"


def load_public_key(path: str | Path) -> TeamPublicKey:
    """Read a team public key file written by ``analysis keygen``."""
    p = Path(path)
    try:
        data = json.loads(read_small(p))
    except FileNotFoundError:
        raise KeyFileError(f"public key file {str(p)!r} not found; copy the team's .pub file there "
                           "(made by 'analysis keygen')", code="KEY-002") from None
    except IsADirectoryError:
        raise KeyFileError(f"{str(p)!r} is a folder; give the team's .pub file inside it", code="KEY-002") from None
    except OSError as exc:
        raise KeyFileError(f"cannot read the public key file {str(p)!r}: {exc.strerror}", code="KEY-002") from None
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise KeyFileError(f"{str(p)!r} is not a team public key file (expected JSON from "
                           "'analysis keygen')", code="KEY-003") from None
    if isinstance(data, dict) and data.get("kind") == DEVICE_PUBLIC_KIND:
        # The two .pub files of a kiosk folder are easily swapped.
        raise KeyFileError(f"{str(p)!r} is a kiosk's device public key (for the team's 'analysis trust'), not "
                           "the team public key; give the team's team.pub made by 'analysis keygen'",
                           code="KEY-003")
    if not isinstance(data, dict) or data.get("kind") != PUBLIC_KIND:
        raise KeyFileError(f"{str(p)!r} is not a team public key file (kind {PUBLIC_KIND!r} expected); "
                           "never copy a private key to a kiosk", code="KEY-003")
    suite = SUITE_BY_NAME.get(str(data.get("suite")))
    if suite is None:
        raise KeyFileError(f"{str(p)!r}: unknown suite {data.get('suite')!r}", code="KEY-010")
    try:
        raw = base64.b64decode(data["public"], validate=True)
    except (KeyError, ValueError, TypeError):
        raise KeyFileError(f"{str(p)!r}: the 'public' field is damaged", code="KEY-011") from None
    receipt_raw = None
    if "receipt_public" in data:
        try:
            receipt_raw = base64.b64decode(data["receipt_public"], validate=True)
        except (ValueError, TypeError):
            receipt_raw = b""
        if len(receipt_raw) != 32:
            raise KeyFileError(f"{str(p)!r}: the 'receipt_public' field is damaged; copy the team's .pub "
                               "file again", code="KEY-014")
    try:
        pub = public_key_from_raw(suite, raw, receipt_raw)
    except KeyFileError as exc:
        raise KeyFileError(f"{str(p)!r}: {exc.message}", code=exc.code) from None
    if data.get("key_id") and data["key_id"] != pub.key_id.hex():
        raise KeyFileError(f"{str(p)!r}: key id does not match the key (file edited or damaged)",
                           code="KEY-012")
    return pub


# Key, trust-list and passphrase files are a few KiB; reading more than this
# from one is a mistake (or /dev/zero) and is refused as "not such a file".
MAX_SMALL_FILE = 1 << 20


def read_small(path: Path) -> str:
    """The UTF-8 text of a small file (key, trust list); raises OSError,
    UnicodeDecodeError, or ValueError when larger than :data:`MAX_SMALL_FILE`."""
    if path.exists() and not path.is_file() and not path.is_dir():
        raise OSError(errno.EINVAL, "not a regular file", str(path))  # a FIFO would block
    with open(path, "rb") as fh:
        data = fh.read(MAX_SMALL_FILE + 1)
    if len(data) > MAX_SMALL_FILE:
        raise ValueError("too large")
    return data.decode("utf-8")


# ------------------------------------------------------------ key rotation


# ------------------------------------------------------------ device key


def write_atomic(path: str | Path, data: bytes, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves either the old or
    the new file, never half of one: temporary file, fsync, rename, fsync of
    the folder."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(p.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def device_raw(pub: ed25519.Ed25519PublicKey) -> bytes:
    """Raw 32-byte device public key."""
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def device_id(pub: ed25519.Ed25519PublicKey) -> str:
    """Device id: fingerprint of the device public key."""
    return fingerprint(device_raw(pub))


def device_public_json(pub: ed25519.Ed25519PublicKey) -> str:
    """Serialise a device public key for the analysts' trusted-devices list."""
    raw = device_raw(pub)
    return json.dumps({"kind": DEVICE_PUBLIC_KIND, "version": 1,
                       "public": base64.b64encode(raw).decode("ascii"),
                       "fingerprint": fingerprint(raw)}, indent=2) + "\n"


@dataclass(frozen=True)
class DevicePublicKey:
    """A kiosk's device public key as read from its ``device.pub``."""

    raw: bytes

    @property
    def fingerprint(self) -> str:
        """The device id shown by ``kiosk init-device`` and ``kiosk status``."""
        return fingerprint(self.raw)


def load_device_public(path: str | Path) -> DevicePublicKey:
    """Read a ``device.pub`` file (for the analysts' trusted-devices list);
    refuse anything else, including a device *private* key."""
    p = Path(path)
    try:
        text = read_small(p)
    except FileNotFoundError:
        raise KeyFileError(f"device public key file {str(p)!r} not found; it is the device.pub "
                           "beside the kiosk's device key ('kiosk init-device' prints where)",
                           code="KEY-023") from None
    except (OSError, UnicodeDecodeError, ValueError):
        text = ""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict) or data.get("kind") != DEVICE_PUBLIC_KIND:
        hint = " (this is a private key: never copy it off the kiosk)" if "PRIVATE KEY" in text else ""
        raise KeyFileError(f"{str(p)!r} is not a kiosk device public key file{hint}", code="KEY-024")
    try:
        raw = base64.b64decode(data["public"], validate=True)
        ed25519.Ed25519PublicKey.from_public_bytes(raw)
    except (KeyError, ValueError, TypeError):
        raise KeyFileError(f"{str(p)!r}: the 'public' field is damaged", code="KEY-025") from None
    pub = DevicePublicKey(raw)
    if data.get("fingerprint") != pub.fingerprint:
        raise KeyFileError(f"{str(p)!r}: fingerprint does not match the key (file edited or damaged)",
                           code="KEY-025")
    return pub


