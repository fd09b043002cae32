"""``pip install .`` gives a kiosk that runs from any folder: the wheel carries
the shipped questionnaires, every interface catalog and the fonts as package
data, and, installed into a fresh virtual environment, ``kiosk check``,
``kiosk i18n check`` and ``kiosk demo`` find them from a folder that is not
the project.

The fresh environment gets the wheel alone (``--no-deps``); its dependencies
are the project's own pinned ones, made importable by a ``.pth`` file naming
the project venv's site-packages. That needs no network and no second copy of
streamlit or polars, and cannot leak the checkout in: a path added by a
``.pth`` file is put on ``sys.path`` but the ``.pth`` files inside it (the
editable install's hook to this checkout among them) are never run, and the
test checks that the code running is the installed one. (``--system-site-packages``
would not do: the dependencies are in the project's venv, not the system's.)"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.support.browser import free_port
from tests.support.paths import LOCALES, QUESTIONNAIRES, REPO

pytestmark = pytest.mark.slow

# What the source copy leaves out: environments, outputs, caches.
IGNORE = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "test-artifacts", ".hypothesis",
                                ".pytest_cache", "__pycache__", "demo", "network", "results")


def _run(args: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KIOSK_LOCALES_DIR", "KIOSK_CONFIG")}
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built by pip from a clean copy of the sources."""
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    shutil.copytree(REPO, src, ignore=IGNORE)
    out = base / "dist"
    done = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(src), "-w", str(out)], cwd=base)
    assert done.returncode == 0, done.stderr
    [whl] = out.glob("health_kiosk-*.whl")
    return whl


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding the wheel; its ``bin`` folder."""
    v = tmp_path_factory.mktemp("venv") / "v"
    done = _run([sys.executable, "-m", "venv", str(v)], cwd=v.parent)
    assert done.returncode == 0, done.stderr
    done = _run([str(v / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                cwd=v.parent)
    assert done.returncode == 0, done.stderr
    fresh_site = _run([str(v / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                      cwd=v.parent).stdout.strip()
    Path(fresh_site, "project-dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n",
                                                          encoding="utf-8")
    return v / "bin"


def test_the_wheel_carries_questionnaires_catalogs_and_fonts(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    questionnaires = sorted(p.name for p in QUESTIONNAIRES.glob("*.yaml"))
    assert "full_survey.yaml" in questionnaires and "demo_survey.yaml" in questionnaires
    assert [q for q in questionnaires if f"surveycore/_shipped/questionnaires/{q}" not in names] == []
    catalogs = sorted(str(p.relative_to(LOCALES)) for p in LOCALES.glob("*/LC_MESSAGES/messages.po"))
    assert len(catalogs) >= 13
    assert [c for c in catalogs if f"surveycore/_shipped/locales/{c}" not in names] == []
    assert "surveycore/_shipped/locales/messages.pot" in names
    fonts = sorted(p.name for p in (REPO / "kiosk" / "static").glob("*.ttf"))
    assert "NotoSansEthiopic-Regular.ttf" in fonts
    assert [f for f in fonts if f"kiosk/static/{f}" not in names] == []
    assert "kiosk/static/FONTS-LICENSE.txt" in names
    # The packages themselves, and nothing of the tests.
    assert {"kiosk/app.py", "analysis/cli.py", "surveycore/resources.py"} <= names
    assert not [n for n in names if n.startswith("tests/")]


def test_the_installed_kiosk_runs_from_any_folder(venv: Path, tmp_path: Path) -> None:
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = _run([str(venv / "python"), "-c", "import kiosk, surveycore.resources as r; "
                  "print(kiosk.__file__); print(r.questionnaires_dir()); print(r.locales_dir())"], cwd=work)
    assert where.returncode == 0, where.stderr
    code, questionnaires, locales = where.stdout.split()
    # The installed code and its embedded data, not this checkout's.
    assert Path(code).is_relative_to(venv.parent) and not Path(code).is_relative_to(REPO)
    assert Path(questionnaires).is_relative_to(venv.parent) and Path(questionnaires, "full_survey.yaml").is_file()
    assert Path(locales).is_relative_to(venv.parent)

    check = _run([str(venv / "kiosk"), "check"], cwd=work)
    assert (check.returncode, check.stdout.strip().splitlines()[-1]) == (0, "0 error(s), 0 warning(s)"), check.stderr
    i18n = _run([str(venv / "kiosk"), "i18n", "check"], cwd=work)
    assert i18n.returncode == 0, i18n.stdout + i18n.stderr
    assert i18n.stdout.strip().splitlines()[-1] == f"0 error(s), 0 warning(s) in {locales}"

    ready = _run([str(venv / "kiosk"), "demo", "--no-serve"], cwd=work)
    assert (ready.returncode, ready.stdout.strip().splitlines()[-1]) == (0, "Demo ready in demo"), ready.stderr
    assert ready.stdout.startswith("team key pair written to demo/team")
    shipped = (Path(questionnaires) / "demo_survey.yaml").read_bytes()
    assert (work / "demo" / "survey" / "demo_survey.yaml").read_bytes() == shipped
    assert _run([str(venv / "kiosk"), "check", "demo/kiosk.toml"], cwd=work).returncode == 0


def test_the_installed_demo_serves_the_survey_and_its_fonts(venv: Path, tmp_path: Path) -> None:
    work = tmp_path / "elsewhere"
    work.mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KIOSK_LOCALES_DIR", "KIOSK_CONFIG")}
    server = subprocess.Popen([str(venv / "kiosk"), "demo", "--port", str(port)], cwd=work, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            assert time.monotonic() < deadline, "the installed demo did not start"
            time.sleep(0.5)
        with urllib.request.urlopen(f"{base}/app/static/NotoSansEthiopic-Regular.ttf", timeout=10) as r:
            font = r.read()
        assert font == (REPO / "kiosk" / "static" / "NotoSansEthiopic-Regular.ttf").read_bytes()
        assert (work / "demo" / "survey" / "mehm.yaml").read_bytes() == (QUESTIONNAIRES / "mehm.yaml").read_bytes()
    finally:
        server.terminate()
        server.wait(timeout=30)
