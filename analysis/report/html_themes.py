"""The themes of the HTML report: per question and per score, the main
table and chart, and their breakdowns in the appendix.
"""

from __future__ import annotations

from collections.abc import Sequence

from surveycore import types
from surveycore.questionnaire import Item, Module, ScoreDef
from analysis import scores
from analysis.tables import NONE
from analysis.report.model import Mean, Release, View, ViewId
from analysis.report.labels import Fmt, _t, answer_label, breakdown_title, category_label, class_label, item_title, title_of
from analysis.report.html_blocks import _anchor, _crosstab_rows, _e, _pair, _split_table, _table_html, bar_chart


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


def _scored_items(module: Module) -> set[str]:
    """Items of a module that its scores add up."""
    return {i for sc in module.scores for i in sc.items}


def _item_html(release: Release, module: Module, major: int, it: Item, lang: str, fmt: Fmt,
               chart: bool = True) -> str:
    base = ViewId.item(module.id, major, it.id)
    title = item_title(module, it.id, lang)
    out: list[str] = []
    if types.get(it.type).multi:
        options = [c.code for c in it.choices] + [NONE]
        views = [release.get(base.with_option(o)) for o in options]
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
        out.append(_table_html(base.key, _t(lang, "Several answers possible: percentages of those who saw the "
                                              "question"),
                               [_t(lang, "Answer"), _t(lang, "Persons"), "%", _t(lang, "95% CI")], body,
                               [_t(lang, "Saw the question"), fmt.n(seen), "", ""]))
        if chart:
            out.append(bar_chart(base.key, bars, fmt))
            out[-2:] = [_pair(out[-2], out[-1])]
    else:
        v = release.get(base)
        if v is None:
            return ""
        out.append(f"<h3>{_e(title)}</h3>")
        body, bars = [], []
        for row in v.rows:
            f = v.cells[(row, "")]
            label = answer_label(module, it.id, row, lang)
            body.append([label, fmt.n(f), fmt.pct(f.pct)])
            bars.append((label, f))
        out.append(_table_html(base.key, None, [_t(lang, "Answer"), _t(lang, "Persons"), "%"], body,
                               [_t(lang, "Total"), fmt.n(v.total), ""]))
        if chart:
            out.append(bar_chart(base.key, bars, fmt))
            out[-2:] = [_pair(out[-2], out[-1])]
    return "".join(out)


def _item_details_html(release: Release, module: Module, major: int, it: Item, lang: str, fmt: Fmt,
                       bys: Sequence[str]) -> str:
    """An item's cross-tabs by the breakdowns ``bys`` (appendix); a
    multiple-choice item in one table: each option's persons (and their
    share of those who saw the question) per column."""
    base = ViewId.item(module.id, major, it.id)
    title = item_title(module, it.id, lang)
    out: list[str] = []
    for by in bys:
        if types.get(it.type).multi:
            options = [c.code for c in it.choices] + [NONE]
            views = [(o, release.get(base.with_option(o).per(by))) for o in options]
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
            out.append(_split_table(base.per(by).key, breakdown_title(lang, by), header, body, footer))
        else:
            cv = release.get(base.per(by))
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
        base = ViewId.item(module.id, major, it.id)
        status = release.get(base.status())
        if status is None:
            continue
        body.append([item_title(module, it.id, lang), *(fmt.n(status.cells[(r, "")]) for r in status.rows),
                     fmt.n(status.total)])
    if not body:
        return ""
    header = [_t(lang, "Question"), _t(lang, "Saw the question"), _t(lang, "Skipped (not asked)"),
              _t(lang, "Not reached"), _t(lang, "Total")]
    table_id = ViewId.module_status(module.id, major).key
    return _table_html(table_id, _t(lang, "Who saw the question"), header, body)


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
    base = ViewId.score(module.id, major, sc.id)
    status = release.get(base.status())
    if status is None:
        return ""
    v = release.get(base)
    name = title_of(sc.label, lang, sc.id)
    out = [f"<h3>{_e(name)}</h3>"]
    if v is not None:
        body, bars = [], []
        for row in _shown_classes(sc, v.rows):
            f = v.cells[(row, "")]
            label = class_label(sc, row, lang)
            body.append([label, fmt.n(f), fmt.pct(f.pct), fmt.ci(f.lo, f.hi)])
            bars.append((label, f))
        out.append(_table_html(base.key, None, [_t(lang, "Class"), _t(lang, "Persons"), "%", _t(lang, "95% CI")], body,
                               [_t(lang, "Scored"), fmt.n(v.total), "", ""]))
        out.append(bar_chart(base.key, bars, fmt))
        out[-2:] = [_pair(out[-2], out[-1])]
    mean = status.means.get("", Mean(None))
    screen = release.get(base.screen())
    prev = (screen or v).prevalence.get("") if (screen or v) is not None else None  # type: ignore[union-attr]
    summary = [] if _binary(sc) else [[_t(lang, "Mean"), fmt.num(mean.mean, 2), fmt.ci(mean.lo, mean.hi, 2)]]
    if sc.positive_at is not None and prev is not None and not _binary(sc):
        summary.append([_t(lang, "At or above the cut-off") + f" ({fmt.num(sc.positive_at, 2)})",
                        fmt.pct(prev.pct if prev else None),
                        fmt.ci(prev.lo if prev else None, prev.hi if prev else None)])
    if summary:
        out.append(_table_html(base.with_part("summary").key, None, None, summary))
    return "".join(out)


def _score_details_html(release: Release, module: Module, major: int, sc: ScoreDef, lang: str, fmt: Fmt,
                        bys: Sequence[str]) -> str:
    """Who could be scored, and the score by the breakdowns (appendix)."""
    base = ViewId.score(module.id, major, sc.id)
    status = release.get(base.status())
    if status is None:
        return ""
    v = release.get(base)
    name = title_of(sc.label, lang, sc.id)
    out = ['<div class="block"><h4>' + _e(_t(lang, "Score")) + f": {_e(name)}</h4>"]
    body = [[class_label(sc, r, lang), fmt.n(status.cells[(r, "")])] for r in status.rows]
    out.append(_table_html(base.status().key, None, None, body, [_t(lang, "Total"), fmt.n(status.total)]))
    mean = status.means.get("", Mean(None))
    screen = release.get(base.screen())
    prev = (screen or v).prevalence.get("") if (screen or v) is not None else None  # type: ignore[union-attr]
    for by in bys:
        bv = release.get(base.per(by))
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
