"""The XLSForm-style expression language: what it means, how it fails, and
that no input makes it fail any other way than with a coded error."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surveycore import logic
from surveycore.errors import ExpressionError

ANSWERS: dict[str, object] = {
    "age": "25-34", "n": 3, "many": ["a", "c"], "none": [], "skip": None, "code": "2", "m.x": "yes",
}


def ev(text: str, answers: dict[str, object] | None = None) -> object:
    values = ANSWERS if answers is None else answers
    return logic.evaluate(logic.parse(text), values.get)


@pytest.mark.parametrize("text, expected", [
    ("${age} = '25-34'", True),
    ("${age} != '25-34'", False),
    ("${n} > 2 and ${n} <= 3", True),
    ("${n} < 2 or ${n} >= 4", False),
    ("not(${n} = 3)", False),
    ("${code} > 1", True),           # codes compare as numbers when both sides are
    ("${code} = 2", True),
    ("${code} = '02'", False),       # ... but '02' is text, so not the code '2'
    ("selected(${many}, 'a')", True),
    ("selected(${many}, 'b')", False),
    ("selected(${age}, '25-34')", True),
    ("selected(${skip}, 'a')", False),
    ("count-selected(${many}) = 2", True),
    ("count-selected(${none}) = 0", True),
    ("count-selected(${skip}) = 0", True),
    ("${skip} = ''", True),          # XLSForm: an empty answer equals ''
    ("${skip} != ''", False),
    ("${skip} = 'a'", False),
    ("${skip} != 'a'", True),
    ("${skip} > 0", False),          # any other comparison with empty is false
    ("${skip} < 0", False),
    ("${n} * 2 + 1 = 7", True),
    ("${n} div 2 = 1.5", True),
    ("${n} mod 2 = 1", True),
    ("${n} div 0 = ''", True),       # division by zero is empty, not an error
    ("${m.x} = 'yes'", True),
    ("true() and not(false())", True),
    ("(${n} = 3 or ${n} = 4) and selected(${many}, \"c\")", True),
    ("${many} = 'a'", False),        # a list is never equal to a code: use selected()
    # ODK holds a multiple choice as its codes joined by spaces (JavaRosa's
    # select-multiple value): "something ticked" is != '', "nothing" is = ''.
    ("${many} != ''", True),
    ("${many} = ''", False),
    ("${none} != ''", False),
    ("${none} = ''", True),
    ("${many} = 'a c'", True),
    ("${none} > 0", False),
    ("count-selected(${many}) > 0", True),
    ("count-selected(${age}) = 1", True),     # a single choice answered counts one
    ("count-selected(${n}) = 1", True),
    ("not(${many} = '') and count-selected(${many}) >= 2", True),
])
def test_meaning(text: str, expected: object) -> None:
    assert logic.truthy(ev(text)) is expected


def test_tree_and_references() -> None:
    tree = logic.parse("${a} = '1' and (selected(${b}, 'x') or count-selected(${m.c}) > 1)")
    assert logic.references(tree) == ["a", "b", "m.c"]
    assert tree == logic.Op("and", (
        logic.Op("=", (logic.Ref("a"), logic.Lit("1"))),
        logic.Op("or", (logic.Op("selected", (logic.Ref("b"), logic.Lit("x"))),
                        logic.Op(">", (logic.Op("count-selected", (logic.Ref("m.c"),)), logic.Lit(1)))))))


def test_truthy() -> None:
    assert [logic.truthy(v) for v in (None, "", [], 0, False)] == [False] * 5
    assert [logic.truthy(v) for v in ("0", ["a"], 1, True)] == [True] * 4


def test_nothing_is_evaluated_as_python() -> None:
    for text in ("__import__('os').system('true')", "${a}.__class__", "exec('1')", "lambda: 1"):
        with pytest.raises(ExpressionError):
            logic.parse(text)


@pytest.mark.parametrize("text, code, message", [
    ("", "Q-EXP-001", "empty expression; write a condition like ${q1} = '1' or remove the key"),
    ("${a} == '1'", "Q-EXP-001",
     "cannot read expression \"${a} == '1'\": incomplete or misplaced operator near column 7 "
     "(write = to compare, not ==)"),
    ("${a} = 1 && ${b} = 2", "Q-EXP-001",
     "cannot read expression '${a} = 1 && ${b} = 2': unexpected character '&' at column 10 "
     "(write 'and', not &&)"),
    ("$a = 1", "Q-EXP-001",
     "cannot read expression '$a = 1': unexpected character '$' at column 1; write references as "
     "${item_id} and text in quotes"),
    ("selected(${a})", "Q-EXP-001",
     "cannot read expression 'selected(${a})': incomplete or misplaced operator near column 14"),
    ("(" * 40 + "1" + ")" * 40, "Q-EXP-003", "expression nests parentheses more than 32 deep; simplify it"),
    ("${a} = '" + "x" * 2000 + "'", "Q-EXP-003",
     "expression of 2009 characters is too long (at most 2000); split the question or simplify the rule"),
    ("${a} > 1e16", "Q-EXP-003", "number '1e16' is out of range (at most 1e+15); use a plausible value"),
])
def test_errors_are_coded_and_say_what_to_do(text: str, code: str, message: str) -> None:
    with pytest.raises(ExpressionError) as exc:
        logic.parse(text)
    assert (exc.value.code, exc.value.message) == (code, message)


def test_not_text_is_a_coded_error() -> None:
    for value in (None, 3, ["${a}"], b"${a}"):
        with pytest.raises(ExpressionError):
            logic.parse(value)  # type: ignore[arg-type]


# ------------------------------------------------------------------ fuzzing

_ALPHABET = st.sampled_from(list("${}()'\"=!<>+-*., abcdnotrsely_0123456789\n\t") +
                            ["and", "or", "not(", "selected(", "count-selected(", "div", "mod", "${a}",
                             "${m.b}", "true()", "false()", "'x'", "1e999", "9" * 30, "é", "\x00"])
_TEXT = st.one_of(st.text(max_size=80), st.lists(_ALPHABET, max_size=40).map("".join))
_VALUE = st.one_of(st.none(), st.text(max_size=5), st.integers(-10 ** 6, 10 ** 6),
                   st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
                   st.lists(st.text(max_size=3), max_size=4))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_TEXT)
def test_fuzz_parser_raises_only_coded_errors(text: str) -> None:
    try:
        tree = logic.parse(text)
    except ExpressionError as exc:
        assert exc.code in ("Q-EXP-001", "Q-EXP-003")
        return
    assert isinstance(logic.references(tree), list)


def _expressions() -> st.SearchStrategy[str]:
    atoms = st.sampled_from(["${a}", "${b}", "${m.c}", "'x'", "\"y\"", "1", "-2.5", "0", "''",
                             "true()", "false()", "selected(${a}, 'x')", "count-selected(${b})"])

    def combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        binary = st.tuples(children, st.sampled_from(["=", "!=", "<", "<=", ">", ">=", "and", "or", "+", "-",
                                                      "*", "div", "mod"]), children)
        return st.one_of(binary.map(lambda t: f"({t[0]} {t[1]} {t[2]})"), children.map(lambda c: f"not({c})"))
    return st.recursive(atoms, combine, max_leaves=12)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_expressions(), a=_VALUE, b=_VALUE, c=_VALUE)
def test_fuzz_well_formed_expressions_always_evaluate(text: str, a: object, b: object, c: object) -> None:
    tree = logic.parse(text)
    answers = {"a": a, "b": b, "m.c": c}
    try:
        result = logic.evaluate(tree, answers.get)
    except ExpressionError as exc:  # pragma: no cover - would be a finding
        pytest.fail(f"{text}: {exc.user_text()}")
    assert isinstance(logic.truthy(result), bool)
