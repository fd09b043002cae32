"""The kiosk's side of self-describing bundles: signing the definitions
block with the device key, and refusing to start on a definition changed
without a new version.

The block's format, parsing and verification are in
``surveycore.definitions`` (see ``docs/envelope.md`` §6.1).
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from surveycore.definitions import SIGNATURE_PREFIX, SurveyRecord, encode, version_conflicts
from surveycore.errors import ConfigError
from surveycore.keys import device_raw
from surveycore.questionnaire import Survey


def sign(doc: bytes, device_key: ed25519.Ed25519PrivateKey) -> bytes:
    """The definitions block of a bundle: length, document, device public
    key, Ed25519 signature over the prefix and the document."""
    signature = device_key.sign(SIGNATURE_PREFIX + doc)
    return struct.pack(">I", len(doc)) + doc + device_raw(device_key.public_key()) + signature


def block_of(records: list[SurveyRecord], device_key: ed25519.Ed25519PrivateKey) -> bytes:
    """Encode and sign ``records`` (see :func:`sign`)."""
    return sign(encode(records), device_key)


def outbox_block(outbox: Any, device_key: ed25519.Ed25519PrivateKey) -> bytes:
    """The signed definitions block of every survey ``outbox`` (a
    :class:`kiosk.store.Outbox`) recorded, for its next bundle."""
    files = outbox.definition_files()
    records = [SurveyRecord(m, {r["file"]: files[r["file"]] for r in [m, *m["modules"]]})
               for m in outbox.surveys_run()]
    return block_of(records, device_key)


def recorded_in(outbox_path: Path) -> list[dict[str, Any]]:
    """Manifests recorded in an existing outbox, read without writing (for
    ``kiosk check``); empty when there is no outbox yet."""
    import sqlite3
    if not outbox_path.is_file():
        return []
    try:
        db = sqlite3.connect(f"file:{outbox_path}?mode=ro", uri=True)
        try:
            return [json.loads(zlib.decompress(bytes(r[0]))) for r in db.execute("SELECT manifest FROM surveys_run")]
        finally:
            db.close()
    except (sqlite3.Error, zlib.error, ValueError):
        return []  # an outbox of an earlier version, or unreadable: nothing to compare with


def check_versions(survey: Survey, recorded: list[dict[str, Any]]) -> None:
    """Refuse (Q-VER-001) a survey that changes a definition this kiosk ran
    without a new version."""
    conflicts = version_conflicts(survey, recorded)
    if conflicts:
        raise ConfigError("; ".join(conflicts) + "; 'kiosk check kiosk.toml' lists every such change",
                          code="Q-VER-001")

