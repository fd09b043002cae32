"""Kill -9 a kiosk at random points while it stores responses, and check that
every response acknowledged to a patient survived and the outbox is sound.

A child process submits responses in a loop through :class:`KioskRuntime`
and prints each envelope id once ``submit`` has returned (the moment the
patient would be thanked). The driver SIGKILLs it at random times, restarts
it, and finally checks: every acknowledged id is in the outbox, ``PRAGMA
integrity_check`` passes, and every stored envelope opens with the team key
and carries the id it is stored under.

    python -m bench.fault_kill            # 1,000 submissions, 20 kills
    python -m bench.fault_kill --quick    # 300 submissions, 5 kills

``tests/e2e/test_faults.py`` runs the short version.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def child(config: str, count: int) -> None:
    """Submit ``count`` random responses, printing each acknowledged id."""
    from kiosk.config import KioskRuntime, load_config
    from kiosk.flow import Respondent

    rt = KioskRuntime(load_config(config))
    rng = random.Random()
    print("ready", flush=True)
    for _ in range(count):
        r = Respondent(rt.survey, rng.choice(list(rt.survey.site.languages)))
        while not r.finished:
            item = r.current
            assert item is not None
            if rng.random() < 0.1 or not item.choices:
                r.prefer_not()
            else:
                r.answer(rng.choice([c.code for c in item.choices]))
        envelope_id = rt.submit(r)
        print(envelope_id, flush=True)


def kill_rounds(config: Path, kills: int, per_round: int, seed: int | None = None) -> tuple[set[str], int]:
    """Start the child ``kills`` times and SIGKILL it after a random number of
    acknowledgements (1 to 2×``per_round``) plus a random delay of up to
    3 ms, so the kill lands anywhere in a submission. Returns the
    acknowledged ids and the number of kills that hit a running child."""
    rng = random.Random(seed)
    acked: set[str] = set()
    killed = 0
    for _ in range(kills):
        proc = subprocess.Popen([sys.executable, "-m", "bench.fault_kill", "--child", str(config),
                                 str(per_round * 100)], cwd=REPO, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        first = proc.stdout.readline()
        if first.strip() != "ready":
            proc.kill()
            proc.wait()
            raise RuntimeError(f"the kiosk child did not start: {first!r}")
        target = rng.randint(1, 2 * per_round)
        for _ in range(target):
            line = proc.stdout.readline()
            if not line:
                break
            acked.add(line.strip())
        time.sleep(rng.uniform(0, 0.003))  # only picks the kill moment; nothing waits on it
        os.kill(proc.pid, signal.SIGKILL)
        rest, _ = proc.communicate()  # ids printed before the kill are acknowledged too
        acked.update(x for x in rest.split() if x)
        killed += proc.returncode == -signal.SIGKILL
    return acked, killed


@dataclass
class Check:
    """What the outbox looks like after the kills."""

    acknowledged: int
    stored: int
    missing: list[str]
    integrity: str
    unreadable: list[str]  # stored envelopes that do not open to their own id


def check_outbox(config: Path, acked: set[str], keys: dict[bytes, Any]) -> Check:
    """Compare the outbox with the acknowledged ids and open every envelope."""
    from analysis.envelopes import open_envelope
    from kiosk.config import load_config
    from surveycore.errors import KioskError
    from kiosk.store import Outbox

    outbox = Outbox(load_config(config).outbox_path)
    try:
        integrity = outbox.db.execute("PRAGMA integrity_check").fetchone()[0]
        pending = outbox.pending()
    finally:
        outbox.close()
    stored = {i.hex() for i, _ in pending}
    unreadable = []
    for key, env in pending:
        try:
            body, _ = open_envelope(env, keys)
            if body["id"] != key.hex():
                unreadable.append(key.hex())
        except KioskError:
            unreadable.append(key.hex())
    return Check(len(acked), len(stored), sorted(acked - stored), integrity, unreadable)


def make_kiosk(folder: Path, suite: str = "mlkem768-x25519") -> tuple[Path, dict[bytes, Any]]:
    """A kiosk folder (demo survey, fresh team key of ``suite`` and device
    key); returns the kiosk.toml path and the team keys."""
    import shutil

    from analysis.keys import keygen
    from kiosk.cli import QUESTIONNAIRES, _demo_toml
    from surveycore.keys import SUITE_BY_NAME
    from kiosk.keys import create_device_key

    key = keygen(folder / "team", b"fault-kill passphrase", suite=SUITE_BY_NAME[suite], n=2 ** 12)
    create_device_key(folder / "device" / "device.key")
    (folder / "survey").mkdir(parents=True)
    for name in ("demo_survey.yaml", "mehm.yaml"):
        shutil.copy(QUESTIONNAIRES / name, folder / "survey" / name)
    cfg = folder / "kiosk.toml"
    cfg.write_text(_demo_toml(), encoding="utf-8")
    return cfg, {key.public.key_id: key}


def main(argv: list[str]) -> int:
    """Run the long version and print the outcome; exit 1 on any loss."""
    quick = "--quick" in argv
    kills, per_round = (5, 60) if quick else (20, 50)
    with tempfile.TemporaryDirectory(prefix="fault-kill-") as tmp:
        cfg, keys = make_kiosk(Path(tmp))
        t = time.perf_counter()
        acked, killed = kill_rounds(cfg, kills, per_round)
        result = check_outbox(cfg, acked, keys)
        print(f"{killed} kills, {result.acknowledged} acknowledged, {result.stored} stored, "
              f"{len(result.missing)} missing, integrity {result.integrity}, "
              f"{len(result.unreadable)} unreadable, {time.perf_counter() - t:.1f} s")
        return 0 if not result.missing and result.integrity == "ok" and not result.unreadable else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(main(sys.argv[1:]))
