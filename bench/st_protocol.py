"""A minimal client of Streamlit's own browser protocol, for load tests
without browsers: one websocket per session on ``/_stcore/stream``,
``BackMsg`` protobufs up, ``ForwardMsg`` protobufs down, exactly what the
browser's frontend sends for a button tap (a rerun whose widget states carry
the button's trigger). No JavaScript, no rendering: what it times is the
server's share of a tap (receive, run the script, send the new screen).

Loopback only; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

FINISHED = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_SUCCESSFULLY")


@dataclass
class Screen:
    """What the last complete script run showed: button ids by key and
    label, and every text (headers, titles, markdown)."""

    buttons: list[tuple[str, str]] = field(default_factory=list)  # (widget id, label)
    texts: list[str] = field(default_factory=list)
    page_hash: str = ""


def button(screen: Screen, key_suffix: str) -> str:
    """The id of the one button whose key ends with ``key_suffix`` (widget
    ids end with the user's key)."""
    found = [wid for wid, _ in screen.buttons if wid.endswith(key_suffix)]
    if len(found) != 1:
        raise RuntimeError(f"button {key_suffix!r}: {len(found)} found among {screen.buttons[:8]}")
    return found[0]


class Session:
    """One browser-like session over the websocket."""

    def __init__(self, url: str) -> None:
        self.url = url.replace("http://", "ws://").rstrip("/") + "/_stcore/stream"
        self.ws = None
        self.screen = Screen()
        self._pending = Screen()

    async def open(self, timeout: float = 60) -> Screen:
        """Connect and run the script once, as a page load does."""
        import websockets
        self.ws = await websockets.connect(self.url, subprotocols=["streamlit"], max_size=2 ** 24,
                                           open_timeout=timeout)
        return await self._rerun(None, timeout)

    async def tap(self, widget_id: str, timeout: float = 60) -> Screen:
        """Tap a button; return once a run has finished successfully."""
        return await self._rerun(widget_id, timeout)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    async def _rerun(self, widget_id: str | None, timeout: float) -> Screen:
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = ""
        state.page_script_hash = self.screen.page_hash
        if widget_id is not None:
            w = state.widget_states.widgets.add()
            w.id = widget_id
            w.trigger_value = True
        await self.ws.send(msg.SerializeToString())
        return await asyncio.wait_for(self._until_finished(), timeout)

    async def _until_finished(self) -> Screen:
        self._pending = Screen(page_hash=self.screen.page_hash)
        while True:
            raw = await self.ws.recv()
            fwd = ForwardMsg()
            fwd.ParseFromString(raw)
            kind = fwd.WhichOneof("type")
            if kind == "new_session":
                self._pending = Screen(page_hash=fwd.new_session.page_script_hash)
            elif kind == "page_info_changed" or kind == "navigation":
                if kind == "navigation":
                    self._pending.page_hash = fwd.navigation.page_script_hash
            elif kind == "delta":
                self._collect(fwd)
            elif kind == "script_finished":
                if fwd.script_finished == FINISHED:
                    self.screen = self._pending
                    return self.screen
                # FINISHED_EARLY_FOR_RERUN: st.rerun / st.switch_page; the
                # server starts the next run by itself.
                self._pending = Screen(page_hash=self._pending.page_hash)

    def _collect(self, fwd: ForwardMsg) -> None:
        delta = fwd.delta
        if delta.WhichOneof("type") != "new_element":
            return
        el = delta.new_element
        kind = el.WhichOneof("type")
        if kind == "button":
            self._pending.buttons.append((el.button.id, el.button.label))
        elif kind == "heading":
            self._pending.texts.append(el.heading.body)
        elif kind == "markdown":
            self._pending.texts.append(el.markdown.body)
        elif kind == "progress":
            self._pending.texts.append(el.progress.text)


async def timed_taps(session: Session, choose, expect, taps: int, out: list[float]) -> None:
    """``taps`` times: pick a widget id with ``choose(screen, i)``, tap it,
    check the new screen with ``expect(screen, i)``, record milliseconds."""
    for i in range(taps):
        widget = choose(session.screen, i)
        t = time.perf_counter()
        screen = await session.tap(widget)
        out.append((time.perf_counter() - t) * 1000)
        if not expect(screen, i):
            raise RuntimeError(f"tap {i}: unexpected screen {screen.texts[:3]}")
