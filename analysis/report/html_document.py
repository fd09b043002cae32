"""The HTML report: one self-contained file (no external script, font,
stylesheet or image; charts are inline SVG) rendered from a release:
title page, contents, key indicators, participation, themes, comparisons,
appendix and methods.
"""

from __future__ import annotations

import datetime as dt

from babel.dates import format_date

from surveycore import i18n
from surveycore.questionnaire import Module
from analysis.report.model import Figure, Release, STATUSES, ViewId
from analysis.report.labels import Fmt, _T_CACHE, _question_label, _status_label, _stratum_label, _t, _unpooled_text, answer_label, breakdown_title, category_label, period_bounds, title_of, withheld_groups_note
from analysis.report.query import _ordered_modules, indicator_figures, key_indicators
from analysis.report.html_blocks import CSS, _anchor, _e, _method, _table_html, dot_chart, legend
from analysis.report.html_themes import _appendix_module_html, _item_html, _score_html, _scored_items


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


def _title_page_html(release: Release, lang: str, fmt: Fmt, title: str) -> str:
    v = release[ViewId.participation()]
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


def _summary_html(release: Release, lang: str, fmt: Fmt) -> str:
    body: list[list[str]] = []
    part = release[ViewId.participation()]
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
        base = ViewId.item(m_id, major, item_id)
        found = []
        for c in it.choices:
            v = release.get(base.with_option(c.code))
            if v is not None and v.cells[(c.code, "")].pct is not None:
                found.append((answer_label(m, item_id, c.code, lang), v.cells[(c.code, "")]))
        return sorted(found, key=lambda t: -(t[1].pct or 0))[:n]
    return []


COMPARED = ("centre", "neighbourhood", "age_band", "gender", "period")


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
    withheld = withheld_groups_note(release, lang)
    if withheld:
        out.append(f'<p class="note" id="withheld-groups">{_e(withheld)}</p>')
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


def _pooled_html(release: Release, m_id: str, major: int, lang: str) -> str:
    """Which definitions (version, hash, sites) this module's figures pool."""
    rows = [r for r in release.pooled if r["module"] == m_id and r["major"] == major]
    if not rows:
        return ""
    items = "; ".join(f"{r['version']} (hash {r['hash']}): {', '.join(r['sites'])}" for r in rows)
    heading = _t(lang, "Definitions pooled")
    return f"<p class=\"note pooled\">{_e(heading)}: {_e(items)}</p>"


def _participation_html(release: Release, lang: str, fmt: Fmt) -> str:
    v = release[ViewId.participation()]
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
    dv = release.get(ViewId.dropoff())
    if dv is not None:
        body = []
        for row in dv.rows:
            f = dv.cells[(row, "")]
            body.append([_question_label(release, row, lang), fmt.n(f), fmt.pct(f.pct)])
        out.append(_table_html(dv.id, _t(lang, "Partial responses: last question answered before leaving"),
                               [_t(lang, "Question"), _t(lang, "Persons"), "%"], body,
                               [_t(lang, "Total"), fmt.n(dv.total), ""]))
    return "".join(out)
