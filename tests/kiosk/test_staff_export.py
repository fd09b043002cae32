"""The staff area's export is the outbox's export: bundle and record as one
unit, then the reshuffle that hides arrival order in the outbox file."""

from __future__ import annotations

import secrets
from pathlib import Path

from surveycore.bundle import read_bundle
from kiosk.config import load_config
from kiosk.store import Outbox
from tests.support.driver import click
from tests.support.surveys import flow_kiosk, staff_login  # noqa: F401 (fixture)

# Spearman's rho of a random order has a standard deviation of 1/sqrt(N - 1): at
# N = 400, |rho| > 0.25 is z > 4.99, p < 1e-6 (at N = 60 it was p = 5 %).
N = 400


def _rank_correlation(order: list[int]) -> float:
    n = len(order)
    return 1 - 6 * sum((pos - rank) ** 2 for pos, rank in enumerate(order)) / (n * (n * n - 1))


def test_the_staff_export_hides_arrival_order(monkeypatch, flow_kiosk: Path) -> None:  # noqa: F811
    at = staff_login(monkeypatch, flow_kiosk)  # the kiosk has started and recorded its survey
    cfg = load_config(flow_kiosk)
    arrivals = [secrets.token_bytes(2200) for _ in range(N)]  # the size of real envelopes
    outbox = Outbox(cfg.outbox_path)
    for envelope in arrivals:
        outbox.put(secrets.token_hex(16), envelope)
    outbox.close()
    reshuffles: list[str] = []
    original = Outbox.reshuffle

    def spy(self: Outbox) -> None:
        reshuffles.append(str(self.path))
        original(self)
    monkeypatch.setattr(Outbox, "reshuffle", spy)

    click(at, "staff-export")
    assert at.success[0].value.startswith(f"Exported {N} envelopes to ")
    (bundle,) = (cfg.data_dir / "exports").glob("*.hkb")
    envelopes = read_bundle(bundle).envelopes
    assert sorted(envelopes) == sorted(arrivals)
    arrival = {e: i for i, e in enumerate(arrivals)}
    assert abs(_rank_correlation([arrival[e] for e in envelopes])) < 0.25  # see N
    # The outbox file was rewritten in key order after the export, as
    # 'kiosk export' does: where an envelope lies tells nothing of when.
    assert reshuffles == [str(cfg.outbox_path)]
    outbox = Outbox(cfg.outbox_path)
    try:
        assert outbox.meta("reshuffle_pending") is None
        assert outbox.meta("last_export")
    finally:
        outbox.close()
