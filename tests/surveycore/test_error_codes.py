"""One error story: every code raised in kiosk/ and analysis/ is registered in
surveycore/codes/, every registered code is raised somewhere, docs/errors.md
is the registry's text, and an error renders as ``[CODE] message`` plus the
fix and the anchor in one place."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from analysis.disclosure import DisclosureError
from analysis.export import ExportError
from analysis.ingest import FIXES
from surveycore.errors import ConfigError, KioskError
from surveycore import codes

ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r"\b([A-Z][A-Z0-9]{0,5}(?:-[A-Z][A-Z0-9]{1,6})?-\d{3})\b")
# Code-shaped names that are not error codes.
NOT_CODES = {"ML-KEM-768", "P-256", "SHA-256"}

# Codes no input is known to reach: class defaults that every raise site
# overrides with its own code, and second guards behind an earlier check.
# Each says why in its registry entry.
CLASS_DEFAULTS = {"CFG-001", "E-000", "ENV-001", "KEY-001", "Q-000", "S-001", "S-010"}
# KEY-044: see its reason; I18N-009: babel's reader never lets a wrong
# plural count through (test_a_plural_entry_with_extra_forms_is_reported_where_it_is,
# test_plural_entries_are_checked_form_by_form).
UNREACHABLE = CLASS_DEFAULTS | {"KEY-044", "I18N-009"}


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def raised_codes() -> dict[str, list[str]]:
    """Every code in a string literal of surveycore/ (the registry itself left
    out), kiosk/ and analysis/ (``code=`` values,
    Problem codes, class ``code =`` defaults, ``[CODE]`` inside messages),
    docstrings and comments left out, with where each is found."""
    found: dict[str, list[str]] = {}
    files = sorted([*(p for p in (ROOT / "surveycore").rglob("*.py") if "codes" not in p.relative_to(ROOT).parts),
                    *(ROOT / "kiosk").rglob("*.py"), *(ROOT / "analysis").rglob("*.py")])
    assert len(files) > 30
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
                for code in CODE.findall(node.value):
                    if code not in NOT_CODES:
                        found.setdefault(code, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_raised_code_is_registered() -> None:
    raised = raised_codes()
    assert len(raised) > 300
    missing = {code: where[0] for code, where in raised.items() if code not in codes.REGISTRY}
    assert missing == {}


def test_every_registered_code_is_raised_somewhere() -> None:
    raised = raised_codes()
    assert sorted(set(codes.REGISTRY) - set(raised)) == []


def test_unreachable_codes_are_listed_and_say_why() -> None:
    assert {c for c, e in codes.REGISTRY.items() if not e.reachable} == UNREACHABLE
    for code in CLASS_DEFAULTS:
        assert codes.REGISTRY[code].reason.startswith("class default of ")
    assert "fails as KEY-043 first" in codes.REGISTRY["KEY-044"].reason


def test_entries_are_complete_and_in_a_documented_family() -> None:
    families = {prefix for prefix, _, _ in codes.FAMILIES}
    for entry in codes.REGISTRY.values():
        assert entry.family in families, entry.code
        assert entry.title and entry.fix and "…" not in entry.fix, entry.code
        assert entry.anchor == f"docs/errors.md#{entry.code.lower()}"


def test_the_ingest_summary_fixes_are_the_registry_fixes() -> None:
    assert {code: codes.REGISTRY[code].fix for code in FIXES} == FIXES


def test_docs_errors_md_is_the_registry() -> None:
    # Regenerate with: .venv/bin/python -m surveycore.codes > docs/errors.md
    assert (ROOT / "docs" / "errors.md").read_text(encoding="utf-8") == codes.render_markdown()


def test_every_code_has_its_section_fix_and_anchor_in_docs_errors_md() -> None:
    text = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    rows = re.findall(r'^\| <a id="([a-z0-9-]+)"></a>`([A-Z0-9-]+)` \| (.*) \| (.*) \|$', text, flags=re.M)
    assert all(anchor == code.lower() for anchor, code, _, _ in rows)
    fixes = {code: fix.replace("\\|", "|") for _, code, _, fix in rows}
    assert fixes == {code: e.fix for code, e in codes.REGISTRY.items()}


def test_readme_links_the_error_codes_page() -> None:
    assert "(docs/errors.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_user_text_adds_the_fix_only_when_the_message_lacks_one() -> None:
    own = ConfigError("configuration file 'x.toml' not found; run 'kiosk demo' to create an example",
                      code="CFG-002")
    assert own.user_text() == ("[CFG-002] configuration file 'x.toml' not found; run 'kiosk demo' to create an "
                               "example (see docs/errors.md#cfg-002)")
    bare = KioskError("signed body is not a JSON object", code="ENV-014")
    assert bare.user_text() == (
        "[ENV-014] signed body is not a JSON object; damaged or altered on the way; nothing to do here: the kiosk "
        "keeps these responses and sends them again in its next bundle (see docs/errors.md#env-014)")


def test_an_unregistered_code_renders_without_fix_or_anchor() -> None:
    assert KioskError("odd", code="ZZ-999").user_text() == "[ZZ-999] odd"


@pytest.mark.parametrize("cls, code", [(DisclosureError, "DSC-001"), (ExportError, "E-000")])
def test_analysis_errors_join_the_hierarchy(cls: type[KioskError], code: str) -> None:
    assert issubclass(cls, KioskError) and cls.code == code


# Reachable codes that no test triggers yet (storage faults of the kiosk's
# disk, damaged envelope internals, a few defensive paths). The list may only
# shrink: a test that triggers one of them must remove it from here.
NOT_YET_TESTED: set[str] = set()


def test_every_reachable_code_is_named_by_a_test() -> None:
    tests = "".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "tests").rglob("*.py"))
                    if p.name != Path(__file__).name)
    untested = {code for code, e in codes.REGISTRY.items() if e.reachable and code not in tests}
    assert untested == NOT_YET_TESTED


def test_the_other_docs_name_only_registered_codes_and_point_to_errors_md() -> None:
    pages = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
    stale = {p.name: sorted({c for c in CODE.findall(p.read_text(encoding="utf-8"))
                             if c not in codes.REGISTRY and c not in NOT_CODES}) for p in pages}
    assert {name: found for name, found in stale.items() if found} == {}
    for name in ("questionnaire-format.md", "envelope.md", "translating.md", "disclosure.md", "dataset.md",
                 "deployment.md"):
        assert "[errors.md](errors.md)" in (ROOT / "docs" / name).read_text(encoding="utf-8"), name
