"""The last line of defence of both command lines: an error no code path
foresaw becomes one coded SYS line and a non-zero status, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.cli import unexpected

ROOT = Path(__file__).resolve().parents[2]


def test_an_unusable_path_is_sys_001(tmp_path: Path) -> None:
    pw = tmp_path / "pw.txt"
    pw.write_text("a long enough passphrase\n")
    proc = subprocess.run([sys.executable, "-m", "analysis", "keygen", "--out", "/proc/no-such-folder",
                           "--passphrase-file", str(pw)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr == ("error: [SYS-001] cannot use '/proc/no-such-folder': No such file or directory; check "
                           "the path and its permissions (see docs/errors.md#sys-001)\n")


@pytest.mark.parametrize("exc, status, line", [
    (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), 1,
     "error: [SYS-002] a file given is not UTF-8 text; save it as UTF-8 (see docs/errors.md#sys-002)\n"),
    (RecursionError("maximum recursion depth exceeded"), 1,
     "error: [SYS-003] an input is nested too deeply or too large to be read; give a smaller or less deeply "
     "nested file (see docs/errors.md#sys-003)\n"),
    (KeyboardInterrupt(), 130,
     "error: [SYS-004] interrupted; run the command again; what was committed before the interruption is kept "
     "(see docs/errors.md#sys-004)\n"),
    (RuntimeError("boom"), 1,
     "error: [SYS-099] unexpected error (RuntimeError); please report it with the command you ran (set "
     "HEALTH_KIOSK_DEBUG=1 to see the details) (see docs/errors.md#sys-099)\n"),
])
def test_the_boundary_gives_one_coded_line(exc: BaseException, status: int, line: str, capsys,  # type: ignore[no-untyped-def]
                                           monkeypatch) -> None:
    monkeypatch.delenv("HEALTH_KIOSK_DEBUG", raising=False)
    assert unexpected(exc) == status
    out = capsys.readouterr()
    assert out.err == line and "Traceback" not in out.err
