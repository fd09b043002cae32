"""A self-signed TLS certificate for a kiosk served on a local network.

Answers must not cross a waiting-room Wi-Fi in clear; a site without its own
certificate authority can pin this certificate on its tablets.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from surveycore.errors import ConfigError


_HOST_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*")


def make_self_signed(cert_path: str | Path, key_path: str | Path, hosts: list[str],
                     days: int = 730) -> str:
    """Write a P-256 key (mode 0600) and a self-signed certificate for
    ``hosts`` (names or IP addresses); return the SHA-256 fingerprint."""
    hosts = [h.strip() for h in hosts if h.strip()]
    if not hosts:
        raise ConfigError("give at least one host name or IP address for the certificate", code="TLS-001")
    names: list[x509.GeneralName] = []
    for h in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(h)))
        except ValueError:
            # The first host is also the certificate's common name: at most 64 characters.
            if len(h) > 64 or not _HOST_NAME.fullmatch(h):
                raise ConfigError(f"--host {h!r} is neither an IP address nor a host name; give a name such as "
                                  "kiosk.local or an address such as 192.168.1.20", code="TLS-002") from None
            names.append(x509.DNSName(h))
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    kp, cp = Path(key_path), Path(cert_path)
    kp.parent.mkdir(parents=True, exist_ok=True)
    cp.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(kp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    cp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()
