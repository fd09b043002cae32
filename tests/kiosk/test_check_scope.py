"""``kiosk check`` checks questionnaire files and site configurations only;
the kiosk's interface catalogs are checked by ``kiosk i18n check``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kiosk import cli
from surveycore.i18n import LOCALES_ENV

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def broken_catalogs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped catalogs whose French "Next" is left untranslated."""
    folder = tmp_path / "locales"
    shutil.copytree(ROOT / "locales", folder)
    po = folder / "fr" / "LC_MESSAGES" / "messages.po"
    text = po.read_text(encoding="utf-8")
    assert text.count('msgid "Next"\nmsgstr "Suivant"\n') == 1
    po.write_text(text.replace('msgid "Next"\nmsgstr "Suivant"\n', 'msgid "Next"\nmsgstr ""\n'), encoding="utf-8")
    monkeypatch.setenv(LOCALES_ENV, str(folder))
    return po


def test_kiosk_check_reports_only_questionnaire_problems(broken_catalogs: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert cli.main(["check", str(ROOT / "questionnaires")]) == 0
    out = capsys.readouterr()
    assert "I18N-" not in out.out + out.err


def test_kiosk_i18n_check_still_reports_the_catalogs(broken_catalogs: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert cli.main(["i18n", "check"]) == 1
    out = capsys.readouterr()
    assert f"{broken_catalogs}:" in out.out + out.err
    assert "[I18N-005]" in out.out + out.err


def test_a_catalog_whose_header_names_another_language(broken_catalogs: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    text = broken_catalogs.read_text(encoding="utf-8")
    assert text.count('"Language: fr\\n"') == 1
    broken_catalogs.write_text(text.replace('"Language: fr\\n"', '"Language: de\\n"'), encoding="utf-8")
    assert cli.main(["i18n", "check"]) == 1
    out = capsys.readouterr()
    assert f"{broken_catalogs}: warning [I18N-008] the header says Language: de but the catalog is in " in out.out
