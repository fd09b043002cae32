"""``kiosk`` command line: demo, serve, check, export, confirm, status.

The single place (with the pages' ``show_error``) where errors become text:
every :class:`~kiosk.errors.KioskError` is printed as ``[CODE] message`` and
the command exits 1; a patient never sees any of this.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from kiosk.errors import ConfigError, KioskError, ValidationError

REPO = Path(__file__).resolve().parent.parent
QUESTIONNAIRES = REPO / "questionnaires"
DEMO_PASSPHRASE = "demo passphrase, not for real data"


def _demo_toml() -> str:
    return """# Demo kiosk: demo keys, the demo survey, a local outbox.
[kiosk]
survey = "survey/demo_survey.yaml"
modules = []
public_key = "team/team.pub"
device_key = "device/device.key"
data_dir = "data"
pin_file = "staff.pin"

[server]
address = "127.0.0.1"
port = 8501
"""


def make_demo(folder: Path) -> Path:
    """Create the demo folder if missing: team key pair (via the analysis
    tool, in a separate process: the kiosk never handles private keys),
    device key, survey, config. Returns the config path."""
    from kiosk.keys import create_device_key
    folder.mkdir(parents=True, exist_ok=True)
    team = folder / "team"
    if not (team / "team.pub").exists():
        team.mkdir(exist_ok=True)
        (team / "passphrase.txt").write_text(DEMO_PASSPHRASE + "\n", encoding="utf-8")
        subprocess.run([sys.executable, "-m", "analysis", "keygen", "--out", str(team),
                        "--passphrase-file", str(team / "passphrase.txt")], check=True)
    if not (folder / "device" / "device.key").exists():
        create_device_key(folder / "device" / "device.key")
    survey_dir = folder / "survey"
    if not survey_dir.exists():
        survey_dir.mkdir()
        for name in ("demo_survey.yaml", "mehm.yaml"):
            shutil.copy(QUESTIONNAIRES / name, survey_dir / name)
    cfg = folder / "kiosk.toml"
    if not cfg.exists():
        cfg.write_text(_demo_toml(), encoding="utf-8")
    return cfg


def cmd_demo(args: argparse.Namespace) -> int:
    from kiosk.config import load_config
    from kiosk.server import serve
    cfg_path = make_demo(Path(args.folder))
    cfg = load_config(cfg_path)
    if args.port:
        from dataclasses import replace
        cfg = replace(cfg, port=args.port)
    if args.no_serve:
        print(f"Demo ready in {cfg_path.parent}")
        return 0
    serve(cfg)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from kiosk.config import load_config
    from kiosk.server import serve
    cfg = load_config(args.config)
    # Fail before starting the server if survey or keys are wrong.
    from kiosk.config import KioskRuntime
    KioskRuntime(cfg).outbox.close()
    serve(cfg, insecure=args.insecure_no_tls)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from kiosk.check import check_paths
    problems = check_paths([Path(p) for p in (args.paths or [QUESTIONNAIRES])])
    for p in problems:
        print(p.render())
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    print(f"{len(errors)} error(s), {len(warnings)} warning(s)")
    return 1 if errors else 0


def cmd_export(args: argparse.Namespace) -> int:
    from kiosk.config import load_config
    from kiosk.store import Outbox, write_bundle
    cfg = load_config(args.config)
    outbox = Outbox(cfg.outbox_path)
    pending = outbox.pending()
    write_bundle(args.out, [env for _, env in pending])
    outbox.mark_exported([i for i, _ in pending])
    print(f"exported {len(pending)} envelope(s) to {args.out}; they stay on this kiosk until "
          "'kiosk confirm RECEIPT'")
    return 0


def cmd_confirm(args: argparse.Namespace) -> int:
    from kiosk.config import load_config
    from kiosk.store import Outbox
    cfg = load_config(args.config)
    try:
        data = json.loads(Path(args.receipt).read_text(encoding="utf-8"))
        ids = [bytes.fromhex(i) for i in data["envelopes"]]
        if data.get("kind") != "health-kiosk-receipt":
            raise ValueError
    except FileNotFoundError:
        raise ConfigError(f"receipt {args.receipt!r} not found", code="CFG-020") from None
    except (ValueError, KeyError, TypeError):
        raise ConfigError(f"{args.receipt!r} is not an ingest receipt (made by 'analysis ingest')",
                          code="CFG-021") from None
    removed = Outbox(cfg.outbox_path).confirm(ids)
    print(f"removed {removed} envelope(s) confirmed as ingested")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from kiosk.config import KioskRuntime, load_config
    from kiosk.keys import device_id
    rt = KioskRuntime(load_config(args.config))
    print(f"survey: {rt.survey.id} {rt.survey.version}")
    for m in rt.survey.modules:
        print(f"  module {m.id} {m.version} ({m.hash})")
    print(f"responses stored: {rt.outbox.count()}")
    print(f"last export: {rt.outbox.meta('last_export') or 'never'}")
    print(f"team key fingerprint: {rt.public_key.fingerprint}")
    print(f"device fingerprint: {device_id(rt.device_key.public_key())}")
    print(f"free disk: {rt.disk_free() // 2**20} MiB")
    return 0


def cmd_set_pin(args: argparse.Namespace) -> int:
    import getpass
    from kiosk.config import load_config
    from kiosk.pin import set_pin
    cfg = load_config(args.config)
    if args.pin_file:
        pin = Path(args.pin_file).read_text(encoding="utf-8").strip()
    else:
        pin = getpass.getpass("New staff PIN (digits): ")
        if getpass.getpass("Repeat the PIN: ") != pin:
            raise ConfigError("the two PINs differ", code="PIN-002")
    set_pin(cfg.pin_file, pin)
    print(f"staff PIN stored (scrypt hash) in {cfg.pin_file}")
    return 0


def cmd_make_cert(args: argparse.Namespace) -> int:
    from kiosk.tls import make_self_signed
    fp = make_self_signed(args.cert, args.key, args.host)
    print(f"certificate {args.cert} and key {args.key} written; SHA-256 fingerprint {fp}")
    print("set [server] tls_cert and tls_key in kiosk.toml to use them")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``kiosk`` argument parser."""
    parser = argparse.ArgumentParser(prog="kiosk", description="Anonymous health-survey kiosk.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="create ./demo (demo keys, survey, config) and serve it")
    p.add_argument("--folder", default="demo")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--no-serve", action="store_true", help="only create the demo folder")
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("serve", help="run the kiosk for a real site")
    p.add_argument("--config", required=True)
    p.add_argument("--insecure-no-tls", action="store_true",
                   help="allow a non-loopback address without TLS (isolated networks only)")
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("check", help="validate questionnaires, surveys and locales")
    p.add_argument("paths", nargs="*")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("export", help="write a bundle of the stored envelopes")
    p.add_argument("--config", default="kiosk.toml")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("confirm", help="remove envelopes listed in an ingest receipt")
    p.add_argument("receipt")
    p.add_argument("--config", default="kiosk.toml")
    p.set_defaults(func=cmd_confirm)
    p = sub.add_parser("set-pin", help="set the staff PIN (stored as a scrypt hash)")
    p.add_argument("--config", default="kiosk.toml")
    p.add_argument("--pin-file", help="read the PIN from a file instead of prompting")
    p.set_defaults(func=cmd_set_pin)
    p = sub.add_parser("make-cert", help="create a self-signed TLS certificate and key")
    p.add_argument("--cert", default="tls/kiosk.crt")
    p.add_argument("--key", default="tls/kiosk.key")
    p.add_argument("--host", action="append", required=True, help="host name or IP (repeatable)")
    p.set_defaults(func=cmd_make_cert)
    p = sub.add_parser("status", help="counts, versions, fingerprints")
    p.add_argument("--config", default="kiosk.toml")
    p.set_defaults(func=cmd_status)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``kiosk`` command."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ValidationError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    except KioskError as exc:
        print(f"error: {exc.user_text()}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
