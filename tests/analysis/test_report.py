"""The release and the offline HTML report.

Disclosure rules on views (counts, percentages, means); the suppression
engine kept as the test suite's attacker (a cross-tab where primary
suppression alone lets a hidden cell be recalculated); the same figure
published alike in every table; and the report parsed table by table, with
no external reference."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analysis import cli as analysis_cli
from analysis import disclosure, report
from analysis.disclosure import GatedTable, Protection
from analysis.report import render_html
from tests.support.published import Tables
from tests.support.datasets import MODULE_T, Data, d1, figures, release, write_modules


# ------------------------------------------------ the suppression engine (attacker)

def _raw(matrix, rows, cols, row_var, col_var, k):  # type: ignore[no-untyped-def]
    counts = tuple(tuple(int(v) for v in r) for r in matrix)
    row_totals = tuple(sum(r) for r in counts)
    col_totals = tuple(sum(r[c] for r in counts) for c in range(len(cols)))
    return GatedTable(row_var=row_var, col_var=col_var, row_labels=tuple(rows), col_labels=tuple(cols),
                      counts=counts, suppressed=tuple(tuple(False for _ in r) for r in counts),
                      row_totals=row_totals, row_totals_suppressed=tuple(False for _ in row_totals),
                      col_totals=col_totals, col_totals_suppressed=tuple(False for _ in col_totals),
                      grand_total=sum(row_totals), grand_total_suppressed=False, k=k)


def _one_d(values, rows, row_var, cell_keys, grand_key, k):  # type: ignore[no-untyped-def]
    """A 1-D table and the identity of each of its figures."""
    table = _raw([[v] for v in values], rows, ["n"], row_var, None, k)
    keys = {(r, 0): cell_keys[r] for r in range(len(rows))}
    keys[(len(rows), 0)] = grand_key
    return table, keys


def _two_d(matrix, rows, cols, row_var, col_var, cell_key, row_keys, col_keys, grand_key, k):  # type: ignore[no-untyped-def]
    """A 2-D table and the identity of each of its figures."""
    table = _raw(matrix, rows, cols, row_var, col_var, k)
    n_rows, n_cols = len(rows), len(cols)
    keys = {(r, c): cell_key(r, c) for r in range(n_rows) for c in range(n_cols)}
    keys.update({(r, n_cols): row_keys[r] for r in range(n_rows)})
    keys.update({(n_rows, c): col_keys[c] for c in range(n_cols)})
    keys[(n_rows, n_cols)] = grand_key
    return table, keys


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
    "t.q1", "t.q1.by.centre", "t.q2", "t.q3", "t.q3.by.centre", "t.status", "summary",
}


def within_noise(shown: str, true: int) -> bool:
    """A published count is the true one plus a noise of at most 2 (never 1 or 2)."""
    return shown.isdigit() and abs(int(shown) - true) <= 2 and int(shown) not in (1, 2)


def view_rows(r, view_id: str) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """What the HTML must show for a 1-D view: label-free counts and percentages."""
    v = r.views[view_id]
    fmt = report.Fmt("en", r.k)
    return [[fmt.n(v.cells[(row, "")]), fmt.pct(v.cells[(row, "")].pct)] for row in v.rows]


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
    # The command publishes the protected release: the figures of its views, perturbed.
    r = release(data, qdir, breakdowns={"centre": "centre", "lang": "lang", "period": "period"},
                protection=Protection())
    participation = parser.tables["participation"]
    assert [row[0] for row in participation] == ["Complete", "Partial", "Declined at consent", "Total"]
    assert all(within_noise(row[1], true) for row, true in zip(participation, [62, 15, 11, 88]))
    q1 = parser.tables["t.q1"]
    assert q1[0] == ["Answer", "Persons", "%"] and [row[0] for row in q1[1:]] == [
        "Apple", "Banana", "Prefer not to answer", "Total"]
    assert [row[1:] for row in q1[1:4]] == view_rows(r, "t.q1")
    assert all(within_noise(row[1], true) for row, true in zip(q1[1:], [45, 20, 12, 77]))
    status = parser.tables["t.status"]
    assert status[0] == ["Question", "Saw the question", "Skipped (not asked)", "Not reached", "Total"]
    assert [row[0] for row in status[1:]] == ["First question", "Second question", "Third question"]
    assert all(within_noise(shown, true) for shown, true in zip(status[2][1:], [30, 32, 15, 77]))
    # A multiple choice: one cross-tab, each option's persons per centre.
    q3 = parser.tables["t.q3.by.centre"]
    assert q3[0] == ["Answer", "C1", "C2", "Total"]
    assert [row[0] for row in q3[1:]] == ["Ex", "Why", "Zed", "None of these", "Saw the question"]
    xt = parser.tables["t.q1.by.centre"]
    assert xt[0] == ["Answer", "C1", "C2", "Total"]
    # The same persons give the same figure in every table: the cross-tab's
    # total is the frequency table's total.
    assert xt[-1][-1] == q1[-1][1]
    # Charts are inline SVG; nothing is fetched from anywhere.
    assert 'data-chart="t.q1"' in text
    assert not re.search(r"<script|<link|<img|<iframe|@import|url\(|\bsrc\s*=|\bhref\s*=\s*\"(?!#)", text, re.I)
    # Links only to the report's own sections (the table of contents).
    assert set(re.findall(r'href="#([^"]+)"', text)) <= set(re.findall(r'id="([^"]+)"', text))
    assert set(re.findall(r"https?://[^\s\"'<>]+", text)) == {"http://www.w3.org/2000/svg"}
    # Method and protection are stated.
    assert "Wilson score interval" in text and "cell key method" in text and "“&lt; 11”" in text


def test_report_in_french_uses_french_labels_and_numbers(tmp_path: Path) -> None:
    data, qdir = d1(tmp_path)
    r = release(data, qdir, breakdowns={"centre": "centre"})
    parser = Tables()
    parser.feed(render_html(r, "fr"))
    assert parser.tables["t.q1"] == [["Réponse", "Personnes", "%"], ["Pomme", "45", "58,4\u00a0%"],
                                     ["Banane", "20", "26,0\u00a0%"],
                                     ["Je préfère ne pas répondre", "12", "15,6\u00a0%"],
                                     ["Total", "77", ""]]
    assert parser.tables["participation"][0] == ["Complets", "62"]


def test_no_count_from_1_to_10_and_two_marks(tmp_path: Path) -> None:
    qdir = write_modules(tmp_path / "q", MODULE_T)
    d = Data()
    d.respond({"t.q1": "a"}, times=40, centre="C1")
    d.respond({"t.q1": "b"}, times=3, centre="C1")
    d.respond({"t.q1": "a"}, times=20, centre="C2")
    d.respond({"t.q1": "b"}, times=20, centre="C2")
    d.respond({"t.q1": "b"}, times=1, centre="C3")
    data = d.write(tmp_path / "data")
    parser = Tables()
    parser.feed(render_html(release(data, qdir, breakdowns={"centre": "centre"}, protection=Protection()), "en"))
    q1 = parser.tables["t.q1"]
    assert q1[0] == ["Answer", "Persons", "%"] and within_noise(q1[1][1], 60) and within_noise(q1[2][1], 24)
    xt = parser.tables["t.q1.by.centre"]
    assert xt[0] == ["Answer", "C1", "C2", "C3", "Total"]
    # C3 has one person: no column of its own, its zeros included ([c]);
    # its total is a small count (< 11).
    assert [row[3] for row in xt[1:]] == ["[c]", "[c]", "[c]", "< 11"]
    # No count between 1 and 10 appears anywhere in a table.
    for rows in parser.tables.values():
        for row in rows:
            for cell in row:
                assert not re.fullmatch(r"([1-9]|10)( \(.*\))?", cell), cell


def test_the_same_persons_get_the_same_figure_everywhere(tmp_path: Path) -> None:
    qdir = write_modules(tmp_path / "q", MODULE_T)
    d = Data()
    for centre, lang, q1, times in [("C1", "fr", "a", 14), ("C1", "en", "b", 3), ("C2", "fr", "b", 12),
                                    ("C2", "en", "a", 5), ("C3", "fr", "a", 20), ("C3", "en", None, 2),
                                    ("C1", "fr", None, 11)]:
        d.respond({"t.q1": q1, "t.q3": ["x"] if q1 == "a" else []}, skipped=() if q1 == "a" else ("t.q2",),
                  centre=centre, lang=lang, times=times)
    data = d.write(tmp_path / "data")
    r = release(data, qdir, breakdowns={"centre": "centre", "lang": "lang"}, protection=Protection())
    q1, by_centre = r.views["t.q1"], r.views["t.q1.by.centre"]
    seen = r.views["t.q1.status"].cells[("_seen", "")].n
    assert q1.total.n == by_centre.total.n == seen
    for row in q1.rows:
        assert q1.cells[(row, "")].n == by_centre.row_totals[row].n
    # Perturbed, not true: within the noise, and the noise is not zero everywhere.
    true = {"a": 39, "b": 15, "_refused": 13}
    shown = {row: q1.cells[(row, "")].n for row in q1.rows}
    assert all(abs(shown[row] - true[row]) <= 2 for row in true)
    # A second release of the same data is identical.
    again = release(data, qdir, breakdowns={"centre": "centre", "lang": "lang"}, protection=Protection())
    assert {i: v.frame().rows() for i, v in again.views.items()} == {i: v.frame().rows() for i, v in r.views.items()}
