"""``analysis`` command line: keygen, ingest, report.

Errors become ``error: [CODE] message`` here and nowhere else.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kiosk.errors import KioskError, KeyFileError
from kiosk.keys import SUITE_BY_NAME

REPO = Path(__file__).resolve().parent.parent
QUESTIONNAIRES = REPO / "questionnaires"


def cmd_keygen(args: argparse.Namespace) -> int:
    from analysis.keys import keygen, read_passphrase
    passphrase = read_passphrase(args.passphrase_file, "New passphrase for the team private key: ")
    if not args.passphrase_file:
        again = read_passphrase(None, "Repeat the passphrase: ")
        if again != passphrase:
            raise KeyFileError("the two passphrases differ", code="KEY-032")
    key = keygen(args.out, passphrase, SUITE_BY_NAME[args.suite])
    print(f"team key pair written to {args.out} (team.key private, team.pub for the kiosks)")
    print(f"key id {key.public.key_id.hex()}  fingerprint {key.public.fingerprint}")
    return 0


def _load_keys(paths: list[str], passphrase_file: str | None) -> dict:
    from analysis.keys import load_private_key, read_passphrase
    keys = {}
    passphrase = read_passphrase(passphrase_file, "Passphrase of the team private key: ")
    for p in paths:
        key = load_private_key(p, passphrase)
        keys[key.public.key_id] = key
    return keys


def cmd_ingest(args: argparse.Namespace) -> int:
    from analysis.ingest import ingest, write_receipt
    keys = _load_keys(args.key, args.passphrase_file)
    qdirs = [QUESTIONNAIRES] + [Path(q) for q in args.questionnaires]
    result = ingest(args.bundles, keys, args.data, qdirs)
    print(result.summary())
    receipt = args.receipt or str(Path(args.data) / "receipt.json")
    write_receipt(receipt, result)
    print(f"receipt for the kiosk ('kiosk confirm'): {receipt}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from analysis.report import write_report
    qdirs = [QUESTIONNAIRES] + [Path(q) for q in args.questionnaires]
    write_report(args.data, args.out, qdirs, args.lang, args.k)
    print(f"report written to {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``analysis`` argument parser."""
    parser = argparse.ArgumentParser(prog="analysis", description="Community health diagnostic.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("keygen", help="create the team key pair")
    p.add_argument("--out", required=True)
    p.add_argument("--passphrase-file")
    p.add_argument("--suite", choices=sorted(SUITE_BY_NAME), default="mlkem768-x25519")
    p.set_defaults(func=cmd_keygen)
    p = sub.add_parser("ingest", help="open bundles into the dataset")
    p.add_argument("bundles", nargs="+")
    p.add_argument("--key", action="append", required=True, help="team private key file (repeatable)")
    p.add_argument("--passphrase-file")
    p.add_argument("--data", required=True)
    p.add_argument("--questionnaires", action="append", default=[])
    p.add_argument("--receipt")
    p.set_defaults(func=cmd_ingest)
    p = sub.add_parser("report", help="write the offline HTML report")
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--lang", default="fr")
    p.add_argument("--k", type=int, default=11)
    p.add_argument("--questionnaires", action="append", default=[])
    p.set_defaults(func=cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``analysis`` command."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KioskError as exc:
        print(f"error: {exc.user_text()}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
