"""The expression language of flowlang 1 (flows-and-routing.md §3): parse, static checks, evaluation and
`{{expr}}` prompts. Pure: no I/O, no clock; live figures come in through `Context.stats`.

Choices the spec leaves open, made here:

- Strings are `'…'` or `"…"` without escapes: use the other quote to include one.
- Integers are 64-bit signed: a literal or an integer result outside that range is an error.
- Arithmetic (`+ - * / %`) is for numbers only (`concat()` joins strings); `%` takes the sign of the
  divisor. Ordering (`< <= > >=`) is for two numbers or two strings. `==` between other types is false.
- `AND`, `OR`, `NOT` take bools; `null` counts as false. `AND`/`OR` stop at the first deciding operand.
- With a `null` list, `IN`, `NOT IN` and `HAS` are all false; `CONTAINS` and `STARTS_WITH` with a `null`
  side are false. Membership uses `==`.
- Keywords may serve as field names (`contact.attributes.in`); function names are lower case as listed.
- `len`, `substr`, `lower`, `upper`, `int` and `spell` of `null` are `null`; `str()` is `to_text()`;
  `concat` joins the `str()` of its arguments; `int()` takes ints, floats and decimal strings (`"0042"`,
  `" -12.9 "`), truncating toward zero.
- `substr(s, i, n)`: `n` characters from the 0-based index `i` (to the end without `n`), clipped to `s`.
- `spell()` and `percent_bucket()`: see their functions below.
- A missing list index is `null`, like a missing key; indexing anything but a list, or a field of a
  string, number or bool, is an error.
- Abuse limits: text over 2,000 characters, nesting deeper than 64 (each operator, call, list, parenthesis
  or unary sign is a level) and list literals over 1,000 items are syntax errors.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from functools import lru_cache, partial
from typing import Any, Protocol

from centralita.core.i18n import _, ngettext

__all__ = [
    "FUNCTIONS",
    "Binary",
    "Call",
    "Context",
    "EvalError",
    "Expr",
    "ExprSyntaxError",
    "FunctionSpec",
    "ListExpr",
    "Literal",
    "Path",
    "Problem",
    "Scope",
    "Span",
    "Stats",
    "Unary",
    "check",
    "evaluate",
    "parse",
    "percent_bucket",
    "prompt_expressions",
    "render_prompt",
    "spell",
    "static_type",
    "to_text",
]

MAX_LENGTH = 2000
MAX_DEPTH = 64
MAX_LIST_ITEMS = 1000
INT_MIN, INT_MAX = -(2**63), 2**63 - 1


# ---------------------------------------------------------------------------------------------- syntax tree


@dataclass(frozen=True)
class Span:
    """Character offsets in the expression text, `end` exclusive."""

    start: int
    end: int


@dataclass(frozen=True)
class Literal:
    value: bool | int | float | str | None
    span: Span


@dataclass(frozen=True)
class Path:
    """`contact.attributes.tier`, `vars.x`, `agent.languages[0]`: names and 0-based indexes."""

    parts: tuple[str | int, ...]
    span: Span
    part_spans: tuple[Span, ...] = field(default=(), compare=False, repr=False)  # one per part, if known


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Expr, ...]
    span: Span

    @property
    def name_span(self) -> Span:
        return Span(self.span.start, self.span.start + len(self.name))


@dataclass(frozen=True)
class Unary:
    op: str  # "-" or "NOT"
    operand: Expr
    span: Span


@dataclass(frozen=True)
class Binary:
    op: str  # an operator as in the grammar, keywords upper case, "NOT IN" as one
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True)
class ListExpr:
    items: tuple[Expr, ...]
    span: Span


Expr = Literal | Path | Call | Unary | Binary | ListExpr


class ExprSyntaxError(Exception):
    """An expression that does not parse; `span` is the offending token."""

    def __init__(self, message: str, span: Span) -> None:
        super().__init__(message)
        self.message = message
        self.span = span


# ---------------------------------------------------------------------------------------------- lexer

KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "HAS", "CONTAINS", "STARTS_WITH", "TRUE", "FALSE", "NULL"})
COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">=", "IN", "NOT IN", "HAS", "CONTAINS", "STARTS_WITH"})
ORDERING = frozenset({"<", "<=", ">", ">="})
ARITHMETIC = frozenset({"+", "-", "*", "/", "%"})
_OPERATORS = ("==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%", "(", ")", "[", "]", ",", ".")
_WHITESPACE = " \t\r\n"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?")


@dataclass(frozen=True)
class _Token:
    kind: str  # "int", "float", "string", "name", "keyword", "op", "end"
    text: str  # as written
    span: Span

    @property
    def key(self) -> str:
        """What the parser matches: keywords upper case, anything else as written."""
        return self.text.upper() if self.kind == "keyword" else self.text


def _describe(token: _Token) -> str:
    if token.kind == "end":
        return _("end of expression")
    text = token.text if len(token.text) <= 20 else token.text[:19] + "…"
    return f"'{text}'"


def _lex(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in _WHITESPACE:
            i += 1
            continue
        if ch in "'\"":
            end = text.find(ch, i + 1)
            if end < 0:
                raise ExprSyntaxError(_("unterminated string"), Span(i, len(text)))
            tokens.append(_Token("string", text[i : end + 1], Span(i, end + 1)))
            i = end + 1
            continue
        if number := _NUMBER.match(text, i):
            end = number.end()
            if end < len(text) and (text[end].isalnum() or text[end] == "_"):
                raise ExprSyntaxError(_("unexpected character {char}", char=repr(text[end])), Span(end, end + 1))
            tokens.append(_Token("float" if number.group(1) else "int", number.group(), Span(i, end)))
            i = end
            continue
        if name := _NAME.match(text, i):
            word = name.group()
            kind = "keyword" if word.upper() in KEYWORDS else "name"
            tokens.append(_Token(kind, word, Span(i, name.end())))
            i = name.end()
            continue
        op = next((op for op in _OPERATORS if text.startswith(op, i)), None)
        if op is None:
            if ch == "=":
                message = _("'=' is not an operator: compare with '=='")
            elif ch == "!":
                message = _("'!' is not an operator: use '!=' or NOT")
            else:
                message = _("unexpected character {char}", char=repr(ch))
            raise ExprSyntaxError(message, Span(i, i + 1))
        tokens.append(_Token("op", op, Span(i, i + len(op))))
        i += len(op)
    tokens.append(_Token("end", "", Span(len(text), len(text))))
    return tokens


# ---------------------------------------------------------------------------------------------- parser


def parse(text: str) -> Expr:
    """The syntax tree of an expression; ExprSyntaxError at the offending token."""
    if len(text) > MAX_LENGTH:
        raise ExprSyntaxError(
            _("an expression may have at most {most} characters, this one has {n}", most=MAX_LENGTH, n=len(text)),
            Span(MAX_LENGTH, len(text)),
        )
    parser = _Parser(_lex(text))
    if parser.peek().kind == "end":
        raise ExprSyntaxError(_("empty expression"), Span(0, len(text)))
    expr = parser.expression()
    end = parser.peek()
    if end.kind != "end":
        raise ExprSyntaxError(_("unexpected {token}", token=_describe(end)), end.span)
    _check_depth(expr)
    return expr


def _children(expr: Expr) -> tuple[Expr, ...]:
    match expr:
        case Unary(operand=operand):
            return (operand,)
        case Binary(left=left, right=right):
            return (left, right)
        case Call(args=args):
            return args
        case ListExpr(items=items):
            return items
    return ()


def _check_depth(expr: Expr) -> None:
    """Long operator chains (`1+1+…`) nest without recursion in the parser; bound them here, iteratively,
    so that checking and evaluating never recurse deeper than MAX_DEPTH."""
    stack = [(expr, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExprSyntaxError(_("expression nested more than {most} levels deep", most=MAX_DEPTH), node.span)
        stack.extend((child, depth + 1) for child in _children(node))


class _Parser:
    """Recursive descent over the grammar of §3, one method per rule."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.nesting = 0

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def take(self) -> _Token:
        token = self.peek()
        self.pos += 1
        return token

    def expect(self, text: str) -> _Token:
        token = self.peek()
        if token.key != text or token.kind not in ("op", "keyword"):
            message = _("expected {expected}, found {token}", expected=f"'{text}'", token=_describe(token))
            raise ExprSyntaxError(message, token.span)
        return self.take()

    def enter(self, token: _Token) -> None:
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise ExprSyntaxError(_("expression nested more than {most} levels deep", most=MAX_DEPTH), token.span)

    def is_keyword(self, word: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == "keyword" and token.key == word

    def expression(self) -> Expr:
        left = self.conjunction()
        while self.is_keyword("OR"):
            self.take()
            right = self.conjunction()
            left = Binary("OR", left, right, Span(left.span.start, right.span.end))
        return left

    def conjunction(self) -> Expr:
        left = self.negation()
        while self.is_keyword("AND"):
            self.take()
            right = self.negation()
            left = Binary("AND", left, right, Span(left.span.start, right.span.end))
        return left

    def negation(self) -> Expr:
        if not self.is_keyword("NOT"):
            return self.comparison()
        token = self.take()
        self.enter(token)
        operand = self.negation()
        self.nesting -= 1
        return Unary("NOT", operand, Span(token.span.start, operand.span.end))

    def comparison(self) -> Expr:
        left = self.sum()
        token = self.peek()
        if token.kind not in ("op", "keyword"):
            return left
        if self.is_keyword("NOT"):
            after = self.peek(1)
            if not self.is_keyword("IN", 1):
                message = _("expected {expected}, found {token}", expected="IN", token=_describe(after))
                raise ExprSyntaxError(message, after.span)
            self.pos += 2
            op = "NOT IN"
        elif token.key in COMPARISONS:
            self.take()
            op = token.key
        else:
            return left
        right = self.sum()
        after = self.peek()
        if after.kind in ("op", "keyword") and (after.key in COMPARISONS or after.key == "NOT"):
            raise ExprSyntaxError(_("comparisons cannot be chained: join them with AND"), after.span)
        return Binary(op, left, right, Span(left.span.start, right.span.end))

    def sum(self) -> Expr:
        left = self.product()
        while self.peek().kind == "op" and self.peek().text in ("+", "-"):
            op = self.take().text
            right = self.product()
            left = Binary(op, left, right, Span(left.span.start, right.span.end))
        return left

    def product(self) -> Expr:
        left = self.unary()
        while self.peek().kind == "op" and self.peek().text in ("*", "/", "%"):
            op = self.take().text
            right = self.unary()
            left = Binary(op, left, right, Span(left.span.start, right.span.end))
        return left

    def unary(self) -> Expr:
        token = self.peek()
        if token.kind != "op" or token.text != "-":
            return self.primary()
        self.take()
        number = self.peek()
        if number.kind in ("int", "float"):  # a negative literal: lets -9223372036854775808 be written
            self.take()
            return Literal(_number_value(number, negative=True), Span(token.span.start, number.span.end))
        self.enter(token)
        operand = self.unary()
        self.nesting -= 1
        return Unary("-", operand, Span(token.span.start, operand.span.end))

    def primary(self) -> Expr:
        token = self.take()
        if token.kind in ("int", "float"):
            return Literal(_number_value(token, negative=False), token.span)
        if token.kind == "string":
            return Literal(token.text[1:-1], token.span)
        if token.kind == "keyword" and token.key in ("TRUE", "FALSE", "NULL"):
            return Literal({"TRUE": True, "FALSE": False, "NULL": None}[token.key], token.span)
        if token.kind == "name":
            if self.peek().kind == "op" and self.peek().text == "(":
                return self.call(token)
            return self.path(token)
        if token.kind == "op" and token.text == "(":
            self.enter(token)
            inner = self.expression()
            close = self.expect(")")
            self.nesting -= 1
            return replace(inner, span=Span(token.span.start, close.span.end))  # the span takes the parentheses
        if token.kind == "op" and token.text == "[":
            return self.list_literal(token)
        if token.kind == "end":
            raise ExprSyntaxError(_("unexpected end of expression"), token.span)
        raise ExprSyntaxError(_("expected an expression, found {token}", token=_describe(token)), token.span)

    def items(self, close: str) -> list[Expr]:
        """Comma-separated expressions up to `close` (already past the opening bracket)."""
        items: list[Expr] = []
        if self.peek().kind == "op" and self.peek().text == close:
            self.take()
            return items
        while True:
            if len(items) == MAX_LIST_ITEMS:
                raise ExprSyntaxError(_("a list may have at most {most} items", most=MAX_LIST_ITEMS), self.peek().span)
            items.append(self.expression())
            token = self.peek()
            if token.kind == "op" and token.text == ",":
                self.take()
                continue
            self.expect(close)
            return items

    def call(self, name: _Token) -> Expr:
        self.enter(self.take())
        args = self.items(")")
        self.nesting -= 1
        return Call(name.text, tuple(args), Span(name.span.start, self.tokens[self.pos - 1].span.end))

    def list_literal(self, bracket: _Token) -> Expr:
        self.enter(bracket)
        items = self.items("]")
        self.nesting -= 1
        return ListExpr(tuple(items), Span(bracket.span.start, self.tokens[self.pos - 1].span.end))

    def path(self, first: _Token) -> Expr:
        parts: list[str | int] = [first.text]
        spans = [first.span]
        while self.peek().kind == "op" and self.peek().text in (".", "["):
            if self.take().text == ".":
                token = self.take()
                if token.kind not in ("name", "keyword"):
                    raise ExprSyntaxError(_("expected a field name, found {token}", token=_describe(token)), token.span)
                parts.append(token.text)
                spans.append(token.span)
            else:
                token = self.take()
                if token.kind != "int":
                    raise ExprSyntaxError(_("expected an index, found {token}", token=_describe(token)), token.span)
                parts.append(int(token.text))
                spans.append(token.span)
                self.expect("]")
        return Path(tuple(parts), Span(first.span.start, self.tokens[self.pos - 1].span.end), tuple(spans))


def _number_value(token: _Token, *, negative: bool) -> int | float:
    if token.kind == "float":
        value = float(token.text)
        if not math.isfinite(value):
            raise ExprSyntaxError(_("number {number} is too large", number=token.text), token.span)
        return -value if negative else value
    number = -int(token.text) if negative else int(token.text)
    if not INT_MIN <= number <= INT_MAX:
        raise ExprSyntaxError(_("integer {number} does not fit in 64 bits", number=token.text), token.span)
    return number


# ---------------------------------------------------------------------------------------------- values


def _type_of(value: Any) -> str:
    """The language's name for a runtime value's type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "list"
    return "object"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def to_text(value: Any) -> str:
    """`str()` of a value: `null` → "", bools `true`/`false`, floats as the shortest decimal that reads back
    as the same number, without exponent and with at least one decimal (`2.0`, `0.1`, `100000000000000000000.0`;
    `inf`, `-inf`, `nan`), lists as their items' texts joined by ", "."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if not math.isfinite(value):
            return repr(value)
        text = format(Decimal(repr(value)), "f")
        return text if "." in text else text + ".0"
    if isinstance(value, list | tuple):
        return ", ".join(to_text(item) for item in value)
    return str(value)


def _equal(a: Any, b: Any) -> bool:
    """`==`: no coercion, except that ints and floats compare by value."""
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    if _type_of(a) != _type_of(b):
        return False
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


# ---------------------------------------------------------------------------------------------- namespaces

# Field types per namespace (§3). "object" is an untyped map (`attributes.<k>` → any); "object:int" a map
# whose values are ints (`agent.skills.<s>`).
NAMESPACES: Mapping[str, Mapping[str, str]] = {
    "contact": {
        "id": "int",
        "initial_id": "int",
        "previous_id": "int",
        "channel": "string",
        "ani": "string",
        "dnis": "string",
        "language": "string",
        "initiation_method": "string",
        "priority": "int",
        "queue": "string",
        "reason": "string",
        "segment": "string",
        "self_service": "bool",
        "attributes": "object",
    },
    "customer": {
        "id": "int",
        "name": "string",
        "segment": "string",
        "value_tier": "string",
        "lifecycle_stage": "string",
        "lifetime_value": "float",
        "owner": "int",
        "open_cases": "int",
        "attributes": "object",
    },
    "flow": {"steps": "int", "elapsed_s": "float"},
    "now": {"tod": "int", "hour": "int", "minute": "int", "dow": "int", "doy": "int", "date": "string"},
    "agent": {
        "id": "int",
        "skills": "object:int",
        "languages": "list",
        "attributes": "object",
        "idle_s": "float",
        "occupancy": "float",
    },
}
SCALARS = {"digits": "string", "value": "string"}  # namespaces that are a value themselves
VARIABLE_TYPES = frozenset({"string", "int", "float", "bool"})


# ---------------------------------------------------------------------------------------------- functions


@dataclass(frozen=True)
class FunctionSpec:
    """A function's arity and types. `params[i]` is the accepted type of argument i: a type name, several
    joined by `|`, `number` for int or float, `any`, and a trailing `?` when `null` is accepted. A variadic
    function (`max_args` None) takes its last param's type for every further argument."""

    params: tuple[str, ...]
    min_args: int
    max_args: int | None
    result: str

    def param(self, index: int) -> str:
        return self.params[min(index, len(self.params) - 1)] if self.params else "any"


FUNCTIONS: Mapping[str, FunctionSpec] = {
    "queue_size": FunctionSpec(("string", "int?"), 1, 2, "int"),
    "oldest_wait": FunctionSpec(("string", "int?"), 1, 2, "float"),
    "agents_staffed": FunctionSpec(("string",), 1, 1, "int"),
    "agents_available": FunctionSpec(("string",), 1, 1, "int"),
    "agents_online": FunctionSpec(("string",), 1, 1, "int"),
    "ewt": FunctionSpec(("string", "int"), 1, 2, "float"),
    "rolling_asa": FunctionSpec(("string",), 1, 1, "float"),
    "my_ewt": FunctionSpec((), 0, 0, "float"),
    "in_queue": FunctionSpec(("string?",), 0, 1, "bool"),
    "time_in_queue": FunctionSpec(("string",), 1, 1, "float"),
    "position": FunctionSpec(("string",), 1, 1, "int"),
    "in_hours": FunctionSpec(("string",), 1, 1, "bool"),
    "is_holiday": FunctionSpec(("string",), 1, 1, "bool"),
    "min_ewt_queue": FunctionSpec(("list",), 1, 1, "string"),
    "percent_bucket": FunctionSpec((), 0, 0, "int"),
    "len": FunctionSpec(("string|list?",), 1, 1, "int"),
    "substr": FunctionSpec(("string?", "int", "int"), 2, 3, "string"),
    "concat": FunctionSpec(("any",), 0, None, "string"),
    "int": FunctionSpec(("number|string?",), 1, 1, "int"),
    "str": FunctionSpec(("any",), 1, 1, "string"),
    "lower": FunctionSpec(("string?",), 1, 1, "string"),
    "upper": FunctionSpec(("string?",), 1, 1, "string"),
    "coalesce": FunctionSpec(("any",), 1, None, "any"),
    "spell": FunctionSpec(("string?",), 1, 1, "string"),
}


def _accepts(param: str, actual: str) -> bool:
    """Whether an argument of type `actual` fits `param` (FunctionSpec notation)."""
    if actual == "any" or param.startswith("any"):
        return True
    if actual == "null":
        return param.endswith("?")
    options = set(param.rstrip("?").split("|"))
    if "number" in options:
        options |= {"int", "float"}
    return actual in options


def _arity_message(name: str, spec: FunctionSpec, given: int) -> str | None:
    if spec.min_args <= given and (spec.max_args is None or given <= spec.max_args):
        return None
    if spec.max_args is None:
        return ngettext(
            "{name}() takes at least {n} argument, not {given}",
            "{name}() takes at least {n} arguments, not {given}",
            spec.min_args,
            name=name,
            given=given,
        )
    if spec.min_args == spec.max_args:
        return ngettext(
            "{name}() takes {n} argument, not {given}",
            "{name}() takes {n} arguments, not {given}",
            spec.min_args,
            name=name,
            given=given,
        )
    low, high = spec.min_args, spec.max_args
    return _("{name}() takes {low} to {high} arguments, not {given}", name=name, low=low, high=high, given=given)


def _argument_message(name: str, index: int, param: str, actual: str) -> str:
    return _(
        "argument {n} of {name}() must be {expected}, not {type}",
        n=index + 1,
        name=name,
        expected=param.rstrip("?"),
        type=actual,
    )


# ---------------------------------------------------------------------------------------------- static checks


@dataclass(frozen=True)
class Problem:
    message: str
    span: Span
    warning: bool = False


@dataclass(frozen=True)
class Scope:
    """What an expression may see where it stands."""

    variables: Mapping[str, str]  # declared variables: name → "string" | "int" | "float" | "bool"
    agent: bool = False  # inside queue steps[].require
    value: bool = False  # inside collect.valid


def check(expr: Expr, scope: Scope) -> list[Problem]:
    """Every static problem of an expression (§4 point 4), in source order; never raises."""
    checker = _Checker(scope)
    checker.infer(expr)
    return sorted(checker.problems, key=lambda p: (p.span.start, p.span.end))


def static_type(expr: Expr, scope: Scope) -> str:
    """The type of an expression's non-null values: "int", "float", "string", "bool", "list", "null" (the
    literal) or "any" (unknown: untyped attributes, or an expression with errors)."""
    return _Checker(scope).infer(expr)


def _part_span(path: Path, index: int) -> Span:
    return path.part_spans[index] if index < len(path.part_spans) else path.span


class _Checker:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.problems: list[Problem] = []

    def error(self, message: str, span: Span) -> str:
        self.problems.append(Problem(message, span))
        return "any"

    def warn(self, message: str, span: Span) -> None:
        self.problems.append(Problem(message, span, warning=True))

    def infer(self, expr: Expr) -> str:
        match expr:
            case Literal(value=value):
                return _type_of(value)
            case Path():
                return self.path(expr)
            case ListExpr(items=items):
                for item in items:
                    self.infer(item)
                return "list"
            case Call():
                return self.call(expr)
            case Unary():
                return self.unary(expr)
            case Binary():
                return self.binary(expr)
        return "any"

    def path(self, path: Path) -> str:
        head, rest = path.parts[0], path.parts[1:]
        if not isinstance(head, str):
            return self.error(_("unknown namespace {name}", name=head), _part_span(path, 0))
        if head in SCALARS:
            if head == "value" and not self.scope.value:
                return self.error(_("value is only available in collect.valid"), _part_span(path, 0))
            return self.walk(path, SCALARS[head], 1)
        if head == "vars":
            if not rest:
                return self.error(_("{name} needs a field", name=head), path.span)
            name = rest[0]
            if not isinstance(name, str) or name not in self.scope.variables:
                return self.error(_("variable {name} is not declared", name=name), _part_span(path, 1))
            declared = self.scope.variables[name]
            return self.walk(path, declared if declared in VARIABLE_TYPES else "any", 2)
        fields = NAMESPACES.get(head)
        if fields is None:
            return self.error(_("unknown namespace {name}", name=head), _part_span(path, 0))
        if head == "agent" and not self.scope.agent:
            return self.error(_("agent.* is only available in steps[].require"), _part_span(path, 0))
        if not rest:
            return self.error(_("{name} needs a field", name=head), path.span)
        name = rest[0]
        if not isinstance(name, str) or name not in fields:
            return self.error(_("{namespace} has no field {field}", namespace=head, field=name), _part_span(path, 1))
        kind = fields[name]
        if kind.startswith("object"):
            if len(rest) == 1:
                return self.error(_("{name} needs a key", name=f"{head}.{name}"), path.span)
            if kind == "object:int":
                return self.walk(path, "int", 3)
            return "any"
        return self.walk(path, kind, 2)

    def walk(self, path: Path, kind: str, index: int) -> str:
        """The type after path.parts[index:], starting from `kind`."""
        for i in range(index, len(path.parts)):
            part = path.parts[i]
            if kind == "any":
                return "any"
            if kind == "list" and isinstance(part, int):
                kind = "any"
            elif isinstance(part, int):
                return self.error(_("{type} cannot be indexed", type=kind), _part_span(path, i))
            else:
                return self.error(_("{type} has no fields", type=kind), _part_span(path, i))
        return kind

    def call(self, call: Call) -> str:
        types = [self.infer(arg) for arg in call.args]
        spec = FUNCTIONS.get(call.name)
        if spec is None:
            return self.error(_("unknown function {name}()", name=call.name), call.name_span)
        if (message := _arity_message(call.name, spec, len(call.args))) is not None:
            self.error(message, call.span)
        else:
            for i, (arg, actual) in enumerate(zip(call.args, types, strict=True)):
                if not _accepts(spec.param(i), actual):
                    self.error(_argument_message(call.name, i, spec.param(i), actual), arg.span)
        if call.name == "coalesce":
            known = {t for t in types if t != "null"}
            return known.pop() if len(known) == 1 else "any"
        return spec.result

    def numeric(self, op: str, operand: Expr, kind: str) -> bool:
        if kind == "null":
            self.error(_("arithmetic on null is an error"), operand.span)
        elif kind not in ("any", "int", "float"):
            self.error(_("{op} needs numbers, not {type}", op=op, type=kind), operand.span)
        else:
            return True
        return False

    def boolean(self, op: str, operand: Expr, kind: str) -> None:
        if kind not in ("any", "bool", "null"):
            self.error(_("{op} needs bools, not {type}", op=op, type=kind), operand.span)

    def unary(self, expr: Unary) -> str:
        kind = self.infer(expr.operand)
        if expr.op == "NOT":
            self.boolean("NOT", expr.operand, kind)
            return "bool"
        return kind if self.numeric(expr.op, expr.operand, kind) else "any"

    def binary(self, expr: Binary) -> str:
        op, left, right = expr.op, self.infer(expr.left), self.infer(expr.right)
        if op in ("AND", "OR"):
            self.boolean(op, expr.left, left)
            self.boolean(op, expr.right, right)
            return "bool"
        if op in ARITHMETIC:
            ok = self.numeric(op, expr.left, left) & self.numeric(op, expr.right, right)
            if not ok or "any" in (left, right):
                return "float" if ok and op == "/" else "any"
            return "int" if left == right == "int" and op != "/" else "float"
        if op in ("==", "!="):
            known = "any" not in (left, right) and "null" not in (left, right)
            if known and left != right and not {left, right} <= {"int", "float"}:
                self.warn(_("{left} and {right} are never equal", left=left, right=right), expr.span)
        elif op in ORDERING:
            self.ordering(expr, left, right)
        else:
            self.membership(expr, left, right)
        return "bool"

    def ordering(self, expr: Binary, left: str, right: str) -> None:
        if "null" in (left, right):
            self.warn(_("ordering with null is always false"), expr.span)
            return
        for operand, kind in ((expr.left, left), (expr.right, right)):
            if kind in ("bool", "list"):
                self.error(_("{op} needs numbers or strings, not {type}", op=expr.op, type=kind), operand.span)
                return
        if "any" not in (left, right) and {left, right} not in ({"string"}, {"int"}, {"float"}, {"int", "float"}):
            self.error(_("cannot compare {left} with {right}", left=left, right=right), expr.span)

    def membership(self, expr: Binary, left: str, right: str) -> None:
        op = expr.op
        if op in ("IN", "NOT IN") and right not in ("any", "null", "list"):
            self.error(_("{op} needs a list, not {type}", op=op, type=right), expr.right.span)
        elif op == "HAS" and left not in ("any", "null", "list"):
            self.error(_("{op} needs a list, not {type}", op=op, type=left), expr.left.span)
        elif op == "CONTAINS":
            if left not in ("any", "null", "list", "string"):
                self.error(_("{op} needs a string or a list, not {type}", op=op, type=left), expr.left.span)
            elif left == "string" and right not in ("any", "null", "string"):
                self.error(_("{op} needs strings, not {type}", op=op, type=right), expr.right.span)
        elif op == "STARTS_WITH":
            for operand, kind in ((expr.left, left), (expr.right, right)):
                if kind not in ("any", "null", "string"):
                    self.error(_("{op} needs strings, not {type}", op=op, type=kind), operand.span)


# ---------------------------------------------------------------------------------------------- evaluation


class EvalError(Exception):
    """An expression that fails at run time; `span` is the sub-expression at fault, when known."""

    def __init__(self, message: str, span: Span | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.span = span


class Stats(Protocol):
    """Live figures for the statistics functions of §3, read at evaluation time. An unknown queue or
    schedule raises KeyError."""

    def queue_size(self, queue: str, min_priority: int | None) -> int: ...
    def oldest_wait(self, queue: str, min_priority: int | None) -> float: ...
    def agents_staffed(self, queue: str) -> int: ...
    def agents_available(self, queue: str) -> int: ...
    def agents_online(self, queue: str) -> int: ...
    def ewt(self, queue: str, priority: int) -> float: ...
    def rolling_asa(self, queue: str) -> float | None: ...
    def my_ewt(self) -> float: ...
    def in_queue(self, queue: str | None) -> bool: ...
    def time_in_queue(self, queue: str) -> float | None: ...
    def position(self, queue: str) -> int | None: ...
    def in_hours(self, schedule: str) -> bool: ...
    def is_holiday(self, schedule: str) -> bool: ...


@dataclass(frozen=True)
class Context:
    """What an expression reads. `contact`, `customer` and `agent` map the fields of §3 (with `attributes`
    a map); `now` is an aware datetime already in the flow's time zone; `node_id` is the running node
    (for `percent_bucket()`); `agent` and `value` are None where they are not available."""

    contact: Mapping[str, Any]
    now: datetime
    stats: Stats
    node_id: str = ""
    customer: Mapping[str, Any] | None = None
    vars: Mapping[str, Any] = field(default_factory=dict)
    digits: str | None = None
    flow_steps: int = 0
    flow_elapsed_s: float = 0.0
    agent: Mapping[str, Any] | None = None
    value: str | None = None


def _now_fields(now: datetime) -> dict[str, Any]:
    return {
        "tod": now.hour * 100 + now.minute,
        "hour": now.hour,
        "minute": now.minute,
        "dow": now.isoweekday(),
        "doy": now.timetuple().tm_yday,
        "date": now.date().isoformat(),
    }


def evaluate(expr: Expr, ctx: Context) -> Any:
    """The value of an expression: None, bool, int, float, str or list. Raises EvalError."""
    match expr:
        case Literal(value=value):
            return value
        case ListExpr(items=items):
            return [evaluate(item, ctx) for item in items]
        case Path():
            return _lookup(expr, ctx)
        case Call():
            return _call(expr, ctx)
        case Unary(op="NOT", operand=operand):
            return not _truth("NOT", operand, ctx)
        case Unary(operand=operand):
            value = evaluate(operand, ctx)
            _require_number(expr.op, operand, value)
            return _int_result(-value, expr.span) if isinstance(value, int) else -value
        case Binary(op="AND", left=left, right=right):
            return _truth("AND", left, ctx) and _truth("AND", right, ctx)
        case Binary(op="OR", left=left, right=right):
            return _truth("OR", left, ctx) or _truth("OR", right, ctx)
        case Binary():
            return _binary(expr, evaluate(expr.left, ctx), evaluate(expr.right, ctx))
    raise EvalError(_("not an expression"))


_ROOTS: dict[str, Callable[[Context], Any]] = {
    "contact": lambda ctx: ctx.contact,
    "customer": lambda ctx: ctx.customer,
    "vars": lambda ctx: ctx.vars,
    "digits": lambda ctx: ctx.digits,
    "value": lambda ctx: ctx.value,
    "flow": lambda ctx: {"steps": ctx.flow_steps, "elapsed_s": ctx.flow_elapsed_s},
    "now": lambda ctx: _now_fields(ctx.now),
    "agent": lambda ctx: ctx.agent,
}


def _lookup(path: Path, ctx: Context) -> Any:
    head = path.parts[0]
    root = _ROOTS.get(head) if isinstance(head, str) else None
    if root is None:
        raise EvalError(_("unknown namespace {name}", name=head), _part_span(path, 0))
    if head == "agent" and ctx.agent is None:
        raise EvalError(_("agent.* is only available in steps[].require"), _part_span(path, 0))
    current = root(ctx)  # only the namespace asked for is built (now.* fields are not free)
    for i, part in enumerate(path.parts[1:], start=1):
        if current is None:
            return None  # a path through null is null
        if isinstance(part, str) and isinstance(current, Mapping):
            current = current.get(part)
        elif isinstance(part, int) and isinstance(current, list | tuple):
            current = current[part] if part < len(current) else None
        elif isinstance(part, int):
            raise EvalError(_("{type} cannot be indexed", type=_type_of(current)), _part_span(path, i))
        else:
            raise EvalError(_("{type} has no fields", type=_type_of(current)), _part_span(path, i))
    if isinstance(current, Mapping):
        raise EvalError(_("{name} needs a field", name=".".join(map(str, path.parts))), path.span)
    return list(current) if isinstance(current, tuple) else current


def _truth(op: str, operand: Expr, ctx: Context) -> bool:
    value = evaluate(operand, ctx)
    if value is None or isinstance(value, bool):
        return bool(value)
    raise EvalError(_("{op} needs bools, not {type}", op=op, type=_type_of(value)), operand.span)


def _require_number(op: str, operand: Expr, value: Any) -> None:
    if value is None:
        raise EvalError(_("arithmetic on null is an error"), operand.span)
    if not _is_number(value):
        raise EvalError(_("{op} needs numbers, not {type}", op=op, type=_type_of(value)), operand.span)


def _int_result(value: int, span: Span) -> int:
    if not INT_MIN <= value <= INT_MAX:
        raise EvalError(_("integer result out of 64-bit range"), span)
    return value


def _arithmetic(expr: Binary, a: Any, b: Any) -> int | float:
    _require_number(expr.op, expr.left, a)
    _require_number(expr.op, expr.right, b)
    op = expr.op
    if op in ("/", "%") and b == 0:
        raise EvalError(_("division by zero"), expr.right.span)
    result: int | float
    if op == "+":
        result = a + b
    elif op == "-":
        result = a - b
    elif op == "*":
        result = a * b
    elif op == "/":
        result = a / b
    else:
        result = a % b
    return _int_result(result, expr.span) if isinstance(result, int) else result


def _order(expr: Binary, a: Any, b: Any) -> bool:
    if a is None or b is None:
        return False
    if not ((_is_number(a) and _is_number(b)) or (isinstance(a, str) and isinstance(b, str))):
        raise EvalError(_("cannot compare {left} with {right}", left=_type_of(a), right=_type_of(b)), expr.span)
    compare: dict[str, Callable[[Any, Any], bool]] = {
        "<": lambda x, y: x < y,
        "<=": lambda x, y: x <= y,
        ">": lambda x, y: x > y,
        ">=": lambda x, y: x >= y,
    }
    return compare[expr.op](a, b)


def _member(op: str, item: Any, items: Any, span: Span) -> bool:
    if items is None:
        return False
    if not isinstance(items, list | tuple):
        raise EvalError(_("{op} needs a list, not {type}", op=op, type=_type_of(items)), span)
    return any(_equal(item, x) for x in items)


def _binary(expr: Binary, a: Any, b: Any) -> Any:
    op = expr.op
    if op in ARITHMETIC:
        return _arithmetic(expr, a, b)
    if op == "==":
        return _equal(a, b)
    if op == "!=":
        return not _equal(a, b)
    if op in ORDERING:
        return _order(expr, a, b)
    if op == "IN":
        return _member(op, a, b, expr.right.span)
    if op == "NOT IN":
        return b is not None and not _member(op, a, b, expr.right.span)
    if op == "HAS":
        return _member(op, b, a, expr.left.span)
    if a is None or b is None:
        return False
    if op == "CONTAINS":
        if isinstance(a, list | tuple):
            return _member(op, b, a, expr.left.span)
        if not isinstance(a, str):
            raise EvalError(_("{op} needs a string or a list, not {type}", op=op, type=_type_of(a)), expr.left.span)
        if not isinstance(b, str):
            raise EvalError(_("{op} needs strings, not {type}", op=op, type=_type_of(b)), expr.right.span)
        return b in a
    # STARTS_WITH
    for operand, value in ((expr.left, a), (expr.right, b)):
        if not isinstance(value, str):
            raise EvalError(_("{op} needs strings, not {type}", op=op, type=_type_of(value)), operand.span)
    return bool(a.startswith(b))


# ---------------------------------------------------------------------------------------------- functions at run time

_Impl = Callable[[Context, list[Any]], Any]


def _stat(kind: str, name: Any, read: Callable[[], Any]) -> Any:
    """Reads a figure; the stats raise KeyError for an unknown queue or schedule."""
    try:
        return read()
    except KeyError:
        if kind == "schedule":
            raise EvalError(_("unknown schedule {name}", name=name)) from None
        raise EvalError(_("unknown queue {name}", name=name)) from None


def _optional(args: list[Any], index: int) -> Any:
    return args[index] if index < len(args) else None


def _min_ewt_queue(ctx: Context, args: list[Any]) -> str:
    queues = args[0]
    if not queues:
        raise EvalError(_("min_ewt_queue() needs at least one queue"))
    best: str | None = None
    best_ewt = math.inf
    priority = ctx.contact.get("priority") or 0
    for queue in queues:
        if not isinstance(queue, str):
            raise EvalError(
                _(
                    "argument {n} of {name}() must be {expected}, not {type}",
                    n=1,
                    name="min_ewt_queue",
                    expected="list of strings",
                    type=_type_of(queue),
                )
            )
        wait = float(_stat("queue", queue, partial(ctx.stats.ewt, queue, priority)))
        if best is None or wait < best_ewt:  # ties: the first listed
            best, best_ewt = queue, wait
    assert best is not None
    return best


@dataclass(frozen=True)
class AgentRequirement:
    """A `steps[].require` as the routing engine takes it: every listed skill at least at its level, and
    (when `agent_ids` is not None) one of those agents; `agent_ids` empty: no agent meets it."""

    min_skills: tuple[tuple[str, int], ...] = ()
    agent_ids: tuple[int, ...] | None = None


_FLIP = {">=": "<=", "<=": ">=", ">": "<", "<": ">", "==": "==", "=": "="}


def requirement(expr: Expr, ctx: Context) -> AgentRequirement | None:
    """`require` evaluated for the contact now, as a routing requirement: an AND of `agent.skills.<s>`
    compared with a number (`>=`, `>`, `==`), `agent.id` equal to or `IN` a value, and terms without
    `agent.*` (evaluated now: true drops out, false or an error means no agent meets the step). None for
    any other shape (`OR`, `NOT`, other `agent.*` fields): the routing engine cannot take it."""
    skills: dict[str, int] = {}
    ids: set[int] | None = None
    never = False
    terms: list[Expr] = []
    stack = [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, Binary) and e.op == "AND":
            stack += [e.right, e.left]
        else:
            terms.append(e)
    for term in terms:
        if not _mentions_agent(term):
            try:
                never = never or evaluate(term, ctx) is not True
            except EvalError:
                never = True
            continue
        if not isinstance(term, Binary):
            return None
        op, agent_side, other = term.op, term.left, term.right
        if _is_agent_path(other) and not _is_agent_path(agent_side):
            agent_side, other, op = other, agent_side, _FLIP.get(op, "")
        if not _is_agent_path(agent_side) or _mentions_agent(other):
            return None
        assert isinstance(agent_side, Path)
        try:
            value = evaluate(other, ctx)
        except EvalError:
            never = True
            continue
        parts = agent_side.parts
        if parts == ("agent", "id") and op in ("==", "=", "IN"):
            values = value if op == "IN" and isinstance(value, list) else [value]
            wanted = {v for v in values if isinstance(v, int) and not isinstance(v, bool)}
            ids = wanted if ids is None else ids & wanted
        elif len(parts) == 3 and parts[:2] == ("agent", "skills") and isinstance(parts[2], str):
            if not _is_number(value) or op not in (">=", ">", "==", "="):
                return None
            level = math.ceil(value) if op in (">=", "==", "=") else math.floor(value) + 1
            if op in ("==", "=") and level != value:
                never = True
            skills[parts[2]] = max(skills.get(parts[2], 0), int(level))
        else:
            return None
    if never:
        return AgentRequirement(tuple(sorted(skills.items())), ())
    return AgentRequirement(tuple(sorted(skills.items())), tuple(sorted(ids)) if ids is not None else None)


def _is_agent_path(expr: Expr) -> bool:
    return isinstance(expr, Path) and expr.parts[0] == "agent"


def _mentions_agent(expr: Expr) -> bool:
    if _is_agent_path(expr):
        return True
    return any(_mentions_agent(child) for child in _children(expr))


def percent_bucket(contact_id: object, node_id: str) -> int:
    """0..99: SHA-256 of "<contact id>:<node id>", first 8 bytes as a big-endian integer, mod 100."""
    digest = hashlib.sha256(f"{to_text(contact_id)}:{node_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100


def spell(text: str, channel: str | None) -> str:
    """On voice, a reference to be read character by character: every character apart, separated by one
    space, and each run of `-` or whitespace in the text a pause, written ", " (a comma is a short pause
    to a speech synthesiser): `spell("K7M-42Q")` → "K 7 M, 4 2 Q". Pauses at either end are dropped.
    On any other channel the text as it is."""
    if channel != "voice":
        return text
    groups = [group for group in re.split(r"[-\s]+", text) if group]
    return ", ".join(" ".join(group) for group in groups)


def _to_int(value: Any) -> int | None:
    """`int()`: ints as they are, floats and decimal strings truncated toward zero."""
    if value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise EvalError(_("cannot convert {value} to an integer", value=to_text(value)))
        return _int_result(int(value), Span(0, 0))
    text = value.strip()
    if not re.fullmatch(r"[+-]?[0-9]+(\.[0-9]*)?", text):
        raise EvalError(_("cannot convert {value} to an integer", value=repr(value[:40])))
    whole = text.split(".")[0]
    if len(whole) > 20:
        raise EvalError(_("integer result out of 64-bit range"))
    return _int_result(int(whole), Span(0, 0))


def _substr(args: list[Any]) -> str | None:
    text, start, length = args[0], args[1], _optional(args, 2)
    if text is None:
        return None
    if start < 0 or (length is not None and length < 0):
        raise EvalError(_("substr() needs a start and a length of 0 or more"))
    return str(text[start:] if length is None else text[start : start + length])


def _nullable(function: Callable[[Any], Any]) -> _Impl:
    """A one-argument utility whose value of null is null."""
    return lambda ctx, args: None if args[0] is None else function(args[0])


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


_IMPLEMENTATIONS: Mapping[str, _Impl] = {
    "queue_size": lambda ctx, a: _stat("queue", a[0], lambda: ctx.stats.queue_size(a[0], _optional(a, 1))),
    "oldest_wait": lambda ctx, a: float(_stat("queue", a[0], lambda: ctx.stats.oldest_wait(a[0], _optional(a, 1)))),
    "agents_staffed": lambda ctx, a: _stat("queue", a[0], lambda: ctx.stats.agents_staffed(a[0])),
    "agents_available": lambda ctx, a: _stat("queue", a[0], lambda: ctx.stats.agents_available(a[0])),
    "agents_online": lambda ctx, a: _stat("queue", a[0], lambda: ctx.stats.agents_online(a[0])),
    "ewt": lambda ctx, a: float(
        _stat(
            "queue",
            a[0],
            lambda: ctx.stats.ewt(a[0], a[1] if len(a) > 1 else (ctx.contact.get("priority") or 0)),
        )
    ),
    "rolling_asa": lambda ctx, a: _float_or_none(_stat("queue", a[0], lambda: ctx.stats.rolling_asa(a[0]))),
    "my_ewt": lambda ctx, a: float(ctx.stats.my_ewt()),
    "in_queue": lambda ctx, a: _stat("queue", _optional(a, 0), lambda: ctx.stats.in_queue(_optional(a, 0))),
    "time_in_queue": lambda ctx, a: _float_or_none(_stat("queue", a[0], lambda: ctx.stats.time_in_queue(a[0]))),
    "position": lambda ctx, a: _stat("queue", a[0], lambda: ctx.stats.position(a[0])),
    "in_hours": lambda ctx, a: _stat("schedule", a[0], lambda: ctx.stats.in_hours(a[0])),
    "is_holiday": lambda ctx, a: _stat("schedule", a[0], lambda: ctx.stats.is_holiday(a[0])),
    "min_ewt_queue": _min_ewt_queue,
    "percent_bucket": lambda ctx, a: percent_bucket(ctx.contact.get("id"), ctx.node_id),
    "len": _nullable(len),
    "substr": lambda ctx, a: _substr(a),
    "concat": lambda ctx, a: "".join(to_text(x) for x in a),
    "int": lambda ctx, a: _to_int(a[0]),
    "str": lambda ctx, a: to_text(a[0]),
    "lower": _nullable(str.lower),
    "upper": _nullable(str.upper),
    "coalesce": lambda ctx, a: next((x for x in a if x is not None), None),
    "spell": lambda ctx, a: None if a[0] is None else spell(a[0], ctx.contact.get("channel")),
}


def _call(call: Call, ctx: Context) -> Any:
    spec = FUNCTIONS.get(call.name)
    if spec is None:
        raise EvalError(_("unknown function {name}()", name=call.name), call.name_span)
    if (message := _arity_message(call.name, spec, len(call.args))) is not None:
        raise EvalError(message, call.span)
    args = [evaluate(arg, ctx) for arg in call.args]
    for i, (arg, value) in enumerate(zip(call.args, args, strict=True)):
        if not _accepts(spec.param(i), _type_of(value)):
            raise EvalError(_argument_message(call.name, i, spec.param(i), _type_of(value)), arg.span)
    try:
        return _IMPLEMENTATIONS[call.name](ctx, args)
    except EvalError as error:
        raise EvalError(error.message, error.span or call.span) from None


# ---------------------------------------------------------------------------------------------- prompts

_OPEN, _CLOSE = "{{", "}}"


def prompt_expressions(text: str) -> list[tuple[int, str]]:
    """The `{{expr}}` of a prompt as (offset of the expression in `text`, expression source), for static
    checks (add the offset to a Problem's span). A `{{` without `}}` raises ExprSyntaxError."""
    found: list[tuple[int, str]] = []
    start = text.find(_OPEN)
    while start >= 0:
        end = text.find(_CLOSE, start + len(_OPEN))
        if end < 0:
            raise ExprSyntaxError(_("'{{' without a closing '}}'"), Span(start, start + len(_OPEN)))
        found.append((start + len(_OPEN), text[start + len(_OPEN) : end]))
        start = text.find(_OPEN, end + len(_CLOSE))
    return found


@dataclass(frozen=True)
class _Piece:
    """A prompt cut at its `{{expr}}`: the text before one, then the expression (or why it does not parse)."""

    before: str
    offset: int
    expr: Expr | None
    error: ExprSyntaxError | None


@lru_cache(maxsize=4096)
def _prompt_pieces(text: str) -> tuple[tuple[_Piece, ...], str] | ExprSyntaxError:
    """A prompt parsed once (a flow says the same prompts again and again): its pieces and the text after
    the last expression, or the error of an unclosed `{{`."""
    try:
        found = prompt_expressions(text)
    except ExprSyntaxError as error:
        return error
    pieces: list[_Piece] = []
    position = 0
    for offset, source in found:
        before = text[position : offset - len(_OPEN)]
        try:
            pieces.append(_Piece(before, offset, parse(source), None))
        except ExprSyntaxError as error:
            pieces.append(_Piece(before, offset, None, error))
        position = offset + len(source) + len(_CLOSE)
    return tuple(pieces), text[position:]


def render_prompt(text: str, ctx: Context) -> str:
    """A prompt with each `{{expr}}` replaced by `str()` of its value (`null` as empty text). Raises
    EvalError when an expression does not parse or fails (the node's `error` outcome), its span in `text`."""
    parsed = _prompt_pieces(text)
    if isinstance(parsed, ExprSyntaxError):
        raise EvalError(parsed.message, parsed.span)
    pieces, tail = parsed
    out: list[str] = []
    for piece in pieces:
        out.append(piece.before)
        offset = piece.offset
        if piece.error is not None:
            error = piece.error
            raise EvalError(error.message, Span(offset + error.span.start, offset + error.span.end))
        assert piece.expr is not None
        try:
            value = evaluate(piece.expr, ctx)
        except EvalError as error:
            span = None if error.span is None else Span(offset + error.span.start, offset + error.span.end)
            raise EvalError(error.message, span) from None
        out.append(to_text(value))
    out.append(tail)
    return "".join(out)
