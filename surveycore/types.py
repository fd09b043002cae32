"""The question types: one registry entry per type, every fact of it in one place.

Each :class:`QuestionType` says what the rest of the system needs to know
of a type: whether it has choices, whether its answer is one code (the only
answers scores, breakdowns and ``=`` comparisons use), how an answer is
validated (the one rule the kiosk applies and the analysis re-applies to a
sealed body), its longest sealed value (every envelope is padded to the
largest body), its XLSForm spellings (the import), how an answer flattens to
dataset rows, how ``kiosk simulate`` draws an answer, and whether it could
identify a person. The kiosk keeps the matching renderer table
(:mod:`kiosk.answers`).

Adding a type is one :func:`register` call here plus one renderer in the
kiosk; :func:`missing_facets` (and a test over every registered type) says
what an entry still lacks.
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Collection, Iterator

if TYPE_CHECKING:  # the model imports this module: no cycle at run time
    from surveycore.questionnaire import Item

# Longest free-text answer a sealed body may carry.
MAX_TEXT_ANSWER = 2000
# Types that would identify a person: refused outright by the loader (free
# text is a registered type because a module and a site may both knowingly
# enable it).
IDENTIFYING_TYPES = frozenset({"name", "phone", "email", "date", "datetime", "birthdate", "deviceid",
                               "imei", "geopoint", "geotrace", "geoshape", "address", "barcode",
                               "photo", "image", "audio-recording", "signature"})

# What one answer of a type is.
CODE = "code"        # one choice code (a string)
CODES = "codes"      # a list of distinct choice codes
NUMBER = "number"    # a whole number
TEXT = "text"        # free text
VALUE_KINDS = (CODE, CODES, NUMBER, TEXT)

AnswerCheck = Callable[[Any, Collection[str], "int | None", "int | None"], bool]
"""``check(value, choice codes, minimum, maximum)``: whether a (non-refused)
answer fits an item; ``None`` bounds are open."""
Row = tuple[str, "str | None"]
"""One dataset answer row: (state, value as text)."""


@dataclass(frozen=True)
class QuestionType:
    """Everything the system knows of one question type.

    ``value`` is ``None`` for types that take no answer (notes, groups);
    every answering type must give ``check``, ``longest``, ``flatten`` and
    ``simulate``. ``xlsform`` lists ``(XLSForm type, appearance)`` pairs that
    import to this type (appearance ``None``: any other appearance);
    ``aliases`` are other names people write for it, suggested when a module
    uses one.
    """

    name: str
    value: str | None
    xlsform: tuple[tuple[str, str | None], ...]
    choices: bool = False
    ranged: bool = False          # takes whole-number 'min' and 'max'
    container: bool = False       # holds items (a group), never shown itself
    free_text: bool = False       # could identify a person: needs module and site consent
    published: bool = True        # whether its answers may appear in tables and exports
    check: AnswerCheck | None = None
    longest: Callable[["Item"], Any] | None = None
    flatten: Callable[[Any], list[Row]] | None = None
    simulate: Callable[["Item", random.Random], Any] | None = None
    aliases: tuple[str, ...] = ()

    @property
    def answers(self) -> bool:
        """Whether an item of this type takes an answer (a question)."""
        return self.value is not None

    @property
    def code(self) -> bool:
        """Whether its answer is one choice code (scores, breakdowns, ``=``)."""
        return self.value == CODE

    @property
    def multi(self) -> bool:
        """Whether one answer is several codes (several dataset rows)."""
        return self.value == CODES


_REGISTRY: dict[str, QuestionType] = {}


def missing_facets(qtype: QuestionType) -> list[str]:
    """The facets an entry lacks (empty when it is complete)."""
    missing = [] if qtype.xlsform else ["xlsform"]
    if qtype.value is not None:
        if qtype.value not in VALUE_KINDS:
            missing.append("value")
        missing += [f for f in ("check", "longest", "flatten", "simulate") if getattr(qtype, f) is None]
    return missing


def register(qtype: QuestionType) -> QuestionType:
    """Add a type; refused (``ValueError``) when its name is taken or
    identifying, or when it lacks a facet."""
    if qtype.name in _REGISTRY or qtype.name in IDENTIFYING_TYPES:
        raise ValueError(f"question type {qtype.name!r} is already registered or refused")
    missing = missing_facets(qtype)
    if missing:
        raise ValueError(f"question type {qtype.name!r} lacks {', '.join(missing)}")
    _REGISTRY[qtype.name] = qtype
    return qtype


def unregister(name: str) -> None:
    """Remove a type (for tests that register a toy type)."""
    _REGISTRY.pop(name, None)


@contextmanager
def registered(qtype: QuestionType) -> Iterator[QuestionType]:
    """Register ``qtype`` for the duration of a ``with`` block."""
    register(qtype)
    try:
        yield qtype
    finally:
        unregister(qtype.name)


def get(name: str) -> QuestionType:
    """The entry of a registered type (``KeyError`` when unknown)."""
    return _REGISTRY[name]


def find(name: str) -> QuestionType | None:
    """The entry of a type, or ``None`` when no such type is registered."""
    return _REGISTRY.get(name)


def names() -> list[str]:
    """Registered type names, in registration order."""
    return list(_REGISTRY)


def all_types() -> list[QuestionType]:
    """Registered entries, in registration order."""
    return list(_REGISTRY.values())


def is_question(name: str) -> bool:
    """Whether items of type ``name`` take an answer (unknown types do not)."""
    qtype = _REGISTRY.get(name)
    return qtype is not None and qtype.answers


def answer_fits(name: str, value: Any, codes: Collection[str] = (), minimum: int | None = None,
                maximum: int | None = None) -> bool:
    """Whether ``value`` is a valid answer to an item of type ``name`` with
    these choice codes and range. "Prefer not to answer" is not a value
    here: callers accept it before asking. Types that take no answer take no
    check."""
    qtype = _REGISTRY.get(name)
    check = qtype.check if qtype is not None else None
    return check is None or check(value, codes, minimum, maximum)


def from_xlsform(xls_type: str, appearance: str = "") -> QuestionType | None:
    """The type an XLSForm row imports to: the entry whose spelling names
    this XLSForm type and one of the row's appearance words, else the one
    naming the type alone."""
    words = set(appearance.lower().split())
    plain = None
    for qtype in _REGISTRY.values():
        for spelled, wanted in qtype.xlsform:
            if spelled != xls_type:
                continue
            if wanted is None:
                plain = plain or qtype
            elif wanted in words:
                return qtype
    return plain


def xlsform_types() -> set[str]:
    """Every XLSForm type some registered type imports from."""
    return {spelled for qtype in _REGISTRY.values() for spelled, _ in qtype.xlsform}


def suggestions() -> dict[str, str]:
    """Names people carry over from XLSForm or elsewhere, to the type meant."""
    out: dict[str, str] = {}
    for qtype in _REGISTRY.values():
        for spelled, wanted in qtype.xlsform:
            if wanted is None:
                out.setdefault(spelled, qtype.name)
        for alias in qtype.aliases:
            out.setdefault(alias, qtype.name)
    return out


# ------------------------------------------------------------- answer checks

def _fits_choice(value: Any, codes: Collection[str], minimum: int | None, maximum: int | None) -> bool:
    return isinstance(value, str) and value in codes


def _fits_multiple(value: Any, codes: Collection[str], minimum: int | None, maximum: int | None) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v in codes for v in value) \
        and len(set(value)) == len(value)


def _fits_integer(value: Any, codes: Collection[str], minimum: int | None, maximum: int | None) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and \
        (minimum is None or value >= minimum) and (maximum is None or value <= maximum)


def _fits_text(value: Any, codes: Collection[str], minimum: int | None, maximum: int | None) -> bool:
    return isinstance(value, str) and len(value) <= MAX_TEXT_ANSWER


# ---------------------------------------------------------- longest values

def _longest_code(item: Item) -> Any:
    longest = max((c.code for c in item.choices), key=len, default="")
    # "prefer not to answer" is sealed as null, longer than a 1-char code.
    return longest if len(longest) + 2 >= 4 else None


def _longest_codes(item: Item) -> Any:
    return [c.code for c in item.choices]


def _longest_integer(item: Item) -> Any:
    return max(abs(item.minimum or 0), abs(item.maximum or 0)) * -1


def _longest_text(item: Item) -> Any:
    return "x" * 500


# ------------------------------------------------------------- dataset rows
# Answer states: answered (value = code or number), none (multiple choice,
# nothing chosen); "refused" and "skipped" are the same for every type and
# written by the dataset writer itself.

def _flatten_one(value: Any) -> list[Row]:
    return [("answered", str(value))]


def _flatten_codes(value: Any) -> list[Row]:
    if not value:
        return [("none", None)]
    return [("answered", str(v)) for v in value]


# -------------------------------------------------------------- simulation

def _simulate_code(item: Item, rng: random.Random) -> Any:
    # Unequal weights make the synthetic tables look like real ones.
    weights = [1.0 / (i + 1) for i in range(len(item.choices))]
    return rng.choices([c.code for c in item.choices], weights=weights)[0]


def _simulate_codes(item: Item, rng: random.Random) -> Any:
    return [c.code for c in item.choices if rng.random() < 0.25]


def _simulate_integer(item: Item, rng: random.Random) -> Any:
    lo = item.minimum if item.minimum is not None else 0
    hi = item.maximum if item.maximum is not None else lo + 100
    return rng.randint(lo, hi)


def _simulate_refusal(item: Item, rng: random.Random) -> Any:
    # No synthetic free text: a simulated patient prefers not to answer.
    return None


SINGLE = register(QuestionType(
    "single", CODE, (("select_one", None),), choices=True, check=_fits_choice, longest=_longest_code,
    flatten=_flatten_one, simulate=_simulate_code))
MULTIPLE = register(QuestionType(
    "multiple", CODES, (("select_multiple", None),), choices=True, check=_fits_multiple,
    longest=_longest_codes, flatten=_flatten_codes, simulate=_simulate_codes))
SCALE = register(QuestionType(
    "scale", CODE, (("select_one", "likert"),), choices=True, check=_fits_choice, longest=_longest_code,
    flatten=_flatten_one, simulate=_simulate_code, aliases=("likert",)))
INTEGER = register(QuestionType(
    "integer", NUMBER, (("integer", None),), ranged=True, check=_fits_integer, longest=_longest_integer,
    flatten=_flatten_one, simulate=_simulate_integer, aliases=("int", "number")))
FREE_TEXT = register(QuestionType(
    "text", TEXT, (("text", None),), free_text=True, published=False, check=_fits_text,
    longest=_longest_text, flatten=_flatten_one, simulate=_simulate_refusal))
NOTE = register(QuestionType("note", None, (("note", None),), published=False))
GROUP = register(QuestionType("group", None, (("begin_group", None),), container=True, published=False,
                              aliases=("begin group",)))
