"""`analysis dashboard --data` naming no dataset (a typo, the team's key
folder) is refused before any server starts, with the folder to give."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis import cli as analysis_cli


@pytest.mark.parametrize("given", ["datset", "receipts"])
def test_the_dashboard_of_no_dataset_is_refused_before_serving(tmp_path: Path, monkeypatch, capsys,
                                                               given: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "receipts").mkdir()
    started = []
    monkeypatch.setattr("surveycore.process.run_child", lambda *a, **k: started.append(a) or 0)
    data = str(tmp_path / given)
    assert analysis_cli.main(["dashboard", "--data", data, "--port", "18999"]) == 1
    captured = capsys.readouterr()
    assert captured.err == (f"error: [DSH-002] --data {data!r} holds no dataset (no responses/ folder); give the "
                            "folder 'analysis ingest --data' wrote (see docs/errors.md#dsh-002)\n")
    assert captured.out == "" and started == []
