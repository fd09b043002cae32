"""The release model: what a diagnostic publishes, already protected.

A :class:`Release` holds :class:`View` tables of published :class:`Figure`
cells (a hidden figure has ``n`` None; ``withheld`` when a rule on groups
hides it), published means, the key indicators and the standardised
comparisons. Every table is named by a :class:`ViewId`: the builder names
the tables it publishes with it and every renderer (the HTML report, the
exports, the team dashboard) finds them with it, never by spelling an id.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import polars as pl

from surveycore.i18n import N_
from surveycore.questionnaire import Module
from analysis.disclosure import Protection


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


@dataclass(frozen=True)
class ViewId:
    """The one identifier of a published table, shared by the builder and
    every renderer.

    ``subject`` is ``participation``, ``item``, ``score``, ``indicator`` or
    ``module`` (the appendix table of who saw each question);
    ``name`` the item, score or indicator id; ``option`` one option of a
    multiple-choice item (each option is a table of its own); ``part``
    ``status`` (who saw, skipped, refused), ``screen`` (a score's cut-off)
    or ``dropoff``; ``by`` the breakdown of a cross-table. :attr:`key` is
    the table's published name (the ``table`` column of the exports), e.g.
    ``mehm.general_health.by.centre``, ``score.phq9@2.total.screen``.
    """

    subject: str
    module: str | None = None
    major: int = 1
    name: str = ""
    option: str | None = None
    part: str | None = None
    by: str | None = None

    @classmethod
    def participation(cls) -> ViewId:
        """Complete, partial and declined responses."""
        return cls("participation")

    @classmethod
    def dropoff(cls) -> ViewId:
        """The last question answered by partial responses."""
        return cls("participation", part="dropoff")

    @classmethod
    def item(cls, module: str, major: int, item: str, option: str | None = None) -> ViewId:
        """The answers to one question (one ``option`` of a multiple-choice one)."""
        return cls("item", module, major, item, option)

    @classmethod
    def score(cls, module: str, major: int, score: str) -> ViewId:
        """The bands of one score."""
        return cls("score", module, major, score)

    @classmethod
    def indicator(cls, indicator: str) -> ViewId:
        """A key indicator with a table of its own."""
        return cls("indicator", name=indicator)

    @classmethod
    def module_status(cls, module: str, major: int) -> ViewId:
        """Who saw each question of a module (one table of the appendix)."""
        return cls("module", module, major, part="status")

    def with_part(self, part: str) -> ViewId:
        """A part of this table published (or rendered) as a table of its own."""
        return dataclasses.replace(self, part=part)

    def status(self) -> ViewId:
        """Who saw, skipped or refused the question (a score: who was scored)."""
        return dataclasses.replace(self, option=None, part="status")

    def screen(self) -> ViewId:
        """A score's share at or above its cut-off."""
        return self.with_part("screen")

    def per(self, by: str) -> ViewId:
        """This table broken down by the breakdown ``by``."""
        return dataclasses.replace(self, by=by)

    def with_option(self, option: str) -> ViewId:
        """One option's table of a multiple-choice question."""
        return dataclasses.replace(self, option=option)

    @property
    def key(self) -> str:
        """The table's published name."""
        if self.subject == "participation":
            out = "participation"
        elif self.subject == "indicator":
            out = f"indicator.{self.name}"
        elif self.subject == "module":
            assert self.module is not None  # a module's view names its module
            out = self.module if self.major == 1 else f"{self.module}@{self.major}"
        else:
            base = f"{self.module}.{self.name}" if self.major == 1 else f"{self.module}@{self.major}.{self.name}"
            out = ("score." if self.subject == "score" else "") + base
            if self.option is not None:
                out += f"#{self.option}"
        if self.part is not None:
            out += f".{self.part}"
        if self.by is not None:
            out += f".by.{self.by}"
        return out

    def __str__(self) -> str:
        return self.key


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
    # Groups withheld as a whole (breakdown -> category -> the published
    # group it differs from by fewer than k responses; analysis.releases).
    withheld_groups: dict[str, dict[str, str]] = field(default_factory=dict)

    def get(self, vid: ViewId) -> View | None:
        """The published table ``vid``, or None when it was not published."""
        return self.views.get(vid.key)

    def __getitem__(self, vid: ViewId) -> View:
        return self.views[vid.key]

    def for_module(self, module: str, major: int) -> list[View]:
        """Views of one pooled module, in questionnaire order."""
        return [v for v in self.views.values() if v.module == module and v.major == major]
