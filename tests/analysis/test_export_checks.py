"""Exports refused before any work: bad requests get a coded message and a
non-zero exit, and nothing already written is replaced without --force."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from analysis import cli
from tests.support.datasets import Data, d1


def test_an_export_never_replaces_files_without_force(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    data, qdir = d1(tmp_path)
    out = tmp_path / "export"
    args = ["export", "--data", str(data), "--format", "csv", "--out", str(out), "--questionnaires", str(qdir)]
    assert cli.main(args) == 0
    before = (out / "tables.csv").read_bytes()
    (out / "tables.csv").write_bytes(b"edited by hand")
    capsys.readouterr()
    assert cli.main(args) == 1
    assert capsys.readouterr().err.strip() == (
        f"error: [EXP-022] {out / 'README.csv'} already exists; choose another --out, or add --force to replace it (see docs/errors.md#exp-022)")
    assert (out / "tables.csv").read_bytes() == b"edited by hand"
    assert cli.main([*args, "--force"]) == 0
    assert (out / "tables.csv").read_bytes() == before


def test_an_unwritable_output_is_refused(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    data, qdir = d1(tmp_path)
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    out = tmp_path / "notes.txt" / "x.xlsx"
    assert cli.main(["export", "--data", str(data), "--format", "xlsx", "--out", str(out),
                     "--questionnaires", str(qdir)]) == 1
    assert capsys.readouterr().err.strip() == (
        f"error: [EXP-023] --out '{out}': {tmp_path / 'notes.txt'} cannot be written to; choose a folder you "
        "can write (see docs/errors.md#exp-023)")
    assert not (data / "releases.jsonl").exists()


def test_bad_requests_are_refused_at_once(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    data, qdir = d1(tmp_path)
    empty = Data()
    empty.respond({"t.q1": "a"}, test=True)
    only_tests = empty.write(tmp_path / "empty")
    out = tmp_path / "out.xlsx"
    cases = [
        (["--data", str(data), "--lang", "xx"],
         "error: [EXP-021] --lang 'xx' is not supported; use one of ar, bn, en, es, fa_AF, fr, ka, ps, ro, ru, so, ti, uk"),
        (["--data", str(tmp_path / "none")],
         f"error: [EXP-020] --data '{tmp_path / 'none'}' holds no dataset (no responses/ folder); give the "
         "folder 'analysis ingest --data' wrote"),
        (["--data", str(only_tests)],
         f"error: [EXP-020] --data '{only_tests}' holds no response yet (test-mode responses are not exported); "
         "ingest the kiosks' bundles first"),
    ]
    for extra, message in cases:
        assert cli.main(["export", "--format", "xlsx", "--out", str(out), "--questionnaires", str(qdir),
                         *extra]) == 1
        code = message[len("error: ["):message.index("]")].lower()
        assert capsys.readouterr().err.strip() == f"{message} (see docs/errors.md#{code})"
        assert not out.exists()
    assert not (data / "releases.jsonl").exists()


def test_the_excel_fr_dialect_writes_semicolons_and_decimal_commas(tmp_path: Path) -> None:
    data, qdir = d1(tmp_path)
    out = tmp_path / "fr"
    assert cli.main(["export", "--data", str(data), "--format", "csv", "--out", str(out), "--questionnaires",
                     str(qdir), "--csv-dialect", "excel-fr", "--lang", "fr"]) == 0
    raw = (out / "tables.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    header = lines[0].split(";")
    assert len(header) > 5 and "," not in lines[0]
    pct = header.index("pct")
    shares = [line.split(";")[pct] for line in lines[1:] if line.split(";")[pct]]
    assert shares and all(re.fullmatch(r"\d+(,\d+)?", v) for v in shares), shares
    assert any("," in v for v in shares)


@pytest.mark.parametrize("labels", ["--labels", "--codes"])
def test_the_long_table_has_no_duplicate_keys(tmp_path: Path, labels: str) -> None:
    from tests.support.paths import QUESTIONNAIRES
    from tests.support.datasets import shipped_dataset as _dataset
    data = _dataset(tmp_path)
    out = tmp_path / "export"
    assert cli.main(["export", "--data", str(data), "--format", "parquet", "--out", str(out), "--lang", "en",
                     "--questionnaires", str(QUESTIONNAIRES), labels]) == 0
    t = pl.read_parquet(out / "tables.parquet")
    assert t.group_by("table", "row", "col").len().filter(pl.col("len") > 1).height == 0
    # A band count and a prevalence are two lines under two names.
    screen = t.filter(pl.col("table") == "score.phq9.total.screen")
    expected = (["Below the cut-off", "At or above the cut-off", "Total", "Share at or above the cut-off"]
                if labels == "--labels" else ["_negative", "_positive", "_total", "_share"])
    assert screen["row"].to_list() == expected


def test_the_labelled_spss_file_opens_with_value_labels_and_user_missing_codes(tmp_path: Path) -> None:
    import pyreadstat

    from analysis.export import RECORD_LEVEL_FLAG
    from tests.support.paths import QUESTIONNAIRES
    from tests.support.datasets import shipped_dataset as _dataset

    data = _dataset(tmp_path)
    out = tmp_path / "records"
    assert cli.main(["export", "--data", str(data), "--format", "sav", "--out", str(out), "--lang", "en",
                     "--questionnaires", str(QUESTIONNAIRES), RECORD_LEVEL_FLAG]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["README.txt", "records.sav"]
    df, meta = pyreadstat.read_sav(str(out / "records.sav"), user_missing=True)
    # Survey order: the modules as full_survey.yaml lists them, items in module order.
    names = meta.column_names
    assert names[:6] == ["id", "centre", "period", "lang", "status", "demographics_age_band"]
    wanted = ["mehm_general_health", "mehm_chronic", "forgoing_care_reasons_cost", "hunger_vital_sign_worried",
              "hunger_vital_sign_ran_out", "phq9_q1", "phq9_q9", "gad7_q1"]
    assert [names.index(n) for n in wanted] == sorted(names.index(n) for n in wanted)
    # A multiple choice: one 0/1 variable per option; nobody here reached it.
    assert meta.variable_value_labels["forgoing_care_reasons_cost"][0.0] == "Not selected"
    assert set(df["forgoing_care_reasons_cost"]) == {-3.0}
    labels = dict(zip(meta.column_names, meta.column_labels))
    assert labels["mehm_general_health"] == "How is your health in general?"
    assert meta.variable_value_labels["mehm_general_health"] == {
        1.0: "Very good", 2.0: "Good", 3.0: "Fair", 4.0: "Bad", 5.0: "Very bad",
        -1.0: "Prefer not to answer", -2.0: "Skipped (not asked)", -3.0: "Not reached"}
    assert {r["lo"] for r in meta.missing_ranges["mehm_general_health"]} == {-1.0, -2.0, -3.0}
    assert sorted(df["mehm_general_health"].value_counts().items()) == [(1.0, 15), (2.0, 25), (4.0, 11)]
    # Codes that are not numbers get 1..n in the order of the choices.
    assert meta.variable_value_labels["hunger_vital_sign_worried"][1.0] == "Often true"
    assert sorted(df["hunger_vital_sign_worried"].value_counts().items()) == [(1.0, 11), (2.0, 12), (3.0, 28)]
    # Score variables: the score of each person, none when not computable.
    assert labels["phq9_total_score"] == "PHQ-9 score"
    assert sorted(df["phq9_total_score"].value_counts().items()) == [(0.0, 28), (18.0, 23)]
    assert df["who5_wellbeing_score"].isna().all()  # WHO-5 not answered here


def test_the_stata_file_opens_with_value_labels(tmp_path: Path) -> None:
    import pyreadstat

    from analysis.export import RECORD_LEVEL_FLAG
    from tests.support.paths import QUESTIONNAIRES
    from tests.support.datasets import shipped_dataset as _dataset

    data = _dataset(tmp_path)
    out = tmp_path / "stata"
    assert cli.main(["export", "--data", str(data), "--format", "dta", "--out", str(out), "--lang", "fr",
                     "--questionnaires", str(QUESTIONNAIRES), RECORD_LEVEL_FLAG]) == 0
    df, meta = pyreadstat.read_dta(str(out / "records.dta"))
    assert meta.variable_value_labels["mehm_general_health"][4] == "Mauvais"
    assert sorted(df["mehm_general_health"].value_counts().items()) == [(1, 15), (2, 25), (4, 11)]
    # The aggregated tables too.
    agg = tmp_path / "agg"
    assert cli.main(["export", "--data", str(data), "--format", "dta", "--out", str(agg), "--lang", "fr",
                     "--questionnaires", str(QUESTIONNAIRES)]) == 0
    tables, _ = pyreadstat.read_dta(str(agg / "tables.dta"))
    assert "n_display" in tables.columns and len(tables) > 50


def test_the_codebook_joins_every_value_in_duckdb_and_defines_scores(tmp_path: Path) -> None:
    import duckdb

    from tests.support.paths import QUESTIONNAIRES

    from tests.support.datasets import shipped_dataset as _dataset

    data = _dataset(tmp_path)
    out = tmp_path / "export"
    assert cli.main(["export", "--data", str(data), "--format", "parquet", "--out", str(out), "--lang", "en",
                     "--questionnaires", str(QUESTIONNAIRES), "--codes"]) == 0
    con = duckdb.connect()
    tables, book = str(out / "tables.parquet"), str(out / "codebook.parquet")
    answers = con.sql(f"""select count(*) from '{tables}' where kind in ('frequency', 'crosstab')
                          and row not like '!%' and row <> '_total'""").fetchall()[0][0]
    unmatched = con.sql(f"""select t.module, t.item, t.row from '{tables}' t left join '{book}' c
        on c.module = t.module and c.major = t.major and c.item = t.item and c.code = t.row
        where t.kind in ('frequency', 'crosstab') and t.row not like '!%' and t.row <> '_total'
        and c.code is null""").fetchall()
    assert answers > 50 and unmatched == []
    classes = con.sql(f"""select count(*) from '{tables}' t left join '{book}' c
        on c.module = t.module and c.item = 'score:' || t.item and c.code = t.row
        where t.kind = 'score' and t.row not in ('_total', '_share', '_mean') and c.code is null""").fetchall()[0][0]
    assert classes == 0
    phq = con.sql(f"""select distinct definition, hash from '{book}' where item = 'score:total'
                      and module = 'phq9'""").fetchall()
    assert len(phq) == 1 and "cut-off: 10 or more" in phq[0][0] and "items: q1, q2" in phq[0][0]
    assert len(phq[0][1]) >= 16
    relevance = con.sql(f"""select distinct relevance from '{book}' where module = 'phq9'
                            and item = 'difficulty'""").fetchall()
    assert relevance == [("${q1} > 0 or ${q2} > 0 or ${q3} > 0 or ${q4} > 0 or ${q5} > 0 or ${q6} > 0 or "
                          "${q7} > 0 or ${q8} > 0 or ${q9} > 0",)]
