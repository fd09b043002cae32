"""No plaintext answer on the kiosk: after surveys, the data folder and the
logs hold none of the answers, item ids or labels."""

from __future__ import annotations

import logging
from pathlib import Path

from kiosk.config import load_config
from tests.support.driver import choose, click, start

# What a thief could look for: item ids, the JSON key of the answers, the
# module id, and the labels of the answers chosen below (UTF-8 and UTF-16).
NEEDLES = ["general_health", "chronic", "limitation", "answers", "mehm", "Très mauvais", "Assez bon",
           "Very bad", "Fair", "fortement limit", "severely", "Oui", "skipped"]


def _all_bytes(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_data_folder_and_logs_hold_no_plaintext_answer(monkeypatch, kiosk_dir: Path, caplog, capfd) -> None:
    caplog.set_level(logging.DEBUG)
    for lang, codes in (("fr", ("5", "1", "1")), ("en", ("3", "1", "1")), ("fr", ("3", "1", "1"))):
        at = start(monkeypatch, kiosk_dir)
        click(at, f"lang-{lang}")
        click(at, "consent-yes")
        for code in codes:
            choose(at, code)
        assert [t.value for t in at.title][0] in ("Merci !", "Thank you!")
    data_dir = load_config(kiosk_dir).data_dir
    files = _all_bytes(data_dir)
    assert any(p.name == "outbox.sqlite3" for p in files)
    out, err = capfd.readouterr()
    blobs = list(files.items()) + [(Path("<log>"), caplog.text.encode()), (Path("<stdout>"), out.encode()),
                                   (Path("<stderr>"), err.encode())]
    found = []
    for path, blob in blobs:
        for needle in NEEDLES:
            for encoded in (needle.encode("utf-8"), needle.encode("utf-16-le")):
                if encoded in blob:
                    found.append((str(path), needle))
    assert found == []


def test_the_scan_would_see_a_plaintext_answer(tmp_path: Path) -> None:
    # Guard against a scan that cannot fail: plant an answer and find it.
    (tmp_path / "leak.db").write_bytes(b"\x00\x01" + "Très mauvais".encode() + b"\x00")
    blob = _all_bytes(tmp_path)[tmp_path / "leak.db"]
    assert "Très mauvais".encode() in blob
