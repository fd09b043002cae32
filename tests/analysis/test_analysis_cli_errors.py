"""Errors of the analysis side meet the one hierarchy: a bad ``--k`` is refused
before any work with a coded line, and a refusal of the disclosure gate
reaches the command line as DSC-001, never as a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from analysis import cli, disclosure
from tests.support.datasets import d1

ROOT = Path(__file__).resolve().parents[2]


def _k_line(k: int) -> str:
    return (f"error: [CFG-034] --k {k}: give the suppression threshold as a whole number of 1 or more (default 11) "
            "(see docs/errors.md#cfg-034)\n")


def test_report_with_k_zero_is_one_coded_line_without_traceback(tmp_path: Path) -> None:
    data, qdir = d1(tmp_path)
    out = tmp_path / "report.html"
    proc = subprocess.run([sys.executable, "-m", "analysis", "report", "--data", str(data), "--out", str(out),
                           "--questionnaires", str(qdir), "--k", "0"], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert proc.returncode == 1
    assert proc.stderr == _k_line(0)
    assert "Traceback" not in proc.stderr and not out.exists()
    assert not (data / "releases.jsonl").exists()


@pytest.mark.parametrize("command", [["export", "--format", "csv"], ["dashboard"]])
def test_export_and_dashboard_refuse_a_negative_k(tmp_path: Path, capsys, command: list[str]) -> None:  # type: ignore[no-untyped-def]
    data, qdir = d1(tmp_path)
    out = ["--out", str(tmp_path / "export")] if command[0] == "export" else []
    assert cli.main([*command, "--data", str(data), *out, "--k", "-3"]) == 1
    assert capsys.readouterr().err == _k_line(-3)
    assert not (tmp_path / "export").exists()


def test_a_refusal_of_the_disclosure_gate_is_coded(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    data, qdir = d1(tmp_path)

    def report_with_a_bad_threshold(*args: object, **kwargs: object) -> None:
        disclosure.suppressed_label(0)  # the real gate, called with what it must refuse

    monkeypatch.setattr("analysis.report.write_report", report_with_a_bad_threshold)
    assert cli.main(["report", "--data", str(data), "--out", str(tmp_path / "r.html"),
                     "--questionnaires", str(qdir)]) == 1
    assert capsys.readouterr().err == (
        "error: [DSC-001] k must be an integer >= 1, got 0; check the --k given to the command; otherwise report "
        "it with the command you ran (see docs/errors.md#dsc-001)\n")
