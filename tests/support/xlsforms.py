"""XLSForm workbooks built with openpyxl."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook


SURVEY_HEAD = ["type", "name", "label::French (fr)", "label::English (en)", "hint::French (fr)",
               "hint::English (en)", "relevant", "constraint", "constraint_message::French (fr)",
               "constraint_message::English (en)", "required", "appearance"]


CHOICES_HEAD = ["list_name", "name", "label::French (fr)", "label::English (en)"]


def make_form(path: Path, survey: list[list[Any]], choices: list[list[Any]] | None = None,
              settings: list[list[Any]] | None = None, survey_head: list[str] | None = None,
              choices_head: list[str] | None = None) -> Path:
    """Write an XLSForm workbook: header rows, then the given rows."""
    wb = Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(survey_head or SURVEY_HEAD)
    for row in survey:
        ws.append(row)
    if choices is not None:
        cs = wb.create_sheet("choices")
        cs.append(choices_head or CHOICES_HEAD)
        for row in choices:
            cs.append(row)
    if settings is not None:
        ss = wb.create_sheet("settings")
        for row in settings:
            ss.append(row)
    wb.save(path)
    return path


YESNO = [["yesno", "yes", "Oui", "Yes"], ["yesno", "no", "Non", "No"]]


def row(type_: str, name: str, fr: str = "", en: str = "", extra: dict[str, Any] | None = None,
        **cols: Any) -> list[Any]:
    """A survey row in SURVEY_HEAD (+ choice_filter) order; other columns by
    keyword, or by header in ``extra``."""
    values = {"type": type_, "name": name, "label::French (fr)": fr or None, "label::English (en)": en or None}
    values.update(cols)
    values.update(extra or {})
    return [values.get(h) for h in SURVEY_HEAD + ["choice_filter"]]


SETTINGS = [["form_id", "form_title", "version", "source", "license"],
            ["smoking", "Tabac", "1.2.0", "Written for a test", "CC0-1.0"]]
