"""The kiosk's modules, one concept each, checked on the sources.

The Streamlit front is split into the shell (runtime, reset, idle timer,
the one error view, page paths), the patient's screens, the staff's
screens, the answer widgets and the styling; the page scripts are one call
each. The patient's screens hold no staff action: they reach the staff
area only by switching to the PIN page."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
KIOSK = REPO / "kiosk"
# Files still waiting for their own split; remove a name once it is done.


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _kiosk_imports(path: Path) -> set[str]:
    """The kiosk modules ``path`` imports (``kiosk.x`` and ``from kiosk import x``)."""
    found = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "kiosk":
                found |= {f"kiosk.{a.name}" for a in node.names}
            elif node.module.startswith("kiosk."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("kiosk.")}
    return found


def _functions(path: Path) -> set[str]:
    return {n.name for n in _tree(path).body if isinstance(n, ast.FunctionDef)}


def test_each_page_script_is_one_call_into_the_screens() -> None:
    calls = {}
    for page in sorted((KIOSK / "pages").glob("*.py")):
        body = [n for n in _tree(page).body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
        assert len(body) == 2, page.name  # the import and the call
        imported, call = body
        assert isinstance(imported, ast.ImportFrom) and imported.module == "kiosk"
        assert isinstance(call, ast.Expr) and isinstance(call.value, ast.Call)
        func = call.value.func
        assert isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
        calls[page.name] = f"{func.value.id}.{func.attr}"
    assert calls == {
        "consent.py": "patient.consent_page", "question.py": "patient.question_page",
        "staff.py": "staff.staff_page", "staff_audio.py": "staff.staff_audio_page",
        "staff_login.py": "staff.staff_login_page", "thanks.py": "patient.thanks_page",
        "welcome.py": "patient.welcome_page",
    }
    # Every page the app registers names a path the shell defines.
    app = (KIOSK / "app.py").read_text(encoding="utf-8")
    shell = _tree(KIOSK / "shell.py")
    paths = {t.id: n.value.value for n in shell.body if isinstance(n, ast.Assign)
             for t in n.targets if isinstance(t, ast.Name) and isinstance(n.value, ast.Constant)
             and isinstance(n.value.value, str) and n.value.value.startswith("pages/")}
    assert sorted(paths.values()) == sorted(f"pages/{name}" for name in calls)
    assert all(f"shell.{name}" in app for name in paths)


def test_the_patient_screens_hold_no_staff_code() -> None:
    for name in ("patient.py", "ui.py", "style.py", "shell.py"):
        assert {"kiosk.staff", "kiosk.pin", "kiosk.recording", "kiosk.definitions"} \
            & _kiosk_imports(KIOSK / name) == set(), name


def test_the_shell_stands_on_no_screen() -> None:
    # The screens import the shell, never the other way round.
    assert {"kiosk.patient", "kiosk.staff", "kiosk.ui"} & _kiosk_imports(KIOSK / "shell.py") == set()
    assert {"kiosk.patient", "kiosk.staff", "kiosk.ui", "kiosk.shell"} & _kiosk_imports(KIOSK / "style.py") == set()


def test_the_kiosk_has_one_error_view() -> None:
    # Only the shell defines show_error; every screen that reports a failed
    # save to a patient calls that one function.
    defining = [f.name for f in sorted(KIOSK.rglob("*.py")) if "show_error" in _functions(f)]
    assert defining == ["shell.py"]
    assert "show_error" in (KIOSK / "patient.py").read_text(encoding="utf-8")


def test_babel_extracts_the_staff_texts_where_they_are() -> None:
    # The staff screens translate with t = _staff_text: babel.cfg's section
    # with that keyword must name the module that defines it, or
    # `make i18n-update` silently drops every staff text from the catalogs.
    import configparser
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "babel.cfg", encoding="utf-8")
    staff_sections = [s.removeprefix("python: ").strip() for s in cfg.sections()
                      if "_staff_text" in cfg[s].get("keywords", "")]
    defining = [f.relative_to(REPO).as_posix() for f in sorted(KIOSK.rglob("*.py")) if "_staff_text" in _functions(f)]
    assert staff_sections == defining == ["kiosk/staff.py"]
