"""XLSForm-style expressions for skip logic and constraints.

Expressions such as ``${q1} = '2' and not(selected(${q3}, 'b'))`` are parsed
by a real grammar (lark, LALR) into a small tree of dataclasses and evaluated
by walking that tree. Nothing is ever passed to ``eval``.

Values: an answer is a code (``str``), a list of codes (multiple choice), an
``int`` (integer items) or ``None`` (not answered, prefer not to answer, or
skipped). As in XLSForm, an empty answer compares equal to ``''``; any other
comparison involving an empty answer is false. ``=`` and ``!=`` compare
numbers when one side is a number (``${q1} = 2``) and text otherwise
(``${q1} = '2'``); ``<``, ``<=``, ``>``, ``>=`` compare numbers, so codes
such as ``'0'``..``'3'`` can be tested with ``${q1} > 0``.

:func:`parse` never raises anything but :class:`ExpressionError` with a
stable code (fuzz-tested), and bounds the size of what it accepts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Union

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, VisitError

from surveycore.errors import ExpressionError

Value = Union[str, int, float, bool, list[str], None]

_GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr ("or" and_expr)*          -> or_
?and_expr: comparison ("and" comparison)*    -> and_
?comparison: sum (COMPOP sum)?               -> compare
?sum: product (ADDOP product)*               -> arith
?product: atom (MULOP atom)*                 -> arith
?atom: REF                                   -> ref
     | SIGNED_NUMBER                         -> number
     | STRING                                -> string
     | "not" "(" or_expr ")"                 -> not_
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
class _ToTree(Transformer[Token, Node]):
    def ref(self, tok: Token) -> Ref:
        return Ref(str(tok)[2:-1])

    def number(self, tok: Token) -> Lit:
        text = str(tok)
        try:
            value: float | int = float(text) if any(c in text for c in ".eE") else int(text)
        except ValueError:  # more digits than Python converts
            value = float("inf")
        if not abs(value) <= MAX_NUMBER:
            raise ExpressionError(f"number {text[:20]!r} is out of range (at most {MAX_NUMBER:.0e}); "
                                  "use a plausible value", code="Q-EXP-003")
        return Lit(value)

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

# Limits far beyond any real skip rule; they keep a malformed file from
# exhausting the stack or the memory of the kiosk.
MAX_LENGTH = 2000
MAX_DEPTH = 32
MAX_NUMBER = 10 ** 15
# Each operator is a level of the parse tree and of its evaluation: a long
# chain (990 terms) fitted in the stack of `kiosk check` but not in that of
# the running kiosk. A fixed count makes the answer the same everywhere.
MAX_OPERATORS = 200
_OPERATOR_RE = re.compile(r"\b(?:and|or|div|mod)\b|!=|<=|>=|[-+*=<>]")
_QUOTED_RE = re.compile(r"'[^']*'|\"[^\"]*\"")


def _nesting(text: str) -> int:
    """Deepest parenthesis nesting outside quoted strings."""
    depth = deepest = 0
    quote = ""
    for ch in text:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif ch == ")":
            depth -= 1
    return deepest


# Habits from other languages, and the XLSForm way to write them.
_HABITS = (("==", "write = to compare, not =="), ("&&", "write 'and', not &&"),
           ("||", "write 'or', not ||"), ("<>", "write != for 'differs', not <>"))


_FUNCTIONS = ("selected", "count-selected", "not", "true", "false")
_CALL_RE = re.compile(r"(?<![\w$.{-])([A-Za-z_][\w:-]*)\s*\(")


def _hint(text: str) -> str:
    """A likely cause of a syntax error, in words (or nothing)."""
    for habit, fix in _HABITS:
        if habit in text:
            return f" ({fix})"
    outside = re.sub(r"'[^']*'|\"[^\"]*\"", "''", text)
    for name in _CALL_RE.findall(outside):
        if name not in _FUNCTIONS:
            return (f" (function {name}() is not supported; the functions are "
                    f"{', '.join(f + '()' for f in _FUNCTIONS)})")
    return ""


def parse(text: str) -> Node:
    """Parse an expression into a tree; raise :class:`ExpressionError` (code
    ``Q-EXP-001`` for syntax, ``Q-EXP-003`` for size) saying where the
    problem is when the text is not a valid expression. Never raises
    anything else."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("empty expression; write a condition like ${q1} = '1' or remove the key",
                              code="Q-EXP-001")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression of {len(text)} characters is too long (at most {MAX_LENGTH}); "
                              "split the question or simplify the rule", code="Q-EXP-003")
    if _nesting(text) > MAX_DEPTH:
        raise ExpressionError(f"expression nests parentheses more than {MAX_DEPTH} deep; simplify it",
                              code="Q-EXP-003")
    operators = len(_OPERATOR_RE.findall(_QUOTED_RE.sub("''", text)))
    if operators > MAX_OPERATORS:
        raise ExpressionError(f"expression has {operators} operators (at most {MAX_OPERATORS}); split the "
                              "question or simplify the rule", code="Q-EXP-003")
    return _parse_cached(text)


@lru_cache(maxsize=4096)
def _parse_cached(text: str) -> Node:
    try:
        return _ToTree().transform(_PARSER.parse(text))
    except UnexpectedCharacters as exc:
        pos = getattr(exc, "pos_in_stream", None)
        char = text[pos] if isinstance(pos, int) and 0 <= pos < len(text) else "?"
        raise ExpressionError(
            f"cannot read expression {text!r}: unexpected character {char!r} "
            f"at column {exc.column}{_hint(text) or '; write references as ${item_id} and text in quotes'}",
            code="Q-EXP-001") from None
    except UnexpectedInput as exc:
        col = getattr(exc, "column", "?")
        if not isinstance(col, int) or col < 1:
            col = len(text)
        raise ExpressionError(
            f"cannot read expression {text!r}: incomplete or misplaced operator near column {col}"
            f"{_hint(text)}", code="Q-EXP-001") from None
    except VisitError as exc:
        if isinstance(exc.orig_exc, ExpressionError):
            raise exc.orig_exc from None
        raise ExpressionError(f"cannot read expression {text!r}: {exc.orig_exc.__class__.__name__}",
                              code="Q-EXP-001") from None
    except LarkError as exc:  # any other parser failure is still a coded error
        raise ExpressionError(f"cannot read expression {text!r}: {exc.__class__.__name__}",
                              code="Q-EXP-001") from None
    except RecursionError:
        raise ExpressionError(f"expression {text[:40]!r}... is nested too deeply; simplify it",
                              code="Q-EXP-003") from None


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


def _as_xpath(value: Value) -> Value:
    """A multiple-choice answer as ODK holds it: the codes ticked, in the
    order of the list, joined by spaces (``''`` when none is)."""
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return value


def _compare(op: str, left: Value, right: Value) -> bool:
    """XPath 1.0 comparison as XLSForm uses it: ``=``/``!=`` compare numbers
    when one side is a number and text otherwise (so the code ``'2'`` is not
    ``'02'``); ``<``, ``<=``, ``>``, ``>=`` compare numbers only.

    A multiple-choice answer is, in ODK, the space-separated string of the
    codes ticked: ``${m} != ''`` is true when anything is ticked, ``${m} = ''``
    when nothing is, and ``${m} = 'a c'`` when exactly a and c are."""
    left, right = _as_xpath(left), _as_xpath(right)
    if left is None or right is None:
        # XLSForm: an empty answer equals ''.
        other = right if left is None else left
        empty_other = other is None or other == "" or other == []
        if op == "=":
            return empty_other
        if op == "!=":
            return not empty_other
        return False
    if op in ("=", "!="):
        if isinstance(left, bool) or isinstance(right, bool):
            same = _truthy(left) == _truthy(right)
        elif isinstance(left, (int, float)) or isinstance(right, (int, float)):
            ln, rn = _as_number(left), _as_number(right)
            same = ln is not None and rn is not None and ln == rn
        else:
            same = str(left) == str(right)
        return same if op == "=" else not same
    ln, rn = _as_number(left), _as_number(right)
    if ln is None or rn is None:
        return False
    if op == "<":
        return ln < rn
    if op == "<=":
        return ln <= rn
    if op == ">":
        return ln > rn
    if op == ">=":
        return ln >= rn
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
        # ODK counts the space-separated codes of the value: a single choice
        # answered counts 1, an empty answer 0.
        value = _as_xpath(evaluate(args[0], lookup))
        if value is None or isinstance(value, bool):
            return 0
        return len(str(value).split())
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
