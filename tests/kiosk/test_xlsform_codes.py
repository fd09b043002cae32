"""XLSForm codes no other test reaches: each form built here, converted, and
the exact line ``kiosk import-xlsform`` prints for it."""

from __future__ import annotations

from pathlib import Path

from kiosk.xlsform import convert, import_xlsform
from tests.support.xlsforms import SETTINGS, YESNO, row
from tests.support.xlsforms import make_form


def lines(problems: list) -> list[str]:
    return [p.render() for p in problems if p.code != "X-SET-003"]


def test_a_server_setting_and_a_choice_without_name(tmp_path: Path) -> None:
    form = make_form(tmp_path / "a.xlsx", [row("select_one yesno", "q", "Q ?", "Q?")],
                     YESNO + [["yesno", None, "Peut-être", "Maybe"]],
                     [SETTINGS[0] + ["submission_url"], SETTINGS[1] + ["https://example.org/submit"]])
    assert lines(convert(form).problems) == [
        f"{form}[settings]:2: warning [X-SET-002] setting 'submission_url' ('https://example.org/submit') concerns "
        "ODK servers and is not used: the kiosk seals and stores responses itself",
        f"{form}[choices]:4: error [X-CHO-002] choice row needs 'list_name' and 'name'; got list 'yesno', name ''",
    ]


def test_a_survey_sheet_without_a_type_column(tmp_path: Path) -> None:
    form = make_form(tmp_path / "b.xlsx", [["select_one yesno", "q"]], YESNO, survey_head=["kind", "name"])
    assert lines(convert(form).problems) == [
        f"{form}[survey]:1: error [X-SHEET-002] the survey sheet has no 'type' column"]


def test_a_form_with_nothing_left_to_import_writes_nothing(tmp_path: Path) -> None:
    form = make_form(tmp_path / "d.xlsx", [row("begin_repeat", "r", "R", "R"), row("integer", "n", "N", "N"),
                                          row("end_repeat", "")], None, SETTINGS)
    out = tmp_path / "d.yaml"
    result = import_xlsform(form, out, drop_unsupported=True)
    assert lines(result.problems)[0] == (
        f"{form}[survey]: error [X-ROW-005] no row of the form can be imported; nothing is written")
    assert not out.exists()
