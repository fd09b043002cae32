"""The release gate and the offline HTML report.

Disclosure rules on views (counts, percentages, means), a cross-tab where
primary suppression alone would let a hidden cell be recalculated, the
consistency of one release across linked groups, and the report parsed
table by table, with no external reference."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analysis import cli as analysis_cli
from analysis import disclosure
from analysis.disclosure import GatedTable
from analysis.report import _one_d, _two_d, render_html
from tests.test_roundtrip import Tables
from tests.test_tables import MODULE_T, Data, d1, figures, release, write_modules


# ------------------------------------------------------------- release gate

def crosstab_family() -> tuple[list[GatedTable], list[dict]]:
    """Answer (a, b, c) x centre (C1, C2) with the 1-D answer table.

    Only b/C1 = 4 is small. Row b is (4, 30) and column C1 is (20, 4, 25): with
    only b/C1 hidden, row b's total (34) minus 30 gives it back.
    """
    x = ("item", "t", 1, "q")
    codes = ["a", "b", "c"]
    one, k1 = _one_d([40, 34, 45], codes, "answer", [(x, "=", c) for c in codes], (x, "seen"), 11)
    two, k2 = _two_d([[20, 20], [4, 30], [25, 20]], codes, ["C1", "C2"], "answer", "centre",
                     lambda r, c: (x, "=", codes[r], "centre", ["C1", "C2"][c]),
                     [(x, "=", c) for c in codes], [(x, "seen", "centre", c) for c in ("C1", "C2")], (x, "seen"), 11)
    return [one, two], [k1, k2]


def test_primary_suppression_alone_lets_the_cell_be_recalculated() -> None:
    tables_, keys = crosstab_family()
    primary_only = [disclosure.primary_suppression(t) for t in tables_]
    report = disclosure.audit_linked_keyed(primary_only, keys)[1]
    assert report.ok is False
    assert report.intervals[(1, 0)] == (4.0, 4.0)  # b/C1 is pinned down exactly
    gated = disclosure.gate_release([tables_], [keys])[0]
    assert [r.ok for r in disclosure.audit_linked_keyed(gated, keys)] == [True, True]
    two = gated[1]
    # b/C1 hidden with its row partner b/C2 and the column partners a/C1, a/C2.
    assert two.suppressed == ((True, True), (True, True), (False, False))
    assert (two.row_total(1), two.col_total(0), two.total()) == (34, 49, 119)
    assert gated[0].cell(1, 0) == 34  # the 1-D table still shows every answer


def test_release_hides_a_shared_figure_everywhere() -> None:
    # Two groups share the figure "seen = 119" (key (x, "seen")); the second
    # group hides it (total of a table whose only other entry is small).
    tables_, keys = crosstab_family()
    x = ("item", "t", 1, "q")
    status, ks = _one_d([119, 5], ["_seen", "_notreached"], "status", [(x, "seen"), (x, "=", "_notreached")],
                        ("pop", "t", 1), 11)
    gated = disclosure.gate_release([tables_, [status]], [keys, [ks]])
    assert gated[1][0].cell(0, 0) is None and gated[1][0].cell(1, 0) is None
    # The cross-tab's and 1-D table's total is the same figure: hidden too.
    assert gated[0][0].total() is None and gated[0][1].total() is None
    assert disclosure.release_inconsistencies(gated, [keys, [ks]]) == []
    assert all(r.ok for g, k in zip(gated, [keys, [ks]]) for r in disclosure.audit_linked_keyed(g, k))


def test_group_means_secondary_suppression() -> None:
    assert disclosure.gate_group_means([30, 12, 5], [1.0, 2.0, 3.0]) == [1.0, None, None]
    assert disclosure.gate_group_means([30, 12, 5, 4], [1.0, 2.0, 3.0, 4.0]) == [1.0, 2.0, None, None]
    assert disclosure.gate_group_means([30, 0], [1.0, None]) == [1.0, None]
    assert disclosure.gate_group_means([11, 12], [1.5, 2.5]) == [1.5, 2.5]


def test_count_percentage_and_mean_rules_on_views(tmp_path: Path) -> None:
    qdir = write_modules(tmp_path / "q", MODULE_T)
    d = Data()
    d.respond({"t.q1": "a"}, times=11)     # 11: published
    d.respond({"t.q1": "b"}, times=10)     # 10: hidden
    d.respond({"t.q1": None}, times=5)     # 5 refusals: hidden; together 15, so each could be 0 or 11
    data = d.write(tmp_path / "data")
    r = release(data, qdir, breakdowns={})
    v = r.views["t.q1"]
    assert figures(v) == {("a", ""): 11, ("b", ""): None, ("_refused", ""): None}
    assert v.total.n == 26
    assert v.cells[("a", "")].pct == pytest.approx(100 * 11 / 26)
    assert v.cells[("b", "")].pct is None
    # Percentages: numerator and denominator >= k, or a 0 over >= k.
    assert disclosure.gate_percentage(0, 11) == 0.0
    assert disclosure.gate_percentage(5, 40) is None and disclosure.gate_percentage(11, 40) == 27.5
    assert disclosure.gate_percentage(0, 10) is None


def test_no_breakdown_of_fewer_than_two_categories(tmp_path: Path) -> None:
    data, qdir = d1(tmp_path)
    r = release(data, qdir, breakdowns={"centre": "centre", "lang": "lang"})
    assert "t.q1.by.centre" in r.views and "t.q1.by.lang" not in r.views  # every response is in French


# ------------------------------------------------------------- HTML report

# No t.q2.by.centre: only centre C1 saw q2, and a cross-tab with a single
# publishable column adds nothing to the 1-D table.
EXPECTED_TABLES = {
    "participation", "participation.completion", "participation.dropoff",
    "t.q1", "t.q1.status", "t.q1.by.centre", "t.q2", "t.q2.status",
    "t.q3", "t.q3.status", *(f"t.q3#{o}.by.centre" for o in ("x", "y", "z", "_none")),
}


def test_report_html_every_table_and_no_external_reference(tmp_path: Path) -> None:
    data, qdir = d1(tmp_path)
    out = tmp_path / "report.html"
    assert analysis_cli.main(["report", "--data", str(data), "--out", str(out), "--lang", "en",
                              "--questionnaires", str(qdir), "--breakdown", "neighbourhood=-",
                              "--breakdown", "age_band=-", "--breakdown", "gender=-"]) == 0
    text = out.read_text(encoding="utf-8")
    parser = Tables()
    parser.feed(text)
    assert set(parser.tables) == EXPECTED_TABLES
    assert parser.tables["participation"] == [["Complete", "62"], ["Partial", "15"], ["Declined at consent", "11"],
                                              ["Total", "88"]]
    assert parser.tables["participation.completion"] == [["Completion rate (complete among started)", "80.5%",
                                                          "[70.3 – 87.8]"]]
    assert parser.tables["t.q1"] == [["Answer", "Persons", "%"], ["Apple", "45", "58.4%"], ["Banana", "20", "26.0%"],
                                     ["Prefer not to answer", "12", "15.6%"], ["Total", "77", ""]]
    assert parser.tables["t.q2.status"] == [["Saw the question", "30"], ["Skipped (not asked)", "32"],
                                            ["Not reached", "15"], ["Total", "77"]]
    assert parser.tables["t.q1.by.centre"] == [
        ["Answer", "C1", "C2", "Total"],
        ["Apple", "30 (71.4%)", "15 (42.9%)", "45"],
        ["Banana", "0 (0.0%)", "20 (57.1%)", "20"],
        ["Prefer not to answer", "12 (28.6%)", "0 (0.0%)", "12"],
        ["Total", "42", "35", "77"]]
    assert parser.tables["t.q3"][1:3] == [["Ex", "50", "80.6%", "[69.1 – 88.6]"],
                                          ["Why", "30", "48.4%", "[36.4 – 60.6]"]]
    assert parser.tables["participation.dropoff"][-2:] == [["Left before answering any question", "0", "0.0%"],
                                                            ["Total", "15", ""]]
    # Charts are inline SVG; nothing is fetched from anywhere.
    assert text.count("<svg") == 3 and 'data-chart="t.q1"' in text
    assert not re.search(r"<script|<link|<img|<iframe|@import|url\(|\b(src|href)\s*=", text, re.I)
    assert set(re.findall(r"https?://[^\s\"'<>]+", text)) == {"http://www.w3.org/2000/svg"}
    # Method and suppression rule are stated.
    assert "Wilson score interval" in text and "at least 11" in text


def test_report_in_french_uses_french_labels_and_numbers(tmp_path: Path) -> None:
    data, qdir = d1(tmp_path)
    r = release(data, qdir, breakdowns={"centre": "centre"})
    parser = Tables()
    parser.feed(render_html(r, "fr"))
    assert parser.tables["t.q1"] == [["Réponse", "Personnes", "%"], ["Pomme", "45", "58,4%"],
                                     ["Banane", "20", "26,0%"], ["Je préfère ne pas répondre", "12", "15,6%"],
                                     ["Total", "77", ""]]
    assert parser.tables["participation"][0] == ["Complets", "62"]


def test_suppressed_figures_read_less_than_k(tmp_path: Path) -> None:
    qdir = write_modules(tmp_path / "q", MODULE_T)
    d = Data()
    d.respond({"t.q1": "a"}, times=40)
    d.respond({"t.q1": "b"}, times=3)
    data = d.write(tmp_path / "data")
    parser = Tables()
    parser.feed(render_html(release(data, qdir, breakdowns={}), "en"))
    assert parser.tables["t.q1"] == [["Answer", "Persons", "%"], ["Apple", "< 11", "–"], ["Banana", "< 11", "–"],
                                     ["Prefer not to answer", "0", "0.0%"], ["Total", "43", ""]]
    # No count between 1 and 10 appears anywhere in a table.
    for rows in parser.tables.values():
        for row in rows:
            for cell in row:
                assert not re.fullmatch(r"([1-9]|10)( \(.*\))?", cell), cell


def test_whole_release_is_consistent_and_passes_the_audit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    qdir = write_modules(tmp_path / "q", MODULE_T)
    d = Data()
    # Small cells scattered over centres and languages.
    for centre, lang, q1, times in [("C1", "fr", "a", 14), ("C1", "en", "b", 3), ("C2", "fr", "b", 12),
                                    ("C2", "en", "a", 5), ("C3", "fr", "a", 20), ("C3", "en", None, 2),
                                    ("C1", "fr", None, 11)]:
        d.respond({"t.q1": q1, "t.q3": ["x"] if q1 == "a" else []}, skipped=() if q1 == "a" else ("t.q2",),
                  centre=centre, lang=lang, times=times)
    data = d.write(tmp_path / "data")
    seen: dict[str, object] = {}
    real = disclosure.gate_release

    def spy(groups, keys=None):  # type: ignore[no-untyped-def]
        out = real(groups, keys)
        seen.update(groups=out, keys=keys)
        return out

    monkeypatch.setattr("analysis.report.disclosure.gate_release", spy)
    r = release(data, qdir, breakdowns={"centre": "centre", "lang": "lang"})
    groups, keys = seen["groups"], seen["keys"]
    assert disclosure.release_inconsistencies(groups, keys) == []
    reports = [rep for g, k in zip(groups, keys) for rep in disclosure.audit_linked_keyed(g, k)]
    assert reports and all(rep.ok for rep in reports)
    # Something was hidden, and the suppressed figures are absent from every view.
    hidden = [f for v in r.views.values() for f in v.cells.values() if f.n is None]
    assert hidden and all(f.pct is None for f in hidden)
    assert figures(r.views["t.q1"]) == {("a", ""): 39, ("b", ""): 15, ("_refused", ""): 13}
