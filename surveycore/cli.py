"""The boundary both command lines (``kiosk`` and ``analysis``) share: an
error no code path foresaw becomes one coded line and a non-zero status,
never a traceback. Expected errors are :class:`surveycore.errors.KioskError`
and are printed by each command's ``main``."""

from __future__ import annotations

import os
import sys

from surveycore import codes


def unexpected(exc: BaseException) -> int:
    """The last line of defence of both command lines: an error no code path
    foresaw becomes one coded line and a non-zero status, never a traceback
    (``HEALTH_KIOSK_DEBUG=1`` shows it, for developers). A closed output pipe
    (``| head``) ends quietly."""
    if isinstance(exc, (SystemExit, KeyboardInterrupt)):
        if isinstance(exc, KeyboardInterrupt):
            print(f"error: {codes.render('SYS-004', 'interrupted')}", file=sys.stderr)
            return 130
        raise exc
    if isinstance(exc, BrokenPipeError):
        # Python would complain again while flushing stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    if os.environ.get("HEALTH_KIOSK_DEBUG"):
        import traceback
        traceback.print_exception(exc)
    if isinstance(exc, OSError):
        where = f" {exc.filename!r}" if exc.filename else ""
        message = codes.render("SYS-001", f"cannot use{where}: {exc.strerror or exc}; check the path and its "
                                          "permissions")
    elif isinstance(exc, UnicodeError):
        message = codes.render("SYS-002", "a file given is not UTF-8 text; save it as UTF-8")
    elif isinstance(exc, (RecursionError, MemoryError)):
        message = codes.render("SYS-003", "an input is nested too deeply or too large to be read")
    else:
        message = codes.render("SYS-099", f"unexpected error ({exc.__class__.__name__}); please report it with "
                                          "the command you ran (set HEALTH_KIOSK_DEBUG=1 to see the details)")
    print(f"error: {message}", file=sys.stderr)
    return 1

