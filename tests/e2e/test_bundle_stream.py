"""Bundles are read one envelope at a time: ingest never holds a whole
bundle, and writes a large run in parts (memory is measured by
bench/bench_ingest.py, not here)."""

from __future__ import annotations

import io
import sqlite3
import uuid
from pathlib import Path

import polars as pl
import pytest

from analysis import ingest as ingest_mod
from analysis.ingest import ingest, scan_responses
from kiosk.simulate import Behaviour
from kiosk.simulate import simulate
from surveycore.errors import EnvelopeError
from kiosk.keys import create_device_key
from surveycore.bundle import BUNDLE_MAGIC, BundleReader, read_bundle
from kiosk.store import bundle_bytes
from tests.support.kiosks import TeamKeys

ROOT = Path(__file__).resolve().parents[2]
# magic, version, definitions length, the definitions, envelope count
HEAD = len(BUNDLE_MAGIC) + 5 + len(b"definitions") + 4


class RecordingFile(io.FileIO):
    """A file that counts the bytes read from it."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, "rb")
        self.bytes_read = 0

    def read(self, n: int = -1) -> bytes:  # type: ignore[override]
        data = super().read(n)
        self.bytes_read += len(data)
        return data


def fake_bundle(path: Path, n: int, size: int = 1000) -> list[bytes]:
    envelopes = [bytes([k % 256]) * size for k in range(n)]
    path.write_bytes(bundle_bytes(envelopes, b"definitions"))
    return envelopes


def test_a_bundle_is_read_one_envelope_at_a_time(tmp_path: Path) -> None:
    envelopes = fake_bundle(tmp_path / "b.hkb", 500)
    fh = RecordingFile(tmp_path / "b.hkb")
    with BundleReader(tmp_path / "b.hkb", fh) as reader:
        assert (reader.count, reader.definitions, reader.sha256) == (500, b"definitions", "")
        it = iter(reader)
        first = next(it)
        # The header and one envelope: not the 500 KB of the file.
        assert first == envelopes[0]
        assert fh.bytes_read == HEAD + 4 + 1000
        for k in range(1, 10):
            assert next(it) == envelopes[k]
        assert fh.bytes_read == HEAD + 10 * (4 + 1000)
        assert list(it) == envelopes[10:]
    assert reader.sha256 == read_bundle(tmp_path / "b.hkb").sha256 != ""
    fh.close()


def test_a_damaged_end_is_reported_after_the_envelopes_before_it(tmp_path: Path) -> None:
    fake_bundle(tmp_path / "b.hkb", 3)
    raw = bytearray((tmp_path / "b.hkb").read_bytes())
    raw[-1] ^= 1
    (tmp_path / "b.hkb").write_bytes(bytes(raw))
    with BundleReader(tmp_path / "b.hkb") as reader:
        got = []
        with pytest.raises(EnvelopeError) as err:
            for env in reader:
                got.append(env)
    assert len(got) == 3 and reader.sha256 == ""
    assert err.value.user_text() == (f"[BND-003] bundle '{tmp_path / 'b.hkb'}' is damaged (checksum mismatch); "
                                     "export it again from the kiosk: nothing was removed there (see docs/errors.md#bnd-003)")


def test_ingest_reads_a_bundle_only_as_far_as_the_batches_asked_for(tmp_path: Path, monkeypatch) -> None:
    envelopes = fake_bundle(tmp_path / "b.hkb", 1000)
    files: list[RecordingFile] = []

    def recording_reader(path: Path) -> BundleReader:
        files.append(RecordingFile(Path(path)))
        return BundleReader(path, files[-1])

    monkeypatch.setattr(ingest_mod, "BundleReader", recording_reader)
    sha = read_bundle(tmp_path / "b.hkb").sha256
    stream = ingest_mod._stream([ingest_mod._Source("b.hkb", tmp_path / "b.hkb", 1000, sha)], 200)
    first = next(stream)
    assert [env for _, _, _, env in first] == envelopes[:200]
    # Two hundred envelopes read, not the thousand of the file.
    assert files[0].bytes_read == HEAD + 200 * (4 + 1000)
    assert sum(len(b) for b in stream) == 800


def test_a_bundle_changed_between_its_check_and_its_opening_stops_the_run(tmp_path: Path) -> None:
    fake_bundle(tmp_path / "b.hkb", 10)
    sha = read_bundle(tmp_path / "b.hkb").sha256
    fake_bundle(tmp_path / "b.hkb", 11)
    stream = ingest_mod._stream([ingest_mod._Source("b.hkb", tmp_path / "b.hkb", 10, sha)], 200)
    with pytest.raises(EnvelopeError) as err:
        list(stream)
    assert err.value.user_text() == ("[BND-003] bundle 'b.hkb' changed while it was being ingested; nothing of "
                                     "this run was kept: run the ingest again (see docs/errors.md#bnd-003)")


def test_a_large_run_is_written_in_parts(tmp_path: Path, team: TeamKeys, monkeypatch) -> None:
    create_device_key(tmp_path / "device.key")
    bundle = tmp_path / "b.hkb"
    counts = simulate(25, ROOT / "questionnaires" / "demo_survey.yaml", team.dir / "team.pub",
                      tmp_path / "device.key", bundle, seed=3, behaviour=Behaviour(decline=0, abandon_per_screen=0))
    assert counts["complete"] == 25
    # Parts are cut between batches of envelopes opened.
    monkeypatch.setattr(ingest_mod, "CHUNK_RESPONSES", 10)
    monkeypatch.setattr(ingest_mod._Opening, "BATCH", 10)
    data = tmp_path / "data"
    result = ingest([bundle], team.keys, data, [])
    assert (result.ingested, result.quarantined) == (25, [])
    parts = sorted(p.name for p in (data / "responses").iterdir())
    part = sqlite3.connect(data / "ledger.sqlite3").execute("SELECT part FROM runs").fetchone()[0]
    names = [f"part-{part}.parquet", f"part-{part}-0001.parquet", f"part-{part}-0002.parquet"]
    assert parts == sorted(names)
    assert [pl.read_parquet(data / "responses" / p).height for p in names] == [10, 10, 5]
    assert all(len(list((data / "answers" / "module=mehm" / "major=1").glob(f"{n}"))) == 1 for n in names)
    assert scan_responses(data).select(pl.len()).collect().item() == 25
    # Again: all held already, nothing new written.
    again = ingest([bundle], team.keys, data, [])
    assert (again.ingested, again.duplicates) == (0, 25)
    assert len(list((data / "responses").iterdir())) == 3


def test_a_committed_run_interrupted_between_its_parts_is_completed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "responses").mkdir(parents=True)
    ledger = ingest_mod._ledger(data)
    part, other = uuid.uuid4().hex, uuid.uuid4().hex
    ledger.execute("INSERT INTO runs (bundles, ingested, duplicates, quarantined, day, part, state, workers) "
                   "VALUES ('[]', 2, 0, 0, '2026-01-01', ?, 'staged', 1)", (part,))
    for name in (f"part-{part}.parquet", f"part-{part}-0001.parquet", f"part-{other}-0001.parquet"):
        (data / "responses" / (name + ingest_mod.STAGED)).write_bytes(b"x")
    ingest_mod._recover(data, ledger)
    # The committed run's parts are published; the other run's never committed: gone.
    assert sorted(p.name for p in (data / "responses").iterdir()) == [
        f"part-{part}-0001.parquet", f"part-{part}.parquet"]


def test_workers_and_small_batches_give_the_same_outcomes_in_bundle_order(tmp_path: Path, team: TeamKeys,
                                                                          monkeypatch) -> None:
    create_device_key(tmp_path / "device.key")
    bundle = tmp_path / "b.hkb"
    simulate(30, ROOT / "questionnaires" / "demo_survey.yaml", team.dir / "team.pub", tmp_path / "device.key",
             bundle, seed=4, behaviour=Behaviour(decline=0))
    monkeypatch.setattr(ingest_mod._Opening, "BATCH", 4)
    copy = tmp_path / "copy.hkb"
    copy.write_bytes(bundle.read_bytes())
    result = ingest([bundle, copy], team.keys, tmp_path / "data", [], workers=2, parallel_min=0)
    assert (result.workers, result.ingested, result.duplicates, result.quarantined) == (2, 30, 30, [])
    assert result.duplicate_list == [("copy.hkb", i, f"[ING-020] same response as b.hkb #{i} in this run")
                                     for i in range(30)]
