"""No traceback, ever: every bad input at either command line ends in one
coded line on stderr and a non-zero exit, run as a real process."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.kiosks import PASSPHRASE, make_kiosk

REPO = Path(__file__).resolve().parents[2]
CODED = re.compile(r"error: \[[A-Z]+(-[A-Z]+)?-\d{3}\] [^\n]+\n")
NESTED = "[" * 100_000 + "]" * 100_000
NOT_UTF8 = b"\xff\xfe\x00 not text \xc3\x28"


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def bad(path: Path, how: str) -> Path:
    """Turn ``path`` into a directory, non-UTF-8 bytes or deeply nested JSON."""
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    if how == "folder":
        path.mkdir()
    elif how == "not-utf8":
        path.write_bytes(NOT_UTF8)
    elif how == "nested":
        path.write_text(NESTED)
    else:
        raise AssertionError(how)
    return path


@pytest.fixture(scope="module")
def template(team, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kiosk with one stored response, its bundle, a passphrase file and a
    dataset trusting it; each test gets its own copy."""
    from analysis import cli as analysis_cli
    from kiosk import cli as kiosk_cli
    from kiosk.config import KioskRuntime, load_config
    root = tmp_path_factory.mktemp("site")
    config = make_kiosk(root / "kiosk", team)
    rt = KioskRuntime(load_config(config))
    rt.decline("fr")
    rt.outbox.close()
    assert kiosk_cli.main(["export", "--config", str(config), "--out", str(root / "b.hkb")]) == 0
    (root / "pw.txt").write_text(PASSPHRASE.decode() + "\n")
    assert analysis_cli.main(["trust", str(root / "kiosk" / "device" / "device.pub"), "--data",
                              str(root / "data")]) == 0
    return root


@pytest.fixture
def site(template: Path, team, tmp_path: Path) -> dict[str, Path]:
    root = tmp_path / "site"
    shutil.copytree(template, root)
    return {"config": root / "kiosk" / "kiosk.toml", "bundle": root / "b.hkb", "pw": root / "pw.txt",
            "data": root / "data", "key": team.dir / "team.key", "pub": team.dir / "team.pub",
            "device_pub": root / "kiosk" / "device" / "device.pub", "tmp": root}


def ingest(s: dict[str, Path], *extra: str, key: Path | None = None, pw: Path | None = None,
           data: Path | None = None) -> list[str]:
    return ["analysis", "ingest", str(s["bundle"]), "--key", str(key or s["key"]), "--passphrase-file",
            str(pw or s["pw"]), "--data", str(data or s["data"]), *extra]


def _toml(s: dict[str, Path], how: str) -> list[str]:
    cfg = s["config"]
    text = cfg.read_text()
    if how in ("folder", "not-utf8"):
        bad(cfg, how)
    elif how == "port":
        cfg.write_text(text.replace("port = 8501", 'port = "eighty"'))
    elif how == "kiosk":
        cfg.write_text('kiosk = "x"\n')
    elif how == "modules":
        cfg.write_text(text.replace("modules = []", "modules = 5"))
    return ["kiosk", "status", "--config", str(cfg)]


def _copy(src: Path, dst: Path) -> Path:
    shutil.copy(src, dst)
    return dst


CASES = {
    # kiosk.toml
    "toml-not-utf8": (lambda s: _toml(s, "not-utf8"), "CFG-003"),
    "toml-folder": (lambda s: _toml(s, "folder"), "CFG-002"),
    "toml-port-text": (lambda s: _toml(s, "port"), "CFG-006"),
    "toml-kiosk-text": (lambda s: _toml(s, "kiosk"), "CFG-006"),
    "toml-modules-number": (lambda s: _toml(s, "modules"), "CFG-006"),
    # the team public key on the kiosk
    "team-pub-folder": (lambda s: ["kiosk", "set-key", str(bad(s["tmp"] / "new.pub", "folder")), "--config",
                                   str(s["config"])], "KEY-002"),
    "team-pub-not-utf8": (lambda s: ["kiosk", "set-key", str(bad(s["tmp"] / "new.pub", "not-utf8")), "--config",
                                     str(s["config"])], "KEY-003"),
    "team-pub-nested": (lambda s: ["kiosk", "set-key", str(bad(s["tmp"] / "new.pub", "nested")), "--config",
                                   str(s["config"])], "KEY-003"),
    "installed-pub-folder": (lambda s: ["kiosk", "status", "--config", str(s["config"])]
                             if bad(s["config"].parent / "team" / "team.pub", "folder") else [], "KEY-002"),
    # the team private key
    "team-key-folder": (lambda s: ingest(s, key=bad(s["tmp"] / "k.key", "folder")), "KEY-041"),
    "team-key-not-utf8": (lambda s: ingest(s, key=bad(s["tmp"] / "k.key", "not-utf8")), "KEY-041"),
    "team-key-nested": (lambda s: ingest(s, key=bad(s["tmp"] / "k.key", "nested")), "KEY-041"),
    # the device key and its public half
    "device-key-folder": (lambda s: ["kiosk", "status", "--config", str(s["config"])]
                          if bad(s["config"].parent / "device" / "device.key", "folder") else [], "KEY-022"),
    "device-key-not-utf8": (lambda s: ["kiosk", "status", "--config", str(s["config"])]
                            if bad(s["config"].parent / "device" / "device.key", "not-utf8") else [], "KEY-022"),
    "device-pub-folder": (lambda s: ["analysis", "trust", str(bad(s["tmp"] / "d.pub", "folder")), "--data",
                                     str(s["data"])], "KEY-024"),
    "device-pub-not-utf8": (lambda s: ["analysis", "trust", str(bad(s["tmp"] / "d.pub", "not-utf8")), "--data",
                                       str(s["data"])], "KEY-024"),
    "device-pub-nested": (lambda s: ["analysis", "trust", str(bad(s["tmp"] / "d.pub", "nested")), "--data",
                                     str(s["data"])], "KEY-024"),
    # the dataset's trusted devices
    "trust-list-folder": (lambda s: ingest(s) if bad(s["data"] / "trusted_devices.json", "folder") else [],
                          "KEY-061"),
    "trust-list-not-utf8": (lambda s: ingest(s) if bad(s["data"] / "trusted_devices.json", "not-utf8") else [],
                            "KEY-061"),
    "trust-list-nested": (lambda s: ingest(s) if bad(s["data"] / "trusted_devices.json", "nested") else [],
                          "KEY-061"),
    # receipts
    "receipt-not-utf8": (lambda s: ["kiosk", "confirm", str(bad(s["tmp"] / "r.json", "not-utf8")), "--config",
                                    str(s["config"])], "CFG-021"),
    "receipt-nested": (lambda s: ["kiosk", "confirm", str(bad(s["tmp"] / "r.json", "nested")), "--config",
                                  str(s["config"])], "CFG-021"),
    "receipt-folder": (lambda s: ["kiosk", "confirm", str(bad(s["tmp"] / "r.json", "folder")), "--config",
                                  str(s["config"])], "CFG-029"),
    # passphrase and PIN files
    "passphrase-folder": (lambda s: ingest(s, pw=bad(s["tmp"] / "p.txt", "folder")), "KEY-045"),
    "passphrase-not-utf8": (lambda s: ingest(s, pw=bad(s["tmp"] / "p.txt", "not-utf8")), "KEY-045"),
    "pin-file-folder": (lambda s: ["kiosk", "set-pin", "--pin-file", str(bad(s["tmp"] / "pin", "folder")),
                                   "--config", str(s["config"])], "PIN-003"),
    "pin-file-not-utf8": (lambda s: ["kiosk", "set-pin", "--pin-file", str(bad(s["tmp"] / "pin", "not-utf8")),
                                     "--config", str(s["config"])], "PIN-003"),
    # folders given where files are expected and the reverse
    "data-is-a-file": (lambda s: ingest(s, data=_copy(s["pw"], s["tmp"] / "data.txt")), "CFG-033"),
    "report-data-is-a-file": (lambda s: ["analysis", "report", "--data", str(s["pw"]), "--out",
                                         str(s["tmp"] / "r.html")], "CFG-033"),
    "receipts-under-a-file": (lambda s: ingest(s, "--receipts", str(s["pw"] / "receipts")), "ING-050"),
    "export-out-is-a-folder": (lambda s: ["kiosk", "export", "--config", str(s["config"]), "--out",
                                          str(s["tmp"])], "S-020"),
    "check-a-fifo": (lambda s: ["kiosk", "check", str(_fifo(s["tmp"] / "m.yaml"))], None),
}


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_gives_one_coded_line(site: dict[str, Path], case: str) -> None:
    make, code = CASES[case]
    args = make(site)
    proc = run(*args)
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    assert proc.returncode != 0
    if code is None:  # kiosk check reports problems on stdout, in its own format
        assert re.search(r"error \[Q-FILE-00\d\]", proc.stdout), proc.stdout
        return
    assert CODED.fullmatch(proc.stderr), proc.stderr
    assert proc.stderr.startswith(f"error: [{code}] "), proc.stderr


@pytest.mark.slow
def test_a_failed_receipt_write_after_the_run_committed_says_how_to_get_it(site: dict[str, Path]) -> None:
    proc = run(*ingest(site, "--receipts", str(site["pw"] / "receipts")))
    assert proc.returncode == 1
    assert proc.stderr == (f"error: [ING-050] cannot create the receipts folder {str(site['pw'] / 'receipts')!r} "
                           "(Not a directory); the run is committed: run the same ingest again with another "
                           "--receipts folder to get its receipts (nothing is ingested twice) (see docs/errors.md#ing-050)\n")
    proc = run(*ingest(site, "--receipts", str(site["tmp"] / "new" / "folder")))
    assert proc.returncode == 0, proc.stderr
    assert "ingested: 0\nalready ingested (skipped): 1\n" in proc.stdout
    (receipt,) = (site["tmp"] / "new" / "folder").iterdir()
    assert len(json.loads(receipt.read_text())["envelopes"]) == 1


@pytest.mark.slow
def test_ingest_into_a_closed_pipe_still_writes_the_receipt(site: dict[str, Path]) -> None:
    # `analysis ingest ... | head -1`: the reader is gone before ingest prints.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable, "-m", *ingest(site)], stdout=write_end, stderr=subprocess.PIPE,
                              text=True, cwd=REPO, timeout=120)
    finally:
        os.close(write_end)
    assert proc.stderr == "" and proc.returncode == 1
    (receipt,) = (site["data"] / "receipts").iterdir()
    assert len(json.loads(receipt.read_text())["envelopes"]) == 1
