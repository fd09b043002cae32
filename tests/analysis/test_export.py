"""Exports: gated tables and codebook in xlsx, csv (UTF-8 with BOM),
parquet and sav; labels or codes; record-level only behind the named flag,
with fresh ids and quarters."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from analysis import cli as analysis_cli
from analysis.disclosure import Protection
from analysis.export import RECORD_LEVEL_FLAG
from tests.support.published import plausible
from tests.support.datasets import Data, MODULE_T, d1, release, write_modules

NO_DEMOGRAPHICS = ["--breakdown", "neighbourhood=-", "--breakdown", "age_band=-", "--breakdown", "gender=-"]


def run_export(data: Path, qdir: Path, fmt: str, out: Path, *extra: str) -> int:
    return analysis_cli.main(["export", "--data", str(data), "--format", fmt, "--out", str(out),
                              "--questionnaires", str(qdir), "--lang", "en", *NO_DEMOGRAPHICS, *extra])


def read_xlsx(path: Path) -> dict[str, pl.DataFrame]:
    """Every sheet as a frame (header row first), read with openpyxl."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    out = {}
    for ws in book.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        out[ws.title] = pl.DataFrame([list(r) for r in rows[1:]], schema=list(rows[0]), orient="row",
                                     infer_schema_length=None)
    return out


def published_q1(data: Path, qdir: Path, labels: dict[str, str] | None = None) -> list[tuple]:
    """The lines of t.q1 the export must hold: the protected release's
    figures, percentages at one decimal (no full precision in public exports)."""
    v = release(data, qdir, breakdowns={"centre": "centre", "lang": "lang", "period": "period"},
                protection=Protection()).views["t.q1"]
    return [((labels or {}).get(row, row), v.cells[(row, "")].n, str(v.cells[(row, "")].n),
             round(v.cells[(row, "")].pct, 1)) for row in v.rows]


LABELS = {"a": "Apple", "b": "Banana", "_refused": "Prefer not to answer"}


def q1_lines(df: pl.DataFrame) -> list[tuple]:
    return (df.filter((pl.col("table") == "t.q1") & ~pl.col("row").is_in(["_total", "Total"]))
            .select("row", "n", pl.col("n_display").cast(pl.String), "pct").rows())


def test_csv_with_bom_labels_and_codebook(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, qdir = d1(tmp_path)
    out = tmp_path / "csv"
    assert run_export(data, qdir, "csv", out) == 0
    assert sorted(p.name for p in out.iterdir()) == ["README.csv", "codebook.csv", "definitions.csv", "modules.csv",
                                                     "tables.csv"]
    raw = (out / "tables.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    df = pl.read_csv(raw[3:])
    lines = q1_lines(df)
    assert lines == published_q1(data, qdir, LABELS)
    assert all(plausible(d, true) for (_, _, d, _), true in zip(lines, [45, 20, 12]))
    book = pl.read_csv((out / "codebook.csv").read_bytes()[3:])
    q1 = book.filter(pl.col("item") == "q1").select("code", "label_en", "label_fr").rows()
    assert q1 == [("a", "Apple", "Pomme"), ("b", "Banana", "Banane"),
                  ("_refused", "Prefer not to answer", "Je préfère ne pas répondre"),
                  ("_skipped", "Skipped (not asked)", "Sautée (non posée)"),
                  ("_notreached", "Not reached", "Non atteinte")]
    assert book.filter(pl.col("item") == "q1")["question_fr"][0] == "Première question"
    modules = pl.read_csv((out / "modules.csv").read_bytes()[3:])
    assert modules.select("module", "major", "versions").rows() == [("t", 1, "1.0.0")]


def test_codes_instead_of_labels_in_parquet(tmp_path: Path) -> None:
    data, qdir = d1(tmp_path)
    out = tmp_path / "pq"
    assert run_export(data, qdir, "parquet", out, "--codes") == 0
    df = pl.read_parquet(out / "tables.parquet")
    assert q1_lines(df) == published_q1(data, qdir)
    # Centre C1's answers are all "a" (and refusals): a 100 % withheld ([c]),
    # zeros included; C2's are published.
    xt = (df.filter(pl.col("table") == "t.q1.by.centre").filter(pl.col("row") == "b")
          .select("col", "n", "n_display").rows())
    assert xt[0] == ("C1", None, "[c]") and xt[1][0] == "C2" and plausible(xt[1][2], 20)


def test_suppressed_cells_are_empty_with_the_label(tmp_path: Path) -> None:
    qdir = write_modules(tmp_path / "q", MODULE_T)
    d = Data()
    d.respond({"t.q1": "a"}, times=40)
    d.respond({"t.q1": "b"}, times=5)
    d.respond({"t.q1": None}, times=14)
    data = d.write(tmp_path / "data")
    out = tmp_path / "book.xlsx"
    assert run_export(data, qdir, "xlsx", out) == 0
    sheets = read_xlsx(out)
    assert sorted(sheets) == ["README", "Test module", "codebook", "definitions", "modules", "tables"]
    # One sheet per theme: that module's lines of the long table.
    assert sheets["Test module"].rows() == sheets["tables"].filter(pl.col("module") == "t").rows()
    import openpyxl
    book = openpyxl.load_workbook(out)
    for ws in book.worksheets:  # header frozen, filters on
        tables = list(ws.tables.values())
        assert ws.freeze_panes == "A2" and len(tables) == 1 and tables[0].autoFilter is not None, ws.title
    lines = q1_lines(sheets["tables"])
    assert [r for r, _, _, _ in lines] == ["Apple", "Banana", "Prefer not to answer"]
    # 5 "Banana" is below 11 after any noise: hidden, its cell empty.
    assert lines[1][1:] == (None, "< 11", None)
    assert plausible(lines[0][2], 40) and plausible(lines[2][2], 14)
    # Every hidden figure is empty with one of the two marks, every other one shows its count.
    tables = sheets["tables"].filter(pl.col("row") != "Mean")
    for n, shown in tables.select("n", "n_display").rows():
        assert (shown in ("< 11", "[c]")) if n is None else shown == str(n)
    assert "< 11" in sheets["README"]["text"][1] and "[c]" in sheets["README"]["text"][1]


def test_sav_round_trip(tmp_path: Path) -> None:
    import pyreadstat

    data, qdir = d1(tmp_path)
    out = tmp_path / "sav"
    assert run_export(data, qdir, "sav", out, "--codes") == 0
    df, meta = pyreadstat.read_sav(str(out / "tables.sav"), output_format="polars")
    lines = df.filter(pl.col("table") == "t.q1").filter(pl.col("col") == "").select("row", "n").rows()
    assert lines == [(row, float(n)) for row, n, _, _ in published_q1(data, qdir)]
    assert "ci_low" in meta.column_names


def test_record_level_needs_the_flag_and_is_coarsened(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, qdir = d1(tmp_path)
    out = tmp_path / "records"
    # The flag is the only way: an ordinary export never writes records.
    assert run_export(data, qdir, "parquet", out) == 0
    assert not (out / "records.parquet").exists()
    # Never beside publishable files: a folder of its own, with a README.
    capsys.readouterr()
    assert run_export(data, qdir, "parquet", out, RECORD_LEVEL_FLAG, "--codes") == 1
    assert "[EXP-024]" in capsys.readouterr().err and not (out / "records.parquet").exists()
    out = tmp_path / "records-only"
    assert run_export(data, qdir, "parquet", out, RECORD_LEVEL_FLAG, "--codes") == 0
    assert sorted(p.name for p in out.iterdir()) == ["README.txt", "records.parquet"]
    assert "Not for publication" in (out / "README.txt").read_text(encoding="utf-8")
    records = pl.read_parquet(out / "records.parquet")
    assert records.columns == ["id", "centre", "period", "lang", "status", "t.q1", "t.q2", "t.q3"]
    assert records.height == 88  # 77 started + 11 declined; the 5 test responses are gone
    assert set(records["period"].to_list()) == {"2026-Q1"}
    dataset_rids = set(pl.read_parquet(data / "responses" / "part-0.parquet")["rid"].to_list())
    assert not set(records["id"].to_list()) & dataset_rids
    assert records["id"].n_unique() == 88
    counts = records.group_by("t.q3").len().sort("t.q3").rows()
    assert counts == [(None, 26), ("_none", 12), ("x", 20), ("x;y", 30)]


def test_record_level_refused_without_flag_in_python(tmp_path: Path) -> None:
    from analysis.export import ExportError, export_record_level

    data, qdir = d1(tmp_path)
    with pytest.raises(ExportError) as err:
        export_record_level(data, "csv", tmp_path / "x", [qdir], accept_risk=False)
    assert RECORD_LEVEL_FLAG in str(err.value) and err.value.code == "EXP-010"
    assert not (tmp_path / "x").exists()
