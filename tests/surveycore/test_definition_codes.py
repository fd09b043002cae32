"""A survey whose files change, or vanish, between loading and recording its
definitions is refused (Q-VER-002): the kiosk never records a text it did
not run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from surveycore.definitions import record_of
from surveycore.errors import KioskError
from surveycore.questionnaire import load_survey

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def survey_dir(tmp_path: Path) -> Path:
    for name in ("demo_survey.yaml", "mehm.yaml"):
        shutil.copy(ROOT / "questionnaires" / name, tmp_path / name)
    return tmp_path


def test_a_module_edited_after_loading_is_refused(survey_dir: Path) -> None:
    survey = load_survey(survey_dir / "demo_survey.yaml")
    module = survey_dir / "mehm.yaml"
    text = module.read_text(encoding="utf-8")
    assert text.count("fr: Votre santé en général\n") == 1
    module.write_text(text.replace("fr: Votre santé en général\n", "fr: Votre santé\n"), encoding="utf-8")
    with pytest.raises(KioskError) as info:
        record_of(survey)
    # The re-read files are checked against their own manifest first, which
    # already refuses them; the later hash comparison (Q-VER-002) is a second guard.
    assert info.value.user_text() == ("[BND-012] the definitions of survey 'demo' version 1.0.0 do not give the "
                                      "content hashes the bundle names; it was changed after the kiosk ran it "
                                      "(see docs/errors.md#bnd-012)")


def test_a_module_removed_after_loading_is_refused(survey_dir: Path) -> None:
    survey = load_survey(survey_dir / "demo_survey.yaml")
    (survey_dir / "mehm.yaml").unlink()
    with pytest.raises(KioskError) as info:
        record_of(survey)
    assert info.value.user_text() == (
        f"[Q-VER-002] cannot read the questionnaire file {str(survey_dir / 'mehm.yaml')!r} again (No such file or "
        "directory); check the survey folder (see docs/errors.md#q-ver-002)")
