"""The question-type registry: every registered type has every facet, and the
facts once scattered over the code (choices, code answers, XLSForm
spellings, longest sealed value, dataset rows) come from it."""

from __future__ import annotations

import random
from typing import Any

import pytest

from surveycore import types
from surveycore.questionnaire import Choice, Item
from surveycore.types import QuestionType
from kiosk import answers

# The types a survey can use today, and what the rest of the code relies on.
EXPECTED = {
    # name: (value, choices, ranged, container, free_text, published)
    "single": ("code", True, False, False, False, True),
    "multiple": ("codes", True, False, False, False, True),
    "scale": ("code", True, False, False, False, True),
    "integer": ("number", False, True, False, False, True),
    "text": ("text", False, False, False, True, False),
    "note": (None, False, False, False, False, False),
    "group": (None, False, False, True, False, False),
}


def test_the_registered_types_and_their_facts() -> None:
    assert types.names() == ["single", "multiple", "scale", "integer", "text", "note", "group"]
    got = {t.name: (t.value, t.choices, t.ranged, t.container, t.free_text, t.published)
           for t in types.all_types()}
    assert got == EXPECTED
    assert [t.name for t in types.all_types() if t.code] == ["single", "scale"]
    assert [t.name for t in types.all_types() if t.multi] == ["multiple"]
    assert [t.name for t in types.all_types() if t.answers] == ["single", "multiple", "scale", "integer", "text"]


def test_every_registered_type_has_every_facet() -> None:
    """Fails when an entry lacks its answer check, longest value, XLSForm
    spellings, dataset rows or simulation, or the kiosk has no renderer."""
    gaps = {t.name: types.missing_facets(t) for t in types.all_types()}
    assert gaps == {t.name: [] for t in types.all_types()}
    assert answers.missing_renderers() == []


def test_an_incomplete_type_is_refused_and_named() -> None:
    half = QuestionType("stars", types.NUMBER, (), check=lambda v, c, lo, hi: True)
    assert types.missing_facets(half) == ["xlsform", "longest", "flatten", "simulate"]
    with pytest.raises(ValueError, match="question type 'stars' lacks xlsform, longest, flatten, simulate"):
        types.register(half)
    assert "stars" not in types.names()
    with pytest.raises(ValueError, match="question type 'single' is already registered or refused"):
        types.register(QuestionType("single", None, (("note", None),)))
    with pytest.raises(ValueError, match="question type 'phone' is already registered or refused"):
        types.register(QuestionType("phone", None, (("note", None),)))


def test_a_type_without_a_renderer_is_named() -> None:
    """Registering a type in surveycore alone leaves the kiosk unable to show
    it: the renderer check names it."""
    lone = QuestionType("lonely", None, (("lonely", None),))
    with types.registered(lone):
        assert answers.missing_renderers() == ["lonely"]
    assert answers.missing_renderers() == []
    assert "lonely" not in types.names()


@pytest.mark.parametrize("name, value, fits", [
    ("single", "1", True), ("single", "9", False), ("single", 1, False),
    ("scale", "2", True), ("multiple", ["1", "2"], True), ("multiple", ["1", "1"], False),
    ("multiple", "1", False), ("integer", 10, True), ("integer", 11, False), ("integer", True, False),
    ("text", "x" * 2000, True), ("text", "x" * 2001, False), ("note", "anything", True),
])
def test_answer_checks_come_from_the_registry(name: str, value: Any, fits: bool) -> None:
    assert types.answer_fits(name, value, ("1", "2"), 0, 10) is fits


def _item(kind: str, codes: tuple[str, ...] = (), minimum: int | None = None,
          maximum: int | None = None) -> Item:
    return Item(id="q", type=kind, text={"en": "Q"}, module="m",
                choices=tuple(Choice(code=c, label={"en": c}) for c in codes), minimum=minimum, maximum=maximum)


def test_longest_sealed_values() -> None:
    def longest(item: Item) -> Any:
        fn = types.get(item.type).longest
        assert fn is not None
        return fn(item)
    assert longest(_item("single", ("1", "2"))) is None  # "prefer not" (null) is longer than "1"
    assert longest(_item("scale", ("a", "long_code"))) == "long_code"
    assert longest(_item("multiple", ("a", "b", "c"))) == ["a", "b", "c"]
    assert longest(_item("integer", minimum=-120, maximum=80)) == -120
    assert longest(_item("text")) == "x" * 500


def test_dataset_rows_of_an_answer() -> None:
    def rows(kind: str, value: Any) -> list[tuple[str, str | None]]:
        fn = types.get(kind).flatten
        assert fn is not None
        return fn(value)
    assert rows("single", "2") == [("answered", "2")]
    assert rows("integer", 42) == [("answered", "42")]
    assert rows("multiple", ["a", "c"]) == [("answered", "a"), ("answered", "c")]
    assert rows("multiple", []) == [("none", None)]


def test_simulated_answers_fit_their_item() -> None:
    rng = random.Random(5)
    for item in (_item("single", ("1", "2", "3")), _item("multiple", ("a", "b")),
                 _item("integer", minimum=3, maximum=7), _item("scale", ("0", "1"))):
        simulate = types.get(item.type).simulate
        assert simulate is not None
        for _ in range(50):
            value = simulate(item, rng)
            assert types.answer_fits(item.type, value, [c.code for c in item.choices], item.minimum,
                                     item.maximum), (item.type, value)
    text = types.get("text").simulate
    assert text is not None and text(_item("text"), rng) is None  # no synthetic free text: a refusal


def test_xlsform_spellings() -> None:
    assert types.from_xlsform("select_one").name == "single"
    assert types.from_xlsform("select_one", "likert").name == "scale"
    assert types.from_xlsform("select_one", "minimal likert").name == "scale"
    assert types.from_xlsform("select_one", "minimal").name == "single"
    assert types.from_xlsform("select_multiple").name == "multiple"
    assert types.from_xlsform("integer").name == "integer"
    assert types.from_xlsform("begin_group").name == "group"
    assert types.from_xlsform("decimal") is None
    assert types.xlsform_types() == {"select_one", "select_multiple", "integer", "text", "note", "begin_group"}
    # What a module author who wrote an XLSForm or informal name is told to use.
    assert types.suggestions() == {
        "select_one": "single", "select_multiple": "multiple", "likert": "scale", "integer": "integer",
        "int": "integer", "number": "integer", "text": "text", "note": "note", "begin_group": "group",
        "begin group": "group"}
