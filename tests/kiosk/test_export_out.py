"""`kiosk export --out` given a folder (the USB key itself, as staff often
type it) on a kiosk running the shipped full survey: refused before any
work with how to name the bundle, nothing recorded as exported; then the
export the message suggests works."""

from __future__ import annotations

import random
from pathlib import Path

from kiosk import cli as kiosk_cli
from kiosk.config import KioskRuntime, load_config
from kiosk.simulate import walk
from kiosk.store import Outbox
from surveycore.bundle import read_bundle
from tests.support.kiosks import TeamKeys, full_survey_kiosk


def test_export_to_a_folder_says_to_name_the_bundle_and_records_nothing(tmp_path: Path, team: TeamKeys,
                                                                         capsys) -> None:  # type: ignore[no-untyped-def]
    config = full_survey_kiosk(tmp_path / "kiosk", team)
    rt = KioskRuntime(load_config(config))
    try:
        rng = random.Random(4)
        for _ in range(3):
            respondent, status = walk(rt.survey, "fr", rng)
            rt.submit(respondent, status)
    finally:
        rt.outbox.close()
    usb = tmp_path / "usb"
    usb.mkdir()
    assert kiosk_cli.main(["export", "--config", str(config), "--out", str(usb)]) == 1
    assert capsys.readouterr().err == (
        f"error: [S-020] --out {str(usb)!r} is a folder; give the bundle's file name in it, for example "
        f"{str(usb / 'centre-week.hkb')!r}; nothing was exported (see docs/errors.md#s-020)\n")
    assert list(usb.iterdir()) == []
    outbox = Outbox(load_config(config).outbox_path)
    try:
        assert outbox.meta("last_export") is None
        assert outbox.db.execute("SELECT count(*) FROM exported").fetchone()[0] == 0
    finally:
        outbox.close()

    bundle = usb / "centre-week.hkb"
    assert kiosk_cli.main(["export", "--config", str(config), "--out", str(bundle)]) == 0
    assert capsys.readouterr().out == (f"exported 3 envelope(s) to {bundle}; they stay on this kiosk until "
                                       "'kiosk confirm RECEIPT'\n")
    assert len(read_bundle(bundle).envelopes) == 3
