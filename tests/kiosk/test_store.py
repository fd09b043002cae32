"""The outbox keeps every acknowledged response: a full or read-only disk
raises a coded error and harms nothing stored; export never removes; confirm
removes exactly what a receipt lists, once; bundles report damage precisely."""

from __future__ import annotations

import hashlib
import secrets
import struct
import threading
import time
from pathlib import Path

import pytest

from surveycore.bundle import bundle_bytes, read_bundle, write_bundle
from surveycore.errors import EnvelopeError, StoreError
from analysis.envelopes import open_envelope
from analysis.receipts import signed_receipt
from kiosk import cli as kiosk_cli
from kiosk.config import KioskRuntime, load_config
from kiosk.store import Outbox
from tests.support.kiosks import kiosk_device
from tests.support.kiosks import answered

DISK_FULL = ("could not store the response: the kiosk's disk is full; free space or export and confirm "
             "stored responses (nothing already stored was lost)")
READ_ONLY = ("could not store the response: the outbox cannot be written (read-only file, folder or "
             "disk); check the data folder's permissions (nothing already stored was lost)")



@pytest.fixture
def runtime(kiosk_dir: Path):
    rt = KioskRuntime(load_config(kiosk_dir))
    yield rt
    rt.outbox.close()


def test_disk_full_raises_a_coded_error_and_harms_nothing(runtime: KioskRuntime, team) -> None:
    ids = [runtime.submit(answered(runtime)) for _ in range(5)]
    # SQLite reports SQLITE_FULL once the file may not grow: a full disk. The
    # free room left in the current pages fills first.
    pages = runtime.outbox.db.execute("PRAGMA page_count").fetchone()[0]
    runtime.outbox.db.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StoreError) as exc:
        for _ in range(200):
            ids.append(runtime.submit(answered(runtime)))
    assert (exc.value.code, exc.value.message) == ("S-016", DISK_FULL)
    before = runtime.outbox.pending()
    assert len(before) == len(ids)  # every acknowledged response is there
    assert runtime.last_error.user_text() == f"[S-016] {DISK_FULL} (see docs/errors.md#s-016)"
    with pytest.raises(StoreError) as exc:
        for _ in range(200):
            ids.append(runtime.decline("en"))
    assert exc.value.code == "S-016"
    before = runtime.outbox.pending()
    assert len(before) == len(ids)
    assert runtime.outbox.integrity_ok()

    # Space comes back: the same runtime stores again and clears the error.
    runtime.outbox.db.execute("PRAGMA max_page_count = 1073741823")
    ids.append(runtime.submit(answered(runtime)))
    assert runtime.last_error is None
    stored = {key.hex(): env for key, env in runtime.outbox.pending()}
    assert set(stored) == set(ids)
    for envelope_id, env in stored.items():
        assert open_envelope(env, team.keys)[0]["id"] == envelope_id


def test_read_only_outbox_raises_s017(runtime: KioskRuntime) -> None:
    runtime.submit(answered(runtime))
    runtime.outbox.db.execute("PRAGMA query_only = ON")
    with pytest.raises(StoreError) as exc:
        runtime.submit(answered(runtime))
    assert (exc.value.code, exc.value.message) == ("S-017", READ_ONLY)
    assert runtime.last_error.user_text() == f"[S-017] {READ_ONLY} (see docs/errors.md#s-017)"
    runtime.outbox.db.execute("PRAGMA query_only = OFF")
    assert runtime.outbox.count() == 1


class SlowDisk:
    """The outbox connection with a pause after each insert, as on a slow
    SD card: another session's transaction would then start in the middle
    of this one unless the outbox serialises them."""

    def __init__(self, db) -> None:
        self._db = db

    def execute(self, sql: str, *args):
        cur = self._db.execute(sql, *args)
        if sql.startswith("INSERT INTO outbox"):
            time.sleep(0.002)
        return cur

    def __getattr__(self, name: str):
        return getattr(self._db, name)


def test_sessions_submitting_at_once_all_get_stored(runtime: KioskRuntime) -> None:
    # Streamlit sessions share one runtime and one SQLite connection.
    runtime.outbox.db = SlowDisk(runtime.outbox.db)
    got: list[str] = []
    errors: list[BaseException] = []

    def patient_flow() -> None:
        try:
            for _ in range(8):
                got.append(runtime.submit(answered(runtime)))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=patient_flow) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [str(e) for e in errors] == []
    assert len(set(got)) == 32
    assert {k.hex() for k, _ in runtime.outbox.pending()} == set(got)


def _submit(config: Path, n: int) -> list[str]:
    rt = KioskRuntime(load_config(config))
    try:
        return [rt.submit(answered(rt)) for _ in range(n)]
    finally:
        rt.outbox.close()


def _stored_ids(config: Path) -> set[str]:
    outbox = Outbox(load_config(config).outbox_path)
    try:
        return {k.hex() for k, _ in outbox.pending()}
    finally:
        outbox.close()


def test_export_keeps_everything_and_confirm_removes_exactly_the_receipt(kiosk_dir: Path, tmp_path: Path,
                                                                         team, capsys) -> None:
    exported = _submit(kiosk_dir, 6)
    bundle = tmp_path / "monday.hkb"
    assert kiosk_cli.main(["export", "--config", str(kiosk_dir), "--out", str(bundle)]) == 0
    assert capsys.readouterr().out == (f"exported 6 envelope(s) to {bundle}; they stay on this kiosk until "
                                       "'kiosk confirm RECEIPT'\n")
    assert len(read_bundle(bundle).envelopes) == 6
    assert _stored_ids(kiosk_dir) == set(exported)
    later = _submit(kiosk_dir, 2)  # after the export: not in the bundle

    unknown = [secrets.token_hex(16), secrets.token_hex(16)]
    receipt = tmp_path / "receipt.json"
    receipt.write_text(signed_receipt(kiosk_device(kiosk_dir), 1, exported[:3] + later[:1] + unknown, team.keys))
    assert kiosk_cli.main(["confirm", str(receipt), "--config", str(kiosk_dir)]) == 0
    assert capsys.readouterr().out == (
        "removed 3 envelope(s) confirmed as ingested\n"
        "2 envelope(s) of the receipt are not on this kiosk (removed earlier, or from another kiosk)\n"
        "1 envelope(s) of the receipt were never exported from this kiosk: kept\n"
        "5 envelope(s) remain on this kiosk\n")
    assert _stored_ids(kiosk_dir) == set(exported[3:]) | set(later)

    # Confirming the same receipt again removes nothing more.
    assert kiosk_cli.main(["confirm", str(receipt), "--config", str(kiosk_dir)]) == 0
    assert capsys.readouterr().out == (
        "removed 0 envelope(s) confirmed as ingested\n"
        "5 envelope(s) of the receipt are not on this kiosk (removed earlier, or from another kiosk)\n"
        "1 envelope(s) of the receipt were never exported from this kiosk: kept\n"
        "5 envelope(s) remain on this kiosk\n")
    assert _stored_ids(kiosk_dir) == set(exported[3:]) | set(later)


def test_export_to_a_missing_folder_fails_and_marks_nothing(kiosk_dir: Path, tmp_path: Path, capsys) -> None:
    _submit(kiosk_dir, 1)
    out = tmp_path / "no-such-folder" / "b.hkb"
    assert kiosk_cli.main(["export", "--config", str(kiosk_dir), "--out", str(out)]) == 1
    assert capsys.readouterr().err == (f"error: [S-020] cannot write the bundle {str(out)!r}: No such file or "
                                       "directory; nothing was removed from the kiosk and no export was recorded; "
                                       "choose an --out path on a disk with room that you can write "
                                       "(see docs/errors.md#s-020)\n")
    outbox = Outbox(load_config(kiosk_dir).outbox_path)
    try:
        assert outbox.db.execute("SELECT sum(exported) FROM outbox").fetchone()[0] == 0
        assert outbox.db.execute("SELECT count(*) FROM exported").fetchone()[0] == 0
        assert outbox.meta("last_export") is None
    finally:
        outbox.close()


# ------------------------------------------------------------------ bundles

ENVS = [b"first envelope", b"", b"third" * 100]
AGAIN = "export it again from the kiosk: nothing was removed there"


def test_bundle_round_trip_and_layout(tmp_path: Path) -> None:
    path = tmp_path / "b.hkb"
    write_bundle(path, ENVS)
    data = path.read_bytes()
    payload = b"HKBUNDLE" + struct.pack(">BI", 1, 3) + b"".join(struct.pack(">I", len(e)) + e for e in ENVS)
    assert data == payload + hashlib.sha256(payload).digest()
    bundle = read_bundle(path)
    assert bundle.envelopes == ENVS
    assert bundle.sha256 == hashlib.sha256(payload).hexdigest()
    assert not (tmp_path / "b.hkb.part").exists()


@pytest.mark.parametrize("cut, message", [
    (10, "bundle '{p}' is truncated (ends inside its header); " + AGAIN),
    (13, "bundle '{p}' is truncated (ends before envelope 1 of 3); " + AGAIN),
    (13 + 4 + 5, "bundle '{p}' is truncated (ends inside envelope 1 of 3); " + AGAIN),
    (13 + 4 + 14 + 4 + 4 + 500, "bundle '{p}' is truncated (checksum missing); " + AGAIN),
    (-1, "bundle '{p}' is truncated (checksum missing); " + AGAIN),
])
def test_truncated_bundle_is_named_as_such(tmp_path: Path, cut: int, message: str) -> None:
    path = tmp_path / "b.hkb"
    path.write_bytes(bundle_bytes(ENVS)[:cut])
    with pytest.raises(EnvelopeError) as exc:
        read_bundle(path)
    assert (exc.value.code, exc.value.message) == ("BND-006", message.format(p=path))


@pytest.mark.parametrize("change, code, message", [
    (lambda b: b[:20] + bytes([b[20] ^ 1]) + b[21:], "BND-003",
     "bundle '{p}' is damaged (checksum mismatch); " + AGAIN),
    (lambda b: b[:-1] + bytes([b[-1] ^ 0x80]), "BND-003", "bundle '{p}' is damaged (checksum mismatch); " + AGAIN),
    (lambda b: b + b"xx", "BND-005", "bundle '{p}' has 2 trailing byte(s) after its checksum; " + AGAIN),
    (lambda b: b"NOTABUND" + b[8:], "BND-002", "'{p}' is not a kiosk bundle (bad magic bytes)"),
    (lambda b: b[:8] + b"\x03" + b[9:], "BND-004", "bundle '{p}' has version 3; expected 2 (or 1)"),
    (lambda b: b[:13] + struct.pack(">I", 1 << 24) + b[17:], "BND-003",
     "bundle '{p}' is damaged (envelope 1 of 3 claims 16777216 bytes); " + AGAIN),
])
def test_damaged_bundle_is_refused_with_its_reason(tmp_path: Path, change, code: str, message: str) -> None:
    path = tmp_path / "b.hkb"
    path.write_bytes(change(bundle_bytes(ENVS)))
    with pytest.raises(EnvelopeError) as exc:
        read_bundle(path)
    assert (exc.value.code, exc.value.message) == (code, message.format(p=path))


def test_missing_bundle(tmp_path: Path) -> None:
    with pytest.raises(EnvelopeError) as exc:
        read_bundle(tmp_path / "nope.hkb")
    assert (exc.value.code, exc.value.message) == ("BND-001", f"bundle {str(tmp_path / 'nope.hkb')!r} not found")
