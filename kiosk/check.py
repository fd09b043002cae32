"""``kiosk check``: validate every questionnaire file, survey and locale
given, collecting all problems instead of stopping at the first."""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML

from kiosk.errors import Problem, ValidationError
from kiosk.questionnaire import load_module, load_survey


def _kind(path: Path) -> str:
    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except Exception:
        return "module"  # the module loader reports the YAML problem with its line
    if isinstance(data, dict) and "modules" in data and "site" in data:
        return "survey"
    return "module"


def check_paths(paths: list[Path]) -> list[Problem]:
    """Every problem in the given files or folders (``*.yaml``)."""
    files: list[Path] = []
    for p in paths:
        files.extend(sorted(p.glob("*.yaml")) if p.is_dir() else [p])
    problems: list[Problem] = []
    for f in files:
        try:
            if _kind(f) == "survey":
                load_survey(f, warnings=problems)
            else:
                load_module(f, warnings=problems)
        except ValidationError as exc:
            problems.extend(exc.problems)
    return list(dict.fromkeys(problems))  # a survey re-reports its modules
