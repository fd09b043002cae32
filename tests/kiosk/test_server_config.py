"""The hardened Streamlit configuration and the commands around serving."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography import x509

from surveycore.errors import ConfigError
from kiosk import cli
from kiosk.config import load_config
from kiosk.pin import PinGate
from kiosk.server import streamlit_config


def test_hardened_options(kiosk_dir: Path) -> None:
    conf = tomllib.loads(streamlit_config(load_config(kiosk_dir)))
    assert conf["browser"]["gatherUsageStats"] is False
    assert conf["server"]["address"] == "127.0.0.1"
    assert conf["server"]["enableXsrfProtection"] is True
    assert conf["server"]["fileWatcherType"] == "none"
    assert conf["server"]["disconnectedSessionTTL"] == 30
    assert conf["server"]["allowedHosts"] == ["127.0.0.1", "localhost", "127.0.0.1"]
    assert conf["client"] == {"toolbarMode": "minimal", "showErrorDetails": "none",
                              "showSidebarNavigation": False}
    assert conf["runner"]["magicEnabled"] is False
    # No full garbage collection after every run: it was most of a tap's
    # server time (docs/benchmarks.md); kiosk.asgi freezes the shared heap.
    assert conf["runner"]["postScriptGC"] is False
    # Fonts are served from the kiosk itself, never from a CDN.
    assert [f["url"] for f in conf["theme"]["fontFaces"]] == [
        "app/static/NotoSans-Regular.ttf", "app/static/NotoSansArabic-Regular.ttf",
        "app/static/NotoSansEthiopic-Regular.ttf", "app/static/NotoSansBengali-Regular.ttf",
        "app/static/NotoSansGeorgian-Regular.ttf"]
    # Each script's face covers only its own characters.
    assert [f.get("unicodeRange") for f in conf["theme"]["fontFaces"]][3:] == [
        "U+0980-09FF", "U+10A0-10FF, U+1C90-1CBF, U+2D00-2D2F"]


def test_network_address_needs_tls(kiosk_dir: Path, tmp_path: Path) -> None:
    cfg = replace(load_config(kiosk_dir), address="192.168.1.20")
    with pytest.raises(ConfigError) as exc:
        streamlit_config(cfg)
    assert exc.value.code == "CFG-010"
    assert "is reachable from the network, but no tls_cert/tls_key is set" in exc.value.message
    assert "sslCertFile" not in streamlit_config(cfg, insecure=True)
    assert cli.main(["make-cert", "--cert", str(tmp_path / "k.crt"), "--key", str(tmp_path / "k.key"),
                     "--host", "192.168.1.20", "--host", "kiosk.local"]) == 0
    cert = x509.load_pem_x509_certificate((tmp_path / "k.crt").read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["192.168.1.20"]
    assert san.get_values_for_type(x509.DNSName) == ["kiosk.local"]
    assert (tmp_path / "k.key").stat().st_mode & 0o777 == 0o600
    conf = tomllib.loads(streamlit_config(replace(cfg, tls_cert=tmp_path / "k.crt", tls_key=tmp_path / "k.key")))
    assert conf["server"]["sslCertFile"] == str(tmp_path / "k.crt")


def test_set_pin_command_and_short_pins(kiosk_dir: Path, tmp_path: Path, capsys) -> None:
    pin_file = tmp_path / "pin.txt"
    pin_file.write_text("12345\n")
    assert cli.main(["set-pin", "--config", str(kiosk_dir), "--pin-file", str(pin_file)]) == 1
    assert capsys.readouterr().err == "error: [PIN-001] the staff PIN must be at least 6 digits; choose a longer PIN (see docs/errors.md#pin-001)\n"
    pin_file.write_text("123456\n")
    assert cli.main(["set-pin", "--config", str(kiosk_dir), "--pin-file", str(pin_file)]) == 0
    stored = (kiosk_dir.parent / "staff.pin").read_text()
    assert "123456" not in stored and '"kdf": "scrypt"' in stored
    gate = PinGate(kiosk_dir.parent / "staff.pin")
    assert gate.attempt("123456").ok and not gate.attempt("654321").ok


@pytest.mark.slow
def test_lockout_expires(tmp_path: Path) -> None:
    now = [1000.0]
    from kiosk.pin import set_pin
    set_pin(tmp_path / "p", "999999")
    gate = PinGate(tmp_path / "p", clock=lambda: now[0])
    for _ in range(5):
        assert not gate.attempt("000000").ok
    assert gate.attempt("999999").locked_for == 300
    now[0] += 299
    assert not gate.attempt("999999").ok
    now[0] += 2
    assert gate.attempt("999999").ok


@pytest.mark.slow
def test_demo_folder_has_everything_and_a_staff_pin(tmp_path: Path) -> None:
    assert cli.main(["demo", "--folder", str(tmp_path / "demo"), "--no-serve"]) == 0
    demo = tmp_path / "demo"
    for part in ("team/team.pub", "team/team.key", "device/device.key", "device/device.pub",
                 "survey/demo_survey.yaml", "survey/mehm.yaml", "kiosk.toml", "staff.pin"):
        assert (demo / part).is_file(), part
    assert PinGate(demo / "staff.pin").attempt(cli.DEMO_PIN).ok
    assert cli.main(["check", str(demo / "kiosk.toml")]) == 0


def test_served_app_freezes_the_shared_heap() -> None:
    """The module ``streamlit run`` serves imports the kiosk's screens and
    freezes what is loaded, so the collector never rescans it."""
    import subprocess
    import sys
    code = ("import gc; assert gc.get_freeze_count() == 0; import kiosk.asgi, sys; "
            "assert 'kiosk.patient' in sys.modules; print(gc.get_freeze_count())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert int(out.stdout) > 10_000
