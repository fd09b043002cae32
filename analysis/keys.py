"""The diagnostic team's key pair: generation and passphrase protection.

Only the analysis side ever holds the private key. The private key file is
protected by a memory-hard KDF (scrypt, n=2^17, r=8, p=1) and an AEAD
(ChaCha20-Poly1305), both from ``cryptography``; the file's JSON header is
bound as associated data so it cannot be edited undetected.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke, serialization
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from cryptography.hazmat.primitives.asymmetric import ed25519, mlkem, x25519
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from surveycore.errors import KeyFileError
from surveycore.keys import (SUITE_BY_NAME, SUITE_HYBRID, SUITE_NAMES, SUITE_X25519, DevicePublicKey,
                             TeamPublicKey, fingerprint, load_device_public, public_key_from_raw, public_key_json,
                             read_small)
from surveycore.keys import write_atomic

# The team's private keys of the two suites: the post-quantum hybrid and classic X25519.
HpkePrivateKey = hpke.MLKEM768X25519PrivateKey | x25519.X25519PrivateKey

PRIVATE_KIND = "health-kiosk-team-private-key"
SCRYPT_N = 2 ** 17
SCRYPT_R = 8
SCRYPT_P = 1
MLKEM_SEED_LEN = 64
# HKDF "info" of the team's receipt-signing key (docs/envelope.md §7).
RECEIPT_KEY_INFO = b"health-kiosk/receipt-signing/v1"


@dataclass(frozen=True)
class TeamPrivateKey:
    """A team private key with its public half."""

    suite: int
    key: HpkePrivateKey
    public: TeamPublicKey
    # ML-KEM seed || X25519 scalar: what worker processes rebuild the key
    # from (key objects cannot be pickled). Never printed.
    secret: bytes = field(default=b"", repr=False)


def receipt_signing_key(secret: bytes) -> ed25519.Ed25519PrivateKey:
    """The team's Ed25519 receipt-signing key, derived from the team key's
    secret bytes with HKDF-SHA256 (RFC 5869; no salt, info
    ``health-kiosk/receipt-signing/v1``, 32 bytes = the Ed25519 seed).

    Derived rather than stored: it is protected by the same passphrase as
    the team key, every existing team key has one, and a key rotation
    brings a new one with it. Its public half travels in ``team.pub``."""
    seed = HKDF(algorithm=SHA256(), length=32, salt=None, info=RECEIPT_KEY_INFO).derive(secret)
    return ed25519.Ed25519PrivateKey.from_private_bytes(seed)


def key_from_secret(suite: int, secret: bytes) -> TeamPrivateKey:
    """Rebuild a private key from its secret bytes (for worker processes)."""
    return _build(suite, secret)


def _build(suite: int, secret: bytes) -> TeamPrivateKey:
    if suite == SUITE_HYBRID:
        m = mlkem.MLKEM768PrivateKey.from_seed_bytes(secret[:MLKEM_SEED_LEN])
        x = x25519.X25519PrivateKey.from_private_bytes(secret[MLKEM_SEED_LEN:])
        raw_pub = (m.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
                   + x.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
        key: HpkePrivateKey = hpke.MLKEM768X25519PrivateKey(m, x)
    else:
        x = x25519.X25519PrivateKey.from_private_bytes(secret)
        raw_pub = x.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        key = x
    receipt_pub = receipt_signing_key(secret).public_key().public_bytes(serialization.Encoding.Raw,
                                                                        serialization.PublicFormat.Raw)
    return TeamPrivateKey(suite, key, public_key_from_raw(suite, raw_pub, receipt_pub), secret)


def generate(suite: int = SUITE_HYBRID) -> tuple[TeamPrivateKey, bytes]:
    """A new key pair and its secret bytes (ML-KEM seed || X25519 scalar)."""
    raw = serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    if suite == SUITE_HYBRID:
        secret = mlkem.MLKEM768PrivateKey.generate().private_bytes(*raw) + \
            x25519.X25519PrivateKey.generate().private_bytes(*raw)
    elif suite == SUITE_X25519:
        secret = x25519.X25519PrivateKey.generate().private_bytes(*raw)
    else:
        raise KeyFileError(f"unknown suite {suite}", code="KEY-010")
    return _build(suite, secret), secret


def _kdf(passphrase: bytes, salt: bytes, n: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=SCRYPT_R, p=SCRYPT_P).derive(passphrase)


def private_key_json(suite: int, secret: bytes, key_id: bytes, passphrase: bytes, n: int = SCRYPT_N) -> str:
    """Serialise a private key protected by ``passphrase``."""
    if len(passphrase) < 8:
        raise KeyFileError("the passphrase must have at least 8 characters", code="KEY-030")
    salt, nonce = os.urandom(16), os.urandom(12)
    header = {"kind": PRIVATE_KIND, "version": 1, "suite": SUITE_NAMES[suite], "key_id": key_id.hex(),
              "kdf": {"name": "scrypt", "n": n, "r": SCRYPT_R, "p": SCRYPT_P,
                      "salt": base64.b64encode(salt).decode()},
              "aead": {"name": "chacha20-poly1305", "nonce": base64.b64encode(nonce).decode()}}
    aad = json.dumps(header, sort_keys=True).encode()
    ct = ChaCha20Poly1305(_kdf(passphrase, salt, n)).encrypt(nonce, secret, aad)
    return json.dumps({**header, "ciphertext": base64.b64encode(ct).decode()}, indent=2) + "\n"


def keygen(out_dir: str | Path, passphrase: bytes, suite: int = SUITE_HYBRID,
           name: str = "team", n: int = SCRYPT_N) -> TeamPrivateKey:
    """Create ``<name>.key`` (private, mode 0600) and ``<name>.pub`` in
    ``out_dir``; refuse to overwrite an existing key."""
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    priv_path, pub_path = d / f"{name}.key", d / f"{name}.pub"
    if priv_path.exists() or pub_path.exists():
        raise KeyFileError(f"{priv_path} or {pub_path} already exists; refusing to overwrite a key "
                           "(move it away first)", code="KEY-031")
    key, secret = generate(suite)
    text = private_key_json(suite, secret, key.public.key_id, passphrase, n)
    fd = os.open(priv_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    write_atomic(pub_path, public_key_json(key.public).encode("utf-8"))
    return key


def write_public_key(key: TeamPrivateKey, out: str | Path) -> Path:
    """Write (or rewrite) the public key file of an opened team key, with its
    receipt-verifying key: how a team whose ``.pub`` predates signed receipts
    gives its kiosks the key that ``kiosk confirm`` needs."""
    p = Path(out)
    if p.is_dir():
        p = p / "team.pub"
    write_atomic(p, public_key_json(key.public).encode("utf-8"))
    return p


def read_private_key_file(path: str | Path) -> dict:
    """Read a private key file without its passphrase: checks it exists and
    is a team private key, so a wrong path is reported before the passphrase
    is asked for."""
    p = Path(path)
    try:
        data = json.loads(read_small(p))
    except FileNotFoundError:
        raise KeyFileError(f"private key file {str(p)!r} not found; give the path to the "
                           "team's .key file made by 'analysis keygen'", code="KEY-040") from None
    except IsADirectoryError:
        raise KeyFileError(f"{str(p)!r} is a folder; give the team's .key file inside it",
                           code="KEY-041") from None
    except OSError as exc:
        raise KeyFileError(f"cannot read the private key file {str(p)!r}: {exc.strerror}", code="KEY-041") from None
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise KeyFileError(f"{str(p)!r} is not a team private key file", code="KEY-041") from None
    if not isinstance(data, dict) or data.get("kind") != PRIVATE_KIND:
        hint = " (this is the public key; give the .key file)" if isinstance(data, dict) and \
            "public" in str(data.get("kind")) else ""
        raise KeyFileError(f"{str(p)!r} is not a team private key file{hint}", code="KEY-041")
    return data


def load_private_key(path: str | Path, passphrase: bytes) -> TeamPrivateKey:
    """Open a private key file; clear errors for a missing file, a file of
    the wrong kind, or a wrong passphrase."""
    p = Path(path)
    data = read_private_key_file(p)
    try:
        suite = SUITE_BY_NAME[data["suite"]]
        kdf, aead = data["kdf"], data["aead"]
        header = {k: v for k, v in data.items() if k != "ciphertext"}
        aad = json.dumps(header, sort_keys=True).encode()
        salt = base64.b64decode(kdf["salt"])
        nonce = base64.b64decode(aead["nonce"])
        ct = base64.b64decode(data["ciphertext"])
        n = int(kdf["n"])
        # A power of two within sane bounds: an edited n could otherwise make
        # the key derivation run out of memory or take hours.
        if n < 2 ** 10 or n > 2 ** 22 or n & (n - 1) or kdf.get("name") != "scrypt":
            raise ValueError("kdf")
    except (KeyError, ValueError, TypeError, AttributeError):
        raise KeyFileError(f"{str(p)!r} is damaged (missing or unreadable fields)", code="KEY-042") from None
    try:
        secret = ChaCha20Poly1305(_kdf(passphrase, salt, n)).decrypt(nonce, ct, aad)
    except ValueError:  # salt or nonce of the wrong size
        raise KeyFileError(f"{str(p)!r} is damaged (missing or unreadable fields)", code="KEY-042") from None
    except InvalidTag:
        raise KeyFileError(f"wrong passphrase for {str(p)!r} (or the file was altered)",
                           code="KEY-043") from None
    key = _build(suite, secret)
    if key.public.key_id.hex() != data.get("key_id"):
        raise KeyFileError(f"{str(p)!r}: key id does not match the key", code="KEY-044")
    return key


def read_passphrase(passphrase_file: str | None, prompt: str = "Passphrase: ") -> bytes:
    """The passphrase from a file (first line) or an interactive prompt."""
    if passphrase_file:
        try:
            text = read_small(Path(passphrase_file))
        except FileNotFoundError:
            raise KeyFileError(f"passphrase file {passphrase_file!r} not found", code="KEY-045") from None
        except IsADirectoryError:
            raise KeyFileError(f"passphrase file {passphrase_file!r} is a folder; give the file holding the "
                               "passphrase on its first line", code="KEY-045") from None
        except OSError as exc:
            raise KeyFileError(f"cannot read the passphrase file {passphrase_file!r}: {exc.strerror}",
                               code="KEY-045") from None
        except (UnicodeDecodeError, ValueError):
            raise KeyFileError(f"passphrase file {passphrase_file!r} is not UTF-8 text (or is too large); "
                               "save the passphrase as UTF-8 on the first line", code="KEY-045") from None
        return text.splitlines()[0].encode() if text.strip() else b""
    import getpass
    return getpass.getpass(prompt).encode()


def load_private_keys(paths: list[str], passphrases: list[bytes]) -> dict[bytes, TeamPrivateKey]:
    """Several team keys (key rotation), by key id. ``passphrases`` has one
    passphrase for all keys or one per key, in the same order."""
    if len(passphrases) not in (1, len(paths)):
        raise KeyFileError(f"give one passphrase file for all keys or one per key ({len(paths)} "
                           f"key(s), {len(passphrases)} passphrase file(s))", code="KEY-046")
    for path in paths:  # every path checked before any slow key derivation
        read_private_key_file(path)
    keys: dict[bytes, TeamPrivateKey] = {}
    for i, path in enumerate(paths):
        key = load_private_key(path, passphrases[i if len(passphrases) > 1 else 0])
        keys[key.public.key_id] = key
    return keys


# ---------------------------------------------------------- trusted devices

TRUSTED_KIND = "health-kiosk-trusted-devices"
TRUSTED_FILE = "trusted_devices.json"


@dataclass(frozen=True)
class TrustedDevice:
    """One kiosk whose signed envelopes ingest accepts."""

    raw: bytes
    label: str = ""

    @property
    def fingerprint(self) -> str:
        """The device id printed by ``kiosk init-device``."""
        return fingerprint(self.raw)


def trusted_devices_path(data_dir: str | Path) -> Path:
    """Where a dataset keeps its list of trusted devices."""
    return Path(data_dir) / TRUSTED_FILE


def load_trusted_devices(data_dir: str | Path) -> list[TrustedDevice] | None:
    """The dataset's trusted devices, or ``None`` when it has no list."""
    p = trusted_devices_path(data_dir)
    try:
        data = json.loads(read_small(p))
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise KeyFileError(f"--data {str(Path(data_dir))!r} is a file; give the dataset's folder",
                           code="CFG-033") from None
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        data = None
    damaged = KeyFileError(f"{str(p)!r} is damaged; restore it from a backup or rebuild it with "
                           "'analysis trust'", code="KEY-061")
    if not isinstance(data, dict) or data.get("kind") != TRUSTED_KIND or \
            not isinstance(data.get("devices"), list):
        raise damaged
    out = []
    for entry in data["devices"]:
        try:
            raw = base64.b64decode(entry["public"], validate=True)
            ok = len(raw) == 32 and entry["fingerprint"] == fingerprint(raw)
        except (KeyError, TypeError, ValueError):
            ok = False
        if not ok:
            raise damaged
        out.append(TrustedDevice(raw, str(entry.get("label", ""))))
    return out


def save_trusted_devices(data_dir: str | Path, devices: list[TrustedDevice]) -> Path:
    """Write the list atomically; return its path."""
    p = trusted_devices_path(data_dir)
    text = json.dumps({"kind": TRUSTED_KIND, "version": 1, "devices": [
        {"fingerprint": d.fingerprint, "public": base64.b64encode(d.raw).decode("ascii"), "label": d.label}
        for d in sorted(devices, key=lambda d: d.fingerprint)]}, indent=2) + "\n"
    write_atomic(p, text.encode("utf-8"))
    return p


def trust_device(data_dir: str | Path, device_pub: str | Path, label: str = "") -> tuple[DevicePublicKey, bool]:
    """Add a kiosk's ``device.pub`` to the dataset's trusted list (created if
    missing); returns (device, added) where added is False if already there."""
    dev = load_device_public(device_pub)
    devices = load_trusted_devices(data_dir) or []
    if any(d.raw == dev.raw for d in devices):
        return dev, False
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    save_trusted_devices(data_dir, devices + [TrustedDevice(dev.raw, label)])
    return dev, True


def untrust_device(data_dir: str | Path, device_fingerprint: str) -> TrustedDevice:
    """Remove a device from the trusted list by its fingerprint (spaces and
    case ignored); its envelopes are rejected from then on."""
    want = device_fingerprint.replace(" ", "").upper()
    devices = load_trusted_devices(data_dir) or []
    keep = [d for d in devices if d.fingerprint.replace(" ", "") != want]
    if len(keep) == len(devices):
        raise KeyFileError(f"device {device_fingerprint!r} is not in the trusted list of "
                           f"{str(Path(data_dir))!r}", code="KEY-062")
    save_trusted_devices(data_dir, keep)
    return next(d for d in devices if d not in keep)
