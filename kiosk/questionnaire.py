"""Questionnaire modules and surveys: loading and validation.

A *module* is one YAML file (an instrument or a block of questions); a
*survey* is what a site runs: modules in order, pinned by id and version, plus
site settings. See ``docs/questionnaire-format.md`` for the format.

Validation reports every problem at once, each with a stable code, the file,
the line, the item id and the fix. Loading never evaluates anything from the
file: expressions are parsed by :mod:`kiosk.logic`.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from kiosk import logic
from kiosk.errors import ExpressionError, ProblemList, ValidationError

ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
VERSION_RE = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
LANG_RE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")

CHOICE_TYPES = {"single", "multiple", "scale"}
ANSWER_TYPES = CHOICE_TYPES | {"integer", "text"}
ALL_TYPES = ANSWER_TYPES | {"note", "group"}
# Types that would identify a person; refused outright (free text is handled
# separately because a site may knowingly enable it).
IDENTIFYING_TYPES = {"name", "phone", "email", "date", "datetime", "birthdate", "deviceid",
                     "imei", "geopoint", "geotrace", "geoshape", "address", "barcode",
                     "photo", "image", "audio-recording", "signature"}
TRANSLATION_STATUSES = {"validated", "draft"}
PERIODS = {"week", "month", "quarter"}


@dataclass(frozen=True)
class Choice:
    """One answer option with a stable code."""

    code: str
    label: dict[str, str]
    image: str | None = None
    audio: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Item:
    """One question (or note) shown on its own screen."""

    id: str
    type: str
    text: dict[str, str]
    module: str
    line: int | None = None
    hint: dict[str, str] = field(default_factory=dict)
    choices: tuple[Choice, ...] = ()
    choice_list: str | None = None
    required: bool = False
    relevant: str | None = None
    constraint: str | None = None
    constraint_message: dict[str, str] = field(default_factory=dict)
    minimum: int | None = None
    maximum: int | None = None
    image: str | None = None
    audio: dict[str, str] = field(default_factory=dict)
    group_text: dict[str, str] = field(default_factory=dict)
    allow_free_text: bool = False

    @property
    def key(self) -> str:
        """Survey-wide key ``module.item`` used in responses."""
        return f"{self.module}.{self.id}"

    @property
    def is_question(self) -> bool:
        """True for items that take an answer (not notes)."""
        return self.type in ANSWER_TYPES


@dataclass(frozen=True)
class ScoreDef:
    """A score declared by a module; computed by :mod:`kiosk.scoring`."""

    id: str
    module: str
    items: tuple[str, ...]
    label: dict[str, str] = field(default_factory=dict)
    values: dict[str, float] = field(default_factory=dict)
    weights: dict[str, dict[str, float]] = field(default_factory=dict)
    intercept: float = 0.0
    multiplier: float = 1.0
    bands: tuple[tuple[float, str], ...] = ()
    positive_at: float | None = None
    any_of: dict[str, tuple[str, ...]] = field(default_factory=dict)
    crisis: bool = False
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class Module:
    """A loaded, validated questionnaire module."""

    id: str
    version: str
    title: dict[str, str]
    source: str
    license: str
    languages: dict[str, str]
    items: tuple[Item, ...]
    choice_lists: dict[str, tuple[Choice, ...]]
    scores: tuple[ScoreDef, ...]
    hash: str
    path: str = ""

    @property
    def major(self) -> int:
        """Major version: analyses pool only the same id and major version."""
        return int(self.version.split(".")[0])

    def item(self, item_id: str) -> Item:
        """The item with this id (KeyError if absent)."""
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(item_id)


@dataclass(frozen=True)
class SiteSettings:
    """Settings a site supplies without editing any module."""

    centre: str
    languages: tuple[str, ...]
    idle_timeout: int = 90
    period: str = "week"
    keep_partial: bool = True
    allow_draft_languages: bool = False
    allow_free_text: bool = False
    choices: dict[str, tuple[Choice, ...]] = field(default_factory=dict)
    crisis: dict[str, str] = field(default_factory=dict)
    consent: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Survey:
    """Modules in order plus the site settings; what one kiosk runs."""

    id: str
    version: str
    title: dict[str, str]
    modules: tuple[Module, ...]
    site: SiteSettings
    hash: str
    path: str = ""

    @property
    def items(self) -> list[Item]:
        """Every item of every module, in survey order."""
        return [it for m in self.modules for it in m.items]

    @property
    def questions(self) -> list[Item]:
        """Items that take an answer."""
        return [it for it in self.items if it.is_question]

    def module(self, module_id: str) -> Module:
        """The module with this id."""
        for m in self.modules:
            if m.id == module_id:
                return m
        raise KeyError(module_id)

    def language_status(self, lang: str) -> str:
        """``validated`` if every module has the language validated, ``draft``
        if some only as a draft, ``missing`` if any module lacks it."""
        statuses = [m.languages.get(lang, "missing") for m in self.modules]
        if "missing" in statuses:
            return "missing"
        return "draft" if "draft" in statuses else "validated"

    def offered_languages(self) -> list[str]:
        """Languages the kiosk offers: enabled by the site and present in every
        module (drafts only when the site allows them)."""
        out = []
        for lang in self.site.languages:
            status = self.language_status(lang)
            if status == "validated" or (status == "draft" and self.site.allow_draft_languages):
                out.append(lang)
        return out


# ---------------------------------------------------------------- YAML reading

def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.allow_duplicate_keys = False
    return y


def _line_of(node: Any, key: Any = None) -> int | None:
    """1-based line of a mapping key (or of the node) in the source file."""
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    try:
        if key is not None:
            return int(lc.key(key)[0]) + 1
        return int(lc.line) + 1
    except (KeyError, TypeError, AttributeError):
        return None


def _plain(node: Any) -> Any:
    """ruamel round-trip objects to plain Python (for hashing)."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def content_hash(data: Any) -> str:
    """SHA-256 (hex, first 16 chars) of the canonical JSON of a definition:
    comments and layout do not change it, any wording or code change does."""
    canon = json.dumps(_plain(data), sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                       default=str)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()[:16]


def _read_yaml(path: Path, problems: ProblemList) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.add("Q-FILE-001", f"file not found; check the path {str(path)!r}")
        return None
    except UnicodeDecodeError:
        problems.add("Q-FILE-002", "file is not UTF-8 text; save it as UTF-8")
        return None
    try:
        return _yaml().load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        problems.add("Q-YAML-001", f"not valid YAML: {problem}; fix the indentation or quoting",
                     line=line)
        return None
    except Exception as exc:  # ruamel raises a few non-YAMLError types on odd input
        problems.add("Q-YAML-001", f"not valid YAML: {exc.__class__.__name__}")
        return None


def _did_you_mean(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _texts(value: Any, problems: ProblemList, where: str, line: int | None,
           item: str | None, required: bool = True) -> dict[str, str]:
    """A per-language text map ``{lang: text}``."""
    if value is None:
        if required:
            problems.add("Q-TXT-001", f"{where} is missing; give it as a map of language code to text",
                         line=line, item=item)
        return {}
    if not isinstance(value, dict):
        problems.add("Q-TXT-002", f"{where} must be a map of language code to text, like "
                                  f"{{fr: '...', en: '...'}}; got {str(value)[:40]!r}",
                     line=line, item=item)
        return {}
    out = {}
    for lang, text in value.items():
        if not isinstance(lang, str) or not LANG_RE.match(lang):
            problems.add("Q-TXT-003", f"{where}: {lang!r} is not a language code (use fr, en, ar, fa_AF, ti...)",
                         line=_line_of(value, lang) or line, item=item)
            continue
        if not isinstance(text, str) or not text.strip():
            problems.add("Q-TXT-004", f"{where} in {lang!r} is empty; write the text or remove the language",
                         line=_line_of(value, lang) or line, item=item)
            continue
        out[lang] = str(text)
    return out


def _choices(raw: Any, problems: ProblemList, list_name: str, line: int | None) -> tuple[Choice, ...]:
    if not isinstance(raw, list) or not raw:
        problems.add("Q-CHO-001", f"choice list {list_name!r} must be a non-empty list of "
                                  "{code, label}", line=line)
        return ()
    out: list[Choice] = []
    seen: set[str] = set()
    for entry in raw:
        eline = _line_of(entry) or line
        if not isinstance(entry, dict) or "code" not in entry:
            problems.add("Q-CHO-002", f"choice list {list_name!r}: each choice needs a 'code' and a 'label'",
                         line=eline)
            continue
        code = str(entry["code"])
        if not CODE_RE.match(code):
            problems.add("Q-CHO-003", f"choice list {list_name!r}: code {code!r} must be 1-32 letters, "
                                      "digits, '_' or '-'", line=eline)
        if code in seen:
            problems.add("Q-CHO-004", f"choice list {list_name!r}: code {code!r} appears twice; codes "
                                      "must be unique within a list", line=eline)
        seen.add(code)
        label = _texts(entry.get("label"), problems, f"label of choice {code!r} in {list_name!r}",
                       eline, None)
        audio = _texts(entry.get("audio"), problems, f"audio of choice {code!r}", eline, None,
                       required=False)
        image = entry.get("image")
        out.append(Choice(code, label, str(image) if image else None, audio))
    return tuple(out)


_MODULE_KEYS = {"id", "version", "title", "source", "license", "languages", "choices", "items",
                "scores", "description"}
_ITEM_KEYS = {"id", "type", "text", "hint", "choices", "required", "relevant", "constraint",
              "constraint_message", "min", "max", "image", "audio", "items", "allow_free_text"}


def _parse_items(raw_items: Any, module_id: str, lists: dict[str, tuple[Choice, ...]],
                 problems: ProblemList, line: int | None, group_relevant: str | None = None,
                 group_text: dict[str, str] | None = None) -> list[Item]:
    if not isinstance(raw_items, list) or not raw_items:
        problems.add("Q-ITEM-001", "'items' must be a non-empty list of questions", line=line)
        return []
    out: list[Item] = []
    for raw in raw_items:
        iline = _line_of(raw) or line
        if not isinstance(raw, dict):
            problems.add("Q-ITEM-002", "each item must be a mapping with at least 'id', 'type', 'text'",
                         line=iline)
            continue
        item_id = str(raw.get("id", ""))
        if not ID_RE.match(item_id):
            problems.add("Q-ITEM-003", f"item id {item_id!r} must start with a lowercase letter and use "
                                       "only a-z, 0-9 and '_'", line=iline, item=item_id or None)
        for key in raw:
            if key not in _ITEM_KEYS:
                problems.add("Q-ITEM-004", f"unknown key {key!r}{_did_you_mean(str(key), sorted(_ITEM_KEYS))}",
                             line=_line_of(raw, key), item=item_id)
        itype = str(raw.get("type", ""))
        if itype in IDENTIFYING_TYPES:
            problems.add("Q-PRIV-001", f"type {itype!r} would identify a person and is not allowed in an "
                                       "anonymous survey; ask in bands or categories instead (age band, "
                                       "region of birth)", line=_line_of(raw, "type"), item=item_id)
            continue
        if itype not in ALL_TYPES:
            problems.add("Q-ITEM-005", f"unknown type {itype!r}{_did_you_mean(itype, sorted(ALL_TYPES))}; "
                                       f"use one of {', '.join(sorted(ALL_TYPES))}",
                         line=_line_of(raw, "type") or iline, item=item_id)
            continue
        relevant = raw.get("relevant")
        if group_relevant and relevant:
            relevant = f"({group_relevant}) and ({relevant})"
        elif group_relevant:
            relevant = group_relevant
        text = _texts(raw.get("text"), problems, "text", _line_of(raw, "text") or iline, item_id,
                      required=itype != "group")
        if itype == "group":
            out.extend(_parse_items(raw.get("items"), module_id, lists, problems,
                                    _line_of(raw, "items") or iline,
                                    str(relevant) if relevant else None, text or group_text))
            continue
        choices: tuple[Choice, ...] = ()
        list_name = None
        if itype in CHOICE_TYPES:
            ref = raw.get("choices")
            if isinstance(ref, str):
                list_name = ref
                if ref not in lists:
                    problems.add("Q-REF-001", f"choice list {ref!r} is not defined in 'choices'"
                                              f"{_did_you_mean(ref, sorted(lists))}",
                                 line=_line_of(raw, "choices"), item=item_id)
                else:
                    choices = lists[ref]
            elif isinstance(ref, list):
                choices = _choices(ref, problems, f"{item_id} (inline)", _line_of(raw, "choices"))
            else:
                problems.add("Q-CHO-005", f"a {itype} item needs 'choices': the name of a list or a list",
                             line=iline, item=item_id)
        elif "choices" in raw:
            problems.add("Q-CHO-006", f"a {itype} item takes no 'choices'; remove them or change the type",
                         line=_line_of(raw, "choices"), item=item_id)
        minimum = raw.get("min")
        maximum = raw.get("max")
        if itype == "integer":
            if not isinstance(minimum, int) or not isinstance(maximum, int) or minimum > maximum:
                problems.add("Q-INT-001", "an integer item needs whole-number 'min' and 'max' with "
                                          "min <= max (a range keeps answers plausible)",
                             line=iline, item=item_id)
        if itype == "text" and raw.get("allow_free_text") is not True:
            problems.add("Q-PRIV-002", "free text can identify a person; mark the item "
                                       "'allow_free_text: true' only if it is essential (the site must "
                                       "also enable free text)", line=iline, item=item_id)
        msg = _texts(raw.get("constraint_message"), problems, "constraint_message",
                     _line_of(raw, "constraint_message"), item_id, required=False)
        if raw.get("constraint") and not msg:
            problems.add("Q-CON-001", "a constraint needs a 'constraint_message' telling the patient "
                                      "what to change, in each language", line=_line_of(raw, "constraint"),
                         item=item_id, severity="warning")
        out.append(Item(
            id=item_id, type=itype, text=text, module=module_id, line=iline,
            hint=_texts(raw.get("hint"), problems, "hint", _line_of(raw, "hint"), item_id, required=False),
            choices=choices, choice_list=list_name, required=bool(raw.get("required", False)),
            relevant=str(relevant) if relevant else None,
            constraint=str(raw["constraint"]) if raw.get("constraint") else None,
            constraint_message=msg,
            minimum=minimum if isinstance(minimum, int) else None,
            maximum=maximum if isinstance(maximum, int) else None,
            image=str(raw["image"]) if raw.get("image") else None,
            audio=_texts(raw.get("audio"), problems, "audio", _line_of(raw, "audio"), item_id, required=False),
            group_text=group_text or {},
            allow_free_text=raw.get("allow_free_text") is True,
        ))
    return out


def _check_expressions(items: list[Item], module_id: str, problems: ProblemList,
                       external: set[str]) -> None:
    """Each reference must name an earlier item of this module (``${id}``) or an
    item of an earlier module (``${module.id}``)."""
    earlier: list[str] = []
    all_ids = [it.id for it in items]
    for it in items:
        for field_name, text in (("relevant", it.relevant), ("constraint", it.constraint)):
            if not text:
                continue
            try:
                tree = logic.parse(text)
            except ExpressionError as exc:
                problems.add("Q-EXP-001", f"{field_name}: {exc.message}", line=it.line, item=it.id)
                continue
            for name in logic.references(tree):
                if "." in name:
                    if name not in external:
                        problems.add("Q-REF-003", f"{field_name} refers to ${{{name}}}, which is not an "
                                                  "item of an earlier module of the survey",
                                     line=it.line, item=it.id)
                    continue
                if field_name == "constraint" and name == it.id:
                    continue
                if name not in all_ids:
                    problems.add("Q-REF-002", f"{field_name} refers to ${{{name}}}, which is not an item "
                                              f"of this module{_did_you_mean(name, all_ids)}",
                                 line=it.line, item=it.id)
                elif name not in earlier:
                    problems.add("Q-REF-004", f"{field_name} refers to ${{{name}}}, which comes later; "
                                              "a question can only depend on earlier answers",
                                 line=it.line, item=it.id)
        earlier.append(it.id)


def _parse_scores(raw: Any, module_id: str, items: list[Item], problems: ProblemList) -> list[ScoreDef]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.add("Q-SCO-001", "'scores' must be a list", line=None)
        return []
    ids = [it.id for it in items]
    out = []
    for s in raw:
        sline = _line_of(s)
        if not isinstance(s, dict) or not s.get("id"):
            problems.add("Q-SCO-002", "each score needs an 'id'", line=sline)
            continue
        sid = str(s["id"])
        s_items = [str(x) for x in (s.get("items") or [])]
        if not s_items:
            problems.add("Q-SCO-003", f"score {sid!r} lists no 'items'", line=sline)
        for name in s_items:
            if name not in ids:
                problems.add("Q-SCO-004", f"score {sid!r} uses item {name!r}, which is not in this "
                                          f"module{_did_you_mean(name, ids)}", line=sline)
        bands = []
        for b in s.get("bands") or []:
            try:
                bands.append((float(b["from"]), str(b["label"])))
            except (KeyError, TypeError, ValueError):
                problems.add("Q-SCO-005", f"score {sid!r}: each band needs 'from' (a number) and 'label'",
                             line=_line_of(b) or sline)
        rng = s.get("range") or [None, None]
        try:
            out.append(ScoreDef(
                id=sid, module=module_id, items=tuple(s_items),
                label=_texts(s.get("label"), problems, f"label of score {sid!r}", sline, None, required=False),
                values={str(k): float(v) for k, v in (s.get("values") or {}).items()},
                weights={str(i): {str(c): float(w) for c, w in ws.items()}
                         for i, ws in (s.get("weights") or {}).items()},
                intercept=float(s.get("intercept", 0.0)),
                multiplier=float(s.get("multiplier", 1.0)),
                bands=tuple(sorted(bands)),
                positive_at=float(s["positive_at"]) if s.get("positive_at") is not None else None,
                any_of={str(i): tuple(str(c) for c in cs) for i, cs in (s.get("any_of") or {}).items()},
                crisis=bool(s.get("crisis", False)),
                minimum=float(rng[0]) if rng[0] is not None else None,
                maximum=float(rng[1]) if rng[1] is not None else None,
            ))
        except (TypeError, ValueError, AttributeError) as exc:
            problems.add("Q-SCO-006", f"score {sid!r}: numbers expected in values/weights/intercept "
                                      f"({exc.__class__.__name__})", line=sline)
    return out


def parse_module(data: Any, problems: ProblemList, path: str = "",
                 external_refs: set[str] | None = None) -> Module | None:
    """Validate a module mapping already read from YAML; add every problem."""
    if not isinstance(data, dict):
        problems.add("Q-MOD-001", "a module file must be a mapping with id, version, title, items")
        return None
    for key in data:
        if key not in _MODULE_KEYS:
            problems.add("Q-MOD-002", f"unknown key {key!r}{_did_you_mean(str(key), sorted(_MODULE_KEYS))}",
                         line=_line_of(data, key))
    module_id = str(data.get("id", ""))
    if not ID_RE.match(module_id):
        problems.add("Q-MOD-003", f"module id {module_id!r} must start with a lowercase letter and use only "
                                  "a-z, 0-9 and '_'", line=_line_of(data, "id"))
    version = str(data.get("version", ""))
    if not VERSION_RE.match(version):
        problems.add("Q-MOD-004", f"version {version!r} must be semantic, like 1.0.0",
                     line=_line_of(data, "version"))
    for key in ("source", "license"):
        if not data.get(key):
            problems.add("Q-MOD-005", f"'{key}' is missing; say where the wording comes from and under "
                                      "which licence it may be used", line=_line_of(data))
    languages: dict[str, str] = {}
    raw_langs = data.get("languages")
    if not isinstance(raw_langs, dict) or not raw_langs:
        problems.add("Q-LANG-001", "'languages' must map each language to 'validated' or 'draft'",
                     line=_line_of(data, "languages"))
    else:
        for lang, status in raw_langs.items():
            if str(status) not in TRANSLATION_STATUSES:
                problems.add("Q-LANG-002", f"language {lang!r} has status {status!r}; use 'validated' or "
                                           "'draft'", line=_line_of(raw_langs, lang))
            languages[str(lang)] = str(status)
    lists: dict[str, tuple[Choice, ...]] = {}
    raw_lists = data.get("choices") or {}
    if not isinstance(raw_lists, dict):
        problems.add("Q-CHO-007", "'choices' must map list names to lists of choices",
                     line=_line_of(data, "choices"))
    else:
        for name, raw in raw_lists.items():
            lists[str(name)] = _choices(raw, problems, str(name), _line_of(raw_lists, name))
    items = _parse_items(data.get("items"), module_id, lists, problems, _line_of(data, "items"))
    seen: dict[str, int | None] = {}
    for it in items:
        if it.id in seen:
            problems.add("Q-ITEM-006", f"item id {it.id!r} is used twice (first at line {seen[it.id]}); "
                                       "ids must be unique in a module", line=it.line, item=it.id)
        seen[it.id] = it.line
    _check_expressions(items, module_id, problems, external_refs or set())
    title = _texts(data.get("title"), problems, "title", _line_of(data, "title"), None)
    # Every declared language must be complete: a patient must never meet a
    # question without its text.
    for lang in languages:
        missing = [it.id for it in items if it.text and lang not in it.text]
        missing += [f"{it.id}:{c.code}" for it in items for c in it.choices if lang not in c.label]
        if lang not in title:
            missing.insert(0, "title")
        if missing:
            problems.add("Q-LANG-003", f"language {lang!r} is declared but lacks text for "
                                       f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}; "
                                       "translate them or remove the language",
                         line=_line_of(raw_langs, lang) if isinstance(raw_langs, dict) else None)
    scores = _parse_scores(data.get("scores"), module_id, items, problems)
    if problems.errors:
        return None
    return Module(id=module_id, version=version, title=title, source=str(data.get("source")),
                  license=str(data.get("license")), languages=languages, items=tuple(items),
                  choice_lists=lists, scores=tuple(scores), hash=content_hash(data), path=path)


def load_module(path: str | Path, warnings: list | None = None) -> Module:
    """Load and validate one module file; raise :class:`ValidationError` with
    every problem found. Warnings are appended to ``warnings`` when given."""
    p = Path(path)
    problems = ProblemList(file=str(p))
    data = _read_yaml(p, problems)
    module = parse_module(data, problems, str(p)) if data is not None else None
    if warnings is not None:
        warnings.extend(x for x in problems.items if x.severity != "error")
    problems.raise_if_errors()
    assert module is not None
    return module


_SURVEY_KEYS = {"id", "version", "title", "modules", "site"}
_SITE_KEYS = {"centre", "languages", "idle_timeout", "period", "keep_partial", "allow_draft_languages",
              "allow_free_text", "choices", "crisis", "consent"}


def _module_index(search_dirs: list[Path]) -> dict[tuple[str, str], Path]:
    """Map (module id, version) to its file, reading only the header keys."""
    index: dict[tuple[str, str], Path] = {}
    for d in search_dirs:
        for f in sorted(d.glob("*.yaml")):
            try:
                data = _yaml().load(f.read_text(encoding="utf-8"))
            except Exception:
                continue  # reported when (and if) the file is actually used or checked
            if isinstance(data, dict) and "items" in data and "id" in data:
                index.setdefault((str(data["id"]), str(data.get("version"))), f)
    return index


def load_survey(path: str | Path, module_dirs: list[str | Path] | None = None,
                warnings: list | None = None) -> Survey:
    """Load a survey file and the modules it pins, from the survey's folder and
    any ``module_dirs``; validate everything and report every problem.
    Warnings are appended to ``warnings`` when given."""
    p = Path(path)
    problems = ProblemList(file=str(p))
    data = _read_yaml(p, problems)
    if data is None:
        problems.raise_if_errors()
    if not isinstance(data, dict):
        problems.add("Q-SUR-001", "a survey file must be a mapping with id, version, modules, site")
        problems.raise_if_errors()
    for key in data:
        if key not in _SURVEY_KEYS:
            problems.add("Q-SUR-002", f"unknown key {key!r}{_did_you_mean(str(key), sorted(_SURVEY_KEYS))}",
                         line=_line_of(data, key))
    sid = str(data.get("id", ""))
    if not ID_RE.match(sid):
        problems.add("Q-SUR-003", f"survey id {sid!r} must use only a-z, 0-9 and '_'", line=_line_of(data, "id"))
    version = str(data.get("version", ""))
    if not VERSION_RE.match(version):
        problems.add("Q-SUR-004", f"version {version!r} must be semantic, like 1.0.0",
                     line=_line_of(data, "version"))
    site_raw = data.get("site")
    site = _parse_site(site_raw, problems, _line_of(data, "site"))
    dirs = [p.parent] + [Path(d) for d in (module_dirs or [])]
    index = _module_index(dirs)
    modules: list[Module] = []
    external: set[str] = set()
    raw_mods = data.get("modules")
    if not isinstance(raw_mods, list) or not raw_mods:
        problems.add("Q-SUR-005", "'modules' must list the modules in order, each as {id, version}",
                     line=_line_of(data, "modules"))
        raw_mods = []
    for entry in raw_mods:
        eline = _line_of(entry) or _line_of(data, "modules")
        if not isinstance(entry, dict) or "id" not in entry or "version" not in entry:
            problems.add("Q-SUR-006", "each module entry needs 'id' and 'version'", line=eline)
            continue
        key = (str(entry["id"]), str(entry["version"]))
        if key not in index:
            known = sorted({f"{i} {v}" for i, v in index})
            problems.add("Q-SUR-007", f"module {key[0]!r} version {key[1]} not found in "
                                      f"{', '.join(str(d) for d in dirs)}"
                                      f"{_did_you_mean(f'{key[0]} {key[1]}', known)}", line=eline)
            continue
        mp = index[key]
        mprob = ProblemList(file=str(mp))
        mdata = _read_yaml(mp, mprob)
        module = parse_module(mdata, mprob, str(mp), external) if mdata is not None else None
        problems.items.extend(mprob.items)
        if module is None:
            continue
        if site is not None:
            module = _apply_site_lists(module, site)
        modules.append(module)
        external.update(it.key for it in module.items)
    if site is not None:
        if site.allow_free_text is False:
            for m in modules:
                for it in m.items:
                    if it.type == "text":
                        problems.add("Q-PRIV-003", f"module {m.id!r} has a free-text item but the site "
                                                   "does not enable free text (site.allow_free_text)",
                                     item=it.id)
        for lang in site.languages:
            if not LANG_RE.match(lang):
                problems.add("Q-LANG-004", f"site language {lang!r} is not a language code",
                             line=_line_of(site_raw, "languages"))
        crisis_needed = any(s.crisis for m in modules for s in m.scores)
        if crisis_needed:
            for lang in site.languages:
                if lang not in site.crisis:
                    problems.add("Q-SITE-003", f"a module flags crises (e.g. PHQ-9 item 9) but "
                                               f"site.crisis has no text in {lang!r}; name local crisis "
                                               "resources or use PHQ-8", line=_line_of(site_raw, "crisis"))
    if warnings is not None:
        warnings.extend(x for x in problems.items if x.severity != "error")
    problems.raise_if_errors()
    assert site is not None
    title = _texts(data.get("title"), ProblemList(), "title", None, None, required=False)
    survey_hash = content_hash({"survey": data, "modules": [m.hash for m in modules]})
    return Survey(id=sid, version=version, title=title, modules=tuple(modules), site=site,
                  hash=survey_hash, path=str(p))


def _parse_site(raw: Any, problems: ProblemList, line: int | None) -> SiteSettings | None:
    if not isinstance(raw, dict):
        problems.add("Q-SITE-001", "'site' must give at least 'centre' and 'languages'", line=line)
        return None
    for key in raw:
        if key not in _SITE_KEYS:
            problems.add("Q-SITE-002", f"unknown site setting {key!r}{_did_you_mean(str(key), sorted(_SITE_KEYS))}",
                         line=_line_of(raw, key))
    centre = str(raw.get("centre", ""))
    if not CODE_RE.match(centre):
        problems.add("Q-SITE-004", f"centre code {centre!r} must be 1-32 letters, digits, '_' or '-'",
                     line=_line_of(raw, "centre") or line)
    langs = raw.get("languages")
    if not isinstance(langs, list) or not langs:
        problems.add("Q-SITE-005", "site 'languages' must list the enabled languages, e.g. [fr, en]",
                     line=_line_of(raw, "languages") or line)
        langs = []
    period = str(raw.get("period", "week"))
    if period not in PERIODS:
        problems.add("Q-SITE-006", f"period {period!r} must be one of week, month, quarter (never finer: "
                                   "a time of day could identify a patient)", line=_line_of(raw, "period"))
    timeout = raw.get("idle_timeout", 90)
    if not isinstance(timeout, int) or not 15 <= timeout <= 1800:
        problems.add("Q-SITE-007", f"idle_timeout {timeout!r} must be whole seconds between 15 and 1800",
                     line=_line_of(raw, "idle_timeout"))
        timeout = 90
    lists: dict[str, tuple[Choice, ...]] = {}
    for name, entries in (raw.get("choices") or {}).items():
        lists[str(name)] = _choices(entries, problems, f"site list {name}", _line_of(raw.get("choices"), name))
    return SiteSettings(
        centre=centre, languages=tuple(str(x) for x in langs), idle_timeout=timeout, period=period,
        keep_partial=bool(raw.get("keep_partial", True)),
        allow_draft_languages=bool(raw.get("allow_draft_languages", False)),
        allow_free_text=bool(raw.get("allow_free_text", False)), choices=lists,
        crisis=_texts(raw.get("crisis"), problems, "site crisis text", _line_of(raw, "crisis"), None,
                      required=False),
        consent=_texts(raw.get("consent"), problems, "site consent text", _line_of(raw, "consent"), None,
                       required=False),
    )


def _apply_site_lists(module: Module, site: SiteSettings) -> Module:
    """Replace named choice lists by the site's lists of the same name."""
    if not any(name in site.choices for name in module.choice_lists):
        return module
    from dataclasses import replace
    lists = dict(module.choice_lists)
    lists.update({k: v for k, v in site.choices.items() if k in lists})
    items = tuple(replace(it, choices=lists[it.choice_list]) if it.choice_list in site.choices else it
                  for it in module.items)
    return replace(module, items=items, choice_lists=lists)
