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
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl

from surveycore import i18n
from surveycore.errors import KioskError
from surveycore.i18n import N_
from surveycore.questionnaire import ScoreDef

from analysis import disclosure, scores, tables
from analysis.ingest import module_index, scan_answers, scan_responses
from analysis.report import (
    _ordered_modules,
    NOT_COMPUTABLE,
    N_,
    Release,
    ViewId,
    _t,
    _unpooled_text,
    answer_label,
    breakdown_title,
    build_release,
    category_label,
    class_label,
    item_title,
    key_indicators,
    legend,
    title_of,
)

FORMATS = ("xlsx", "csv", "parquet", "sav", "dta")
RECORD_LEVEL_FLAG = "--record-level-i-understand-reidentification-risk"


class ExportError(KioskError):
    """An export that cannot or must not be made."""


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
            if it.type == "multiple":
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
    return pl.DataFrame({"text": lines})


CSV_DIALECTS = ("standard", "excel-fr")
"""``--csv-dialect``: ``standard`` (comma, decimal point) or ``excel-fr``
(semicolon, decimal comma: what a French spreadsheet opens as columns)."""


def _write_sheets(sheets: Mapping[str, pl.DataFrame], fmt: str, out: Path,
                  csv_dialect: str = "standard") -> list[Path]:
    written: list[Path] = []
    if fmt == "xlsx":
        import xlsxwriter

        out.parent.mkdir(parents=True, exist_ok=True)
        with xlsxwriter.Workbook(str(out)) as wb:
            for name, df in sheets.items():
                # Header row frozen, filters on every column.
                df.write_excel(wb, worksheet=name[:31], autofit=True, autofilter=True, freeze_panes=(1, 0))
        return [out]
    out.mkdir(parents=True, exist_ok=True)
    for name, df in sheets.items():
        if fmt == "csv":
            path = out / f"{name}.csv"
            # BOM: spreadsheet software then reads the file as UTF-8.
            text = (df.write_csv(separator=";", decimal_comma=True) if csv_dialect == "excel-fr"
                    else df.write_csv())
            path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
        elif fmt == "parquet":
            path = out / f"{name}.parquet"
            df.write_parquet(path)
        elif fmt == "sav":
            path = out / f"{name}.sav"
            _write_sav(df, path)
        elif fmt == "dta":
            import pyreadstat

            path = out / f"{name}.dta"
            renamed = {c: _var_name(c, set()) for c in df.columns}
            pyreadstat.write_dta(df.rename(renamed).with_columns(pl.col(pl.Boolean).cast(pl.Int8)).to_pandas(),
                                 str(path), column_labels=[_stata_label(c) for c in df.columns])
        else:
            raise ExportError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}", code="EXP-001")
        written.append(path)
    return written


def _write_sav(df: pl.DataFrame, path: Path) -> None:
    try:
        import pyreadstat
    except ImportError:  # pragma: no cover - depends on the environment
        raise ExportError("SPSS export needs the pyreadstat package", code="EXP-002") from None
    # SPSS names: start with a letter, letters/digits/underscore, <= 64 bytes.
    renamed = {c: _spss_name(c, i) for i, c in enumerate(df.columns)}
    out = df.rename(renamed).with_columns(pl.col(pl.Boolean).cast(pl.Int8))
    pyreadstat.write_sav(out, str(path), column_labels={renamed[c]: c for c in df.columns})


def _spss_name(name: str, index: int) -> str:
    clean = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name)
    if not clean or not clean[0].isalpha():
        clean = f"v{index}_{clean}"
    return clean[:64]


def _targets(fmt: str, out: Path, names: Sequence[str]) -> list[Path]:
    """The files an export writes."""
    if fmt == "xlsx":
        return [out]
    return [out / f"{name}.{fmt}" for name in names]


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


def check_export(data_dir: str | Path, fmt: str, out: str | Path, lang: str, names: Sequence[str],
                 force: bool = False) -> None:
    """Refuse at once an export that cannot be made or would overwrite
    files (``EXP-0xx``), before minutes of work."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}", code="EXP-001")
    if lang not in i18n.shipped_languages():
        raise ExportError(f"--lang {lang!r} is not supported; use one of {', '.join(i18n.shipped_languages())}",
                          code="EXP-021")
    if not (Path(data_dir) / "responses").is_dir():
        raise ExportError(f"--data {str(data_dir)!r} holds no dataset (no responses/ folder); give the folder "
                          "'analysis ingest --data' wrote", code="EXP-020")
    if scan_responses(data_dir).filter(~pl.col("test")).select(pl.len()).collect().item() == 0:
        raise ExportError(f"--data {str(data_dir)!r} holds no response yet (test-mode responses are not "
                          "exported); ingest the kiosks' bundles first", code="EXP-020")
    out = Path(out)
    existing = [t for t in _targets(fmt, out, names) if t.exists()]
    if existing and not force:
        raise ExportError(f"{existing[0]} already exists; choose another --out, or add --force to replace it",
                          code="EXP-022")
    parent = out.parent if fmt == "xlsx" else (out if out.exists() else out.parent)
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise ExportError(f"--out {str(out)!r}: {parent} cannot be written to; choose a folder you can write",
                          code="EXP-023")


def export(data_dir: str | Path, fmt: str, out: str | Path, questionnaire_dirs: Sequence[str | Path],
           lang: str = "fr", labels: bool = True, k: int = disclosure.DEFAULT_K,
           breakdowns: Mapping[str, str] | None = None, force: bool = False,
           csv_dialect: str = "standard") -> list[Path]:
    """Write the aggregated (protected) export, a public release checked
    against the earlier ones and recorded in the dataset's ledger
    (:mod:`analysis.releases`); return the files written."""
    from analysis import releases

    check_export(data_dir, fmt, out, lang, AGGREGATED_SHEETS, force)
    covered = releases.check(data_dir, k)
    release = build_release(data_dir, questionnaire_dirs, k, breakdowns)
    long = tables_frame(release, lang, labels)
    sheets = {"README": readme_frame(release, lang), "tables": long,
              "codebook": codebook(release), "modules": modules_frame(release),
              "definitions": definitions_frame(release)}
    if fmt == "xlsx":
        sheets.update(theme_sheets(release, long, lang, set(sheets)))
    written = _write_sheets(sheets, fmt, Path(out), csv_dialect)
    releases.record(data_dir, "export", fmt, out, k, covered)
    return written


def record_level_frame(data_dir: str | Path, questionnaire_dirs: Sequence[str | Path], lang: str = "fr",
                       labels: bool = False) -> pl.DataFrame:
    """One line per response (test mode excluded), for analysts who accepted
    the re-identification risk: fresh random ids, quarters, random order."""
    index = module_index(questionnaire_dirs)
    responses = scan_responses(data_dir).filter(~pl.col("test"))
    answers = scan_answers(data_dir)
    r = responses.select("rid", "centre", tables.coarsen_period(pl.col("period"), "quarter").alias("period"),
                         "lang", "status").collect()
    a = (answers.join(responses.select("rid"), on="rid", how="semi")
         .with_columns((pl.col("module") + "." + pl.col("item")).alias("column"),
                       pl.when(pl.col("state") == "answered").then(pl.col("value"))
                       .otherwise(pl.lit("_") + pl.col("state")).alias("cat"))
         .collect())
    latest: dict[str, object] = {}
    for (m_id, version), m in index.items():
        cur = latest.get(m_id)
        if cur is None or tuple(int(x) for x in version.split(".")) > tuple(int(x) for x in cur.version.split(".")):  # type: ignore[attr-defined]
            latest[m_id] = m
    if labels:
        mapping = {}
        for m_id, m in latest.items():
            for it in m.items:  # type: ignore[attr-defined]
                for c in it.choices:
                    mapping[(f"{m_id}.{it.id}", c.code)] = c.label.get(lang) or c.label.get("en") or c.code
        a = a.with_columns(pl.struct("column", "cat").map_elements(
            lambda s: mapping.get((s["column"], s["cat"]), s["cat"]), return_dtype=pl.String).alias("cat"))
    # Multiple choice: codes of one item joined with ";" (sorted), one column per item.
    wide = (a.group_by("rid", "column").agg(pl.col("cat").sort().str.join(";"))
            .pivot(on="column", index="rid", values="cat")) if a.height else pl.DataFrame({"rid": []},
                                                                                         schema={"rid": pl.String})
    out = r.join(wide, on="rid", how="left")
    item_cols = sorted(c for c in out.columns if c not in ("rid", "centre", "period", "lang", "status"))
    out = out.select("centre", "period", "lang", "status", *item_cols)
    fresh = pl.Series("id", [secrets.token_hex(8) for _ in range(out.height)], dtype=pl.String)
    return out.insert_column(0, fresh).sample(fraction=1.0, shuffle=True)


def export_record_level(data_dir: str | Path, fmt: str, out: str | Path, questionnaire_dirs: Sequence[str | Path],
                        accept_risk: bool, lang: str = "fr", labels: bool = False,
                        force: bool = False, csv_dialect: str = "standard") -> list[Path]:
    """Write the record-level export; refused unless ``accept_risk``."""
    if not accept_risk:
        raise ExportError("record-level data can re-identify patients in a small community; it is only "
                          f"written with {RECORD_LEVEL_FLAG}", code="EXP-010")
    check_export(data_dir, fmt, out, lang, ("records",), force)
    folder = Path(out).parent if fmt == "xlsx" else Path(out)
    # Record-level files live in a folder of their own: nothing publishable
    # beside them, a README saying what they are.
    others = sorted(p.name for p in folder.iterdir()
                    if p.name != "README.txt" and not p.name.startswith("records.")) if folder.is_dir() else []
    if others:
        raise ExportError(f"{folder} holds other files ({', '.join(others[:3])}): record-level data goes into a "
                          "folder of its own, with nothing publishable beside it; give an empty or new folder",
                          code="EXP-024")
    if fmt in ("sav", "dta"):
        written = write_labelled_sav(data_dir, questionnaire_dirs, folder, lang, fmt)
    else:
        frame = record_level_frame(data_dir, questionnaire_dirs, lang, labels)
        written = _write_sheets({"records": frame}, fmt, Path(out), csv_dialect)
    readme = folder / "README.txt"
    readme.write_text(_t(lang, RECORD_README) + "\n", encoding="utf-8")
    return [*written, readme]


# ------------------------------------------------- labelled record level (SPSS)

REFUSED_CODE, SKIPPED_CODE, NOT_REACHED_CODE = -1, -2, -3
"""User-missing codes of the labelled record-level file: prefer not to
answer, skipped by the questionnaire's logic, not reached (left before)."""

RECORD_README = N_(
    "Record-level data of the health survey: one line per response, for analysts who accepted the "
    "re-identification risk. Not for publication: keep this folder on the team's encrypted storage and "
    "publish figures only from 'analysis report' or 'analysis export'. Ids are fresh random ids; periods are "
    "quarters; lines are in random order. Numeric codes carry value labels; -1 = prefer not to answer, "
    "-2 = skipped by the questionnaire's logic, -3 = not reached (declared user-missing). A multiple-choice "
    "question gives one 0/1 variable per option. Scores are computed only when every item was answered.")


def _var_name(text: str, used: set[str]) -> str:
    """An SPSS/Stata variable name: letters, digits, underscore, a letter
    first, at most 28 characters (Stata names a variable's value labels
    after it, within 32), unique."""
    clean = "".join(ch if ch.isascii() and (ch.isalnum() or ch == "_") else "_" for ch in text)
    if not clean or not clean[0].isalpha():
        clean = "v_" + clean
    name, i = clean[:28], 2
    while name.lower() in used:
        name = f"{clean[:24]}_{i}"
        i += 1
    used.add(name.lower())
    return name


def labelled_records(data_dir: str | Path, questionnaire_dirs: Sequence[str | Path], lang: str = "fr"
                     ) -> tuple[pl.DataFrame, dict[str, str], dict[str, dict[int, str]], list[str]]:
    """The record-level data as numeric codes, in survey order: the frame,
    variable labels (question texts), value labels per variable, and the
    variables that carry the user-missing codes."""
    from analysis.report import _semver, survey_orders
    from surveycore.i18n import translations

    gettext = translations(lang).gettext
    index = module_index(questionnaire_dirs)
    latest: dict[str, object] = {}
    for (m_id, version), m in index.items():
        cur = latest.get(m_id)
        if cur is None or _semver(version) > _semver(cur.version):  # type: ignore[attr-defined]
            latest[m_id] = m
    responses = scan_responses(data_dir).filter(~pl.col("test"))
    answers = scan_answers(data_dir).join(responses.select("rid"), on="rid", how="semi")
    r = responses.select("rid", "survey", "centre",
                         tables.coarsen_period(pl.col("period"), "quarter").alias("period"), "lang",
                         "status").collect()
    a = answers.select("rid", "module", "item", "state", "value").collect()
    # Survey order of the modules and items (the first survey of the data found in the folders).
    order = survey_orders(questionnaire_dirs)
    in_data = set(r["survey"].to_list())
    mine = order.filter(pl.col("survey").str.split("@").list.first().is_in(list(in_data)))
    ordered = list(dict.fromkeys((m, i) for m, i in mine.sort("pos").select("module", "item").iter_rows()))
    present = list(dict.fromkeys(a.select("module", "item").unique().sort("module", "item").iter_rows()))
    ordered += [p for p in present if p not in ordered]
    missing_labels = {REFUSED_CODE: gettext("Prefer not to answer"), SKIPPED_CODE: gettext("Skipped (not asked)"),
                      NOT_REACHED_CODE: gettext("Not reached")}
    used = {"id", "centre", "period", "lang", "status"}
    columns: dict[str, pl.Series] = {}
    var_labels: dict[str, str] = {}
    value_labels: dict[str, dict[int, str]] = {}
    with_missing: list[str] = []
    rids = r["rid"]
    by_item = a.partition_by("module", "item", as_dict=True)
    for m_id, item_id in ordered:
        m = latest.get(m_id)
        if m is None:
            continue
        try:
            it = m.item(item_id)  # type: ignore[attr-defined]
        except KeyError:
            continue
        if it.type in ("text", "note", "group"):
            continue  # free text can name a person: never in this file
        rows = by_item.get((m_id, item_id))
        rows = rows if rows is not None else a.clear()
        question = it.text.get(lang) or it.text.get("en") or item_id
        states = dict(rows.filter(pl.col("state") != "answered").select("rid", "state").unique("rid").iter_rows())
        if it.type == "multiple":
            chosen: dict[object, set[str]] = {}
            for rid, value in rows.filter(pl.col("state") == "answered").select("rid", "value").iter_rows():
                chosen.setdefault(rid, set()).add(value)
            for c in it.choices:
                name = _var_name(f"{m_id}_{item_id}_{c.code}", used)
                values = []
                for rid in rids:
                    if rid in chosen:
                        values.append(int(c.code in chosen[rid]))
                    elif states.get(rid) == "none":
                        values.append(0)
                    else:
                        values.append({"refused": REFUSED_CODE, "skipped": SKIPPED_CODE}.get(
                            states.get(rid, ""), NOT_REACHED_CODE))
                columns[name] = pl.Series(name, values, dtype=pl.Int32)
                label = c.label.get(lang) or c.label.get("en") or c.code
                var_labels[name] = f"{question} — {label}"
                value_labels[name] = {0: gettext("Not selected"), 1: label, **missing_labels}
                with_missing.append(name)
            continue
        codes = [c.code for c in it.choices]
        numeric = all(c.lstrip("-").isdigit() for c in codes) if codes else True
        mapping = {c: (int(c) if numeric else i + 1) for i, c in enumerate(codes)}
        answered = dict(rows.filter(pl.col("state") == "answered").select("rid", "value").iter_rows())
        values = []
        for rid in rids:
            if rid in answered:
                v = answered[rid]
                values.append(mapping.get(v, int(v) if str(v).lstrip("-").isdigit() else None))
            else:
                values.append({"refused": REFUSED_CODE, "skipped": SKIPPED_CODE}.get(states.get(rid, ""),
                                                                                     NOT_REACHED_CODE))
        name = _var_name(f"{m_id}_{item_id}", used)
        columns[name] = pl.Series(name, values, dtype=pl.Int32)
        var_labels[name] = question
        value_labels[name] = {**{mapping[c.code]: c.label.get(lang) or c.label.get("en") or c.code
                                 for c in it.choices}, **missing_labels}
        with_missing.append(name)
    # Score variables, after the items: null when not computable (an item
    # missing or refused), never imputed.
    coded = tables.coded_answers(scan_answers(data_dir).join(responses.select("rid"), on="rid", how="semi"),
                                 pl.col("rid"))
    for m_id in dict.fromkeys(m for m, _ in ordered):
        m = latest.get(m_id)
        if m is None:
            continue
        major = int(m.version.split(".")[0])  # type: ignore[attr-defined]
        multiple = frozenset(it.id for it in m.items if it.type == "multiple")  # type: ignore[attr-defined]
        for sc in m.scores:  # type: ignore[attr-defined]
            values = dict(scores.score_values(coded, sc, m_id, major, multiple).select("key", "value")
                          .collect().iter_rows())
            name = _var_name(f"{m_id}_{sc.id}_score", used)
            columns[name] = pl.Series(name, [values.get(rid) for rid in rids], dtype=pl.Float64)
            var_labels[name] = sc.label.get(lang) or sc.label.get("en") or sc.id
    head = r.select("centre", "period", "lang", "status")
    out = pl.concat([head, pl.DataFrame(list(columns.values()))], how="horizontal") if columns else head
    out = out.with_columns(pl.Series("id", [secrets.token_hex(8) for _ in range(out.height)], dtype=pl.String))
    out = out.select("id", *[c for c in out.columns if c != "id"]).sample(fraction=1.0, shuffle=True)
    return out, var_labels, value_labels, with_missing


def _stata_label(text: str) -> str:
    """A Stata variable label: at most 80 bytes of UTF-8."""
    return text.encode("utf-8")[:80].decode("utf-8", errors="ignore")


def write_labelled_sav(data_dir: str | Path, questionnaire_dirs: Sequence[str | Path], out_dir: Path,
                       lang: str = "fr", fmt: str = "sav") -> list[Path]:
    """The record-level data as an SPSS (``sav``: value labels, variable
    labels, user-missing codes) or Stata file (``dta``: value and variable
    labels; the codes -1 to -3 stay values with their labels, Stata having
    no user-missing numbers) in ``out_dir``."""
    import pyreadstat

    frame, var_labels, value_labels, with_missing = labelled_records(data_dir, questionnaire_dirs, lang)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"records.{fmt}"
    labels = [var_labels.get(c, c) for c in frame.columns]
    if fmt == "dta":
        pyreadstat.write_dta(frame.to_pandas(), str(path), column_labels=[_stata_label(x) for x in labels],
                             variable_value_labels=value_labels)
        return [path]
    pyreadstat.write_sav(frame.to_pandas(), str(path), column_labels=labels, variable_value_labels=value_labels,
                         missing_ranges={c: [REFUSED_CODE, SKIPPED_CODE, NOT_REACHED_CODE] for c in with_missing})
    return [path]
