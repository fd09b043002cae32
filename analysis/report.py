"""The diagnostic release: protected tables, and the report as one offline HTML file.

:func:`build_release` computes every table of the diagnostic from the
dataset (:mod:`analysis.tables`, :mod:`analysis.scores`), protects every
figure with :mod:`analysis.disclosure` (the cell key method: the same
persons give the same published figure in every table; rules on small and
homogeneous groups) and returns :class:`View` objects that hold only
published figures, never a true count. The HTML report, the exports
(:mod:`analysis.export`) and the team dashboard render these views and
nothing else.

The HTML file references no external script, font, stylesheet or image;
charts are inline SVG.
"""

from __future__ import annotations

import dataclasses

import datetime as dt
import html
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from babel.dates import format_date
from babel.numbers import format_decimal

from surveycore import i18n, types
from surveycore.errors import KioskError, ValidationError
from surveycore.i18n import N_
from surveycore.questionnaire import Item, Module, ScoreDef, load_survey

from analysis import disclosure, scores, standardise, tables
from analysis.disclosure import ZERO, Protection, PublishedTable, Tally
from analysis import pooling
from analysis.ingest import module_index, scan_answers, scan_responses
from analysis.tables import MISSING, NO_ANSWER, NONE, NOT_REACHED, REFUSED, SKIPPED

NOT_COMPUTABLE = "_notcomputable"
STATUSES = ("complete", "partial", "declined")


@dataclass(frozen=True)
class Indicator:
    """A key indicator of the diagnostic: the share of persons whose answer
    to a single-choice ``item`` is one of ``codes``, or whose ``score`` is at
    or above its cut-off (or, with ``classes``, in one of those bands: then
    a table of its own, like an item's)."""

    id: str
    label: str
    module: str
    item: str | None = None
    codes: tuple[str, ...] = ()
    score: str | None = None
    classes: tuple[str, ...] = ()


KEY_INDICATORS: tuple[Indicator, ...] = (
    Indicator("bad_health", N_("Self-rated health bad or very bad"), "mehm", "general_health", ("4", "5")),
    Indicator("chronic", N_("Chronic illness or long-standing health problem"), "mehm", "chronic", ("1",)),
    Indicator("no_basic_cover", N_("No basic health cover, or cover pending"), "health_coverage", "basic",
              ("none", "pending")),
    Indicator("no_complementary", N_("No complementary health insurance"), "health_coverage", "complementary",
              ("none",)),
    Indicator("forgone", N_("Went without needed care in the last 12 months"), "forgoing_care", "forgone",
              ("yes",)),
    Indicator("insecure_housing", N_("Insecure housing (hosted, emergency shelter, squat, street)"), "housing",
              "situation", ("hosted", "emergency", "squat", "street")),
    Indicator("fear_losing_home", N_("Afraid of losing their home"), "housing", "fear_losing", ("yes",)),
    Indicator("food_insecurity", N_("Food insecurity (Hunger Vital Sign)"), "hunger_vital_sign",
              score="at_risk"),
    Indicator("epices", N_("Precariousness (EPICES score ≥ 30.17)"), "epices", score="score"),
    Indicator("phq9", N_("Depressive symptoms (PHQ-9 ≥ 10)"), "phq9", score="total"),
    Indicator("gad7", N_("Anxiety symptoms (GAD-7 ≥ 10)"), "gad7", score="total"),
    Indicator("who5", N_("Poor wellbeing (WHO-5 ≤ 50)"), "who5", score="wellbeing",
              classes=("likely_depression", "poor_wellbeing")),
)
"""The key indicators of the summary and the comparisons, in this order;
an indicator whose module is not in the dataset is left out."""


_T_CACHE: dict[tuple[str, str], str] = {}


def _t(lang: str, msgid: str) -> str:
    # A report looks up thousands of labels; each lookup checks the
    # catalog file. One render uses one state of the catalogs (render_html
    # empties this cache when it starts).
    text = _T_CACHE.get((lang, msgid))
    if text is None:
        text = _T_CACHE[(lang, msgid)] = i18n.translations(lang).gettext(msgid)
    return text


# ---------------------------------------------------------------- views


@dataclass(frozen=True)
class Figure:
    """One published figure: a perturbed count (None when hidden), its
    percentage (0-100) and Wilson 95 % interval when publishable;
    ``withheld`` when a rule on groups hides it (mark ``[c]``) rather than
    a perturbed count below ``k`` (mark ``< k``)."""

    n: int | None
    pct: float | None = None
    lo: float | None = None
    hi: float | None = None
    withheld: bool = False


@dataclass(frozen=True)
class Mean:
    """A published mean, rounded (None when hidden). Public outputs give no
    interval with it: an interval at full precision gives back the number
    of contributors and their sum of squares."""

    mean: float | None
    lo: float | None = None
    hi: float | None = None


@dataclass
class View:
    """A publishable table: only published (protected) figures, ready to render.

    ``cols`` is ``[""]`` for a one-dimensional table. ``cells`` maps
    ``(row, col)`` to a :class:`Figure`; ``means`` and ``prevalence`` (score
    views) map a column (``""`` overall) to a :class:`Mean` / :class:`Figure`.
    """

    id: str
    kind: str
    module: str | None = None
    major: int | None = None
    item: str | None = None
    score: str | None = None
    by: str | None = None
    rows: list[str] = field(default_factory=list)
    cols: list[str] = field(default_factory=lambda: [""])
    cells: dict[tuple[str, str], Figure] = field(default_factory=dict)
    row_totals: dict[str, Figure] = field(default_factory=dict)
    col_totals: dict[str, Figure] = field(default_factory=dict)
    total: Figure = field(default_factory=lambda: Figure(None))
    means: dict[str, Mean] = field(default_factory=dict)
    prevalence: dict[str, Figure] = field(default_factory=dict)

    def frame(self) -> pl.DataFrame:
        """Tidy form: one line per cell and margin (``row``/``col`` ``"_total"``);
        ``_mean`` and ``_share`` lines for means and prevalences."""
        records = []

        def add(row: str, col: str, f: Figure) -> None:
            records.append({"table": self.id, "kind": self.kind, "module": self.module, "major": self.major,
                            "item": self.item or self.score, "by": self.by, "row": row, "col": col,
                            "n": f.n, "suppressed": f.n is None, "pct": f.pct, "ci_low": f.lo, "ci_high": f.hi,
                            "withheld": f.withheld})
        for r in self.rows:
            for c in self.cols:
                if (r, c) in self.cells:
                    add(r, c, self.cells[(r, c)])
            if r in self.row_totals:
                add(r, "_total", self.row_totals[r])
        for c, f in self.col_totals.items():
            add("_total", c, f)
        add("_total", "_total", self.total)
        for c, m in self.means.items():
            records.append({"table": self.id, "kind": self.kind, "module": self.module, "major": self.major,
                            "item": self.item or self.score, "by": self.by, "row": "_mean", "col": c or "_total",
                            "n": None, "suppressed": m.mean is None, "pct": m.mean, "ci_low": m.lo,
                            "ci_high": m.hi, "withheld": False})
        for c, f in self.prevalence.items():
            # "_share", never "_positive": that is also the id of a class row.
            add("_share", c or "_total", f)
        return pl.DataFrame(records, schema=VIEW_SCHEMA)


VIEW_SCHEMA = {"table": pl.String, "kind": pl.String, "module": pl.String, "major": pl.Int64, "item": pl.String,
               "by": pl.String, "row": pl.String, "col": pl.String, "n": pl.Int64, "suppressed": pl.Boolean,
               "pct": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64, "withheld": pl.Boolean}
"""Columns of :meth:`View.frame` (``pct`` holds the mean on ``_mean`` lines;
``withheld``: hidden by a rule on groups, mark ``[c]``)."""


@dataclass
class Release:
    """Everything the diagnostic publishes, already protected."""

    k: int
    views: dict[str, View]
    modules: dict[tuple[str, int], Module]
    breakdowns: dict[str, str]
    breakdown_labels: dict[str, dict[str, dict[str, str]]]
    versions: dict[tuple[str, int], list[str]]
    question_labels: dict[str, str] = field(default_factory=dict)
    protection: Protection = field(default_factory=Protection)
    # Per module definition pooled: module, major, version, hash, sites.
    pooled: list[dict] = field(default_factory=list)
    # Scores reported per version, not pooled (see analysis.pooling):
    # module, major, score, label, versions [{version, sites}].
    unpooled_scores: list[dict] = field(default_factory=list)
    # What the release covers: centres, surveys (id@version), first and last
    # period, and the survey order of modules.
    centres: list[str] = field(default_factory=list)
    surveys: list[str] = field(default_factory=list)
    periods: tuple[str, str] | None = None
    module_order: list[str] = field(default_factory=list)
    survey_titles: dict[str, dict[str, str]] = field(default_factory=dict)
    # Age- and sex-standardised shares of the key indicators: indicator ->
    # breakdown (centre, neighbourhood) -> category -> published figure
    # (pct None: not standardised); the reference population's source, and
    # the age-sex groups left out of it (no respondent at all).
    standardised: dict[str, dict[str, dict[str, Figure]]] = field(default_factory=dict)
    standard_source: str = ""
    standard_dropped: list[tuple[str, str]] = field(default_factory=list)

    def for_module(self, module: str, major: int) -> list[View]:
        """Views of one pooled module, in questionnaire order."""
        return [v for v in self.views.values() if v.module == module and v.major == major]


# ------------------------------------------------------------ computing


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


def _semver(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


_ORDER_CACHE: dict[tuple, pl.DataFrame] = {}


def survey_orders(dirs: Sequence[str | Path]) -> pl.DataFrame:
    """Question order of every survey found in ``dirs``: survey
    (``id@version``), module, item, pos. Parsed again only when a file of
    ``dirs`` changed (the dashboard builds a release at every filter)."""
    signature = []
    for d in dirs:
        for f in sorted(Path(d).glob("*.yaml")):
            try:
                st_ = f.stat()
            except OSError:
                continue
            signature.append((str(f.resolve()), st_.st_mtime_ns, st_.st_size))
    key = (tuple(str(d) for d in dirs), tuple(signature))
    if key not in _ORDER_CACHE:
        if len(_ORDER_CACHE) > 32:
            _ORDER_CACHE.clear()
        _ORDER_CACHE[key] = _survey_orders(dirs)
    return _ORDER_CACHE[key]


def _survey_orders(dirs: Sequence[str | Path]) -> pl.DataFrame:
    records: list[dict[str, object]] = []
    seen: set[str] = set()
    for d in dirs:
        for f in sorted(Path(d).glob("*.yaml")):
            try:
                head = f.read_text(encoding="utf-8")
            except OSError:
                continue
            if "\nmodules:" not in "\n" + head:
                continue
            try:
                survey = load_survey(f, [Path(x) for x in dirs])
            except ValidationError:
                continue
            key = f"{survey.id}@{survey.version}"
            if key in seen:
                continue
            seen.add(key)
            pos = 0
            for it in survey.items:
                if it.is_question:
                    records.append({"survey": key, "module": it.module, "item": it.id, "pos": pos})
                    pos += 1
    return pl.DataFrame(records, schema={"survey": pl.String, "module": pl.String, "item": pl.String,
                                         "pos": pl.Int64})


def _fallback_order(surveys: Sequence[str], modules: Sequence[Module]) -> pl.DataFrame:
    """Order for surveys without a definition at hand: modules by id."""
    records = []
    for s in surveys:
        pos = 0
        for m in sorted(modules, key=lambda m: m.id):
            for it in m.items:
                if it.is_question:
                    records.append({"survey": s, "module": m.id, "item": it.id, "pos": pos})
                    pos += 1
    return pl.DataFrame(records, schema={"survey": pl.String, "module": pl.String, "item": pl.String,
                                         "pos": pl.Int64})


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

        # (category, class) -> [tally, sum, sumsq] per breakdown, over this module's surveys.
        sums_of: dict[str | None, dict[tuple[str, str | None], list]] = {}
        for by, df in frames.items():
            acc: dict[tuple[str, str | None], list] = {}
            for row in df.filter(pl.col("survey").is_in(surveys)).iter_rows(named=True):
                slot = acc.setdefault(("" if by is None else str(row[by]), row["class"]), [ZERO, 0.0, 0.0])
                slot[0] = slot[0] + Tally(int(row["n"]), int(row["ks"]))
                slot[1] += float(row["sum"])
                slot[2] += float(row["sumsq"])
            sums_of[by] = acc

        def column(by: str | None, cat: str | None) -> tuple[list[Tally], Tally, tuple[Tally, float, float]]:
            here = {c: v for (k, c), v in sums_of[by].items() if k == ("" if by is None else str(cat))}
            scored = sum((v[0] for v in here.values()), ZERO)
            pop = self.pop(surveys, by).get("" if by is None else str(cat), ZERO)
            sums = (scored, sum(v[1] for v in here.values()), sum(v[2] for v in here.values()))
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


def _pct(num: int | None, den: int | None, k: int, withheld: bool = False) -> Figure:
    """A published count with its percentage of a published denominator.

    Both are perturbed independently, so a numerator may exceed its
    denominator by the noise: the share is then read as 100 %.
    """
    if num is None or den is None or den <= 0:
        return Figure(num, withheld=withheld)
    pct = disclosure.gate_percentage(min(num, den), den, k)
    if pct is None:
        return Figure(num)
    ci = tables.wilson(min(num, den), den)
    assert ci is not None
    return Figure(num, pct, 100 * ci[0], 100 * ci[1])


def _view_id(module: str, major: int, item: str, prefix: str = "") -> str:
    return f"{prefix}{module}.{item}" if major == 1 else f"{prefix}{module}@{major}.{item}"


def _views_of(family: _Family, published: list[PublishedTable], protection: Protection) -> list[View]:
    """Views of a family's published tables; percentages only from
    published figures, so they reveal nothing the counts do not."""
    out: list[View] = []
    k = protection.k
    for table, (kind, spec) in zip(published, family.specs):
        if kind == "participation":
            v = View("participation", kind, rows=list(STATUSES))
            for r, s in enumerate(STATUSES):
                v.cells[(s, "")] = Figure(table.cell(r, 0))
            v.total = Figure(table.total())
            comp, part = table.cell(0, 0), table.cell(1, 0)
            v.prevalence[""] = _pct(comp, None if comp is None or part is None else comp + part, k)
            out.append(v)
        elif kind == "dropoff":
            v = View("participation.dropoff", kind, rows=list(table.row_labels))
            for r, label in enumerate(table.row_labels):
                v.cells[(label, "")] = _pct(table.cell(r, 0), table.total(), k)
            v.total = Figure(table.total())
            out.append(v)
        elif kind in ("frequency", "status", "crosstab"):
            out.append(_item_view(table, kind, spec, k))
        elif kind in ("score", "score_status", "score_screen", "score_by"):
            out.append(_score_view(table, kind, spec, protection))
        elif kind == "indicator":
            v = View(f"indicator.{spec['indicator']}", kind, str(spec["module"]), int(spec["major"]),
                     rows=list(table.row_labels))
            for r, row in enumerate(table.row_labels):
                v.cells[(row, "")] = _pct(table.cell(r, 0), table.total(), k, table.withheld((r, 0)))
            v.total = Figure(table.total())
            out.append(v)
        elif kind == "indicator_by":
            by = str(spec["by"])
            v = View(f"indicator.{spec['indicator']}.by.{by}", kind, str(spec["module"]), int(spec["major"]),
                     by=by, rows=list(table.row_labels), cols=list(table.col_labels))
            _fill_2d(v, table, k, pct_of_column=True)
            out.append(v)
    return out


def _fill_2d(v: View, table: PublishedTable, k: int, pct_of_column: bool = False) -> None:
    for r, row in enumerate(table.row_labels):
        for c, col in enumerate(table.col_labels):
            n, withheld = table.cell(r, c), table.withheld((r, c))
            v.cells[(row, col)] = (_pct(n, table.col_total(c), k, withheld) if pct_of_column
                                   else Figure(n, withheld=withheld))
        v.row_totals[row] = Figure(table.row_total(r))
    for c, col in enumerate(table.col_labels):
        v.col_totals[col] = Figure(table.col_total(c))
    v.total = Figure(table.total())


def _item_view(table: PublishedTable, kind: str, spec: dict, k: int) -> View:
    module, major, item = str(spec["module"]), int(spec["major"]), str(spec["item"])
    multiple, option = bool(spec["multiple"]), str(spec.get("option", ""))
    base = _view_id(module, major, item) + (f"#{option}" if multiple and kind != "status" else "")
    rows = list(table.row_labels)
    if kind == "frequency":
        shown = rows if not multiple else [option]
        v = View(base, kind, module, major, item, rows=shown)
        for r, label in enumerate(shown):
            v.cells[(label, "")] = _pct(table.cell(r, 0), table.total(), k, table.withheld((r, 0)))
        v.total = Figure(table.total())
        return v
    if kind == "status":
        v = View(f"{base}.status", kind, module, major, item, rows=rows)
        for r, label in enumerate(rows):
            v.cells[(label, "")] = Figure(table.cell(r, 0))
        v.total = Figure(table.total())
        return v
    by = str(spec["by"])
    v = View(f"{base}.by.{by}", kind, module, major, item, by=by, rows=rows, cols=list(table.col_labels))
    # Column percentages: over the persons of that column who saw the item.
    _fill_2d(v, table, k, pct_of_column=True)
    return v


def _score_view(table: PublishedTable, kind: str, spec: dict, protection: Protection) -> View:
    k = protection.k
    score: ScoreDef = spec["score"]
    module, major = str(spec["module"]), int(spec["major"])
    base = _view_id(module, major, score.id, "score.")
    if kind == "score_status":
        sums: dict[str, tuple[Tally, float, float]] = spec["sums"]
        v = View(f"{base}.status", kind, module, major, score=score.id, rows=list(table.row_labels))
        for r, row in enumerate(table.row_labels):
            v.cells[(row, "")] = Figure(table.cell(r, 0))
        v.total = Figure(table.total())
        v.means[""] = _mean(sums[""], protection)
        return v
    if kind == "score_screen":
        # Only the prevalence is new here; the bands are the "score" view.
        v = View(f"{base}.screen", kind, module, major, score=score.id, rows=[scores.NEGATIVE, scores.POSITIVE])
        for r, side in enumerate(table.row_labels):
            v.cells[(side, "")] = _pct(table.cell(r, 0), table.total(), k, table.withheld((r, 0)))
        v.total = Figure(table.total())
        v.prevalence[""] = v.cells[(scores.POSITIVE, "")]
        return v
    positive: list[str] = spec.get("positive_rows", [])
    if kind == "score":
        cls = list(table.row_labels)
        v = View(base, kind, module, major, score=score.id, rows=cls)
        for r, row in enumerate(cls):
            v.cells[(row, "")] = _pct(table.cell(r, 0), table.total(), k, table.withheld((r, 0)))
        v.total = Figure(table.total())
        if positive and set(cls) == {scores.NEGATIVE, scores.POSITIVE}:
            v.prevalence[""] = v.cells[(scores.POSITIVE, "")]
        return v
    by = str(spec["by"])
    sums = spec["sums"]
    v = View(f"{base}.by.{by}", kind, module, major, score=score.id, by=by, rows=list(table.row_labels),
             cols=list(table.col_labels))
    _fill_2d(v, table, k, pct_of_column=bool(spec.get("counts_scored")))
    columns = list(table.col_labels)
    for c, col in enumerate(columns):
        # A group too small for a column of its own has no mean either.
        v.means[col] = Mean(None) if table.col_total(c) is None else _mean(sums[col], protection)
        if positive:
            v.prevalence[col] = _prevalence([table.cell(r, c) for r, row in enumerate(table.row_labels)
                                             if row in positive], table.col_total(c), k)
    return v


def _mean(sums: tuple[Tally, float, float], protection: Protection) -> Mean:
    """A published mean: rounded, hidden when its contributors' published
    count is below ``k``, and without interval."""
    scored, total, _ = sums
    mean = total / scored.n if scored.n > 0 else None
    return Mean(disclosure.round_mean(mean, scored, protection))


def _prevalence(parts: list[int | None], scored: int | None, k: int) -> Figure:
    """Share at or above the cut-off: a sum of published classes, so it is
    only given when every one of them is published."""
    if any(p is None for p in parts):
        return Figure(None)
    return _pct(sum(parts), scored, k)  # type: ignore[arg-type]


def build_release(data_dir: str | Path, questionnaire_dirs: Sequence[str | Path],
                  k: int = disclosure.DEFAULT_K, breakdowns: Mapping[str, str] | None = None,
                  period: str | None = "quarter", filters: Mapping[str, Sequence[str]] | None = None,
                  protection: Protection | None = None,
                  standard: standardise.StandardPopulation | None = None,
                  standardised: bool = True) -> Release:
    """Compute and gate every table of the diagnostic.

    ``breakdowns`` maps a breakdown name to a response column (centre,
    lang, period) or a single-choice ``module.item`` (default
    :data:`analysis.tables.DEFAULT_BREAKDOWNS`); ``period`` coarsens periods
    for breakdowns (``quarter`` by default: weeks make tables too sparse to
    publish). ``filters`` keeps only responses whose breakdown value is in
    the given list (the dashboard's filters), applied before any count.
    ``standard``: the reference population of the standardised shares
    (default: the shipped census population, :data:`analysis.standardise.DEFAULT_FILE`).
    """
    responses = scan_responses(data_dir)
    # Answers are read with the definitions they were given with (the
    # dataset's own, by hash); site lists are labelled per site.
    answers = scan_answers(data_dir)
    pool = pooling.of_dataset(data_dir, questionnaire_dirs, responses, answers)
    answers = pool.relabel(answers, responses)
    release = release_from_frames(responses, answers, pool.index(module_index(questionnaire_dirs)),
                                  questionnaire_dirs, k, breakdowns, period, filters, protection, standard,
                                  standardised)
    release.pooled = pooling.pooled_table(pool)
    release.unpooled_scores = list(pool.unpooled_scores)
    # The dataset's own surveys give the order of the themes and the names
    # of the surveys (a site survey is usually absent from the folders).
    own = sorted(pool.surveys.values(), key=lambda sv: (sv.id, _semver(sv.version)))
    if own:
        firsts = list(dict.fromkeys(m.id for sv in own for m in sv.modules))
        release.module_order = firsts + [m for m in release.module_order if m not in firsts]
    for sv in own:
        release.survey_titles[f"{sv.id}@{sv.version}"] = dict(sv.title)
    return release


def release_from_frames(responses: pl.LazyFrame, answers: pl.LazyFrame,
                        index: Mapping[tuple[str, str], Module], questionnaire_dirs: Sequence[str | Path] = (),
                        k: int = disclosure.DEFAULT_K, breakdowns: Mapping[str, str] | None = None,
                        period: str | None = "quarter",
                        filters: Mapping[str, Sequence[str]] | None = None,
                        protection: Protection | None = None,
                        standard: standardise.StandardPopulation | None = None,
                        standardised: bool = True) -> Release:
    """:func:`build_release` on given frames and module definitions
    (``standardised`` False: no standardised shares, for views that do not
    show them).

    ``protection``: default :class:`analysis.disclosure.Protection` with ``k``
    (the cell key method and the rules on groups)."""
    disclosure._check_k(k)
    if protection is None:
        protection = Protection(k=k)
    k = protection.k
    bds = dict(tables.DEFAULT_BREAKDOWNS if breakdowns is None else breakdowns)
    present = (answers.select("module", "major", "version").unique().collect(engine="streaming"))
    versions: dict[tuple[str, int], list[str]] = {}
    for m_id, major, version in present.iter_rows():
        versions.setdefault((m_id, int(major)), []).append(version)
    modules: dict[tuple[str, int], Module] = {}
    for (m_id, major), vs in versions.items():
        known = [v for v in vs if (m_id, v) in index]
        if known:
            modules[(m_id, major)] = index[(m_id, max(known, key=_semver))]
        versions[(m_id, major)] = sorted(vs, key=_semver)
    # A breakdown item must be single choice: a multiple choice would count a person twice.
    for name, source in list(bds.items()):
        if "." in source:
            mid, iid = source.split(".", 1)
            kinds = {m.item(iid).type for (x, _), m in modules.items() if x == mid
                     and any(it.id == iid for it in m.items)}
            if not all(types.get(kind).code for kind in kinds):
                del bds[name]
    if filters:
        responses = _apply_filters(responses, answers, bds, period, filters)
    multiple = [(m_id, major, it.id) for (m_id, major), m in modules.items() for it in m.items
                if types.get(it.type).multi]
    surveys_in_data = (responses.select((pl.col("survey") + "@" + pl.col("survey_version")).alias("s")).unique()
                       .collect(engine="streaming")["s"].to_list())
    order = survey_orders(questionnaire_dirs) if questionnaire_dirs else _fallback_order([], [])
    missing = [s for s in surveys_in_data if s not in set(order["survey"].to_list())]
    if missing:
        order = pl.concat([order, _fallback_order(missing, list(modules.values()))])
    score_specs: list[tuple[str, int, ScoreDef]] = []
    extra = []
    sc: ScoreDef | None  # a score definition, or none found
    for (m_id, major), m in sorted(modules.items()):
        mult = frozenset(it.id for it in m.items if types.get(it.type).multi)
        for sc in m.scores:
            score_specs.append((m_id, major, sc))
            extra.append((m_id, major, _score_query(sc, m_id, major, mult)))
    counts = tables.collect_counts(responses, answers, bds, multiple, order, period, extra,
                                   partitions=list(versions))
    score_frames: dict[tuple[str, int, str], dict] = {}
    for (m_id, major, sc), frame in zip(score_specs, counts.extra):
        score_frames[(m_id, major, sc.id)] = {
            by: tables.marginal(frame, counts.cells, by, ["class"], ("n", "ks", "sum", "sumsq"))
            for by in [None, *bds]}
    builder = _Builder(counts, modules, bds, protection, score_frames)
    order_labels = {(r["module"], r["item"]): f"{r['module']}.{r['item']}"
                    for r in order.sort("pos").iter_rows(named=True)}
    builder.order = list(order_labels)
    builder.participation()
    for (m_id, major), m in sorted(modules.items()):
        surveys = builder.module_surveys(m_id, major)
        if not surveys:
            continue
        for it in m.items:
            if it.is_question and types.get(it.type).published:
                builder.item(m, major, it, surveys)
        for sc in m.scores:
            builder.score(m, major, sc, surveys)
    for ind in KEY_INDICATORS:
        if ind.item is None:
            if ind.classes:
                for (m_id, major), m in sorted(modules.items()):
                    surveys = builder.module_surveys(m_id, major)
                    # A score not pooled across versions is one indicator per version.
                    found = [(x, _variant(ind, x.id)) for x in m.scores if _score_base(x.id) == ind.score]
                    if m_id == ind.module and surveys and found:
                        for sc, variant in found:
                            builder.score_indicator(variant, m, major, sc, surveys)
                        break
            continue
        for (m_id, major), m in sorted(modules.items()):
            surveys = builder.module_surveys(m_id, major)
            if m_id == ind.module and surveys and any(it.id == ind.item and types.get(it.type).code
                                                      for it in m.items):
                builder.indicator(ind, m, major, surveys)
                break
    views: dict[str, View] = {}
    for family in builder.families:
        for v in _views_of(family, [t.publish(protection) for t in family.tables], protection):
            views[v.id] = v
    labels = {by: _breakdown_labels(bds[by], modules) for by in bds}
    release = Release(k, views, modules, bds, labels, versions,
                      {f"{m}.{i}": f"{m}.{i}" for (m, i) in order_labels}, protection)
    _cover(release, responses, order.filter(pl.col("survey").is_in(surveys_in_data)))
    if standardised:
        _standardise(release, counts, builder, dict(zip([(m, j, sc.id) for m, j, sc in score_specs], counts.extra)),
                     standard)
    return release


STANDARDISED_BY = ("centre", "neighbourhood")
"""The comparisons that also show age- and sex-standardised shares."""


def _indicator_module(release: Release, builder: _Builder, ind: Indicator) -> tuple[Module, int, list[str]] | None:
    """The pooled module a key indicator is read from (as in the release)."""
    for (m_id, major), m in sorted(release.modules.items()):
        surveys = builder.module_surveys(m_id, major)
        if m_id != ind.module or not surveys:
            continue
        if ind.item is not None and any(it.id == ind.item and it.type in ("single", "scale") for it in m.items):
            return m, major, surveys
        if ind.item is None and any(sc.id == ind.score for sc in m.scores):
            return m, major, surveys
    return None


def _standardise(release: Release, counts: tables.Counts, builder: _Builder,
                 score_frames: Mapping[tuple[str, int, str], pl.DataFrame],
                 standard: standardise.StandardPopulation | None) -> None:
    """Age- and sex-standardised shares of the key indicators by centre and
    neighbourhood (direct standardisation, Fay-Feuer interval).

    Each age-sex group's counts are the perturbed ones (cell key method: the
    same persons get the same noise as anywhere else), never true counts,
    and no group's own figure is published. A territory gets a standardised
    share only when its crude share is published (not hidden, not withheld)
    and its standardised population has at least k cases and k non-cases;
    see docs/disclosure.md."""
    bds = release.breakdowns
    age = next((b for b, src in bds.items() if src == standardise.AGE_SOURCE), None)
    sex = next((b for b, src in bds.items() if src == standardise.SEX_SOURCE), None)
    groups = [by for by in STANDARDISED_BY if by in bds]
    if age is None or sex is None or not groups or counts.item_cells is None:
        return
    age_item, sex_item = standardise.AGE_SOURCE.split(".", 1)[1], standardise.SEX_SOURCE.split(".", 1)[1]
    demographics = [m for (m_id, _), m in sorted(release.modules.items()) if m_id == "demographics"
                    and {age_item, sex_item} <= {it.id for it in m.items}]
    if not demographics:
        return
    std = standard if standard is not None else standardise.load(standardise.DEFAULT_FILE)
    bands = [c.code for c in demographics[-1].item(age_item).choices]
    try:
        standardise.check_bands(std, bands)
    except standardise.StandardPopulationError:
        if standard is not None:
            raise  # the team's own file: say so (write_report checks it before any work)
        return  # a survey with age bands of its own: the shipped census bands do not apply
    protection, k = builder.protection, release.k
    cells = counts.cells.select("cell", pl.col("survey").cast(pl.String), *groups,
                                pl.col(age).alias("_age"), pl.col(sex).alias("_sex"))
    # The age-sex groups the survey reached: any respondent who gave an age
    # band and a sex (perturbed count). The others are left out of the standard.
    ages = counts.item_cells.filter((pl.col("module") == "demographics") & (pl.col("item") == age_item)
                                    & pl.col("cat").is_in(bands)).select("cell", "n", "ks")
    reached: set[tuple[str, str]] = set()
    for a, s_, n, ks in (ages.join(cells, on="cell", how="inner").filter(pl.col("_sex").is_in(list(standardise.SEXES)))
                         .group_by("_age", "_sex").agg(pl.col("n").sum(), pl.col("ks").sum()).iter_rows()):
        if protection.perturbed(Tally(int(n), int(ks))) > 0:
            reached.add((a, s_))
    for ind in KEY_INDICATORS:
        found = _indicator_module(release, builder, ind)
        figs = indicator_figures(release, ind)
        if found is None or figs is None:
            continue
        module, major, surveys = found
        if ind.item is not None:
            codes = [c.code for c in module.item(ind.item).choices]
            frame = counts.item_cells.filter((pl.col("module") == module.id) & (pl.col("major") == major)
                                             & (pl.col("item") == ind.item) & pl.col("cat").is_in(codes)
                                             ).select("cell", pl.col("cat").is_in(list(ind.codes)).alias("_pos"),
                                                      "n", "ks")
        else:
            sc = next(x for x in module.scores if x.id == ind.score)
            positive = list(ind.classes) or [c.id for c in scores.classes(sc) if c.positive]
            frame = score_frames[(module.id, major, sc.id)].filter(pl.col("class").is_not_null()).select(
                "cell", pl.col("class").is_in(positive).alias("_pos"), "n", "ks")
        joined = frame.join(cells, on="cell", how="inner").filter(
            pl.col("survey").is_in(surveys) & pl.col("_sex").is_in(list(standardise.SEXES))
            & pl.col("_age").is_in(bands))
        for by in groups:
            crude = figs[1].get(by)
            if not crude:
                continue
            agg = joined.group_by(by, "_age", "_sex", "_pos").agg(pl.col("n").sum(), pl.col("ks").sum())
            tallies: dict[str, dict[tuple[str, str], list[Tally]]] = {}
            for cat, a, s_, pos, n, ks in agg.iter_rows():
                slot = tallies.setdefault(str(cat), {}).setdefault((a, s_), [ZERO, ZERO])
                t = Tally(int(n), int(ks))
                slot[1] = slot[1] + t
                if pos:
                    slot[0] = slot[0] + t
            strata: dict[str, dict[tuple[str, str], tuple[int, int]]] = {}
            for cat in crude:
                per = {}
                for key, (pos_t, all_t) in tallies.get(cat, {}).items():
                    n_ = protection.perturbed(all_t)
                    per[key] = (min(protection.perturbed(pos_t), n_), n_)
                strata[cat] = per
            rates = standardise.standardise_groups(strata, std, reached)
            out: dict[str, Figure] = {}
            for cat, f in crude.items():
                r = rates.get(cat)
                cases = sum(x for x, _ in strata[cat].values())
                persons = sum(n for _, n in strata[cat].values())
                if (r is None or f.pct is None or f.withheld or cases < k or persons - cases < k):
                    out[cat] = Figure(None, withheld=f.withheld)
                    continue
                out[cat] = Figure(f.n, round(100 * r.rate, 1), round(100 * r.lo, 1), round(100 * r.hi, 1))
            release.standardised.setdefault(ind.id, {})[by] = out
    release.standard_source = std.source or std.path
    release.standard_dropped = [key for key, w in std.counts.items() if w > 0 and key not in reached]


def _cover(release: Release, responses: pl.LazyFrame, order: pl.DataFrame) -> None:
    """What the release covers (centres, surveys, periods) and the survey
    order of its modules. Only categories and bounds, no count."""
    kept = responses.filter(~pl.col("test").fill_null(False))
    meta = kept.select(pl.col("centre").unique().sort().implode(),
                       (pl.col("survey") + "@" + pl.col("survey_version")).unique().sort().implode().alias("s"),
                       pl.col("period").min().alias("first"), pl.col("period").max().alias("last"),
                       ).collect(engine="streaming")
    if meta.height:
        release.centres = [c for c in meta["centre"][0].to_list() if c is not None]
        release.surveys = [s for s in meta["s"][0].to_list() if s is not None]
        first, last = meta["first"][0], meta["last"][0]
        if first is not None and last is not None:
            release.periods = (str(first), str(last))
    firsts = order.sort("pos").group_by("module", maintain_order=True).agg(pl.col("pos").min())
    release.module_order = firsts.sort("pos")["module"].to_list()


def _score_query(score: ScoreDef, module: str, major: int, multiple: frozenset[str]):
    """Deferred cell-level score counts, run in the release's single pass."""
    def query(coded: pl.LazyFrame, units_: pl.LazyFrame) -> pl.LazyFrame:
        values = scores.score_values(coded, score, module, major, multiple)
        return scores.score_counts(values, units_, score)
    return query


def _apply_filters(responses: pl.LazyFrame, answers: pl.LazyFrame, bds: Mapping[str, str],
                   period: str | None, filters: Mapping[str, Sequence[str]]) -> pl.LazyFrame:
    """Responses whose breakdown values pass ``filters`` (declined responses
    have no answers: an answer-based filter drops them)."""
    key = tables.choose_key(responses)
    for name, wanted in filters.items():
        if not wanted:
            continue
        source = bds.get(name, name)
        if "." in source:
            u = tables.units(responses, answers, key, {name: source}, period).filter(
                pl.col(name).is_in(list(wanted))).select("key")
            responses = responses.with_columns(key.alias("_k")).join(
                u, left_on="_k", right_on="key", how="semi").drop("_k")
        else:
            expr = tables.coarsen_period(pl.col(source), period) if source == "period" else pl.col(source)
            responses = responses.filter(expr.is_in(list(wanted)))
    return responses


def _breakdown_labels(source: str, modules: Mapping[tuple[str, int], Module]) -> dict[str, dict[str, str]]:
    """Category code -> {lang: label} of an answer-based breakdown."""
    if "." not in source:
        return {}
    mid, iid = source.split(".", 1)
    out: dict[str, dict[str, str]] = {}
    for (m_id, _), m in sorted(modules.items()):
        if m_id != mid:
            continue
        try:
            for c in m.item(iid).choices:
                out[c.code] = dict(c.label)
        except KeyError:
            continue
    return out


# ------------------------------------------------------------ labels


def breakdown_title(lang: str, by: str) -> str:
    """Human name of a breakdown."""
    names = {"neighbourhood": N_("Neighbourhood"), "centre": N_("Centre"), "age_band": N_("Age band"),
             "gender": N_("Gender"), "lang": N_("Language"), "period": N_("Period")}
    return _t(lang, names[by]) if by in names else by


def category_label(release: Release, by: str, cat: str, lang: str) -> str:
    """Label of a breakdown category."""
    if cat == REFUSED:
        return _t(lang, "Prefer not to answer")
    if cat == MISSING:
        return _t(lang, "Not stated")
    if by in release.breakdowns and release.breakdowns[by] == "lang":
        return i18n.native_name(cat)
    labels = release.breakdown_labels.get(by, {}).get(cat)
    if labels:
        return labels.get(lang) or labels.get("en") or cat
    return cat


def answer_label(module: Module | None, item_id: str, code: str, lang: str) -> str:
    """Label of an answer code or state of an item."""
    special = {REFUSED: N_("Prefer not to answer"), SKIPPED: N_("Skipped (not asked)"),
               NOT_REACHED: N_("Not reached"), NONE: N_("None of these"), "_seen": N_("Saw the question")}
    if code in special:
        return _t(lang, special[code])
    if code.startswith("!"):
        return _t(lang, "Not selected")
    if module is None:
        return code
    try:
        item = module.item(item_id)
    except KeyError:
        return code
    for c in item.choices:
        if c.code == code:
            return c.label.get(lang) or c.label.get("en") or code
    return code


def class_label(score: ScoreDef, class_id: str, lang: str) -> str:
    """Label of a score class (band, band split at the cut-off, or screen result)."""
    if class_id == NOT_COMPUTABLE:
        return _t(lang, "Not computable (item missing or refused)")
    if class_id == "_scored":
        return _t(lang, "Scored")
    if class_id == scores.NEGATIVE:
        return _t(lang, "Below the cut-off")
    if class_id == scores.POSITIVE:
        return _t(lang, "At or above the cut-off")
    base, _, split = class_id.partition("|")
    if base == scores.BELOW:
        name = _t(lang, "Below the first band")
    else:
        name = title_of(score.band_text.get(base, {}), lang, base)
    if split == "below":
        return name + " (" + _t(lang, "below the cut-off") + ")"
    if split == "above":
        return name + " (" + _t(lang, "at or above the cut-off") + ")"
    return name


def item_title(module: Module | None, item_id: str, lang: str) -> str:
    """Question text of an item."""
    if module is None:
        return item_id
    try:
        it = module.item(item_id)
    except KeyError:
        return item_id
    return it.text.get(lang) or it.text.get("en") or item_id


def title_of(texts: Mapping[str, str], lang: str, default: str) -> str:
    """Text in ``lang`` or English or ``default``."""
    return texts.get(lang) or texts.get("en") or default


# ------------------------------------------------------------ formatting


class Fmt:
    """Locale formatting of published figures (babel)."""

    def __init__(self, lang: str, k: int) -> None:
        self.lang = lang if i18n.babel_locale(lang) else "en"
        self.k = k
        self.hidden = disclosure.suppressed_label(k)
        # A report formats tens of thousands of figures, most of them
        # repeated; babel takes ~0.1 ms for each.
        self._counts: dict[int, str] = {}
        self._numbers: dict[tuple[float, int], str] = {}

    def n(self, value: int | None | Figure) -> str:
        """A count; ``< k`` when hidden as a small count, ``[c]`` when a
        :class:`Figure` is withheld by a rule on groups."""
        if isinstance(value, Figure):
            if value.withheld:
                return disclosure.WITHHELD_LABEL
            value = value.n
        if value is None:
            return self.hidden
        text = self._counts.get(value)
        if text is None:
            text = self._counts[value] = format_decimal(value, locale=self.lang)
        return text

    def pct(self, value: float | None) -> str:
        """A percentage (0-100) with one decimal, ``–`` when not publishable."""
        if value is None:
            return "–"
        key = (value, -1)
        text = self._numbers.get(key)
        if text is None:
            text = self._numbers[key] = i18n.format_percent(value / 100, self.lang)  # one formatter for all
        return text

    def num(self, value: float | None, digits: int = 1) -> str:
        """A decimal number."""
        if value is None:
            return "–"
        key = (value, digits)
        text = self._numbers.get(key)
        if text is None:
            text = self._numbers[key] = format_decimal(value, locale=self.lang, format="#,##0." + "0" * digits)
        return text

    def ci(self, lo: float | None, hi: float | None, digits: int = 1) -> str:
        """An interval ``[lo – hi]``."""
        if lo is None or hi is None:
            return ""
        return f"[{self.num(lo, digits)} – {self.num(hi, digits)}]"


# ------------------------------------------------------------ HTML

CSS = """
body{font-family:system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;max-width:100%}
th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:end}
td+td{white-space:nowrap}
th:first-child,td:first-child{text-align:start}
caption{text-align:start;font-weight:600;padding:.3rem 0}
.note{color:#555;font-size:.9rem}
svg{display:block;margin:.3rem 0 1rem;max-width:100%;height:auto}
svg text{font:11px system-ui,sans-serif;fill:#222}
svg.dots text{font-size:10px}
h3{font-size:1.05rem;margin-top:2rem}
h4{font-size:.95rem;margin:1.2rem 0 .3rem}
.title-page dl{display:grid;grid-template-columns:max-content 1fr;gap:.4rem 1.5rem;font-size:1.1rem}
.title-page dt{font-weight:600}
.title-page dd{margin:0}
figure.compare{margin:0 0 1.2rem}
.pair{display:flex;flex-wrap:wrap;gap:0 1.5rem;align-items:flex-start}
.pair>table{flex:none}
.pair>svg{flex:0 1 auto;min-width:0}
.blocks{display:flex;flex-wrap:wrap;gap:0 1.5rem;align-items:flex-start}
.block{max-width:100%}
figure.compare figcaption{font-weight:600;margin:.3rem 0}
@page{size:A4;margin:15mm 12mm}
@media print{
  body{max-width:none;margin:0;padding:0;font-size:9.5pt}
  .title-page{break-after:page;min-height:60vh}
  nav.toc{break-after:page}
  section.part>h2{break-before:page}
  h2,h3,h4,caption,figcaption{break-after:avoid}
  table,figure.compare,svg{break-inside:avoid}
  figure.compare{margin:0 0 .4rem}
  figure.compare .note{font-size:7.5pt;margin:.1rem 0}
  table{font-size:7.5pt;width:auto;max-width:100%;margin:.2rem 0 .5rem}
  h3{margin-top:.8rem}
  h4{margin:.5rem 0 .2rem}
  caption{padding:.1rem 0}
  th,td{padding:.05rem .3rem}
  td:first-child,th:first-child{overflow-wrap:anywhere}
  thead{display:table-header-group}
  a{color:inherit;text-decoration:none}
}
"""


def _e(text: object) -> str:
    return html.escape(str(text))


def _table_html(data_item: str, caption: str | None, header: list[str] | None, body: list[list[str]],
                footer: list[str] | None = None) -> str:
    parts = [f'<table data-item="{_e(data_item)}">']
    if caption:
        parts.append(f"<caption>{_e(caption)}</caption>")
    if header:
        # In <thead>, repeated on every printed page the table runs over.
        parts.append("<thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr></thead>")
    parts.append("<tbody>")
    for row in body:
        parts.append("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>")
    if footer:
        parts.append("<tr>" + "".join(f"<th>{_e(c)}</th>" for c in footer) + "</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def _pair(table: str, chart: str) -> str:
    """A table and its chart side by side (one above the other when narrow)."""
    return f'<div class="pair">{table}{chart}</div>'


def bar_chart(data_item: str, bars: list[tuple[str, Figure]], fmt: Fmt) -> str:
    """Horizontal bar chart (inline SVG) of published percentages with their
    95 % intervals, drawn beside the table that gives the figures; a hidden
    figure gets no bar, only its mark. Its title (and ``aria-label``) is
    the text alternative: every figure it draws."""
    label_w, bar_w, row_h = 160, 200, 16
    height = row_h * len(bars) + 6
    width = label_w + bar_w + 12
    alt = "; ".join(f"{label} {fmt.pct(f.pct)} {fmt.ci(f.lo, f.hi)}".strip() if f.pct is not None
                    else f"{label} {fmt.n(f)}" for label, f in bars)
    out = [f'<svg data-chart="{_e(data_item)}" xmlns="http://www.w3.org/2000/svg" width="{width}" '
           f'height="{height}" role="img" aria-label="{_e(alt)}" viewBox="0 0 {width} {height}">'
           f"<title>{_e(alt)}</title>"]
    out.append(f'<path d="M{label_w} 2V{height - 2}" stroke="#999"/>')
    for i, (label, f) in enumerate(bars):
        y = 3 + i * row_h
        short = label if len(label) <= 26 else label[:25] + "…"
        out.append(f'<text x="{label_w - 5}" y="{y + 11}" text-anchor="end">{_e(short)}</text>')
        if f.pct is None:
            text = fmt.n(f) if f.n is None or f.withheld else "–"
            out.append(f'<text x="{label_w + 4}" y="{y + 11}">{_e(text)}</text>')
            continue
        w = bar_w * f.pct / 100
        out.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" fill="#4a78a8"/>')
        if f.lo is not None and f.hi is not None:
            x1, x2 = label_w + bar_w * f.lo / 100, label_w + bar_w * f.hi / 100
            cy = y + row_h / 2 + 1
            out.append(f'<path d="M{x1:.1f} {cy}H{x2:.1f}M{x1:.1f} {cy - 3}V{cy + 3}M{x2:.1f} {cy - 3}V{cy + 3}" '
                       'stroke="#222" stroke-width="1"/>')
    out.append("</svg>")
    return "".join(out)


def _method(lang: str, k: int) -> str:
    lines = [
        _t(lang, "Responses made in test mode are excluded. Answers are pooled only across versions of a "
                 "questionnaire module with the same identifier and major version."),
        _t(lang, "Percentages of a question are computed over the persons who saw it: those who answered "
                 "or chose “Prefer not to answer”. Questions skipped by the questionnaire’s logic and "
                 "questions not reached by persons who left the survey early are counted apart."),
        _t(lang, "95% confidence intervals: Wilson score interval for percentages. Means are rounded to one "
                 "decimal and given without interval."),
        _t(lang, "A score is computed only when every one of its items was answered; it is never imputed. "
               "Prevalence above a cut-off describes a screening result, not a diagnosis."),
        legend(lang, k) + " " + _t(lang, "The noise is at most 2 either way, and the same persons always get "
                                         "the same noise in every table and every release: tables may not add "
                                         "up exactly."),
    ]
    return "".join(f"<p class=\"note\">{_e(x)}</p>" for x in lines)


def legend(lang: str, k: int) -> str:
    """The reading key of published figures (report and dashboard)."""
    return _t(lang, "Counts carry a small random noise (cell key method). “< {k}” marks a count below {k}; "
                    "“[c]” marks the figures of a group withheld (too small, or all its answers the same)."
              ).format(k=k)


def render_html(release: Release, lang: str = "fr", appendix: str = "territory") -> str:
    """The report as one self-contained HTML string: title page, contents,
    key indicators, participation, themes in the survey's order,
    comparisons, the detailed tables (appendix) and the methods."""
    _T_CACHE.clear()
    k = release.k
    fmt = Fmt(lang, k)
    title = _t(lang, "Community health diagnostic")
    modules = _ordered_modules(release)
    sections: list[tuple[str, str, str]] = [
        ("summary", _t(lang, "Key indicators"), _summary_html(release, lang, fmt)),
        ("participation", _t(lang, "Participation"), _participation_html(release, lang, fmt)),
    ]
    for m_id, major, module in modules:
        scored = _scored_items(module)
        body = "".join(_item_html(release, module, major, it, lang, fmt) for it in module.items
                       if it.id not in scored)
        if scored:
            # The questions of a scale are read through its score here; their
            # answers are in the appendix.
            where_answers = _t(lang, "The answers to each question of the scale are in the appendix.")
            body += f'<p class="note">{_e(where_answers)}</p>'
        body += "".join(_score_html(release, module, major, sc, lang, fmt) for sc in module.scores)
        if body:
            sections.append((f"theme-{_anchor(m_id, major)}", title_of(module.title, lang, m_id),
                             body))
    comparisons = _comparisons_html(release, lang, fmt)
    if comparisons:
        sections.append(("comparisons", _t(lang, "Comparisons"), comparisons))
    bys = _appendix_bys(release, appendix)
    appendix_html = _dropoff_html(release, lang, fmt) + "".join(
        _appendix_module_html(release, module, major, lang, fmt, bys) for _, major, module in modules)
    if appendix_html:
        sections.append(("appendix", _t(lang, "Appendix: detailed tables"), appendix_html))
    sections.append(("methods", _t(lang, "Methods"), _methods_html(release, modules, lang, k)))
    toc = "".join(f'<li><a href="#{a}">{_e(h)}</a></li>' for a, h, _ in sections)
    contents = _t(lang, "Contents")
    parts = [f"<!doctype html><html lang=\"{_e(lang)}\" dir=\"{i18n.direction(lang)}\"><head>"
             f"<meta charset=\"utf-8\"><title>{_e(title)}</title>"
             f"<style>{CSS}</style></head><body>",
             _title_page_html(release, lang, fmt, title),
             f'<nav class="toc" id="contents"><h2>{_e(contents)}</h2><ol>{toc}</ol></nav>']
    for anchor, heading, body in sections:
        # On paper a theme follows the previous one; other sections start a page.
        kind = "theme" if anchor.startswith("theme-") else "part"
        parts.append(f'<section id="{anchor}" class="{kind}"><h2>{_e(heading)}</h2>{body}</section>')
    parts.append("</body></html>")
    return "\n".join(p for p in parts if p)


def _anchor(m_id: str, major: int) -> str:
    return m_id if major == 1 else f"{m_id}-{major}"


def _ordered_modules(release: Release) -> list[tuple[str, int, Module]]:
    """Modules with published views, in the survey's order (then by id)."""
    rank = {m: i for i, m in enumerate(release.module_order)}
    out = [(m_id, major, m) for (m_id, major), m in release.modules.items() if release.for_module(m_id, major)]
    return sorted(out, key=lambda t: (rank.get(t[0], len(rank)), t[0], t[1]))


def period_bounds(period: str) -> tuple[dt.date, dt.date] | None:
    """First and last day of a period code (``2026-W05``, ``2026-03``,
    ``2026-Q2``, ``2026``); None for anything else."""
    try:
        if "-W" in period:
            year, week = map(int, period.split("-W"))
            first = dt.date.fromisocalendar(int(year), int(week), 1)
            return first, first + dt.timedelta(days=6)
        if "-Q" in period:
            year, q = map(int, period.split("-Q"))
            first = dt.date(int(year), 3 * int(q) - 2, 1)
            nxt = dt.date(int(year) + (int(q) == 4), 1 if int(q) == 4 else 3 * int(q) + 1, 1)
            return first, nxt - dt.timedelta(days=1)
        if len(period) == 7 and period[4] == "-":
            year, month = int(period[:4]), int(period[5:])
            first = dt.date(year, month, 1)
            nxt = dt.date(year + (month == 12), 1 if month == 12 else month + 1, 1)
            return first, nxt - dt.timedelta(days=1)
        if len(period) == 4:
            return dt.date(int(period), 1, 1), dt.date(int(period), 12, 31)
    except ValueError:
        return None
    return None


def _title_page_html(release: Release, lang: str, fmt: Fmt, title: str) -> str:
    v = release.views["participation"]
    rows: list[tuple[str, str]] = []
    if release.centres:
        rows.append((_t(lang, "Centres"), ", ".join(release.centres)))
    if release.surveys:
        names = []
        for key in release.surveys:
            sid, _, version = key.partition("@")
            name = title_of(release.survey_titles.get(key, {}), lang, sid)
            names.append(f"{name} ({sid} {version})" if name != sid else f"{sid} {version}")
        rows.append((_t(lang, "Surveys and versions"), "; ".join(names)))
    if release.periods is not None:
        first, last = period_bounds(release.periods[0]), period_bounds(release.periods[1])
        if first and last:
            covered = _t(lang, "from {start} to {end}").format(
                start=format_date(first[0], "long", locale=fmt.lang), end=format_date(last[1], "long", locale=fmt.lang))
        else:
            covered = f"{release.periods[0]} – {release.periods[1]}"
        rows.append((_t(lang, "Period covered"), covered))
    rows.append((_t(lang, "Respondents"), fmt.n(v.total)))
    rows.append((_t(lang, "Produced on"), format_date(dt.date.today(), "long", locale=fmt.lang)))
    facts = "".join(f"<dt>{_e(a)}</dt><dd>{_e(b)}</dd>" for a, b in rows)
    return (f'<header class="title-page" id="title"><h1>{_e(title)}</h1><dl>{facts}</dl>'
            f'<p class="note">{_e(legend(lang, release.k))}</p></header>')


# ------------------------------------------------------- key indicators


def _score_def(release: Release, module: str, score: str) -> tuple[int, Module, ScoreDef] | None:
    for (m_id, major), m in sorted(release.modules.items()):
        if m_id == module:
            for sc in m.scores:
                if sc.id == score:
                    return major, m, sc
    return None


def _score_base(score_id: str) -> str:
    """``total`` for ``total`` and for a per-version ``total@1.0.0``."""
    return score_id.split("@", 1)[0]


def _variant(ind: Indicator, score_id: str) -> Indicator:
    """``ind`` read from ``score_id`` (itself, or one version's score)."""
    if score_id == ind.score:
        return ind
    version = score_id.split("@", 1)[1]
    return dataclasses.replace(ind, id=f"{ind.id}@{version}", score=score_id)


def key_indicators(release: Release) -> list[tuple[Indicator, str]]:
    """The key indicators with the suffix of their label: a score not
    pooled across versions gives one indicator per version, its label
    suffixed with the module version and the centres that used it."""
    out: list[tuple[Indicator, str]] = []
    for ind in KEY_INDICATORS:
        split = next((u for u in release.unpooled_scores
                      if ind.score is not None and u["module"] == ind.module and u["score"] == ind.score), None)
        if split is None:
            out.append((ind, ""))
            continue
        for per in split["versions"]:
            tag = f"{ind.module} {per['version']}" + (f": {', '.join(per['sites'])}" if per["sites"] else "")
            out.append((_variant(ind, f"{ind.score}@{per['version']}"), f" ({tag})"))
    return out


def indicator_figures(release: Release, ind: Indicator) -> tuple[Figure, dict[str, dict[str, Figure]]] | None:
    """The published share of a key indicator, overall and per breakdown
    category (``{by: {category: figure}}``); None when its module is absent.
    Every figure is a published one, or a share of published figures."""
    if ind.item is not None or ind.classes:
        base = release.views.get(f"indicator.{ind.id}")
        if base is None:
            return None
        per: dict[str, dict[str, Figure]] = {}
        for by in release.breakdowns:
            bv = release.views.get(f"indicator.{ind.id}.by.{by}")
            if bv is not None:
                per[by] = {c: bv.cells[(scores.POSITIVE, c)] for c in bv.cols}
        return base.cells[(scores.POSITIVE, "")], per
    found = _score_def(release, ind.module, ind.score or "")
    if found is None:
        return None
    major, _, sc = found
    vid = _view_id(ind.module, major, sc.id, "score.")
    v, screen = release.views.get(vid), release.views.get(f"{vid}.screen")
    src = screen or v
    if src is None or "" not in src.prevalence:
        return None
    overall = src.prevalence[""]
    per = {}
    for by in release.breakdowns:
        bv = release.views.get(f"{vid}.by.{by}")
        if bv is not None and bv.prevalence:
            per[by] = dict(bv.prevalence)
    return overall, per


def _summary_html(release: Release, lang: str, fmt: Fmt) -> str:
    body: list[list[str]] = []
    part = release.views["participation"]
    rate = part.prevalence.get("", Figure(None))
    body.append([_t(lang, "Respondents"), fmt.n(part.total), "", ""])
    body.append([_t(lang, "Completion rate (complete among started)"), fmt.n(part.cells[("complete", "")]),
                 fmt.pct(rate.pct), fmt.ci(rate.lo, rate.hi)])
    for ind, suffix in key_indicators(release):
        figs = indicator_figures(release, ind)
        if figs is None:
            continue
        f = figs[0]
        body.append([_t(lang, ind.label) + suffix, fmt.n(f), fmt.pct(f.pct), fmt.ci(f.lo, f.hi)])
        if ind.id == "forgone":
            reasons = _top_options(release, "forgoing_care", "reasons", lang, 3)
            if reasons:
                body.append(["    " + _t(lang, "Main reasons") + ": " + "; ".join(
                    f"{label} {fmt.pct(f.pct)}" for label, f in reasons), "", "", ""])
    header = [_t(lang, "Indicator"), _t(lang, "Persons"), "%", _t(lang, "95% CI")]
    note = _t(lang, "Shares of the persons who answered the question (or whose score could be computed); "
                    "screening results, not diagnoses.")
    return _table_html("summary", None, header, body) + f'<p class="note">{_e(note)}</p>'


def _top_options(release: Release, m_id: str, item_id: str, lang: str, n: int) -> list[tuple[str, Figure]]:
    """The ``n`` most frequent published options of a multiple-choice item."""
    for (mid, major), m in sorted(release.modules.items()):
        if mid != m_id:
            continue
        try:
            it = m.item(item_id)
        except KeyError:
            return []
        base = _view_id(m_id, major, item_id)
        found = []
        for c in it.choices:
            v = release.views.get(f"{base}#{c.code}")
            if v is not None and v.cells[(c.code, "")].pct is not None:
                found.append((answer_label(m, item_id, c.code, lang), v.cells[(c.code, "")]))
        return sorted(found, key=lambda t: -(t[1].pct or 0))[:n]
    return []


# ---------------------------------------------------------- comparisons

COMPARED = ("centre", "neighbourhood", "age_band", "gender", "period")


def dot_chart(data_item: str, title: str, groups: list[tuple[str, list[tuple[str, Figure]]]], fmt: Fmt) -> str:
    """Dot-and-whisker chart (inline SVG): under each group heading, each
    category's published share as a dot with its 95 % interval, then the
    share, interval and published count as text; a hidden share shows its
    mark instead. The SVG's title (and ``aria-label``) is its text
    alternative: every figure it shows."""
    label_w, plot_w, row_h, right = 230, 240, 12, 180
    n_rows = sum(1 + len(points) for _, points in groups)
    height = row_h * n_rows + 24
    width = label_w + plot_w + right

    def text_of(f: Figure) -> str:
        if f.pct is None:
            return fmt.n(f)
        return f"{fmt.pct(f.pct)} {fmt.ci(f.lo, f.hi)} · {fmt.n(f)}"

    alt = title + ". " + " ".join(
        f"{heading}: " + "; ".join(f"{label} {text_of(f)}" for label, f in points) + "."
        for heading, points in groups)
    out = [f'<svg data-chart="{_e(data_item)}" class="dots" xmlns="http://www.w3.org/2000/svg" role="img" '
           f'aria-label="{_e(alt)}" viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
           f"<title>{_e(alt)}</title>"]
    for tick in (0, 25, 50, 75, 100):
        x = label_w + plot_w * tick / 100
        out.append(f'<path d="M{x:.1f} 2V{height - 18}" stroke="#ddd"/>'
                   f'<text x="{x:.1f}" y="{height - 5}" text-anchor="middle">{tick} %</text>')
    i = 0
    for heading, points in groups:
        y = 2 + i * row_h
        out.append(f'<text x="4" y="{y + 10:.1f}" font-weight="bold">{_e(heading)}</text>')
        i += 1
        for label, f in points:
            cy = 2 + i * row_h + row_h / 2
            i += 1
            short = label if len(label) <= 36 else label[:35] + "…"
            out.append(f'<text x="{label_w - 6}" y="{cy + 3.5:.1f}" text-anchor="end">{_e(short)}</text>')
            if f.pct is not None:
                if f.lo is not None and f.hi is not None:
                    x1, x2 = label_w + plot_w * f.lo / 100, label_w + plot_w * f.hi / 100
                    out.append(f'<path d="M{x1:.1f} {cy:.1f}H{x2:.1f}M{x1:.1f} {cy - 4:.1f}V{cy + 4:.1f}'
                               f'M{x2:.1f} {cy - 4:.1f}V{cy + 4:.1f}" stroke="#222"/>')
                out.append(f'<circle cx="{label_w + plot_w * f.pct / 100:.1f}" cy="{cy:.1f}" r="3" '
                           'fill="#1f5f99"/>')
            out.append(f'<text x="{label_w + plot_w + 6}" y="{cy + 3.5:.1f}">{_e(text_of(f))}</text>')
    out.append("</svg>")
    return "".join(out)


def _comparisons_html(release: Release, lang: str, fmt: Fmt) -> str:
    """Each key indicator by centre, neighbourhood, age band, gender and
    period: one dot-and-whisker chart per indicator."""
    out: list[str] = []
    for ind, suffix in key_indicators(release):
        figs = indicator_figures(release, ind)
        if figs is None:
            continue
        overall, per = figs
        groups = [(_t(lang, "All respondents"), [(_t(lang, "All respondents"), overall)])]
        hidden: list[str] = []
        unstandardised: list[str] = []
        for by in COMPARED:
            if by in per and by in release.breakdowns:
                points, unshown = [], []
                for c, f in per[by].items():
                    label = category_label(release, by, c, lang)
                    # Groups without a published share are named once under
                    # the chart, not drawn as empty rows.
                    if f.pct is None:
                        unshown.append(f"{label} ({fmt.n(f)})")
                    else:
                        points.append((label, f))
                if unshown:
                    hidden.append(f"{breakdown_title(lang, by)}: {', '.join(unshown)}")
                if points:
                    groups.append((breakdown_title(lang, by), points))
                std = release.standardised.get(ind.id, {}).get(by, {})
                shown = {c for c, f in per[by].items() if f.pct is not None}
                std_points = [(category_label(release, by, c, lang), f) for c, f in std.items()
                              if f.pct is not None]
                if std_points:
                    std_suffix = _t(lang, "standardised on age and sex")
                    groups.append((f"{breakdown_title(lang, by)} — {std_suffix}", std_points))
                missed = [category_label(release, by, c, lang) for c, f in std.items()
                          if f.pct is None and c in shown]
                if std and missed:
                    unstandardised.append(f"{breakdown_title(lang, by)}: {', '.join(missed)}")
        if len(groups) < 2:
            continue
        name = _t(lang, ind.label) + suffix
        note = ""
        if hidden:
            lead = _t(lang, "Groups without a published share")
            note = f'<p class="note">{_e(lead)}: {_e("; ".join(hidden))}</p>'
        if unstandardised:
            lead = _t(lang, "Not standardised on age and sex (an age and sex group has no respondent, or too few persons)")
            note += f'<p class="note">{_e(lead)}: {_e("; ".join(unstandardised))}</p>'
        out.append(f'<figure class="compare" id="compare-{ind.id}"><figcaption>{_e(name)}</figcaption>'
                   + dot_chart(f"compare.{ind.id}", name, groups, fmt) + note + "</figure>")
    if out:
        note = _t(lang, "Dot: share of the group; line: its 95% confidence interval; then the share, the "
                        "interval and the number of persons concerned.")
        out.insert(0, f'<p class="note">{_e(note)}</p>')
    return "".join(out)


APPENDIX = ("territory", "all")
"""What the appendix's cross-tabs are by: ``territory`` (the default: the
centres when there are several, else the neighbourhoods; a report that
prints to a few dozen pages) or ``all`` (every breakdown)."""

def _appendix_bys(release: Release, appendix: str = "territory") -> list[str]:
    """The breakdowns of the appendix's cross-tabs (see :data:`APPENDIX`).
    The key indicators are compared on every breakdown in the comparisons;
    every cross-tab of every breakdown is also in ``analysis export``."""
    if appendix == "all":
        return list(release.breakdowns)
    for by in ("centre", "neighbourhood"):
        if by in release.breakdowns and any(v.by == by for v in release.views.values()):
            return [by]
    return []


def _appendix_module_html(release: Release, module: Module, major: int, lang: str, fmt: Fmt,
                          bys: Sequence[str]) -> str:
    """A module's detailed tables: who saw each question, and every
    cross-tab of its items and scores by the breakdowns."""
    body = _status_table_html(release, module, major, lang, fmt)
    body += "".join(_item_details_html(release, module, major, it, lang, fmt, bys) for it in module.items)
    body += "".join(_score_details_html(release, module, major, sc, lang, fmt, bys) for sc in module.scores)
    if not body:
        return ""
    return (f'<section class="appendix-module" id="appendix-{_anchor(module.id, major)}">'
            f"<h3>{_e(title_of(module.title, lang, module.id))}</h3><div class=\"blocks\">{body}</div></section>")


def _methods_html(release: Release, modules: list[tuple[str, int, Module]], lang: str, k: int) -> str:
    out = [_method(lang, k)]
    if release.standardised:
        text = _t(lang, "Age- and sex-standardised shares (comparisons by centre and by neighbourhood): direct "
                        "standardisation to the population by age band and sex of {source}. Women and men with a "
                        "stated age band are counted; other answers to gender, and no answer to age or gender, "
                        "are left out of these figures. {level} confidence interval by the gamma method of Fay and "
                        "Feuer (1997). Computed from the perturbed counts of each age and sex group; given only "
                        "for a group whose crude share is published and that has at least {k} persons concerned "
                        "and {k} not concerned.").format(source=release.standard_source, k=k, level="95%")
        out.append(f'<p class="note" id="standardisation">{_e(text)}</p>')
        if release.standard_dropped:
            text = _t(lang, "Age and sex groups without any respondent, left out of the reference population: "
                            "{groups}.").format(groups=", ".join(_stratum_label(release, b, s_, lang)
                                                                 for b, s_ in release.standard_dropped))
            out.append(f'<p class="note">{_e(text)}</p>')
    refs = []
    for m_id, major, module in modules:
        if module.scores or module.source:
            refs.append(f"<li><strong>{_e(title_of(module.title, lang, m_id))}</strong>: {_e(module.source)}"
                        + (f" ({_e(module.license)})" if module.license else "") + "</li>")
    if refs:
        heading = _t(lang, "Sources and scoring references")
        out.append(f"<h3>{_e(heading)}</h3><ul class=\"note\">{''.join(refs)}</ul>")
    pooled = []
    for m_id, major, module in modules:
        text = _pooled_html(release, m_id, major, lang)
        if text:
            pooled.append(text.replace('<p class="note pooled">',
                                       f'<p class="note pooled"><strong>{_e(title_of(module.title, lang, m_id))}</strong> — ', 1))
    if pooled:
        heading = _t(lang, "Definitions pooled")
        out.append(f"<h3>{_e(heading)}</h3>" + "".join(pooled))
    unpooled = [_unpooled_text(u, lang) for u in release.unpooled_scores]
    if unpooled:
        heading = _t(lang, "Scores not pooled across versions")
        out.append(f"<h3>{_e(heading)}</h3>"
                   + "".join(f'<p class="note unpooled">{_e(t)}</p>' for t in unpooled))
    return "".join(out)


def unpooled_versions(u: dict) -> str:
    """``epices 1.0.0 (SAINT-DENIS), epices 1.1.0 (MARSEILLE)``: the versions
    of a score reported apart, with the centres that used each."""
    return ", ".join(f"{u['module']} {p['version']}" + (f" ({', '.join(p['sites'])})" if p["sites"] else "")
                     for p in u["versions"])


def _unpooled_text(u: dict, lang: str) -> str:
    """The methods' sentence saying that a score was reported per version."""
    return _t(lang, "{score}: reported separately for {versions}, not pooled: the answer codes or the "
                    "points of its items differ between these versions.").format(
        score=title_of(u["label"], lang, u["score"]), versions=unpooled_versions(u))


def _stratum_label(release: Release, band: str, sex: str, lang: str) -> str:
    """An age-sex group of the reference population, in words: "Woman, 18 to 24"."""
    found = [m for (m_id, _), m in sorted(release.modules.items()) if m_id == "demographics"]
    module = found[-1] if found else None
    return f"{answer_label(module, 'gender', sex, lang)}, {answer_label(module, 'age_band', band, lang)}"


def _pooled_html(release: Release, m_id: str, major: int, lang: str) -> str:
    """Which definitions (version, hash, sites) this module's figures pool."""
    rows = [r for r in release.pooled if r["module"] == m_id and r["major"] == major]
    if not rows:
        return ""
    items = "; ".join(f"{r['version']} (hash {r['hash']}): {', '.join(r['sites'])}" for r in rows)
    heading = _t(lang, "Definitions pooled")
    return f"<p class=\"note pooled\">{_e(heading)}: {_e(items)}</p>"


def _status_label(lang: str, s: str) -> str:
    return {"complete": _t(lang, "Complete"), "partial": _t(lang, "Partial"),
            "declined": _t(lang, "Declined at consent")}[s]


def _participation_html(release: Release, lang: str, fmt: Fmt) -> str:
    v = release.views["participation"]
    out = ["<h2>" + _e(_t(lang, "Participation")) + "</h2>"]
    body = [[_status_label(lang, s), fmt.n(v.cells[(s, '')])] for s in STATUSES]
    out.append(_table_html("participation", None, None, body, [_t(lang, "Total"), fmt.n(v.total)]))
    rate = v.prevalence.get("")
    out.append(_table_html("participation.completion", None, None,
                           [[_t(lang, "Completion rate (complete among started)"),
                             fmt.pct(rate.pct if rate else None), fmt.ci(rate.lo if rate else None,
                                                                          rate.hi if rate else None)]]))
    return "".join(out)


def _dropoff_html(release: Release, lang: str, fmt: Fmt) -> str:
    """Where partial responses stopped (appendix)."""
    out: list[str] = []
    dv = release.views.get("participation.dropoff")
    if dv is not None:
        body = []
        for row in dv.rows:
            f = dv.cells[(row, "")]
            body.append([_question_label(release, row, lang), fmt.n(f), fmt.pct(f.pct)])
        out.append(_table_html(dv.id, _t(lang, "Partial responses: last question answered before leaving"),
                               [_t(lang, "Question"), _t(lang, "Persons"), "%"], body,
                               [_t(lang, "Total"), fmt.n(dv.total), ""]))
    return "".join(out)


def _question_label(release: Release, row: str, lang: str) -> str:
    if row == NO_ANSWER:
        return _t(lang, "Left before answering any question")
    mid, _, iid = row.partition(".")
    for (m_id, _), m in release.modules.items():
        if m_id == mid:
            return item_title(m, iid, lang)
    return row


def _scored_items(module: Module) -> set[str]:
    """Items of a module that its scores add up."""
    return {i for sc in module.scores for i in sc.items}


def _item_html(release: Release, module: Module, major: int, it: Item, lang: str, fmt: Fmt,
               chart: bool = True) -> str:
    base = f"{module.id}.{it.id}" if major == 1 else f"{module.id}@{major}.{it.id}"
    title = item_title(module, it.id, lang)
    out: list[str] = []
    if types.get(it.type).multi:
        options = [c.code for c in it.choices] + [NONE]
        views = [release.views.get(f"{base}#{o}") for o in options]
        if not any(views):
            return ""
        out.append(f"<h3>{_e(title)}</h3>")
        body, bars = [], []
        for o, v in zip(options, views):
            if v is None:
                continue
            f = v.cells[(o, "")]
            label = answer_label(module, it.id, o, lang)
            body.append([label, fmt.n(f), fmt.pct(f.pct), fmt.ci(f.lo, f.hi)])
            bars.append((label, f))
        seen = next(v for v in views if v is not None).total
        out.append(_table_html(base, _t(lang, "Several answers possible: percentages of those who saw the "
                                              "question"),
                               [_t(lang, "Answer"), _t(lang, "Persons"), "%", _t(lang, "95% CI")], body,
                               [_t(lang, "Saw the question"), fmt.n(seen), "", ""]))
        if chart:
            out.append(bar_chart(base, bars, fmt))
            out[-2:] = [_pair(out[-2], out[-1])]
    else:
        v = release.views.get(base)
        if v is None:
            return ""
        out.append(f"<h3>{_e(title)}</h3>")
        body, bars = [], []
        for row in v.rows:
            f = v.cells[(row, "")]
            label = answer_label(module, it.id, row, lang)
            body.append([label, fmt.n(f), fmt.pct(f.pct)])
            bars.append((label, f))
        out.append(_table_html(base, None, [_t(lang, "Answer"), _t(lang, "Persons"), "%"], body,
                               [_t(lang, "Total"), fmt.n(v.total), ""]))
        if chart:
            out.append(bar_chart(base, bars, fmt))
            out[-2:] = [_pair(out[-2], out[-1])]
    return "".join(out)


def _item_details_html(release: Release, module: Module, major: int, it: Item, lang: str, fmt: Fmt,
                       bys: Sequence[str]) -> str:
    """An item's cross-tabs by the breakdowns ``bys`` (appendix); a
    multiple-choice item in one table: each option's persons (and their
    share of those who saw the question) per column."""
    base = f"{module.id}.{it.id}" if major == 1 else f"{module.id}@{major}.{it.id}"
    title = item_title(module, it.id, lang)
    out: list[str] = []
    for by in bys:
        if types.get(it.type).multi:
            options = [c.code for c in it.choices] + [NONE]
            views = [(o, release.views.get(f"{base}#{o}.by.{by}")) for o in options]
            views = [(o, v) for o, v in views if v is not None]
            if not views:
                continue
            first = views[0][1]
            assert first is not None
            header = [_t(lang, "Answer"), *(category_label(release, by, c, lang) for c in first.cols),
                      _t(lang, "Total")]
            body = []
            for o, v in views:
                assert v is not None
                cells = []
                for col in v.cols:
                    f = v.cells[(o, col)]
                    cells.append(fmt.n(f) + (f" ({fmt.pct(f.pct)})" if f.pct is not None else ""))
                body.append([answer_label(module, it.id, o, lang), *cells, fmt.n(v.row_totals[o])])
            footer = [_t(lang, "Saw the question"), *(fmt.n(first.col_totals[c]) for c in first.cols),
                      fmt.n(first.total)]
            out.append(_split_table(f"{base}.by.{by}", breakdown_title(lang, by), header, body, footer))
        else:
            cv = release.views.get(f"{base}.by.{by}")
            if cv is None:
                continue
            header = [_t(lang, "Answer"), *(category_label(release, by, c, lang) for c in cv.cols),
                      _t(lang, "Total")]
            body = _crosstab_rows(cv, lambda row: answer_label(module, it.id, row, lang), fmt)
            footer = [_t(lang, "Total"), *(fmt.n(cv.col_totals[c]) for c in cv.cols), fmt.n(cv.total)]
            out.append(_split_table(cv.id, breakdown_title(lang, by), header, body, footer))
    if not out:
        if it.id not in _scored_items(module):
            return ""
        # A question of a scale without a cross-tab: its answers here (the
        # themes show the scale's score only).
        one = _item_html(release, module, major, it, lang, fmt, chart=False)
        return f'<div class="block">{one.replace("<h3>", "<h4>").replace("</h3>", "</h4>")}</div>' if one else ""
    return f'<div class="block"><h4>{_e(title)}</h4>' + "".join(out) + "</div>"


def _status_table_html(release: Release, module: Module, major: int, lang: str, fmt: Fmt) -> str:
    """Who saw each question of a module: one line per question (appendix)."""
    body = []
    for it in module.items:
        base = f"{module.id}.{it.id}" if major == 1 else f"{module.id}@{major}.{it.id}"
        status = release.views.get(f"{base}.status")
        if status is None:
            continue
        body.append([item_title(module, it.id, lang), *(fmt.n(status.cells[(r, "")]) for r in status.rows),
                     fmt.n(status.total)])
    if not body:
        return ""
    header = [_t(lang, "Question"), _t(lang, "Saw the question"), _t(lang, "Skipped (not asked)"),
              _t(lang, "Not reached"), _t(lang, "Total")]
    table_id = f"{module.id}.status" if major == 1 else f"{module.id}@{major}.status"
    return _table_html(table_id, _t(lang, "Who saw the question"), header, body)


MAX_COLUMNS = 6
"""Categories per printed cross-tab: a wider breakdown (neighbourhoods of
several centres) is split into tables of this many columns, each with the
row labels, so that no table is wider than an A4 page."""


def _split_table(data_item: str, caption: str, header: list[str], body: list[list[str]],
                 footer: list[str] | None = None) -> str:
    """A cross-tab (label column, categories, total column) as one table, or
    as several of at most :data:`MAX_COLUMNS` categories (``data-item`` of
    the parts: ``ID``, ``ID~2``, ...; the total column in the last)."""
    n = len(header) - 2
    if n <= MAX_COLUMNS:
        return _table_html(data_item, caption, header, body, footer)
    parts = []
    starts = list(range(1, n + 1, MAX_COLUMNS))
    for i, start in enumerate(starts):
        stop = min(start + MAX_COLUMNS, n + 1)
        last = i == len(starts) - 1
        cols = [0, *range(start, stop), *([n + 1] if last else [])]
        part_id = data_item if i == 0 else f"{data_item}~{i + 1}"
        parts.append(_table_html(part_id, f"{caption} ({i + 1}/{len(starts)})", [header[c] for c in cols],
                                 [[row[c] for c in cols] for row in body],
                                 [footer[c] for c in cols] if footer else None))
    return "".join(parts)


def _crosstab_rows(view: View, label: Callable[[str], str], fmt: Fmt) -> list[list[str]]:
    """Body rows of a cross-tab: the row label, each cell as "n (pct)", the row total."""
    body = []
    for row in view.rows:
        cells = []
        for col in view.cols:
            f = view.cells[(row, col)]
            cells.append(fmt.n(f) + (f" ({fmt.pct(f.pct)})" if f.pct is not None else ""))
        body.append([label(row), *cells, fmt.n(view.row_totals[row])])
    return body


def _binary(sc: ScoreDef) -> bool:
    """A score that is a yes/no flag (any of its items, or a 0-1 range):
    its mean would only repeat its prevalence."""
    return bool(sc.any_of) or (sc.minimum == 0 and sc.maximum == 1)


def _shown_classes(sc: ScoreDef, rows: Sequence[str]) -> list[str]:
    """Classes to show: no "below the first band" row when the first band
    starts at the lowest possible score (that row is always empty)."""
    if sc.bands and sc.minimum is not None and sc.bands[0][0] <= sc.minimum + scores.EPS:
        return [r for r in rows if r != scores.BELOW]
    return list(rows)


def _score_html(release: Release, module: Module, major: int, sc: ScoreDef, lang: str, fmt: Fmt) -> str:
    base = _view_id(module.id, major, sc.id, "score.")
    status = release.views.get(f"{base}.status")
    if status is None:
        return ""
    v = release.views.get(base)
    name = title_of(sc.label, lang, sc.id)
    out = [f"<h3>{_e(name)}</h3>"]
    if v is not None:
        body, bars = [], []
        for row in _shown_classes(sc, v.rows):
            f = v.cells[(row, "")]
            label = class_label(sc, row, lang)
            body.append([label, fmt.n(f), fmt.pct(f.pct), fmt.ci(f.lo, f.hi)])
            bars.append((label, f))
        out.append(_table_html(base, None, [_t(lang, "Class"), _t(lang, "Persons"), "%", _t(lang, "95% CI")], body,
                               [_t(lang, "Scored"), fmt.n(v.total), "", ""]))
        out.append(bar_chart(base, bars, fmt))
        out[-2:] = [_pair(out[-2], out[-1])]
    mean = status.means.get("", Mean(None))
    screen = release.views.get(f"{base}.screen")
    prev = (screen or v).prevalence.get("") if (screen or v) is not None else None  # type: ignore[union-attr]
    summary = [] if _binary(sc) else [[_t(lang, "Mean"), fmt.num(mean.mean, 2), fmt.ci(mean.lo, mean.hi, 2)]]
    if sc.positive_at is not None and prev is not None and not _binary(sc):
        summary.append([_t(lang, "At or above the cut-off") + f" ({fmt.num(sc.positive_at, 2)})",
                        fmt.pct(prev.pct if prev else None),
                        fmt.ci(prev.lo if prev else None, prev.hi if prev else None)])
    if summary:
        out.append(_table_html(f"{base}.summary", None, None, summary))
    return "".join(out)


def _score_details_html(release: Release, module: Module, major: int, sc: ScoreDef, lang: str, fmt: Fmt,
                        bys: Sequence[str]) -> str:
    """Who could be scored, and the score by the breakdowns (appendix)."""
    base = _view_id(module.id, major, sc.id, "score.")
    status = release.views.get(f"{base}.status")
    if status is None:
        return ""
    v = release.views.get(base)
    name = title_of(sc.label, lang, sc.id)
    out = ['<div class="block"><h4>' + _e(_t(lang, "Score")) + f": {_e(name)}</h4>"]
    body = [[class_label(sc, r, lang), fmt.n(status.cells[(r, "")])] for r in status.rows]
    out.append(_table_html(f"{base}.status", None, None, body, [_t(lang, "Total"), fmt.n(status.total)]))
    mean = status.means.get("", Mean(None))
    screen = release.views.get(f"{base}.screen")
    prev = (screen or v).prevalence.get("") if (screen or v) is not None else None  # type: ignore[union-attr]
    for by in bys:
        bv = release.views.get(f"{base}.by.{by}")
        if bv is None:
            continue
        header = [_t(lang, "Class"), *(category_label(release, by, c, lang) for c in bv.cols), _t(lang, "Total")]
        shown = View(bv.id, bv.kind, rows=_shown_classes(sc, bv.rows), cols=bv.cols, cells=bv.cells,
                     row_totals=bv.row_totals)
        body = _crosstab_rows(shown, lambda row: class_label(sc, row, lang), fmt)
        body.append([_t(lang, "Scored"), *(fmt.n(bv.col_totals[c]) for c in bv.cols), fmt.n(bv.total)])
        if not _binary(sc):
            body.append([_t(lang, "Mean"), *(fmt.num(bv.means[c].mean, 2) for c in bv.cols),
                         fmt.num(mean.mean, 2)])
        if bv.prevalence and not (_binary(sc) and set(bv.rows) == {scores.NEGATIVE, scores.POSITIVE}):
            body.append([_t(lang, "At or above the cut-off"),
                         *(f"{fmt.pct(bv.prevalence[c].pct)} {fmt.ci(bv.prevalence[c].lo, bv.prevalence[c].hi)}"
                           .strip() for c in bv.cols), fmt.pct(prev.pct if prev else None)])
        out.append(_split_table(bv.id, f"{name} — {breakdown_title(lang, by)}", header, body))
    out.append("</div>")
    return "".join(out)


class ReportError(KioskError):
    """A report that cannot be made as asked (checked before any work)."""

    code = "RPT-001"


PERIODS = ("week", "month", "quarter", "year")
"""Granularities of the period breakdown (``--period``)."""


def check_request(data_dir: str | Path, lang: str, breakdowns: Mapping[str, str] | None = None,
                  where: Mapping[str, Sequence[str]] | None = None, period: str = "quarter") -> None:
    """Refuse at once a report that cannot be made: a missing or empty
    dataset, an unsupported language, an unknown period or ``--where``
    breakdown (``RPT-0xx``)."""
    bds = dict(tables.DEFAULT_BREAKDOWNS if breakdowns is None else breakdowns)
    if lang not in i18n.shipped_languages():
        raise ReportError(f"--lang {lang!r} is not supported; use one of {', '.join(i18n.shipped_languages())} "
                          "(a language needs its catalog in locales/)", code="RPT-003")
    if period not in PERIODS:
        raise ReportError(f"--period {period!r}: use one of {', '.join(PERIODS)}", code="RPT-004")
    for name in (where or {}):
        if name not in bds:
            raise ReportError(f"--where {name}=...: {name!r} is not a breakdown; use one of {', '.join(bds)}",
                              code="RPT-001")
    if not (Path(data_dir) / "responses").is_dir():
        raise ReportError(f"--data {str(data_dir)!r} holds no dataset (no responses/ folder); give the folder "
                          "'analysis ingest --data' wrote", code="RPT-005")


RESPONSE_SOURCES = ("centre", "lang", "period")
"""Response columns a breakdown may read (any other source is a ``module.item``)."""


def check_breakdowns(breakdowns: Mapping[str, str] | None, questionnaire_dirs: Sequence[str | Path],
                     data_dir: str | Path | None = None) -> None:
    """Refuse at once a breakdown whose source is neither a response column
    nor a single-choice question of the questionnaires (or of the dataset's
    own survey definitions): ``RPT-006``, listing the valid sources."""
    if not breakdowns:
        return
    from analysis.ingest import dataset_surveys

    modules = list(module_index(questionnaire_dirs).values())
    if data_dir is not None:
        try:
            modules += [m for sv in dataset_surveys(data_dir).values() for m in sv.modules]
        except (KioskError, OSError, ValueError, KeyError):
            pass  # an unreadable definition is reported by the report itself
    valid = sorted({f"{m.id}.{it.id}" for m in modules for it in m.items if it.type in ("single", "scale")})
    for name, source in breakdowns.items():
        if source in RESPONSE_SOURCES or source in valid:
            continue
        raise ReportError(f"--breakdown {name}={source}: {source!r} is not a breakdown source; use a response "
                          f"column ({', '.join(RESPONSE_SOURCES)}) or a single-choice question as module.item "
                          f"({', '.join(valid)})", code="RPT-006")


def find_browser() -> str | None:
    """A headless-capable Chromium on this machine (Debian's chromium), or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def print_pdf(html_file: str | Path, pdf: str | Path, browser: str) -> None:
    """Print the HTML report to an A4 PDF with headless Chromium (the page
    size comes from the report's print stylesheet)."""
    with tempfile.TemporaryDirectory() as profile:
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
               f"--user-data-dir={profile}", f"--print-to-pdf={Path(pdf).resolve()}",
               Path(html_file).resolve().as_uri()]
        done = subprocess.run(cmd, capture_output=True, timeout=300, check=False)
    if done.returncode != 0 or not Path(pdf).exists():
        raise ReportError(f"{browser} could not print {html_file} to PDF: "
                          f"{done.stderr.decode(errors='replace')[-300:]}; open the HTML file in a browser and "
                          "print it (A4, no headers and footers)", code="RPT-011")


def build_report(data_dir: str | Path, questionnaire_dirs: list[str | Path], lang: str = "fr",
                 k: int = disclosure.DEFAULT_K, breakdowns: Mapping[str, str] | None = None,
                 period: str = "quarter", where: Mapping[str, Sequence[str]] | None = None,
                 appendix: str = "territory", standard: standardise.StandardPopulation | None = None) -> str:
    """The whole report as an HTML string (``where``: only the responses in
    these breakdown categories, e.g. ``{"centre": ["MARSEILLE"]}``;
    ``standard``: the reference population of the standardised shares)."""
    return render_html(build_release(data_dir, questionnaire_dirs, k, breakdowns, None if period == "week"
                                     else period, where, standard=standard), lang, appendix)


def load_standard(path: str | Path | None, questionnaire_dirs: Sequence[str | Path]) -> standardise.StandardPopulation:
    """The reference population (the shipped one when ``path`` is None); a
    team's own file is checked against the age bands of the questionnaires'
    demographics module (``RPT-020``, ``RPT-021``): refused before any work."""
    std = standardise.load(standardise.DEFAULT_FILE if path is None else path)
    if path is None:
        return std  # the shipped census: used only where the survey's bands are its bands
    found = [m for (m_id, _), m in sorted(module_index(questionnaire_dirs).items(),
                                          key=lambda kv: (kv[0][0], _semver(kv[0][1]))) if m_id == "demographics"]
    if found and any(it.id == "age_band" for it in found[-1].items):
        standardise.check_bands(std, [c.code for c in found[-1].item("age_band").choices])
    return std


def write_report(data_dir: str | Path, out: str | Path, questionnaire_dirs: list[str | Path],
                 lang: str = "fr", k: int = disclosure.DEFAULT_K,
                 breakdowns: Mapping[str, str] | None = None, period: str = "quarter",
                 where: Mapping[str, Sequence[str]] | None = None, pdf: str | Path | None = None,
                 appendix: str = "territory", standard_population: str | Path | None = None) -> None:
    """Write the report file, a public release: checked against the earlier
    releases of the dataset and recorded in its ledger (:mod:`analysis.releases`).
    A report restricted by ``where`` is a release of its own (its responses
    are checked and recorded). With ``pdf``, also print it to that PDF.
    ``standard_population``: a reference population file of the team's own
    (default: the shipped census population)."""
    from analysis import releases

    check_request(data_dir, lang, breakdowns, where, period)
    check_breakdowns(breakdowns, questionnaire_dirs, data_dir)
    standard = load_standard(standard_population, questionnaire_dirs)
    browser = find_browser() if pdf is not None else None
    if pdf is not None and browser is None:
        raise ReportError("--pdf needs Chromium (Debian: apt install chromium), and none was found; write the "
                          "HTML report without --pdf, open it in a browser and print it to PDF (A4, no headers "
                          "and footers): its print stylesheet lays it out for paper", code="RPT-010")
    subset = None
    if where:
        bds = dict(tables.DEFAULT_BREAKDOWNS if breakdowns is None else breakdowns)
        subset = _apply_filters(scan_responses(data_dir), scan_answers(data_dir), bds,
                                None if period == "week" else period, where)
        if subset.select(pl.len()).collect().item() == 0:
            shown = ", ".join(f"{n}={','.join(v)}" for n, v in where.items())
            raise ReportError(f"--where {shown}: no response in the dataset matches; check the spelling of the "
                              "category (as the report names it)", code="RPT-002")
    covered = releases.check(data_dir, k, subset)
    Path(out).write_text(build_report(data_dir, questionnaire_dirs, lang, k, breakdowns, period, where,
                                      appendix, standard), encoding="utf-8")
    releases.record(data_dir, "report", "html", out, k, covered)
    if pdf is not None and browser is not None:
        print_pdf(out, pdf, browser)
