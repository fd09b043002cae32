"""Kiosk speed: server time per tap (AppTest) and tap-to-next-question
latency with 10 concurrent real browsers, each against a bare Streamlit
script with the same widgets, measured in the same run.

Loopback only; every loop is bounded in count and time.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.common import peak_rss_mb, percentile, row

CHOICES = ["Never", "Rarely", "Sometimes", "Often", "Always"]

BARE_SCRIPT = '''
import streamlit as st
n = {n}
i = st.session_state.setdefault("i", 0)
if i >= n:
    st.title("Thank you!")
else:
    st.progress(i / n, text=f"Question {{i + 1}} of {{n}}")
    st.header(f"Question number {{i + 1}} about your health?")
    for code, label in enumerate({choices!r}):
        if st.button(label, key=f"q{{i}}-{{code}}", use_container_width=True):
            st.session_state["i"] = i + 1
            st.rerun()
    st.button("Prefer not to answer", key=f"q{{i}}-pna", use_container_width=True)
    st.button("Back", key=f"q{{i}}-back", use_container_width=True)
'''


def _module(n: int) -> str:
    lines = ["id: bench", "version: 1.0.0", "title: {en: Bench}", "source: synthetic", "license: CC0",
             "languages: {en: validated}", "choices:", "  five:"]
    for code, label in enumerate(CHOICES):
        lines.append(f'    - {{code: "{code}", label: {{en: {label}}}}}')
    lines.append("items:")
    for i in range(n):
        lines += [f"  - id: q{i}", "    type: single", f"    text: {{en: Question number {i + 1} about your health?}}",
                  "    choices: five"]
    return "\n".join(lines) + "\n"


def make_kiosk(folder: Path, n: int) -> Path:
    """A kiosk folder with an n-item single-choice survey; returns kiosk.toml."""
    from analysis.keys import keygen
    from kiosk.cli import _demo_toml
    from kiosk.keys import create_device_key
    keygen(folder / "team", b"benchmark passphrase", n=2 ** 12)
    create_device_key(folder / "device" / "device.key")
    (folder / "survey").mkdir(parents=True)
    (folder / "survey" / "bench.yaml").write_text(_module(n), encoding="utf-8")
    (folder / "survey" / "demo_survey.yaml").write_text(
        "id: benchsurvey\nversion: 1.0.0\nmodules:\n  - {id: bench, version: 1.0.0}\n"
        "site:\n  centre: BENCH\n  languages: [en]\n  idle_timeout: 1800\n", encoding="utf-8")
    cfg = folder / "kiosk.toml"
    cfg.write_text(_demo_toml(), encoding="utf-8")
    return cfg


# ---------------------------------------------------------------- AppTest

def apptest_taps(folder: Path, n: int) -> tuple[list[float], list[float]]:
    """Per-tap server times (ms) through the kiosk and the bare script."""
    from streamlit.testing.v1 import AppTest
    cfg = make_kiosk(folder / "kiosk", n)
    os.environ["KIOSK_CONFIG"] = str(cfg)
    app = str(Path(__file__).resolve().parent.parent / "kiosk" / "app.py")
    at = AppTest.from_file(app, default_timeout=60)
    at.run()
    next(b for b in at.button if b.key == "lang-en").click().run()
    next(b for b in at.button if b.key == "consent-yes").click().run()
    kiosk: list[float] = []
    for _ in range(n):
        button = next(b for b in at.button if (b.key or "").endswith("-c-2"))
        t = time.perf_counter()
        button.click().run()
        kiosk.append((time.perf_counter() - t) * 1000)
    assert [t.value for t in at.title] == ["Thank you!"], "kiosk survey did not finish"
    bare_path = folder / "bare.py"
    bare_path.write_text(BARE_SCRIPT.format(n=n, choices=CHOICES), encoding="utf-8")
    bt = AppTest.from_file(str(bare_path), default_timeout=60)
    bt.run()
    bare: list[float] = []
    for _ in range(n):
        button = next(b for b in bt.button if (b.key or "").endswith("-2"))
        t = time.perf_counter()
        button.click().run()
        bare.append((time.perf_counter() - t) * 1000)
    return kiosk, bare


# ---------------------------------------------------------------- browsers

def _serve(script: Path, cwd: Path, port: int, env_extra: dict[str, str], config: str) -> subprocess.Popen:
    (cwd / ".streamlit").mkdir(parents=True, exist_ok=True)
    (cwd / ".streamlit" / "config.toml").write_text(config, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(script)], cwd=cwd,
                            env=dict(os.environ, **env_extra), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


async def _session(browser, url: str, n: int, kiosk: bool, latencies: list[float]) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    try:
        await page.goto(url, timeout=60000)
        if kiosk:
            await page.get_by_role("button", name="English", exact=True).click(timeout=60000)
            await page.get_by_role("button", name="I agree, start", exact=True).click(timeout=60000)
        for i in range(n):
            heading = page.get_by_text(f"Question number {i + 1} about your health?", exact=True)
            await heading.wait_for(timeout=60000)
            # The answer button of *this* question (a stale one may linger
            # for a moment while the page updates).
            css = f"[class*='-bench-q{i}-'][class*='-c-2'] button" if kiosk else f".st-key-q{i}-2 button"
            button = page.locator(css)
            await button.wait_for(timeout=60000)
            t = time.perf_counter()
            await button.click(timeout=60000)
            target = (page.get_by_text(f"Question number {i + 2} about your health?", exact=True)
                      if i + 1 < n else page.get_by_text("Thank you!"))
            await target.wait_for(timeout=60000)
            latencies.append((time.perf_counter() - t) * 1000)
    finally:
        await context.close()


async def _load(url: str, sessions: int, n: int, kiosk: bool) -> list[float]:
    from playwright.async_api import async_playwright
    from tests.browser_support import CHROMIUM, CHROMIUM_ARGS
    latencies: list[float] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            await asyncio.wait_for(asyncio.gather(*[_session(browser, url, n, kiosk, latencies)
                                                     for _ in range(sessions)]), timeout=900)
        finally:
            await browser.close()
    return latencies


def browser_load(folder: Path, sessions: int, n: int) -> dict[str, Any]:
    """10 concurrent browsers through the kiosk, then through the bare script."""
    from kiosk.config import CONFIG_ENV, load_config
    from dataclasses import replace

    from kiosk.server import APP, streamlit_config
    from tests.browser_support import free_port
    cfg_path = make_kiosk(folder / "load", n)
    port = free_port()
    cfg = replace(load_config(cfg_path), port=port)
    proc = _serve(APP, cfg.data_dir / "server", port, {CONFIG_ENV: str(cfg_path)}, streamlit_config(cfg))
    try:
        kiosk_lat = asyncio.run(_load(f"http://127.0.0.1:{port}/", sessions, n, True))
        kiosk_mem = peak_rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    bare_dir = folder / "bare"
    bare_dir.mkdir()
    (bare_dir / "bare.py").write_text(BARE_SCRIPT.format(n=n, choices=CHOICES), encoding="utf-8")
    port = free_port()
    conf = streamlit_config(replace(cfg, port=port))
    proc = _serve(bare_dir / "bare.py", bare_dir, port, {}, conf)
    try:
        bare_lat = asyncio.run(_load(f"http://127.0.0.1:{port}/", sessions, n, False))
        bare_mem = peak_rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    return {"kiosk": kiosk_lat, "bare": bare_lat, "kiosk_mem": kiosk_mem, "bare_mem": bare_mem}


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Measure and return result rows."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        n = 20 if quick else 60
        kiosk, bare = apptest_taps(folder / "apptest", n)
        p95, b95 = percentile(kiosk, 95), percentile(bare, 95)
        rows.append(row(f"server time per tap, {n}-item survey (AppTest), p95", p95, b95, "≤ 25 ms",
                        p95 <= 25, f"p50 {percentile(kiosk, 50):.1f} ms; bare script p50 "
                                   f"{percentile(bare, 50):.1f} ms", "ms"))
        sessions, items = (3, 5) if quick else (10, 15)
        load = browser_load(folder, sessions, items)
        k95, kb95 = percentile(load["kiosk"], 95), percentile(load["bare"], 95)
        rows.append(row(f"tap to next question, {sessions} concurrent browsers, p95", k95, kb95, "≤ 300 ms",
                        k95 <= 300, f"p50 {percentile(load['kiosk'], 50):.0f} ms over {len(load['kiosk'])} taps;"
                                    f" bare script p50 {percentile(load['bare'], 50):.0f} ms", "ms"))
        rows.append(row(f"server peak memory, {sessions} sessions", load["kiosk_mem"], load["bare_mem"],
                        "≤ 150 MB", load["kiosk_mem"] <= 150, "VmHWM of the streamlit process", "MB"))
    return rows


if __name__ == "__main__":
    for r in run(quick="--quick" in sys.argv):
        print(r)
