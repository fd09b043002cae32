"""Outbox, translation-source and release-ledger codes no other test
reaches, each with its exact text; nothing already stored is harmed."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis import cli as analysis_cli
from surveycore.errors import ConfigError, StoreError
from kiosk.store import Outbox
from kiosk.translate import source_language
from tests.support.datasets import d1


def test_an_envelope_id_that_is_not_hexadecimal_stores_nothing(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.db")
    with pytest.raises(StoreError) as info:
        outbox.put("zz", b"sealed")
    assert info.value.user_text() == ("[S-019] envelope id 'zz' is not hexadecimal; give the envelope id exactly "
                                      "as listed (32 hexadecimal digits) (see docs/errors.md#s-019)")
    assert outbox.count() == 0


def test_an_outbox_that_cannot_be_opened(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("a file where the outbox folder should be")
    path = tmp_path / "file" / "outbox.db"
    with pytest.raises(StoreError) as info:
        Outbox(path)
    assert info.value.user_text() == (f"[S-011] cannot open the outbox {str(path)!r}: File exists; check that the "
                                      "outbox folder exists, is writable and that its disk is not full "
                                      "(see docs/errors.md#s-011)")


def test_a_module_without_a_validated_language_cannot_be_translated() -> None:
    with pytest.raises(ConfigError) as info:
        source_language({"languages": {"fr": "draft"}})
    assert info.value.user_text() == ("[TR-010] the module has no validated language to translate from; mark the "
                                      "reviewed wording 'validated' in 'languages' (see docs/errors.md#tr-010)")


def test_an_unreadable_release_ledger_stops_the_report(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    data, qdir = d1(tmp_path)
    ledger = data / "releases.jsonl"
    ledger.write_text('{"kind": "report"}\n')
    out = tmp_path / "r.html"
    assert analysis_cli.main(["report", "--data", str(data), "--out", str(out), "--questionnaires", str(qdir)]) == 1
    assert capsys.readouterr().err == (
        f"error: [REL-002] {ledger}:1: unreadable release record; restore the file from a backup (it lists the "
        "earlier releases every new one is checked against) (see docs/errors.md#rel-002)\n")
    assert not out.exists() and ledger.read_text() == '{"kind": "report"}\n'
