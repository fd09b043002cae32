"""The diagnostic report: one self-contained, offline HTML file.

Every figure passes :mod:`analysis.disclosure`; suppressed cells read
``< k``. No external script, font, stylesheet or image is referenced.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

import polars as pl
from babel.numbers import format_decimal, format_percent

from kiosk import i18n
from kiosk.questionnaire import Module

from analysis import disclosure, tables
from analysis.ingest import module_index, scan_answers, scan_responses

CSS = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}
th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:end}
th:first-child,td:first-child{text-align:start}
caption{text-align:start;font-weight:600;padding:.3rem 0}
.note{color:#555;font-size:.9rem}
"""


def _t(lang: str, msgid: str) -> str:
    return i18n.translations(lang).gettext(msgid)


def _label(module: Module | None, item_id: str, code: str, lang: str) -> str:
    if code == "refused":
        return _t(lang, "Prefer not to answer")
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


def frequency_section(responses: pl.LazyFrame, answers: pl.LazyFrame, module: Module, item_id: str,
                      lang: str, k: int) -> str:
    """HTML table of one item's gated frequencies with percentages."""
    item = module.item(item_id)
    freq = tables.frequencies(responses, answers, module.id, item_id)
    codes = [c.code for c in item.choices] + ["refused"] if item.choices else freq["value"].to_list()
    counts = dict(zip(freq["value"].to_list(), freq["n"].to_list()))
    df = pl.DataFrame({"value": [str(c) for c in codes], "n": [int(counts.get(c, 0)) for c in codes]})
    gated = disclosure.gate_counts(df, row="value", col=None, count="n", k=k)
    total = gated.total()
    rows = []
    for r, code in enumerate(codes):
        n = gated.cell(r, 0)
        pct = disclosure.gate_percentage(n, total, k) if n is not None and total is not None else None
        rows.append((_label(module, item_id, str(code), lang),
                     format_decimal(n, locale=lang) if n is not None else disclosure.suppressed_label(k),
                     format_percent(pct / 100, locale=lang, format="#,##0.0%") if pct is not None else "–"))
    title = html.escape(item.text.get(lang) or item.text.get("en") or item_id)
    answer_label, persons_label, total_label = _t(lang, "Answer"), _t(lang, "Persons"), _t(lang, "Total")
    head = (f"<tr><th>{html.escape(answer_label)}</th><th>{html.escape(persons_label)}</th>"
            f"<th>%</th></tr>")
    body = "".join(f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td><td>{html.escape(c)}</td></tr>"
                   for a, b, c in rows)
    tot = format_decimal(total, locale=lang) if total is not None else disclosure.suppressed_label(k)
    body += f"<tr><th>{html.escape(total_label)}</th><th>{html.escape(tot)}</th><th></th></tr>"
    return (f'<table data-item="{html.escape(module.id)}.{html.escape(item_id)}"><caption>{title}</caption>'
            f"{head}{body}</table>")


def build_report(data_dir: str | Path, questionnaire_dirs: list[str | Path], lang: str = "fr",
                 k: int = disclosure.DEFAULT_K) -> str:
    """The whole report as an HTML string."""
    responses = scan_responses(data_dir)
    answers = scan_answers(data_dir)
    modules = module_index(questionnaire_dirs)
    present = (answers.select("module", "major", "version").unique().sort("module", "version")
               .collect(engine="streaming"))
    part = tables.participation(responses)
    title = html.escape(_t(lang, "Community health diagnostic"))
    produced = html.escape(_t(lang, "Produced on"))
    participation_title = html.escape(_t(lang, "Participation"))
    parts = [f"<!doctype html><html lang=\"{html.escape(lang)}\" dir=\"{i18n.direction(lang)}\"><head>"
             f"<meta charset=\"utf-8\"><title>{title}</title>"
             f"<style>{CSS}</style></head><body>",
             f"<h1>{title}</h1>",
             f"<p class=\"note\">{produced} {dt.date.today().isoformat()}. "
             + html.escape(_t(lang, "Counts from 1 to {k1} persons are not shown: “< {k}” marks a hidden "
                                    "figure, either such a small count or a larger one hidden so that the "
                                    "small ones cannot be recalculated from the totals.").format(k1=k - 1, k=k))
             + "</p>"]
    ptab = pl.DataFrame({"value": ["complete", "partial", "declined"],
                         "n": [part["complete"], part["partial"], part["declined"]]})
    pg = disclosure.gate_counts(ptab, row="value", col=None, count="n", k=k)
    labels = {"complete": _t(lang, "Complete"), "partial": _t(lang, "Partial"),
              "declined": _t(lang, "Declined at consent")}
    parts.append(f"<h2>{participation_title}</h2><table data-item=\"participation\">")
    for r, status in enumerate(["complete", "partial", "declined"]):
        n = pg.cell(r, 0)
        parts.append(f"<tr><td>{html.escape(labels[status])}</td><td>"
                     f"{format_decimal(n, locale=lang) if n is not None else disclosure.suppressed_label(k)}"
                     "</td></tr>")
    total = pg.total()
    total_label = html.escape(_t(lang, "Total"))
    parts.append(f"<tr><th>{total_label}</th><th>"
                 f"{format_decimal(total, locale=lang) if total is not None else disclosure.suppressed_label(k)}"
                 "</th></tr></table>")
    for row in present.iter_rows(named=True):
        module = modules.get((row["module"], row["version"]))
        if module is None:
            continue
        parts.append(f"<h2>{html.escape(module.title.get(lang) or module.title.get('en') or module.id)}"
                     f" <small>({html.escape(module.id)} {html.escape(module.version)})</small></h2>")
        for item in module.items:
            if item.is_question:
                parts.append(frequency_section(responses, answers, module, item.id, lang, k))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(data_dir: str | Path, out: str | Path, questionnaire_dirs: list[str | Path],
                 lang: str = "fr", k: int = disclosure.DEFAULT_K) -> None:
    """Write the report file."""
    Path(out).write_text(build_report(data_dir, questionnaire_dirs, lang, k), encoding="utf-8")
