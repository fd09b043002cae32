"""A recording that cannot be written (REC-004): a coded error for the staff,
and the module file left as it was."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kiosk import recording
from surveycore.errors import ConfigError
from tests.support.media import tone

ROOT = Path(__file__).resolve().parents[2]


def test_a_recording_the_disk_refuses_changes_nothing(tmp_path: Path, monkeypatch) -> None:
    mehm = Path(shutil.copy(ROOT / "questionnaires" / "mehm.yaml", tmp_path / "mehm.yaml"))
    before = mehm.read_bytes()

    def refused(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(recording.os, "fsync", refused)
    with pytest.raises(ConfigError) as info:
        recording.save_recording(mehm, "ar", "chronic", None, tone())
    assert info.value.user_text() == ("[REC-004] cannot write the recording next to mehm.yaml (OSError); check that "
                                      "the questionnaire folder is writable (see docs/errors.md#rec-004)")
    assert mehm.read_bytes() == before
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["mehm.yaml"]
