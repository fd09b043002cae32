"""The whole path: surveys answered on the kiosk → kiosk export → analysis
ingest → analysis report, with exact counts; ingest is idempotent."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from analysis import cli as analysis_cli
from analysis.ingest import scan_answers, scan_responses
from kiosk import cli as kiosk_cli
from kiosk.config import KioskRuntime, load_config
from kiosk.flow import Respondent
from tests.support.kiosks import PASSPHRASE
from tests.support.published import Tables, plausible

# 30 respondents: general health (code, count), then chronic and limitation.
PLAN = ([("1", "1", "3")] * 12 + [("2", "2", "3")] * 13 + [("3", "1", "2")] * 3 + [(None, "2", "1")] * 2)



def answer_surveys(config: Path) -> None:
    rt = KioskRuntime(load_config(config))
    for plan in PLAN:
        r = Respondent(rt.survey, "fr")
        for code in plan:
            r.prefer_not() if code is None else r.answer(code)
        assert r.finished
        rt.submit(r)
    for _ in range(4):
        rt.decline("en")
    rt.outbox.close()


def test_export_ingest_report_exact_counts(kiosk_dir: Path, team, tmp_path: Path, capsys) -> None:
    answer_surveys(kiosk_dir)
    bundle = tmp_path / "bundle.hkb"
    assert kiosk_cli.main(["export", "--config", str(kiosk_dir), "--out", str(bundle)]) == 0
    pw = tmp_path / "pw.txt"
    pw.write_text(PASSPHRASE.decode() + "\n")
    data = tmp_path / "data"
    args = ["ingest", str(bundle), "--key", str(team.dir / "team.key"), "--passphrase-file", str(pw),
            "--data", str(data), "--questionnaires", str(kiosk_dir.parent / "survey"), "--any-device"]
    assert analysis_cli.main(args) == 0
    out = capsys.readouterr().out
    assert "ingested: 34\nalready ingested (skipped): 0\nquarantined: 0" in out

    responses = scan_responses(data).collect()
    answers = scan_answers(data).collect()
    assert responses.height == 34
    assert responses.group_by("status").len().sort("status").rows() == [("complete", 30), ("declined", 4)]
    gh = (answers.filter(pl.col("item") == "general_health").group_by("state", "value").len()
          .sort("state", "value").rows())
    assert gh == [("answered", "1", 12), ("answered", "2", 13), ("answered", "3", 3), ("refused", None, 2)]
    assert "rid" in responses.columns and "id" not in responses.columns  # no envelope id in the dataset

    # Ingesting the same bundle again changes nothing.
    before = sorted(p.name for p in data.rglob("*.parquet"))
    assert analysis_cli.main(args) == 0
    out = capsys.readouterr().out
    assert "ingested: 0\nalready ingested (skipped): 34\nquarantined: 0" in out
    assert sorted(p.name for p in data.rglob("*.parquet")) == before
    assert scan_responses(data).collect().height == 34

    report = tmp_path / "report.html"
    assert analysis_cli.main(["report", "--data", str(data), "--out", str(report), "--lang", "en",
                              "--questionnaires", str(kiosk_dir.parent / "survey")]) == 0
    text = report.read_text(encoding="utf-8")
    parser = Tables()
    parser.feed(text)
    # Every count is published with the cell key method's noise; the 4
    # declined read "< 11" (or 0: a count of at most 4 may drop to 0).
    participation = parser.tables["participation"]
    assert [row[0] for row in participation] == ["Complete", "Partial", "Declined at consent", "Total"]
    assert all(plausible(row[1], true) for row, true in zip(participation, [30, 0, 4, 34])), participation
    assert participation[1][1] == "0"  # nobody: never perturbed
    gh_table = parser.tables["mehm.general_health"]
    assert gh_table[0] == ["Answer", "Persons", "%"]
    assert [row[0] for row in gh_table[1:]] == ["Very good", "Good", "Fair", "Bad", "Very bad",
                                                "Prefer not to answer", "Total"]
    assert all(plausible(row[1], true) for row, true in zip(gh_table[1:], [12, 13, 3, 0, 0, 2, 30])), gh_table
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", text)

    # The receipts (one per run, both for this kiosk) let the kiosk delete exactly what was ingested.
    capsys.readouterr()
    assert kiosk_cli.main(["confirm", str(data / "receipts"), "--config", str(kiosk_dir)]) == 0
    assert capsys.readouterr().out == (f"2 receipt(s) for this kiosk in {data / 'receipts'}\n"
                                       "removed 34 envelope(s) confirmed as ingested\n"
                                       "0 envelope(s) remain on this kiosk\n")
