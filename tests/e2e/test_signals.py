"""``kiosk serve`` and ``analysis dashboard`` pass SIGTERM and SIGINT on to
their Streamlit server and wait for it: once the started process has exited,
nothing answers on the port any more (a dashboard left serving would keep
showing health data)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.browser import free_port
from tests.support.browser import wait_healthy

REPO = Path(__file__).resolve().parents[2]



def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _stop_and_check(proc: subprocess.Popen, port: int, sig: int) -> None:
    assert _port_open(port)
    os.kill(proc.pid, sig)  # the PID that was started, as systemd or a terminal would
    proc.wait(timeout=60)
    assert not _port_open(port), "the server kept serving after its parent was stopped"
    assert "Traceback" not in (proc.stderr.read() if proc.stderr else "")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_kiosk_serve_stops_its_server(kiosk_dir: Path, sig: int) -> None:
    port = free_port()
    kiosk_dir.write_text(kiosk_dir.read_text().replace("port = 8501", f"port = {port}"))
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "serve", "--config", str(kiosk_dir)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_healthy(port, proc)
        _stop_and_check(proc, port, sig)
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.slow
def test_analysis_dashboard_stops_its_server(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "responses").mkdir()  # a dataset folder (one without any is refused, DSH-002)
    proc = subprocess.Popen([sys.executable, "-m", "analysis", "dashboard", "--data", str(tmp_path),
                             "--port", str(port)], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    try:
        wait_healthy(port, proc)
        _stop_and_check(proc, port, signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
