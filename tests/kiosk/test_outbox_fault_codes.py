"""Outbox failures SQLite reports other than a full or read-only disk: each
operation names its own code, and a disk write error is told apart (S-018);
nothing already stored is lost."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from surveycore.errors import StoreError
from kiosk.store import Outbox

ID = "ab" * 16


class FailingConnection:
    """The outbox's SQLite connection, failing the statements that start with ``fails``."""

    def __init__(self, db: sqlite3.Connection, fails: str, errorcode: int = 0) -> None:
        self.db, self.fails, self.errorcode = db, fails, errorcode

    def _check(self, sql: str) -> None:
        if sql.lstrip().upper().startswith(self.fails):
            exc = sqlite3.OperationalError("database is locked" if not self.errorcode else "disk I/O error")
            exc.sqlite_errorcode = self.errorcode  # type: ignore[attr-defined]
            raise exc

    def execute(self, sql: str, *args: Any) -> Any:
        self._check(sql)
        return self.db.execute(sql, *args)

    def executemany(self, sql: str, *args: Any) -> Any:
        self._check(sql)
        return self.db.executemany(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    box = Outbox(tmp_path / "outbox.db")
    box.put(ID, b"sealed envelope")
    return box


def failing(box: Outbox, fails: str, errorcode: int = 0) -> sqlite3.Connection:
    real = box.db
    box.db = FailingConnection(real, fails, errorcode)  # type: ignore[assignment]
    return real


def test_a_response_that_cannot_be_stored(outbox: Outbox) -> None:
    real = failing(outbox, "INSERT")
    with pytest.raises(StoreError) as info:
        outbox.put("cd" * 16, b"another")
    assert info.value.user_text() == ("[S-012] could not store the response: database is locked; free space on "
                                      "the kiosk's disk; nothing already stored was lost (see docs/errors.md#s-012)")
    outbox.db = real  # type: ignore[assignment]
    assert outbox.count() == 1


def test_a_disk_write_error_is_told_apart(outbox: Outbox) -> None:
    real = failing(outbox, "INSERT", errorcode=10)  # SQLITE_IOERR
    with pytest.raises(StoreError) as info:
        outbox.put("cd" * 16, b"another")
    assert info.value.user_text() == ("[S-018] could not store the response: the disk reported a write error "
                                      "(disk I/O error); nothing already stored was lost, but check the storage "
                                      "(see docs/errors.md#s-018)")
    outbox.db = real  # type: ignore[assignment]
    assert outbox.count() == 1


def test_a_reshuffle_that_fails_keeps_the_data(outbox: Outbox) -> None:
    real = failing(outbox, "VACUUM")
    with pytest.raises(StoreError) as info:
        outbox.reshuffle()
    assert info.value.user_text() == ("[S-021] could not reorder the outbox: database is locked; free space on "
                                      "the kiosk's disk and start the kiosk again; nothing was lost "
                                      "(see docs/errors.md#s-021)")
    outbox.db = real  # type: ignore[assignment]
    assert outbox.count() == 1


def test_an_export_that_cannot_be_recorded(outbox: Outbox) -> None:
    real = failing(outbox, "BEGIN")
    with pytest.raises(StoreError) as info:
        outbox.mark_exported([bytes.fromhex(ID)])
    assert info.value.user_text() == ("[S-013] could not record the export: database is locked; free space on the "
                                      "kiosk's disk and export again; nothing was removed (see docs/errors.md#s-013)")
    outbox.db = real  # type: ignore[assignment]
    assert outbox.count() == 1


def test_a_confirmation_that_cannot_remove(outbox: Outbox) -> None:
    real = failing(outbox, "SELECT")
    with pytest.raises(StoreError) as info:
        outbox.confirm_ids([bytes.fromhex(ID)])
    assert info.value.user_text() == ("[S-014] could not remove confirmed envelopes: database is locked; free space "
                                      "on the kiosk's disk and run 'kiosk confirm' again; nothing was removed "
                                      "(see docs/errors.md#s-014)")
    outbox.db = real  # type: ignore[assignment]
    assert outbox.count() == 1


def test_survey_definitions_that_cannot_be_recorded(outbox: Outbox) -> None:
    real = failing(outbox, "INSERT OR IGNORE INTO DEFINITION_FILES")
    with pytest.raises(StoreError) as info:
        outbox.record_survey({"hash": "h"}, {"f": b"id: x\n"})
    assert info.value.user_text() == ("[S-022] could not record the survey definitions: database is locked; free "
                                      "space on the kiosk's disk and start the kiosk again; nothing was lost "
                                      "(see docs/errors.md#s-022)")
    outbox.db = real  # type: ignore[assignment]
    assert outbox.count() == 1


def test_an_operating_system_error_while_storing_is_coded_for_the_staff(kiosk_dir: Path, monkeypatch) -> None:
    from kiosk.config import KioskRuntime, load_config
    from tests.support.kiosks import answered

    runtime = KioskRuntime(load_config(kiosk_dir))
    try:
        def no_room(envelope_id: str, envelope: bytes) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(runtime.outbox, "put", no_room)
        with pytest.raises(StoreError) as info:
            runtime.submit(answered(runtime))
        assert info.value is runtime.last_error  # what the staff area shows
        assert info.value.user_text() == ("[S-015] could not store the response: No space left on device; free "
                                          "space on the kiosk's disk; nothing already stored was lost "
                                          "(see docs/errors.md#s-015)")
    finally:
        runtime.outbox.close()
