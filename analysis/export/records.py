"""Record-level exports: one line per response, refused unless the caller
accepts the re-identification risk; fresh random ids, periods coarsened to
quarters, no test-mode responses, rows in random order; the labelled SPSS
and Stata files with value labels and user-missing codes.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from surveycore import types
from surveycore.i18n import N_
from surveycore.questionnaire import Module
from analysis import scores, tables
from analysis.ingest import module_index, scan_answers, scan_responses
from analysis.report import _t
from analysis.export.files import (RECORD_LEVEL_FLAG, ExportError, _stata_label, _var_name, _write_sheets,
                                   check_export)


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
    latest: dict[str, Module] = {}
    for (m_id, version), m in index.items():
        cur = latest.get(m_id)
        if cur is None or tuple(int(x) for x in version.split(".")) > tuple(int(x) for x in cur.version.split(".")):
            latest[m_id] = m
    if labels:
        mapping = {}
        for m_id, m in latest.items():
            for it in m.items:
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


def labelled_records(data_dir: str | Path, questionnaire_dirs: Sequence[str | Path], lang: str = "fr"
                     ) -> tuple[pl.DataFrame, dict[str, str], dict[str, dict[int | float, str]], list[str]]:
    """The record-level data as numeric codes, in survey order: the frame,
    variable labels (question texts), value labels per variable, and the
    variables that carry the user-missing codes."""
    from analysis.report import _semver, survey_orders
    from surveycore.i18n import translations

    gettext = translations(lang).gettext
    index = module_index(questionnaire_dirs)
    latest: dict[str, Module] = {}
    for (m_id, version), mod in index.items():
        cur = latest.get(m_id)
        if cur is None or _semver(version) > _semver(cur.version):
            latest[m_id] = mod
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
    missing_labels: dict[int | float, str] = {REFUSED_CODE: gettext("Prefer not to answer"), SKIPPED_CODE: gettext("Skipped (not asked)"),
                      NOT_REACHED_CODE: gettext("Not reached")}
    used = {"id", "centre", "period", "lang", "status"}
    columns: dict[str, pl.Series] = {}
    var_labels: dict[str, str] = {}
    value_labels: dict[str, dict[int | float, str]] = {}
    with_missing: list[str] = []
    rids = r["rid"]
    by_item = a.partition_by("module", "item", as_dict=True)
    m: Module | None
    for m_id, item_id in ordered:
        m = latest.get(m_id)
        if m is None:
            continue
        try:
            it = m.item(item_id)
        except KeyError:
            continue
        if not types.get(it.type).published:
            continue  # free text can name a person: never in this file
        rows = by_item.get((m_id, item_id))
        rows = rows if rows is not None else a.clear()
        question = it.text.get(lang) or it.text.get("en") or item_id
        states = dict(rows.filter(pl.col("state") != "answered").select("rid", "state").unique("rid").iter_rows())
        if types.get(it.type).multi:
            chosen: dict[object, set[str]] = {}
            for rid, value in rows.filter(pl.col("state") == "answered").select("rid", "value").iter_rows():
                chosen.setdefault(rid, set()).add(value)
            for c in it.choices:
                name = _var_name(f"{m_id}_{item_id}_{c.code}", used)
                values: list[int | None] = []
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
    for m_id in dict.fromkeys(m_id for m_id, _ in ordered):
        m = latest.get(m_id)
        if m is None:
            continue
        major = int(m.version.split(".")[0])
        multiple = frozenset(it.id for it in m.items if types.get(it.type).multi)
        for sc in m.scores:
            by_rid = dict(scores.score_values(coded, sc, m_id, major, multiple).select("key", "value")
                          .collect().iter_rows())
            name = _var_name(f"{m_id}_{sc.id}_score", used)
            columns[name] = pl.Series(name, [by_rid.get(rid) for rid in rids], dtype=pl.Float64)
            var_labels[name] = sc.label.get(lang) or sc.label.get("en") or sc.id
    head = r.select("centre", "period", "lang", "status")
    out = pl.concat([head, pl.DataFrame(list(columns.values()))], how="horizontal") if columns else head
    out = out.with_columns(pl.Series("id", [secrets.token_hex(8) for _ in range(out.height)], dtype=pl.String))
    out = out.select("id", *[c for c in out.columns if c != "id"]).sample(fraction=1.0, shuffle=True)
    return out, var_labels, value_labels, with_missing


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
    pyreadstat.write_sav(frame.to_pandas(), str(path), column_labels=list[str | None](labels), variable_value_labels=value_labels,
                         missing_ranges={c: [REFUSED_CODE, SKIPPED_CODE, NOT_REACHED_CODE] for c in with_missing})
    return [path]
