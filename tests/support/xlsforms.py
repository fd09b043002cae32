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
