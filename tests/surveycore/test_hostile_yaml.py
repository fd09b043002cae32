"""Hostile questionnaire files are refused quickly, with a coded message and
bounded memory: an alias bomb, a huge file, an unreadable file. Each command
that reads definitions runs as a real process under a 1 GiB memory limit, so
a regression fails here instead of exhausting the machine."""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# 442 bytes that stand for 9^9 = 387 million strings once the aliases are followed.
BOMB = """id: bomb
version: 1.0.0
title: {en: Bomb}
source: x
license: x
languages: {en: validated}
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
items: *i
"""
EXPANDS = ("error [Q-YAML-003] the definition expands to more than 200,000 values (YAML '&' anchors and '*' "
           "aliases that refer to each other?); write the content out without anchors and aliases")


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=REPO, timeout=120,
                          preexec_fn=_limit_memory)


@pytest.mark.slow
def test_an_alias_bomb_is_refused_by_check(tmp_path: Path) -> None:
    (tmp_path / "bomb.yaml").write_text(BOMB)
    proc = run("kiosk", "check", str(tmp_path / "bomb.yaml"))
    assert (proc.returncode, proc.stderr) == (1, "")
    assert proc.stdout == f"{tmp_path / 'bomb.yaml'}: {EXPANDS}\n1 error(s), 0 warning(s)\n"


@pytest.mark.slow
def test_an_alias_bomb_in_a_site_survey_stops_status_and_serve(kiosk_dir: Path, tmp_path: Path) -> None:
    survey = kiosk_dir.parent / "survey"
    (survey / "mehm.yaml").write_text(BOMB.replace("id: bomb", "id: mehm"))
    for command in (["status"], ["serve"]):
        proc = run("kiosk", *command, "--config", str(kiosk_dir))
        assert proc.returncode == 1 and proc.stdout == ""
        assert re.fullmatch(
            re.escape(f"{survey / 'demo_survey.yaml'}:") + r"\d+" + re.escape(
                f": error [Q-SUR-007] module 'mehm' version 1.0.0 not found in {survey}; these files could not be "
                "read and may hold it: mehm.yaml [Q-YAML-003] (run 'kiosk check' on them)\n"), proc.stderr), proc.stderr


@pytest.mark.slow
def test_an_alias_bomb_among_ingest_questionnaires_is_skipped(kiosk_dir: Path, team, tmp_path: Path) -> None:
    from kiosk import cli as kiosk_cli
    from kiosk.config import KioskRuntime, load_config
    rt = KioskRuntime(load_config(kiosk_dir))
    rt.decline("fr")
    rt.outbox.close()
    assert kiosk_cli.main(["export", "--config", str(kiosk_dir), "--out", str(tmp_path / "b.hkb")]) == 0
    extra = tmp_path / "extra"
    shutil.copytree(kiosk_dir.parent / "survey", extra)
    (extra / "bomb.yaml").write_text(BOMB)
    (tmp_path / "pw").write_text("test passphrase 123\n")
    proc = run("analysis", "ingest", str(tmp_path / "b.hkb"), "--key", str(team.dir / "team.key"),
               "--passphrase-file", str(tmp_path / "pw"), "--data", str(tmp_path / "data"), "--any-device",
               "--questionnaires", str(extra))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stdout.startswith("ingested: 1\n")


def test_a_huge_file_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with open(big, "w") as fh:
        fh.write("id: big\nitems:\n")
        fh.write("  - x\n" * 1_000_000)  # 6 MB
    proc = run("kiosk", "check", str(big))
    assert proc.returncode == 1 and proc.stderr == ""
    assert proc.stdout == (f"{big}: error [Q-FILE-004] the file has 2,097,153 characters; a questionnaire file has "
                           "at most 2,097,152: split it into modules\n1 error(s), 0 warning(s)\n")


@pytest.mark.skipif(os.geteuid() == 0 and not shutil.which("setpriv"), reason="needs setpriv to drop root")
@pytest.mark.slow
def test_an_unreadable_module_is_reported_as_unreadable() -> None:
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        os.chmod(folder, 0o755)  # the unprivileged user may enter it, not read the module
        _unreadable(Path(folder))


def _unreadable(tmp_path: Path) -> None:
    module = tmp_path / "mehm.yaml"
    shutil.copy(REPO / "questionnaires" / "mehm.yaml", module)
    module.chmod(0)
    prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
    proc = subprocess.run([*prefix, sys.executable, "-m", "kiosk", "check", str(module)], capture_output=True,
                          text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == (f"{module}: error [Q-FILE-005] the file exists but cannot be read (permission denied); "
                           f"let the kiosk's user read {str(module)!r}\n1 error(s), 0 warning(s)\n")


def test_messages_never_render_a_whole_value() -> None:
    from surveycore.questionnaire.fields import _short
    a: list = ["lol"] * 9
    for _ in range(40):  # 9^40 strings if rendered whole
        a = [a] * 9
    assert _short(a) == repr("[" * 40 + "...")
    assert _short({"x": [1, 2]}) == repr("{'x': [1, 2]}")
    assert _short(["a", "b"]) == repr(str(["a", "b"]))


@pytest.mark.slow
def test_a_990_term_rule_gets_the_same_answer_from_check_and_start(kiosk_dir: Path) -> None:
    from kiosk.config import KioskRuntime, load_config
    from surveycore.errors import ValidationError
    from surveycore.logic import parse
    module = kiosk_dir.parent / "survey" / "mehm.yaml"
    expr = "+".join(["1"] * 990) + " > 0"  # 990 terms in 1,983 characters
    text = module.read_text().replace("  - id: chronic\n    type: single\n",
                                      f"  - id: chronic\n    type: single\n    relevant: \"{expr}\"\n", 1)
    module.write_text(text)
    proc = run("kiosk", "check", str(module))
    assert proc.returncode == 1
    assert "error [Q-EXP-003] item 'chronic': relevant: expression has 990 operators (at most 200); split the " \
        "question or simplify the rule\n" in proc.stdout
    with pytest.raises(ValidationError) as info:
        KioskRuntime(load_config(kiosk_dir))
    assert info.value.code == "Q-EXP-003"
    # The answer does not depend on how deep the stack already is.
    chain = "+".join(["1"] * 900) + " > 0"

    def deep(n: int) -> str:
        if n:
            return deep(n - 1)
        try:
            parse(chain)
            return "parsed"
        except Exception as exc:  # noqa: BLE001
            return getattr(exc, "code", type(exc).__name__)
    assert deep(0) == deep(700) == "Q-EXP-003"
