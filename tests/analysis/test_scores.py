"""Scores: the polars implementation equals surveycore.scoring on random answers;
band and cut-off boundaries; means and prevalence with their intervals and
disclosure rules."""

from __future__ import annotations

import math
import random
from pathlib import Path

import polars as pl
import pytest

from surveycore import scoring
from surveycore.questionnaire import ScoreDef
from analysis import scores
from analysis.disclosure import Protection
from analysis.ingest import ANSWER_SCHEMA
from analysis.tables import coded_answers
from tests.support.datasets import Data, figures, release, write_modules

ITEMS = ("q1", "q2", "q3", "q4")
CODES = ("0", "1", "2", "3", "9")  # 9 has no points in the values scores

SCORES = [
    ScoreDef("values", "m", ITEMS, values={"0": 0, "1": 1, "2": 2, "3": 3}, bands=((0, "low"), (5, "mid"), (10, "high")),
             positive_at=5),
    ScoreDef("who5_like", "m", ITEMS, values={"0": 0, "1": 1, "2": 2, "3": 3, "9": 5}, multiplier=4.0),
    ScoreDef("epices_like", "m", ITEMS, intercept=75.14, multiplier=1.0,
             weights={"q1": {"1": 10.06}, "q2": {"1": -11.83}, "q3": {"1": -8.28, "2": 0.37}, "q4": {"3": 14.8}},
             bands=((0, "a"), (30.17, "b")), positive_at=30.17),
    ScoreDef("thirds", "m", ITEMS, values={"0": 0.1, "1": 0.2, "2": 0.7, "3": 1 / 3}, intercept=0.005,
             multiplier=1 / 3),
    ScoreDef("any", "m", ("q1", "q2"), any_of={"q1": ("2", "3"), "q2": ("3",)}, positive_at=1),
]


def random_answers(rng: random.Random) -> dict[str, object]:
    """One respondent: each item answered, refused (None), or absent."""
    out: dict[str, object] = {}
    for item in ITEMS:
        u = rng.random()
        if u < 0.85:
            out[item] = rng.choice(CODES)
        elif u < 0.93:
            out[item] = None
    return out


def coded_frame(respondents: list[dict[str, object]]) -> pl.LazyFrame:
    rows = []
    for i, answers in enumerate(respondents):
        for item, value in answers.items():
            state = "refused" if value is None else "answered"
            rows.append({"rid": i, "module": "m", "major": 1, "version": "1.0.0", "item": item,
                         "state": state, "value": value})
    return coded_answers(pl.DataFrame(rows, schema=ANSWER_SCHEMA).lazy(), pl.col("rid"))


@pytest.mark.parametrize("score", SCORES, ids=lambda s: s.id)
def test_polars_scores_equal_the_reference_engine(score: ScoreDef) -> None:
    rng = random.Random(20260101 + len(score.id))
    respondents = [random_answers(rng) for _ in range(600)]
    got = scores.score_values(coded_frame(respondents), score, "m", 1).collect()
    by_rid = dict(zip(got["key"].to_list(), got["value"].to_list()))
    expected = {i: scoring.compute(score, answers) for i, answers in enumerate(respondents) if answers}
    assert {i: by_rid.get(i) for i in expected} == expected
    # The random answers reach every outcome: computed, and null for each reason.
    assert sum(v is not None for v in expected.values()) > 100
    assert sum(v is None for v in expected.values()) > 100


def test_multiple_choice_item_makes_the_score_null() -> None:
    score = SCORES[0]
    respondents = [{"q1": "1", "q2": "1", "q3": "1", "q4": "1"}, {"q1": "1", "q2": "1", "q3": "1", "q4": "1"}]
    frame = coded_frame(respondents)
    values = scores.score_values(frame, score, "m", 1).collect().sort("key")["value"].to_list()
    assert values == [4.0, 4.0]
    nulled = scores.score_values(frame, score, "m", 1, frozenset({"q4"})).collect()["value"].to_list()
    assert nulled == [None, None]
    # Two rows for one item (several codes selected) also give null.
    doubled = pl.concat([frame, frame.filter(pl.col("item") == "q4").with_columns(pl.lit("2").cast(pl.Categorical).alias("value"))])
    assert scores.score_values(doubled, score, "m", 1).collect()["value"].to_list() == [None, None]


def test_band_boundaries_match_the_reference_engine() -> None:
    phq = ScoreDef("phq", "m", ITEMS, values={"0": 0}, bands=((0, "minimal"), (5, "mild"), (10, "moderate"),
                                                             (15, "moderately_severe"), (20, "severe")),
                   positive_at=10)
    values = [0, 4, 4.99, 5, 9, 10 - 1e-10, 10, 14, 15, 19, 20, 27]
    got = pl.select(scores.class_expr(phq, pl.Series(values, dtype=pl.Float64)).alias("c"))["c"].to_list()
    assert got == ["minimal", "minimal", "minimal", "mild", "mild", "moderate", "moderate", "moderate",
                   "moderately_severe", "moderately_severe", "severe", "severe"]
    assert got == [scoring.band(phq, v) for v in values]
    assert [c.positive for c in scores.classes(phq)] == [False, False, False, True, True, True]


def test_cut_off_inside_a_band_splits_it() -> None:
    epices = ScoreDef("epices", "m", ITEMS, values={"0": 0}, bands=((0, "low"), (20, "mid"), (40, "high")),
                      positive_at=30.17)
    assert [c.id for c in scores.classes(epices)] == ["_below", "low", "mid|below", "mid|above", "high"]
    values = [0, 19.99, 20, 30.16, 30.17 - 1e-10, 30.17, 39.99, 40, 100]
    got = pl.select(scores.class_expr(epices, pl.Series(values, dtype=pl.Float64)).alias("c"))["c"].to_list()
    assert got == ["low", "low", "mid|below", "mid|below", "mid|above", "mid|above", "mid|above", "high", "high"]
    assert [scoring.positive(epices, v) for v in values] == [c.endswith("above") or c == "high" for c in got]
    screen_only = ScoreDef("hvs", "m", ("q1",), any_of={"q1": ("1",)}, positive_at=1)
    assert [c.id for c in scores.classes(screen_only)] == ["_negative", "_positive"]
    assert scores.classes(ScoreDef("mean_only", "m", ("q1",))) == []


def test_mean_with_t_interval() -> None:
    mean, lo, hi = scores.mean_ci(3, 6.0, 14.0)  # values 1, 2, 3
    assert mean == 2.0
    half = 4.302652729911275 / math.sqrt(3)  # t(0.975, 2) * sd / sqrt(n), sd = 1
    assert (lo, hi) == (pytest.approx(2 - half), pytest.approx(2 + half))
    assert scores.mean_ci(1, 5.0, 25.0) == (5.0, 5.0, 5.0)
    assert scores.mean_ci(0, 0.0, 0.0) is None


PHQ_MODULE = """
id: p
version: 1.0.0
title: {en: Mood, fr: Humeur}
source: tests
license: tests
languages: {en: validated, fr: validated}
choices:
  f: [{code: "0", label: {en: Never, fr: Jamais}}, {code: "1", label: {en: Sometimes, fr: Parfois}},
      {code: "2", label: {en: Often, fr: Souvent}}]
items:
  - {id: a, type: single, text: {en: A, fr: A}, choices: f}
  - {id: b, type: single, text: {en: B, fr: B}, choices: f}
scores:
  - id: total
    items: [a, b]
    values: {"0": 0, "1": 1, "2": 2}
    bands: [{from: 0, label: none}, {from: 1, label: some}, {from: 3, label: high}]
    positive_at: 2
"""


def test_score_tables_prevalence_and_means_are_gated(tmp_path: Path) -> None:
    qdir = write_modules(tmp_path / "q", PHQ_MODULE)
    d = Data()
    d.respond({"p.a": "0", "p.b": "0"}, centre="C1", times=20)   # 0: none, below the cut-off
    d.respond({"p.a": "1", "p.b": "0"}, centre="C1", times=12)   # 1: some, below
    d.respond({"p.a": "1", "p.b": "1"}, centre="C2", times=15)   # 2: some, at the cut-off
    d.respond({"p.a": "2", "p.b": "2"}, centre="C2", times=3)    # 4: high
    d.respond({"p.a": "2", "p.b": None}, centre="C3", times=14)  # refused an item: not computable
    d.respond({"p.a": "2", "p.b": "1"}, centre="C3", times=4)    # 3: high
    data = d.write(tmp_path / "data")
    r = release(data, qdir, breakdowns={"centre": "centre"})
    bands = r.views["score.p.total"]
    # The band "some" holds the cut-off (2): it is split there.
    assert bands.rows == ["_below", "none", "some|below", "some|above", "high"]
    published = figures(bands)
    # high = 7 (3 + 4) is below 11: hidden. (True counts here: the noise of
    # the cell key method makes "22 at or above - 15" no longer give 7 back;
    # tests/e2e/test_attacks.py attacks the protected release.)
    assert published == {("_below", ""): 0, ("none", ""): 20, ("some|below", ""): 12,
                         ("some|above", ""): 15, ("high", ""): None}
    assert bands.total.n == 54
    status = r.views["score.p.total.status"]
    assert figures(status) == {("_scored", ""): 54, ("_notcomputable", ""): 14}
    mean = status.means[""]
    true_mean = (20 * 0 + 12 * 1 + 15 * 2 + 3 * 4 + 4 * 3) / 54
    assert mean.mean == round(true_mean, 1) and (mean.lo, mean.hi) == (None, None)  # rounded, no interval
    # Prevalence at or above 2: 22 of 54, from the screen table.
    prevalence = r.views["score.p.total.screen"].prevalence[""]
    assert prevalence.n == 22 and prevalence.pct == pytest.approx(100 * 22 / 54)
    by = r.views["score.p.total.by.centre"]
    assert by.rows == ["_negative", "_positive"] and by.cols == ["C1", "C2", "C3"]
    # C3: 4 scored persons (all positive): hidden.
    assert figures(by) == {("_negative", "C1"): 32, ("_negative", "C2"): 0, ("_negative", "C3"): 0,
                           ("_positive", "C1"): 0, ("_positive", "C2"): 18, ("_positive", "C3"): None}
    assert {c: f.n for c, f in by.col_totals.items()} == {"C1": 32, "C2": 18, "C3": None}
    # Means need 11 contributors (C3 has 4); rounded to one decimal.
    assert [by.means[c].mean for c in by.cols] == [0.4, round(42 / 18, 1), None]
    assert by.prevalence["C1"].pct == 0.0 and by.prevalence["C2"].pct == 100.0
    # With the rules on groups, C3 (a group below 11) has no figure of its
    # own, zeros included, and the 100 % of C1 and C2 (every scored person
    # on one side of the cut-off) are withheld too.
    ruled = release(data, qdir, breakdowns={"centre": "centre"}, protection=Protection(ptable=None))
    by = ruled.views["score.p.total.by.centre"]
    assert {key: (f.n, f.withheld) for key, f in by.cells.items()} == {
        (row, col): (None, True) for row in by.rows for col in by.cols}
    # A withheld group has no mean either: beside its hidden bands a mean
    # would tell what they hide (a mean of 0.0: nobody above the least value).
    assert [by.means[c].mean for c in by.cols] == [None, None, None]


def test_integer_point_scores_take_the_packed_path() -> None:
    # The reference comparison above covers both paths; this pins which one
    # each kind of score takes, so the fast path cannot silently go unused.
    packed = {s.id: scores._packed_sum(s, pl.lit(True), pl.lit(True)) is not None for s in SCORES}
    assert packed == {"values": True, "who5_like": True, "epices_like": False, "thirds": False, "any": True}


def test_score_sums_do_not_depend_on_the_order_of_the_rows() -> None:
    """The sums behind a published mean are exact integers (hundredths):
    the same scores in any order give the same figures. In floats,
    (0.1 + 0.2) + 40.15 and (40.15 + 0.2) + 0.1 differ in the last bit,
    and a mean on a rounding edge (40.15 or 40.25) moved between releases
    of the same data."""
    score = ScoreDef("plain", "m", ITEMS)
    values = [0.1, 0.2, 40.15, 40.25, 33.33]
    assert (0.1 + 0.2) + 40.15 != (40.15 + 0.2) + 0.1  # the float trap this avoids
    units = pl.LazyFrame({"key": [0, 1, 2, 3, 4], "cell": [7] * 5, "rk": [1, 2, 3, 4, 5]},
                         schema={"key": pl.Int64, "cell": pl.UInt32, "rk": pl.UInt64})
    outs = []
    for order in ([0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [2, 0, 4, 1, 3]):
        frame = pl.LazyFrame({"key": order, "value": [values[i] for i in order]})
        outs.append(scores.score_counts(frame, units, score).collect())
    assert all(o.equals(outs[0]) for o in outs)
    (row,) = outs[0].iter_rows(named=True)
    assert (row["n"], row["ks"], row["sum"], row["sumsq"]) == (
        5, 15, 10 + 20 + 4015 + 4025 + 3333, 10 ** 2 + 20 ** 2 + 4015 ** 2 + 4025 ** 2 + 3333 ** 2)
    assert outs[0]["sum"].dtype == pl.Int64
