"""The kiosk server's answer to nested addresses, without a browser: a page
navigation to ``/a/b`` is sent to the welcome screen, everything else
(Streamlit's scripts, fonts, media, health checks, one-level pages) goes to
Streamlit untouched. The real-browser proof is
``test_deep_urls_land_on_the_welcome_screen``."""

from __future__ import annotations

import asyncio

import pytest

from kiosk.asgi import NestedPathToWelcome, is_nested

NAVIGATE = [(b"sec-fetch-mode", b"navigate"), (b"accept", b"text/html,application/xhtml+xml")]
SCRIPT = [(b"sec-fetch-mode", b"cors"), (b"accept", b"*/*")]


def call(path: str, headers: list[tuple[bytes, bytes]], method: str = "GET") -> tuple[str, int | None, dict]:
    """Run the middleware on one request: ("passed", None, {}) when it went
    to Streamlit, else ("answered", status, headers)."""
    sent: list[dict] = []

    async def inner(scope, receive, send) -> None:
        sent.append({"type": "passed"})

    async def send(message: dict) -> None:
        sent.append(message)

    async def receive() -> dict:
        return {"type": "http.request"}

    scope = {"type": "http", "method": method, "path": path, "headers": headers, "query_string": b""}
    asyncio.run(NestedPathToWelcome(inner)(scope, receive, send))
    if sent[0]["type"] == "passed":
        return "passed", None, {}
    return "answered", sent[0]["status"], dict(sent[0]["headers"])


@pytest.mark.parametrize("path", ["/pages/question.py", "/kiosk/pages/x", "/anything/deeper/path",
                                  "/app/static/deeper/x", "/a/b/"])
def test_nested_navigation_goes_to_the_welcome_screen(path: str) -> None:
    kind, status, headers = call(path, NAVIGATE)
    assert (kind, status) == ("answered", 303)
    assert headers[b"location"] == b"/" and headers[b"cache-control"] == b"no-store"
    # A browser without fetch metadata is judged by what it accepts.
    assert call(path, [(b"accept", b"text/html")])[1] == 303


@pytest.mark.parametrize("path,headers,method", [
    ("/", NAVIGATE, "GET"),
    ("/question", NAVIGATE, "GET"),          # Streamlit's page routing handles it
    ("/pages/", NAVIGATE, "GET"),            # Streamlit redirects it to /pages
    ("/static/js/index.js", SCRIPT, "GET"),  # the page's own scripts
    ("/app/static/NotoSans-Regular.ttf", [(b"sec-fetch-mode", b"cors")], "GET"),
    ("/_stcore/health", [], "GET"),          # curl, monitoring
    ("/_stcore/upload_file/x/y", NAVIGATE, "PUT"),
])
def test_everything_else_reaches_streamlit(path: str, headers, method: str) -> None:
    assert call(path, headers, method)[0] == "passed"


def test_websockets_reach_streamlit() -> None:
    sent: list[str] = []

    async def inner(scope, receive, send) -> None:
        sent.append(scope["path"])

    async def noop(*_a) -> None:
        return None

    asyncio.run(NestedPathToWelcome(inner)({"type": "websocket", "path": "/_stcore/stream", "headers": []},
                                           noop, noop))
    assert sent == ["/_stcore/stream"]


def test_nested_means_more_than_one_segment() -> None:
    assert [is_nested(p) for p in ("/", "/a", "/a/", "/a/b", "/a/b/c?x")] == [False, False, False, True, True]


def test_screen_scripts_hold_no_less_than_sign() -> None:
    """Streamlit's frontend silently drops an ``st.html`` script in which
    ``<`` precedes a digit; the number pad of the PIN field was lost that
    way. The kiosk's screen scripts avoid ``<`` altogether."""
    from surveycore import i18n
    from kiosk import screen
    for script in (screen.guard_script(), i18n.chrome_script()):
        assert "<" not in script
    assert ".st-key-staff-pin input" in screen.guard_script() and "'inputmode','numeric'" in screen.guard_script()


def _health(path: str) -> list[dict]:
    from kiosk.asgi import BootMark
    sent: list[dict] = []

    async def inner(scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})

    async def send(message: dict) -> None:
        sent.append(message)

    async def receive() -> dict:
        return {"type": "http.request"}

    scope = {"type": "http", "method": "GET", "path": path, "headers": [], "query_string": b""}
    asyncio.run(BootMark(inner)(scope, receive, send))
    return sent


def test_the_health_check_names_this_server_process() -> None:
    """A page open across a server restart compares this name at each poll:
    a restart quicker than one poll still changes it."""
    from kiosk import asgi
    start, body = _health("/_stcore/health")
    assert start["headers"] == [(b"content-type", b"text/plain"), (b"x-kiosk-boot", asgi.BOOT.encode())]
    assert len(asgi.BOOT) == 16 and body["body"] == b"ok"
    # Nothing else carries it.
    start, _ = _health("/_stcore/host-config")
    assert start["headers"] == [(b"content-type", b"text/plain")]
    # The page's watch reloads on a changed name, not only after a failed poll.
    from kiosk.screen import idle_script
    assert "r.headers.get('x-kiosk-boot')" in idle_script(60) and "b!==boot" in idle_script(60)
