"""``kiosk check kiosk.toml``: a site configuration is checked with its
survey, keys and server settings."""

from __future__ import annotations

from pathlib import Path

from kiosk import cli


def test_a_good_site_config_is_clean(kiosk_dir: Path, capsys) -> None:
    assert cli.main(["check", str(kiosk_dir)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "0 error(s), 0 warning(s)"


def test_a_broken_site_config_reports_each_problem(kiosk_dir: Path, capsys) -> None:
    text = kiosk_dir.read_text()
    kiosk_dir.write_text(text.replace('public_key = "team/team.pub"', 'public_key = "team/missing.pub"')
                         .replace('address = "127.0.0.1"', 'address = "10.0.0.5"'))
    (kiosk_dir.parent / "survey" / "demo_survey.yaml").write_text(
        (kiosk_dir.parent / "survey" / "demo_survey.yaml").read_text().replace("version: 1.0.0}", "version: 9.0.0}"))
    assert cli.main(["check", str(kiosk_dir)]) == 1
    out = capsys.readouterr().out
    assert "[Q-SUR-007] module 'mehm' version 9.0.0 not found" in out
    assert f"{kiosk_dir}: error [KEY-002] public key file '{kiosk_dir.parent / 'team' / 'missing.pub'}' not found" in out
    assert "[CFG-010]" in out and "'10.0.0.5' is reachable from the network" in out
    assert out.strip().splitlines()[-1].startswith("3 error(s)")


def test_a_team_key_without_receipt_key_is_a_warning(kiosk_dir: Path, capsys) -> None:
    import json
    pub = kiosk_dir.parent / "team" / "team.pub"
    data = json.loads(pub.read_text())
    del data["receipt_public"]
    pub.write_text(json.dumps(data))
    assert cli.main(["check", str(kiosk_dir)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [f"{kiosk_dir}: warning [KEY-015] the team public key {str(pub)!r} has no receipt key, so "
                   "'kiosk confirm' refuses every receipt; install the team.pub made by 'analysis public-key' "
                   "with 'kiosk set-key'", "0 error(s), 1 warning(s)"]


def test_a_small_order_team_key_is_refused_by_check_set_key_and_start(kiosk_dir: Path, tmp_path: Path,
                                                                      capsys) -> None:
    import base64
    import json

    import pytest

    from kiosk.config import KioskRuntime, load_config
    from surveycore.errors import KeyFileError
    from surveycore.keys import key_id_for
    pub = kiosk_dir.parent / "team" / "team.pub"
    good = pub.read_bytes()
    data = json.loads(good)
    raw = base64.b64decode(data["public"])[:1184] + bytes(32)  # the X25519 half all zeros
    data["public"] = base64.b64encode(raw).decode()
    data["key_id"] = key_id_for(1, raw).hex()
    (tmp_path / "zero.pub").write_text(json.dumps(data))
    message = (f"{str(tmp_path / 'zero.pub')!r}: the team public key is unusable (a weak X25519 key that no "
               "response could be sealed for); get the team's real .pub file made by 'analysis keygen'")
    assert cli.main(["set-key", str(tmp_path / "zero.pub"), "--config", str(kiosk_dir)]) == 1
    assert capsys.readouterr().err == f"error: [KEY-013] {message} (see docs/errors.md#key-013)\n"
    assert pub.read_bytes() == good
    pub.write_text(json.dumps(data))  # copied by hand over the installed key
    with pytest.raises(KeyFileError) as info:
        KioskRuntime(load_config(kiosk_dir))
    assert info.value.code == "KEY-013"
    assert cli.main(["check", str(kiosk_dir)]) == 1
    assert "error [KEY-013]" in capsys.readouterr().out


def test_an_all_zero_classic_x25519_team_key_is_refused(tmp_path: Path) -> None:
    import pytest

    from surveycore.errors import KeyFileError
    from surveycore.keys import SUITE_X25519, public_key_from_raw
    for raw in (bytes(32), b"\x01" + bytes(31)):  # small-order points
        with pytest.raises(KeyFileError) as info:
            public_key_from_raw(SUITE_X25519, raw)
        assert info.value.code == "KEY-013"
