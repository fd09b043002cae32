"""The kiosk's Streamlit server as an ASGI app (``streamlit run`` starts it
with the hardened config of :mod:`kiosk.server`), with one addition to
Streamlit's own routes: a browser that opens a nested address lands on the
welcome screen.

Why: Streamlit answers every unknown path with its ``index.html``, whose
scripts are addressed relative to the page (``./static/js/...``). At
``/pages/question.py`` they resolve to ``/pages/static/js/...``, which is
again ``index.html``: no script runs and the tablet shows a blank page that
no touch can leave. One-level paths (``/question``) load fine and Streamlit's
page routing sends them to the welcome screen itself.
"""

from __future__ import annotations

import gc
import secrets
from pathlib import Path
from typing import Any, Awaitable, Callable

import streamlit as st
from starlette.middleware import Middleware

SCRIPT = Path(__file__).resolve().parent / "app.py"

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def is_page_navigation(scope: Scope) -> bool:
    """True for a browser's top-level load of a page (typing an address, a
    bookmark, a reload), as opposed to a script, font, media or fetch
    request made by a page. Browsers say so in ``Sec-Fetch-Mode``; one
    that sends no fetch metadata is judged by its ``Accept`` header."""
    if scope.get("type") != "http" or scope.get("method") not in ("GET", "HEAD"):
        return False
    headers = {k.lower(): v for k, v in scope.get("headers", [])}
    mode = headers.get(b"sec-fetch-mode")
    if mode is not None:
        return mode == b"navigate"
    return b"text/html" in headers.get(b"accept", b"")


def is_nested(path: str) -> bool:
    """True for a path of more than one segment (``/a/b``): the only kind
    whose relative asset addresses break. ``/a/`` counts as one segment
    (Streamlit redirects it to ``/a``)."""
    return "/" in path.strip("/")


class NestedPathToWelcome:
    """ASGI middleware: a page navigation to a nested path is redirected
    (303, never cached) to ``/``, the welcome screen, query string dropped;
    every other request goes to Streamlit unchanged."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if is_page_navigation(scope) and is_nested(scope.get("path", "/")):
            await send({"type": "http.response.start", "status": 303,
                        "headers": [(b"location", b"/"), (b"cache-control", b"no-store"),
                                    (b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, receive, send)


# A random name for this server process, sent with every health check.
BOOT = secrets.token_hex(8)
BOOT_HEADER = b"x-kiosk-boot"


class BootMark:
    """ASGI middleware: Streamlit's health check (``/_stcore/health``) also
    names this server process (``x-kiosk-boot``, random at each start).

    Why: a page left open across a server restart belongs to a session the
    new server never knew, and must start afresh from the welcome screen.
    Watching the health check go down and up misses a restart quicker than
    one poll; a changed name never does (:func:`kiosk.screen.idle_script`).
    """

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http" or scope.get("path") != "/_stcore/health":
            await self.app(scope, receive, send)
            return

        async def marked(message: dict[str, Any]) -> None:
            if message.get("type") == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (BOOT_HEADER, BOOT.encode())]}
            await send(message)

        await self.app(scope, receive, marked)


app = st.App(str(SCRIPT), middleware=[Middleware(NestedPathToWelcome), Middleware(BootMark)])

# The server's configuration turns off Streamlit's full garbage collection
# after every run of the page (``runner.postScriptGC``): with the kiosk's
# libraries loaded it cost about 40 ms of CPU per tap, most of a tap's time.
# Python's own collector still runs; the kiosk's modules are imported here
# and frozen, so that even its rare full collections skip the objects every
# session shares and never frees.
from kiosk import patient, shell, staff  # noqa: E402,F401  (imported for the freeze)

gc.freeze()
