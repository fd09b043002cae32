"""Exports of the diagnostic: protected tables plus a codebook.

Formats: ``xlsx`` (one workbook: README, tables, codebook, modules sheets),
and ``csv`` (UTF-8 with BOM, so that spreadsheet software detects the
encoding), ``parquet`` or ``sav`` (SPSS, through pyreadstat) as a folder with
one file per sheet. Every figure comes from :func:`analysis.report.build_release`:
hidden counts are empty in the ``n`` column and ``< k`` (below ``k`` after
perturbation) or ``[c]`` (withheld by a rule on groups) in ``n_display``.

A record-level export (one line per response) is refused unless the caller
explicitly accepts the re-identification risk; even then it has fresh random
row ids (never the dataset's), periods coarsened to quarters, no test-mode
responses, and rows in random order.

The package: this module builds the aggregated export (every published
table, the codebook, modules and definitions sheets);
:mod:`analysis.export.records` the record-level ones; and
:mod:`analysis.export.files` checks a request and writes sheets to files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl

from surveycore import types
from surveycore.i18n import N_
from surveycore.questionnaire import ScoreDef
from analysis import disclosure, scores, tables
from analysis.report import (NOT_COMPUTABLE, Release, ViewId, _ordered_modules, _t, _unpooled_text, answer_label,
                             breakdown_title, build_release, category_label, class_label, item_title, key_indicators,
                             legend, title_of)
from analysis.report.labels import withheld_groups_note
from analysis.export.files import (CSV_DIALECTS, FORMATS, RECORD_LEVEL_FLAG, ExportError, _write_sheets,
                                   check_export)
from analysis.export.records import (NOT_REACHED_CODE, RECORD_README, REFUSED_CODE, SKIPPED_CODE,
                                     export_record_level, labelled_records, record_level_frame, write_labelled_sav)


def _row_label(release: Release, table: str, kind: str, module: str | None, major: int | None,
               item: str | None, row: str, lang: str) -> str:
    m = release.modules.get((module, major)) if module is not None and major is not None else None
    if row == "_total":
        return _t(lang, "Total")
    if row == "_mean":
        return _t(lang, "Mean")
    if row == "_share":
        # A share, never under the same label as the count of a class.
        return (_t(lang, "Share at or above the cut-off") if kind.startswith("score")
                else _t(lang, "Completion rate"))
    if kind.startswith("indicator"):
        # A score reported per version has one indicator per version.
        found = next(((i, suffix) for i, suffix in key_indicators(release)
                      if table in {ViewId.indicator(i.id).key, *(ViewId.indicator(i.id).per(by).key
                                                                 for by in release.breakdowns)}), None)
        if row == scores.POSITIVE and found is not None:
            return _t(lang, found[0].label) + found[1]
        return _t(lang, "Others") if row == scores.NEGATIVE else row
    if kind == "participation":
        return {"complete": _t(lang, "Complete"), "partial": _t(lang, "Partial"),
                "declined": _t(lang, "Declined at consent")}.get(row, row)
    if kind.startswith("score") and m is not None:
        sc = next((s for s in m.scores if s.id == item), None)
        if sc is not None:
            return class_label(sc, row, lang) if row != NOT_COMPUTABLE else class_label(sc, NOT_COMPUTABLE, lang)
    if kind == "dropoff":
        return row
    if item is not None:
        return answer_label(m, item, row, lang)
    return row


def tables_frame(release: Release, lang: str = "fr", labels: bool = True) -> pl.DataFrame:
    """Every published figure of the release in one long table.

    Columns: table, kind, module, major, item, question, by, row, col, n
    (empty when suppressed), n_display (``< k`` when suppressed), pct,
    ci_low, ci_high (percentages 0-100; on ``_mean`` lines ``pct`` is the
    mean). With ``labels`` the row and column categories are labels in
    ``lang``; otherwise codes.
    """
    from analysis.report import VIEW_SCHEMA

    frames = [v.frame() for v in release.views.values()]
    df = pl.concat(frames) if frames else pl.DataFrame(schema=VIEW_SCHEMA)
    hidden = disclosure.suppressed_label(release.k)
    df = df.with_columns(
        pl.when(pl.col("row") == "_mean").then(pl.lit(""))
        .when(pl.col("withheld")).then(pl.lit(disclosure.WITHHELD_LABEL))
        .when(pl.col("suppressed")).then(pl.lit(hidden))
        .otherwise(pl.col("n").cast(pl.String)).alias("n_display"),
        # No full-precision statistic leaves in a public export: percentages,
        # intervals and means at one decimal, as in the report.
        *(pl.col(c).round(1) for c in ("pct", "ci_low", "ci_high")))
    questions = []
    if labels:
        rows, cols = [], []
        for r in df.iter_rows(named=True):
            rows.append(_row_label(release, r["table"], r["kind"], r["module"], r["major"], r["item"], r["row"], lang))
            col = r["col"]
            if col in ("", None):
                cols.append("")
            elif col == "_total":
                cols.append(_t(lang, "Total"))
            elif r["by"]:
                cols.append(category_label(release, r["by"], col, lang))
            else:
                cols.append(col)
            m = release.modules.get((r["module"], r["major"])) if r["module"] else None
            questions.append(item_title(m, r["item"], lang) if m is not None and r["item"]
                             and not r["kind"].startswith("score") else "")
        df = df.with_columns(pl.Series("row", rows, dtype=pl.String), pl.Series("col", cols, dtype=pl.String),
                             pl.Series("by", [breakdown_title(lang, b) if b else "" for b in df["by"].to_list()],
                                       dtype=pl.String))
    else:
        questions = [""] * df.height
    df = df.with_columns(pl.Series("question", questions, dtype=pl.String))
    return df.select("table", "kind", "module", "major", "item", "question", "by", "row", "col", "n", "n_display",
                     "pct", "ci_low", "ci_high")


def score_definition(sc: ScoreDef, source: str) -> str:
    """A score's definition in words: items, points, scaling, cut-off, bands
    and reference (the codebook's ``definition`` column)."""
    parts = [f"items: {', '.join(sc.items)}"]
    if sc.values:
        parts.append("points per answer: " + ", ".join(f"{c}={v:g}" for c, v in sc.values.items()))
    if sc.weights:
        parts.append("weights: " + "; ".join(f"{i}: " + ", ".join(f"{c}={v:g}" for c, v in w.items())
                                            for i, w in sc.weights.items()))
    if sc.any_of:
        parts.append("1 when any of: " + "; ".join(f"{i} in {', '.join(c)}" for i, c in sc.any_of.items()))
    if sc.intercept:
        parts.append(f"intercept {sc.intercept:g}")
    if sc.multiplier != 1:
        parts.append(f"multiplied by {sc.multiplier:g}")
    if sc.positive_at is not None:
        parts.append(f"cut-off: {sc.positive_at:g} or more")
    if sc.bands:
        parts.append("bands from: " + ", ".join(f"{lo:g} {label}" for lo, label in sc.bands))
    parts.append("computed only when every item is answered, never imputed")
    parts.append(f"reference: {source}")
    return "; ".join(parts)


def codebook(release: Release) -> pl.DataFrame:
    """Items, codes and labels per language of every module in the release,
    with each module definition's hash, each item's relevance rule and each
    score's definition."""
    langs = sorted({lang for m in release.modules.values() for lang in m.languages})
    records = []
    for (m_id, major), m in sorted(release.modules.items()):
        versions = ", ".join(release.versions.get((m_id, major), [m.version]))
        for it in m.items:
            if not it.is_question:
                continue
            base = {"module": m_id, "major": major, "versions": versions, "hash": m.hash, "item": it.id,
                    "type": it.type, "relevance": it.relevant or "", "definition": ""}
            texts = {f"question_{lang}": it.text.get(lang, "") for lang in langs}
            special = [("_refused", N_("Prefer not to answer")), ("_skipped", N_("Skipped (not asked)")),
                       ("_notreached", N_("Not reached"))]
            if types.get(it.type).multi:
                special.append(("_none", N_("None of these")))
            for c in it.choices:
                records.append({**base, **texts, "code": c.code,
                                **{f"label_{lang}": c.label.get(lang, "") for lang in langs}})
            for code, msgid in special:
                records.append({**base, **texts, "code": code,
                                **{f"label_{lang}": _t(lang, msgid) for lang in langs}})
        for sc in m.scores:
            for cls in [*(c.id for c in scores.classes(sc)), NOT_COMPUTABLE]:
                records.append({"module": m_id, "major": major, "versions": versions, "hash": m.hash,
                                "item": f"score:{sc.id}", "type": "score", "relevance": "",
                                "definition": score_definition(sc, m.source),
                                **{f"question_{lang}": sc.label.get(lang, sc.id) for lang in langs},
                                "code": cls, **{f"label_{lang}": class_label(sc, cls, lang) for lang in langs}})
    schema = {"module": pl.String, "major": pl.Int64, "versions": pl.String, "hash": pl.String, "item": pl.String,
              "type": pl.String, "relevance": pl.String, "definition": pl.String,
              **{f"question_{lang}": pl.String for lang in langs}, "code": pl.String,
              **{f"label_{lang}": pl.String for lang in langs}}
    return pl.DataFrame(records, schema=schema)


def modules_frame(release: Release) -> pl.DataFrame:
    """One line per pooled module: id, major, versions in the data, title, source, licence."""
    records = [{"module": m_id, "major": major, "versions": ", ".join(release.versions.get((m_id, major), [])),
                "title": title_of(m.title, "en", m_id), "source": m.source, "license": m.license,
                "hash_of_latest": m.hash}
               for (m_id, major), m in sorted(release.modules.items())]
    return pl.DataFrame(records, schema={"module": pl.String, "major": pl.Int64, "versions": pl.String,
                                         "title": pl.String, "source": pl.String, "license": pl.String,
                                         "hash_of_latest": pl.String})


def definitions_frame(release: Release) -> pl.DataFrame:
    """One line per module definition pooled: module, major, version,
    content hash, and the centres whose answers it covers."""
    return pl.DataFrame([{**r, "sites": ", ".join(r["sites"])} for r in release.pooled],
                        schema={"module": pl.String, "major": pl.Int64, "version": pl.String, "hash": pl.String,
                                "sites": pl.String})


def readme_frame(release: Release, lang: str) -> pl.DataFrame:
    """The method and the suppression rule, one paragraph a line."""
    k = release.k
    lines = [_t(lang, "Community health diagnostic"),
             legend(lang, k),
             _t(lang, "Percentages of a question are computed over the persons who saw it: those who answered or "
                      "chose “Prefer not to answer”. Questions skipped by the questionnaire’s logic and questions "
                      "not reached by persons who left the survey early are counted apart."),
             _t(lang, "95% confidence intervals: Wilson score interval for percentages. Means are rounded to one "
                      "decimal and given without interval.")]
    # Scores reported per version (their versions' items or points differ).
    lines += [_unpooled_text(u, lang) for u in release.unpooled_scores]
    withheld = withheld_groups_note(release, lang)
    if withheld:
        lines.append(withheld)
    return pl.DataFrame({"text": lines})


AGGREGATED_SHEETS = ("README", "tables", "codebook", "modules", "definitions")


def theme_sheets(release: Release, long: pl.DataFrame, lang: str, taken: set[str]) -> dict[str, pl.DataFrame]:
    """The long table split by theme (module), in the survey's order, each
    sheet named by the theme's title in ``lang`` (a workbook's names: at
    most 31 characters, none of ``[]:*?/\\``, no two alike)."""
    out: dict[str, pl.DataFrame] = {}
    used = {t.lower() for t in taken}
    for m_id, major, module in _ordered_modules(release):
        part = long.filter((pl.col("module") == m_id) & (pl.col("major") == major))
        if part.height == 0:
            continue
        base = "".join(ch for ch in title_of(module.title, lang, m_id) if ch not in "[]:*?/\\")[:31].strip()
        name, i = base or m_id[:31], 2
        while name.lower() in used:
            name = f"{base[:27]} ({i})"
            i += 1
        used.add(name.lower())
        out[name] = part
    return out


def export(data_dir: str | Path, fmt: str, out: str | Path, questionnaire_dirs: Sequence[str | Path],
           lang: str = "fr", labels: bool = True, k: int = disclosure.DEFAULT_K,
           breakdowns: Mapping[str, str] | None = None, force: bool = False,
           csv_dialect: str = "standard") -> list[Path]:
    """Write the aggregated (protected) export, a public release checked
    against the earlier ones and recorded in the dataset's ledger
    (:mod:`analysis.releases`); return the files written."""
    from analysis import releases

    check_export(data_dir, fmt, out, lang, AGGREGATED_SHEETS, force)
    bds = dict(tables.DEFAULT_BREAKDOWNS if breakdowns is None else breakdowns)
    covered = releases.check(data_dir, k, groups=releases.release_groups(data_dir, list(questionnaire_dirs), bds,
                                                                          "quarter"))
    release = build_release(data_dir, questionnaire_dirs, k, breakdowns, withhold=covered.withheld)
    long = tables_frame(release, lang, labels)
    sheets = {"README": readme_frame(release, lang), "tables": long,
              "codebook": codebook(release), "modules": modules_frame(release),
              "definitions": definitions_frame(release)}
    if fmt == "xlsx":
        sheets.update(theme_sheets(release, long, lang, set(sheets)))
    written = _write_sheets(sheets, fmt, Path(out), csv_dialect)
    releases.record(data_dir, "export", fmt, out, k, covered, releases.published_groups(release.views.values()))
    return written
