"""XLSForm-style expressions for skip logic and constraints.

Expressions such as ``${q1} = '2' and not(selected(${q3}, 'b'))`` are parsed
by a real grammar (lark, LALR) into a small tree of dataclasses and evaluated
by walking that tree. Nothing is ever passed to ``eval``.

Values: an answer is a code (``str``), a list of codes (multiple choice), an
``int`` (integer items) or ``None`` (not answered, prefer not to answer, or
skipped). As in XLSForm, an empty answer compares equal to ``''``; any other
comparison involving an empty answer is false.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Union

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput

from kiosk.errors import ExpressionError

Value = Union[str, int, float, bool, list[str], None]

_GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr ("or" and_expr)*          -> or_
?and_expr: unary ("and" unary)*              -> and_
?unary: "not" "(" or_expr ")"                -> not_
      | comparison
?comparison: sum (COMPOP sum)?               -> compare
?sum: product (ADDOP product)*               -> arith
?product: atom (MULOP atom)*                 -> arith
?atom: REF                                   -> ref
     | SIGNED_NUMBER                         -> number
     | STRING                                -> string
     | "true" "(" ")"                        -> true
     | "false" "(" ")"                       -> false
     | "selected" "(" REF "," (STRING | SIGNED_NUMBER) ")"  -> selected
     | "count-selected" "(" REF ")"          -> count_selected
     | "(" or_expr ")"
COMPOP: "!=" | "<=" | ">=" | "=" | "<" | ">"
ADDOP: "+" | "-"
MULOP: "*" | "div" | "mod"
REF: "${" /[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?/ "}"
STRING: /'[^']*'/ | /"[^"]*"/
%import common.SIGNED_NUMBER
%import common.WS
%ignore WS
"""


@dataclass(frozen=True)
class Ref:
    """A reference to an item's answer, ``${name}`` or ``${module.name}``."""

    name: str


@dataclass(frozen=True)
class Lit:
    """A literal string or number."""

    value: Value


@dataclass(frozen=True)
class Op:
    """An operator node: ``or``, ``and``, ``not``, comparison, arithmetic,
    ``selected`` or ``count-selected``."""

    op: str
    args: tuple["Node", ...]


Node = Union[Ref, Lit, Op]


@v_args(inline=True)
class _ToTree(Transformer):
    def ref(self, tok: Token) -> Ref:
        return Ref(str(tok)[2:-1])

    def number(self, tok: Token) -> Lit:
        text = str(tok)
        return Lit(float(text) if any(c in text for c in ".eE") else int(text))

    def string(self, tok: Token) -> Lit:
        return Lit(str(tok)[1:-1])

    def true(self) -> Lit:
        return Lit(True)

    def false(self) -> Lit:
        return Lit(False)

    def selected(self, ref: Token, code: Token) -> Op:
        text = str(code)
        code_value = text[1:-1] if text[:1] in "'\"" else text
        return Op("selected", (Ref(str(ref)[2:-1]), Lit(code_value)))

    def count_selected(self, ref: Token) -> Op:
        return Op("count-selected", (Ref(str(ref)[2:-1]),))

    def not_(self, inner: Node) -> Op:
        return Op("not", (inner,))

    # Aliased rules are not inlined by lark when they have a single child, so
    # each handler passes a lone child through unchanged.
    def compare(self, left: Node, op: Token | None = None, right: Node | None = None) -> Node:
        if op is None or right is None:
            return left
        return Op(str(op), (left, right))

    def or_(self, *parts: Node) -> Node:
        return parts[0] if len(parts) == 1 else Op("or", parts)

    def and_(self, *parts: Node) -> Node:
        return parts[0] if len(parts) == 1 else Op("and", parts)

    def arith(self, first: Node, *rest: object) -> Node:
        node = first
        pairs = list(rest)
        for i in range(0, len(pairs), 2):
            node = Op(str(pairs[i]), (node, pairs[i + 1]))  # type: ignore[arg-type]
        return node


_PARSER = Lark(_GRAMMAR, parser="lalr", maybe_placeholders=False)


@lru_cache(maxsize=4096)
def parse(text: str) -> Node:
    """Parse an expression into a tree; raise :class:`ExpressionError` with the
    column of the problem when the text is not a valid expression."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("empty expression", code="Q-EXP-001")
    try:
        return _ToTree().transform(_PARSER.parse(text))
    except UnexpectedCharacters as exc:
        raise ExpressionError(
            f"cannot read expression {text!r}: unexpected character {text[exc.column - 1]!r} "
            f"at column {exc.column}; write references as ${{item_id}} and text in 'quotes'",
            code="Q-EXP-001") from None
    except UnexpectedInput as exc:
        col = getattr(exc, "column", "?")
        raise ExpressionError(
            f"cannot read expression {text!r}: incomplete or misplaced operator near column {col}",
            code="Q-EXP-001") from None
    except LarkError as exc:  # any other parser failure is still a coded error
        raise ExpressionError(f"cannot read expression {text!r}: {exc.__class__.__name__}",
                              code="Q-EXP-001") from None


def references(node: Node) -> list[str]:
    """Every item name referenced by the expression, in order of appearance."""
    if isinstance(node, Ref):
        return [node.name]
    if isinstance(node, Op):
        out: list[str] = []
        for arg in node.args:
            out.extend(references(arg))
        return out
    return []


def _as_number(value: Value) -> float | None:
    if isinstance(value, bool) or value is None or isinstance(value, list):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value)
    except ValueError:
        return None


def _truthy(value: Value) -> bool:
    if isinstance(value, list):
        return bool(value)
    if isinstance(value, str):
        return value != ""
    return bool(value)


def _compare(op: str, left: Value, right: Value) -> bool:
    if left is None or right is None:
        # XLSForm: an empty answer equals ''.
        other = right if left is None else left
        empty_other = other is None or other == "" or other == []
        if op == "=":
            return empty_other
        if op == "!=":
            return not empty_other
        return False
    if isinstance(left, list) or isinstance(right, list):
        return False
    ln, rn = _as_number(left), _as_number(right)
    if ln is not None and rn is not None:
        a: object = ln
        b: object = rn
    else:
        a, b = str(left), str(right)
    if op == "=":
        return a == b
    if op == "!=":
        return a != b
    try:
        if op == "<":
            return a < b  # type: ignore[operator]
        if op == "<=":
            return a <= b  # type: ignore[operator]
        if op == ">":
            return a > b  # type: ignore[operator]
        if op == ">=":
            return a >= b  # type: ignore[operator]
    except TypeError:
        return False
    raise ExpressionError(f"unknown comparison {op!r}", code="Q-EXP-002")


def evaluate(node: Node, lookup: Callable[[str], Value]) -> Value:
    """Evaluate a parsed expression; ``lookup(name)`` returns an answer."""
    if isinstance(node, Lit):
        return node.value
    if isinstance(node, Ref):
        return lookup(node.name)
    op, args = node.op, node.args
    if op == "or":
        return any(_truthy(evaluate(a, lookup)) for a in args)
    if op == "and":
        return all(_truthy(evaluate(a, lookup)) for a in args)
    if op == "not":
        return not _truthy(evaluate(args[0], lookup))
    if op == "selected":
        value = evaluate(args[0], lookup)
        code = str(evaluate(args[1], lookup))
        if isinstance(value, list):
            return code in value
        return value is not None and str(value) == code
    if op == "count-selected":
        value = evaluate(args[0], lookup)
        if isinstance(value, list):
            return len(value)
        return 0 if value in (None, "") else 1
    if op in ("=", "!=", "<", "<=", ">", ">="):
        return _compare(op, evaluate(args[0], lookup), evaluate(args[1], lookup))
    if op in ("+", "-", "*", "div", "mod"):
        a = _as_number(evaluate(args[0], lookup))
        b = _as_number(evaluate(args[1], lookup))
        if a is None or b is None:
            return None
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if b == 0:
            return None
        return a / b if op == "div" else a % b
    raise ExpressionError(f"unknown operator {op!r}", code="Q-EXP-002")


def truthy(value: Value) -> bool:
    """XLSForm truthiness of an evaluated expression (used for relevance)."""
    return _truthy(value)
