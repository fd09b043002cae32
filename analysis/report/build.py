"""The builder: dataset -> :class:`~analysis.report.model.Release`.

Computes every table from the dataset (:mod:`analysis.tables`,
:mod:`analysis.scores`), protects every figure with
:mod:`analysis.disclosure` (the cell key method: the same persons give the
same published figure in every table; rules on small and homogeneous
groups) and returns a release that holds only published figures, never a
true count; then the age- and sex-standardised shares of the key indicators.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl

from surveycore import types
from surveycore.questionnaire import Module, ScoreDef
from analysis import disclosure, scores, standardise, tables
from analysis.disclosure import ZERO, Protection, Tally
from analysis import pooling
from analysis.ingest import module_index, scan_answers, scan_responses
from analysis.report.model import Figure, Indicator, KEY_INDICATORS, Release, View
from analysis.report.labels import _breakdown_labels
from analysis.report.query import _score_base, _variant, indicator_figures
from analysis.report.orders import _fallback_order, _semver, survey_orders
from analysis.report.tallies import _Builder
from analysis.report.publish import _views_of


def build_release(data_dir: str | Path, questionnaire_dirs: Sequence[str | Path],
                  k: int = disclosure.DEFAULT_K, breakdowns: Mapping[str, str] | None = None,
                  period: str | None = "quarter", filters: Mapping[str, Sequence[str]] | None = None,
                  protection: Protection | None = None,
                  standard: standardise.StandardPopulation | None = None,
                  standardised: bool = True,
                  withhold: Mapping[str, Mapping[str, str]] | None = None) -> Release:
    """Compute and gate every table of the diagnostic.

    ``breakdowns`` maps a breakdown name to a response column (centre,
    lang, period) or a single-choice ``module.item`` (default
    :data:`analysis.tables.DEFAULT_BREAKDOWNS`); ``period`` coarsens periods
    for breakdowns (``quarter`` by default: weeks make tables too sparse to
    publish). ``filters`` keeps only responses whose breakdown value is in
    the given list (the dashboard's filters), applied before any count.
    ``standard``: the reference population of the standardised shares
    (default: the shipped census population, :data:`analysis.standardise.DEFAULT_FILE`).
    ``withhold``: groups withheld as a whole, ``{breakdown: {category: the
    group it differs from by a handful}}`` (:func:`analysis.releases.check`).
    """
    responses = scan_responses(data_dir)
    # Answers are read with the definitions they were given with (the
    # dataset's own, by hash); site lists are labelled per site.
    answers = scan_answers(data_dir)
    pool = pooling.of_dataset(data_dir, questionnaire_dirs, responses, answers)
    answers = pool.relabel(answers, responses)
    release = release_from_frames(responses, answers, pool.index(module_index(questionnaire_dirs)),
                                  questionnaire_dirs, k, breakdowns, period, filters, protection, standard,
                                  standardised, withhold)
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
                        standardised: bool = True,
                        withhold: Mapping[str, Mapping[str, str]] | None = None) -> Release:
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
    for (m_id, major), m in sorted(modules.items()):
        mult = frozenset(it.id for it in m.items if types.get(it.type).multi)
        for sc in m.scores:
            score_specs.append((m_id, major, sc))
            extra.append((m_id, major, _score_query(sc, m_id, major, mult)))
    counts = tables.collect_counts(responses, answers, bds, multiple, order, period, extra,
                                   partitions=list(versions))
    score_frames: dict[tuple[str, int, str], dict] = {}
    for (m_id, major, sc), frame in zip(score_specs, counts.extra):
        score_frames[(m_id, major, sc.id)] = tables.marginals(frame, counts.cells, [None, *bds], ["class"],
                                                              ("n", "ks", "sum", "sumsq"))
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
    withhold = {by: dict(cats) for by, cats in (withhold or {}).items() if cats}
    shown: set[tuple[str, str]] = set()  # the groups a cross-tab would have shown
    for family in builder.families:
        published = [t.publish(protection) for t in family.tables]
        shown |= {(str(t.col_var), c) for t in published if t.col_var is not None for c in t.col_labels}
        if withhold:
            published = [disclosure.withhold_columns(t, list(withhold.get(str(t.col_var), ()))) for t in published]
            # As for small groups: a cross-tab with fewer than two groups
            # published tells nothing its 1-D table does not, but its
            # difference from it.
            if any(t.col_var is not None and sum(1 for c in range(len(t.col_labels)) if t.col_total(c) is not None) < 2
                   for t in published):
                continue
        for v in _views_of(family, published, protection):
            views[v.id] = v
    labels = {by: _breakdown_labels(bds[by], modules) for by in bds}
    release = Release(k, views, modules, bds, labels, versions,
                      {f"{m}.{i}": f"{m}.{i}" for (m, i) in order_labels}, protection)
    # The reader is told of the groups that a table would have shown (also
    # in the cross-tabs left out for want of two groups).
    release.withheld_groups = {by: {c: o for c, o in cats.items() if (by, c) in shown} for by, cats in withhold.items()}
    release.withheld_groups = {by: cats for by, cats in release.withheld_groups.items() if cats}
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
        if ind.item is not None and any(it.id == ind.item and types.get(it.type).code for it in m.items):
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
