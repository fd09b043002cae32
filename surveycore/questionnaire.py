"""Questionnaire modules and surveys: loading and validation.

A *module* is one YAML file (an instrument or a block of questions); a
*survey* is what a site runs: modules in order, pinned by id and version, plus
site settings. See ``docs/questionnaire-format.md`` for the format and the
meaning of every validation code.

Validation reports every problem at once, each with a stable code, the file,
the line, the item id, the offending value and the fix. Loading never
evaluates anything from the file: expressions are parsed by :mod:`surveycore.logic`.
Whatever the input, the loaders raise :class:`ValidationError` and nothing
else (this is fuzz-tested).
"""

from __future__ import annotations

import difflib
import errno
import hashlib
import json
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Mapping

from ruamel.yaml import YAML
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean

from surveycore import logic, types
from surveycore.errors import ExpressionError, ProblemList, ValidationError

ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
VERSION_RE = re.compile(r"^(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})$")
LANG_RE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")
# A media reference with a scheme (http:, data:, file:) or an absolute path
# would make the kiosk reach outside its folder; only relative paths are taken.
_REMOTE_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*:|/|\\)")

# Types that would identify a person: refused outright (free text is a
# registered type because a module and a site may both knowingly enable it).
IDENTIFYING_TYPES = types.IDENTIFYING_TYPES
TRANSLATION_STATUSES = {"validated", "draft"}
# Where a language's wording comes from: a publisher's translation, or one
# made for this project (always a draft until a native review says otherwise).
TRANSLATION_ORIGINS = {"published", "project"}
_PROVENANCE_KEYS = {"status", "origin", "publisher", "title", "year", "licence", "url", "note"}
# A published wording must be traceable to its publisher: these say which
# (all four for a validated one; the year may be unknown for a draft).
_VALIDATED_FIELDS = ("publisher", "title", "year", "licence")
_PUBLISHED_FIELDS = ("publisher", "title", "licence")
PERIODS = {"week", "month", "quarter"}
MAX_GROUP_DEPTH = 5
# Integer items whose id says "age" or "birth" would record an exact age or
# birth year, which together with a centre and a week can identify someone.
_AGE_ID_RE = re.compile(r"(^|_)(age|ages|aged|birth|born|dob|naissance|birthyear|yob)(_|$)")


@dataclass(frozen=True)
class Choice:
    """One answer option with a stable code.

    ``image`` is the language-neutral picture (or, when pictures differ by
    language, the one of the first language); ``images`` holds per-language
    pictures when the module gives them. ``same_text`` is set when the label
    is written once as a plain string (a place name, a proper noun): the same
    text in every language, copied into ``label`` for each language concerned.
    """

    code: str
    label: dict[str, str]
    image: str | None = None
    audio: dict[str, str] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)
    same_text: str | None = None


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
    images: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Survey-wide key ``module.item`` used in responses."""
        return f"{self.module}.{self.id}"

    @property
    def is_question(self) -> bool:
        """True for items that take an answer (not notes)."""
        return types.is_question(self.type)


@dataclass(frozen=True)
class ScoreDef:
    """A score declared by a module; computed by :mod:`surveycore.scoring`.

    Exactly one of ``values`` (points per answer code, same for every item),
    ``weights`` (points per item and code; other codes count 0) or ``any_of``
    (1 when any listed item has a listed code) is used. ``bands`` are lower
    bounds ``(from, label)`` in ascending order; ``band_text`` gives each
    band label per language. ``minimum``/``maximum`` are the range the
    items can produce.
    """

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
    band_text: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Provenance:
    """Where one language's wording of a module comes from.

    ``origin`` is ``published`` (the publisher's own translation, cited by
    publisher, title, year and licence) or ``project`` (translated for this
    project: always ``draft``). Written in a module as the long form of a
    ``languages`` entry; the short form ``fr: validated`` has no provenance.
    """

    status: str
    origin: str
    publisher: str = ""
    title: str = ""
    year: int | None = None
    licence: str = ""
    url: str = ""
    note: str = ""

    def summary(self) -> str:
        """``published: publisher, year`` (the year when known) or
        ``project``, for status lines."""
        if self.origin == "published":
            return f"published: {self.publisher}" + (f", {self.year}" if self.year else "")
        return "project"


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
    description: dict[str, str] = field(default_factory=dict)
    # Only for languages written in the long form (see :class:`Provenance`).
    provenance: dict[str, Provenance] = field(default_factory=dict)

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
    # The centre's own help, named first on the crisis screen ("tell the
    # reception"); the kiosk has a default text in every interface language.
    crisis_help: dict[str, str] = field(default_factory=dict)


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
    except (KeyError, TypeError, AttributeError, IndexError, ValueError):
        return None


class _TooLarge(Exception):
    """A definition expands beyond what any questionnaire needs."""


# Enough for hundreds of items in dozens of languages; far beyond that, the
# file is a mistake or YAML aliases that expand exponentially.
_MAX_NODES = 200_000


def _plain(node: Any, budget: list[int] | None = None) -> Any:
    """ruamel round-trip objects to plain Python (for hashing)."""
    if budget is None:
        budget = [_MAX_NODES]
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooLarge
    if isinstance(node, dict):
        return {str(k): _plain(v, budget) for k, v in node.items()}
    if isinstance(node, (list, tuple, set, frozenset)):
        return [_plain(v, budget) for v in node]
    return node


def content_hash(data: Any) -> str:
    """SHA-256 (hex, first 16 chars) of the canonical JSON of a definition:
    comments and layout do not change it, any wording or code change does."""
    canon = json.dumps(_plain(data), sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                       default=str)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()[:16]


def _safe_hash(data: Any, problems: ProblemList) -> str:
    try:
        return content_hash(data)
    except (_TooLarge, RecursionError, ValueError):
        problems.add("Q-YAML-003", "the definition is too large or uses YAML aliases that refer to "
                                   "themselves or expand too far; write the content out without '&' "
                                   "anchors and '*' aliases")
        return ""


# Parsed documents by the SHA-256 of their text. ruamel's round-trip parser
# (needed for line numbers) is slow, and the same file is read by every survey
# that pins it and again by `kiosk check`. The cached objects are shared:
# nothing in this module mutates what it reads.
_PARSED: dict[str, Any] = {}
_PARSED_MAX = 256


# The largest shipped module is a few KiB; a megabyte holds hundreds of items
# in dozens of languages. A larger file is a mistake (or an attack) and would
# keep the parser busy for minutes: it is refused before parsing.
MAX_FILE_BYTES = 2 << 20


def _count_nodes(node: Any, budget: list[int]) -> None:
    """Walk the tree as every later step will, aliases expanded, and stop
    with :class:`_TooLarge` past the budget: a few shared lists nested in
    each other (an alias bomb) stand for billions of nodes."""
    stack = [node]
    while stack:
        item = stack.pop()
        budget[0] -= 1
        if budget[0] < 0:
            raise _TooLarge
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)


def _parse_yaml_text(text: str, problems: ProblemList) -> Any:
    """Read YAML text; add a coded problem and return None when unreadable,
    too large, or expanding (through aliases) beyond any questionnaire."""
    if len(text) > MAX_FILE_BYTES:
        problems.add("Q-FILE-004", f"the file has {len(text):,} characters; a questionnaire file has at most "
                                   f"{MAX_FILE_BYTES:,}: split it into modules")
        return None
    key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    if key in _PARSED:
        return _PARSED[key]
    try:
        data = _yaml().load(text)
        _count_nodes(data, [_MAX_NODES])
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[key] = data
        return data
    except DuplicateKeyError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problems.add("Q-YAML-002", f"a key appears twice in the same mapping "
                                   f"({str(getattr(exc, 'problem', '') or '').strip()}); keep only one",
                     line=line)
        return None
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or (str(exc).splitlines() or ["?"])[0]
        problems.add("Q-YAML-001", f"not valid YAML: {problem}; fix the indentation or quoting",
                     line=line)
        return None
    except RecursionError:
        problems.add("Q-YAML-003", "the file is nested too deeply to be a questionnaire")
        return None
    except _TooLarge:
        problems.add("Q-YAML-003", f"the definition expands to more than {_MAX_NODES:,} values (YAML '&' "
                                   "anchors and '*' aliases that refer to each other?); write the content "
                                   "out without anchors and aliases")
        return None
    except Exception as exc:  # ruamel raises a few non-YAMLError types on odd input
        problems.add("Q-YAML-001", f"not valid YAML: {exc.__class__.__name__}; fix the indentation "
                                   "or quoting")
        return None


def read_text_bounded(path: Path) -> str:
    """A questionnaire file's text, reading at most one character past
    :data:`MAX_FILE_BYTES` (so a huge file or ``/dev/zero`` is refused
    without being read whole). Raises OSError and UnicodeDecodeError."""
    if path.exists() and not path.is_file() and not path.is_dir():
        # A FIFO or a device would block or never end: refuse it unopened.
        raise OSError(errno.EINVAL, "not a regular file")
    with open(path, "rb") as fh:
        return fh.read(MAX_FILE_BYTES + 1).decode("utf-8")


def file_kind(data: Any) -> str:
    """``"survey"`` for a parsed questionnaire file that is a survey (it pins
    ``modules`` or holds ``site`` settings), else ``"module"``: the one rule
    every tool uses to tell the two kinds of file apart."""
    return "survey" if isinstance(data, Mapping) and ("modules" in data or "site" in data) else "module"


def file_kind_of(path: str | Path) -> str:
    """:func:`file_kind` of a file on disk; ``"module"`` when it cannot be
    read or parsed (the module loader then reports why, with its code)."""
    try:
        data = _parse_yaml_text(read_text_bounded(Path(path)), ProblemList())
    except (OSError, UnicodeDecodeError):
        return "module"
    return file_kind(data)


def _read_yaml(path: Path, problems: ProblemList) -> Any:
    try:
        text = read_text_bounded(path)
    except FileNotFoundError:
        problems.add("Q-FILE-001", f"file not found; check the path {str(path)!r}")
        return None
    except UnicodeDecodeError:
        problems.add("Q-FILE-002", "file is not UTF-8 text; save it as UTF-8")
        return None
    except PermissionError:
        problems.add("Q-FILE-005", f"the file exists but cannot be read (permission denied); let the "
                                   f"kiosk's user read {str(path)!r}")
        return None
    except IsADirectoryError:
        problems.add("Q-FILE-005", f"{str(path)!r} is a folder, not a questionnaire file")
        return None
    except OSError as exc:
        problems.add("Q-FILE-005", f"the file exists but cannot be read ({exc.strerror or exc.__class__.__name__}); "
                                   f"check {str(path)!r}")
        return None
    return _parse_yaml_text(text, problems)


# ------------------------------------------------------------------- helpers

def _did_you_mean(name: str, known: Iterable[str]) -> str:
    """``; did you mean 'x'?`` for the closest known name, or nothing."""
    names = sorted(set(known))
    same_case = [k for k in names if k.lower() == name.lower()]
    close = same_case or difflib.get_close_matches(name, names, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _codes_fix(code: str, codes: list[str]) -> str:
    """The closest code, or the list of codes when none is close."""
    return _did_you_mean(code, codes) or f"; its codes are {', '.join(codes)}"


def _a(word: str) -> str:
    """``a single item``, ``an integer item``."""
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _bounded_text(value: Any, limit: int) -> str:
    """``str(value)`` cut after about ``limit`` characters, built piece by
    piece: ``str`` of a list of shared lists (an alias bomb) would expand the
    whole of it before anything could be cut."""
    out: list[str] = []
    size = 0
    stack: list[Any] = [value]
    while stack and size <= limit:
        item = stack.pop()
        if isinstance(item, str) and item in ("\x00[", "\x00]", "\x00{", "\x00}", "\x00, ", "\x00: "):
            piece = item[1:]
        elif isinstance(item, dict):
            parts: list[Any] = ["\x00{"]
            for n, (k, v) in enumerate(item.items()):
                parts += (["\x00, "] if n else []) + [k, "\x00: ", v]
            parts.append("\x00}")
            stack.extend(reversed(parts))
            continue
        elif isinstance(item, (list, tuple)):
            parts = ["\x00["]
            for n, v in enumerate(item):
                parts += (["\x00, "] if n else []) + [v]
            parts.append("\x00]")
            stack.extend(reversed(parts))
            continue
        else:
            piece = repr(item) if isinstance(item, str) and out else str(item)[:limit + 1]
        out.append(piece)
        size += len(piece)
    return "".join(out)


def _short(value: Any, limit: int = 40) -> str:
    """The offending value, quoted and cut, for a message."""
    if value is None:
        return "nothing"
    text = _bounded_text(value, limit)
    if len(text) > limit:
        text = text[:limit] + "..."
    return repr(text)


def _is_bool(value: Any) -> bool:
    return isinstance(value, (bool, ScalarBoolean))


def _number(value: Any) -> float | None:
    """A finite number from YAML (not a boolean, not a quoted string)."""
    if _is_bool(value) or not isinstance(value, (int, float)):
        return None
    try:
        out = float(value)
    except (OverflowError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _integer(value: Any) -> int | None:
    if _is_bool(value) or not isinstance(value, int):
        return None
    return int(value)


def _code_of(value: Any) -> str | None:
    """A choice code from YAML: text or a whole number (``1`` and ``"1"`` are
    the same code); booleans, floats and null are refused because YAML would
    silently change them (``yes``/``no``, ``1.0``)."""
    if isinstance(value, str):
        return value
    if _integer(value) is not None and abs(int(value)) < 10 ** 32:
        return str(int(value))
    return None


# An XLSForm answer placeholder (``${name}``) in a text.
_PIPE_RE = re.compile(r"\$\{[^}]*\}")


def _texts(value: Any, problems: ProblemList, where: str, line: int | None,
           item: str | None, required: bool = True) -> dict[str, str]:
    """A per-language text map ``{lang: text}``."""
    if value is None:
        if required:
            problems.add("Q-TXT-001", f"{where} is missing; give it as a map of language code to text, "
                                      "like {fr: '...', en: '...'}", line=line, item=item)
        return {}
    if not isinstance(value, dict):
        problems.add("Q-TXT-002", f"{where} must be a map of language code to text, like "
                                  f"{{fr: '...', en: '...'}}; got {_short(value)}",
                     line=line, item=item)
        return {}
    out = {}
    for lang, text in value.items():
        if not isinstance(lang, str) or not LANG_RE.match(lang):
            problems.add("Q-TXT-003", f"{where}: {_short(lang)} is not a language code (use fr, en, ar, "
                                      "fa_AF, ti...)", line=_line_of(value, lang) or line, item=item)
            continue
        if not isinstance(text, str) or not text.strip():
            problems.add("Q-TXT-004", f"{where} in {lang!r} is empty or not text ({_short(text)}); write "
                                      "the text in quotes or remove the language",
                         line=_line_of(value, lang) or line, item=item)
            continue
        if _PIPE_RE.search(text):
            # The kiosk does not put earlier answers into wording: the patient
            # would read the placeholder itself.
            problems.add("Q-TXT-005", f"{where} in {lang!r} holds {_PIPE_RE.search(text).group(0)!r}: "
                                      "answers are not inserted into texts, so the patient would see it "
                                      "as written; rephrase the text without it",
                         line=_line_of(value, lang) or line, item=item)
        out[lang] = str(text)
    if required and not value:
        problems.add("Q-TXT-001", f"{where} is empty; give it as a map of language code to text, "
                                  "like {fr: '...', en: '...'}", line=line, item=item)
    return out


def _media(value: Any, problems: ProblemList, where: str, line: int | None, item: str | None,
           base: Path | None) -> tuple[str | None, dict[str, str]]:
    """An ``image``/``audio`` value: a relative path or a per-language map of
    paths. Returns (language-neutral path or first one, per-language map)."""
    if value is None:
        return None, {}
    if isinstance(value, str):
        raw = {"": value}
    elif isinstance(value, dict):
        raw = {}
        for lang, path in value.items():
            if not isinstance(lang, str) or not LANG_RE.match(lang):
                problems.add("Q-TXT-003", f"{where}: {_short(lang)} is not a language code (use fr, en, "
                                          "ar, fa_AF, ti...)", line=_line_of(value, lang) or line, item=item)
                continue
            if not isinstance(path, str) or not path.strip():
                problems.add("Q-MEDIA-001", f"{where} in {lang!r} must be a file path relative to the "
                                            f"module file; got {_short(path)}", line=line, item=item)
                continue
            raw[lang] = path
    else:
        problems.add("Q-MEDIA-001", f"{where} must be a file path relative to the module file, or a map "
                                    f"of language code to path; got {_short(value)}", line=line, item=item)
        return None, {}
    out: dict[str, str] = {}
    for lang, path in raw.items():
        if _REMOTE_RE.match(path) or ".." in Path(path).parts:
            problems.add("Q-MEDIA-001", f"{where} {path!r} must be a file path relative to the module "
                                        "file (no URL, no absolute path, no '..'): the kiosk never loads "
                                        "anything from outside its folder", line=line, item=item)
            continue
        resolved = base / path if base is not None else Path(path)
        if base is not None and not resolved.is_file():
            problems.add("Q-MEDIA-002", f"{where} file {path!r} not found next to the module; add the "
                                        "file or fix the path", line=line, item=item, severity="warning")
        out[lang] = str(resolved)
    neutral = out.pop("", None)
    first = neutral if neutral is not None else next(iter(out.values()), None)
    return first, out


def _audio(value: Any, problems: ProblemList, where: str, line: int | None, item: str | None,
           base: Path | None) -> dict[str, str]:
    """Recordings are spoken text, so ``audio`` is always per language."""
    if value is not None and not isinstance(value, dict):
        problems.add("Q-MEDIA-001", f"{where} is spoken text, so it must be a map of language code to "
                                    f"file path, like {{fr: audio/q1_fr.mp3}}; got {_short(value)}",
                     line=line, item=item)
        return {}
    return _media(value, problems, where, line, item, base)[1]


def _unknown_keys(raw: Mapping[Any, Any], allowed: set[str], code: str, what: str,
                  problems: ProblemList, item: str | None = None) -> None:
    for key in raw:
        if str(key) not in allowed:
            fix = _did_you_mean(str(key), allowed) or f"; allowed keys are {', '.join(sorted(allowed))}"
            problems.add(code, f"unknown {what}key {_short(key)}{fix}", line=_line_of(raw, key), item=item)


_CHOICE_KEYS = {"code", "label", "image", "audio"}


def _same_label(value: Any, problems: ProblemList, where: str, line: int | None) -> str | None:
    """A label written once as a plain string: the same text in every
    language (place names, proper nouns). None when it is a per-language map."""
    if not isinstance(value, str):
        return None
    if not value.strip():
        problems.add("Q-TXT-004", f"{where} is empty; write the text, or a map of language code to text",
                     line=line)
        return ""
    return str(value)


def _with_languages(choices: Iterable[Choice], langs: Iterable[str]) -> tuple[Choice, ...]:
    """Choices whose same-in-every-language labels cover ``langs`` (a site
    list learns the languages of its survey's modules only after parsing)."""
    langs = list(dict.fromkeys(langs))
    return tuple(replace(c, label={**{lang: c.same_text for lang in langs}, **c.label})
                 if c.same_text else c for c in choices)


def _choices(raw: Any, problems: ProblemList, list_name: str, line: int | None,
             base: Path | None = None, langs: Iterable[str] = ()) -> tuple[Choice, ...]:
    """A choice list; ``langs`` are the languages a label written once as a
    plain string is given in."""
    langs = tuple(langs)
    if not isinstance(raw, list) or not raw:
        problems.add("Q-CHO-001", f"choice list {list_name!r} must be a non-empty list of "
                                  f"{{code, label}}; got {_short(raw)}", line=line)
        return ()
    out: list[Choice] = []
    seen: set[str] = set()
    for entry in raw:
        eline = _line_of(entry) or line
        if not isinstance(entry, dict) or "code" not in entry:
            problems.add("Q-CHO-002", f"choice list {list_name!r}: each choice needs a 'code' and a "
                                      f"'label'; got {_short(entry)}", line=eline)
            continue
        _unknown_keys(entry, _CHOICE_KEYS, "Q-CHO-010", "choice ", problems)
        code = _code_of(entry["code"])
        if code is None or not CODE_RE.match(code):
            problems.add("Q-CHO-003", f"choice list {list_name!r}: code {_short(entry['code'])} must be "
                                      "1-32 letters, digits, '_' or '-' (quote it: code: \"1\")",
                         line=_line_of(entry, "code") or eline)
            code = str(entry["code"])
        if code in seen:
            problems.add("Q-CHO-004", f"choice list {list_name!r}: code {code!r} appears twice; codes "
                                      "must be unique within a list", line=eline)
        seen.add(code)
        where = f"label of choice {code!r} in {list_name!r}"
        same = _same_label(entry.get("label"), problems, where, _line_of(entry, "label") or eline)
        if same is None:
            label = _texts(entry.get("label"), problems, where, _line_of(entry, "label") or eline, None)
        else:
            # An empty one is reported once (Q-TXT-004), not again per language.
            label = {lang: same for lang in langs}
        audio = _audio(entry.get("audio"), problems, f"audio of choice {code!r}", eline, None, base)
        image, images = _media(entry.get("image"), problems, f"image of choice {code!r}", eline, None,
                               base)
        out.append(Choice(code, label, image, audio, images, same or None))
    return tuple(out)


# ---------------------------------------------------------------- modules

_MODULE_KEYS = {"id", "version", "title", "source", "license", "languages", "choices", "items",
                "scores", "description", "review"}
_ITEM_KEYS = {"id", "type", "text", "hint", "choices", "required", "relevant", "constraint",
              "constraint_message", "min", "max", "image", "audio", "items", "allow_free_text"}
_SCORE_KEYS = {"id", "label", "items", "values", "weights", "intercept", "multiplier", "bands",
               "positive_at", "any_of", "crisis", "range"}
_BAND_KEYS = {"from", "label", "text"}


@dataclass
class _ExprSite:
    """One expression to check: where it is and which items precede it."""

    item: str
    field: str
    text: str
    line: int | None
    position: int  # items[:position] are earlier than this expression
    self_id: str | None  # the item a constraint may refer to as itself


class _ModuleParser:
    """Builds a :class:`Module` from a YAML mapping, recording every problem."""

    def __init__(self, problems: ProblemList, module_id: str, base: Path | None) -> None:
        self.problems = problems
        self.module_id = module_id
        self.base = base
        # Declared languages: a label written once as a plain string is
        # given in each of them.
        self.langs: tuple[str, ...] = ()
        self.lists: dict[str, tuple[Choice, ...]] = {}
        self.used_lists: set[str] = set()
        self.items: list[Item] = []
        self.sites: list[_ExprSite] = []
        self.group_ids: list[tuple[str, int | None]] = []
        # (what, item id, texts, line) of optional per-language texts, for the
        # completeness check of each declared language.
        self.optional_texts: list[tuple[str, str, dict[str, str], int | None]] = []
        self.all_text_langs: dict[str, int | None] = {}

    def note_langs(self, texts: Mapping[str, Any], line: int | None) -> None:
        for lang in texts:
            if lang:
                self.all_text_langs.setdefault(lang, line)

    def parse_items(self, raw_items: Any, line: int | None, depth: int = 0,
                    group_relevant: str | None = None, group_text: dict[str, str] | None = None) -> None:
        """Flatten items (groups included) into ``self.items``."""
        p = self.problems
        if depth > MAX_GROUP_DEPTH:
            p.add("Q-ITEM-009", f"groups are nested more than {MAX_GROUP_DEPTH} deep; flatten them",
                  line=line)
            return
        if not isinstance(raw_items, list) or not raw_items:
            p.add("Q-ITEM-001", f"'items' must be a non-empty list of questions; got {_short(raw_items)}",
                  line=line)
            return
        for raw in raw_items:
            iline = _line_of(raw) or line
            if not isinstance(raw, dict):
                p.add("Q-ITEM-002", f"each item must be a mapping with at least 'id', 'type', 'text'; "
                                    f"got {_short(raw)}", line=iline)
                continue
            self.parse_item(raw, iline, depth, group_relevant, group_text)

    def parse_item(self, raw: Mapping[Any, Any], iline: int | None, depth: int,
                   group_relevant: str | None, group_text: dict[str, str] | None) -> None:
        p = self.problems
        raw_id = raw.get("id", "")
        item_id = raw_id if isinstance(raw_id, str) else str(raw_id)
        if not ID_RE.match(item_id):
            p.add("Q-ITEM-003", f"item id {_short(item_id)} must start with a lowercase letter and use "
                                "only a-z, 0-9 and '_' (at most 64 characters)",
                  line=_line_of(raw, "id") or iline, item=item_id or None)
        _unknown_keys(raw, _ITEM_KEYS, "Q-ITEM-004", "", p, item=item_id or None)
        if isinstance(raw.get("choices"), str):
            # Counted as used even if the item is refused below, so that one
            # mistake is not reported twice.
            self.used_lists.add(str(raw["choices"]))
        raw_type = raw.get("type", "")
        itype = raw_type if isinstance(raw_type, str) else str(raw_type)
        tline = _line_of(raw, "type") or iline
        if itype in IDENTIFYING_TYPES:
            p.add("Q-PRIV-001", f"type {itype!r} would identify a person and is not allowed in an "
                                "anonymous survey; ask in bands or categories instead (age band, "
                                "region of birth)", line=tline, item=item_id)
            return
        qtype = types.find(itype)
        if qtype is None:
            known, spelled = types.names(), types.suggestions()
            fix = (f"; did you mean {spelled[itype]!r}?" if itype in spelled
                   else _did_you_mean(itype, known))
            fix = fix or f"; use one of {', '.join(sorted(known))}"
            p.add("Q-ITEM-005", f"unknown type {_short(itype)}{fix}", line=tline, item=item_id)
            return
        flags: dict[str, bool] = {}
        for key in ("required", "allow_free_text"):
            value = raw.get(key, False)
            if not _is_bool(value):
                p.add("Q-ITEM-007", f"{key!r} must be true or false; got {_short(value)}",
                      line=_line_of(raw, key) or iline, item=item_id)
            flags[key] = value is True or (isinstance(value, ScalarBoolean) and bool(value))
        own_relevant = self.expression(raw, "relevant", item_id, iline)
        relevant = own_relevant
        if group_relevant and own_relevant:
            relevant = f"({group_relevant}) and ({own_relevant})"
        elif group_relevant:
            relevant = group_relevant
        text = _texts(raw.get("text"), p, "text", _line_of(raw, "text") or iline, item_id,
                      required=not qtype.container)
        self.note_langs(text, _line_of(raw, "text") or iline)
        if qtype.container:
            self.group_ids.append((item_id, iline))
            for key in ("choices", "constraint", "constraint_message", "min", "max", "hint", "image", "audio",
                        "allow_free_text"):
                if key in raw:
                    p.add("Q-ITEM-008", f"a group takes no {key!r}; put it on the items inside",
                          line=_line_of(raw, key) or iline, item=item_id)
            if flags["required"]:
                p.add("Q-ITEM-008", "a group takes no 'required'; put it on the items inside",
                      line=_line_of(raw, "required") or iline, item=item_id)
            if own_relevant:
                self.sites.append(_ExprSite(item_id, "relevant", own_relevant,
                                            _line_of(raw, "relevant") or iline, len(self.items), None))
            self.parse_items(raw.get("items"), _line_of(raw, "items") or iline, depth + 1,
                             relevant, text or group_text)
            return
        if "items" in raw:
            p.add("Q-ITEM-008", f"{_a(itype)} item takes no 'items'; use type: group to group items",
                  line=_line_of(raw, "items") or iline, item=item_id)
        if own_relevant:
            self.sites.append(_ExprSite(item_id, "relevant", own_relevant,
                                        _line_of(raw, "relevant") or iline, len(self.items), None))
        constraint = self.expression(raw, "constraint", item_id, iline)
        if constraint:
            self.sites.append(_ExprSite(item_id, "constraint", constraint,
                                        _line_of(raw, "constraint") or iline, len(self.items), item_id))
        choices, list_name = self.item_choices(raw, qtype, item_id, iline)
        minimum, maximum = self.item_range(raw, qtype, item_id, iline)
        if qtype.free_text and not flags["allow_free_text"]:
            p.add("Q-PRIV-002", "free text can identify a person; mark the item "
                                "'allow_free_text: true' only if it is essential (the site must "
                                "also enable free text)", line=tline, item=item_id)
        if not qtype.answers:
            for key in ("required", "constraint"):
                if raw.get(key):
                    p.add("Q-ITEM-008", f"a note takes no answer, so {key!r} has no effect; remove it",
                          line=_line_of(raw, key) or iline, item=item_id, severity="warning")
        msg = _texts(raw.get("constraint_message"), p, "constraint_message",
                     _line_of(raw, "constraint_message") or iline, item_id, required=False)
        if constraint and not msg:
            p.add("Q-CON-001", "a constraint needs a 'constraint_message' telling the patient what to "
                               "change, in each language", line=_line_of(raw, "constraint") or iline,
                  item=item_id, severity="warning")
        if msg and not constraint:
            p.add("Q-CON-002", "'constraint_message' without a 'constraint' is never shown; add the "
                               "constraint or remove the message",
                  line=_line_of(raw, "constraint_message") or iline, item=item_id, severity="warning")
        hint = _texts(raw.get("hint"), p, "hint", _line_of(raw, "hint") or iline, item_id, required=False)
        mline = iline
        image, images = _media(raw.get("image"), p, "image", _line_of(raw, "image") or mline, item_id,
                               self.base)
        audio = _audio(raw.get("audio"), p, "audio", _line_of(raw, "audio") or mline, item_id, self.base)
        for what, texts, key in (("hint", hint, "hint"), ("constraint_message", msg, "constraint_message"),
                                 ("audio", audio, "audio"), ("image", images, "image")):
            if texts:
                self.optional_texts.append((what, item_id, texts, _line_of(raw, key) or iline))
                self.note_langs(texts, _line_of(raw, key) or iline)
        self.items.append(Item(
            id=item_id, type=itype, text=text, module=self.module_id, line=iline, hint=hint,
            choices=choices, choice_list=list_name, required=flags["required"],
            relevant=relevant, constraint=constraint, constraint_message=msg,
            minimum=minimum, maximum=maximum, image=image, audio=audio,
            group_text=group_text or {}, allow_free_text=flags["allow_free_text"], images=images,
        ))

    def expression(self, raw: Mapping[Any, Any], key: str, item_id: str, iline: int | None) -> str | None:
        value = raw.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            self.problems.add("Q-EXP-001", f"{key}: expected an expression in quotes, like "
                                           f"\"${{q1}} = '1'\"; got {_short(value)}",
                              line=_line_of(raw, key) or iline, item=item_id)
            return None
        return str(value)

    def item_choices(self, raw: Mapping[Any, Any], qtype: types.QuestionType, item_id: str,
                     iline: int | None) -> tuple[tuple[Choice, ...], str | None]:
        p = self.problems
        itype = qtype.name
        if not qtype.choices:
            if "choices" in raw:
                p.add("Q-CHO-006", f"{_a(itype)} item takes no 'choices'; remove them or change the type",
                      line=_line_of(raw, "choices") or iline, item=item_id)
            return (), None
        ref = raw.get("choices")
        cline = _line_of(raw, "choices") or iline
        if isinstance(ref, str):
            self.used_lists.add(ref)
            if ref not in self.lists:
                fix = _did_you_mean(ref, self.lists) or (
                    f"; defined lists: {', '.join(self.lists)}" if self.lists else "; define it under 'choices'")
                p.add("Q-REF-001", f"choice list {ref!r} is not defined in 'choices'{fix}", line=cline,
                      item=item_id)
                return (), ref
            return self.lists[ref], ref
        if isinstance(ref, list):
            choices = _choices(ref, p, f"{item_id} (inline)", cline, self.base, self.langs)
            for c in choices:
                self.note_langs(c.label, cline)
            return choices, None
        p.add("Q-CHO-005", f"{_a(itype)} item needs 'choices': the name of a list or a list; "
                           f"got {_short(ref)}", line=cline, item=item_id)
        return (), None

    def item_range(self, raw: Mapping[Any, Any], qtype: types.QuestionType, item_id: str,
                   iline: int | None) -> tuple[int | None, int | None]:
        p = self.problems
        if not qtype.ranged:
            for key in ("min", "max"):
                if key in raw:
                    p.add("Q-INT-002", f"{key!r} only applies to integer items; remove it or change "
                                       "the type", line=_line_of(raw, key) or iline, item=item_id)
            return None, None
        minimum, maximum = _integer(raw.get("min")), _integer(raw.get("max"))
        if minimum is None or maximum is None or minimum > maximum:
            p.add("Q-INT-001", f"an integer item needs whole-number 'min' and 'max' with min <= max "
                               f"(a range keeps answers plausible); got min {_short(raw.get('min'))}, "
                               f"max {_short(raw.get('max'))}", line=iline, item=item_id)
        elif max(abs(minimum), abs(maximum)) > 10 ** 9:
            p.add("Q-INT-001", f"an integer range beyond one billion ({minimum}..{maximum}) is not a "
                               "survey answer; narrow it", line=iline, item=item_id)
            minimum = maximum = None
        if _AGE_ID_RE.search(item_id):
            p.add("Q-PRIV-004", "an exact age or birth year can identify a patient; ask it as a single "
                                "choice of age bands (18-24, 25-34, ...)", line=iline, item=item_id,
                  severity="warning")
        return minimum, maximum


def _resolve(name: str, module_id: str, local: Mapping[str, Item],
             external: Mapping[str, Item]) -> Item | None:
    if "." in name:
        prefix, rest = name.split(".", 1)
        if prefix == module_id:
            return local.get(rest)
        return external.get(name)
    return local.get(name)


def _check_tree_codes(tree: logic.Node, resolve: Any, site: _ExprSite, problems: ProblemList) -> None:
    """Codes used with ``selected()`` or compared with ``=``/``!=`` must be
    choices of the item they are tested against."""
    if not isinstance(tree, logic.Op):
        return
    for arg in tree.args:
        _check_tree_codes(arg, resolve, site, problems)
    where = dict(line=site.line, item=site.item)
    if tree.op == "selected" and isinstance(tree.args[0], logic.Ref) and isinstance(tree.args[1], logic.Lit):
        ref = tree.args[0].name
        target = resolve(ref)
        code = str(tree.args[1].value)
        if target is None:
            return
        if not types.get(target.type).choices:
            problems.add("Q-EXP-005", f"{site.field}: selected(${{{ref}}}, ...) needs a choice item, but "
                                      f"${{{ref}}} is {_a(target.type)} item; compare it with =, < or > instead",
                         **where)
        elif code not in {c.code for c in target.choices}:
            problems.add("Q-REF-006", f"{site.field}: {code!r} is not a choice of ${{{ref}}}"
                                      f"{_codes_fix(code, [c.code for c in target.choices])}", **where)
    if tree.op in ("=", "!="):
        left, right = tree.args
        if isinstance(right, logic.Ref) and isinstance(left, logic.Lit):
            left, right = right, left
        if not (isinstance(left, logic.Ref) and isinstance(right, logic.Lit)):
            return
        target = resolve(left.name)
        if target is None or right.value == "":
            return
        ttype = types.get(target.type)
        if ttype.multi:
            problems.add("Q-EXP-004", f"{site.field}: ${{{left.name}}} is a multiple choice; test a code "
                                      f"with selected(${{{left.name}}}, {str(right.value)!r}) instead of "
                                      f"{tree.op}", **where)
        elif ttype.code and str(right.value) not in {c.code for c in target.choices}:
            codes = [c.code for c in target.choices]
            problems.add("Q-REF-006", f"{site.field}: {str(right.value)!r} is not a choice of "
                                      f"${{{left.name}}}{_codes_fix(str(right.value), codes)}", **where)


def _check_expressions(sites: list[_ExprSite], items: list[Item], module_id: str,
                       problems: ProblemList, external: Mapping[str, Item] | None) -> None:
    """Each reference must name an earlier item of this module (``${id}``) or an
    item of an earlier module (``${module.id}``); codes must exist."""
    local = {}
    for it in items:
        local.setdefault(it.id, it)
    order = {it.id: i for i, it in reversed(list(enumerate(items)))}
    for site in sites:
        try:
            tree = logic.parse(site.text)
        except ExpressionError as exc:
            problems.add(exc.code, f"{site.field}: {exc.message}", line=site.line, item=site.item)
            continue
        where = dict(line=site.line, item=site.item)
        for name in dict.fromkeys(logic.references(tree)):
            if "." in name and name.split(".", 1)[0] != module_id:
                if external is None:
                    continue  # a module checked on its own: resolved when a survey composes it
                if name not in external:
                    problems.add("Q-REF-003", f"{site.field} refers to ${{{name}}}, which is not an item of "
                                              f"an earlier module of the survey{_did_you_mean(name, external)}",
                                 **where)
                elif not external[name].is_question:
                    problems.add("Q-REF-005", f"{site.field} refers to ${{{name}}}, a note, which has no "
                                              "answer; refer to a question", **where)
                continue
            local_name = name.split(".", 1)[1] if "." in name else name
            if local_name == site.self_id:
                continue  # a constraint tests the answer being given
            if local_name == site.item and site.self_id is None and local_name in order:
                problems.add("Q-REF-005", f"{site.field} refers to ${{{name}}}, the item itself; it can "
                                          "only depend on earlier answers", **where)
                continue
            if local_name not in local:
                problems.add("Q-REF-002", f"{site.field} refers to ${{{name}}}, which is not an item of "
                                          f"this module{_did_you_mean(local_name, local)}", **where)
            elif order[local_name] >= site.position:
                problems.add("Q-REF-004", f"{site.field} refers to ${{{name}}}, which comes later; a "
                                          "question can only depend on earlier answers", **where)
            elif not local[local_name].is_question:
                problems.add("Q-REF-005", f"{site.field} refers to ${{{name}}}, a note, which has no "
                                          "answer; refer to a question", **where)

        def resolve(ref: str) -> Item | None:
            return _resolve(ref, module_id, local, external or {})
        _check_tree_codes(tree, resolve, site, problems)


def _score_points(score: ScoreDef, item: Item) -> list[float] | None:
    """Points each answer code of ``item`` can give, or None if unknown."""
    codes = [c.code for c in item.choices]
    if score.any_of:
        return None
    if score.weights:
        return [score.weights.get(item.id, {}).get(c, 0.0) for c in codes]
    if all(c in score.values for c in codes):
        return [score.values[c] for c in codes]
    return None


def _score_range(score: ScoreDef, items: Mapping[str, Item]) -> tuple[float, float] | None:
    if score.any_of:
        return 0.0, 1.0
    low = high = 0.0
    for name in score.items:
        it = items.get(name)
        points = _score_points(score, it) if it is not None else None
        if not points:
            return None
        low += min(points)
        high += max(points)
    ends = sorted((score.intercept + score.multiplier * low, score.intercept + score.multiplier * high))
    return round(ends[0], 2), round(ends[1], 2)


def _parse_scores(raw: Any, module_id: str, items: list[Item], problems: ProblemList,
                  line: int | None) -> list[ScoreDef]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.add("Q-SCO-001", f"'scores' must be a list of scores; got {_short(raw)}", line=line)
        return []
    by_id = {}
    for it in items:
        by_id.setdefault(it.id, it)
    out: list[ScoreDef] = []
    seen: set[str] = set()
    for s in raw:
        sline = _line_of(s) or line
        if not isinstance(s, dict) or not s.get("id"):
            problems.add("Q-SCO-002", f"each score needs an 'id'; got {_short(s)}", line=sline)
            continue
        score = _parse_score(s, module_id, by_id, problems, sline)
        if score is None:
            continue
        if score.id in seen:
            problems.add("Q-SCO-007", f"score id {score.id!r} is used twice; score ids must be unique",
                         line=sline)
        seen.add(score.id)
        out.append(score)
    return out


def _parse_score(s: Mapping[Any, Any], module_id: str, by_id: Mapping[str, Item],
                 problems: ProblemList, sline: int | None) -> ScoreDef | None:
    """One score; None when it cannot be built (problems say why)."""
    n_before = len(problems.errors)
    sid = s["id"] if isinstance(s["id"], str) else str(s["id"])
    if not ID_RE.match(sid):
        problems.add("Q-SCO-007", f"score id {_short(sid)} must start with a lowercase letter and use only "
                                  "a-z, 0-9 and '_'", line=sline)
    _unknown_keys(s, _SCORE_KEYS, "Q-SCO-015", "score ", problems)

    def line_of(key: str) -> int | None:
        return _line_of(s, key) or sline

    raw_items = s.get("items")
    s_items: list[str] = []
    if not isinstance(raw_items, list) or not raw_items:
        problems.add("Q-SCO-003", f"score {sid!r} lists no 'items'; give the item ids it adds up",
                     line=line_of("items"))
    else:
        s_items = [str(x) for x in raw_items]
    for name in dict.fromkeys(s_items):
        if s_items.count(name) > 1:
            problems.add("Q-SCO-004", f"score {sid!r} lists item {name!r} twice", line=line_of("items"))
        if name not in by_id:
            problems.add("Q-SCO-004", f"score {sid!r} uses item {name!r}, which is not in this "
                                      f"module{_did_you_mean(name, by_id)}", line=line_of("items"))
        elif not types.get(by_id[name].type).code:
            problems.add("Q-SCO-008", f"score {sid!r} uses item {name!r}, {_a(by_id[name].type)} item; "
                                      "scores add up single-choice or scale answers only",
                         line=line_of("items"))
    kinds = [k for k in ("values", "weights", "any_of") if s.get(k) is not None]
    if len(kinds) != 1:
        problems.add("Q-SCO-016", f"score {sid!r} must give exactly one of 'values' (points per code), "
                                  f"'weights' (points per item and code) or 'any_of' (items and codes "
                                  f"that make it 1); got {', '.join(kinds) or 'none'}", line=sline)

    def item_codes(name: str) -> list[str]:
        it = by_id.get(name)
        return [c.code for c in it.choices] if it is not None else []

    all_codes = sorted({c for name in s_items for c in item_codes(name)})

    def points_map(raw_map: Any, where: str, codes: list[str]) -> dict[str, float]:
        out: dict[str, float] = {}
        if not isinstance(raw_map, dict):
            problems.add("Q-SCO-006", f"score {sid!r}: {where} must map answer codes to numbers; got "
                                      f"{_short(raw_map)}", line=_line_of(raw_map) or sline)
            return out
        for code, pts in raw_map.items():
            key = _code_of(code)
            num = _number(pts)
            if key is None or num is None:
                problems.add("Q-SCO-006", f"score {sid!r}: {where} {_short(code)}: {_short(pts)} must be "
                                          "an answer code mapped to a number",
                             line=_line_of(raw_map, code) or sline)
                continue
            if codes and key not in codes:
                problems.add("Q-SCO-009", f"score {sid!r}: code {key!r} in {where} is not a choice of the "
                                          f"score's items{_did_you_mean(key, codes)}",
                             line=_line_of(raw_map, code) or sline)
            out[key] = num
        return out

    values: dict[str, float] = {}
    weights: dict[str, dict[str, float]] = {}
    any_of: dict[str, tuple[str, ...]] = {}
    if s.get("values") is not None:
        n_values = len(problems.items)
        values = points_map(s.get("values"), "values", all_codes)
        missing = [c for name in s_items for c in item_codes(name) if c not in values]
        if missing and len(problems.items) == n_values:
            short = [name for name in s_items if any(c not in values for c in item_codes(name))]
            problems.add("Q-SCO-010", f"score {sid!r}: values give no points to code(s) "
                                      f"{', '.join(dict.fromkeys(missing))} (item(s) {', '.join(short)}); an "
                                      "answer with such a code would leave the score empty: give it points",
                         line=line_of("values"))
    raw_weights = s.get("weights")
    if raw_weights is not None:
        if not isinstance(raw_weights, dict):
            problems.add("Q-SCO-006", f"score {sid!r}: weights must map item ids to {{code: points}}; got "
                                      f"{_short(raw_weights)}", line=line_of("weights"))
        else:
            for name, ws in raw_weights.items():
                key = str(name)
                if key not in s_items:
                    problems.add("Q-SCO-011", f"score {sid!r}: weights name item {key!r}, which is not in "
                                              f"the score's items{_did_you_mean(key, s_items)}",
                                 line=_line_of(raw_weights, name) or sline)
                weights[key] = points_map(ws, f"weights of {key!r}", item_codes(key))
    raw_any = s.get("any_of")
    if raw_any is not None:
        if not isinstance(raw_any, dict):
            problems.add("Q-SCO-006", f"score {sid!r}: any_of must map item ids to lists of codes; got "
                                      f"{_short(raw_any)}", line=line_of("any_of"))
        else:
            for name, codes in raw_any.items():
                key = str(name)
                if key not in s_items:
                    problems.add("Q-SCO-011", f"score {sid!r}: any_of names item {key!r}, which is not in "
                                              f"the score's items{_did_you_mean(key, s_items)}",
                                 line=_line_of(raw_any, name) or sline)
                if not isinstance(codes, list) or not codes:
                    problems.add("Q-SCO-006", f"score {sid!r}: any_of {key!r} must be a list of codes; got "
                                              f"{_short(codes)}", line=_line_of(raw_any, name) or sline)
                    continue
                good = []
                for code in codes:
                    c = _code_of(code)
                    known = item_codes(key)
                    if c is None or (known and c not in known):
                        problems.add("Q-SCO-009", f"score {sid!r}: any_of {key!r} lists code {_short(code)}, "
                                                  f"which is not a choice of that item"
                                                  f"{_did_you_mean(str(code), known)}",
                                     line=_line_of(raw_any, name) or sline)
                    else:
                        good.append(c)
                any_of[key] = tuple(good)

    def number(key: str, default: float | None) -> float | None:
        if s.get(key) is None:
            return default
        num = _number(s.get(key))
        if num is None:
            problems.add("Q-SCO-006", f"score {sid!r}: {key} must be a number; got {_short(s.get(key))}",
                         line=line_of(key))
            return default
        return num

    intercept = number("intercept", 0.0) or 0.0
    multiplier = number("multiplier", 1.0)
    multiplier = 1.0 if multiplier is None else multiplier
    positive_at = number("positive_at", None)
    crisis = s.get("crisis", False)
    if not _is_bool(crisis):
        problems.add("Q-SCO-006", f"score {sid!r}: crisis must be true or false; got {_short(crisis)}",
                     line=line_of("crisis"))
        crisis = False
    crisis = bool(crisis)
    if crisis and positive_at is None:
        problems.add("Q-SCO-014", f"score {sid!r} is a crisis score but has no 'positive_at'; say from "
                                  "which value the kiosk shows crisis resources", line=sline)
    label = _texts(s.get("label"), problems, f"label of score {sid!r}", line_of("label"), None,
                   required=False)
    bands: list[tuple[float, str]] = []
    band_text: dict[str, dict[str, str]] = {}
    raw_bands = s.get("bands")
    if raw_bands is not None and not isinstance(raw_bands, list):
        problems.add("Q-SCO-005", f"score {sid!r}: 'bands' must be a list of {{from, label}}; got "
                                  f"{_short(raw_bands)}", line=line_of("bands"))
        raw_bands = []
    for b in raw_bands or []:
        bline = _line_of(b) or line_of("bands")
        lower = _number(b.get("from")) if isinstance(b, dict) else None
        blabel = _code_of(b.get("label")) if isinstance(b, dict) else None
        if lower is None or blabel is None or not CODE_RE.match(blabel):
            problems.add("Q-SCO-005", f"score {sid!r}: each band needs 'from' (a number) and 'label' (a code "
                                      f"like moderate); got {_short(b)}", line=bline)
            continue
        _unknown_keys(b, _BAND_KEYS, "Q-SCO-015", "band ", problems)
        bands.append((lower, blabel))
        text = _texts(b.get("text"), problems, f"text of band {blabel!r}", bline, None, required=False)
        if text:
            band_text[blabel] = text
    ordered = sorted(bands)
    if bands != ordered or len({b[0] for b in bands}) != len(bands) or len({b[1] for b in bands}) != len(bands):
        problems.add("Q-SCO-012", f"score {sid!r}: bands must be in ascending order of 'from' with distinct "
                                  f"bounds and labels; got {', '.join(f'{lo:g} {lab}' for lo, lab in bands)}",
                     line=line_of("bands"))
    raw_range = s.get("range")
    declared: tuple[float, float] | None = None
    if raw_range is not None:
        ends = [_number(x) for x in raw_range] if isinstance(raw_range, list) else []
        if len(ends) != 2 or ends[0] is None or ends[1] is None or ends[0] > ends[1]:
            problems.add("Q-SCO-013", f"score {sid!r}: range must be [lowest, highest]; got "
                                      f"{_short(raw_range)}", line=line_of("range"))
        else:
            declared = (ends[0], ends[1])  # type: ignore[assignment]
    if len(problems.errors) > n_before:
        return None
    score = ScoreDef(id=sid, module=module_id, items=tuple(s_items), label=label, values=values,
                     weights=weights, intercept=intercept, multiplier=multiplier, bands=tuple(bands),
                     positive_at=positive_at, any_of=any_of, crisis=crisis, band_text=band_text)
    computed = _score_range(score, by_id)
    if computed is not None and declared is not None and (
            abs(computed[0] - declared[0]) > 0.005 or abs(computed[1] - declared[1]) > 0.005):
        problems.add("Q-SCO-013", f"score {sid!r}: declared range [{declared[0]:g}, {declared[1]:g}] but "
                                  f"the items give [{computed[0]:g}, {computed[1]:g}]; fix the points or "
                                  "the range", line=line_of("range"))
    rng = computed or declared
    if rng is not None:
        if bands and ordered[0][0] > rng[0] + 1e-9:
            problems.add("Q-SCO-012", f"score {sid!r}: the lowest band starts at {ordered[0][0]:g} but the "
                                      f"score can be {rng[0]:g}; start the first band at {rng[0]:g}",
                         line=line_of("bands"))
        for lower, blabel in bands:
            if lower > rng[1] + 1e-9:
                problems.add("Q-SCO-012", f"score {sid!r}: band {blabel!r} starts at {lower:g}, above the "
                                          f"highest possible score {rng[1]:g}", line=line_of("bands"))
        if positive_at is not None and not rng[0] < positive_at <= rng[1] + 1e-9:
            problems.add("Q-SCO-017", f"score {sid!r}: positive_at {positive_at:g} is outside the score's "
                                      f"range ({rng[0]:g} to {rng[1]:g}), so it never or always applies",
                         line=line_of("positive_at"))
        score = replace(score, minimum=rng[0], maximum=rng[1])
    return score


def _check_languages(mp: _ModuleParser, languages: dict[str, str], declared: set[str], raw_langs: Any,
                     title: dict[str, str], items: list[Item], scores: list[ScoreDef],
                     description: dict[str, str], problems: ProblemList) -> None:
    """Every declared language must be complete: a patient must never meet a
    question or a choice without its text."""
    for lang in languages:
        lline = _line_of(raw_langs, lang) if isinstance(raw_langs, dict) else None
        missing = [it.id for it in items if it.text and lang not in it.text]
        missing += [f"{it.id}:{c.code}" for it in items for c in it.choices if lang not in c.label]
        if lang not in title:
            missing.insert(0, "title")
        if missing:
            problems.add("Q-LANG-003", f"language {lang!r} is declared but lacks text for "
                                       f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}; "
                                       "translate them or remove the language", line=lline)
        optional = [f"{what} of {item}" for what, item, texts, _ in mp.optional_texts
                    if lang not in texts]
        optional += [f"group text of {it.id}" for it in items if it.group_text and lang not in it.group_text]
        optional += [f"label of score {s.id}" for s in scores if s.label and lang not in s.label]
        optional += [f"text of band {b} of score {s.id}" for s in scores
                     for b, t in s.band_text.items() if lang not in t]
        if description and lang not in description:
            optional.insert(0, "description")
        if optional:
            optional = list(dict.fromkeys(optional))
            problems.add("Q-LANG-005", f"language {lang!r} lacks {', '.join(optional[:5])}"
                                       f"{' ...' if len(optional) > 5 else ''}; patients reading {lang!r} "
                                       "will not see them: translate them", line=lline, severity="warning")
    for lang, line in mp.all_text_langs.items():
        if declared and lang not in declared:
            problems.add("Q-LANG-006", f"text in {lang!r}, which is not declared in 'languages'"
                                       f"{_did_you_mean(lang, declared)}; declare it (validated or draft) or "
                                       "remove that text", line=line, severity="warning")


def _provenance(lang: str, raw: Mapping[Any, Any], problems: ProblemList) -> Provenance | None:
    """The long form of a ``languages`` entry; every problem is added.

    A ``validated`` wording must be the publisher's (``origin: published``)
    and name its publisher, title, year and licence, so that nobody can
    present a translation made here as a validated one; a published draft
    names at least its publisher, title and licence."""
    n_before = len(problems.errors)
    _unknown_keys(raw, _PROVENANCE_KEYS, "Q-PROV-001", f"{lang!r} provenance ", problems)
    status, origin = raw.get("status"), raw.get("origin")
    line = _line_of(raw)
    if not isinstance(status, str) or status not in TRANSLATION_STATUSES:
        problems.add("Q-LANG-002", f"language {lang!r} has status {_short(status)}; use 'validated' "
                                   "(reviewed wording) or 'draft' (needs native review)",
                     line=_line_of(raw, "status") or line)
    if not isinstance(origin, str) or origin not in TRANSLATION_ORIGINS:
        problems.add("Q-PROV-002", f"language {lang!r} has origin {_short(origin)}; use 'published' (the "
                                   "publisher's own translation) or 'project' (translated for this project)",
                     line=_line_of(raw, "origin") or line)
    elif origin == "project" and status == "validated":
        problems.add("Q-PROV-003", f"language {lang!r} is a translation made for this project, so its status "
                                   "is 'draft'; only a publisher's validated translation (origin: published) "
                                   "may be 'validated'", line=_line_of(raw, "status") or line)
    if origin == "published":
        needed = _VALIDATED_FIELDS if status == "validated" else _PUBLISHED_FIELDS
        lacking = [k for k in needed
                   if not (isinstance(raw.get(k), (str, int)) and not _is_bool(raw.get(k))
                           and str(raw.get(k)).strip())]
        if lacking:
            what = "a validated published wording" if status == "validated" else "published"
            problems.add("Q-PROV-004", f"language {lang!r} is {what} but lacks {', '.join(lacking)}; "
                                       "say who published this wording, under which title"
                                       f"{', in which year' if status == 'validated' else ''} and under "
                                       "which licence", line=line)
    year = raw.get("year")
    if year is not None and not (isinstance(year, int) and not _is_bool(year) and 1900 <= year <= 2100):
        problems.add("Q-PROV-005", f"language {lang!r}: year {_short(year)} must be a year, a number "
                                   "without quotes like 2010", line=_line_of(raw, "year") or line)
    for key in ("publisher", "title", "licence", "url", "note"):
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            problems.add("Q-PROV-006", f"language {lang!r}: {key} {_short(value)} must be text (write it in "
                                       "quotes)", line=_line_of(raw, key) or line)
    if len(problems.errors) > n_before:
        return None
    return Provenance(status=str(status), origin=str(origin), publisher=str(raw.get("publisher") or ""),
                      title=str(raw.get("title") or ""), year=year,
                      licence=str(raw.get("licence") or ""), url=str(raw.get("url") or ""),
                      note=str(raw.get("note") or ""))


# The review of one translated text, after the WHO method for instruments:
# forward translation (draft), independent back-translation, review by a
# bilingual panel, validation (cognitive testing). In that order.
REVIEW_STATES = ("draft", "back-translated", "reviewed", "validated")
_REVIEW_KEYS = {"state", "back", "by", "date"}
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Who reviewed is a role ("bilingual panel"), never a person: an e-mail
# address or a phone number is refused, and so is anything long.
_PERSONAL_RE = re.compile(r"@|\d[\d .()+-]{5,}\d")
_ROLE_MAX = 60


def _review_date(value: Any) -> bool:
    """A review date: a calendar day, ``YYYY-MM-DD`` (YAML may read it as a date)."""
    import datetime as dt
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return True
    if not isinstance(value, str) or not _DATE_RE.match(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _check_review(data: Mapping[Any, Any], languages: dict[str, str], problems: ProblemList) -> None:
    """The ``review`` block: per language, per text (its place, as in a
    translation file's msgctxt), the review state, the back-translation, and
    who (a role) reviewed it when."""
    raw = data.get("review")
    if raw is None:
        return
    rline = _line_of(data, "review")
    example = "{ar: {title: {state: reviewed, back: '...', by: bilingual panel, date: '2026-11-29'}}}"
    if not isinstance(raw, dict):
        problems.add("Q-REV-001", f"'review' must map each language to the review of its texts, like {example}",
                     line=rline)
        return
    # Imported here: the text slots module imports this one.
    from surveycore.textslots import text_slots
    contexts = [s.context for s in text_slots(data)]
    for lang, records in raw.items():
        lline = _line_of(raw, lang) or rline
        if lang not in languages:
            problems.add("Q-REV-001", f"review of {_short(lang)}, a language 'languages' does not declare"
                                      f"{_did_you_mean(str(lang), languages)}; declare it or remove its review",
                         line=lline)
            continue
        if not isinstance(records, dict):
            problems.add("Q-REV-001", f"review of {lang!r} must map each text to its review, like {example}",
                         line=lline)
            continue
        for ctx, rec in records.items():
            line = _line_of(records, ctx) or lline
            where = f"review of {lang!r} {ctx}"
            if str(ctx) not in contexts:
                problems.add("Q-REV-002", f"{where}: no such text in the module (name a text by its place, as "
                                          f"in a translation file's msgctxt){_did_you_mean(str(ctx), contexts)}",
                             line=line)
                continue
            if not isinstance(rec, dict):
                problems.add("Q-REV-001", f"{where} must be a mapping {{state, back, by, date}}; got "
                                          f"{_short(rec)}", line=line)
                continue
            _unknown_keys(rec, _REVIEW_KEYS, "Q-REV-001", "review ", problems)
            state = rec.get("state")
            if state not in REVIEW_STATES:
                problems.add("Q-REV-003", f"{where}: state {_short(state)} must be one of "
                                          f"{', '.join(REVIEW_STATES)}", line=line)
                continue
            back = rec.get("back")
            if back is not None and (not isinstance(back, str) or not back.strip()):
                problems.add("Q-REV-004", f"{where}: the back-translation must be text; got {_short(back)}",
                             line=line)
            elif state != "draft" and back is None:
                problems.add("Q-REV-004", f"{where} is {state} but has no back-translation; the WHO method "
                                          "reviews a translation against its independent back-translation: "
                                          "give 'back'", line=line)
            if state == "draft" and rec.get("by") is None and rec.get("date") is None:
                continue
            by, date = rec.get("by"), rec.get("date")
            if not isinstance(by, str) or not by.strip() or _PERSONAL_RE.search(by) or len(by) > _ROLE_MAX:
                problems.add("Q-REV-005", f"{where}: 'by' {_short(by)} must name a role (back-translator, "
                                          "bilingual panel, health mediator), never a person: no name, e-mail "
                                          f"or phone, at most {_ROLE_MAX} characters", line=line)
            if not _review_date(date):
                problems.add("Q-REV-005", f"{where}: 'date' {_short(date)} must be a day written YYYY-MM-DD "
                                          "(in quotes)", line=line)
            if state == "validated" and languages.get(lang) != "validated":
                problems.add("Q-REV-006", f"{where} is validated, but the language is a draft; a text is "
                                          "validated only in a validated language: mark it reviewed",
                             line=line)


def parse_module(data: Any, problems: ProblemList, path: str = "",
                 external_refs: Mapping[str, Item] | set[str] | None = None) -> Module | None:
    """Validate a module mapping already read from YAML; add every problem.

    ``external_refs`` are the items of the earlier modules of a survey, by key
    ``module.item`` (a set of keys is accepted too); when it is ``None`` the
    module is checked on its own and cross-module references are left to the
    survey check. Returns ``None`` when there is any error.
    """
    if not isinstance(data, dict):
        problems.add("Q-MOD-001", f"a module file must be a mapping with id, version, title, items; got "
                                  f"{_short(data)}")
        return None
    try:
        return _parse_module(data, problems, path, external_refs)
    except RecursionError:
        problems.add("Q-YAML-003", "the definition is nested too deeply to be a questionnaire")
        return None


def _parse_module(data: Mapping[Any, Any], problems: ProblemList, path: str,
                  external_refs: Mapping[str, Item] | set[str] | None) -> Module | None:
    _unknown_keys(data, _MODULE_KEYS, "Q-MOD-002", "", problems)
    raw_id = data.get("id", "")
    module_id = raw_id if isinstance(raw_id, str) else str(raw_id)
    if not ID_RE.match(module_id):
        problems.add("Q-MOD-003", f"module id {_short(module_id)} must start with a lowercase letter and use "
                                  "only a-z, 0-9 and '_'", line=_line_of(data, "id"))
    raw_version = data.get("version", "")
    version = raw_version if isinstance(raw_version, str) else str(raw_version)
    if not VERSION_RE.match(version):
        problems.add("Q-MOD-004", f"version {_short(version)} must be semantic, like 1.0.0 (write it in "
                                  "quotes: version: \"1.0.0\")", line=_line_of(data, "version"))
    for key in ("source", "license"):
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            problems.add("Q-MOD-005", f"'{key}' is missing or not text; say where the wording comes from "
                                      "and under which licence it may be used",
                         line=_line_of(data, key) or _line_of(data))
    languages: dict[str, str] = {}
    provenance: dict[str, Provenance] = {}
    declared: set[str] = set()
    raw_langs = data.get("languages")
    if not isinstance(raw_langs, dict) or not raw_langs:
        problems.add("Q-LANG-001", "'languages' must map each language to 'validated' or 'draft', like "
                                   "{fr: validated, en: draft}", line=_line_of(data, "languages"))
    else:
        for lang, status in raw_langs.items():
            if not isinstance(lang, str) or not LANG_RE.match(lang):
                problems.add("Q-TXT-003", f"languages: {_short(lang)} is not a language code (use fr, en, ar, "
                                          "fa_AF, ti...)", line=_line_of(raw_langs, lang))
                continue
            declared.add(lang)
            if isinstance(status, dict):
                prov = _provenance(lang, status, problems)
                if prov is not None:
                    provenance[lang] = prov
                    languages[lang] = prov.status
                continue
            if not isinstance(status, str) or status not in TRANSLATION_STATUSES:
                problems.add("Q-LANG-002", f"language {lang!r} has status {_short(status)}; use 'validated' "
                                           "(reviewed wording) or 'draft' (needs native review)",
                             line=_line_of(raw_langs, lang))
                continue
            languages[lang] = status
    base = Path(path).parent if path else None
    mp = _ModuleParser(problems, module_id, base)
    mp.langs = tuple(sorted(declared))
    raw_lists = data.get("choices")
    if raw_lists is not None and not isinstance(raw_lists, dict):
        problems.add("Q-CHO-007", f"'choices' must map list names to lists of choices; got "
                                  f"{_short(raw_lists)}", line=_line_of(data, "choices"))
    elif raw_lists:
        for name, raw in raw_lists.items():
            lname = name if isinstance(name, str) else str(name)
            if not ID_RE.match(lname):
                problems.add("Q-CHO-009", f"choice list name {_short(lname)} must start with a lowercase "
                                          "letter and use only a-z, 0-9 and '_'", line=_line_of(raw_lists, name))
            mp.lists[lname] = _choices(raw, problems, lname, _line_of(raw_lists, name), base, mp.langs)
            for c in mp.lists[lname]:
                mp.note_langs(c.label, _line_of(raw_lists, name))
    mp.parse_items(data.get("items"), _line_of(data, "items"))
    items = mp.items
    seen: dict[str, int | None] = {}
    for item_id, gline in mp.group_ids:
        if item_id:
            seen.setdefault(item_id, gline)
    for it in items:
        if it.id in seen:
            problems.add("Q-ITEM-006", f"item id {it.id!r} is used twice (first at line {seen[it.id]}); "
                                       "ids must be unique in a module", line=it.line, item=it.id)
        else:
            seen[it.id] = it.line
    for name in mp.lists:
        if name not in mp.used_lists:
            problems.add("Q-CHO-008", f"choice list {name!r} is not used by any item; remove it or use it",
                         line=_line_of(raw_lists, name), severity="warning")
    external: Mapping[str, Item] | None
    if external_refs is None:
        external = None
    elif isinstance(external_refs, Mapping):
        external = external_refs
    else:
        # Only keys are known: references resolve but codes cannot be checked.
        external = {k: Item(id=k.split(".")[-1], type="single", text={}, module=k.split(".")[0])
                    for k in external_refs if isinstance(k, str)}
    _check_expressions(mp.sites, items, module_id, problems, external)
    title = _texts(data.get("title"), problems, "title", _line_of(data, "title"), None)
    description = _texts(data.get("description"), problems, "description", _line_of(data, "description"),
                         None, required=False)
    scores = _parse_scores(data.get("scores"), module_id, items, problems, _line_of(data, "scores"))
    _check_languages(mp, languages, declared, raw_langs, title, items, scores, description, problems)
    _check_review(data, languages, problems)
    # The review records say how far each translation has been checked; they
    # change no wording, so they are left out of the definition's hash.
    digest = _safe_hash({k: v for k, v in data.items() if k != "review"}, problems)
    if problems.errors:
        return None
    return Module(id=module_id, version=version, title=title, source=str(data.get("source")),
                  license=str(data.get("license")), languages=languages, items=tuple(items),
                  choice_lists=mp.lists, scores=tuple(scores), hash=digest, path=path,
                  description=description, provenance=provenance)


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
    if module is None:  # only reachable for an empty file
        problems.add("Q-MOD-001", "the file is empty; a module needs id, version, title, items")
        problems.raise_if_errors()
    assert module is not None
    return module


def load_module_text(text: str, path: str = "<text>", warnings: list | None = None) -> Module:
    """Like :func:`load_module` for YAML text already in memory (the XLSForm
    importer checks its output with it before writing anything)."""
    problems = ProblemList(file=path)
    data = _parse_yaml_text(text, problems)
    module = parse_module(data, problems, "") if data is not None else None
    if warnings is not None:
        warnings.extend(x for x in problems.items if x.severity != "error")
    if module is None and not problems.errors:
        problems.add("Q-MOD-001", "the text is empty; a module needs id, version, title, items")
    problems.raise_if_errors()
    assert module is not None
    return module


# ---------------------------------------------------------------- surveys

_SURVEY_KEYS = {"id", "version", "title", "modules", "site"}
_SITE_KEYS = {"centre", "languages", "idle_timeout", "period", "keep_partial", "allow_draft_languages",
              "allow_free_text", "choices", "crisis", "consent", "crisis_help"}


def _module_index(search_dirs: list[Path]) -> dict[tuple[str, str], list[Path]]:
    """Map (module id, version) to the files defining it, reading only files
    that look like modules (a survey or a broken file is skipped here and
    reported when it is checked itself)."""
    index: dict[tuple[str, str], list[Path]] = {}
    for d in search_dirs:
        try:
            # Resolved: one file reached by a relative and an absolute path
            # (or through a symlink) is one definition, not two.
            files = sorted({f.resolve() for f in list(d.glob("*.yaml")) + list(d.glob("*.yml"))})
        except OSError:
            continue
        for f in files:
            try:
                data = _parse_yaml_text(read_text_bounded(f), ProblemList())
            except (OSError, UnicodeDecodeError):
                continue
            if file_kind(data) == "module" and isinstance(data, dict) and "items" in data and "id" in data:
                key = (str(data["id"]), str(data.get("version")))
                if f not in index.setdefault(key, []):
                    index[key].append(f)
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
                warnings: list | None = None) -> Survey:
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
