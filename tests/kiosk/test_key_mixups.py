"""The two .pub files of a kiosk folder swapped: the kiosk's own device.pub
given where the team's team.pub is wanted (set-key, simulate --pub) is
named for what it is, with the file to give instead."""

from __future__ import annotations

from pathlib import Path

from kiosk import cli as kiosk_cli
from kiosk.config import load_config
from tests.support.kiosks import TeamKeys, full_survey_kiosk
from tests.support.paths import QUESTIONNAIRES


def test_the_device_pub_given_as_the_team_key(tmp_path: Path, team: TeamKeys, capsys) -> None:  # type: ignore[no-untyped-def]
    config = full_survey_kiosk(tmp_path / "kiosk", team)
    device_pub = config.parent / "device" / "device.pub"
    before = load_config(config).public_key.read_bytes()
    message = (f"error: [KEY-003] {str(device_pub)!r} is a kiosk's device public key (for the team's 'analysis "
               "trust'), not the team public key; give the team's team.pub made by 'analysis keygen' "
               "(see docs/errors.md#key-003)\n")
    assert kiosk_cli.main(["set-key", str(device_pub), "--config", str(config)]) == 1
    assert capsys.readouterr().err == message
    assert load_config(config).public_key.read_bytes() == before
    out = tmp_path / "b.hkb"
    assert kiosk_cli.main(["simulate", "--n", "5", "--survey", str(QUESTIONNAIRES / "full_survey.yaml"),
                           "--pub", str(device_pub), "--device-key", str(config.parent / "device" / "device.key"),
                           "--out", str(out)]) == 1
    assert capsys.readouterr().err == message
    assert not out.exists()
