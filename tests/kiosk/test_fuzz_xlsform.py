"""Fuzzing the XLSForm importer: random rows of real and invented types,
names, labels and expressions yield coded problems, never a crash."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.xlsform import convert
from tests.support.xlsforms import CHOICES_HEAD, SURVEY_HEAD, make_form

TYPES = ["select_one yesno", "select_multiple yesno", "select_one missing", "integer", "note", "text",
         "begin_group", "end_group", "begin_repeat", "end_repeat", "geopoint", "calculate", "date",
         "decimal", "select_one", "", "acknowledge"]
# Control characters cannot be stored in a workbook at all.
printable = st.characters(blacklist_categories=("Cc", "Cs"))
cell = st.one_of(st.none(), st.text(printable, max_size=12), st.integers(-5, 5),
                 st.sampled_from(["${q1}", "${q1} = 'yes'", ". > 3", "selected(${q2}, 'no')", "yes", "true()"]))
rows = st.lists(st.tuples(st.sampled_from(TYPES), st.one_of(st.sampled_from(["q1", "q2", "q3"]), st.text(printable, max_size=8)),
                          cell, cell, cell, cell, cell), max_size=8)
choice_rows = st.lists(st.tuples(st.sampled_from(["yesno", "other", ""]), st.one_of(st.text(printable, max_size=5), st.none()),
                                 cell, cell), max_size=5)

CODE = re.compile(r"^[A-Z]+(-[A-Z]+)*-\d{3}$")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows, choice_rows)
@pytest.mark.slow
def test_importer_reports_only_coded_problems(survey_rows, choices) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        form = make_form(Path(tmp) / "fuzz.xlsx",
                         [[t, n, fr, en, None, None, rel, con, None, None, req, None]
                          for t, n, fr, en, rel, con, req in survey_rows],
                         [list(c) for c in choices], survey_head=SURVEY_HEAD, choices_head=CHOICES_HEAD)
        result = convert(form)
    for problem in result.problems:
        assert CODE.match(problem.code), problem.code
        assert problem.message
