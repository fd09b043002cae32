"""Privacy audit of a scripted day: 200 surveys in several languages, then
the kiosk's data folder, logs and temporary folder are searched for any
plaintext answer, and the envelopes for time and order leaks."""

from __future__ import annotations

import datetime as dt
import logging
import random
import re
import tempfile
from pathlib import Path

import pytest

from surveycore.bundle import read_bundle
from surveycore.response import PREFER_NOT
from analysis.envelopes import open_envelope
from kiosk.config import KioskRuntime, load_config
from kiosk.flow import Respondent
from kiosk import cli as kiosk_cli
from tests.support.driver import choose, click, start

N = 200
RHO_MAX = 0.3  # see test_sizes_identical_and_order_unrelated_to_arrival


def walk(r: Respondent, rng: random.Random) -> None:
    """Answer at random (a few "prefer not to answer"), maybe stop early."""
    while not r.finished:
        item = r.current
        if rng.random() < 0.1:
            r.prefer_not()
        elif item.choices and item.type != "multiple":
            r.answer(rng.choice(item.choices).code)
        else:
            r.next()
        if rng.random() < 0.03:
            return


@pytest.fixture
def day(monkeypatch, kiosk_dir: Path, tmp_path: Path, caplog, capfd):
    """Run the day; return what it left behind and what was submitted."""
    caplog.set_level(logging.DEBUG)
    tmp = tmp_path / "tmpdir"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    rng = random.Random(20261122)
    rt = KioskRuntime(load_config(kiosk_dir))
    submitted: list[tuple[str, dict]] = []
    labels: set[str] = set()
    for i in range(N):
        lang = rng.choice(["fr", "en"])
        r = Respondent(rt.survey, lang)
        walk(r, rng)
        for key, value in r.answers.items():
            if value is not PREFER_NOT:
                item = next(it for it in rt.survey.items if it.key == key)
                labels.update(c.label[lang] for c in item.choices if c.code == value)
        envelope_id = rt.submit(r, "complete" if r.finished else "partial", today=dt.date(2026, 11, 23))
        submitted.append((envelope_id, r.answers))
    # A few through the real pages too, so their logging is covered.
    for lang, codes in (("fr", "521"), ("en", "413")):
        at = start(monkeypatch, kiosk_dir)
        click(at, f"lang-{lang}")
        click(at, "consent-yes")
        for code in codes:
            choose(at, code)
    out, err = capfd.readouterr()
    rt.outbox.close()
    return {"config": kiosk_dir, "tmp": tmp, "submitted": submitted, "labels": labels,
            "logs": caplog.text + out + err, "runtime": rt}


@pytest.mark.slow
def test_no_plaintext_anywhere(day) -> None:
    cfg = load_config(day["config"])
    # Labels of 4 bytes or fewer ("Oui", "No") occur by chance in a megabyte of
    # ciphertext; longer ones and the JSON form of an answer cannot.
    needles = {"general_health", "chronic", "limitation", "mehm", "answers", "skipped",
               '"mehm.chronic":"2"', '"mehm.general_health":'} | {x for x in day["labels"] if len(x.encode()) > 4}
    assert {"Très bon", "Very good", "Très mauvais"} <= needles  # the day did give such answers
    places = [p for folder in (cfg.data_dir, day["tmp"]) for p in folder.rglob("*") if p.is_file()]
    assert any(p.name == "outbox.sqlite3" for p in places)
    found = []
    for needle in sorted(needles):
        encodings = {needle.encode("utf-8"), needle.encode("utf-16-le")}
        for p in places:
            if any(e in p.read_bytes() for e in encodings):
                found.append((str(p), needle))
        if needle in day["logs"]:
            found.append(("logs", needle))
    assert found == []


@pytest.mark.slow
def test_envelopes_hold_no_time_finer_than_the_period(day, team) -> None:
    cfg = load_config(day["config"])
    bundle = cfg.data_dir.parent / "day.hkb"
    assert kiosk_cli.main(["export", "--config", str(day["config"]), "--out", str(bundle)]) == 0
    envelopes = read_bundle(bundle).envelopes
    assert len(envelopes) == N + 2
    time_like = re.compile(r"\d{1,2}:\d{2}|\d{4}-\d{2}-\d{2}|T\d{2}|\b1[5-9]\d{8}\b|Z$")
    for env in envelopes:
        body, _ = open_envelope(env, team.keys)
        assert set(body) == {"v", "id", "survey", "modules", "centre", "period", "lang", "status", "test",
                             "answers", "skipped"}
        assert re.fullmatch(r"\d{4}-W\d{2}", body["period"])
        strings = [body["period"], body["centre"], body["lang"], body["status"], body["id"],
                   *(str(v) for v in body["answers"].values())]
        assert not any(time_like.search(s) for s in strings), strings


@pytest.mark.slow
def test_sizes_identical_and_order_unrelated_to_arrival(day, team) -> None:
    cfg = load_config(day["config"])
    bundle = cfg.data_dir.parent / "day.hkb"
    assert kiosk_cli.main(["export", "--config", str(day["config"]), "--out", str(bundle)]) == 0
    envelopes = read_bundle(bundle).envelopes
    assert len({len(e) for e in envelopes}) == 1
    arrival = {eid: i for i, (eid, _) in enumerate(day["submitted"])}
    order = [arrival[open_envelope(e, team.keys)[0]["id"]] for e in envelopes
             if open_envelope(e, team.keys)[0]["id"] in arrival]
    assert len(order) == N
    # Spearman rank correlation between bundle position and arrival order.
    n = len(order)
    d2 = sum((pos - rank) ** 2 for pos, rank in enumerate(order))
    rho = 1 - 6 * d2 / (n * (n * n - 1))
    # A random order has rho ~ N(0, 1/(N-1)): |rho| >= 0.3 at N = 200 is
    # z = 4.2, p < 0.01 % (0.25 was z = 3.5, a false failure in 2,400 runs);
    # an order that follows arrival gives 1.
    assert abs(rho) < RHO_MAX, rho


def _rank_correlation(values: list[int]) -> float:
    n = len(values)
    order = sorted(range(n), key=lambda i: values[i])
    position = {item: rank for rank, item in enumerate(order)}
    return 1 - 6 * sum((i - position[i]) ** 2 for i in range(n)) / (n * (n * n - 1))


def test_where_an_envelope_lies_in_the_file_tells_nothing(tmp_path: Path) -> None:
    import os
    import secrets
    from kiosk.store import Outbox
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    arrivals = []
    for _ in range(N):
        envelope = os.urandom(2200)  # the size of a real envelope
        outbox.put(secrets.token_hex(16), envelope)
        arrivals.append(envelope)
    for stage in ("stored", "exported"):
        if stage == "exported":
            outbox.export_bundle(tmp_path / "b.hkb")
        outbox.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        data = (tmp_path / "outbox.sqlite3").read_bytes()
        # The envelope's last bytes would sit in an overflow page allocated at
        # arrival time if envelopes did not fit in a page.
        offsets = [data.find(e[-64:]) for e in arrivals]
        assert min(offsets) > 0
        assert abs(_rank_correlation(offsets)) < RHO_MAX, stage
    assert _rank_correlation(list(range(N))) == 1.0  # the measure sees an ordered file
    outbox.close()
