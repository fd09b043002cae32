"""The team dashboard: the diagnostic's protected tables, filtered, in Streamlit.

Separate from the kiosk (it reads the analysts' dataset). Filters (period,
centre, neighbourhood) select responses *before* counting, and the filtered
release is protected like the report: every number shown comes from
:class:`analysis.report.View`, so a hidden figure is shown as ``< k`` or
``[c]`` and never as a number. Started by ``analysis dashboard``, which passes the
dataset through environment variables.

Filtering lets a user compare two overlapping selections. Each selection
is protected like the report, but two selections that differ by a few
persons can be compared: the cell key method gives the same persons the same
figure, so the cells that differ point at the persons left out. The
dashboard is therefore for the diagnostic team only, never for publication: ``analysis dashboard`` refuses
any address but loopback, the page refuses to show anything when served
elsewhere, and it says so on screen.
"""

from __future__ import annotations

import ipaddress
import os
from functools import partial
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from surveycore import types
from analysis import disclosure, tables
from analysis.ingest import scan_answers, scan_responses
from surveycore.questionnaire import Module
from analysis.report import (
    NONE,
    NOT_COMPUTABLE,
    STATUSES,
    N_,
    Fmt,
    Release,
    View,
    ViewId,
    _binary,
    _ordered_modules,
    _shown_classes,
    _t,
    answer_label,
    breakdown_title,
    build_release,
    category_label,
    class_label,
    dot_chart,
    item_title,
    legend,
    title_of,
)

FILTERS = ("period", "centre", "neighbourhood")


def is_loopback(address: str | None) -> bool:
    """True for an address reachable from this computer only (127.0.0.0/8,
    ::1, ``localhost``); an empty address means every interface."""
    if not address:
        return False
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def filter_units(data_dir: str | Path, breakdowns: dict[str, str] | None = None,
                 period: str = "quarter") -> pl.DataFrame:
    """One row per counted response with its value of each filter."""
    bds = breakdowns or tables.DEFAULT_BREAKDOWNS
    responses = scan_responses(data_dir)
    answers = scan_answers(data_dir)
    key = tables.choose_key(responses)
    wanted = {name: bds[name] for name in FILTERS if name in bds}
    return tables.units(responses, answers, key, wanted, period).select(*wanted).collect(engine="streaming")


def filter_options(data_dir: str | Path | pl.DataFrame, breakdowns: dict[str, str] | None = None,
                   period: str = "quarter", k: int = disclosure.DEFAULT_K) -> dict[str, list[str]]:
    """Values offered by each filter: those of at least ``k`` counted
    responses (a smaller group selected alone, or left out of an otherwise
    whole selection, would be compared with the whole)."""
    u = data_dir if isinstance(data_dir, pl.DataFrame) else filter_units(data_dir, breakdowns, period)
    out = {}
    for name in u.columns:
        sizes = u.group_by(name).len()
        out[name] = sorted(v for v, n in sizes.iter_rows() if v is not None and n >= k)
    return out


def left_out(units: pl.DataFrame, chosen: Sequence[tuple[str, Sequence[str]]]) -> int:
    """How many counted responses a selection leaves out."""
    keep = pl.lit(True)
    for name, values in chosen:
        if values and name in units.columns:
            keep = keep & pl.col(name).is_in(list(values))
    return units.height - units.filter(keep).height


def _module(release: Release, view: View) -> Module | None:
    """The module a view is about (None for a view about no module)."""
    if view.module is None or view.major is None:
        return None
    return release.modules.get((view.module, view.major))


def frequency_frame(release: Release, view: View, lang: str) -> pl.DataFrame:
    """Display table (strings) of a single-choice item's frequencies."""
    fmt = Fmt(lang, release.k)
    module = _module(release, view)
    rows = []
    for row in view.rows:
        f = view.cells[(row, "")]
        rows.append({_t(lang, "Answer"): answer_label(module, view.item or "", row, lang), _t(lang, "Persons"): fmt.n(f),
                     "%": fmt.pct(f.pct), _t(lang, "95% CI"): fmt.ci(f.lo, f.hi)})
    rows.append({_t(lang, "Answer"): _t(lang, "Total"), _t(lang, "Persons"): fmt.n(view.total), "%": "",
                 _t(lang, "95% CI"): ""})
    return pl.DataFrame(rows)


def options_frame(release: Release, views: Sequence[View], lang: str) -> pl.DataFrame:
    """Display table of a multiple-choice item (one line per option)."""
    fmt = Fmt(lang, release.k)
    rows = []
    for v in views:
        module = _module(release, v)
        option = v.rows[0]
        f = v.cells[(option, "")]
        rows.append({_t(lang, "Answer"): answer_label(module, v.item or "", option, lang),
                     _t(lang, "Persons"): fmt.n(f), "%": fmt.pct(f.pct), _t(lang, "95% CI"): fmt.ci(f.lo, f.hi)})
    return pl.DataFrame(rows)


def crosstab_frame(release: Release, view: View, lang: str) -> pl.DataFrame:
    """Display table of a cross-tab (counts, column % of those who saw the
    item); of a score by a breakdown, its classes (then the share at or
    above the cut-off per column)."""
    fmt = Fmt(lang, release.k)
    module = _module(release, view)
    by = view.by or ""
    score = next((sc for sc in module.scores if sc.id == view.score), None) if module and view.score else None
    rows = []
    for row in view.rows:
        label = class_label(score, row, lang) if score is not None else answer_label(module, view.item or "", row,
                                                                                   lang)
        line = {_t(lang, "Answer"): label}
        for col in view.cols:
            f = view.cells[(row, col)]
            line[category_label(release, by, col, lang)] = fmt.n(f) + (f" ({fmt.pct(f.pct)})" if f.pct is not None else "")
        line[_t(lang, "Total")] = fmt.n(view.row_totals[row])
        rows.append(line)
    total = {_t(lang, "Answer"): _t(lang, "Total")}
    for col in view.cols:
        total[category_label(release, by, col, lang)] = fmt.n(view.col_totals[col])
    total[_t(lang, "Total")] = fmt.n(view.total)
    rows.append(total)
    if view.prevalence:
        share = {_t(lang, "Answer"): _t(lang, "Share at or above the cut-off")}
        for col in view.cols:
            at_cut = view.prevalence.get(col)
            share[category_label(release, by, col, lang)] = (
                f"{fmt.pct(at_cut.pct)} {fmt.ci(at_cut.lo, at_cut.hi)}".strip() if at_cut is not None else "–")
        share[_t(lang, "Total")] = ""
        rows.append(share)
    return pl.DataFrame(rows)


def score_frame(release: Release, view: View, lang: str) -> pl.DataFrame:
    """Display table of a score: classes, then mean and prevalence."""
    fmt = Fmt(lang, release.k)
    module = _module(release, view)
    assert module is not None, view  # a score view is always about a module
    sc = next(s for s in module.scores if s.id == view.score)
    rows = []
    for row in _shown_classes(sc, view.rows):
        f = view.cells[(row, "")]
        rows.append({_t(lang, "Class"): class_label(sc, row, lang), _t(lang, "Persons"): fmt.n(f),
                     "%": fmt.pct(f.pct) if row != NOT_COMPUTABLE else "", _t(lang, "95% CI"): fmt.ci(f.lo, f.hi)})
    m = view.means.get("")
    if not _binary(sc):  # the mean of a yes/no flag only repeats its share
        rows.append({_t(lang, "Class"): _t(lang, "Mean"), _t(lang, "Persons"): "",
                     "%": fmt.num(m.mean if m else None, 2), _t(lang, "95% CI"): fmt.ci(m.lo if m else None,
                                                                                        m.hi if m else None, 2)})
    p = view.prevalence.get("")
    if p is not None:
        rows.append({_t(lang, "Class"): _t(lang, "At or above the cut-off"), _t(lang, "Persons"): "",
                     "%": fmt.pct(p.pct), _t(lang, "95% CI"): fmt.ci(p.lo, p.hi)})
    return pl.DataFrame(rows)


def participation_frame(release: Release, lang: str) -> pl.DataFrame:
    """Display table of participation."""
    fmt = Fmt(lang, release.k)
    v = release[ViewId.participation()]
    names = {"complete": N_("Complete"), "partial": N_("Partial"), "declined": N_("Declined at consent")}
    rows = [{_t(lang, "Status"): _t(lang, names[s]), _t(lang, "Persons"): fmt.n(v.cells[(s, "")])} for s in STATUSES]
    rows.append({_t(lang, "Status"): _t(lang, "Total"), _t(lang, "Persons"): fmt.n(v.total)})
    rate = v.prevalence.get("")
    rows.append({_t(lang, "Status"): _t(lang, "Completion rate"),
                 _t(lang, "Persons"): f"{fmt.pct(rate.pct if rate else None)} {fmt.ci(rate.lo if rate else None, rate.hi if rate else None)}".strip()})
    return pl.DataFrame(rows)


def interval_chart(release: Release, view: View, lang: str, title: str, label_of) -> str:
    """The report's dot-and-whisker chart (inline SVG, its text alternative
    included) of a 1-D view's published shares with their 95 % intervals;
    empty when no share is published."""
    points = [(label_of(row), f) for row in view.rows
              if (f := view.cells.get((row, ""))) is not None and f.pct is not None]
    if not points:
        return ""
    return dot_chart(view.id, title, [(title, points)], Fmt(lang, release.k))


def arrow_table(frame: pl.DataFrame) -> Any:
    """A display table as an Arrow table of plain (32-bit offset) strings,
    for ``st.dataframe``: given a polars frame, Streamlit converts it to
    pandas first, and importing pandas alone took about a third of a second
    of the first page. The texts shown are the same."""
    import pyarrow as pa  # type: ignore[import-untyped]

    table = frame.to_arrow()
    return table.cast(pa.schema([f.with_type(pa.string()) if pa.types.is_large_string(f.type) else f
                                 for f in table.schema]))


def main() -> None:  # pragma: no cover - exercised through AppTest
    """The Streamlit page (run by analysis/dashboard_app.py)."""
    import streamlit as st

    data = os.environ.get("ANALYSIS_DATA", "")
    qdirs = tuple(p for p in os.environ.get("ANALYSIS_QUESTIONNAIRES", "").split(os.pathsep) if p)
    k = int(os.environ.get("ANALYSIS_K", str(disclosure.DEFAULT_K)))
    st.set_page_config(page_title="Diagnostic", layout="wide")

    def show(frame: pl.DataFrame) -> None:
        st.dataframe(arrow_table(frame), hide_index=True)

    # Every language with an interface catalog; the team's (``--lang``) first.
    from surveycore import i18n
    team = os.environ.get("ANALYSIS_LANG", "fr")
    languages = [team, *(x for x in i18n.shipped_languages() if x != team)] \
        if team in i18n.shipped_languages() else ["fr", *(x for x in i18n.shipped_languages() if x != "fr")]
    lang = st.sidebar.radio("Langue / Language", languages, key="lang", format_func=i18n.native_name)
    st.title(_t(lang, "Community health diagnostic"))
    address = st.get_option("server.address")
    if not is_loopback(address):
        st.error(_t(lang, "This dashboard is for the diagnostic team only and is served on this computer alone "
                          "(127.0.0.1). It is not shown on the address {address}: start it with 'analysis "
                          "dashboard', which binds it to loopback.").format(address=address or "*"))
        return
    st.info(_t(lang, "Team only: served on this computer alone (loopback), never on the network. Selections "
                     "can be compared with each other; publish figures only from the report or the exports."))
    if not data or not Path(data, "responses").is_dir():
        st.error(_t(lang, "No dataset: start the dashboard with 'analysis dashboard --data DIR'."))
        return

    # Cached in this process's memory only, keyed by the dataset's content
    # (the fingerprint of its responses, as the release ledger computes it):
    # a new ingest gives new tables, the same data never counts twice.
    @st.cache_resource(max_entries=16, show_spinner=False)
    def units_of(path: str, content: str) -> pl.DataFrame:
        return filter_units(path)

    @st.cache_resource(max_entries=32, show_spinner=False)
    def release_for(path: str, content: str, dirs: tuple[str, ...], k: int, chosen: tuple) -> Release:
        # The dashboard shows no standardised share: it does not compute them.
        return build_release(path, list(dirs), k, filters={name: list(values) for name, values in chosen},
                             standardised=False)

    from analysis.releases import coverage

    # The page is painted (title, notice) before this: the spinner says the
    # tables are being computed.
    with st.spinner(_t(lang, "Computing the protected tables…")):
        content = coverage(data).fingerprint
        units = units_of(data, content)
        opts = filter_options(units, k=k)
        probe = release_for(data, content, qdirs, k, ())
    titles = {"period": _t(lang, "Period"), "centre": _t(lang, "Centre"), "neighbourhood": _t(lang, "Neighbourhood")}
    chosen = []
    for name in FILTERS:
        if name not in opts:
            continue
        values = st.sidebar.multiselect(titles[name], opts[name], key=f"filter_{name}",
                                        placeholder=_t(lang, "All (no filter)"),
                                        format_func=partial(category_label, probe, name, lang=lang))
        chosen.append((name, tuple(values)))
    missing = left_out(units, chosen)
    if 0 < missing < k:
        # The whole minus a handful: compared with the whole, it shows them.
        st.warning(_t(lang, "This selection leaves out fewer than {k} responses: compared with the whole "
                            "data it would show their answers. Widen or narrow the selection.").format(k=k))
        return
    # Keyed by the filters that select something: with none, this is the
    # release computed above (an empty filter keeps every response), not a
    # second computation of the same tables.
    selected = tuple((name, values) for name, values in chosen if values)
    with st.spinner(_t(lang, "Computing the protected tables…")):
        release = release_for(data, content, qdirs, k, selected)
    st.caption(legend(lang, k))
    st.header(_t(lang, "Participation"))
    show(participation_frame(release, lang))
    by_names = list(release.breakdowns)
    by = st.selectbox(_t(lang, "Cross-tabulate by"), ["", *by_names], key="by",
                      format_func=lambda b: breakdown_title(lang, b) if b else "—")
    for m_id, major, module in _ordered_modules(release):  # the survey's order
        st.header(title_of(module.title, lang, m_id))
        for it in module.items:
            base = ViewId.item(m_id, major, it.id)
            if types.get(it.type).multi:
                views = [v for o in [*(c.code for c in it.choices), NONE]
                         if (v := release.get(base.with_option(o))) is not None]
                if not views:
                    continue
                st.subheader(item_title(module, it.id, lang))
                show(options_frame(release, views, lang))
                continue
            view = release.get(base)
            if view is None:
                continue
            st.subheader(item_title(module, it.id, lang))
            show(frequency_frame(release, view, lang))
            # The same dot-and-whisker chart as the report: share and 95 % interval.
            chart = interval_chart(release, view, lang, item_title(module, it.id, lang),
                                   lambda r, m=module, i=it.id: answer_label(m, i, r, lang))
            if chart:
                st.markdown(f'<div class="dashboard-chart">{chart}</div>', unsafe_allow_html=True)
            if by and (cv := release.get(base.per(by))) is not None:
                show(crosstab_frame(release, cv, lang))
        for sc in module.scores:
            sid = ViewId.score(m_id, major, sc.id)
            if (sv := release.get(sid)) is not None:
                st.subheader(_t(lang, "Score") + f": {title_of(sc.label, lang, sc.id)}")
                show(score_frame(release, sv, lang))
                chart = interval_chart(release, sv, lang, title_of(sc.label, lang, sc.id),
                                       lambda r, s=sc: class_label(s, r, lang))
                if chart:
                    st.markdown(f'<div class="dashboard-chart">{chart}</div>', unsafe_allow_html=True)
                # Scores are broken down like items.
                if by and (cv := release.get(sid.per(by))) is not None:
                    show(crosstab_frame(release, cv, lang))
