"""Key-file codes no other test reaches, each with its exact text: a team
public key with an unknown suite, a damaged key, an edited key id; a device
key that exists already or is missing; a device.pub that is missing; a
private key whose key id was edited; passphrase files that do not match."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis import cli as analysis_cli
from analysis.keys import load_private_key, load_private_keys
from surveycore.errors import KeyFileError
from kiosk.keys import create_device_key, load_device_key, load_public_key
from tests.support.kiosks import PASSPHRASE, TeamKeys


def see(code: str) -> str:
    return f" (see docs/errors.md#{code.lower()})"


def edited_pub(team: TeamKeys, tmp_path: Path, **changes: str) -> Path:
    data = json.loads((team.dir / "team.pub").read_text())
    data.update(changes)
    path = tmp_path / "team.pub"
    path.write_text(json.dumps(data))
    return path


def test_team_public_keys_that_cannot_be_used(team: TeamKeys, tmp_path: Path) -> None:
    cases = [
        ({"suite": "rot13"}, "KEY-010", "unknown suite 'rot13'; use --suite hybrid (the default) or --suite x25519"),
        ({"public": "not base64!"}, "KEY-011", "the 'public' field is damaged; copy the team's .pub file again"),
        ({"key_id": "00" * 8}, "KEY-012", "key id does not match the key (file edited or damaged); copy team.pub "
                                          "again from the team's machine"),
    ]
    for changes, code, text in cases:
        path = edited_pub(team, tmp_path, **changes)
        with pytest.raises(KeyFileError) as info:
            load_public_key(path)
        assert info.value.user_text() == f"[{code}] {str(path)!r}: {text}{see(code)}"


def test_a_device_key_is_never_overwritten_nor_invented(tmp_path: Path) -> None:
    path = tmp_path / "device" / "device.key"
    create_device_key(path)
    before = path.read_bytes()
    with pytest.raises(KeyFileError) as info:
        create_device_key(path)
    assert info.value.user_text() == (f"[KEY-020] device key {str(path)!r} already exists; refusing to overwrite "
                                      "it; keep the existing device key (it is the kiosk's identity), or move it "
                                      "away first if it must really be replaced" + see("KEY-020"))
    assert path.read_bytes() == before
    with pytest.raises(KeyFileError) as info:
        load_device_key(tmp_path / "nope.key")
    assert info.value.user_text() == (f"[KEY-021] device key {str(tmp_path / 'nope.key')!r} not found; create it "
                                      "with 'kiosk demo' or 'kiosk init-device'" + see("KEY-021"))


def test_trusting_a_missing_device_pub(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "device.pub"
    assert analysis_cli.main(["trust", str(missing), "--data", str(tmp_path / "data")]) == 1
    assert capsys.readouterr().err == (
        f"error: [KEY-023] device public key file {str(missing)!r} not found; it is the device.pub beside the "
        "kiosk's device key ('kiosk init-device' prints where); copy the device.pub that 'kiosk init-device' wrote "
        "on the kiosk and give its path" + see("KEY-023") + "\n")
    assert not (tmp_path / "data" / "trusted_devices.json").exists()


def test_a_private_key_with_an_edited_key_id_fails_its_integrity_check(team: TeamKeys, tmp_path: Path) -> None:
    # KEY-044 is a second guard: the key id is bound to the encrypted key, so
    # an edited one already fails as KEY-043 (the registry says so).
    data = json.loads((team.dir / "team.key").read_text())
    data["key_id"] = "00" * 8
    path = tmp_path / "team.key"
    path.write_text(json.dumps(data))
    with pytest.raises(KeyFileError) as info:
        load_private_key(path, PASSPHRASE)
    assert info.value.user_text() == (f"[KEY-043] wrong passphrase for {str(path)!r} (or the file was altered); "
                                      "give the passphrase chosen at 'analysis keygen' (--passphrase-file or the "
                                      "prompt)" + see("KEY-043"))


def test_passphrase_files_must_match_the_keys(team: TeamKeys) -> None:
    key = str(team.dir / "team.key")
    with pytest.raises(KeyFileError) as info:
        load_private_keys([key, key], [PASSPHRASE, PASSPHRASE, PASSPHRASE])
    assert info.value.user_text() == ("[KEY-046] give one passphrase file for all keys or one per key (2 key(s), "
                                      "3 passphrase file(s))" + see("KEY-046"))
