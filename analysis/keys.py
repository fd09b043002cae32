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
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke, serialization
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519

from kiosk.errors import KeyFileError
from kiosk.keys import (SUITE_BY_NAME, SUITE_HYBRID, SUITE_NAMES, SUITE_X25519, TeamPublicKey,
                        public_key_from_raw, public_key_json)

PRIVATE_KIND = "health-kiosk-team-private-key"
SCRYPT_N = 2 ** 17
SCRYPT_R = 8
SCRYPT_P = 1
MLKEM_SEED_LEN = 64


@dataclass(frozen=True)
class TeamPrivateKey:
    """A team private key with its public half."""

    suite: int
    key: object  # hpke.MLKEM768X25519PrivateKey or x25519.X25519PrivateKey
    public: TeamPublicKey


def _build(suite: int, secret: bytes) -> TeamPrivateKey:
    if suite == SUITE_HYBRID:
        m = mlkem.MLKEM768PrivateKey.from_seed_bytes(secret[:MLKEM_SEED_LEN])
        x = x25519.X25519PrivateKey.from_private_bytes(secret[MLKEM_SEED_LEN:])
        raw_pub = (m.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
                   + x.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
        key: object = hpke.MLKEM768X25519PrivateKey(m, x)
    else:
        x = x25519.X25519PrivateKey.from_private_bytes(secret)
        raw_pub = x.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        key = x
    return TeamPrivateKey(suite, key, public_key_from_raw(suite, raw_pub))


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
    pub_path.write_text(public_key_json(key.public), encoding="utf-8")
    return key


def load_private_key(path: str | Path, passphrase: bytes) -> TeamPrivateKey:
    """Open a private key file; clear errors for a missing file, a file of
    the wrong kind, or a wrong passphrase."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KeyFileError(f"private key file {str(p)!r} not found; give the path to the "
                           "team's .key file made by 'analysis keygen'", code="KEY-040") from None
    except (ValueError, UnicodeDecodeError):
        raise KeyFileError(f"{str(p)!r} is not a team private key file", code="KEY-041") from None
    if not isinstance(data, dict) or data.get("kind") != PRIVATE_KIND:
        hint = " (this is the public key; give the .key file)" if isinstance(data, dict) and \
            "public" in str(data.get("kind")) else ""
        raise KeyFileError(f"{str(p)!r} is not a team private key file{hint}", code="KEY-041")
    try:
        suite = SUITE_BY_NAME[data["suite"]]
        kdf, aead = data["kdf"], data["aead"]
        header = {k: v for k, v in data.items() if k != "ciphertext"}
        aad = json.dumps(header, sort_keys=True).encode()
        salt = base64.b64decode(kdf["salt"])
        nonce = base64.b64decode(aead["nonce"])
        ct = base64.b64decode(data["ciphertext"])
        n = int(kdf["n"])
    except (KeyError, ValueError, TypeError):
        raise KeyFileError(f"{str(p)!r} is damaged (missing or unreadable fields)", code="KEY-042") from None
    try:
        secret = ChaCha20Poly1305(_kdf(passphrase, salt, n)).decrypt(nonce, ct, aad)
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
            text = Path(passphrase_file).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise KeyFileError(f"passphrase file {passphrase_file!r} not found", code="KEY-045") from None
        return text.splitlines()[0].encode() if text.strip() else b""
    import getpass
    return getpass.getpass(prompt).encode()
