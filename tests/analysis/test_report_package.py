"""The report package: one typed identifier names every published table, the
renderers find tables only through it, and no module of the analysis
grows past a reviewable size."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analysis.report import ViewId

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("vid", "key"), [
    (ViewId.participation(), "participation"),
    (ViewId.dropoff(), "participation.dropoff"),
    (ViewId.item("mehm", 1, "general_health"), "mehm.general_health"),
    (ViewId.item("mehm", 2, "general_health"), "mehm@2.general_health"),
    (ViewId.item("mehm", 1, "general_health").per("centre"), "mehm.general_health.by.centre"),
    (ViewId.item("mehm", 1, "general_health").status(), "mehm.general_health.status"),
    (ViewId.item("ses", 1, "benefits", "rsa"), "ses.benefits#rsa"),
    (ViewId.item("ses", 1, "benefits").with_option("rsa").per("age_band"), "ses.benefits#rsa.by.age_band"),
    # The status of a multiple-choice question is one table for all its options.
    (ViewId.item("ses", 1, "benefits", "rsa").status(), "ses.benefits.status"),
    (ViewId.score("phq9", 1, "total"), "score.phq9.total"),
    (ViewId.score("phq9", 2, "total").screen(), "score.phq9@2.total.screen"),
    (ViewId.score("phq9", 1, "total").status(), "score.phq9.total.status"),
    (ViewId.score("epices", 1, "score@1.1.0").per("centre"), "score.epices.score@1.1.0.by.centre"),
    (ViewId.indicator("who5"), "indicator.who5"),
    (ViewId.indicator("who5@1.1.0").per("centre"), "indicator.who5@1.1.0.by.centre"),
    (ViewId.module_status("mehm", 3), "mehm@3.status"),
])
def test_a_view_id_keeps_the_published_table_name(vid: ViewId, key: str) -> None:
    # The key is the "table" column of every export: it must not change.
    assert vid.key == key
    assert str(vid) == key


RENDERERS = [*sorted((ROOT / "analysis" / "export").glob("*.py")), ROOT / "analysis" / "dashboard.py",
             *sorted((ROOT / "analysis" / "report").glob("html_*.py")), ROOT / "analysis" / "report" / "query.py"]


@pytest.mark.parametrize("path", RENDERERS, ids=lambda p: p.name)
def test_renderers_find_tables_by_view_id_only(path: Path) -> None:
    """A renderer that looked a table up by a spelled-out id would silently
    render nothing when the builder's naming changed."""
    text = path.read_text(encoding="utf-8")
    lookups = re.findall(r"\.views\s*\[|\.views\.get\(|\bin release\.views(?![.\w])", text)
    assert lookups == [], f"{path.name} looks tables up by string id; use release.get(ViewId...)"


def test_no_analysis_module_is_over_600_lines() -> None:
    # disclosure.py is one concept (the cell key method and its rules) and stays whole.
    long = {str(p.relative_to(ROOT)): n for p in (ROOT / "analysis").rglob("*.py")
            if p.name != "disclosure.py" and (n := len(p.read_text(encoding="utf-8").splitlines())) > 600}
    assert long == {}
