"""The fault campaign, kept as tests (small sizes): kill -9 during export,
confirm and ingest gives the same result as an uninterrupted run once the
command is run again; submitters running while bundles are exported lose
and duplicate nothing."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from surveycore.bundle import read_bundle
from analysis.ingest import ingest
from analysis.receipts import write_receipts
from kiosk.config import KioskRuntime, load_config
from kiosk.store import Outbox
from tests.support.kiosks import PASSPHRASE
from tests.support.datasets import content

REPO = Path(__file__).resolve().parents[2]


def declines(config: Path, n: int) -> list[str]:
    rt = KioskRuntime(load_config(config))
    try:
        return [rt.decline("fr" if i % 2 else "en") for i in range(n)]
    finally:
        rt.outbox.close()


def outbox_state(config: Path) -> tuple[set[str], set[str], str]:
    """(stored ids, ids recorded as exported, integrity check)."""
    outbox = Outbox(load_config(config).outbox_path)
    try:
        stored = {bytes(r[0]).hex() for r in outbox.db.execute("SELECT id FROM outbox")}
        exported = {bytes(r[0]).hex() for r in outbox.db.execute(
            "SELECT id FROM outbox o WHERE exported > 0 OR EXISTS (SELECT 1 FROM exported e WHERE e.id = o.id)")}
        return stored, exported, outbox.db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        outbox.close()


def killed(args: list[str], delay: float) -> int:
    """Start a real command, SIGKILL it after ``delay`` seconds (or let it
    finish first); return its status."""
    proc = subprocess.Popen([sys.executable, "-m", *args], cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    err = proc.stderr.read() if proc.stderr else ""
    assert "Traceback" not in err, err
    return proc.returncode


@pytest.mark.slow
def test_kill_9_during_export_leaves_a_recorded_bundle_or_none(kiosk_dir: Path, team, tmp_path: Path) -> None:
    ids = set(declines(kiosk_dir, 120))
    rng = random.Random(19)
    bundle = tmp_path / "b.hkb"
    for _ in range(6):
        bundle.unlink(missing_ok=True)
        killed(["kiosk", "export", "--config", str(kiosk_dir), "--out", str(bundle)], rng.uniform(0.2, 2.0))
        stored, exported, integrity = outbox_state(kiosk_dir)
        assert (stored, integrity) == (ids, "ok")
        if bundle.exists():  # under its final name, a bundle is whole and recorded
            held = {e for e in read_bundle(bundle).envelopes}
            assert len(held) == len(ids) and exported == ids
    # Run again: it completes, cleaning any FILE.part.
    assert killed(["kiosk", "export", "--config", str(kiosk_dir), "--out", str(bundle)], 120) == 0
    assert len(read_bundle(bundle).envelopes) == len(ids)
    assert not (tmp_path / "b.hkb.part").exists()
    assert outbox_state(kiosk_dir)[1] == ids


@pytest.mark.slow
def test_kill_9_during_confirm_then_again_removes_exactly_the_receipt(kiosk_dir: Path, team,
                                                                      tmp_path: Path) -> None:
    first = set(declines(kiosk_dir, 80))
    assert killed(["kiosk", "export", "--config", str(kiosk_dir), "--out", str(tmp_path / "b.hkb")], 120) == 0
    later = set(declines(kiosk_dir, 10))
    result = ingest([tmp_path / "b.hkb"], team.keys, tmp_path / "data", [kiosk_dir.parent / "survey"])
    (receipt,) = write_receipts(tmp_path / "receipts", result.run, result.receipt_devices, team.keys)
    rng = random.Random(7)
    for _ in range(4):
        killed(["kiosk", "confirm", str(receipt), "--config", str(kiosk_dir)], rng.uniform(0.2, 1.5))
        stored, _, integrity = outbox_state(kiosk_dir)
        assert integrity == "ok" and later <= stored <= first | later
    assert killed(["kiosk", "confirm", str(receipt), "--config", str(kiosk_dir)], 120) == 0
    assert outbox_state(kiosk_dir)[0] == later


@pytest.mark.slow
def test_kill_9_during_ingest_then_again_gives_the_same_dataset(kiosk_dir: Path, team, tmp_path: Path) -> None:
    declines(kiosk_dir, 150)
    bundle = tmp_path / "b.hkb"
    assert killed(["kiosk", "export", "--config", str(kiosk_dir), "--out", str(bundle)], 120) == 0
    reference = tmp_path / "reference"
    ingest([bundle], team.keys, reference, [kiosk_dir.parent / "survey"])
    (tmp_path / "pw").write_text(PASSPHRASE.decode() + "\n")
    data = tmp_path / "data"
    args = ["analysis", "ingest", str(bundle), "--key", str(team.dir / "team.key"), "--passphrase-file",
            str(tmp_path / "pw"), "--data", str(data), "--any-device", "--questionnaires",
            str(kiosk_dir.parent / "survey")]
    rng = random.Random(3)
    for _ in range(4):
        killed(args, rng.uniform(0.5, 3.0))
    assert killed(args, 300) == 0
    assert content(data) == content(reference)
    assert len(content(data)) == 150
    receipts = [json.loads(p.read_text()) for p in (data / "receipts").iterdir()]
    assert receipts and all(len(r["envelopes"]) == 150 for r in receipts)


SUBMITTER = """
import sys
from kiosk.config import KioskRuntime, load_config
rt = KioskRuntime(load_config(sys.argv[1]))
for _ in range(int(sys.argv[2])):
    print(rt.decline("fr"), flush=True)
"""


@pytest.mark.slow
def test_submitters_during_exports_lose_and_duplicate_nothing(kiosk_dir: Path, tmp_path: Path) -> None:
    submitters = [subprocess.Popen([sys.executable, "-c", SUBMITTER, str(kiosk_dir), "150"], cwd=REPO,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    bundles = []
    deadline = time.monotonic() + 240
    while any(p.poll() is None for p in submitters) and time.monotonic() < deadline:
        out = tmp_path / f"b{len(bundles)}.hkb"
        assert killed(["kiosk", "export", "--config", str(kiosk_dir), "--out", str(out)], 120) == 0
        bundles.append(out)
    acked: set[str] = set()
    for p in submitters:
        stdout, stderr = p.communicate(timeout=240)
        assert p.returncode == 0 and "Traceback" not in stderr, stderr
        lines = stdout.split()
        assert len(lines) == len(set(lines)) == 150
        acked |= set(lines)
    assert len(acked) == 300 and len(bundles) >= 2
    stored, exported, integrity = outbox_state(kiosk_dir)
    assert (stored, integrity) == (acked, "ok")
    for b in bundles:
        envelopes = read_bundle(b).envelopes
        assert len(envelopes) == len(set(envelopes))  # no envelope twice in a bundle
    final = tmp_path / "final.hkb"
    assert killed(["kiosk", "export", "--config", str(kiosk_dir), "--out", str(final)], 120) == 0
    assert len(read_bundle(final).envelopes) == 300 and outbox_state(kiosk_dir)[1] == acked


@pytest.mark.slow
def test_killing_ingest_leaves_no_worker_traceback(kiosk_dir: Path, team, tmp_path: Path) -> None:
    # Enough envelopes for ingest to open them with worker processes.
    declines(kiosk_dir, 3000)
    bundle = tmp_path / "b.hkb"
    assert killed(["kiosk", "export", "--config", str(kiosk_dir), "--out", str(bundle)], 120) == 0
    (tmp_path / "pw").write_text(PASSPHRASE.decode() + "\n")
    for n, delay in enumerate((1.2, 1.6, 2.0, 2.4, 2.8, 3.4)):
        proc = subprocess.Popen([sys.executable, "-m", "analysis", "ingest", str(bundle), "--key",
                                 str(team.dir / "team.key"), "--passphrase-file", str(tmp_path / "pw"),
                                 "--data", str(tmp_path / f"data{n}"), "--any-device", "--questionnaires",
                                 str(kiosk_dir.parent / "survey")], cwd=REPO, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        err = proc.stderr.read()  # until every process sharing the pipe (the workers) has gone
        proc.wait()
        assert "Traceback" not in err and "BrokenPipeError" not in err, err
