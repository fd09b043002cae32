"""Where the shipped questionnaires and catalogs are found: the project
root's folders in a checkout, the copies inside the package once installed
(the wheel itself is tested in tests/e2e/test_package.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from surveycore import i18n, resources
from kiosk import cli as kiosk_cli
from analysis import cli as analysis_cli
from tests.support.paths import LOCALES, QUESTIONNAIRES


def test_a_checkout_uses_the_root_folders_users_edit() -> None:
    assert resources.questionnaires_dir() == QUESTIONNAIRES
    assert resources.locales_dir() == LOCALES
    assert kiosk_cli.QUESTIONNAIRES == analysis_cli.QUESTIONNAIRES == QUESTIONNAIRES
    assert i18n.LOCALES_DIR == LOCALES
    # No second copy inside the package in the repository.
    assert not resources.EMBEDDED.exists()


def test_an_installed_package_uses_its_embedded_copies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # site-packages: the package's parent folder is no project root, even
    # with a folder called questionnaires beside it.
    (tmp_path / "questionnaires").mkdir()
    monkeypatch.setattr(resources, "SOURCE_ROOT", tmp_path)
    assert resources.questionnaires_dir() == resources.EMBEDDED / "questionnaires"
    assert resources.locales_dir() == resources.EMBEDDED / "locales"


def test_only_the_shipped_folders_are_asked_for() -> None:
    with pytest.raises(ValueError, match="not a shipped folder: 'fonts'"):
        resources.shipped("fonts")
