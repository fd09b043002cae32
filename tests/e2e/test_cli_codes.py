"""Command-line input errors, each with its exact coded line and status 1,
and nothing written: the codes a user meets most."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis import cli as analysis_cli
from kiosk import cli as kiosk_cli
from tests.support.datasets import d1


def see(code: str) -> str:
    return f" (see docs/errors.md#{code.lower()})\n"


def test_simulate_refuses_a_bad_span(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    base = ["simulate", "--n", "5", "--survey", "s.yaml", "--pub", "t.pub", "--device-key", "d.key",
            "--out", str(tmp_path / "b.hkb")]
    assert kiosk_cli.main([*base, "--weeks", "0"]) == 1
    assert capsys.readouterr().err == ("error: [CFG-031] --weeks must be 1 or more; give --weeks 1 or more and "
                                       "--start-week as an ISO week such as 2026-W01" + see("CFG-031"))
    assert kiosk_cli.main([*base, "--start-week", "2026-13"]) == 1
    assert capsys.readouterr().err == ("error: [CFG-031] --start-week '2026-13': give an ISO week such as 2026-W01"
                                       + see("CFG-031"))
    assert not (tmp_path / "b.hkb").exists()


def test_ingest_with_nothing_to_do(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert analysis_cli.main(["ingest", "--key", "team.key", "--data", str(tmp_path / "data")]) == 1
    assert capsys.readouterr().err == ("error: [CFG-032] give the bundles to ingest, or --retry-quarantine to try "
                                       "the quarantined envelopes again" + see("CFG-032"))
    assert not (tmp_path / "data").exists()


def test_a_breakdown_that_is_not_name_equals_source(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    data, qdir = d1(tmp_path)
    out = tmp_path / "r.html"
    assert analysis_cli.main(["report", "--data", str(data), "--out", str(out), "--questionnaires", str(qdir),
                              "--breakdown", "nobreak"]) == 1
    assert capsys.readouterr().err == (
        "error: [CFG-040] --breakdown 'nobreak': use NAME=SOURCE, e.g. neighbourhood=demographics.neighbourhood "
        "(SOURCE '-' drops the breakdown)" + see("CFG-040"))
    assert not out.exists() and not (data / "releases.jsonl").exists()


def test_keygen_refuses_a_short_passphrase(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "pw.txt").write_text("short\n")
    assert analysis_cli.main(["keygen", "--out", str(tmp_path / "team"), "--passphrase-file",
                              str(tmp_path / "pw.txt")]) == 1
    assert capsys.readouterr().err == ("error: [KEY-030] the passphrase must have at least 8 characters; choose a "
                                       "longer passphrase (a short sentence is easy to remember)" + see("KEY-030"))
    assert not (tmp_path / "team" / "team.key").exists()


def test_keygen_refuses_two_different_passphrases(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    typed = iter(["a long enough passphrase", "another long passphrase"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    assert analysis_cli.main(["keygen", "--out", str(tmp_path / "team")]) == 1
    assert capsys.readouterr().err == ("error: [KEY-032] the two passphrases differ; type the same passphrase "
                                       "twice" + see("KEY-032"))
    assert not (tmp_path / "team" / "team.key").exists()


def test_pool_refuses_what_it_cannot_pool(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    data, _ = d1(tmp_path / "a")  # a dataset built without the survey definitions
    (tmp_path / "notes").mkdir()
    assert analysis_cli.main(["pool", str(tmp_path / "notes"), "--out", str(tmp_path / "pooled")]) == 1
    assert capsys.readouterr().err == (f"error: [POOL-001] {str(tmp_path / 'notes')!r} is not a dataset folder "
                                       "(no responses/); give folders made by 'analysis ingest'" + see("POOL-001"))
    assert analysis_cli.main(["pool", str(data), "--out", str(tmp_path / "pooled")]) == 1
    assert capsys.readouterr().err == (
        f"error: [POOL-002] {str(data)!r} holds responses whose definitions it does not keep (survey hash None): "
        "they were ingested from bundles without definitions; ingest bundles exported by the current kiosk "
        "software, then pool" + see("POOL-002"))
    assert not (tmp_path / "pooled").exists()
    assert analysis_cli.main(["pool", str(data), str(data), "--out", str(tmp_path / "notes")]) == 1
    assert capsys.readouterr().err == (f"error: [POOL-007] {str(tmp_path / 'notes')!r} exists; give a new folder "
                                       "for the pooled dataset" + see("POOL-007"))
    assert list((tmp_path / "notes").iterdir()) == []


@pytest.mark.parametrize("host, line", [
    ("", "error: [TLS-001] give at least one host name or IP address for the certificate" + see("TLS-001")),
    ("bad host", "error: [TLS-002] --host 'bad host' is neither an IP address nor a host name; give a name such "
                 "as kiosk.local or an address such as 192.168.1.20" + see("TLS-002")),
    ("x" * 65, f"error: [TLS-002] --host '{'x' * 65}' is neither an IP address nor a host name; give a name such "
               "as kiosk.local or an address such as 192.168.1.20" + see("TLS-002")),
])
def test_make_cert_refuses_a_host_it_cannot_certify(tmp_path: Path, capsys, host: str, line: str) -> None:  # type: ignore[no-untyped-def]
    cert, key = tmp_path / "k.crt", tmp_path / "k.key"
    assert kiosk_cli.main(["make-cert", "--host", host, "--cert", str(cert), "--key", str(key)]) == 1
    assert capsys.readouterr().err == line
    assert not cert.exists() and not key.exists()


def test_a_bundle_path_that_cannot_be_read(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    bundle = tmp_path / "notes.txt" / "monday.hkb"
    assert analysis_cli.main(["ingest", str(bundle), "--key", "team.key", "--data", str(tmp_path / "data")]) == 1
    assert capsys.readouterr().err == (f"error: [BND-009] bundle {str(bundle)!r} cannot be read (Not a directory); "
                                       "check the file's permissions" + see("BND-009"))
    assert not (tmp_path / "data").exists()
