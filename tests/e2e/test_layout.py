"""The test suite mirrors the packages: every test file sits in
tests/surveycore/, tests/kiosk/, tests/analysis/ or tests/e2e/, shared
builders live in tests/support/, no test file imports another one, and every
test path the README, the docs, the Makefile and the benchmarks name exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.support.paths import REPO

TESTS = REPO / "tests"
FOLDERS = ("surveycore", "kiosk", "analysis", "e2e")
# What tests/ itself may hold: the package marker and the conftest that
# registers the shared fixtures; everything else is in a folder.
ROOT_FILES = {"__init__.py", "conftest.py"}


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports (``from X import a`` gives X and X.a)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def _is_test_module(name: str) -> bool:
    """Whether a dotted module name is a test file or a conftest."""
    last = name.rsplit(".", 1)[-1]
    return last.startswith("test_") or last == "conftest"


def where_it_belongs(path: Path) -> str:
    """The folder a test file belongs in, judged from what it uses: a real
    browser or both sides of the chain go to e2e, otherwise the one package
    it tests (analysis before kiosk before surveycore)."""
    text = path.read_text(encoding="utf-8")
    mods = {m.split(".")[0] for m in _imports(path)}
    if "mark.browser" in text or "playwright" in text or {"kiosk", "analysis"} <= mods:
        return "e2e"
    for pkg in ("analysis", "kiosk", "surveycore"):
        if pkg in mods:
            return pkg
    return "e2e"


def test_no_test_file_sits_at_the_root_of_tests() -> None:
    stray = sorted(p for p in TESTS.iterdir() if p.is_file() and p.suffix == ".py" and p.name not in ROOT_FILES)
    advice = [f"tests/{p.name}: move it with `git mv tests/{p.name} tests/{where_it_belongs(p)}/{p.name}`"
              if p.name.startswith("test_") else
              f"tests/{p.name}: a helper; move it with `git mv tests/{p.name} tests/support/{p.name}`"
              for p in stray]
    assert advice == [], ("test files go in tests/surveycore/, tests/kiosk/, tests/analysis/ or tests/e2e/ "
                          "(browser tests, README flows, attacks, full-chain round trips), helpers in "
                          "tests/support/:\n" + "\n".join(advice))


def test_every_test_folder_is_a_package() -> None:
    # Without __init__.py two test files of the same name in two folders
    # would collide, and tests/kiosk/ would shadow the kiosk package.
    folders = sorted({p.parent for p in TESTS.rglob("*.py")} - {TESTS})
    code_folders = [d for d in folders if d.relative_to(TESTS).parts[0] in FOLDERS + ("support",)
                    and len(d.relative_to(TESTS).parts) == 1]
    assert sorted(d.name for d in code_folders) == sorted(FOLDERS + ("support",))
    assert [d.name for d in code_folders + [TESTS] if not (d / "__init__.py").is_file()] == []


def test_no_test_file_imports_another() -> None:
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        if path.parent.name in ("vectors", "xlsforms"):
            continue  # data folders' generator scripts
        bad = sorted(m for m in _imports(path) if m.startswith("tests.") and _is_test_module(m))
        bad += sorted(m for m in _imports(path) if m.startswith(("test_", "conftest")))
        if bad:
            offenders.append(f"{path.relative_to(REPO)} imports {', '.join(bad)}")
    assert offenders == [], ("a builder or helper two test files share goes in tests/support/ "
                             "(by concept: kiosks, surveys, datasets, published, driver, languages, browser, "
                             "xlsforms, media) and both import it from there:\n" + "\n".join(offenders))


def test_the_layout_check_names_what_to_do(tmp_path: Path) -> None:
    # The advice for a stray file follows what it imports.
    cases = {"from analysis.tables import x\n": "analysis", "from kiosk.flow import x\n": "kiosk",
             "from surveycore.logic import x\n": "surveycore",
             "from kiosk import cli\nfrom analysis import cli as a\n": "e2e",
             "import pytest\npytestmark = pytest.mark.browser\nfrom kiosk import cli\n": "e2e"}
    for i, (text, folder) in enumerate(cases.items()):
        path = tmp_path / f"test_types_{i}.py"
        path.write_text(text, encoding="utf-8")
        assert where_it_belongs(path) == folder, text
    assert _is_test_module("tests.kiosk.test_app_flow") and _is_test_module("tests.conftest")
    assert not _is_test_module("tests.support.surveys")


DOCS = [REPO / "README.md", REPO / "Makefile", *sorted((REPO / "docs").glob("*.md")),
        *sorted((REPO / "bench").glob("*.py"))]


def test_every_test_path_the_docs_name_exists() -> None:
    missing = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for path, name in re.findall(r"(tests/[\w/.-]+\.py)(?:::(\w+))?", text):
            target = REPO / path
            if not target.is_file():
                missing.append(f"{doc.relative_to(REPO)}: {path}")
            elif name and not re.search(rf"^def {name}\(", target.read_text(encoding="utf-8"), re.M):
                missing.append(f"{doc.relative_to(REPO)}: {path}::{name}")
        for folder in re.findall(r"(tests/[\w/-]+/)", text):
            if not (REPO / folder).is_dir():
                missing.append(f"{doc.relative_to(REPO)}: {folder}")
    assert missing == []
