"""Keys: team key generation and protection, the kiosk's device key, the
analysts' trusted-devices list, and key rotation on a kiosk."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from surveycore.keys import SUITE_HYBRID, SUITE_X25519, device_id, load_device_public, load_public_key
from analysis import cli as analysis_cli
from analysis.keys import SCRYPT_N, keygen, load_private_key, load_trusted_devices
from kiosk import cli as kiosk_cli
from kiosk.config import KioskRuntime, load_config
from kiosk.keys import load_device_key
from tests.support.kiosks import PASSPHRASE


@pytest.mark.slow
def test_keygen_default_is_the_hybrid_suite_with_full_scrypt_cost(tmp_path: Path, capsys) -> None:
    pw = tmp_path / "pw.txt"
    pw.write_text("a long enough passphrase\n")
    assert analysis_cli.main(["keygen", "--out", str(tmp_path / "k"), "--passphrase-file", str(pw)]) == 0
    out = capsys.readouterr().out
    pub = load_public_key(tmp_path / "k" / "team.pub")
    assert out == (f"team key pair written to {tmp_path / 'k'} (team.key private, team.pub for the kiosks)\n"
                   f"key id {pub.key_id.hex()}  fingerprint {pub.fingerprint}\n"
                   f"receipt key fingerprint {pub.receipt_fingerprint}\n")
    assert pub.suite == SUITE_HYBRID and len(pub.raw) == 1184 + 32
    data = json.loads((tmp_path / "k" / "team.key").read_text())
    assert data["kdf"]["n"] == SCRYPT_N == 2 ** 17
    assert (tmp_path / "k" / "team.key").stat().st_mode & 0o777 == 0o600
    key = load_private_key(tmp_path / "k" / "team.key", b"a long enough passphrase")
    assert key.public.key_id == pub.key_id

    # Never overwrite a key.
    assert analysis_cli.main(["keygen", "--out", str(tmp_path / "k"), "--passphrase-file", str(pw)]) == 1
    assert capsys.readouterr().err == (
        f"error: [KEY-031] {tmp_path / 'k' / 'team.key'} or {tmp_path / 'k' / 'team.pub'} already exists; "
        "refusing to overwrite a key (move it away first) (see docs/errors.md#key-031)\n")


def test_keygen_classic_suite_and_name(tmp_path: Path) -> None:
    keygen(tmp_path, PASSPHRASE, suite=SUITE_X25519, name="team-2027", n=2 ** 12)
    assert load_public_key(tmp_path / "team-2027.pub").suite == SUITE_X25519
    assert load_private_key(tmp_path / "team-2027.key", PASSPHRASE).suite == SUITE_X25519


def test_an_edited_scrypt_cost_is_refused_before_deriving(tmp_path: Path) -> None:
    keygen(tmp_path, PASSPHRASE, n=2 ** 12)
    data = json.loads((tmp_path / "team.key").read_text())
    data["kdf"]["n"] = 2 ** 40  # would need terabytes of memory
    (tmp_path / "team.key").write_text(json.dumps(data))
    from surveycore.errors import KeyFileError
    with pytest.raises(KeyFileError) as exc:
        load_private_key(tmp_path / "team.key", PASSPHRASE)
    assert (exc.value.code, exc.value.message) == (
        "KEY-042", f"{str(tmp_path / 'team.key')!r} is damaged (missing or unreadable fields)")


# ------------------------------------------------------------- device key

def test_init_device_creates_the_key_once_and_shows_its_fingerprint(kiosk_dir: Path, capsys) -> None:
    cfg = load_config(kiosk_dir)
    cfg.device_key.unlink()
    cfg.device_key.with_name("device.pub").unlink()
    assert kiosk_cli.main(["init-device", "--config", str(kiosk_dir)]) == 0
    fp = device_id(load_device_key(cfg.device_key).public_key())
    pub = cfg.device_key.with_name("device.pub")
    expected = (f"device fingerprint: {fp}\n"
                f"give {pub} to the diagnostic team ('analysis trust device.pub --data DIR') and check that "
                "they see the same fingerprint\n")
    assert capsys.readouterr().out == f"created: device key {cfg.device_key}\n" + expected
    assert cfg.device_key.stat().st_mode & 0o777 == 0o600
    assert load_device_public(pub).fingerprint == fp

    # Again: the same key is kept, and a lost device.pub is written again.
    pub.unlink()
    assert kiosk_cli.main(["init-device", "--config", str(kiosk_dir)]) == 0
    assert capsys.readouterr().out == f"already present: device key {cfg.device_key}\n" + expected
    assert load_device_public(pub).fingerprint == fp


def test_device_pub_loader_refuses_other_files(tmp_path: Path, kiosk_dir: Path) -> None:
    from surveycore.errors import KeyFileError
    device_key = load_config(kiosk_dir).device_key
    with pytest.raises(KeyFileError) as exc:
        load_device_public(device_key)
    assert (exc.value.code, exc.value.message) == (
        "KEY-024", f"{str(device_key)!r} is not a kiosk device public key file (this is a private key: never "
                   "copy it off the kiosk)")
    edited = json.loads(device_key.with_name("device.pub").read_text())
    edited["fingerprint"] = "0000 0000 0000 0000 0000"
    (tmp_path / "edited.pub").write_text(json.dumps(edited))
    with pytest.raises(KeyFileError) as exc:
        load_device_public(tmp_path / "edited.pub")
    assert (exc.value.code, exc.value.message) == (
        "KEY-025", f"{str(tmp_path / 'edited.pub')!r}: fingerprint does not match the key (file edited or damaged)")


# -------------------------------------------------------- trusted devices

def test_trust_adds_lists_and_removes_devices(kiosk_dir: Path, tmp_path: Path, capsys) -> None:
    data = tmp_path / "data"
    pub = load_config(kiosk_dir).device_key.with_name("device.pub")
    fp = load_device_public(pub).fingerprint
    trusted_file = data / "trusted_devices.json"
    assert analysis_cli.main(["trust", str(pub), "--data", str(data), "--label", "Centre Nord"]) == 0
    assert capsys.readouterr().out == (
        f"trusted: device {fp}; compare it with the fingerprint the kiosk shows\n"
        f"1 trusted device(s) in {trusted_file}\n")
    assert analysis_cli.main(["trust", str(pub), "--data", str(data)]) == 0
    assert capsys.readouterr().out == (
        f"already trusted: device {fp}; compare it with the fingerprint the kiosk shows\n"
        f"1 trusted device(s) in {trusted_file}\n")
    assert analysis_cli.main(["trust", "--list", "--data", str(data)]) == 0
    assert capsys.readouterr().out == f"  {fp}  Centre Nord\n1 trusted device(s) in {trusted_file}\n"
    assert [d.fingerprint for d in load_trusted_devices(data) or []] == [fp]

    assert analysis_cli.main(["trust", "--remove", fp.lower(), "--data", str(data)]) == 0
    assert capsys.readouterr().out == (
        f"removed device {fp} (Centre Nord) from {trusted_file}; its envelopes are rejected from now on\n"
        f"0 trusted device(s) in {trusted_file}\n")
    assert load_trusted_devices(data) == []
    assert analysis_cli.main(["trust", "--remove", fp, "--data", str(data)]) == 1
    assert capsys.readouterr().err == (
        f"error: [KEY-062] device {fp!r} is not in the trusted list of {str(data)!r}; check the fingerprint with "
        "'analysis trust --list'; it may already be removed (see docs/errors.md#key-062)\n")


def test_a_damaged_trusted_list_stops_ingest(tmp_path: Path, capsys) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "trusted_devices.json").write_text('{"kind": "health-kiosk-trusted-devices", "devices": '
                                               '[{"public": "AAAA", "fingerprint": "x"}]}')
    assert analysis_cli.main(["trust", "--list", "--data", str(data)]) == 1
    assert capsys.readouterr().err == (
        f"error: [KEY-061] {str(data / 'trusted_devices.json')!r} is damaged; restore it from a backup or "
        "rebuild it with 'analysis trust' (see docs/errors.md#key-061)\n")


# ------------------------------------------------------------ key rotation

def test_set_key_rotates_the_team_key_on_the_kiosk(kiosk_dir: Path, team, tmp_path: Path, capsys) -> None:
    old = load_public_key(team.dir / "team.pub")
    new_key = keygen(tmp_path / "new", PASSPHRASE, n=2 ** 12)
    new = new_key.public
    assert kiosk_cli.main(["set-key", str(tmp_path / "new" / "team.pub"), "--config", str(kiosk_dir)]) == 0
    assert capsys.readouterr().out == (
        f"previous team key: key id {old.key_id.hex()}  fingerprint {old.fingerprint}\n"
        f"new team key: key id {new.key_id.hex()}  fingerprint {new.fingerprint}\n"
        f"receipt key fingerprint {new.receipt_fingerprint}\n"
        "check this fingerprint with the diagnostic team; responses from now on are sealed for it, those "
        "already stored stay sealed for the previous key. Restart the kiosk to use it.\n")
    rt = KioskRuntime(load_config(kiosk_dir))
    try:
        assert rt.public_key.key_id == new.key_id
        rt.decline("fr")
        (env,) = [e for _, e in rt.outbox.pending()]
        assert env[6:14] == new.key_id  # the header names the recipient key
    finally:
        rt.outbox.close()

    assert kiosk_cli.main(["set-key", str(tmp_path / "new" / "team.pub"), "--config", str(kiosk_dir)]) == 0
    assert capsys.readouterr().out == (
        f"team key unchanged: key id {new.key_id.hex()}  fingerprint {new.fingerprint}\n"
        f"receipt key fingerprint {new.receipt_fingerprint}\n")


def test_set_key_refuses_a_private_key_and_keeps_the_current_one(kiosk_dir: Path, team, tmp_path: Path,
                                                                 capsys) -> None:
    shutil.copy(team.dir / "team.key", tmp_path / "oops.pub")
    before = load_config(kiosk_dir).public_key.read_bytes()
    assert kiosk_cli.main(["set-key", str(tmp_path / "oops.pub"), "--config", str(kiosk_dir)]) == 1
    assert capsys.readouterr().err == (
        f"error: [KEY-003] {str(tmp_path / 'oops.pub')!r} is not a team public key file (kind "
        "'health-kiosk-team-public-key' expected); never copy a private key to a kiosk (see docs/errors.md#key-003)\n")
    assert load_config(kiosk_dir).public_key.read_bytes() == before
    assert kiosk_cli.main(["set-key", str(tmp_path / "missing.pub"), "--config", str(kiosk_dir)]) == 1
    assert capsys.readouterr().err == (
        f"error: [KEY-002] public key file {str(tmp_path / 'missing.pub')!r} not found; copy the team's .pub "
        "file there (made by 'analysis keygen') (see docs/errors.md#key-002)\n")


def test_interactive_passphrases_are_asked_once_per_distinct_passphrase(tmp_path: Path, monkeypatch) -> None:
    import getpass
    a = keygen(tmp_path / "a", PASSPHRASE, n=2 ** 12)
    b = keygen(tmp_path / "b", PASSPHRASE, n=2 ** 12)
    c = keygen(tmp_path / "c", b"a different passphrase", n=2 ** 12)
    prompts: list[str] = []
    answers = iter([PASSPHRASE.decode(), "a different passphrase"])

    def fake_getpass(prompt: str) -> str:
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    paths = [str(tmp_path / d / "team.key") for d in "abc"]
    keys = analysis_cli._load_keys(paths, [])
    assert set(keys) == {a.public.key_id, b.public.key_id, c.public.key_id}
    assert prompts == [f"Passphrase of {paths[0]}: ", f"Passphrase of {paths[2]}: "]
