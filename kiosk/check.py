"""``kiosk check``: validate every questionnaire file and survey given,
collecting all problems instead of stopping at the first.

Each problem carries a stable code, the file, the line, the item id, the
offending value and the fix (see ``docs/questionnaire-format.md``). Errors
come first, then warnings, each group in file and line order.
"""

from __future__ import annotations

from pathlib import Path

from surveycore.errors import Problem, ValidationError
from surveycore.questionnaire import file_kind_of, load_module, load_survey

YAML_SUFFIXES = ("*.yaml", "*.yml")


def _files(paths: list[Path], problems: list[Problem]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(f for pattern in YAML_SUFFIXES for f in p.glob(pattern))
            if not found:
                problems.append(Problem("Q-FILE-003", "folder holds no questionnaire (*.yaml); give the "
                                                      "folder of the module and survey files", str(p),
                                        severity="warning"))
            files.extend(found)
        else:
            files.append(p)
    return list(dict.fromkeys(files))


def check_site_config(path: Path, problems: list[Problem]) -> None:
    """A kiosk's ``kiosk.toml``: readable, its survey valid with the modules it
    pins, its team public key and device key loadable, its server settings
    safe (a network address needs TLS)."""
    from kiosk.config import load_config
    from surveycore.errors import KioskError
    from kiosk.keys import load_device_key
    from surveycore.keys import load_public_key
    from kiosk.server import streamlit_config
    try:
        cfg = load_config(path)
    except KioskError as exc:
        problems.append(Problem(exc.code, exc.message, str(path)))
        return
    try:
        survey = load_survey(cfg.survey, list(cfg.module_dirs), warnings=problems)
    except ValidationError as exc:
        problems.extend(exc.problems)
    else:
        # Against what this kiosk already ran: a changed text needs a new version.
        from kiosk.definitions import recorded_in
        from surveycore.definitions import version_conflicts
        for message in version_conflicts(survey, recorded_in(cfg.outbox_path)):
            problems.append(Problem("Q-VER-001", message, str(cfg.survey)))
    for check in (lambda: load_public_key(cfg.public_key), lambda: load_device_key(cfg.device_key),
                  lambda: streamlit_config(cfg)):
        try:
            check()
        except KioskError as exc:
            problems.append(Problem(exc.code, exc.message, str(path)))
    try:
        if load_public_key(cfg.public_key).receipt_raw is None:
            problems.append(Problem(
                "KEY-015", f"the team public key {str(cfg.public_key)!r} has no receipt key, so 'kiosk confirm' "
                "refuses every receipt; install the team.pub made by 'analysis public-key' with "
                "'kiosk set-key'", str(path), severity="warning"))
    except KioskError:
        pass  # reported above


def check_paths(paths: list[Path]) -> list[Problem]:
    """Every problem in the given files or folders (``*.yaml``, ``*.yml``,
    and ``kiosk.toml`` site configurations): modules are checked on their
    own, surveys with the modules they pin. The kiosk's interface catalogs
    are not questionnaire files: ``kiosk i18n check`` checks them."""
    problems: list[Problem] = []
    for p in paths:
        if p.suffix == ".toml":
            check_site_config(p, problems)
    for f in _files([p for p in paths if p.suffix != ".toml"], problems):
        try:
            if file_kind_of(f) == "survey":
                load_survey(f, warnings=problems)
            else:
                load_module(f, warnings=problems)
        except ValidationError as exc:
            problems.extend(exc.problems)
    unique = list(dict.fromkeys(problems))  # a survey re-reports its modules

    def order(p: Problem) -> tuple[int, str, int]:
        return (0 if p.severity == "error" else 1, p.file, p.line or 0)
    return sorted(unique, key=order)
