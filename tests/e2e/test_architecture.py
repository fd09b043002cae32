"""The package boundaries, checked on the sources' syntax trees.

``kiosk`` and ``analysis`` both stand on ``surveycore`` and never import
each other; ``surveycore`` imports neither, nor Streamlit. The kiosk can
write, never read back: nothing under kiosk/ touches the team's private key.
The shared core holds no private key at all (it may verify a signature,
never make one)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
KIOSK = REPO / "kiosk"
ANALYSIS = REPO / "analysis"
SURVEYCORE = REPO / "surveycore"

# Names that only code able to decrypt would use.
FORBIDDEN_NAMES = {"decrypt", "MLKEM768X25519PrivateKey", "X25519PrivateKey", "MLKEM768PrivateKey",
                   "load_private_key", "from_seed_bytes", "decapsulate"}
# The shared core may verify signatures, never hold a private key to make one.
SIGNING_NAMES = {"Ed25519PrivateKey", "load_pem_private_key", "load_der_private_key", "private_bytes", "sign"}


def _python_files(root: Path = KIOSK) -> list[Path]:
    return sorted(root.rglob("*.py"))


def imports_of(root: Path, packages: set[str]) -> list[str]:
    """Every import under ``root`` of one of ``packages`` (or a module of
    one), as ``file:line module``."""
    offenders = []
    for f in _python_files(root):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else []
            else:
                continue
            for n in names:
                if n.split(".")[0] in packages:
                    offenders.append(f"{f.relative_to(root.parent)}:{node.lineno} {n}")
    return offenders


def names_used(root: Path, forbidden: set[str]) -> list[str]:
    """Every use under ``root`` of a name or attribute in ``forbidden``
    (imported names included), as ``file:line name``."""
    offenders = []
    for f in _python_files(root):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute):
                names = [node.attr]
            elif isinstance(node, ast.Name):
                names = [node.id]
            elif isinstance(node, ast.ImportFrom):
                names = [a.name for a in node.names]
            else:
                continue
            offenders += [f"{f.relative_to(root.parent)}:{node.lineno} {n}" for n in names if n in forbidden]
    return offenders


def test_the_three_packages_are_there() -> None:
    assert len(_python_files(KIOSK)) > 10 and len(_python_files(ANALYSIS)) > 10
    assert len(_python_files(SURVEYCORE)) > 10


def test_kiosk_never_imports_analysis() -> None:
    assert imports_of(KIOSK, {"analysis"}) == []


def test_analysis_never_imports_kiosk() -> None:
    assert imports_of(ANALYSIS, {"kiosk"}) == []


def test_surveycore_imports_neither_side_nor_streamlit() -> None:
    assert imports_of(SURVEYCORE, {"kiosk", "analysis", "streamlit"}) == []


def test_kiosk_has_no_private_key_or_decryption_code() -> None:
    assert names_used(KIOSK, FORBIDDEN_NAMES) == []


def test_surveycore_has_no_private_key_or_decryption_code() -> None:
    assert names_used(SURVEYCORE, FORBIDDEN_NAMES | SIGNING_NAMES) == []


@pytest.mark.parametrize("source, packages", [
    ("from analysis.keys import load_private_key\n", {"analysis"}),
    ("import analysis\n", {"analysis"}),
    ("def f():\n    from kiosk.store import Outbox\n", {"kiosk"}),
    ("import kiosk.sealing as s\n", {"kiosk"}),
    ("import streamlit as st\n", {"streamlit"}),
])
def test_the_import_check_would_catch_a_breach(tmp_path: Path, source: str, packages: set[str]) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "ok.py").write_text("import json\nfrom surveycore import logic\n", encoding="utf-8")
    assert imports_of(pkg, packages) == []
    (pkg / "bad.py").write_text(source, encoding="utf-8")
    assert len(imports_of(pkg, packages)) == 1


@pytest.mark.parametrize("source, forbidden", [
    ("x = suite.decrypt(b'', k)\n", FORBIDDEN_NAMES),
    ("from analysis.keys import load_private_key\n", FORBIDDEN_NAMES),
    ("from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey\n", SIGNING_NAMES),
    ("k = ed25519.Ed25519PrivateKey.generate()\n", SIGNING_NAMES),
    ("sig = key.sign(message)\n", SIGNING_NAMES),
])
def test_the_name_check_would_catch_a_breach(tmp_path: Path, source: str, forbidden: set[str]) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "ok.py").write_text("key.verify(signature, message)\n", encoding="utf-8")
    assert names_used(pkg, forbidden) == []
    (pkg / "bad.py").write_text(source, encoding="utf-8")
    assert names_used(pkg, forbidden) != []


def test_only_the_runtime_is_cached_across_sessions() -> None:
    # st.cache_* is shared by every session: nothing of a patient may go there.
    cached = []
    for f in _python_files():
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef):
                for dec in node.decorator_list:
                    target = dec.func if isinstance(dec, ast.Call) else dec
                    if isinstance(target, ast.Attribute) and target.attr.startswith("cache"):
                        cached.append((f.name, node.name, [a.arg for a in node.args.args]))
    assert cached == [("shell.py", "_runtime", ["config_path"])]


def test_kiosk_code_never_logs() -> None:
    # A log line could carry an answer: the kiosk has no logging calls at all.
    offenders = []
    for f in _python_files():
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                if "logging" in names:
                    offenders.append(f"{f.name}:{node.lineno}")
    assert offenders == []


def test_importing_all_of_surveycore_loads_neither_side_nor_streamlit() -> None:
    # The syntax check above, confirmed by a real import in a fresh interpreter.
    import subprocess
    import sys
    modules = sorted(f"surveycore.{f.stem}" for f in SURVEYCORE.glob("*.py") if f.stem != "__init__")
    code = ("import importlib, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "print(sorted({n.split('.')[0] for n in sys.modules} & {'kiosk', 'analysis', 'streamlit'}))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout == "[]\n"


def test_no_module_is_over_600_lines_but_the_disclosure_control() -> None:
    # Big files are split by concept; the disclosure control of a release is
    # one concept and stays whole.
    root = Path(__file__).resolve().parents[2]
    long = {str(f.relative_to(root)): n for pkg in ("surveycore", "kiosk", "analysis")
            for f in sorted((root / pkg).rglob("*.py"))
            if (n := len(f.read_text(encoding="utf-8").splitlines())) > 600}
    assert long == {"analysis/disclosure.py": len((root / "analysis" / "disclosure.py").read_text(
        encoding="utf-8").splitlines())}

