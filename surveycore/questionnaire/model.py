"""The questionnaire model: choices, items, scores, modules, site settings and
surveys as loaded and validated (frozen dataclasses), and the vocabulary of
the format (id, code, version and language patterns).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from surveycore import types


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
