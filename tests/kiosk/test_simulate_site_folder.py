"""`kiosk simulate` for a kiosk folder laid out as docs/deployment.md says
(its site survey in survey/, its own copy of the shipped modules in
questionnaires/, named by kiosk.toml's `modules`): the copy is the same
definition as the shipped files, not a second one."""

from __future__ import annotations

import shutil
from pathlib import Path

from analysis.ingest import ingest, scan_responses
from kiosk import cli as kiosk_cli
from kiosk.config import load_config
from kiosk.keys import create_device_key
from tests.support.kiosks import TeamKeys
from tests.support.paths import QUESTIONNAIRES
from tests.support.surveys import site_survey

KIOSK_TOML = """[kiosk]
survey = "survey/lyon.yaml"
modules = ["questionnaires"]
public_key = "team/team.pub"
device_key = "device/device.key"
data_dir = "data"
pin_file = "staff.pin"
"""


def kiosk_folder(folder: Path, team: TeamKeys) -> Path:
    shutil.copytree(QUESTIONNAIRES, folder / "questionnaires")
    site_survey(folder / "survey", "LYON", "lyon", [("guillotiere", "Guillotière"), ("elsewhere", "Ailleurs")])
    (folder / "team").mkdir()
    shutil.copy(team.dir / "team.pub", folder / "team" / "team.pub")
    create_device_key(folder / "device" / "device.key")
    (folder / "kiosk.toml").write_text(KIOSK_TOML, encoding="utf-8")
    assert load_config(folder / "kiosk.toml").module_dirs == ((folder / "questionnaires").resolve(),)
    return folder


def test_simulate_with_the_kiosk_folders_copy_of_the_shipped_modules(tmp_path: Path, team: TeamKeys,
                                                                      capsys) -> None:  # type: ignore[no-untyped-def]
    k = kiosk_folder(tmp_path / "kiosk-lyon", team)
    bundle = tmp_path / "lyon.hkb"
    args = ["simulate", "--n", "30", "--weeks", "4", "--start-week", "2026-W36", "--survey",
            str(k / "survey" / "lyon.yaml"), "--questionnaires", str(k / "questionnaires"), "--pub",
            str(k / "team" / "team.pub"), "--device-key", str(k / "device" / "device.key"), "--out", str(bundle)]
    assert kiosk_cli.main(args) == 0, capsys.readouterr().out
    assert capsys.readouterr().out.startswith(f"30 synthetic responses sealed into {bundle}: complete ")
    result = ingest([bundle], team.keys, tmp_path / "dataset", [])
    assert (result.ingested, result.quarantined) == (30, [])
    assert scan_responses(tmp_path / "dataset").collect().group_by("centre").len().rows() == [("LYON", 30)]

    # A copy that differs under the same version is still two definitions.
    mehm = k / "questionnaires" / "mehm.yaml"
    mehm.write_text(mehm.read_text(encoding="utf-8").replace("How is your health in general?",
                                                             "How is your health, in general?"), encoding="utf-8")
    assert kiosk_cli.main(args) == 1
    out = capsys.readouterr().err
    assert (f"error [Q-SUR-009] module 'mehm' version 1.0.0 is defined by several files ({QUESTIONNAIRES / 'mehm.yaml'}, "
            f"{mehm.resolve()}); keep one, or give the changed one a new version") in out, out
    assert "'demographics'" not in out
