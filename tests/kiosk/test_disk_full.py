"""A full disk: the kiosk stores hundreds of responses in 2 MiB, says early
that storage is almost full, refuses responses while it still has the room
to export and confirm, and comes back into service once the team's receipt
is confirmed. Export's bookkeeping succeeds or rolls back with its bundle."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk import cli as kiosk_cli
from kiosk.config import KioskRuntime, load_config
from kiosk.store import Outbox
from tests.support.kiosks import PASSPHRASE

REPO = Path(__file__).resolve().parents[2]


def _can_mount() -> bool:
    """A private mount namespace with a tmpfs: root, or unprivileged user namespaces."""
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"],
                           capture_output=True)
    return probe.returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(not _can_mount(), reason="needs mount namespaces (unshare -rm) to mount a 2 MiB tmpfs; "
                                             "test_export_and_its_record_are_one_unit covers the bookkeeping")
def test_a_kiosk_on_a_2_mib_disk(kiosk_dir: Path, team, tmp_path: Path) -> None:
    mount = tmp_path / "small"
    mount.mkdir()
    kiosk_dir.write_text(kiosk_dir.read_text().replace('data_dir = "data"', f'data_dir = "{mount}/data"'))
    (tmp_path / "pw.txt").write_text(PASSPHRASE.decode() + "\n")
    outside = tmp_path / "usb"
    outside.mkdir()
    script = (f'mount -t tmpfs -o size=2m tmpfs "{mount}" && exec "{sys.executable}" tests/support/small_disk.py '
              f'"{kiosk_dir}" "{mount}" "{outside}" "{team.dir / "team.key"}" "{tmp_path / "pw.txt"}"')
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, cwd=REPO,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)

    # 2 MiB is little: storage is "almost full" from the start (exit 3).
    assert out["status_empty"] == 3
    # Hundreds of responses fit (the write-ahead log needed 64 MiB before its
    # first checkpoint: 18 fitted), and the kiosk stops on its own, with room to spare.
    assert out["stored"] >= 200
    assert out["refusal"] == "S-023"
    assert out["status_full"] == 4
    assert "OUT OF SERVICE: storage full, new responses are refused; export, hand the bundle to the team " \
           "and confirm its receipt\n" in out["status_full_text"]
    # A disk filled by something else: a bundle that does not fit is not left
    # behind; a bundle whose export cannot be recorded is deleted again.
    code, err = out["export_same_disk"]
    assert code == 1 and err.startswith("error: [S-020] cannot write the bundle ") and "Traceback" not in err
    assert "no export was recorded" in err
    assert out["mount_files"] == ["ballast", "data"]
    code, err = out["export_no_room"]
    assert (code, err) == (1, "error: [S-016] could not record the export (the bundle was deleted again): the "
                              "kiosk's disk is full; free space or export and confirm stored responses (nothing "
                              "already stored was lost) (see docs/errors.md#s-016)\n")
    assert out["outside_files"] == []
    assert out["status_no_room"] == 4
    code, stdout, err = out["export"]
    assert (code, err) == (0, "")
    assert stdout.startswith(f"exported {out['stored']} envelope(s) to {outside / 'monday.hkb'}")
    assert out["ingest"][0] == 0
    code, stdout, err = out["confirm"]
    assert (code, err) == (0, "")
    assert f"removed {out['stored']} envelope(s) confirmed as ingested\n0 envelope(s) remain" in stdout
    # Back in service: the space came back, responses are stored again.
    code, stdout = out["status_after"]
    assert code == 3 and "OUT OF SERVICE" not in stdout
    assert (out["stored_again"], out["refusal_again"]) == (50, "")


class _FailingCommit:
    """The outbox connection, but COMMIT fails as on a disk that filled up
    while the bundle was being written."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def execute(self, sql: str, *args):
        if sql == "COMMIT":
            exc = sqlite3.OperationalError("database or disk is full")
            exc.sqlite_errorcode = 13  # SQLITE_FULL
            raise exc
        return self.db.execute(sql, *args)

    def __getattr__(self, name: str):
        return getattr(self.db, name)


def test_export_and_its_record_are_one_unit(kiosk_dir: Path, tmp_path: Path, capsys) -> None:
    rt = KioskRuntime(load_config(kiosk_dir))
    ids = [rt.decline("fr") for _ in range(5)]
    rt.outbox.close()
    outbox = Outbox(load_config(kiosk_dir).outbox_path)
    real = outbox.db
    outbox.db = _FailingCommit(real)  # type: ignore[assignment]
    bundle = tmp_path / "b.hkb"
    with pytest.raises(Exception) as info:
        outbox.export_bundle(bundle)
    assert getattr(info.value, "code", None) == "S-016"
    assert "the bundle was deleted again" in info.value.message
    outbox.db = real
    # Neither a bundle nor a record of it: nothing recorded-nowhere.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kiosk"]
    assert outbox.db.execute("SELECT count(*) FROM exported").fetchone()[0] == 0
    assert outbox.meta("last_export") is None
    outbox.close()

    # A FILE.part left by a kill is cleaned by the next export, which records everything.
    (tmp_path / "b.hkb.part").write_bytes(b"half a bundle")
    assert kiosk_cli.main(["export", "--config", str(kiosk_dir), "--out", str(bundle)]) == 0
    assert capsys.readouterr().out == (f"removed {bundle}.part left by an interrupted export\n"
                                       f"exported 5 envelope(s) to {bundle}; they stay on this kiosk until "
                                       "'kiosk confirm RECEIPT'\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.hkb", "kiosk"]
    outbox = Outbox(load_config(kiosk_dir).outbox_path)
    try:
        assert {bytes(r[0]).hex() for r in outbox.db.execute("SELECT id FROM exported")} == set(ids)
    finally:
        outbox.close()


@pytest.mark.slow
def test_the_write_ahead_log_stays_small(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    try:
        for i in range(300):
            outbox.put(os.urandom(16).hex(), os.urandom(2174))
            assert os.path.getsize(tmp_path / "outbox.sqlite3-wal") <= 12 * 65536
    finally:
        outbox.close()


def test_status_exit_codes(kiosk_dir: Path, capsys, monkeypatch) -> None:
    from kiosk import store
    assert kiosk_cli.main(["status", "--config", str(kiosk_dir)]) == 0
    out = capsys.readouterr().out
    assert "OUT OF SERVICE" not in out and "WARNING" not in out
    # Room for fewer than 1,000 responses: almost full.
    monkeypatch.setattr(store, "disk_free", lambda folder: store.RESERVE_BYTES + 500 * 2300)
    assert kiosk_cli.main(["status", "--config", str(kiosk_dir)]) == 3
    assert "WARNING: storage almost full; export, hand the bundle to the team and confirm its receipt soon\n" \
        in capsys.readouterr().out
    monkeypatch.setattr(store, "disk_free", lambda folder: store.RESERVE_BYTES)
    assert kiosk_cli.main(["status", "--config", str(kiosk_dir)]) == 4
    rt = KioskRuntime(load_config(kiosk_dir))
    try:
        with pytest.raises(Exception) as info:
            rt.decline("fr")
        assert getattr(info.value, "code", None) == "S-023"
        assert rt.out_of_service
    finally:
        rt.outbox.close()
