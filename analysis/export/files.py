"""Checking an export request before any work, and writing sheets to
files: xlsx, csv (two dialects), parquet, sav and dta, with the variable
names each format allows.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl

from surveycore import i18n
from surveycore.errors import KioskError
from analysis.ingest import scan_responses


FORMATS = ("xlsx", "csv", "parquet", "sav", "dta")


RECORD_LEVEL_FLAG = "--record-level-i-understand-reidentification-risk"


class ExportError(KioskError):
    """An export that cannot or must not be made."""


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


def _stata_label(text: str) -> str:
    """A Stata variable label: at most 80 bytes of UTF-8."""
    return text.encode("utf-8")[:80].decode("utf-8", errors="ignore")
