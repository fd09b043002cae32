"""Tables of the diagnostic on small hand-built Parquet datasets: exact counts,
percentages, intervals, denominators (seen vs skipped vs not reached),
multiple choice, cross-tabs, pooling by major version, test-mode exclusion."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from analysis import tables
from analysis.ingest import module_index, scan_answers, scan_responses
from analysis.report import release_from_frames
from tests.support.datasets import MODULE_DEMO, MODULE_T, Data, d1, figures, release, write_modules

# ----------------------------------------------------------------- helpers


BY_CENTRE = {"centre": "centre"}


# ----------------------------------------------------------------- tests

def test_frequencies_over_those_who_saw_the_item(tmp_path: Path) -> None:
    data, qdir = d1(tmp_path)
    r = release(data, qdir, breakdowns=BY_CENTRE)
    q1 = r.views["t.q1"]
    assert q1.rows == ["a", "b", "_refused"]
    assert figures(q1) == {("a", ""): 45, ("b", ""): 20, ("_refused", ""): 12}
    assert q1.total.n == 77  # the 5 test-mode responses are not counted
    a = q1.cells[("a", "")]
    assert a.pct == pytest.approx(100 * 45 / 77, abs=1e-12)
    lo, hi = tables.wilson(45, 77)
    assert (a.lo, a.hi) == (pytest.approx(100 * lo), pytest.approx(100 * hi))
    assert r.views["t.q1.status"].rows == ["_seen", "_skipped", "_notreached"]
    assert figures(r.views["t.q1.status"]) == {("_seen", ""): 77, ("_skipped", ""): 0, ("_notreached", ""): 0}


def test_skipped_by_logic_and_not_reached_are_out_of_the_denominator(tmp_path: Path) -> None:
    data, qdir = d1(tmp_path)
    r = release(data, qdir, breakdowns=BY_CENTRE)
    q2 = r.views["t.q2"]
    assert figures(q2) == {("1", ""): 30, ("2", ""): 0, ("_refused", ""): 0}
    assert q2.total.n == 30
    assert q2.cells[("1", "")].pct == 100.0
    assert q2.cells[("2", "")].pct == 0.0  # 0 % is publishable over >= 11 persons
    # 32 skipped by logic (b or refused at q1), 15 left before q2.
    status = r.views["t.q2.status"]
    assert figures(status) == {("_seen", ""): 30, ("_skipped", ""): 32, ("_notreached", ""): 15}
    assert status.total.n == 77


def test_multiple_choice_counted_per_option(tmp_path: Path) -> None:
    data, qdir = d1(tmp_path)
    r = release(data, qdir, breakdowns=BY_CENTRE)
    per_option = {o: r.views[f"t.q3#{o}"].cells[(o, "")] for o in ("x", "y", "z", "_none")}
    assert {o: f.n for o, f in per_option.items()} == {"x": 50, "y": 30, "z": 0, "_none": 12}
    assert {o: r.views[f"t.q3#{o}"].total.n for o in per_option} == {"x": 62, "y": 62, "z": 62, "_none": 62}
    assert per_option["x"].pct == pytest.approx(100 * 50 / 62)
    assert figures(r.views["t.q3.status"]) == {("_seen", ""): 62, ("_skipped", ""): 0, ("_notreached", ""): 15}
    # One cross-tab per option: selected / not selected / refused by centre.
    xt = r.views["t.q3#x.by.centre"]
    assert xt.rows == ["x", "!x", "_refused"] and xt.cols == ["C1", "C2"]
    assert figures(xt) == {("x", "C1"): 30, ("x", "C2"): 20, ("!x", "C1"): 12, ("!x", "C2"): 0,
                           ("_refused", "C1"): 0, ("_refused", "C2"): 0}
    assert xt.cells[("x", "C1")].pct == pytest.approx(100 * 30 / 42)


def test_crosstab_with_margins_and_column_percentages(tmp_path: Path) -> None:
    data, qdir = d1(tmp_path)
    r = release(data, qdir, breakdowns=BY_CENTRE)
    xt = r.views["t.q1.by.centre"]
    assert xt.rows == ["a", "b", "_refused"] and xt.cols == ["C1", "C2"]
    assert figures(xt) == {("a", "C1"): 30, ("a", "C2"): 15, ("b", "C1"): 0, ("b", "C2"): 20,
                           ("_refused", "C1"): 12, ("_refused", "C2"): 0}
    assert {c: f.n for c, f in xt.col_totals.items()} == {"C1": 42, "C2": 35}
    assert {c: f.n for c, f in xt.row_totals.items()} == {"a": 45, "b": 20, "_refused": 12}
    assert xt.total.n == 77
    assert xt.cells[("b", "C2")].pct == pytest.approx(100 * 20 / 35)


def test_participation_completion_and_dropoff(tmp_path: Path) -> None:
    data, qdir = d1(tmp_path)
    r = release(data, qdir, breakdowns=BY_CENTRE)
    p = r.views["participation"]
    assert figures(p) == {("complete", ""): 62, ("partial", ""): 15, ("declined", ""): 11}
    assert p.total.n == 88
    rate = p.prevalence[""]
    assert rate.pct == pytest.approx(100 * 62 / 77)
    drop = r.views["participation.dropoff"]
    assert drop.rows == ["t.q1", "t.q2", "t.q3", "_noanswer"]
    assert figures(drop) == {("t.q1", ""): 15, ("t.q2", ""): 0, ("t.q3", ""): 0, ("_noanswer", ""): 0}
    assert drop.total.n == 15


def test_answer_breakdown_and_pooling_by_major_version(tmp_path: Path) -> None:
    t_v11 = MODULE_T.replace("version: 1.0.0", "version: 1.1.0")
    t_v2 = MODULE_T.replace("version: 1.0.0", "version: 2.0.0")
    qdir = write_modules(tmp_path / "q", MODULE_T, t_v11, t_v2, MODULE_DEMO)
    d = Data()
    d.respond({"demographics.neighbourhood": "n1", "t.q1": "a"}, times=12)
    d.respond({"demographics.neighbourhood": "n2", "t.q1": "b"}, times=11, versions={"t": "1.1.0"})
    d.respond({"demographics.neighbourhood": None, "t.q1": "b"}, times=13)
    d.respond({"demographics.neighbourhood": "n2", "t.q1": "a"}, times=20, versions={"t": "2.0.0"})
    data = d.write(tmp_path / "data")
    r = release(data, qdir, breakdowns={"neighbourhood": "demographics.neighbourhood"})
    # 1.0.0 and 1.1.0 pool; 2.0.0 is reported apart.
    assert r.versions[("t", 1)] == ["1.0.0", "1.1.0"] and r.versions[("t", 2)] == ["2.0.0"]
    assert figures(r.views["t.q1"]) == {("a", ""): 12, ("b", ""): 24, ("_refused", ""): 0}
    assert figures(r.views["t@2.q1"]) == {("a", ""): 20, ("b", ""): 0, ("_refused", ""): 0}
    xt = r.views["t.q1.by.neighbourhood"]
    assert xt.cols == ["n1", "n2", "_missing"]  # prefer-not-to-answer is "not stated"
    assert figures(xt) == {("a", "n1"): 12, ("a", "n2"): 0, ("a", "_missing"): 0, ("b", "n1"): 0,
                           ("b", "n2"): 11, ("b", "_missing"): 13, ("_refused", "n1"): 0,
                           ("_refused", "n2"): 0, ("_refused", "_missing"): 0}


def test_period_coarsening_follows_iso_weeks() -> None:
    periods = ["2026-W01", "2025-W01", "2020-W53", "2026-W13", "2026-W14", "2026-11", "2026-Q2", "2026-W05"]
    df = pl.DataFrame({"p": periods})
    quarters = df.select(tables.coarsen_period(pl.col("p"), "quarter"))["p"].to_list()
    assert quarters == ["2026-Q1", "2025-Q1", "2020-Q4", "2026-Q1", "2026-Q2", "2026-Q4", "2026-Q2", "2026-Q1"]
    months = df.select(tables.coarsen_period(pl.col("p"), "month"))["p"].to_list()
    assert months == ["2026-01", "2025-01", "2020-12", "2026-03", "2026-04", "2026-11", "2026-Q2", "2026-01"]
    assert df.select(tables.coarsen_period(pl.col("p"), "week"))["p"].to_list() == periods


def test_wilson_interval_reference_values() -> None:
    # Reference values of the Wilson score interval (95 %).
    assert tables.wilson(0, 10) == (0.0, pytest.approx(0.27753, abs=1e-5))
    assert tables.wilson(10, 10) == (pytest.approx(0.72247, abs=1e-5), 1.0)
    assert tables.wilson(5, 10) == (pytest.approx(0.23659, abs=1e-5), pytest.approx(0.76341, abs=1e-5))
    assert tables.wilson(0, 0) is None
    x, n = pl.lit(5.0), pl.lit(10.0)
    lo, hi = tables.wilson_exprs(x, n)
    assert pl.select(lo.alias("lo"), hi.alias("hi")).row(0) == (pytest.approx(0.23659, abs=1e-5), pytest.approx(0.76341, abs=1e-5))


@pytest.mark.parametrize("prefix, key", [("", "hex"), ("r-", "text")])
def test_text_rids_are_read_too(tmp_path: Path, prefix: str, key: str) -> None:
    qdir = write_modules(tmp_path / "q", MODULE_T)
    d = Data()
    d.respond({"t.q1": "a"}, times=12)
    data = d.write(tmp_path / "data")
    assert tables.choose_key(scan_responses(data)).meta.output_name() == "rid"
    # Rewrite the rids as text: 16 hex digits (joined as integers), or not.
    rewrite = pl.lit(prefix) + pl.col("rid").map_elements(lambda v: f"{v:016x}", return_dtype=pl.String)
    for f in (data / "responses" / "part-0.parquet", data / "answers" / "module=t" / "major=1" / "part-0.parquet"):
        pl.read_parquet(f).with_columns(rewrite.alias("rid")).write_parquet(f)
    expr = tables.choose_key(scan_responses(data))
    assert (expr.meta.root_names(), expr.meta.is_column()) == (["rid"], key == "text")
    r = release(data, qdir, breakdowns={})
    assert figures(r.views["t.q1"])[("a", "")] == 12


def test_text_answer_columns_give_the_same_release(tmp_path: Path) -> None:
    # Categorical answer columns take the packed counting path; text columns
    # (datasets written by other tools) the plain one: same figures.
    data, qdir = d1(tmp_path)
    index = module_index([qdir])
    text = scan_answers(data).with_columns(pl.col("version", "item", "state", "value").cast(pl.String))
    assert text.collect_schema()["item"] == pl.String
    packed = release_from_frames(scan_responses(data), scan_answers(data), index, [qdir])
    plain = release_from_frames(scan_responses(data), text, index, [qdir])
    assert packed.views.keys() == plain.views.keys()
    for name, view in packed.views.items():
        assert figures(view) == figures(plain.views[name]), name
    assert any(f is not None and f > 0 for view in packed.views.values() for f in figures(view).values())


def test_hash_collisions_between_units_fall_back_to_exact_cells(tmp_path: Path, monkeypatch) -> None:
    data, qdir = d1(tmp_path)
    normal = release(data, qdir)
    # Every combination of breakdown values now shares one hash.
    monkeypatch.setattr(tables, "_combo_hash", lambda columns: pl.lit(7, dtype=pl.UInt64))
    collided = release(data, qdir)
    for name, view in normal.views.items():
        assert figures(view) == figures(collided.views[name]), name
    units_, cells = tables.unit_cells(scan_responses(data), scan_answers(data), pl.col("rid"))
    assert units_.height == 30 + 20 + 12 + 15 and cells.height > 1


def test_marginals_are_each_breakdowns_own_marginal(tmp_path: Path) -> None:
    # The sums per breakdown come from one join of the cells: the same rows,
    # counts and key sums as summing each breakdown on its own.
    d = Data()
    d.respond({"demographics.neighbourhood": "n1", "t.q1": "a", "t.q3": ["x", "y"]}, centre="C1",
              period="2026-W02", times=13)
    d.respond({"demographics.neighbourhood": "n2", "t.q1": "b", "t.q3": ["z"]}, centre="C2", period="2026-W20",
              times=7)
    d.respond({"demographics.neighbourhood": "n2", "t.q1": "a"}, centre="C1", period="2026-W20", times=4)
    data = d.write(tmp_path / "data")
    bds = {"centre": "centre", "period": "period", "neighbourhood": "demographics.neighbourhood"}
    counts = tables.collect_counts(scan_responses(data), scan_answers(data), bds, [("t", 1, "q3")])
    bys: list[str | None] = [None, *bds]
    assert list(counts.items) == list(counts.persons) == list(counts.population) == bys
    keys = ["module", "major", "item", "cat"]
    for by in bys:
        own = tables.marginal(counts.item_cells, counts.cells, by, keys)
        got = counts.items[by]
        assert got.columns == own.columns and got.dtypes == own.dtypes
        assert got.sort(got.columns).equals(own.sort(own.columns)), by
    # Exact figures: 17 "a" in C1 (13 in week 2, 4 in week 20), 7 "b" in C2; 24 persons in all,
    # 20 of whom selected an option of the multiple choice.
    by_centre = {(r["cat"], r["centre"]): (r["n"]) for r in counts.items["centre"].filter(
        pl.col("item") == "q1").iter_rows(named=True)}
    assert by_centre == {("a", "C1"): 17, ("b", "C2"): 7}
    assert counts.population[None]["n"].to_list() == [24]
    assert counts.persons["centre"].filter(pl.col("item") == "q3")["n"].sum() == 20
