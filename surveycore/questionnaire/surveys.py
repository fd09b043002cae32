"""Surveys: modules pinned by id and version, the site settings, the site's
own choice lists, and :func:`load_survey`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from surveycore import types
from surveycore.errors import Problem, ProblemList
from surveycore.questionnaire.fields import (_choices, _did_you_mean, _integer, _is_bool, _short, _texts,
                                             _unknown_keys, _with_languages)
from surveycore.questionnaire.model import (CODE_RE, Choice, ID_RE, Item, LANG_RE, Module, PERIODS,
                                            SiteSettings, Survey, VERSION_RE)
from surveycore.questionnaire.modules import parse_module
from surveycore.questionnaire.source import (_line_of, _parse_yaml_text, _read_yaml, _safe_hash, file_kind,
                                             read_text_bounded)


_SURVEY_KEYS = {"id", "version", "title", "modules", "site"}
_SITE_KEYS = {"centre", "languages", "idle_timeout", "period", "keep_partial", "allow_draft_languages",
              "allow_free_text", "choices", "crisis", "consent", "crisis_help"}


def _module_index(search_dirs: list[Path]) -> dict[tuple[str, str], list[Path]]:
    """Map (module id, version) to the files defining it, reading only files
    that look like modules (a survey or a broken file is skipped here and
    reported when it is checked itself)."""
    index: dict[tuple[str, str], list[Path]] = {}
    # A byte-identical copy (a kiosk folder's copy of the shipped modules,
    # searched with them) is the same definition, not a second one.
    texts: dict[tuple[str, str], set[str]] = {}
    for d in search_dirs:
        try:
            # Resolved: one file reached by a relative and an absolute path
            # (or through a symlink) is one definition, not two.
            files = sorted({f.resolve() for f in list(d.glob("*.yaml")) + list(d.glob("*.yml"))})
        except OSError:
            continue
        for f in files:
            try:
                text = read_text_bounded(f)
                data = _parse_yaml_text(text, ProblemList())
            except (OSError, UnicodeDecodeError):
                continue
            if file_kind(data) == "module" and isinstance(data, dict) and "items" in data and "id" in data:
                key = (str(data["id"]), str(data.get("version")))
                if f not in index.setdefault(key, []) and text not in texts.setdefault(key, set()):
                    index[key].append(f)
                    texts[key].add(text)
    return index


def _unreadable_note(search_dirs: list[Path]) -> str:
    """For a module not found: the files of the folders that could not be
    read or parsed (the module may be one of them), with their first problem."""
    notes = []
    for d in search_dirs:
        try:
            files = sorted(list(d.glob("*.yaml")) + list(d.glob("*.yml")))
        except OSError:
            continue
        for f in files:
            problems = ProblemList()
            _read_yaml(f, problems)
            if problems.errors:
                notes.append(f"{f.name} [{problems.errors[0].code}]")
    if not notes:
        return ""
    return (f"; these files could not be read and may hold it: {', '.join(notes[:5])}"
            f"{' ...' if len(notes) > 5 else ''} (run 'kiosk check' on them)")


def load_survey(path: str | Path, module_dirs: list[str | Path] | None = None,
                warnings: list[Problem] | None = None) -> Survey:
    """Load a survey file and the modules it pins, from the survey's folder and
    any ``module_dirs``; validate everything and report every problem.
    Warnings are appended to ``warnings`` when given."""
    p = Path(path)
    problems = ProblemList(file=str(p))
    data = _read_yaml(p, problems)
    survey = None
    if data is not None:
        try:
            survey = parse_survey(data, problems, p, [Path(d) for d in (module_dirs or [])])
        except RecursionError:
            problems.add("Q-YAML-003", "the survey is nested too deeply to be a questionnaire")
    elif not problems.errors:
        problems.add("Q-SUR-001", "the file is empty; a survey needs id, version, modules, site")
    if warnings is not None:
        warnings.extend(x for x in problems.items if x.severity != "error")
    problems.raise_if_errors()
    assert survey is not None
    return survey


def parse_survey(data: Any, problems: ProblemList, path: str | Path,
                 module_dirs: list[Path] | None = None) -> Survey | None:
    """Validate a survey mapping already read from YAML, with the modules it
    pins (looked up in the folder of ``path`` and in ``module_dirs``); add
    every problem. Returns ``None`` when there is any error."""
    p = Path(path)
    extra_dirs = list(module_dirs or [])
    if not isinstance(data, dict):
        problems.add("Q-SUR-001", f"a survey file must be a mapping with id, version, modules, site; got "
                                  f"{_short(data)}")
        return None
    _unknown_keys(data, _SURVEY_KEYS, "Q-SUR-002", "", problems)
    sid = data.get("id", "")
    sid = sid if isinstance(sid, str) else str(sid)
    if not ID_RE.match(sid):
        problems.add("Q-SUR-003", f"survey id {_short(sid)} must start with a lowercase letter and use only "
                                  "a-z, 0-9 and '_'", line=_line_of(data, "id"))
    version = data.get("version", "")
    version = version if isinstance(version, str) else str(version)
    if not VERSION_RE.match(version):
        problems.add("Q-SUR-004", f"version {_short(version)} must be semantic, like 1.0.0 (write it in "
                                  "quotes: version: \"1.0.0\")", line=_line_of(data, "version"))
    title = _texts(data.get("title"), problems, "survey title", _line_of(data, "title"), None,
                   required=False)
    site_raw = data.get("site")
    site = _parse_site(site_raw, problems, _line_of(data, "site"))
    dirs = [p.parent] + extra_dirs
    index = _module_index(dirs)
    modules: list[Module] = []
    external: dict[str, Item] = {}
    raw_mods = data.get("modules")
    if not isinstance(raw_mods, list) or not raw_mods:
        problems.add("Q-SUR-005", "'modules' must list the modules in order, each as {id, version}",
                     line=_line_of(data, "modules"))
        raw_mods = []
    listed: set[str] = set()
    for entry in raw_mods:
        eline = _line_of(entry) or _line_of(data, "modules")
        if not isinstance(entry, dict) or "id" not in entry or "version" not in entry:
            problems.add("Q-SUR-006", f"each module entry needs 'id' and 'version', like "
                                      f"{{id: phq9, version: \"1.0.0\"}}; got {_short(entry)}", line=eline)
            continue
        key = (str(entry["id"]), str(entry["version"]))
        if key[0] in listed:
            problems.add("Q-SUR-008", f"module {key[0]!r} is listed twice; a survey asks each module once",
                         line=eline)
            continue
        listed.add(key[0])
        if key not in index:
            known = sorted({f"{i} {v}" for i, v in index})
            problems.add("Q-SUR-007", f"module {key[0]!r} version {key[1]} not found in "
                                      f"{', '.join(str(d) for d in dirs)}"
                                      f"{_did_you_mean(f'{key[0]} {key[1]}', known)}{_unreadable_note(dirs)}",
                         line=eline)
            continue
        files = index[key]
        if len(files) > 1:
            problems.add("Q-SUR-009", f"module {key[0]!r} version {key[1]} is defined by several files "
                                      f"({', '.join(str(f) for f in files)}); keep one, or give the changed "
                                      "one a new version", line=eline)
        mp = files[0]
        mprob = ProblemList(file=str(mp))
        mdata = _read_yaml(mp, mprob)
        module = parse_module(mdata, mprob, str(mp), external) if mdata is not None else None
        problems.items.extend(mprob.items)
        if module is None:
            continue
        modules.append(module)
        external.update({it.key: it for it in module.items})
    if site is not None:
        modules = _check_site_against_modules(site, site_raw, modules, problems)
    if problems.errors or site is None:
        return None
    digest = _safe_hash({"survey": data, "modules": [m.hash for m in modules]}, problems)
    if problems.errors:
        return None
    return Survey(id=sid, version=version, title=title, modules=tuple(modules), site=site,
                  hash=digest, path=str(p))


def _check_site_against_modules(site: SiteSettings, site_raw: Any, modules: list[Module],
                                problems: ProblemList) -> list[Module]:
    """Site-level rules that need the modules; returns the modules with the
    site's choice lists applied."""
    sline = _line_of(site_raw)
    module_lists = {name for m in modules for name in m.choice_lists}
    choices_raw = site_raw.get("choices") if isinstance(site_raw, dict) else None
    for name in site.choices:
        if modules and name not in module_lists:
            problems.add("Q-SITE-008", f"site list {name!r} has no effect: it replaces no choice list of the "
                                       f"survey's modules{_did_you_mean(name, module_lists)}",
                         line=_line_of(choices_raw, name) or sline, severity="warning")
    for m in modules:
        for it in m.items:
            if types.get(it.type).free_text and not site.allow_free_text:
                problems.add("Q-PRIV-003", f"module {m.id!r} has a free-text item but the site does not "
                                           "enable free text; set site.allow_free_text: true only if it is "
                                           "essential, or remove the item", item=it.id, file=m.path,
                             line=it.line)
    offered = []
    for lang in site.languages:
        statuses = {m.id: m.languages.get(lang, "missing") for m in modules}
        lacking = [mid for mid, st in statuses.items() if st == "missing"]
        drafts = [mid for mid, st in statuses.items() if st == "draft"]
        if lacking:
            problems.add("Q-LANG-007", f"site language {lang!r} will not be offered: module(s) "
                                       f"{', '.join(lacking)} lack it; translate them or remove the language",
                         line=_line_of(site_raw, "languages") or sline, severity="warning")
        elif drafts and not site.allow_draft_languages:
            problems.add("Q-LANG-007", f"site language {lang!r} will not be offered: it is only a draft in "
                                       f"module(s) {', '.join(drafts)}; have it reviewed, or set "
                                       "site.allow_draft_languages: true", line=_line_of(site_raw, "languages")
                         or sline, severity="warning")
        else:
            offered.append(lang)
        for name, choices in site.choices.items():
            if name in module_lists:
                missing = [c.code for c in choices if lang not in c.label]
                if missing:
                    problems.add("Q-LANG-009", f"site list {name!r} lacks text in {lang!r} for "
                                               f"{', '.join(missing[:5])}; translate it, write a place name "
                                               "once as plain text (label: \"Les Tilleuls\"), or remove "
                                               "the language",
                                 line=_line_of(choices_raw, name) or sline)
    if modules and site.languages and not offered:
        problems.add("Q-LANG-008", "no site language is complete in every module, so the kiosk could offer "
                                   "no language; enable a language every module has",
                     line=_line_of(site_raw, "languages") or sline)
    if any(s.crisis for m in modules for s in m.scores):
        for lang in offered:
            if lang not in site.crisis:
                problems.add("Q-SITE-003", f"a module flags crises (e.g. PHQ-9 item 9) but site.crisis has no "
                                           f"text in {lang!r}; name local crisis resources or use PHQ-8",
                             line=_line_of(site_raw, "crisis") or sline)
    return [_apply_site_lists(m, site) for m in modules]


def _parse_site(raw: Any, problems: ProblemList, line: int | None) -> SiteSettings | None:
    if not isinstance(raw, dict):
        problems.add("Q-SITE-001", "'site' must give at least 'centre' and 'languages'", line=line)
        return None
    sline = _line_of(raw) or line
    _unknown_keys(raw, _SITE_KEYS, "Q-SITE-002", "site ", problems)
    centre = raw.get("centre", "")
    centre = centre if isinstance(centre, str) else str(centre)
    if not CODE_RE.match(centre):
        problems.add("Q-SITE-004", f"centre code {_short(centre)} must be 1-32 letters, digits, '_' or '-'",
                     line=_line_of(raw, "centre") or sline)
    langs = raw.get("languages")
    if not isinstance(langs, list) or not langs:
        problems.add("Q-SITE-005", f"site 'languages' must list the enabled languages, e.g. [fr, en]; got "
                                   f"{_short(langs)}", line=_line_of(raw, "languages") or sline)
        langs = []
    good_langs = []
    for lang in langs:
        if not isinstance(lang, str) or not LANG_RE.match(lang):
            problems.add("Q-LANG-004", f"site language {_short(lang)} is not a language code (use fr, en, "
                                       "ar, fa_AF, ti...)", line=_line_of(raw, "languages") or sline)
        elif lang not in good_langs:
            good_langs.append(lang)
    period = raw.get("period", "week")
    if not isinstance(period, str) or period not in PERIODS:
        problems.add("Q-SITE-006", f"period {_short(period)} must be one of week, month, quarter (never "
                                   "finer: a time of day could identify a patient)",
                     line=_line_of(raw, "period") or sline)
        period = "week"
    timeout = raw.get("idle_timeout", 90)
    if _integer(timeout) is None or not 15 <= timeout <= 1800:
        problems.add("Q-SITE-007", f"idle_timeout {_short(timeout)} must be whole seconds between 15 and 1800",
                     line=_line_of(raw, "idle_timeout") or sline)
        timeout = 90
    flags = {}
    for key, default in (("keep_partial", True), ("allow_draft_languages", False), ("allow_free_text", False)):
        value = raw.get(key, default)
        if not _is_bool(value):
            problems.add("Q-SITE-009", f"{key} must be true or false; got {_short(value)}",
                         line=_line_of(raw, key) or sline)
            value = default
        flags[key] = bool(value)
    lists: dict[str, tuple[Choice, ...]] = {}
    raw_choices = raw.get("choices")
    if raw_choices is not None and not isinstance(raw_choices, dict):
        problems.add("Q-SITE-010", f"site 'choices' must map list names to lists of choices; got "
                                   f"{_short(raw_choices)}", line=_line_of(raw, "choices") or sline)
    elif raw_choices:
        for name, entries in raw_choices.items():
            lists[str(name)] = _choices(entries, problems, f"site list {name}",
                                        _line_of(raw_choices, name) or sline, langs=good_langs)
    return SiteSettings(
        centre=centre, languages=tuple(good_langs), idle_timeout=int(timeout), period=period,
        keep_partial=flags["keep_partial"], allow_draft_languages=flags["allow_draft_languages"],
        allow_free_text=flags["allow_free_text"], choices=lists,
        crisis=_texts(raw.get("crisis"), problems, "site crisis text", _line_of(raw, "crisis") or sline, None,
                      required=False),
        consent=_texts(raw.get("consent"), problems, "site consent text", _line_of(raw, "consent") or sline,
                       None, required=False),
        crisis_help=_texts(raw.get("crisis_help"), problems, "site crisis help text",
                           _line_of(raw, "crisis_help") or sline, None, required=False),
    )


def _apply_site_lists(module: Module, site: SiteSettings) -> Module:
    """Replace named choice lists by the site's lists of the same name."""
    if not any(name in site.choices for name in module.choice_lists):
        return module
    lists = dict(module.choice_lists)
    # A label written once as plain text covers the module's languages too
    # (the analysis reads labels in the languages of its report).
    langs = [*site.languages, *module.languages]
    lists.update({k: _with_languages(v, langs) for k, v in site.choices.items() if k in lists})
    items = tuple(replace(it, choices=lists[it.choice_list]) if it.choice_list in site.choices else it
                  for it in module.items)
    return replace(module, items=items, choice_lists=lists)
