"""Running a server as a child process that never outlives the command that
started it (the kiosk's ``kiosk serve``, the team's ``analysis dashboard``).
Imports nothing of Streamlit: the child is started by its command line."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the child gets SIGTERM if this process dies, even by SIGKILL,
    so no server is left answering on the port."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def run_child(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> int:
    """Run a server as a child and stay its faithful proxy: SIGTERM, SIGINT
    and SIGHUP sent to this process (by systemd, Ctrl+C, a closed terminal)
    are passed on to the child, and this process exits only once the child
    has, with its status. Returns the child's exit status."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, preexec_fn=_die_with_parent)
    forwarded = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)

    def forward(signum: int, _frame: object) -> None:
        try:
            proc.send_signal(signum)
        except ProcessLookupError:
            pass

    previous = {sig: signal.signal(sig, forward) for sig in forwarded}
    try:
        while True:
            try:
                code = proc.wait()
                break
            except KeyboardInterrupt:  # pragma: no cover - the handler above takes SIGINT
                forward(signal.SIGINT, None)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code if code >= 0 else 128 - code

