"""Reading a release: the key indicators (one per score version when a
score is not pooled) and their published shares, and the modules in the
survey's order. Shared by the HTML report, the exports and the dashboard.
"""

from __future__ import annotations

import dataclasses

from surveycore.questionnaire import Module, ScoreDef
from analysis import scores
from analysis.report.model import Figure, Indicator, KEY_INDICATORS, Release, ViewId


def _ordered_modules(release: Release) -> list[tuple[str, int, Module]]:
    """Modules with published views, in the survey's order (then by id)."""
    rank = {m: i for i, m in enumerate(release.module_order)}
    out = [(m_id, major, m) for (m_id, major), m in release.modules.items() if release.for_module(m_id, major)]
    return sorted(out, key=lambda t: (rank.get(t[0], len(rank)), t[0], t[1]))


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
        base = release.get(ViewId.indicator(ind.id))
        if base is None:
            return None
        per: dict[str, dict[str, Figure]] = {}
        for by in release.breakdowns:
            bv = release.get(ViewId.indicator(ind.id).per(by))
            if bv is not None:
                per[by] = {c: bv.cells[(scores.POSITIVE, c)] for c in bv.cols}
        return base.cells[(scores.POSITIVE, "")], per
    found = _score_def(release, ind.module, ind.score or "")
    if found is None:
        return None
    major, _, sc = found
    vid = ViewId.score(ind.module, major, sc.id)
    v, screen = release.get(vid), release.get(vid.screen())
    src = screen or v
    if src is None or "" not in src.prevalence:
        return None
    overall = src.prevalence[""]
    per = {}
    for by in release.breakdowns:
        bv = release.get(vid.per(by))
        if bv is not None and bv.prevalence:
            per[by] = dict(bv.prevalence)
    return overall, per
