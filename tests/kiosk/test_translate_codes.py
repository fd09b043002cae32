"""Translation codes no other test reaches: ``kiosk i18n`` refusing a missing
module, an unknown locale, the source language, an empty folder, a file that
is no .po, a .po of another module or without msgctxt, and a bad status."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kiosk.cli import QUESTIONNAIRES, main
from surveycore.errors import ConfigError
from kiosk.translate import import_module


@pytest.fixture
def mehm(tmp_path: Path) -> Path:
    return Path(shutil.copy(QUESTIONNAIRES / "mehm.yaml", tmp_path / "mehm.yaml"))


def see(code: str) -> str:
    return f" (see docs/errors.md#{code.lower()})\n"


def test_export_refuses_what_it_cannot_export(mehm: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    po = tmp_path / "out.po"
    cases = [
        (["i18n", "export", str(tmp_path / "nope.yaml"), "--lang", "ar", "-o", str(po)],
         f"error: [TR-012] module file {str(tmp_path / 'nope.yaml')!r} not found; give the path of the module's "
         ".yaml file" + see("TR-012")),
        (["i18n", "export", str(mehm), "--lang", "xx_QQ", "-o", str(po)],
         "error: [TR-011] babel has no locale 'xx_QQ'; use a CLDR code such as ar, fa_AF (Dari), ps, ti"
         + see("TR-011")),
        (["i18n", "export", str(mehm), "--lang", "fr", "-o", str(po)],
         "error: [TR-013] 'fr' is the module's source language; export another language" + see("TR-013")),
    ]
    for argv, line in cases:
        assert main(argv) == 1
        assert capsys.readouterr().err == line
        assert not po.exists()


def test_status_of_a_folder_without_surveys(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "empty").mkdir()
    assert main(["i18n", "status", str(tmp_path / "empty")]) == 1
    assert capsys.readouterr().err == (f"error: [TR-015] no survey file in {str(tmp_path / 'empty')!r}; name a "
                                       "survey or module file" + see("TR-015"))


def test_import_refuses_a_file_that_is_not_po_and_warns_of_another_module(mehm: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                          capsys) -> None:
    before = mehm.read_bytes()
    bad = tmp_path / "bad.po"
    bad.write_text('garbage "\n', encoding="utf-8")
    assert main(["i18n", "import", str(mehm), str(bad), "--lang", "ar"]) == 1
    assert capsys.readouterr().out.splitlines()[0] == (
        f"{bad}:1: error [TR-001] not a readable .po file: Unknown or misformatted keyword")
    gad = tmp_path / "gad7.yaml"
    shutil.copy(QUESTIONNAIRES / "gad7.yaml", gad)
    other = tmp_path / "gad7.po"
    assert main(["i18n", "export", str(gad), "--lang", "ar", "-o", str(other)]) == 0
    capsys.readouterr()
    assert main(["i18n", "import", str(mehm), str(other), "--lang", "ar"]) == 1
    assert capsys.readouterr().out.splitlines()[0] == (
        f"{other}: warning [TR-003] the file was exported from module 'gad7', not 'mehm'")
    assert mehm.read_bytes() == before


def test_import_refuses_an_entry_without_msgctxt(mehm: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    po = tmp_path / "ar.po"
    assert main(["i18n", "export", str(mehm), "--lang", "ar", "-o", str(po)]) == 0
    capsys.readouterr()
    po.write_text(po.read_text(encoding="utf-8") + '\nmsgid "Stray"\nmsgstr "شارد"\n', encoding="utf-8")
    before = mehm.read_bytes()
    assert main(["i18n", "import", str(mehm), str(po), "--lang", "ar"]) == 1
    out = capsys.readouterr().out
    assert "error [TR-004] msgid \"Stray\" has no msgctxt, so its place in the module is unknown; " in out
    assert mehm.read_bytes() == before


def test_import_refuses_a_status_other_than_draft_or_validated(mehm: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        import_module(mehm, tmp_path / "ar.po", "ar", status="reviewed")
    assert info.value.user_text() == (
        "[TR-014] status must be 'draft' or 'validated', not 'reviewed'; use --status draft or --status validated"
        " (see docs/errors.md#tr-014)")
