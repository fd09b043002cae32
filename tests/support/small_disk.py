"""Run a kiosk on a real 2 MiB filesystem until it is full, then bring it
back into service the way staff would; print what happened as JSON.

Run by ``tests/kiosk/test_disk_full.py`` inside a private mount namespace
(``unshare``) where ``MOUNT`` is a freshly mounted 2 MiB tmpfs:

    python tests/support/small_disk.py KIOSK.toml MOUNT OUTSIDE TEAM_KEY PASSPHRASE_FILE
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from surveycore.errors import KioskError  # noqa: E402
from kiosk.config import KioskRuntime, load_config  # noqa: E402


def cli(*args: str) -> tuple[int, str, str]:
    """The real command line, as staff run it."""
    proc = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=REPO)
    return proc.returncode, proc.stdout, proc.stderr


def fill(config: str, limit: int = 5000) -> tuple[int, str]:
    """Store declined responses until the kiosk refuses one; return how many
    it took and the refusal's code."""
    rt = KioskRuntime(load_config(config))
    n = 0
    try:
        while n < limit:
            try:
                rt.decline("fr")
            except KioskError as exc:
                return n, exc.code
            n += 1
        return n, ""
    finally:
        rt.outbox.close()


def main(config: str, mount: str, outside: str, key: str, passphrase: str) -> None:
    out: dict = {}
    out["status_empty"] = cli("kiosk", "status", "--config", config)[0]
    out["stored"], out["refusal"] = fill(config)
    code, stdout, _ = cli("kiosk", "status", "--config", config)
    out["status_full"] = code
    out["status_full_text"] = stdout
    # Something else fills the disk to the last byte (a log, a download).
    ballast = Path(mount) / "ballast"
    with open(ballast, "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 4096)
        except OSError:
            pass
    # ... but for 160 KiB: the outbox opens, a bundle of hundreds of
    # responses does not fit, and recording an export (64 KiB pages) fails.
    os.truncate(ballast, ballast.stat().st_size - 160 * 1024)
    # A bundle on the full disk itself cannot be written: nothing recorded, no file left.
    code, _, err = cli("kiosk", "export", "--config", config, "--out", f"{mount}/on-the-full-disk.hkb")
    out["export_same_disk"] = (code, err)
    out["mount_files"] = sorted(p.name for p in Path(mount).iterdir())
    # To the USB key: the bundle is written, but the export cannot be
    # recorded on the full disk: the bundle is deleted again.
    bundle = f"{outside}/monday.hkb"
    code, stdout, err = cli("kiosk", "export", "--config", config, "--out", bundle)
    out["export_no_room"] = (code, err)
    out["outside_files"] = sorted(p.name for p in Path(outside).iterdir())
    code, stdout, _ = cli("kiosk", "status", "--config", config)
    out["status_no_room"] = code
    # Space is freed: the routine works again.
    ballast.unlink()
    code, stdout, err = cli("kiosk", "export", "--config", config, "--out", bundle)
    out["export"] = (code, stdout, err)
    data = f"{outside}/dataset"
    code, stdout, err = cli("analysis", "ingest", bundle, "--key", key, "--passphrase-file", passphrase,
                            "--data", data, "--any-device")
    out["ingest"] = (code, err)
    code, stdout, err = cli("kiosk", "confirm", f"{data}/receipts", "--config", config)
    out["confirm"] = (code, stdout, err)
    code, stdout, _ = cli("kiosk", "status", "--config", config)
    out["status_after"] = (code, stdout)
    out["stored_again"], out["refusal_again"] = fill(config, limit=50)
    print(json.dumps(out))


if __name__ == "__main__":
    main(*sys.argv[1:])
