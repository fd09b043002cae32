"""``kiosk`` command line: demo, serve, check, export, confirm, status, simulate.

The single place (with the pages' ``show_error``) where errors become text:
every :class:`~surveycore.errors.KioskError` is printed as ``[CODE] message`` and
the command exits 1; a patient never sees any of this.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from surveycore.cli import unexpected
from surveycore.errors import ConfigError, KioskError, ValidationError
from surveycore.resources import questionnaires_dir

if TYPE_CHECKING:
    from kiosk.config import KioskConfig
    from surveycore.keys import TeamPublicKey

QUESTIONNAIRES = questionnaires_dir()
DEMO_PASSPHRASE = "demo passphrase, not for real data"
# `kiosk status` exit statuses, for health checks (docs/deployment.md).
STATUS_OK = 0               # in service
STATUS_ERROR = 1            # cannot start: configuration, survey or keys (coded error printed)
STATUS_STORAGE_LOW = 3      # in service, storage almost full: export and confirm soon
STATUS_OUT_OF_SERVICE = 4   # paused by staff, or storage full (responses refused)
DEMO_PIN = "246810"  # the demo's staff PIN; a real site sets its own with 'kiosk set-pin'


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
    if not (folder / "staff.pin").exists():
        from kiosk.pin import set_pin
        set_pin(folder / "staff.pin", DEMO_PIN)
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
    return serve(cfg)


def cmd_serve(args: argparse.Namespace) -> int:
    from kiosk.config import load_config
    from kiosk.server import serve
    cfg = load_config(args.config)
    # Fail before starting the server if survey or keys are wrong.
    from kiosk.config import KioskRuntime
    KioskRuntime(cfg).outbox.close()
    return serve(cfg, insecure=args.insecure_no_tls)


def cmd_check(args: argparse.Namespace) -> int:
    from kiosk.check import check_paths
    problems = check_paths([Path(p) for p in (args.paths or [QUESTIONNAIRES])])
    for p in problems:
        print(p.render())
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    print(f"{len(errors)} error(s), {len(warnings)} warning(s)")
    return 1 if errors else 0


def cmd_import_xlsform(args: argparse.Namespace) -> int:
    """Convert an XLSForm; write the module only when it has no error."""
    from kiosk.xlsform import import_xlsform
    validated = [x.strip() for x in (args.validated or "").split(",") if x.strip()]
    result = import_xlsform(args.form, args.out, default_language=args.lang,
                            allow_free_text=args.allow_free_text, drop_unsupported=args.drop_unsupported,
                            validated=validated, source=args.source, license=args.license,
                            languages=([x.strip() for x in args.languages.split(",") if x.strip()]
                                       if args.languages else None))
    for p in result.problems:
        print(p.render())
    warnings = [p for p in result.problems if p.severity != "error"]
    print(f"{len(result.errors)} error(s), {len(warnings)} warning(s)")
    if result.errors:
        print(f"nothing written to {args.out}: fix the form" + (
            "" if args.drop_unsupported else " (or pass --drop-unsupported to leave out the rows the kiosk "
                                             "cannot run)"))
        return 1
    print(f"wrote {args.out}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from kiosk.config import load_config
    from kiosk.store import Outbox
    from kiosk.definitions import outbox_block
    from kiosk.keys import load_device_key
    cfg = load_config(args.config)
    if Path(args.out).is_dir():  # the USB key itself: the bundle needs a name in it
        raise KioskError(f"--out {args.out!r} is a folder; give the bundle's file name in it, for example "
                         f"{str(Path(args.out) / 'centre-week.hkb')!r}; nothing was exported", code="S-020")
    device = load_device_key(cfg.device_key)
    outbox = Outbox(cfg.outbox_path)
    try:
        # The bundle carries the signed definitions its envelopes were answered with.
        n = outbox.export_bundle(args.out, definitions=outbox_block(outbox, device))
        stale = outbox.stale_part_removed
        postponed = outbox.meta("reshuffle_pending") == "1"
    finally:
        outbox.close()
    if stale:
        print(f"removed {args.out}.part left by an interrupted export")
    print(f"exported {n} envelope(s) to {args.out}; they stay on this kiosk until "
          "'kiosk confirm RECEIPT'")
    if postponed:
        print("the outbox will be reordered when the disk has room (storage almost full)")
    return 0


def cmd_confirm(args: argparse.Namespace) -> int:
    from kiosk.config import load_config
    from surveycore.keys import device_raw, load_public_key
    from kiosk.keys import load_device_key
    from surveycore.receipt import read_receipt
    cfg = load_config(args.config)
    team = load_public_key(cfg.public_key)
    device = device_raw(load_device_key(cfg.device_key).public_key())
    # Every receipt is checked (signed by the team, for this kiosk) before anything is removed.
    source = Path(args.receipt)
    if source.is_dir():
        ids = _receipts_of_folder(source, team, device)
    else:
        ids = read_receipt(source, team, device).ids
    return _confirm_ids(cfg, ids)


def _receipts_of_folder(folder: Path, team: TeamPublicKey, device: bytes) -> list[bytes]:
    """The ids of every receipt in ``folder`` made for this kiosk; receipts
    for other kiosks are skipped, and so are those signed only by another
    team key (the team's folder keeps the receipts made before a key
    rotation) as long as one receipt is signed by this kiosk's team key;
    any other bad receipt stops everything."""
    from surveycore.receipt import read_receipt
    ids: list[bytes] = []
    found = 0
    other_key: list[KioskError] = []
    for path in sorted(folder.glob("*.json")):
        try:
            ids.extend(read_receipt(path, team, device).ids)
            found += 1
        except KioskError as exc:
            if exc.code == "CFG-028":
                other_key.append(exc)
            elif exc.code != "CFG-026":
                raise
    if not found and other_key:
        raise other_key[0]
    if not found:
        raise ConfigError(f"no receipt for this kiosk in {str(folder)!r}; nothing was removed",
                          code="CFG-029")
    print(f"{found} receipt(s) for this kiosk in {folder}")
    if other_key:
        print(f"{len(other_key)} receipt(s) for this kiosk not signed by its team key (key id "
              f"{team.key_id.hex()}) skipped: made before a key rotation; what they list and this kiosk "
              "still holds is removed by a receipt of the bundles ingested again with both keys (--key)")
    return ids


def _confirm_ids(cfg: KioskConfig, ids: list[bytes]) -> int:
    from kiosk.store import Outbox
    outbox = Outbox(cfg.outbox_path)
    try:
        outcome = outbox.confirm_ids(ids)
        left = outbox.count()
    finally:
        outbox.close()
    print(f"removed {outcome.removed} envelope(s) confirmed as ingested")
    if outcome.unknown:
        print(f"{outcome.unknown} envelope(s) of the receipt are not on this kiosk (removed earlier, or "
              "from another kiosk)")
    if outcome.not_exported:
        print(f"{outcome.not_exported} envelope(s) of the receipt were never exported from this kiosk: "
              "kept")
    print(f"{left} envelope(s) remain on this kiosk")
    return 0


def cmd_init_device(args: argparse.Namespace) -> int:
    from kiosk.config import load_config
    from surveycore.keys import device_id
    from kiosk.keys import ensure_device_key
    cfg = load_config(args.config)
    key, created = ensure_device_key(cfg.device_key)
    pub = cfg.device_key.with_name(cfg.device_key.stem + ".pub")
    print(f"{'created' if created else 'already present'}: device key {cfg.device_key}")
    print(f"device fingerprint: {device_id(key.public_key())}")
    print(f"give {pub} to the diagnostic team ('analysis trust {pub.name} --data DIR') and check that "
          "they see the same fingerprint")
    return 0


def cmd_set_key(args: argparse.Namespace) -> int:
    from kiosk.config import load_config
    from kiosk.keys import install_public_key
    cfg = load_config(args.config)
    old, new = install_public_key(args.public_key, cfg.public_key)
    receipts = (f"receipt key fingerprint {new.receipt_fingerprint}" if new.receipt_raw else
                "WARNING: this file has no receipt key, so 'kiosk confirm' refuses every receipt; ask the "
                "team for the file made by 'analysis public-key'")
    if old is not None and old.key_id == new.key_id:
        if old.receipt_raw != new.receipt_raw:
            print(f"team key unchanged: key id {new.key_id.hex()}  fingerprint {new.fingerprint}; "
                  "receipt key installed")
        else:
            print(f"team key unchanged: key id {new.key_id.hex()}  fingerprint {new.fingerprint}")
        print(receipts)
        return 0
    if old is not None:
        print(f"previous team key: key id {old.key_id.hex()}  fingerprint {old.fingerprint}")
    print(f"new team key: key id {new.key_id.hex()}  fingerprint {new.fingerprint}")
    print(receipts)
    print("check this fingerprint with the diagnostic team; responses from now on are sealed for it, "
          "those already stored stay sealed for the previous key. Restart the kiosk to use it.")
    return 0


def cmd_install_service(args: argparse.Namespace) -> int:
    """Write the systemd unit of this kiosk; print how to put it in service."""
    from kiosk.config import KioskRuntime, load_config
    from kiosk.service import install_steps, unit_text
    cfg = load_config(args.config)
    KioskRuntime(cfg).outbox.close()  # a unit for a kiosk that cannot start would only restart in a loop
    text = unit_text(cfg, args.user)
    out = Path(args.out)
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {str(out)!r}: {exc.strerror}", code="CFG-053") from None
    print(f"systemd unit written to {out}; to put it in service, as root:")
    for step in install_steps(cfg, args.user, out.resolve()):
        print(f"  {step}")
    print(f"health check: kiosk status --config {cfg.path} (exit 0 in service, 3 storage almost full, "
          "4 out of service, 1 cannot start)")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from kiosk.config import KioskRuntime, load_config
    from surveycore.keys import device_id
    rt = KioskRuntime(load_config(args.config))
    print(f"survey: {rt.survey.id} {rt.survey.version}")
    for m in rt.survey.modules:
        print(f"  module {m.id} {m.version} ({m.hash})")
    print(f"responses stored: {rt.outbox.count()}")
    print(f"last export: {rt.outbox.meta('last_export') or 'never'}")
    print(f"team key fingerprint: {rt.public_key.fingerprint}")
    print(f"receipt key fingerprint: {rt.public_key.receipt_fingerprint or 'none (receipts refused: install the team.pub made by analysis public-key)'}")
    print(f"device fingerprint: {device_id(rt.device_key.public_key())}")
    storage = rt.storage()
    print(f"free disk: {storage.free_bytes // 2**20} MiB (room for about {storage.room_responses} more "
          "response(s))")
    if storage.reshuffle_pending:
        print("outbox reordering postponed until the disk has room")
    status = STATUS_OK
    if storage.level == "full":
        print("OUT OF SERVICE: storage full, new responses are refused; export, hand the bundle to the team "
              "and confirm its receipt")
        status = STATUS_OUT_OF_SERVICE
    elif rt.paused:
        print("OUT OF SERVICE: paused by staff (resume it in the staff area)")
        status = STATUS_OUT_OF_SERVICE
    elif storage.level == "low":
        print("WARNING: storage almost full; export, hand the bundle to the team and confirm its receipt soon")
        status = STATUS_STORAGE_LOW
    print("languages:")
    offered = rt.survey.offered_languages()
    for lang in rt.survey.site.languages:
        lstatus = rt.survey.language_status(lang)
        kiosk = ("offered" + (" (draft: not reviewed by a native speaker yet)" if lstatus == "draft" else "")
                 if lang in offered else "not offered")
        print(f"  {lang:<6} {lstatus:<9}  {kiosk}")
    rt.outbox.close()
    return status


def cmd_set_pin(args: argparse.Namespace) -> int:
    import getpass
    from kiosk.config import load_config
    from kiosk.pin import set_pin
    cfg = load_config(args.config)
    if args.pin_file:
        from surveycore.keys import read_small
        try:
            pin = read_small(Path(args.pin_file)).strip()
        except FileNotFoundError:
            raise ConfigError(f"PIN file {args.pin_file!r} not found", code="PIN-003") from None
        except (OSError, UnicodeDecodeError, ValueError):
            raise ConfigError(f"PIN file {args.pin_file!r} is not a readable text file; put the PIN (digits) "
                              "on its first line", code="PIN-003") from None
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


def cmd_i18n_status(args: argparse.Namespace) -> int:
    from kiosk.translation_status import status_report
    print(status_report(args.survey or QUESTIONNAIRES, items=args.items, locales=args.locales), end="")
    return 0


def cmd_i18n_export(args: argparse.Namespace) -> int:
    from kiosk.translate import export_module
    n = export_module(args.module, args.lang, args.out, source=args.source)
    print(f"{n} text(s) of {args.module} written to {args.out} for translation into {args.lang}; "
          f"translate it (Poedit, Weblate), then: kiosk i18n import {args.module} {args.out} --lang {args.lang}")
    return 0


def cmd_i18n_import(args: argparse.Namespace) -> int:
    from kiosk.translate import import_module
    result = import_module(args.module, args.po, args.lang, status=args.status, dry_run=args.dry_run)
    for p in result.problems:
        print(p.render())
    print(result.summary())
    return 1 if result.errors else 0


def cmd_i18n_check(args: argparse.Namespace) -> int:
    from surveycore.i18n import check_catalogs, locales_dir
    problems = check_catalogs(args.locales)
    for p in problems:
        print(p.render())
    errors = [p for p in problems if p.severity == "error"]
    print(f"{len(errors)} error(s), {len(problems) - len(errors)} warning(s) in {locales_dir(args.locales)}")
    return 1 if errors else 0


def cmd_simulate(args: argparse.Namespace) -> int:
    """Seal synthetic responses into a bundle, as this kiosk would (demos, benchmarks)."""
    import dataclasses
    import datetime as dt
    from kiosk.simulate import Behaviour, simulate
    if args.weeks < 1:
        raise KioskError("--weeks must be 1 or more", code="CFG-031")
    start = None
    if args.start_week:
        try:
            year, week = args.start_week.split("-W")
            start = dt.date.fromisocalendar(int(year), int(week), 1)
        except ValueError:
            raise KioskError(f"--start-week {args.start_week!r}: give an ISO week such as 2026-W01",
                             code="CFG-031") from None
    counts = simulate(args.n, args.survey, args.pub, args.device_key, args.out, seed=args.seed,
                      module_dirs=[QUESTIONNAIRES, *args.questionnaires], start=start,
                      behaviour=dataclasses.replace(Behaviour(), weeks=args.weeks))
    print(f"{args.n} synthetic responses sealed into {args.out}: " +
          ", ".join(f"{k} {v}" for k, v in counts.items()))
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
    p = sub.add_parser("import-xlsform", help="convert an XLSForm (ODK/KoboToolbox) into a module")
    p.add_argument("form", help="the .xlsx form")
    p.add_argument("-o", "--out", required=True, help="the module file to write (.yaml)")
    p.add_argument("--lang", help="language code of unlabelled label/hint columns (default: the form's "
                                  "default_language)")
    p.add_argument("--allow-free-text", action="store_true", help="import text questions as free text")
    p.add_argument("--drop-unsupported", action="store_true",
                   help="leave out rows the kiosk cannot run (reported as warnings) instead of failing")
    p.add_argument("--validated", help="comma-separated languages whose wording is reviewed (others: draft)")
    p.add_argument("--languages", help="comma-separated languages to import (each must be complete; the others "
                                       "are left out and named)")
    p.add_argument("--source", help="where the wording comes from")
    p.add_argument("--license", help="under which licence the wording may be used")
    p.set_defaults(func=cmd_import_xlsform)
    p = sub.add_parser("export", help="write a bundle of the stored envelopes")
    p.add_argument("--config", default="kiosk.toml")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("confirm", help="remove envelopes listed in the team's signed receipt")
    p.add_argument("receipt", help="a receipt written by 'analysis ingest', or a folder of them")
    p.add_argument("--config", default="kiosk.toml")
    p.set_defaults(func=cmd_confirm)
    p = sub.add_parser("init-device", help="create this kiosk's device signing key if missing; "
                                           "show its fingerprint")
    p.add_argument("--config", default="kiosk.toml")
    p.set_defaults(func=cmd_init_device)
    p = sub.add_parser("set-key", help="install a new team public key (key rotation)")
    p.add_argument("public_key", help="the team's new .pub file")
    p.add_argument("--config", default="kiosk.toml")
    p.set_defaults(func=cmd_set_key)
    p = sub.add_parser("set-pin", help="set the staff PIN (stored as a scrypt hash)")
    p.add_argument("--config", default="kiosk.toml")
    p.add_argument("--pin-file", help="read the PIN from a file instead of prompting")
    p.set_defaults(func=cmd_set_pin)
    p = sub.add_parser("make-cert", help="create a self-signed TLS certificate and key")
    p.add_argument("--cert", default="tls/kiosk.crt")
    p.add_argument("--key", default="tls/kiosk.key")
    p.add_argument("--host", action="append", required=True, help="host name or IP (repeatable)")
    p.set_defaults(func=cmd_make_cert)
    p = sub.add_parser("install-service", help="write a systemd unit that runs this kiosk at boot, restarts "
                                               "it on failure, as an unprivileged user")
    p.add_argument("--config", default="kiosk.toml")
    p.add_argument("--user", default="healthkiosk", help="the system user that runs it (default healthkiosk)")
    p.add_argument("--out", default="health-kiosk.service", help="the unit file to write")
    p.set_defaults(func=cmd_install_service)
    p = sub.add_parser("status", help="counts, versions, fingerprints, storage; exit 0 in service, 1 "
                                      "cannot start, 3 storage almost full, 4 out of service")
    p.add_argument("--config", default="kiosk.toml")
    p.set_defaults(func=cmd_status)
    p = sub.add_parser("simulate", help="seal synthetic responses into a bundle (demos, benchmarks)")
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--survey", required=True)
    p.add_argument("--pub", required=True, help="team public key")
    p.add_argument("--device-key", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int)
    p.add_argument("--weeks", type=int, default=26, help="weeks the responses are spread over (default 26)")
    p.add_argument("--start-week", metavar="YYYY-Www",
                   help="first ISO week of the span (default: the span ends this week)")
    p.add_argument("--questionnaires", action="append", default=[])
    p.set_defaults(func=cmd_simulate)
    p = sub.add_parser("i18n", help="translations: status, module export/import, catalog check")
    i18n_sub = p.add_subparsers(dest="i18n_command", required=True)
    q = i18n_sub.add_parser("status", help="every language of each survey and module: coverage and status")
    q.add_argument("survey", nargs="?", help="a survey or module file, or a folder of surveys "
                                             "(default: questionnaires/)")
    q.add_argument("--items", action="store_true", help="show which text exists in which language")
    q.add_argument("--locales", help="interface catalogs folder (default: the kiosk's locales/)")
    q.set_defaults(func=cmd_i18n_status)
    q = i18n_sub.add_parser("export", help="write a module's texts to a .po file for one language")
    q.add_argument("module", help="the module file (.yaml)")
    q.add_argument("--lang", required=True, help="language to translate into (ar, fa_AF, ps, ti...)")
    q.add_argument("-o", "--out", required=True, help="the .po file to write")
    q.add_argument("--source", help="language to translate from (default: the first validated one)")
    q.set_defaults(func=cmd_i18n_export)
    q = i18n_sub.add_parser("import", help="write a translated .po file back into the module")
    q.add_argument("module", help="the module file (.yaml)")
    q.add_argument("po", help="the translated .po file")
    q.add_argument("--lang", required=True, help="language of the translation")
    q.add_argument("--status", choices=["draft", "validated"],
                   help="status of the language afterwards (default: draft)")
    q.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    q.set_defaults(func=cmd_i18n_import)
    q = i18n_sub.add_parser("check", help="check the interface catalogs against messages.pot")
    q.add_argument("--locales", help="catalogs folder (default: the kiosk's locales/)")
    q.set_defaults(func=cmd_i18n_check)
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
    except BaseException as exc:  # noqa: BLE001 - the boundary: one coded line, never a traceback
        return unexpected(exc)


if __name__ == "__main__":
    sys.exit(main())
