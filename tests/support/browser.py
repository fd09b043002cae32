"""A real kiosk server (``streamlit run`` with the hardened config) and a
headless Debian chromium driven by Playwright, for the real-browser tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

from kiosk.config import CONFIG_ENV, load_config
from kiosk.server import APP, streamlit_config

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def kiosk_server(config_path: Path, port: int | None = None) -> Iterator[str]:
    """Serve the kiosk on a loopback port (a free one by default); yield its
    base URL."""
    cfg = replace(load_config(config_path), port=port or free_port())
    run_dir = cfg.data_dir / "server"
    (run_dir / ".streamlit").mkdir(parents=True, exist_ok=True)
    (run_dir / ".streamlit" / "config.toml").write_text(streamlit_config(cfg), encoding="utf-8")
    log = open(cfg.data_dir.parent / "server.log", "wb")
    env = dict(os.environ, **{CONFIG_ENV: str(cfg.path)})
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(APP)], cwd=run_dir, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{cfg.port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("kiosk server did not start: " +
                                   (cfg.data_dir.parent / "server.log").read_text(errors="replace")[-2000:])
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextmanager
def browser_page(record: list[str]) -> Iterator[object]:
    """A fresh headless chromium page; every request URL goes to ``record``."""
    from playwright.sync_api import sync_playwright
    if not Path(CHROMIUM).exists():
        raise RuntimeError("chromium is not installed: run 'apt-get install chromium' (make test does)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 800, "height": 1280}, has_touch=True)
        page = context.new_page()
        page.on("request", lambda req: record.append(req.url))
        try:
            yield page
        finally:
            context.close()
            browser.close()


def wait_idle(page, timeout: float = 20000) -> None:
    """Wait until the Streamlit script has finished its run."""
    page.wait_for_selector('[data-test-script-state="notRunning"]', state="attached", timeout=timeout)
    page.wait_for_timeout(150)


def wait_readable(page, timeout: float = 10000) -> None:
    """Wait, as a reader would, until the kiosk takes touches again (its
    touch guard drops those that land on a screen painted too recently)."""
    page.wait_for_function("() => !window.__kioskGuard || window.__kioskGuard.ready()", timeout=timeout,
                           polling=50)


def tap(page, text: str) -> None:
    """Tap the button whose visible text is exactly ``text`` and wait."""
    wait_readable(page)
    page.get_by_role("button", name=text, exact=True).click()
    page.wait_for_timeout(100)
    wait_idle(page)


def non_loopback(urls: list[str]) -> list[str]:
    """The recorded URLs that leave this machine."""
    out = []
    for u in urls:
        parsed = urlparse(u)
        if parsed.scheme in ("data", "blob", "about"):
            continue
        if parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
            out.append(u)
    return out


def fonts_in_use(page) -> list[str]:
    """Loaded font faces, as 'family|unicode-range'."""
    return page.evaluate("async () => { await document.fonts.ready; return [...document.fonts]"
                         ".filter(f => f.status === 'loaded').map(f => f.family.replaceAll('\"', '') + '|' + "
                         "f.unicodeRange); }")


def wait_healthy(port: int, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early: {proc.stderr.read() if proc.stderr else ''}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("server did not start")
