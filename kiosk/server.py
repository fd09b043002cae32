"""Running the kiosk's Streamlit server with a hardened configuration.

The configuration is written to ``<data_dir>/.streamlit/config.toml`` and the
server started with that folder as working directory, so no user-level
Streamlit setting can weaken it. See DESIGN notes in docs/ for each option.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path

from surveycore.errors import ConfigError
from surveycore.process import run_child
from kiosk.config import CONFIG_ENV, KioskConfig

# The ASGI entry (Streamlit plus the nested-address redirect) that runs app.py.
APP = Path(__file__).resolve().parent / "asgi.py"
STATIC = Path(__file__).resolve().parent / "static"


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def is_loopback(address: str) -> bool:
    """True when the bind address is only reachable from this machine."""
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def streamlit_config(cfg: KioskConfig, insecure: bool = False) -> str:
    """The hardened Streamlit configuration for this kiosk (TOML text).

    Binding beyond loopback requires a TLS certificate and key, unless
    ``insecure`` is given explicitly: answers must not cross a waiting-room
    network in clear.
    """
    tls = cfg.tls_cert is not None and cfg.tls_key is not None
    if not is_loopback(cfg.address) and not tls and not insecure:
        raise ConfigError(
            f"{cfg.path}: [server] address = {cfg.address!r} is reachable from the network, but no "
            "tls_cert/tls_key is set; create them with 'kiosk make-cert' or bind to 127.0.0.1 "
            "(use --insecure-no-tls only on an isolated network)", code="CFG-010")
    hosts = list(cfg.allowed_hosts) or [cfg.address, "localhost", "127.0.0.1"]
    lines = [
        "[global]", "developmentMode = false", "",
        "[browser]", "gatherUsageStats = false", f"serverAddress = {_toml_str(cfg.address)}",
        f"serverPort = {cfg.port}", "",
        "[client]", 'toolbarMode = "minimal"', 'showErrorDetails = "none"',
        "showSidebarNavigation = false", "",
        "[runner]", "magicEnabled = false", "postScriptGC = false", "",
        "[logger]", 'level = "warning"', "",
        "[server]", "headless = true", f"address = {_toml_str(cfg.address)}", f"port = {cfg.port}",
        "enableXsrfProtection = true", 'fileWatcherType = "none"', "runOnSave = false",
        "disconnectedSessionTTL = 30", "enableStaticServing = true",
        "allowedHosts = [" + ", ".join(_toml_str(h) for h in hosts) + "]",
    ]
    if tls:
        lines += [f"sslCertFile = {_toml_str(str(cfg.tls_cert))}", f"sslKeyFile = {_toml_str(str(cfg.tls_key))}"]
    lines += ["", "[theme]", 'base = "light"', 'font = "Noto Sans, sans-serif"']
    for family, filename, ranges in (
            ("Noto Sans", "NotoSans-Regular.ttf", None),
            ("Noto Sans", "NotoSansArabic-Regular.ttf", "U+0600-06FF, U+0750-077F, U+08A0-08FF, U+FB50-FDFF, U+FE70-FEFF"),
            ("Noto Sans", "NotoSansEthiopic-Regular.ttf", "U+1200-139F, U+2D80-2DDF, U+AB00-AB2F"),
            ("Noto Sans", "NotoSansBengali-Regular.ttf", "U+0980-09FF"),
            ("Noto Sans", "NotoSansGeorgian-Regular.ttf", "U+10A0-10FF, U+1C90-1CBF, U+2D00-2D2F")):
        if (STATIC / filename).exists():
            lines += ["", "[[theme.fontFaces]]", f"family = {_toml_str(family)}",
                      f'url = "app/static/{filename}"', 'weight = 400']
            if ranges:
                lines.append(f"unicodeRange = {_toml_str(ranges)}")
    return "\n".join(lines) + "\n"


def serve(cfg: KioskConfig, insecure: bool = False) -> int:
    """Run ``streamlit run`` on the kiosk app with the hardened config until
    it stops (signals to this process are passed on); return its status."""
    text = streamlit_config(cfg, insecure)
    run_dir = cfg.data_dir / "server"
    (run_dir / ".streamlit").mkdir(parents=True, exist_ok=True)
    (run_dir / ".streamlit" / "config.toml").write_text(text, encoding="utf-8")
    env = dict(os.environ)
    env[CONFIG_ENV] = str(cfg.path)
    scheme = "https" if cfg.tls_cert else "http"
    print(f"Kiosk on {scheme}://{cfg.address}:{cfg.port}  (Ctrl+C to stop)", flush=True)
    return run_child([sys.executable, "-m", "streamlit", "run", str(APP)], cwd=run_dir, env=env)
