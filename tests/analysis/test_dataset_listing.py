"""docs/dataset.md lists the files of a dataset folder: after a team's week
(bundles of the shipped full survey from two kiosks, one not yet trusted,
then a report and an export) every documented file is there and every file
there is documented."""

from __future__ import annotations

import re
from pathlib import Path

from analysis import cli as analysis_cli
from kiosk.keys import create_device_key
from kiosk.simulate import simulate
from tests.support.kiosks import PASSPHRASE, TeamKeys
from tests.support.paths import QUESTIONNAIRES, REPO
from tests.support.surveys import site_survey


def documented() -> list[str]:
    """The globs of the listing at the top of docs/dataset.md (``<x>`` is any name)."""
    text = (REPO / "docs" / "dataset.md").read_text(encoding="utf-8")
    block = re.search(r"```\n(DATA/.*?)```", text, re.S)
    assert block is not None
    globs = []
    for line in block.group(1).splitlines():
        paths = re.split(r"\s{2,}", line.strip())[0]
        for path in paths.split(", "):
            assert path.startswith("DATA/"), line
            globs.append(re.sub(r"<[^>]+>", "*", path.removeprefix("DATA/")))
    return globs


def test_the_documented_listing_is_the_dataset_folder(tmp_path: Path, team: TeamKeys, capsys) -> None:  # type: ignore[no-untyped-def]
    bundles = []
    for centre in ("LYON", "LILLE"):
        folder = tmp_path / centre.lower()
        survey = site_survey(folder, centre, centre.lower(), [("nord", "Nord"), ("elsewhere", "Ailleurs")])
        create_device_key(folder / "device.key")
        simulate(40, survey, team.dir / "team.pub", folder / "device.key", folder / "b.hkb", seed=1,
                 module_dirs=[QUESTIONNAIRES])
        bundles.append(str(folder / "b.hkb"))
    data = tmp_path / "dataset"
    passphrase = tmp_path / "passphrase.txt"
    passphrase.write_bytes(PASSPHRASE + b"\n")
    assert analysis_cli.main(["trust", str(tmp_path / "lyon" / "device.pub"), "--data", str(data)]) == 0
    # Lille's kiosk is not trusted yet: its envelopes are quarantined (exit 3).
    assert analysis_cli.main(["ingest", *bundles, "--key", str(team.dir / "team.key"), "--passphrase-file",
                              str(passphrase), "--data", str(data)]) == 3
    assert analysis_cli.main(["report", "--data", str(data), "--out", str(tmp_path / "report.html")]) == 0
    capsys.readouterr()

    globs = documented()
    files = {p.relative_to(data).as_posix() for p in data.rglob("*") if p.is_file()}
    for pattern in globs:
        assert any(Path(f).match(pattern) and f.count("/") == pattern.count("/") for f in files), pattern
    undocumented = sorted(f for f in files
                          if not any(Path(f).match(g) and f.count("/") == g.count("/") for g in globs))
    assert undocumented == []
