"""From true counts to raw tables of tallies (count and key sum per cell),
grouped in families published together. Nothing here is ever rendered:
:mod:`analysis.report.publish` turns published tables into views.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from surveycore import types
from surveycore.questionnaire import Item, Module, ScoreDef
from analysis import disclosure, scores, tables
from analysis.disclosure import ZERO, Protection, PublishedTable, Tally
from analysis.tables import MISSING, NO_ANSWER, NONE, NOT_REACHED, REFUSED, SKIPPED
from analysis.report.model import NOT_COMPUTABLE, STATUSES, Indicator


@dataclass(frozen=True)
class _Raw:
    """A table of true tallies before publication (never rendered)."""

    matrix: list[list[Tally]]
    rows: list[str]
    cols: list[str]
    row_var: str
    col_var: str | None
    substantive: list[int] | None = None

    def publish(self, protection: Protection) -> PublishedTable:
        """The table as released under ``protection``."""
        return disclosure.publish_table(self.matrix, self.rows, self.cols, self.row_var, self.col_var, protection,
                                        self.substantive)


def _sum_by(df: pl.DataFrame, keys: Sequence[str]) -> dict[tuple, Tally]:
    if df.height == 0:
        return {}
    agg = df.group_by(list(keys)).agg(pl.col("n").sum(), pl.col("ks").sum())
    return {tuple(r[:-2]): Tally(int(r[-2]), int(r[-1])) for r in agg.iter_rows()}


@dataclass
class _Family:
    """Tables computed together, and what view each table becomes."""

    tables: list[_Raw] = field(default_factory=list)
    specs: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def add(self, table: _Raw, kind: str, spec: dict[str, Any]) -> None:
        self.tables.append(table)
        self.specs.append((kind, spec))


def _one_d(values: Sequence[Tally], rows: Sequence[str], row_var: str,
           substantive: Sequence[int] | None = None) -> _Raw:
    """A 1-D table of tallies."""
    return _Raw([[v] for v in values], list(rows), ["n"], row_var, None,
                None if substantive is None else list(substantive))


def _two_d(matrix: Sequence[Sequence[Tally]], rows: Sequence[str], cols: Sequence[str], row_var: str,
           col_var: str, substantive: Sequence[int] | None = None) -> _Raw:
    """A 2-D table of tallies."""
    return _Raw([list(r) for r in matrix], list(rows), list(cols), row_var, col_var,
                None if substantive is None else list(substantive))


class _Builder:
    """Turns the true counts into raw tables of tallies (count and key sum).

    Every figure keeps the key sum of exactly the persons it counts, also
    when it is derived by arithmetic, so the same persons get the same
    perturbation wherever the figure appears.
    """

    def __init__(self, counts: tables.Counts, modules: dict[tuple[str, int], Module],
                 breakdowns: dict[str, str], protection: Protection,
                 score_frames: dict[tuple[str, int, str], dict]) -> None:
        self.c = counts
        self.modules = modules
        self.breakdowns = breakdowns
        self.protection = protection
        self.k = protection.k
        self.score_frames = score_frames
        self.families: list[_Family] = []
        self.order: list[tuple[str, str]] = []  # (module, item) in questionnaire order, for drop-off
        self._index()

    # -- helpers ---------------------------------------------------------
    def _index(self) -> None:
        """Counts as nested dicts: thousands of lookups on small frames
        would cost more than the counting itself."""
        def nest(frames: dict, keys: list[str]) -> dict:
            out: dict = {}
            for by, df in frames.items():
                cols = [*keys, "survey", *([by] if by else [])]
                d: dict = {}
                for row in df.select(*cols, "n", "ks").iter_rows():
                    inner = d.setdefault(row[:len(keys)], {})
                    rest = row[len(keys):-2]
                    inner[rest] = inner.get(rest, ZERO) + Tally(int(row[-2]), int(row[-1]))
                out[by] = d
            return out
        self._items = nest(self.c.items, ["module", "major", "item", "cat"])
        self._persons = nest(self.c.persons, ["module", "major", "item"])
        self._pop = nest(self.c.population, [])

    def module_surveys(self, module: str, major: int) -> list[str]:
        return sorted({s[0] for (m, j, _, _), per in self._items[None].items() if (m, j) == (module, major)
                       for s in per})

    def count(self, table: dict, by: str | None, key: tuple, surveys: list[str], cat: str | None) -> Tally:
        """Sum of one count over the given surveys (and breakdown category)."""
        per = table[by].get(key, {})
        if by is None:
            return sum((per.get((s,), ZERO) for s in surveys), ZERO)
        return sum((per.get((s, cat), ZERO) for s in surveys), ZERO)

    def pop(self, surveys: list[str], by: str | None) -> dict[str, Tally]:
        per = self._pop[by].get((), {})
        out: dict[str, Tally] = {}
        for key, n in per.items():
            if key[0] in surveys:
                cat = "" if by is None else key[1]
                out[cat] = out.get(cat, ZERO) + n
        return out if by is not None else {"": out.get("", ZERO)}

    def categories(self, surveys: list[str], by: str) -> list[str]:
        present = [c for c, n in self.pop(surveys, by).items() if n > 0]
        source = self.breakdowns[by]
        if "." in source:
            mid, iid = source.split(".", 1)
            codes: list[str] = []
            for (m_id, _), m in sorted(self.modules.items()):
                if m_id == mid:
                    try:
                        codes = [c.code for c in m.item(iid).choices]
                    except KeyError:
                        pass
            ordered = [c for c in codes if c in present]
            rest = sorted(c for c in present if c not in ordered and c != MISSING)
            return ordered + rest + ([MISSING] if MISSING in present else [])
        return sorted(present)

    def usable_breakdowns(self, surveys: list[str], skip_item: str | None = None) -> list[tuple[str, list[str]]]:
        out = []
        for by, source in self.breakdowns.items():
            if skip_item is not None and source == skip_item:
                continue  # an item crossed with itself tells nothing
            cats = self.categories(surveys, by)
            if len(cats) >= 2:
                out.append((by, cats))
        return out

    def _informative(self, column_totals: list[Tally]) -> bool:
        """A cross-tab tells more than its 1-D margins only if at least two
        of its columns have a published total; otherwise it is left out."""
        return sum(1 for n in column_totals if self.protection.publish(n)) >= 2

    def _groups(self, base: _Family, per_by: list[_Family]) -> None:
        """The base tables of an item or score, then its cross-tabs."""
        self.families.append(base)
        self.families.extend(per_by)

    # -- participation ----------------------------------------------------
    def participation(self) -> None:
        base = {s: ZERO for s in STATUSES}
        for (status,), n in _sum_by(self.c.participation[None], ["status"]).items():
            base[status] = n
        fam = _Family()
        fam.add(_one_d([base[s] for s in STATUSES], STATUSES, "status", substantive=[]), "participation", {})
        if self.c.dropoff is not None and base["partial"] > 0:
            found = {(r["module"], r["item"]): Tally(int(r["n"]), int(r["ks"]))
                     for r in self.c.dropoff.iter_rows(named=True)}
            rows = list(dict.fromkeys([*self.order, *sorted(k_ for k_ in found if k_ not in self.order
                                                              and k_ != (NO_ANSWER, NO_ANSWER))]))
            labels = [f"{m}.{i}" for m, i in rows] + [NO_ANSWER]
            values = [found.get(key, ZERO) for key in rows] + [found.get((NO_ANSWER, NO_ANSWER), ZERO)]
            if sum(values, ZERO) == base["partial"]:
                fam.add(_one_d(values, labels, "last_question", substantive=[]), "dropoff", {})
        self.families.append(fam)

    # -- items ------------------------------------------------------------
    def item(self, module: Module, major: int, item: Item, surveys: list[str]) -> None:
        multiple = types.get(item.type).multi
        codes = [c.code for c in item.choices]
        present = {key[3] for key in self._items[None] if key[:3] == (module.id, major, item.id)}
        # Codes outside the choice list: whole numbers of an integer item, in numeric order.
        extra = sorted((c for c in present if not c.startswith("_") and c not in codes),
                       key=lambda c: (0, int(c), c) if c.lstrip("-").isdigit() else (1, 0, c))
        codes = codes + extra
        options = [*codes, NONE] if multiple else [""]
        common = {"module": module.id, "major": major, "item": item.id, "codes": codes, "multiple": multiple}

        def parts(by: str | None, cat: str | None) -> tuple[dict[str, list[Tally]], Tally, Tally, Tally]:
            """Per option: the seen rows' counts; then seen, skipped, not reached."""
            def n(c: str) -> Tally:
                return self.count(self._items, by, (module.id, major, item.id, c), surveys, cat)
            pop = self.pop(surveys, by).get("" if by is None else str(cat), ZERO)
            skipped, refused = n(SKIPPED), n(REFUSED)
            if not multiple:
                seen_rows = [n(c) for c in codes] + [refused]
                seen = sum(seen_rows, ZERO)
                return {"": seen_rows}, seen, skipped, pop - seen - skipped
            answered = self.count(self._persons, by, (module.id, major, item.id), surveys, cat)
            seen = answered + n(NONE) + refused
            out = {o: [n(o), seen - refused - n(o), refused] for o in options}
            return out, seen, skipped, pop - seen - skipped

        def rows_of(option: str) -> list[str]:
            return [*codes, REFUSED] if not multiple else [option, f"!{option}", REFUSED]

        def answers(rows: list[str]) -> list[int]:
            # "Prefer not to answer" is no answer: it does not make a group diverse.
            return [i for i, r in enumerate(rows) if r != REFUSED]

        seen_rows, seen, skipped, notreached = parts(None, None)
        base = _Family()
        for o in options:
            rows = rows_of(o)
            base.add(_one_d(seen_rows[o], rows, "answer", answers(rows)), "frequency", {**common, "option": o})
        base.add(_one_d([seen, skipped, notreached], ["_seen", SKIPPED, NOT_REACHED], "status", []), "status",
                 common)
        per_by = []
        # Whole numbers (an integer item) get their distribution only: crossed
        # with a breakdown, nearly every cell would be a small count.
        bys = [] if types.get(item.type).value == types.NUMBER else self.usable_breakdowns(surveys, f"{module.id}.{item.id}")
        for by, cats in bys:
            per_cat = [parts(by, c) for c in cats]
            if not self._informative([p[1] for p in per_cat]):
                continue
            fam = _Family()
            for o in options:
                rows = rows_of(o)
                matrix = [[per_cat[ci][0][o][ri] for ci in range(len(cats))] for ri in range(len(rows))]
                fam.add(_two_d(matrix, rows, cats, "answer", by, answers(rows)), "crosstab",
                        {**common, "option": o, "by": by})
            per_by.append(fam)
        self._groups(base, per_by)

    # -- key indicators ---------------------------------------------------
    def indicator(self, ind: "Indicator", module: Module, major: int, surveys: list[str]) -> None:
        """A key indicator read from one single-choice item: persons whose
        answer is one of ``ind.codes`` among those who answered (a refusal
        is no answer), overall and by every breakdown. The tallies are sums
        of the item's own tallies, so the same persons get the same noise."""
        assert ind.item is not None  # an item indicator names its item
        item = module.item(ind.item)
        codes = [c.code for c in item.choices]

        def side(by: str | None, cat: str | None) -> list[Tally]:
            def n(c: str) -> Tally:
                return self.count(self._items, by, (module.id, major, item.id, c), surveys, cat)
            answered = sum((n(c) for c in codes), ZERO)
            positive = sum((n(c) for c in codes if c in ind.codes), ZERO)
            return [answered - positive, positive]

        self._indicator_tables(ind, module, major, side, self.usable_breakdowns(surveys, f"{module.id}.{item.id}"))

    def score_indicator(self, ind: "Indicator", module: Module, major: int, score: ScoreDef,
                        surveys: list[str]) -> None:
        """A key indicator read from a score's bands ``ind.classes``: persons
        in those bands among those scored, overall and by every breakdown,
        as tables of their own (sums of the bands' tallies, same noise)."""
        frames = self.score_frames[(module.id, major, score.id)]

        def side(by: str | None, cat: str | None) -> list[Tally]:
            key = "" if by is None else str(cat)
            scored, positive = ZERO, ZERO
            for row in frames[by].filter(pl.col("survey").is_in(surveys)).iter_rows(named=True):
                if ("" if by is None else str(row[by])) != key or row["class"] is None:
                    continue
                t = Tally(int(row["n"]), int(row["ks"]))
                scored = scored + t
                if row["class"] in ind.classes:
                    positive = positive + t
            return [scored - positive, positive]

        self._indicator_tables(ind, module, major, side, self.usable_breakdowns(surveys))

    def _indicator_tables(self, ind: "Indicator", module: Module, major: int,
                          side: Callable[[str | None, str | None], list[Tally]],
                          breakdowns: list[tuple[str, list[str]]]) -> None:
        """The tables of one key indicator: ``side(by, cat)`` gives the
        (negative, positive) tallies of a group; overall, then by every
        breakdown whose groups say something."""
        rows = [scores.NEGATIVE, scores.POSITIVE]
        common = {"indicator": ind.id, "module": module.id, "major": major}
        base = _Family()
        base.add(_one_d(side(None, None), rows, "indicator"), "indicator", common)
        per_by = []
        for by, cats in breakdowns:
            per_cat = [side(by, c) for c in cats]
            if not self._informative([p[0] + p[1] for p in per_cat]):
                continue
            fam = _Family()
            matrix = [[per_cat[ci][ri] for ci in range(len(cats))] for ri in range(2)]
            fam.add(_two_d(matrix, rows, cats, "indicator", by), "indicator_by", {**common, "by": by})
            per_by.append(fam)
        self._groups(base, per_by)

    # -- scores -----------------------------------------------------------
    def score(self, module: Module, major: int, score: ScoreDef, surveys: list[str]) -> None:
        frames = self.score_frames[(module.id, major, score.id)]
        cls = [c.id for c in scores.classes(score)]
        common = {"module": module.id, "major": major, "score": score, "classes": cls}

        # (category, class) -> [tally, sum, sumsq] per breakdown, over this module's surveys;
        # the sums in exact integer hundredths (scores.score_counts) until the end.
        sums_of: dict[str | None, dict[tuple[str, str | None], list]] = {}
        for by, df in frames.items():
            acc: dict[tuple[str, str | None], list] = {}
            for row in df.filter(pl.col("survey").is_in(surveys)).iter_rows(named=True):
                slot = acc.setdefault(("" if by is None else str(row[by]), row["class"]), [ZERO, 0, 0])
                slot[0] = slot[0] + Tally(int(row["n"]), int(row["ks"]))
                slot[1] += int(row["sum"])
                slot[2] += int(row["sumsq"])
            sums_of[by] = acc
        scale = scores.SUM_SCALE

        def column(by: str | None, cat: str | None) -> tuple[list[Tally], Tally, tuple[Tally, float, float]]:
            here = {c: v for (k, c), v in sums_of[by].items() if k == ("" if by is None else str(cat))}
            scored = sum((v[0] for v in here.values()), ZERO)
            pop = self.pop(surveys, by).get("" if by is None else str(cat), ZERO)
            sums = (scored, sum(v[1] for v in here.values()) / scale,
                    sum(v[2] for v in here.values()) / (scale * scale))
            return [here[c][0] if c in here else ZERO for c in cls], pop - scored, sums

        values, not_computable, sums = column(None, None)
        scored = sums[0]
        sides = {c.id: bool(c.positive) for c in scores.classes(score)}
        # With bands and a cut-off, the breakdown tables give the screen
        # (below / at or above the cut-off) rather than every band: far fewer
        # small cells.
        screen = bool(cls) and score.positive_at is not None and set(cls) != {scores.NEGATIVE, scores.POSITIVE}
        base = _Family()
        if cls:
            base.add(_one_d(values, cls, "class"), "score", {**common, "positive_rows": [c for c in cls if sides[c]]})
        base.add(_one_d([scored, not_computable], ["_scored", NOT_COMPUTABLE], "status", []), "score_status",
                 {**common, "sums": {"": sums}})
        side_rows = [scores.NEGATIVE, scores.POSITIVE]
        if screen:
            below = sum((v for c, v in zip(cls, values) if not sides[c]), ZERO)
            above = sum((v for c, v in zip(cls, values) if sides[c]), ZERO)
            base.add(_one_d([below, above], side_rows, "screen"), "score_screen", common)
        per_by = []
        for by, cats in self.usable_breakdowns(surveys):
            per_cat = [column(by, c) for c in cats]
            if not self._informative([p[2][0] for p in per_cat]):
                continue
            fam = _Family()
            group_sums = {c: per_cat[i][2] for i, c in enumerate(cats)}
            if screen:
                rows = side_rows
                matrix = [[sum((v for c, v in zip(cls, p[0]) if sides[c] == (r == 1)), ZERO) for p in per_cat]
                          for r in range(2)]
                positive_rows = [scores.POSITIVE]
            elif cls:
                rows, matrix = cls, [[per_cat[ci][0][ri] for ci in range(len(cats))] for ri in range(len(cls))]
                positive_rows = [c for c in cls if sides[c]]
            else:
                rows, positive_rows = [], []
            if rows:
                t = _two_d(matrix, rows, cats, "class", by)
            else:
                matrix = [[p[2][0] for p in per_cat], [p[1] for p in per_cat]]
                t = _two_d(matrix, ["_scored", NOT_COMPUTABLE], cats, "status", by, [])
            fam.add(t, "score_by", {**common, "by": by, "sums": group_sums, "positive_rows": positive_rows,
                                    "counts_scored": bool(rows)})
            per_by.append(fam)
        self._groups(base, per_by)
