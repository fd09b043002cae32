"""``kiosk install-service`` writes a systemd unit that systemd itself
accepts (``systemd-analyze verify``): started at boot, restarted on failure,
an unprivileged user, files private to it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_unit_verifies_with_systemd(kiosk_dir: Path, tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: install Debian's 'systemd' package (.ci/run does)"
    unit = tmp_path / "health-kiosk.service"
    proc = subprocess.run([sys.executable, "-m", "kiosk", "install-service", "--config", str(kiosk_dir),
                           "--out", str(unit)],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"systemd unit written to {unit}; to put it in service, as root:\n")
    text = unit.read_text()
    for line in ("User=healthkiosk", "Restart=on-failure", "WantedBy=multi-user.target", "UMask=0077",
                 "ProtectSystem=strict", f"ReadWritePaths={kiosk_dir.parent} {kiosk_dir.parent / 'data'}",
                 f"serve --config {kiosk_dir}"):
        assert line in text, line
    check = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=120)
    assert (check.returncode, check.stderr) == (0, ""), check.stderr
    # A broken unit is caught by the same check: the verification is real.
    unit.write_text(text.replace("Restart=on-failure", "Restart=sometimes"))
    check = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=120)
    assert "Failed to parse service restart specifier" in check.stderr


def test_root_is_refused(kiosk_dir: Path, tmp_path: Path, capsys) -> None:
    from kiosk import cli
    assert cli.main(["install-service", "--config", str(kiosk_dir), "--user", "root",
                     "--out", str(tmp_path / "u.service")]) == 1
    assert capsys.readouterr().err == ("error: [CFG-052] --user 'root': give an unprivileged system user name "
                                       "(lowercase letters, digits, '_' or '-'), never root (see docs/errors.md#cfg-052)\n")
    assert not (tmp_path / "u.service").exists()
