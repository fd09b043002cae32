"""``analysis`` command line: keygen, trust, ingest, report, export,
dashboard.

Errors become ``error: [CODE] message`` here and nowhere else.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from surveycore.errors import KioskError, KeyFileError
from surveycore.keys import SUITE_BY_NAME
from surveycore.resources import questionnaires_dir

QUESTIONNAIRES = questionnaires_dir()


def cmd_keygen(args: argparse.Namespace) -> int:
    from analysis.keys import keygen, read_passphrase
    passphrase = read_passphrase(args.passphrase_file, "New passphrase for the team private key: ")
    if not args.passphrase_file:
        again = read_passphrase(None, "Repeat the passphrase: ")
        if again != passphrase:
            raise KeyFileError("the two passphrases differ", code="KEY-032")
    key = keygen(args.out, passphrase, SUITE_BY_NAME[args.suite], name=args.name)
    print(f"team key pair written to {args.out} ({args.name}.key private, {args.name}.pub for the kiosks)")
    print(f"key id {key.public.key_id.hex()}  fingerprint {key.public.fingerprint}")
    print(f"receipt key fingerprint {key.public.receipt_fingerprint}")
    return 0


def cmd_public_key(args: argparse.Namespace) -> int:
    """Write the public key file of a team key, with its receipt key."""
    from analysis.keys import write_public_key
    key = next(iter(_load_keys([args.key], [args.passphrase_file] if args.passphrase_file else []).values()))
    path = write_public_key(key, args.out)
    print(f"team public key written to {path}: key id {key.public.key_id.hex()}  fingerprint "
          f"{key.public.fingerprint}")
    print(f"receipt key fingerprint {key.public.receipt_fingerprint}; install it on each kiosk with "
          f"'kiosk set-key {path.name}'")
    return 0


def _load_keys(paths: list[str], passphrase_files: list[str]) -> dict:
    """The team keys of ``--key``: every file is checked before a passphrase
    is asked for; one passphrase file for all keys, or one per key. Without
    files, a passphrase typed once is tried on every key, and a new one is
    asked only for a key it does not open (old and new keys of a rotation
    may have different passphrases)."""
    from analysis.keys import load_private_key, load_private_keys, read_private_key_file, read_passphrase
    for p in paths:
        read_private_key_file(p)
    if passphrase_files:
        return load_private_keys(paths, [read_passphrase(f) for f in passphrase_files])
    keys: dict = {}
    typed: list[bytes] = []
    for p in paths:
        key = None
        for passphrase in typed:
            try:
                key = load_private_key(p, passphrase)
                break
            except KeyFileError as exc:
                if exc.code != "KEY-043":
                    raise
        if key is None:
            typed.append(read_passphrase(None, f"Passphrase of {p}: "))
            key = load_private_key(p, typed[-1])
        keys[key.public.key_id] = key
    return keys


# Exit statuses of 'analysis ingest' (docs/envelope.md §5.1).
EXIT_OK = 0            # every envelope ingested or already held
EXIT_NOT_STARTED = 1   # the run could not start (missing bundle, wrong key...): nothing written
EXIT_QUARANTINED = 3   # the run completed, but something was quarantined or a bundle refused


class _Progress:
    """Progress bars on a terminal (tqdm, on stderr) for reading, opening
    and writing; nothing at all when stderr is not a terminal."""

    LABELS = {"read": "reading bundles", "open": "opening envelopes", "write": "writing the dataset"}

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.bars: dict[str, Any] = {}

    def __call__(self, phase: str, done: int, total: int) -> None:
        from tqdm import tqdm
        bar = self.bars.get(phase)
        if bar is None:
            for other in self.bars.values():
                other.close()
            bar = self.bars[phase] = tqdm(total=total, desc=self.LABELS.get(phase, phase), file=self.stream,
                                          unit="B" if phase == "read" else " envelopes",
                                          unit_scale=phase == "read", leave=True, dynamic_ncols=True)
        bar.total = total
        bar.n = done
        bar.refresh()

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


def cmd_ingest(args: argparse.Namespace) -> int:
    from analysis.ingest import ingest
    from analysis.receipts import write_receipts
    from analysis.keys import load_trusted_devices, trusted_devices_path
    from surveycore.bundle import check_bundle_file
    if args.workers < 1:
        raise KioskError("--workers must be 1 (open in-process) or more", code="CFG-030")
    if not args.bundles and not args.retry_quarantine:
        raise KioskError("give the bundles to ingest, or --retry-quarantine to try the quarantined envelopes "
                         "again", code="CFG-032")
    # Every input is known readable before a passphrase is asked for.
    for bundle in args.bundles:
        check_bundle_file(bundle)
    data = Path(args.data)
    if data.exists() and not data.is_dir():
        raise KioskError(f"--data {args.data!r} is a file; give the dataset folder", code="CFG-033")
    if (data / "federation.json").exists():
        raise KioskError(f"{args.data!r} pools other teams' datasets ('analysis pool'); ingest into a team's own "
                         "dataset, then pool again", code="POOL-005")
    trusted = None
    if not args.any_device:
        devices = load_trusted_devices(args.data)
        if devices is None:
            raise KioskError(f"no list of trusted devices in {args.data!r}; add each kiosk's device.pub "
                             f"with 'analysis trust DEVICE.pub --data {args.data}', or pass --any-device "
                             "to accept any kiosk whose signature verifies", code="ING-030")
        trusted = [d.raw for d in devices]
    keys = _load_keys(args.key, args.passphrase_file)
    qdirs: list[str | Path] = [QUESTIONNAIRES, *(Path(q) for q in args.questionnaires)]
    progress = _Progress(sys.stderr) if sys.stderr.isatty() else None
    try:
        result = ingest(args.bundles, keys, args.data, qdirs, trusted, workers=args.workers,
                        require_key_match=True, retry_quarantine=args.retry_quarantine, progress=progress)
    finally:
        if progress is not None:
            progress.close()
    # The receipts first: they are what the run owes the kiosks, whatever
    # happens to the output (a closed pipe, a full terminal).
    folder = args.receipts or str(Path(args.data) / "receipts")
    written = write_receipts(folder, result.run, result.receipt_devices, keys)
    print(result.summary())
    for note in result.notes:
        print(note)
    if args.retry_quarantine:
        print(f"left the quarantine: {result.resolved}")
    if trusted is None:
        print("devices: any device whose signature verifies was accepted (--any-device)")
    else:
        print(f"devices: {len(trusted)} trusted ({trusted_devices_path(args.data)})")
    how = f"by {result.workers} processes" if result.workers > 1 else "in-process"
    print(f"run {result.run}: {result.envelopes} envelope(s) opened {how}")
    for path in written:
        print(f"receipt for the kiosk ('kiosk confirm'): {path}")
    if not written:
        print("no receipt: this run holds nothing new for any kiosk")
    if result.quarantined:
        print(f"exit status {EXIT_QUARANTINED}: {len(result.quarantined)} refused (see above); "
              f"details in {Path(args.data) / 'quarantine.jsonl'}")
        return EXIT_QUARANTINED
    return EXIT_OK


def cmd_pool(args: argparse.Namespace) -> int:
    from analysis.federate import pool
    n = pool(args.datasets, args.out)
    print(f"pooled {n} response(s) of {len(args.datasets)} dataset(s) into {args.out}: definitions compatible, "
          "no response in two datasets")
    return 0


def cmd_trust(args: argparse.Namespace) -> int:
    from analysis.keys import load_trusted_devices, trust_device, trusted_devices_path, untrust_device
    path = trusted_devices_path(args.data)
    if args.remove:
        gone = untrust_device(args.data, args.remove)
        print(f"removed device {gone.fingerprint}{f' ({gone.label})' if gone.label else ''} from {path}; "
              "its envelopes are rejected from now on")
    for pub in args.device_pub:
        dev, added = trust_device(args.data, pub, args.label or "")
        state = "trusted" if added else "already trusted"
        print(f"{state}: device {dev.fingerprint}; compare it with the fingerprint the kiosk shows")
    devices = load_trusted_devices(args.data) or []
    if args.list or not (args.device_pub or args.remove):
        for d in devices:
            print(f"  {d.fingerprint}{f'  {d.label}' if d.label else ''}")
    print(f"{len(devices)} trusted device(s) in {path}")
    return 0


def _where(specs: list[str]) -> dict[str, list[str]] | None:
    """``--where NAME=VALUE[,VALUE]`` options: the responses a report covers."""
    out: dict[str, list[str]] = {}
    for spec in specs:
        name, sep, values = spec.partition("=")
        if not sep or not name or not values:
            raise KioskError(f"--where {spec!r}: use NAME=VALUE, e.g. centre=MARSEILLE (several values: "
                             "centre=MARSEILLE,ECHIROLLES)", code="RPT-001")
        out.setdefault(name, []).extend(v for v in values.split(",") if v)
    return out or None


def _breakdowns(specs: list[str]) -> dict[str, str] | None:
    """``--breakdown NAME=SOURCE`` options over the defaults (None: defaults)."""
    from analysis.tables import DEFAULT_BREAKDOWNS
    if not specs:
        return None
    out = dict(DEFAULT_BREAKDOWNS)
    for spec in specs:
        name, sep, source = spec.partition("=")
        if not sep or not name:
            raise KioskError(f"--breakdown {spec!r}: use NAME=SOURCE, e.g. neighbourhood=demographics.neighbourhood "
                             "(SOURCE '-' drops the breakdown)", code="CFG-040")
        if source == "-":
            out.pop(name, None)
        else:
            out[name] = source
    return out


def cmd_report(args: argparse.Namespace) -> int:
    from analysis.report import write_report
    qdirs: list[str | Path] = [QUESTIONNAIRES, *(Path(q) for q in args.questionnaires)]
    write_report(args.data, args.out, qdirs, args.lang, args.k, _breakdowns(args.breakdown), args.period,
                 _where(args.where), args.pdf, args.appendix, args.standard_population)
    print(f"report written to {args.out}")
    if args.pdf:
        print(f"PDF written to {args.pdf}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from analysis.export import export, export_record_level
    qdirs: list[str | Path] = [QUESTIONNAIRES, *(Path(q) for q in args.questionnaires)]
    if args.record_level:
        files = export_record_level(args.data, args.format, args.out, qdirs, accept_risk=True, lang=args.lang,
                                    labels=args.labels, force=args.force, csv_dialect=args.csv_dialect)
        print("record-level export: keep it on the team's encrypted storage; never publish it")
    else:
        from analysis.report import check_breakdowns
        check_breakdowns(_breakdowns(args.breakdown), qdirs, args.data)
        files = export(args.data, args.format, args.out, qdirs, args.lang, args.labels, args.k,
                       _breakdowns(args.breakdown), force=args.force, csv_dialect=args.csv_dialect)
    for f in files:
        print(f"written: {f}")
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    import os
    from analysis.dashboard import is_loopback
    if not is_loopback(args.address):
        # Selections of the dashboard can be compared with each other: it
        # is for the team, on this computer, never on a network.
        raise KioskError(f"--address {args.address}: the dashboard is served on loopback only (127.0.0.1, ::1 "
                         "or localhost); publish figures with 'analysis report' or 'analysis export'",
                         code="DSH-001")
    from surveycore import i18n
    if args.lang not in i18n.shipped_languages():
        raise KioskError(f"--lang {args.lang!r} is not supported; use one of {', '.join(i18n.shipped_languages())} "
                         "(a language needs its catalog in locales/)", code="RPT-003")
    if not (Path(args.data) / "responses").is_dir():
        # Refused here rather than on a page served for nothing.
        raise KioskError(f"--data {args.data!r} holds no dataset (no responses/ folder); give the folder "
                         "'analysis ingest --data' wrote", code="DSH-002")
    app = Path(__file__).resolve().parent / "dashboard_app.py"
    env = {**os.environ, "ANALYSIS_DATA": str(Path(args.data).resolve()), "ANALYSIS_K": str(args.k),
           "ANALYSIS_LANG": args.lang,
           "ANALYSIS_QUESTIONNAIRES": os.pathsep.join(str(Path(q).resolve()) for q in
                                                      [QUESTIONNAIRES, *args.questionnaires])}
    # Local only, no usage statistics: the dashboard shows health data.
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.address", args.address,
           "--server.port", str(args.port), "--browser.gatherUsageStats", "false",
           "--server.headless", "true", "--client.toolbarMode", "minimal"]
    print(f"dashboard on http://{args.address}:{args.port}", flush=True)
    # Signals to this process reach the server too: it never keeps serving
    # health data after the command that started it was stopped.
    from surveycore.process import run_child
    return run_child(cmd, env=env)


def build_parser() -> argparse.ArgumentParser:
    """The ``analysis`` argument parser."""
    from analysis.disclosure import DEFAULT_K  # the one suppression threshold
    parser = argparse.ArgumentParser(prog="analysis", description="Community health diagnostic.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("keygen", help="create the team key pair")
    p.add_argument("--out", required=True)
    p.add_argument("--passphrase-file")
    p.add_argument("--suite", choices=sorted(SUITE_BY_NAME), default="mlkem768-x25519",
                   help="mlkem768-x25519 (post-quantum hybrid, default) or x25519 (classic)")
    p.add_argument("--name", default="team", help="file names NAME.key and NAME.pub (default team)")
    p.set_defaults(func=cmd_keygen)
    p = sub.add_parser("public-key", help="write the team public key file (with its receipt key) "
                                          "from the private key")
    p.add_argument("--key", required=True, help="the team's .key file")
    p.add_argument("--passphrase-file")
    p.add_argument("--out", required=True, help="the .pub file to write (or a folder: team.pub in it)")
    p.set_defaults(func=cmd_public_key)
    p = sub.add_parser("ingest", help="open bundles into the dataset")
    p.add_argument("bundles", nargs="*")
    p.add_argument("--key", action="append", required=True,
                   help="team private key file (repeatable: old and new keys during a rotation)")
    p.add_argument("--passphrase-file", action="append", default=[],
                   help="first line is the passphrase; one for all keys or one per --key, in order")
    p.add_argument("--data", required=True)
    p.add_argument("--questionnaires", action="append", default=[])
    p.add_argument("--receipts", "--receipt", dest="receipts", metavar="DIR",
                   help="folder for the signed receipts, one per kiosk (default DATA/receipts)")
    p.add_argument("--workers", type=int, default=2,
                   help="processes opening envelopes: this one and N-1 spawned workers (default 2; "
                        "fewer than 3,000 envelopes are opened in-process, which is faster)")
    p.add_argument("--any-device", action="store_true",
                   help="accept envelopes from any kiosk whose signature verifies, without the "
                        "trusted devices list")
    p.add_argument("--retry-quarantine", action="store_true",
                   help="try the quarantined envelopes again (after trusting a device, giving a key or a "
                        "survey); those that ingest leave the quarantine")
    p.set_defaults(func=cmd_ingest)
    p = sub.add_parser("pool", help="pool several teams' datasets after checking they are compatible")
    p.add_argument("datasets", nargs="+", help="dataset folders made by 'analysis ingest'")
    p.add_argument("--out", required=True, help="the new folder of the pooled dataset")
    p.set_defaults(func=cmd_pool)
    p = sub.add_parser("trust", help="manage the kiosks whose envelopes ingest accepts")
    p.add_argument("device_pub", nargs="*", help="a kiosk's device.pub (made by 'kiosk init-device')")
    p.add_argument("--data", required=True)
    p.add_argument("--label", help="a note such as the centre's name")
    p.add_argument("--remove", metavar="FINGERPRINT", help="stop trusting this device")
    p.add_argument("--list", action="store_true", help="list the trusted devices")
    p.set_defaults(func=cmd_trust)
    p = sub.add_parser("report", help="write the offline HTML report")
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--lang", default="fr")
    p.add_argument("--k", type=int, default=DEFAULT_K)
    p.add_argument("--questionnaires", action="append", default=[])
    p.add_argument("--breakdown", action="append", default=[], metavar="NAME=SOURCE",
                   help="breakdown variable: a response column (centre, lang, period) or a single-choice "
                        "module.item; '-' drops one (repeatable)")
    p.add_argument("--period", default="quarter", choices=["week", "month", "quarter", "year"],
                   help="periods of the comparisons and cross-tabs (default quarter)")
    p.add_argument("--where", action="append", default=[], metavar="NAME=VALUE",
                   help="only the responses of this breakdown category, e.g. centre=MARSEILLE (a release of "
                        "its own; repeatable)")
    p.add_argument("--pdf", metavar="FILE", help="also print the report to this A4 PDF (needs chromium)")
    p.add_argument("--appendix", default="territory", choices=["territory", "all"],
                   help="cross-tabs of the appendix: by centre (or neighbourhood), or by every breakdown")
    p.add_argument("--standard-population", metavar="FILE",
                   help="reference population of the age- and sex-standardised shares (CSV age_band,sex,"
                        "population; default: the French census, Insee RP2018)")
    p.set_defaults(func=cmd_report)
    p = sub.add_parser("export", help="export the gated tables and a codebook")
    p.add_argument("--data", required=True)
    p.add_argument("--format", required=True, choices=["xlsx", "csv", "parquet", "sav", "dta"])
    p.add_argument("--out", required=True, help="xlsx: the workbook; csv, parquet, sav: a folder")
    p.add_argument("--lang", default="fr")
    p.add_argument("--k", type=int, default=DEFAULT_K)
    group = p.add_mutually_exclusive_group()
    group.add_argument("--labels", dest="labels", action="store_true", default=True,
                       help="categories as labels in --lang (default)")
    group.add_argument("--codes", dest="labels", action="store_false", help="categories as codes")
    p.add_argument("--questionnaires", action="append", default=[])
    p.add_argument("--breakdown", action="append", default=[], metavar="NAME=SOURCE")
    p.add_argument("--force", action="store_true", help="replace the files of an earlier export")
    p.add_argument("--csv-dialect", default="standard", choices=["standard", "excel-fr"],
                   help="csv: excel-fr writes semicolons and decimal commas (French spreadsheets)")
    p.add_argument("--record-level-i-understand-reidentification-risk", dest="record_level",
                   action="store_true",
                   help="one line per response instead of gated tables: can re-identify patients")
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("dashboard", help="serve the team dashboard (Streamlit, local)")
    p.add_argument("--data", required=True)
    p.add_argument("--k", type=int, default=DEFAULT_K)
    p.add_argument("--questionnaires", action="append", default=[])
    p.add_argument("--address", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8502)
    p.add_argument("--lang", default="fr", help="the page's language at start (the team's; switchable on the page)")
    p.set_defaults(func=cmd_dashboard)
    # Moved to the kiosk side (it seals with a device key): listed for --help,
    # answered in main() with a coded error naming the new command.
    sub.add_parser("simulate", help="moved: use 'kiosk simulate' (same options)", add_help=False)
    return parser


MOVED_SIMULATE = KioskError("'analysis simulate' is now 'kiosk simulate', with the same options (it seals "
                            "responses with a kiosk's device key); run 'kiosk simulate --help'", code="CFG-060")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``analysis`` command."""
    from surveycore.cli import unexpected
    given = sys.argv[1:] if argv is None else argv
    if given[:1] == ["simulate"]:
        # Synthetic responses are sealed with a kiosk's device key: the
        # command belongs to the kiosk side now.
        print(f"error: {MOVED_SIMULATE.user_text()}", file=sys.stderr)
        return 2
    args = build_parser().parse_args(argv)
    try:
        data = getattr(args, "data", None)
        if data is not None and Path(data).exists() and not Path(data).is_dir():
            raise KioskError(f"--data {data!r} is a file; give the dataset's folder", code="CFG-033")
        k = getattr(args, "k", None)
        if k is not None and k < 1:  # checked before any work, and before the disclosure gate refuses it
            raise KioskError(f"--k {k}: give the suppression threshold as a whole number of 1 or more (default 11)",
                             code="CFG-034")
        return int(args.func(args))
    except KioskError as exc:
        print(f"error: {exc.user_text()}", file=sys.stderr)
        return 1
    except BaseException as exc:  # noqa: BLE001 - the boundary: one coded line, never a traceback
        return unexpected(exc)


if __name__ == "__main__":
    sys.exit(main())
