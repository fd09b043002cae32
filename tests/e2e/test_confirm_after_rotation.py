"""The weekly routine across a team key rotation (docs/deployment.md §3, §6)
on a kiosk running the shipped full survey: the team's receipts folder
keeps the receipts made before the rotation, signed by the old key only;
`kiosk confirm FOLDER` on the kiosk, which now has the new key, uses the
receipts it can check and skips those, saying so, instead of refusing the
whole folder."""

from __future__ import annotations

import random
from pathlib import Path

from analysis import cli as analysis_cli
from analysis.keys import keygen, load_private_key
from kiosk import cli as kiosk_cli
from kiosk.config import KioskRuntime, load_config
from kiosk.simulate import walk
from kiosk.store import Outbox
from tests.support.kiosks import PASSPHRASE, TeamKeys, full_survey_kiosk


def _answer(config: Path, n: int, seed: int) -> None:
    rt = KioskRuntime(load_config(config))
    try:
        rng = random.Random(seed)
        for _ in range(n):
            respondent, status = walk(rt.survey, "fr", rng)
            rt.submit(respondent, status)
    finally:
        rt.outbox.close()


def _stored(config: Path) -> int:
    outbox = Outbox(load_config(config).outbox_path)
    try:
        return outbox.count()
    finally:
        outbox.close()


def test_confirm_a_receipts_folder_after_a_key_rotation(tmp_path: Path, team: TeamKeys, capsys) -> None:  # type: ignore[no-untyped-def]
    config = full_survey_kiosk(tmp_path / "kiosk", team)
    passphrase = tmp_path / "passphrase.txt"
    passphrase.write_bytes(PASSPHRASE + b"\n")
    data, receipts = tmp_path / "dataset", tmp_path / "dataset" / "receipts"
    old_key = str(team.dir / "team.key")
    assert analysis_cli.main(["trust", str(config.parent / "device" / "device.pub"), "--data", str(data)]) == 0

    # Week 1, old key: export, ingest, confirm with the folder.
    _answer(config, 3, 1)
    assert kiosk_cli.main(["export", "--config", str(config), "--out", str(tmp_path / "w1.hkb")]) == 0
    assert analysis_cli.main(["ingest", str(tmp_path / "w1.hkb"), "--key", old_key, "--passphrase-file",
                              str(passphrase), "--data", str(data)]) == 0
    assert kiosk_cli.main(["confirm", str(receipts), "--config", str(config)]) == 0
    assert _stored(config) == 0

    # The rotation: a new key pair, installed on the kiosk.
    new_dir = tmp_path / "team-2027"
    keygen(new_dir, PASSPHRASE, n=2 ** 12)
    new = load_private_key(new_dir / "team.key", PASSPHRASE).public
    assert kiosk_cli.main(["set-key", str(new_dir / "team.pub"), "--config", str(config)]) == 0

    # Week 2, new key: ingested with both keys, as §6 says.
    _answer(config, 2, 2)
    assert kiosk_cli.main(["export", "--config", str(config), "--out", str(tmp_path / "w2.hkb")]) == 0
    assert analysis_cli.main(["ingest", str(tmp_path / "w2.hkb"), "--key", old_key, "--key",
                              str(new_dir / "team.key"), "--passphrase-file", str(passphrase),
                              "--data", str(data)]) == 0
    capsys.readouterr()
    assert kiosk_cli.main(["confirm", str(receipts), "--config", str(config)]) == 0
    assert capsys.readouterr().out == (
        f"1 receipt(s) for this kiosk in {receipts}\n"
        f"1 receipt(s) for this kiosk not signed by its team key (key id {new.key_id.hex()}) skipped: made "
        "before a key rotation; what they list and this kiosk still holds is removed by a receipt of the "
        "bundles ingested again with both keys (--key)\n"
        "removed 2 envelope(s) confirmed as ingested\n"
        "0 envelope(s) remain on this kiosk\n")
    assert _stored(config) == 0

    # Only old-key receipts in the folder: refused as before, nothing removed.
    _answer(config, 1, 3)
    assert kiosk_cli.main(["export", "--config", str(config), "--out", str(tmp_path / "w3.hkb")]) == 0
    old_only = tmp_path / "old-only"
    old_only.mkdir()
    (old_only / "r.json").write_bytes(sorted(receipts.glob("*-run1.json"))[0].read_bytes())
    assert kiosk_cli.main(["confirm", str(old_only), "--config", str(config)]) == 1
    assert "error: [CFG-028] receipt " in capsys.readouterr().err
    assert _stored(config) == 1
