"""The kiosk can write, never read back: nothing under kiosk/ imports the
analysis package or touches the team's private key."""

from __future__ import annotations

import ast
from pathlib import Path

KIOSK = Path(__file__).resolve().parent.parent / "kiosk"

# Names that only code able to decrypt would use.
FORBIDDEN_NAMES = {"decrypt", "MLKEM768X25519PrivateKey", "X25519PrivateKey", "MLKEM768PrivateKey",
                   "load_private_key", "from_seed_bytes", "decapsulate"}


def _python_files() -> list[Path]:
    files = sorted(KIOSK.rglob("*.py"))
    assert len(files) > 10, "kiosk sources not found"
    return files


def test_kiosk_never_imports_analysis() -> None:
    offenders = []
    for f in _python_files():
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            if any(n == "analysis" or n.startswith("analysis.") for n in names):
                offenders.append(f"{f.relative_to(KIOSK.parent)}:{node.lineno}")
    assert offenders == []


def test_kiosk_has_no_private_key_or_decryption_code() -> None:
    offenders = []
    for f in _python_files():
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
            if name in FORBIDDEN_NAMES:
                offenders.append(f"{f.relative_to(KIOSK.parent)}:{node.lineno} {name}")
    assert offenders == []


def test_the_checks_above_would_catch_a_breach(tmp_path: Path) -> None:
    # The AST walk sees both forms a breach could take.
    tree = ast.parse("from analysis.keys import load_private_key\nx = suite.decrypt(b'', k)\n")
    names = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "decrypt" in names and "analysis.keys" in modules


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
    assert cached == [("ui.py", "_runtime", ["config_path"])]


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
