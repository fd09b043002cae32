"""Which definitions are pooled, and how site lists are labelled.

The dataset keeps every survey definition it ingested, by hash
(``DATA/definitions/``, see :func:`analysis.ingest.keep_definitions`), and
each response names its survey hash. From these:

- answers on a site-supplied list (neighbourhoods) are labelled from the
  site's own definition, never from another site's or the module's
  placeholder list;
- the same code from two sites is two different places, unless the two sites
  declare the same list (identical codes and labels in every language: a
  city-wide list shared by several centres): codes of different lists are
  qualified by their centres (``floreal@SAINT-DENIS``) and labelled
  ``Floréal (SAINT-DENIS)``;
- items whose answer codes differ between versions of one major version are
  shown per version (``q1@1.0.0``, ``q1@1.1.0``), each with its own
  denominator;
- a score is pooled across versions only when every item it uses has the
  same answer codes and the score the same points and cut-offs in each
  version; otherwise it is computed per version (``total@1.0.0``) from that
  version's answers only;
- :func:`pooled_table` says, per module, which definitions (version, hash,
  sites) were pooled.

Rules are in ``docs/dataset.md``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import polars as pl

from surveycore.questionnaire import Choice, Module, ScoreDef, Survey, load_survey


@dataclass
class Pooling:
    """Definitions of a dataset, and the relabelling of its site lists."""

    surveys: dict[str, Survey] = field(default_factory=dict)          # by survey hash
    centres: dict[str, list[str]] = field(default_factory=dict)       # survey hash -> centres in the data
    modules: dict[tuple[str, str], Module] = field(default_factory=dict)   # (id, version) -> pooled module
    mapping: list[tuple[str, str, str, str, str]] = field(default_factory=list)  # hash, module, item, code, new
    # (module, major, item) whose answer codes differ between the versions
    # present: shown per version (item id ``item@version``), each with its
    # own denominator.
    split: set[tuple[str, int, str]] = field(default_factory=set)
    # Scores not pooled across the versions present (their items' codes or
    # their points differ): module, major, score id, label, and per version
    # the centres that used it. Each is reported as ``score@version``.
    unpooled_scores: list[dict[str, Any]] = field(default_factory=list)

    def index(self, base: Mapping[tuple[str, str], Module]) -> dict[tuple[str, str], Module]:
        """``base`` (modules of the questionnaire folders) overridden by the
        definitions the answers were given with."""
        return {**base, **self.modules}

    def relabel(self, answers: pl.LazyFrame, responses: pl.LazyFrame) -> pl.LazyFrame:
        """``answers`` with site-list codes qualified where two sites' lists
        differ (see the module docstring)."""
        answers = self._split_versions(answers)
        if not self.mapping:
            return answers
        columns = answers.collect_schema().names()
        pairs = sorted({(m, i) for _, m, i, _, _ in self.mapping})
        cond = pl.lit(False)
        for m, i in pairs:
            cond = cond | ((pl.col("module") == m) & (pl.col("item").cast(pl.String) == i))
        table = pl.DataFrame(self.mapping, schema={"survey_hash": pl.String, "module": pl.String, "_item": pl.String,
                                                   "_value": pl.String, "_new": pl.String}, orient="row").lazy()
        hashes = responses.select("rid", "survey_hash")
        schema = answers.collect_schema()
        touched = (answers.filter(cond).join(hashes, on="rid", how="left")
                   .with_columns(pl.col("item").cast(pl.String).alias("_item"),
                                 pl.col("value").cast(pl.String).alias("_value"))
                   .join(table, on=["survey_hash", "module", "_item", "_value"], how="left")
                   .with_columns(pl.coalesce("_new", "_value").cast(schema["value"]).alias("value"))
                   .select(columns))
        # Collected once: only the rows of site-list items, while the release
        # scans the answers many times.
        return pl.concat([answers.filter(~cond), touched.collect(engine="streaming").lazy()])


    def _split_versions(self, answers: pl.LazyFrame) -> pl.LazyFrame:
        """Answers of split items renamed ``item@version``."""
        if not self.split:
            return answers
        schema = answers.collect_schema()
        cond = pl.lit(False)
        for m, major, i in sorted(self.split):
            cond = cond | ((pl.col("module") == m) & (pl.col("major") == major)
                           & (pl.col("item").cast(pl.String) == i))
        touched = answers.filter(cond).with_columns(
            (pl.col("item").cast(pl.String) + "@" + pl.col("version").cast(pl.String)).cast(schema["item"])
            .alias("item"))
        return pl.concat([answers.filter(~cond), touched.collect(engine="streaming").lazy()])


def _answer_codes(module: Module, item_id: str) -> tuple | None:
    try:
        it = module.item(item_id)
    except KeyError:
        return None
    return (it.type, tuple(c.code for c in it.choices), it.minimum, it.maximum)


def _score_key(module: Module, score: ScoreDef) -> tuple:
    """What makes two versions' score one instrument: its computation (items,
    points, weights, intercept, multiplier, cut-offs, range) and the answer
    codes of every item it uses. Labels and question texts are left out: a
    reworded question keeps the score poolable."""
    return (tuple(score.items), tuple(sorted(score.values.items())),
            tuple(sorted((i, tuple(sorted(w.items()))) for i, w in score.weights.items())),
            score.intercept, score.multiplier, tuple(lo for lo, _ in score.bands), score.positive_at,
            tuple(sorted((i, tuple(c)) for i, c in score.any_of.items())), score.minimum, score.maximum,
            tuple(_answer_codes(module, i.split(".")[-1]) for i in dict.fromkeys([*score.items, *score.any_of])))


def _score_items(score: ScoreDef) -> set[str]:
    return {i.split(".")[-1] for i in [*score.items, *score.any_of]}


def _versioned_score(score: ScoreDef, version: str, tag: str) -> ScoreDef:
    """``score`` of one version, read from that version's items
    (``item@version``): id ``score@version``, label naming version and sites."""
    def ren(i: str) -> str:
        return f"{i}@{version}"
    return dataclasses.replace(
        score, id=f"{score.id}@{version}", items=tuple(ren(i) for i in score.items),
        weights={ren(i): dict(w) for i, w in score.weights.items()},
        any_of={ren(i): tuple(c) for i, c in score.any_of.items()},
        label={lang: f"{t} ({tag})" for lang, t in score.label.items()})


def _version_sites(pool: Pooling, m_id: str) -> dict[str, list[str]]:
    """Centres whose answers to module ``m_id`` were given with each version."""
    out: dict[str, set[str]] = {}
    for h, survey in pool.surveys.items():
        for m in survey.modules:
            if m.id == m_id:
                out.setdefault(m.version, set()).update(pool.centres.get(h) or [survey.site.centre])
    return {v: sorted(c) for v, c in out.items()}


def _split(pool: Pooling, modules: Mapping[tuple[str, str], Module], present: Iterable[tuple[str, int, str]]) -> None:
    """Items whose answer codes differ between the versions of one major
    version present in the data are shown per version: a choice offered only
    by 1.1.0 is never a percentage of people who answered 1.0.0. Site lists
    (handled by centre) are not split.

    A score is pooled across versions only when every version computes it
    the same way from items with the same answer codes (:func:`_score_key`);
    otherwise it is reported per version (``score@version``, read from the
    ``item@version`` answers of that version only) and listed in
    :attr:`Pooling.unpooled_scores`."""
    groups: dict[tuple[str, int], list[str]] = {}
    for m_id, major, version in present:
        if (m_id, version) in modules:
            groups.setdefault((m_id, major), []).append(version)
    for (m_id, major), versions in groups.items():
        if len(versions) < 2:
            continue
        versions.sort(key=lambda v: tuple(int(x) for x in v.split(".")))
        defs = {v: modules[(m_id, v)] for v in versions}
        latest = defs[versions[-1]]
        site = {it.id for h, s in pool.surveys.items() for m in s.modules if m.id == m_id for it in m.items
                if it.choice_list and it.choice_list in s.site.choices}
        ids = list(dict.fromkeys(it.id for v in versions for it in defs[v].items if it.is_question))
        # An item only some versions ask is pooled (its denominator is who saw it).
        split = {i for i in ids if i not in site
                 and len({_answer_codes(defs[v], i) for v in versions} - {None}) > 1}
        score_ids = list(dict.fromkeys(sc.id for v in versions for sc in defs[v].scores))

        def score_of(v: str, sid: str) -> ScoreDef | None:
            return next((sc for sc in defs[v].scores if sc.id == sid), None)

        def keys(sid: str) -> set:
            return {None if (sc := score_of(v, sid)) is None else _score_key(defs[v], sc) for v in versions}
        unpooled = {sid for sid in score_ids if len(keys(sid)) > 1}
        # A score read per version reads its items per version; a score
        # sharing one of those items then cannot be pooled either.
        while True:
            for sid in unpooled:
                split |= {i for v in versions if (sc := score_of(v, sid)) is not None
                          for i in _score_items(sc)}
            more = {sid for sid in score_ids if sid not in unpooled
                    and any(i in split for v in versions if (sc := score_of(v, sid)) is not None
                            for i in _score_items(sc))}
            if not more:
                break
            unpooled |= more
        if not split:
            continue
        items = []
        for it in latest.items:
            if it.id not in split:
                items.append(it)
                continue
            for v in versions:
                try:
                    old = defs[v].item(it.id)
                except KeyError:
                    continue
                items.append(dataclasses.replace(old, id=f"{it.id}@{v}",
                                                 text={lang: f"{t} ({m_id} {v})" for lang, t in old.text.items()}))
        # Items of older versions that the latest dropped keep their answers.
        for v in versions[:-1]:
            for it in defs[v].items:
                if it.id in split and all(x.id != it.id for x in latest.items) \
                        and all(x.id != f"{it.id}@{v}" for x in items):
                    items.append(dataclasses.replace(it, id=f"{it.id}@{v}",
                                                     text={lang: f"{t} ({m_id} {v})" for lang, t in it.text.items()}))
        sites = _version_sites(pool, m_id)
        scores_out: list[ScoreDef] = []
        for sid in score_ids:
            if sid not in unpooled:
                sc = score_of(versions[-1], sid)
                if sc is not None:
                    scores_out.append(sc)
                continue
            per = []
            for v in versions:
                sc = score_of(v, sid)
                if sc is None:
                    continue
                tag = f"{m_id} {v}" + (f": {', '.join(sites[v])}" if sites.get(v) else "")
                scores_out.append(_versioned_score(sc, v, tag))
                per.append({"version": v, "sites": sites.get(v, [])})
            label = (score_of(versions[-1], sid) or score_of(versions[0], sid)).label  # type: ignore[union-attr]
            pool.unpooled_scores.append({"module": m_id, "major": major, "score": sid, "label": dict(label),
                                         "versions": per})
        merged = dataclasses.replace(latest, items=tuple(items), scores=tuple(scores_out))
        for v in versions:
            pool.modules[(m_id, v)] = merged
        pool.split |= {(m_id, major, i) for i in split}


def _list_key(choices: Iterable[Choice]) -> tuple:
    return tuple((c.code, tuple(sorted(c.label.items()))) for c in choices)


def _site_items(survey: Survey, module: Module) -> list[str]:
    """Items of ``module`` whose list the survey's site supplies."""
    return [it.id for it in module.items if it.choice_list and it.choice_list in survey.site.choices]


def of_dataset(data_dir: str | Path, questionnaire_dirs: Iterable[str | Path], responses: pl.LazyFrame,
               answers: pl.LazyFrame | None = None) -> Pooling:
    """The pooling of a dataset: its own definitions by hash (and, for
    responses ingested from bundles without definitions, the surveys of the
    questionnaire folders whose hash they name); with ``answers``, items
    whose answer codes differ between versions are split per version."""
    from analysis.ingest import dataset_surveys, module_index
    questionnaire_dirs = list(questionnaire_dirs)
    pool = Pooling()
    in_data = (responses.select("survey_hash", "centre").unique().collect(engine="streaming"))
    for h, centre in in_data.iter_rows():
        if h is not None:
            pool.centres.setdefault(h, []).append(centre)
    for centres in pool.centres.values():
        centres.sort()
    try:
        pool.surveys = {h: s for h, s in dataset_surveys(data_dir).items() if h in pool.centres}
    except (OSError, ValueError, KeyError):
        pool.surveys = {}
    missing = set(pool.centres) - set(pool.surveys)
    if missing:
        for d in questionnaire_dirs:
            for f in sorted(Path(d).glob("*.yaml")):
                try:
                    if "\nsite:" not in "\n" + f.read_text(encoding="utf-8"):
                        continue
                    s = load_survey(f, [Path(x) for x in questionnaire_dirs])
                except Exception:  # noqa: BLE001 - a broken file is reported by 'kiosk check', not here
                    continue
                if s.hash in missing:
                    pool.surveys[s.hash] = s
    _merge(pool)
    if answers is not None:
        present = answers.select("module", "major", "version").unique().collect(engine="streaming")
        modules = {**module_index(questionnaire_dirs), **pool.modules}
        _split(pool, modules, [(m, int(j), str(v)) for m, j, v in present.iter_rows()])
    return pool


def _merge(pool: Pooling) -> None:
    """Pooled modules and the code mapping of site lists."""
    users: dict[tuple[str, str], list[tuple[str, Survey, Module]]] = {}
    for h, survey in sorted(pool.surveys.items()):
        for m in survey.modules:
            users.setdefault((m.id, m.version), []).append((h, survey, m))
    for key, uses in users.items():
        base = uses[0][2]
        items = {it.id: it for it in base.items}
        for item_id in sorted({i for h, s, m in uses for i in _site_items(s, m)}):
            groups: dict[tuple, list[tuple[str, Survey, Module]]] = {}
            for use in uses:
                groups.setdefault(_list_key(use[2].item(item_id).choices), []).append(use)
            if len(groups) == 1:
                items[item_id] = uses[0][2].item(item_id)
                continue
            merged: list[Choice] = []
            for group in groups.values():
                centres = sorted({c for h, s, _ in group for c in (pool.centres.get(h) or [s.site.centre])})
                tag = "+".join(centres)
                for c in group[0][2].item(item_id).choices:
                    new = f"{c.code}@{tag}"
                    merged.append(dataclasses.replace(c, code=new, label={lang: f"{text} ({', '.join(centres)})"
                                                                         for lang, text in c.label.items()}))
                    for h, _, _ in group:
                        pool.mapping.append((h, key[0], item_id, c.code, new))
            items[item_id] = dataclasses.replace(items[item_id], choices=tuple(merged))
        pool.modules[key] = dataclasses.replace(base, items=tuple(items[it.id] for it in base.items))


def pooled_table(pool: Pooling) -> list[dict[str, Any]]:
    """Per module and definition: id, version, hash, sites (centres) whose
    answers were pooled under that module id and major version."""
    rows: dict[tuple[str, str, str], set[str]] = {}
    for h, survey in pool.surveys.items():
        for m in survey.modules:
            rows.setdefault((m.id, m.version, m.hash), set()).update(pool.centres.get(h, [survey.site.centre]))
    return [{"module": m, "major": int(v.split(".")[0]), "version": v, "hash": hh, "sites": sorted(c)}
            for (m, v, hh), c in sorted(rows.items())]
