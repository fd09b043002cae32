"""Tests for analysis.disclosure: small-cell suppression and its LP audit."""

from __future__ import annotations

import dataclasses
import math

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.disclosure import (
    DEFAULT_K,
    DisclosureError,
    GatedTable,
    audit,
    audit_linked,
    gate_counts,
    gate_linked,
    gate_mean,
    gate_percentage,
    gate_table,
    is_primary,
    primary_suppression,
    suppressed_label,
)

S = "< 11"  # the exact label readers see for k = 11

# rows A, B, C x columns x, y, z; only A/y (= 5) is small.
SIMPLE = [[20, 5, 0], [30, 40, 12], [0, 15, 25]]


def simple_table() -> GatedTable:
    return gate_table(SIMPLE, ["A", "B", "C"], ["x", "y", "z"])


def rows(table: GatedTable) -> list[tuple[str, ...]]:
    return table.display().rows()


# --------------------------------------------------------------------------
# 2-D tables
# --------------------------------------------------------------------------


def test_label_and_default_k() -> None:
    assert DEFAULT_K == 11
    assert suppressed_label() == "< 11"
    assert suppressed_label(5) == "< 5"
    assert [is_primary(n) for n in (0, 1, 10, 11)] == [False, True, True, False]


def test_primary_suppression_hides_small_cells_only() -> None:
    table = primary_suppression(simple_table())
    assert table.suppressed == ((False, True, False), (False, False, False), (False, False, False))
    assert table.row_totals_suppressed == (False, False, False)
    assert table.col_totals_suppressed == (False, False, False)
    assert table.grand_total_suppressed is False
    assert table.cell(0, 1) is None
    assert table.cell(0, 2) == 0  # zeros are published as 0


def test_primary_only_is_recoverable_then_secondary_protects() -> None:
    # With only A/y hidden, row A gives it away: 25 - 20 - 0 = 5.
    exposed = audit(primary_suppression(simple_table()))
    assert exposed.ok is False
    assert exposed.intervals == {(0, 1): (5.0, 5.0)}
    assert exposed.failures == [
        "cell (row='A', column='y'): published figures bound it to [5, 5], "
        "which does not cover [0, 11]"
    ]

    table = simple_table()
    # Complements: A/x (only non-zero cell of row A), then B/x for column x
    # and B/y for column y (B/y preferred to the smaller C/y because it also
    # completes row B instead of opening row C).
    assert table.suppressed == ((True, True, False), (True, True, False), (False, False, False))
    assert table.row_totals_suppressed == (False, False, False)
    assert table.col_totals_suppressed == (False, False, False)
    assert table.grand_total_suppressed is False
    report = audit(table)
    assert report.ok is True
    assert report.failures == []
    assert report.intervals == {
        (0, 0): (0.0, 25.0),
        (0, 1): (0.0, 25.0),
        (1, 0): (25.0, 50.0),
        (1, 1): (20.0, 45.0),
    }
    assert rows(table) == [
        ("A", S, S, "0", "25"),
        ("B", S, S, "12", "82"),
        ("C", "0", "15", "25", "40"),
        ("Total", "50", "60", "37", "147"),
    ]
    assert table.display().columns == ["row", "x", "y", "z", "Total"]
    assert (table.cell(1, 2), table.row_total(0), table.col_total(1), table.total()) == (12, 25, 60, 147)


def test_two_per_line_is_not_enough_when_complements_are_small() -> None:
    # Row A: 3 and 4 are both primary. The 2-per-line rule alone hides the
    # rectangle A/x, A/y, B/x, B/y, but A/x can then only swing by 4 (A/y).
    counts = [[3, 4, 30], [50, 60, 70]]
    table = gate_table(counts, ["A", "B"], ["x", "y", "z"])
    rectangle = dataclasses.replace(
        table, suppressed=((True, True, False), (True, True, False))
    )
    weak = audit(rectangle)
    assert weak.ok is False
    assert weak.intervals[(0, 0)] == (0.0, 7.0)
    assert weak.intervals[(0, 1)] == (0.0, 7.0)
    assert len(weak.failures) == 2

    # The gate hides the whole inner table; only the margins remain.
    assert table.suppressed == ((True, True, True), (True, True, True))
    assert table.row_totals_suppressed == (False, False)
    assert table.col_totals_suppressed == (False, False, False)
    report = audit(table)
    assert report.ok
    assert report.intervals == {
        (0, 0): (0.0, 37.0),
        (0, 1): (0.0, 37.0),
        (0, 2): (0.0, 37.0),
        (1, 0): (16.0, 53.0),
        (1, 1): (27.0, 64.0),
        (1, 2): (63.0, 100.0),
    }
    assert rows(table) == [
        ("A", S, S, S, "37"),
        ("B", S, S, S, "180"),
        ("Total", "53", "64", "100", "217"),
    ]


def test_small_margin_is_suppressed_with_a_complement_margin() -> None:
    # Row A totals 7: the margin itself is primary.  C/x and C/y hide
    # column x and y; the column of row totals needs a second hidden total:
    # C (row C is already fully hidden, so this opens no new line).
    table = gate_table([[3, 4], [20, 30], [15, 25]], ["A", "B", "C"], ["x", "y"])
    assert table.suppressed == ((True, True), (False, False), (True, True))
    assert table.row_totals_suppressed == (True, False, True)
    assert table.col_totals_suppressed == (False, False)
    assert table.grand_total_suppressed is False
    assert table.row_total(0) is None
    report = audit(table)
    assert report.ok
    assert report.intervals == {
        (0, 0): (0.0, 18.0),
        (0, 1): (0.0, 29.0),
        (2, 0): (0.0, 18.0),
        (2, 1): (0.0, 29.0),
        (0, 2): (0.0, 47.0),
        (2, 2): (0.0, 47.0),
    }
    assert rows(table) == [
        ("A", S, S, S),
        ("B", "20", "30", "50"),
        ("C", S, S, S),
        ("Total", "38", "59", "97"),
    ]
    # Only the hidden A total: 97 - 50 - 40 = 7 would be exposed.
    exposed = audit(primary_suppression(table))
    assert not exposed.ok
    assert exposed.intervals[(0, 2)] == (7.0, 7.0)


def test_configurable_k() -> None:
    counts = [[4, 5], [6, 20]]
    k5 = gate_table(counts, ["A", "B"], ["x", "y"], k=5)
    # 5 is publishable at k=5 but complements the 4.
    assert rows(k5) == [
        ("A", "< 5", "< 5", "9"),
        ("B", "< 5", "< 5", "26"),
        ("Total", "10", "25", "35"),
    ]
    assert audit(k5).intervals[(0, 0)] == (0.0, 9.0)
    assert audit(k5).ok

    # At k=11 margins 9 and 10 are small too.  Row total B (26) must go as
    # well: with column total y = 25 published, B/x >= 26 - 25 = 1, i.e. an
    # attacker would know the small cell is not empty.
    k11 = gate_table(counts, ["A", "B"], ["x", "y"])
    assert rows(k11) == [
        ("A", S, S, S),
        ("B", S, S, S),
        ("Total", S, "25", S),
    ]
    report = audit(k11)
    assert report.ok
    assert report.intervals[(1, 0)] == (0.0, math.inf)


def test_all_zero_and_all_large_tables_are_published_unchanged() -> None:
    zeros = gate_table([[0, 0], [0, 0]], ["A", "B"], ["x", "y"])
    assert rows(zeros) == [("A", "0", "0", "0"), ("B", "0", "0", "0"), ("Total", "0", "0", "0")]
    large = gate_table([[11, 12], [13, 14]], ["A", "B"], ["x", "y"])
    assert rows(large) == [("A", "11", "12", "23"), ("B", "13", "14", "27"), ("Total", "24", "26", "50")]
    assert audit(large) == audit(zeros)
    assert audit(large).ok and audit(large).intervals == {}


# --------------------------------------------------------------------------
# Long-form input
# --------------------------------------------------------------------------


def test_gate_counts_long_form_2d() -> None:
    df = pl.DataFrame(
        {
            "age": ["18-39", "18-39", "18-39", "40-64", "40-64", "40-64", "65+", "65+"],
            "sex": ["F", "M", "X", "F", "M", "X", "M", "X"],  # (65+, F) absent -> 0
            "n": [20, 5, 0, 30, 40, 12, 15, 25],
        }
    )
    table = gate_counts(df, "age", "sex")
    assert table.row_labels == ("18-39", "40-64", "65+")
    assert table.col_labels == ("F", "M", "X")
    assert table.counts == tuple(tuple(r) for r in SIMPLE)
    assert table.suppressed == simple_table().suppressed
    assert table.display().columns == ["age", "F", "M", "X", "Total"]


def test_gate_counts_enum_order_and_empty_categories() -> None:
    age = pl.Enum(["65+", "40-64", "18-39", "<18"])
    df = pl.DataFrame({"age": ["18-39", "40-64", "65+"], "n": [30, 12, 4]}, schema={"age": age, "n": pl.Int32})
    table = gate_counts(df, "age", None)
    assert table.row_labels == ("65+", "40-64", "18-39", "<18")
    assert rows(table) == [("65+", S), ("40-64", S), ("18-39", "30"), ("<18", "0"), ("Total", "46")]


@pytest.mark.parametrize(
    ("frame", "col", "message"),
    [
        (pl.DataFrame({"a": ["x", "x"], "b": ["u", "u"], "n": [1, 2]}), "b", "duplicate"),
        (pl.DataFrame({"a": ["x", None], "b": ["u", "v"], "n": [1, 2]}), "b", "nulls"),
        (pl.DataFrame({"a": ["x"], "b": ["u"], "n": [1.0]}), "b", "integer"),
        (pl.DataFrame({"a": ["x"], "b": ["u"], "n": [-1]}), "b", "negative"),
        (pl.DataFrame({"a": ["x"], "n": [1]}), "b", "missing"),
        (pl.DataFrame({"a": ["Total"], "n": [1]}), None, "reserved"),
        (pl.DataFrame({"a": ["x"], "b": ["u"], "n": [None]}, schema_overrides={"n": pl.Int64}), "b", "nulls"),
    ],
)
def test_gate_counts_rejects_misuse(frame: pl.DataFrame, col: str | None, message: str) -> None:
    with pytest.raises(DisclosureError, match=message):
        gate_counts(frame, "a", col)


# --------------------------------------------------------------------------
# 1-D tables
# --------------------------------------------------------------------------


def one_d(values: list[int], k: int = DEFAULT_K) -> GatedTable:
    df = pl.DataFrame({"age": [f"g{i}" for i in range(len(values))], "n": values})
    return gate_counts(df, "age", None, k=k)


def test_one_d_lone_small_cell_gets_next_smallest_as_complement() -> None:
    table = one_d([5, 30, 12, 0])
    assert table.is_one_dimensional
    assert rows(table) == [("g0", S), ("g1", "30"), ("g2", S), ("g3", "0"), ("Total", "47")]
    assert table.display().columns == ["age", "n"]
    report = audit(table)
    assert report.ok
    assert report.intervals == {(0, 0): (0.0, 17.0), (2, 0): (0.0, 17.0)}
    exposed = audit(primary_suppression(table))
    assert exposed.intervals == {(0, 0): (5.0, 5.0)}
    assert not exposed.ok


def test_one_d_two_small_cells_need_a_large_complement() -> None:
    # 5 + 3 = 8 < 11: hiding the two small cells alone still proves both
    # are small counts, so the 200 is hidden too.
    table = one_d([5, 3, 200])
    assert rows(table) == [("g0", S), ("g1", S), ("g2", S), ("Total", "208")]
    assert audit(table).intervals[(0, 0)] == (0.0, 208.0)
    assert not audit(primary_suppression(table)).ok


def test_one_d_small_total_is_suppressed() -> None:
    table = one_d([4, 3, 0])
    assert rows(table) == [("g0", S), ("g1", S), ("g2", "0"), ("Total", S)]
    assert table.total() is None
    assert audit(table).ok


def test_empty_tables_publish_a_zero_total() -> None:
    empty = gate_counts(pl.DataFrame({"value": [], "n": []}), "value", None)
    assert rows(empty) == [("Total", "0")]
    assert audit(empty).ok
    sex = pl.Enum(["F", "M"])
    frame = pl.DataFrame({"a": [], "sex": [], "n": []}, schema={"a": pl.String, "sex": sex, "n": pl.Int64})
    assert rows(gate_counts(frame, "a", "sex")) == [("Total", "0", "0", "0")]


def test_one_d_k5() -> None:
    table = one_d([4, 5, 20], k=5)
    assert rows(table) == [("g0", "< 5"), ("g1", "< 5"), ("g2", "20"), ("Total", "29")]
    assert audit(table).intervals == {(0, 0): (0.0, 9.0), (1, 0): (0.0, 9.0)}


# --------------------------------------------------------------------------
# Percentages and means
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numerator", "denominator", "k", "expected"),
    [
        (10, 100, 11, None),  # numerator k-1
        (11, 100, 11, 11.0),  # numerator k
        (0, 10, 11, None),  # denominator k-1
        (0, 11, 11, 0.0),  # 0 % over k people is fine
        (11, 11, 11, 100.0),
        (10, 10, 11, None),
        (1, 200, 11, None),
        (4, 100, 5, None),
        (5, 5, 5, 100.0),
        (0, 4, 5, None),
        (0, 0, 11, None),
    ],
)
def test_gate_percentage_boundaries(numerator: int, denominator: int, k: int, expected: float | None) -> None:
    assert gate_percentage(numerator, denominator, k=k) == expected


def test_gate_percentage_value_and_misuse() -> None:
    assert gate_percentage(12, 48) == 25.0
    with pytest.raises(DisclosureError, match="exceed"):
        gate_percentage(12, 11)
    with pytest.raises(DisclosureError, match="non-negative integer"):
        gate_percentage(1.5, 20)  # type: ignore[arg-type]
    with pytest.raises(DisclosureError, match="k must be"):
        gate_percentage(12, 20, k=0)


@pytest.mark.parametrize(
    ("n", "k", "expected"),
    [(10, 11, None), (11, 11, 3.25), (0, 11, None), (4, 5, None), (5, 5, 3.25)],
)
def test_gate_mean_boundaries(n: int, k: int, expected: float | None) -> None:
    assert gate_mean(n, 3.25, k=k) == expected


def test_gate_mean_misuse() -> None:
    assert gate_mean(3, math.nan) is None  # nothing is published, NaN is irrelevant
    with pytest.raises(DisclosureError, match="finite"):
        gate_mean(11, math.nan)
    with pytest.raises(DisclosureError, match="non-negative integer"):
        gate_mean(-1, 2.0)


# --------------------------------------------------------------------------
# Safety nets
# --------------------------------------------------------------------------


def test_display_refuses_a_small_published_count() -> None:
    table = simple_table()
    unsafe = dataclasses.replace(table, suppressed=((False,) * 3,) * 3)
    with pytest.raises(DisclosureError, match="refusing"):
        unsafe.display()
    report = audit(unsafe)
    assert not report.ok
    assert report.failures == ["cell (row='A', column='y') is published although it is below k=11"]


def test_repr_does_not_leak_true_counts() -> None:
    text = repr(simple_table())
    assert "counts" not in text and "grand_total=" not in text and "row_totals=" not in text


def test_gated_table_rejects_inconsistent_margins() -> None:
    with pytest.raises(DisclosureError, match="row_totals"):
        dataclasses.replace(simple_table(), row_totals=(25, 82, 41))


# --------------------------------------------------------------------------
# Linked tables
# --------------------------------------------------------------------------


def test_linked_tables_share_suppression() -> None:
    # age x sex and the 1-D age table of the same population.
    by_sex = gate_table([[2, 3], [0, 12], [4, 26], [40, 40]], ["a", "b", "c", "d"], ["F", "M"],
                        row_var="age", col_var="sex")
    by_age = gate_counts(pl.DataFrame({"age": ["a", "b", "c", "d"], "n": [5, 12, 30, 80]}), "age", None)
    # Each table is safe alone but they hide different age margins (a, c
    # versus a, b): the 1-D table gives a + b = 17, the 2-D one b = 12.
    assert by_sex.row_totals_suppressed == (True, False, True, False)
    assert [row[0] for row in by_age.suppressed] == [True, True, False, False]
    assert audit(by_sex).ok and audit(by_age).ok
    joint = audit_linked([by_sex, by_age])
    assert not joint[0].ok and not joint[1].ok
    assert joint[1].intervals[(0, 0)] == (5.0, 5.0)

    linked_sex, linked_age = gate_linked([by_sex, by_age])
    assert linked_sex.row_totals_suppressed == (True, True, True, False)
    assert [row[0] for row in linked_age.suppressed] == [True, True, True, False]
    assert linked_sex.suppressed == ((True, True), (False, True), (True, True), (True, True))
    assert all(report.ok for report in audit_linked([linked_sex, linked_age]))


def test_linked_transposed_tables_and_conflicts() -> None:
    by_sex = gate_table([[2, 3], [0, 12], [4, 26], [40, 40]], ["a", "b", "c", "d"], ["F", "M"],
                        row_var="age", col_var="sex")
    by_age = gate_table([[2, 0, 4, 40], [3, 12, 26, 40]], ["F", "M"], ["a", "b", "c", "d"],
                        row_var="sex", col_var="age")
    first, second = gate_linked([by_sex, by_age])
    for r in range(4):
        for c in range(2):
            assert first.suppressed[r][c] == second.suppressed[c][r]
    assert first.row_totals_suppressed == second.col_totals_suppressed
    assert all(report.ok for report in audit_linked([first, second]))

    other_population = gate_table([[20, 30]], ["a"], ["F", "M"], row_var="age", col_var="sex")
    with pytest.raises(DisclosureError, match="disagree"):
        gate_linked([by_sex, other_population])
    with pytest.raises(DisclosureError, match="same k"):
        gate_linked([by_sex, gate_table([[20]], ["z"], ["F"], row_var="zone", col_var="sex", k=5)])


# --------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------


def lines_of(table: GatedTable) -> list[list[tuple[bool, int]]]:
    """Every additive line of a table as (suppressed, value) entries, margins included."""
    cells = [list(zip(s, v)) for s, v in zip(table.suppressed, table.counts)]
    row_totals = list(zip(table.row_totals_suppressed, table.row_totals))
    col_totals = list(zip(table.col_totals_suppressed, table.col_totals))
    grand = (table.grand_total_suppressed, table.grand_total)
    if table.is_one_dimensional:
        return [[row[0] for row in cells] + [grand]]
    out = [row + [total] for row, total in zip(cells, row_totals)]
    out += [list(col) + [total] for col, total in zip(zip(*cells), col_totals)]
    out += [col_totals + [grand], row_totals + [grand]]
    return out


def check_gated(table: GatedTable) -> None:
    k = table.k
    report = audit(table)
    assert report.ok, report.failures
    for line in lines_of(table):
        hidden = sum(s for s, _ in line)
        assert hidden != 1
        for s, value in line:
            assert not (s and value == 0)  # zeros are never hidden
            if 1 <= value < k:
                assert s  # primary suppression
    frame = table.display()
    label = suppressed_label(k)
    for column in frame.columns[1:]:
        for text in frame.get_column(column).to_list():
            assert text == label or not (1 <= int(text) < k)


PROPERTY_SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(
    st.integers(1, 5).flatmap(
        lambda n_rows: st.integers(1, 5).flatmap(
            lambda n_cols: st.lists(
                st.lists(st.integers(0, 40), min_size=n_cols, max_size=n_cols),
                min_size=n_rows,
                max_size=n_rows,
            )
        )
    ),
    st.sampled_from([5, 11]),
)
@pytest.mark.slow
def test_property_gate_counts_2d_always_passes_audit(matrix: list[list[int]], k: int) -> None:
    records = [
        {"r": f"r{i}", "c": f"c{j}", "n": value}
        for i, row in enumerate(matrix)
        for j, value in enumerate(row)
    ]
    table = gate_counts(pl.DataFrame(records), "r", "c", k=k)
    assert [list(row) for row in table.counts] == matrix
    check_gated(table)


@PROPERTY_SETTINGS
@given(st.lists(st.integers(0, 40), min_size=1, max_size=8), st.sampled_from([5, 11]))
def test_property_gate_counts_1d_always_passes_audit(values: list[int], k: int) -> None:
    check_gated(one_d(values, k=k))
