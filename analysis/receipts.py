"""Signed receipts: what lets a kiosk delete the envelopes the team holds.

A receipt is a licence to delete patients' responses from a kiosk, so it
must prove that the team holds what it lists: every receipt is signed with
the team's receipt key (derived from the team key, see
:func:`analysis.keys.receipt_signing_key`), whose public half the kiosk
holds in ``team.pub``. One receipt is written per kiosk (device key) and per
ingest run, under a name that no later run reuses, and only when it lists
something: a failed or empty run never replaces a receipt still to be
carried to a kiosk. Format: ``docs/envelope.md`` §7.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from surveycore.errors import KioskError
from surveycore.keys import fingerprint
from surveycore.receipt import receipt_payload, receipt_signed_message, receipt_text
from analysis.keys import TeamPrivateKey, receipt_signing_key


def receipt_name(device: bytes, run: int) -> str:
    """``<device fingerprint, no spaces>-run<N>.json``: one name per kiosk and run."""
    return f"{fingerprint(device).replace(' ', '')}-run{run}.json"


def signed_receipt(device: bytes, run: int, ids: list[str], keys: dict[bytes, TeamPrivateKey]) -> str:
    """The text of a receipt for one kiosk, signed by every team key given
    (old and new keys during a rotation, so a kiosk with either accepts it)."""
    payload = receipt_payload(device, run, ids)
    message = receipt_signed_message(payload)
    signatures = [(key_id, receipt_signing_key(key.secret).sign(message))
                  for key_id, key in sorted(keys.items())]
    return receipt_text(payload, signatures)


def _write_new(path: Path, data: bytes) -> None:
    """Write ``path`` durably, refusing to replace an existing file: the
    bytes go to a temporary file, are flushed, then linked to the final name
    (which fails if it exists)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_receipts(folder: str | Path, run: int, receipt_devices: dict[str, bytes],
                   keys: dict[bytes, TeamPrivateKey]) -> list[Path]:
    """Write one signed receipt per kiosk of the run into ``folder``; return
    their paths (none when the run holds nothing new for any kiosk).

    ``receipt_devices`` maps each receipted envelope id to its kiosk's raw
    device key. An existing file is never replaced (ING-051)."""
    by_device: dict[bytes, list[str]] = {}
    for envelope_id, device in receipt_devices.items():
        by_device.setdefault(device, []).append(envelope_id)
    if not by_device:
        return []
    d = Path(folder)
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise KioskError(f"cannot create the receipts folder {str(d)!r} ({exc.strerror}); the run is "
                         "committed: run the same ingest again with another --receipts folder to get "
                         "its receipts (nothing is ingested twice)", code="ING-050") from None
    written = []
    for device in sorted(by_device, key=lambda d: receipt_name(d, run)):
        path = d / receipt_name(device, run)
        text = signed_receipt(device, run, by_device[device], keys)
        try:
            _write_new(path, text.encode("utf-8"))
        except FileExistsError:
            raise KioskError(f"receipt {str(path)!r} already exists (another dataset wrote receipts to "
                             "this folder?); it was kept; give another --receipts folder",
                             code="ING-051") from None
        except OSError as exc:
            raise KioskError(f"cannot write the receipt {str(path)!r} ({exc.strerror}); the run is "
                             "committed: run the same ingest again (nothing is ingested twice) to get "
                             "its receipts", code="ING-050") from None
        written.append(path)
    return written
