"""Receipts prove possession: ``kiosk confirm`` deletes only what a receipt
signed by the team lists for this kiosk; forged, edited, unsigned,
mis-addressed or wrongly keyed receipts delete nothing; one receipt per kiosk
and per run, never replaced by a later, failed or empty run."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from surveycore.keys import fingerprint, load_public_key
from surveycore.receipt import receipt_signed_message
from analysis import cli as analysis_cli
from analysis.keys import keygen
from analysis.receipts import signed_receipt
from kiosk import cli as kiosk_cli
from kiosk.config import KioskRuntime, load_config
from kiosk.store import Outbox
from tests.support.kiosks import PASSPHRASE, kiosk_device, make_kiosk, receipt_of

NOTHING = "nothing was removed"


def declines(config: Path, n: int) -> list[str]:
    """``n`` responses stored on the kiosk (declined at consent: the quickest)."""
    rt = KioskRuntime(load_config(config))
    try:
        return [rt.decline("fr") for _ in range(n)]
    finally:
        rt.outbox.close()


def stored(config: Path) -> set[str]:
    outbox = Outbox(load_config(config).outbox_path)
    try:
        return {k.hex() for k, _ in outbox.pending()}
    finally:
        outbox.close()


def export(config: Path, out: Path) -> Path:
    assert kiosk_cli.main(["export", "--config", str(config), "--out", str(out)]) == 0
    return out


def ingest_args(team, tmp_path: Path, *bundles: Path, data: Path | None = None) -> list[str]:
    pw = tmp_path / "pw.txt"
    pw.write_text(PASSPHRASE.decode() + "\n")
    return ["ingest", *map(str, bundles), "--key", str(team.dir / "team.key"), "--passphrase-file", str(pw),
            "--data", str(data or tmp_path / "data"), "--any-device"]


@pytest.fixture
def attack(kiosk_dir: Path, team, tmp_path: Path, capsys):
    """The attack on unauthenticated receipts: 30 responses exported, only
    20 of them really ingested; the receipt of those 20 is at hand."""
    first = declines(kiosk_dir, 20)
    monday = export(kiosk_dir, tmp_path / "monday.hkb")
    later = declines(kiosk_dir, 10)
    export(kiosk_dir, tmp_path / "tuesday.hkb")  # all 30 exported: the outbox marks them so
    assert analysis_cli.main(ingest_args(team, tmp_path, monday)) == 0
    receipt = receipt_of(tmp_path / "data", kiosk_dir, 1)
    assert json.loads(receipt.read_text())["envelopes"] == sorted(first)
    capsys.readouterr()
    return first, later, receipt


def confirm_fails(kiosk_dir: Path, receipt: Path, capsys) -> str:
    assert kiosk_cli.main(["confirm", str(receipt), "--config", str(kiosk_dir)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    return err


def test_an_edited_receipt_deletes_nothing(attack, kiosk_dir: Path, tmp_path: Path, capsys) -> None:
    first, later, receipt = attack
    # Envelope ids are in clear in the outbox: whoever holds the USB key can
    # list all 30 in the team's receipt.
    data = json.loads(receipt.read_text())
    data["envelopes"] = sorted(first + later)
    data["count"] = 30
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(data, indent=1))
    assert confirm_fails(kiosk_dir, forged, capsys) == (
        f"error: [CFG-025] receipt {str(forged)!r} does not carry a valid team signature: it was forged or "
        f"edited after ingest; use the receipt exactly as 'analysis ingest' wrote it; {NOTHING} (see docs/errors.md#cfg-025)\n")
    assert stored(kiosk_dir) == set(first + later)
    # The genuine receipt deletes the 20 the team holds, and only them.
    assert kiosk_cli.main(["confirm", str(receipt), "--config", str(kiosk_dir)]) == 0
    assert capsys.readouterr().out == ("removed 20 envelope(s) confirmed as ingested\n"
                                       "10 envelope(s) remain on this kiosk\n")
    assert stored(kiosk_dir) == set(later)


def test_a_receipt_signed_with_another_key_deletes_nothing(attack, kiosk_dir: Path, team, tmp_path: Path,
                                                          capsys) -> None:
    first, later, receipt = attack
    data = json.loads(receipt.read_text())
    data["envelopes"], data["count"] = sorted(first + later), 30
    rogue = ed25519.Ed25519PrivateKey.generate()
    data["signatures"] = [{"key_id": team.private.public.key_id.hex(),
                           "signature": base64.b64encode(rogue.sign(receipt_signed_message(data))).decode()}]
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(data))
    assert confirm_fails(kiosk_dir, forged, capsys).startswith("error: [CFG-025] ")
    # A whole other team key pair (the attacker's own) is not this kiosk's team key either.
    rogue_team = keygen(tmp_path / "rogue", b"rogue passphrase", n=2 ** 10)
    forged.write_text(signed_receipt(kiosk_device(kiosk_dir), 1, first + later,
                                     {rogue_team.public.key_id: rogue_team}))
    assert confirm_fails(kiosk_dir, forged, capsys) == (
        f"error: [CFG-028] receipt {str(forged)!r} is not signed by this kiosk's team key (key id "
        f"{team.private.public.key_id.hex()}; signed by: {rogue_team.public.key_id.hex()}); ingest with "
        f"that team key too (--key), or install the team key that signed it ('kiosk set-key'); {NOTHING} (see docs/errors.md#cfg-028)\n")
    assert stored(kiosk_dir) == set(first + later)


def test_an_unsigned_receipt_deletes_nothing(attack, kiosk_dir: Path, tmp_path: Path, capsys) -> None:
    first, later, _ = attack
    ids = sorted(first + later)
    unsigned = tmp_path / "unsigned.json"
    unsigned.write_text(json.dumps({"kind": "health-kiosk-receipt", "version": 1, "count": 30, "envelopes": ids}))
    message = (f"error: [CFG-024] receipt {str(unsigned)!r} is not signed by the team: a kiosk deletes only "
               "what a signed receipt lists; ingest the bundle again with the current 'analysis' to get a "
               f"signed receipt; {NOTHING} (see docs/errors.md#cfg-024)\n")
    assert confirm_fails(kiosk_dir, unsigned, capsys) == message
    unsigned.write_text(json.dumps({"kind": "health-kiosk-receipt", "version": 2, "count": 30, "envelopes": ids,
                                    "device": base64.b64encode(kiosk_device(kiosk_dir)).decode(), "run": 1}))
    assert confirm_fails(kiosk_dir, unsigned, capsys) == message
    assert stored(kiosk_dir) == set(ids)


def test_a_receipt_for_another_kiosk_deletes_nothing(attack, kiosk_dir: Path, team, tmp_path: Path,
                                                    capsys) -> None:
    first, later, _ = attack
    other = make_kiosk(tmp_path / "other", team)
    signed = tmp_path / "other.json"
    signed.write_text(signed_receipt(kiosk_device(other), 1, first + later, team.keys))
    assert confirm_fails(kiosk_dir, signed, capsys) == (
        f"error: [CFG-026] receipt {str(signed)!r} is for the kiosk with device fingerprint "
        f"{fingerprint(kiosk_device(other))}, not this one ({fingerprint(kiosk_device(kiosk_dir))}); "
        f"confirm it on that kiosk; {NOTHING} (see docs/errors.md#cfg-026)\n")
    assert stored(kiosk_dir) == set(first + later)


@pytest.mark.parametrize("change, code", [
    ({"count": None}, "CFG-023"),            # count missing
    ({"version": True}, "CFG-022"),          # true is not the version number 2
    ({"count": 20.0}, "CFG-023"),
    ({"run": "1"}, "CFG-021"),
    ({"device": "AAAA"}, "CFG-021"),
    ({"extra": 1}, "CFG-021"),
    ({"envelopes": ["zz"]}, "CFG-021"),
])
@pytest.mark.slow
def test_malformed_signed_receipts_delete_nothing(attack, kiosk_dir: Path, tmp_path: Path, capsys,
                                                  change: dict, code: str) -> None:
    first, later, receipt = attack
    data = json.loads(receipt.read_text())
    for k, v in change.items():
        if v is None:
            del data[k]
        else:
            data[k] = v
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    assert confirm_fails(kiosk_dir, bad, capsys).startswith(f"error: [{code}] ")
    assert stored(kiosk_dir) == set(first + later)


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe not utf-8", b"[" * 100_000 + b"]" * 100_000,
                                     b'"just a string"', b"folder"])
@pytest.mark.slow
def test_unreadable_receipts_delete_nothing(attack, kiosk_dir: Path, tmp_path: Path, capsys,
                                            content: bytes) -> None:
    first, later, _ = attack
    bad = tmp_path / "bad.json"
    if content == b"folder":
        bad = tmp_path / "folder.json"
        bad.mkdir()
        (bad / "x.txt").write_text("not a receipt")
        assert confirm_fails(kiosk_dir, bad, capsys) == (
            f"error: [CFG-029] no receipt for this kiosk in {str(bad)!r}; {NOTHING}; give the receipt folder of the "
            "dataset that ingested this kiosk's bundles (see docs/errors.md#cfg-029)\n")
    else:
        bad.write_bytes(content)
        assert confirm_fails(kiosk_dir, bad, capsys) == (
            f"error: [CFG-021] {str(bad)!r} is not an ingest receipt (made by 'analysis ingest'); {NOTHING}; give the "
            "receipt file exactly as 'analysis ingest' wrote it in DATA/receipts/ (see docs/errors.md#cfg-021)\n")
    assert stored(kiosk_dir) == set(first + later)


def test_a_missing_receipt_deletes_nothing(kiosk_dir: Path, tmp_path: Path, capsys) -> None:
    ids = declines(kiosk_dir, 2)
    assert confirm_fails(kiosk_dir, tmp_path / "nowhere.json", capsys) == (
        f"error: [CFG-020] receipt {str(tmp_path / 'nowhere.json')!r} not found; give the receipt file that "
        "'analysis ingest' wrote for this kiosk (see docs/errors.md#cfg-020)\n")
    assert stored(kiosk_dir) == set(ids)


def test_a_kiosk_with_an_older_team_key_says_how_to_install_the_receipt_key(attack, kiosk_dir: Path, team,
                                                                         tmp_path: Path, capsys) -> None:
    first, later, receipt = attack
    # A kiosk set up before receipts were signed: its team.pub has no receipt key.
    pub_path = load_config(kiosk_dir).public_key
    old = json.loads(pub_path.read_text())
    del old["receipt_public"]
    pub_path.write_text(json.dumps(old, indent=2) + "\n")
    assert load_public_key(pub_path).receipt_raw is None
    expected = ("error: [CFG-027] the team public key installed on this kiosk predates signed receipts and "
                "cannot check one; on the team's machine run 'analysis public-key --key team.key --out "
                "team.pub', bring that team.pub here and run 'kiosk set-key team.pub', then confirm again; "
                f"{NOTHING} (see docs/errors.md#cfg-027)\n")
    assert confirm_fails(kiosk_dir, receipt, capsys) == expected
    unsigned = tmp_path / "unsigned.json"
    unsigned.write_text(json.dumps({"kind": "health-kiosk-receipt", "version": 2, "count": 20,
                                    "envelopes": sorted(first)}))
    assert confirm_fails(kiosk_dir, unsigned, capsys) == expected.replace("[CFG-027]", "[CFG-027]")
    assert stored(kiosk_dir) == set(first + later)

    # The way back, as the message says: the team writes team.pub from its key, the kiosk installs it.
    pw = tmp_path / "pw.txt"
    assert analysis_cli.main(["public-key", "--key", str(team.dir / "team.key"), "--passphrase-file", str(pw),
                              "--out", str(tmp_path / "team.pub")]) == 0
    assert capsys.readouterr().out == (
        f"team public key written to {tmp_path / 'team.pub'}: key id {team.private.public.key_id.hex()}  "
        f"fingerprint {team.private.public.fingerprint}\n"
        f"receipt key fingerprint {team.private.public.receipt_fingerprint}; install it on each kiosk with "
        "'kiosk set-key team.pub'\n")
    assert kiosk_cli.main(["set-key", str(tmp_path / "team.pub"), "--config", str(kiosk_dir)]) == 0
    assert capsys.readouterr().out == (
        f"team key unchanged: key id {team.private.public.key_id.hex()}  fingerprint "
        f"{team.private.public.fingerprint}; receipt key installed\n"
        f"receipt key fingerprint {team.private.public.receipt_fingerprint}\n")
    assert kiosk_cli.main(["confirm", str(receipt), "--config", str(kiosk_dir)]) == 0
    assert stored(kiosk_dir) == set(later)


def test_set_key_warns_when_the_file_has_no_receipt_key(kiosk_dir: Path, team, tmp_path: Path, capsys) -> None:
    old = json.loads((team.dir / "team.pub").read_text())
    del old["receipt_public"]
    (tmp_path / "old.pub").write_text(json.dumps(old))
    assert kiosk_cli.main(["set-key", str(tmp_path / "old.pub"), "--config", str(kiosk_dir)]) == 0
    assert capsys.readouterr().out == (
        f"team key unchanged: key id {team.private.public.key_id.hex()}  fingerprint "
        f"{team.private.public.fingerprint}; receipt key installed\n"
        "WARNING: this file has no receipt key, so 'kiosk confirm' refuses every receipt; ask the team for the "
        "file made by 'analysis public-key'\n")


def test_one_receipt_per_kiosk_and_per_run_never_replaced(kiosk_dir: Path, team, tmp_path: Path,
                                                         capsys) -> None:
    other = make_kiosk(tmp_path / "other", team)
    ours, theirs = declines(kiosk_dir, 3), declines(other, 2)
    b1, b2 = export(kiosk_dir, tmp_path / "ours.hkb"), export(other, tmp_path / "theirs.hkb")
    data = tmp_path / "data"
    assert analysis_cli.main(ingest_args(team, tmp_path, b1, b2)) == 0
    out = capsys.readouterr().out
    mine, yours = receipt_of(data, kiosk_dir, 1), receipt_of(data, other, 1)
    assert out.endswith("".join(sorted(f"receipt for the kiosk ('kiosk confirm'): {p}\n" for p in (mine, yours))))
    assert json.loads(mine.read_text())["envelopes"] == sorted(ours)
    assert json.loads(yours.read_text())["envelopes"] == sorted(theirs)
    before = {p.name: p.read_bytes() for p in (data / "receipts").iterdir()}

    # Failed runs (a wrong passphrase; a missing bundle) and an empty run
    # (nothing in the bundle) write no receipt and leave the earlier ones as they were.
    args = ingest_args(team, tmp_path, b1)
    (tmp_path / "wrong.txt").write_text("not the passphrase\n")
    args[args.index("--passphrase-file") + 1] = str(tmp_path / "wrong.txt")
    assert analysis_cli.main(args) == 1
    analysis_cli.main(ingest_args(team, tmp_path, tmp_path / "missing.hkb"))
    capsys.readouterr()
    empty = tmp_path / "empty.hkb"
    from surveycore.bundle import write_bundle
    write_bundle(empty, [])
    assert analysis_cli.main(ingest_args(team, tmp_path, empty)) == 0
    assert capsys.readouterr().out.endswith("no receipt: this run holds nothing new for any kiosk\n")
    assert {p.name: p.read_bytes() for p in (data / "receipts").iterdir()} == before

    # A run that holds the same envelopes again gets its own receipt under a new name.
    assert analysis_cli.main(ingest_args(team, tmp_path, b1)) == 0
    capsys.readouterr()
    after = {p.name: p.read_bytes() for p in (data / "receipts").iterdir()}
    assert {k: v for k, v in after.items() if k in before} == before
    (run,) = [json.loads(v)["run"] for k, v in after.items() if k not in before]
    assert receipt_of(data, kiosk_dir, run).exists()

    # A folder of receipts confirms this kiosk's and skips the other kiosk's.
    assert kiosk_cli.main(["confirm", str(data / "receipts"), "--config", str(kiosk_dir)]) == 0
    assert capsys.readouterr().out == (f"2 receipt(s) for this kiosk in {data / 'receipts'}\n"
                                       "removed 3 envelope(s) confirmed as ingested\n"
                                       "0 envelope(s) remain on this kiosk\n")
    assert stored(other) == set(theirs)
    assert kiosk_cli.main(["confirm", str(yours), "--config", str(other)]) == 0
    assert stored(other) == set()


def test_a_receipt_that_would_replace_another_is_refused(kiosk_dir: Path, team, tmp_path: Path, capsys) -> None:
    declines(kiosk_dir, 2)
    bundle = export(kiosk_dir, tmp_path / "b.hkb")
    folder = tmp_path / "usb"
    # Two datasets writing their receipts to one folder: run 1 of each.
    assert analysis_cli.main(ingest_args(team, tmp_path, bundle, data=tmp_path / "d1") + ["--receipts", str(folder)]) == 0
    kept = receipt_of(folder.parent / "x", kiosk_dir, 1).name
    first = (folder / kept).read_bytes()
    capsys.readouterr()
    assert analysis_cli.main(ingest_args(team, tmp_path, bundle, data=tmp_path / "d2") + ["--receipts", str(folder)]) == 1
    assert capsys.readouterr().err == (
        f"error: [ING-051] receipt {str(folder / kept)!r} already exists (another dataset wrote receipts to "
        "this folder?); it was kept; give another --receipts folder (see docs/errors.md#ing-051)\n")
    assert (folder / kept).read_bytes() == first
    assert sorted(p.name for p in folder.iterdir()) == [kept]


def test_receipt_key_of_a_team_public_key_damaged(team, tmp_path: Path) -> None:
    data = json.loads((team.dir / "team.pub").read_text())
    data["receipt_public"] = "AAAA"
    (tmp_path / "t.pub").write_text(json.dumps(data))
    with pytest.raises(Exception) as info:
        load_public_key(tmp_path / "t.pub")
    assert getattr(info.value, "code", None) == "KEY-014"
    shutil.rmtree(tmp_path / "rogue", ignore_errors=True)
