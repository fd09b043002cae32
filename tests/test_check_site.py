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
