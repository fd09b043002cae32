"""Real-browser tests: a real ``streamlit run`` server and Debian chromium.

What only a browser can leak is checked here: widget values re-sent by the
browser after a reset, requests to other hosts.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.support.browser import browser_page, kiosk_server, non_loopback, tap, wait_idle

pytestmark = pytest.mark.browser


def test_survey_then_reset_leaves_nothing_and_nothing_leaves_loopback(kiosk_dir: Path, team) -> None:
    requests: list[str] = []
    sent_frames: list[str] = []
    with kiosk_server(kiosk_dir) as url, browser_page(requests) as page:
        page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent_frames.append(
            payload if isinstance(payload, str) else payload.decode("latin-1"))))
        page.goto(url + "/")
        wait_idle(page)
        page.get_by_role("button", name="English", exact=True).wait_for()
        tap(page, "English")
        tap(page, "I agree, start")
        page.get_by_text("How is your health in general?").wait_for()
        # The respondent's nonce is part of every answer widget's key.
        classes = page.locator("[class*='st-key-']").evaluate_all(
            "els => els.map(e => e.className).join(' ')")
        nonces = set(re.findall(r"st-key-([0-9a-f]{16})-mehm", classes))
        assert len(nonces) == 1
        (nonce,) = nonces
        tap(page, "Very bad")
        tap(page, "Yes")
        tap(page, "Severely limited")
        page.get_by_text("Thank you!").wait_for()
        tap(page, "Finish")
        page.get_by_role("button", name="English", exact=True).wait_for()
        wait_idle(page)
        frames_before = len(sent_frames)
        # The detector works: the first patient's taps did carry the nonce.
        assert nonce in "".join(sent_frames[:frames_before])
        # Next patient.
        tap(page, "English")
        tap(page, "I agree, start")
        page.get_by_text("How is your health in general?").wait_for()
        buttons = page.get_by_role("button").all_inner_texts()
        assert not any(b.startswith("✓") for b in buttons), buttons
        assert "✓ Very bad" not in buttons
        later = "".join(sent_frames[frames_before:])
        assert nonce not in later  # no widget of the previous patient is sent back
        assert nonce not in page.content()
    assert requests, "no request recorded"
    assert non_loopback(requests) == []
    from kiosk.config import load_config
    from kiosk.store import Outbox
    assert Outbox(load_config(kiosk_dir).outbox_path).count() == 1
