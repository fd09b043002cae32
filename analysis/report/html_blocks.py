"""Building blocks of the HTML report: the stylesheet, tables (split when
too wide), inline SVG charts, the legend of marks and the methods note.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from analysis.report.model import Figure, View
from analysis.report.labels import Fmt, _t


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


def _anchor(m_id: str, major: int) -> str:
    return m_id if major == 1 else f"{m_id}-{major}"


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
