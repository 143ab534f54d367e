"""The expression language of flowlang 1 (flows-and-routing.md §3, §4 point 4): parsing, static checks,
evaluation and prompts."""

from __future__ import annotations

import ast
import hashlib
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path as FilePath
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from centralita.core.i18n import using
from centralita.flows import expressions
from centralita.flows.expressions import (
    FUNCTIONS,
    AgentRequirement,
    Binary,
    Call,
    Context,
    EvalError,
    Expr,
    ExprSyntaxError,
    ListExpr,
    Literal,
    Path,
    Problem,
    Scope,
    Span,
    Unary,
    check,
    evaluate,
    parse,
    prompt_expressions,
    render_prompt,
    requirement,
    static_type,
    to_text,
)

# ---------------------------------------------------------------------------------------------- helpers


def shape(expr: Expr) -> object:
    """A compact, span-free rendering of a tree: ("op", left, right), ("call", name, args…), paths dotted."""
    match expr:
        case Literal(value=value):
            return value
        case Path(parts=parts):
            return ".".join(str(p) for p in parts)
        case Call(name=name, args=args):
            return ("call", name, *(shape(a) for a in args))
        case Unary(op=op, operand=operand):
            return (op, shape(operand))
        case Binary(op=op, left=left, right=right):
            return (op, shape(left), shape(right))
        case ListExpr(items=items):
            return [shape(i) for i in items]
    raise AssertionError(expr)


def syntax_error(text: str) -> ExprSyntaxError:
    with pytest.raises(ExprSyntaxError) as caught:
        parse(text)
    return caught.value


def bad_token(text: str) -> str:
    """The text under a syntax error's span."""
    span = syntax_error(text).span
    return text[span.start : span.end]


@dataclass
class FakeStats:
    sizes: dict[str, int] = field(default_factory=lambda: {"ventas": 3, "soporte": 0})
    ewts: dict[str, float] = field(default_factory=lambda: {"ventas": 40.0, "soporte": math.inf, "bis": 40.0})
    calls: list[tuple[str, Any]] = field(default_factory=list)

    def _queue(self, queue: str) -> str:
        if queue not in self.ewts:
            raise KeyError(queue)
        return queue

    def queue_size(self, queue: str, min_priority: int | None) -> int:
        self.calls.append(("queue_size", (queue, min_priority)))
        return self.sizes[self._queue(queue)]

    def oldest_wait(self, queue: str, min_priority: int | None) -> float:
        return 12 if self._queue(queue) == "ventas" else 0

    def agents_staffed(self, queue: str) -> int:
        return 4 if self._queue(queue) == "ventas" else 0

    def agents_available(self, queue: str) -> int:
        return 1 if self._queue(queue) == "ventas" else 0

    def agents_online(self, queue: str) -> int:
        return 5 if self._queue(queue) == "ventas" else 0

    def ewt(self, queue: str, priority: int) -> float:
        self.calls.append(("ewt", (queue, priority)))
        return self.ewts[self._queue(queue)]

    def rolling_asa(self, queue: str) -> float | None:
        return 18.5 if self._queue(queue) == "ventas" else None

    def my_ewt(self) -> float:
        return math.inf

    def in_queue(self, queue: str | None) -> bool:
        return queue in (None, "ventas")

    def time_in_queue(self, queue: str) -> float | None:
        return 130.0 if self._queue(queue) == "ventas" else None

    def position(self, queue: str) -> int | None:
        return 2 if self._queue(queue) == "ventas" else None

    def in_hours(self, schedule: str) -> bool:
        if schedule != "oficina":
            raise KeyError(schedule)
        return True

    def is_holiday(self, schedule: str) -> bool:
        if schedule != "oficina":
            raise KeyError(schedule)
        return False


NOW = datetime(2026, 3, 8, 9, 5, tzinfo=UTC)  # a Sunday, day 67 of the year


def context(**overrides: Any) -> Context:
    values: dict[str, Any] = {
        "contact": {
            "id": 1234,
            "channel": "voice",
            "ani": "+34600111222",
            "priority": 2,
            "segment": "premium",
            "attributes": {"tier": "gold", "tags": ["a", "b"], "nested": {"x": 1}},
        },
        "now": NOW,
        "stats": FakeStats(),
        "node_id": "reparto",
        "customer": None,
        "vars": {"n": 7, "s": "hola", "f": 1.5, "b": True, "nada": None},
        "digits": "0042",
        "flow_steps": 3,
        "flow_elapsed_s": 12.5,
    }
    values.update(overrides)
    return Context(**values)


def ev(text: str, ctx: Context | None = None) -> Any:
    return evaluate(parse(text), ctx or context())


def eval_error(text: str, ctx: Context | None = None) -> EvalError:
    with pytest.raises(EvalError) as caught:
        ev(text, ctx)
    return caught.value


SCOPE = Scope({"n": "int", "s": "string", "f": "float", "b": "bool"})


def problems(text: str, scope: Scope = SCOPE) -> list[tuple[str, str, bool]]:
    """(message, text under the span, warning) for each problem."""
    return [(p.message, text[p.span.start : p.span.end], p.warning) for p in check(parse(text), scope)]


# ---------------------------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("1 + 2 * 3", ("+", 1, ("*", 2, 3))),
        ("(1 + 2) * 3", ("*", ("+", 1, 2), 3)),
        ("10 - 4 - 3", ("-", ("-", 10, 4), 3)),  # left-associative
        ("8 / 4 % 3", ("%", ("/", 8, 4), 3)),
        ("- vars.n * 2", ("*", ("-", "vars.n"), 2)),  # unary binds tighter than *
        ("--1", ("-", -1)),
        ("1 + 2 == 3", ("==", ("+", 1, 2), 3)),
        ("a OR b AND c", ("OR", "a", ("AND", "b", "c"))),
        ("NOT a AND b", ("AND", ("NOT", "a"), "b")),
        ("NOT NOT a", ("NOT", ("NOT", "a"))),
        ("NOT a == 1", ("NOT", ("==", "a", 1))),  # NOT applies to the comparison
        ("x != 1", ("!=", "x", 1)),
        ("x < 1", ("<", "x", 1)),
        ("x <= 1", ("<=", "x", 1)),
        ("x > 1", (">", "x", 1)),
        ("x >= 1", (">=", "x", 1)),
        ("x IN [1, 'a', null]", ("IN", "x", [1, "a", None])),
        ("x not In [ ]", ("NOT IN", "x", [])),
        ("l HAS 1", ("HAS", "l", 1)),
        ("s contains 'ab'", ("CONTAINS", "s", "ab")),
        ('s Starts_With "ab"', ("STARTS_WITH", "s", "ab")),
        ("True AND fAlSe OR NULL", ("OR", ("AND", True, False), None)),
        ("contact.attributes.tier", "contact.attributes.tier"),
        ("agent.languages[0]", "agent.languages.0"),
        ("a.b[2].c", "a.b.2.c"),
        ("contact.attributes.in", "contact.attributes.in"),  # a keyword as a field name keeps its case
        ("f()", ("call", "f")),
        ("substr(s, 1 + 1, 2)", ("call", "substr", "s", ("+", 1, 1), 2)),
        ("min_ewt_queue(['a', 'b'])", ("call", "min_ewt_queue", ["a", "b"])),
        ("2.50", 2.5),
        ("'it\"s'", 'it"s'),
        ("-9223372036854775808", -(2**63)),
        ("9223372036854775807", 2**63 - 1),
    ],
)
def test_parse_operators_and_precedence(text: str, tree: object) -> None:
    assert shape(parse(text)) == tree


def test_literal_types_are_exact() -> None:
    assert type(shape(parse("1"))) is int
    assert type(shape(parse("1.0"))) is float
    assert shape(parse("true")) is True
    assert shape(parse("null")) is None


def test_spans() -> None:
    expr = parse("vars.n + len(s) > 3")
    assert isinstance(expr, Binary) and expr.span == Span(0, 19)
    assert isinstance(expr.left, Binary) and expr.left.span == Span(0, 15)
    assert expr.left.left.span == Span(0, 6)
    call = expr.left.right
    assert isinstance(call, Call) and call.span == Span(9, 15) and call.name_span == Span(9, 12)
    path = parse("contact . attributes[ 0 ]")
    assert isinstance(path, Path) and path.span == Span(0, 25)
    assert path.part_spans == (Span(0, 7), Span(10, 20), Span(22, 23))
    assert parse("  -5 ").span == Span(2, 4)
    assert parse("(1)") == Literal(1, Span(0, 3))  # parentheses are no node of their own, but in the span
    assert parse("(a) + 1").span == Span(0, 7)


@pytest.mark.parametrize(
    ("text", "message", "token"),
    [
        ("", "empty expression", ""),
        ("   ", "empty expression", "   "),
        ("1 +", "unexpected end of expression", ""),
        ("1 2", "unexpected '2'", "2"),
        ("x = 1", "'=' is not an operator: compare with '=='", "="),
        ("!x", "'!' is not an operator: use '!=' or NOT", "!"),
        ("a # b", "unexpected character '#'", "#"),
        ("1abc", "unexpected character 'a'", "a"),
        ("'open", "unterminated string", "'open"),
        ("1 < 2 < 3", "comparisons cannot be chained: join them with AND", "<"),
        ("a == b NOT IN c", "comparisons cannot be chained: join them with AND", "NOT"),
        ("(1 == 1 == true)", "comparisons cannot be chained: join them with AND", "=="),
        ("a NOT b", "expected IN, found 'b'", "b"),
        ("f(1, 2", "expected ')', found end of expression", ""),
        ("[1, 2", "expected ']', found end of expression", ""),
        ("[1,]", "expected an expression, found ']'", "]"),
        ("a.", "expected a field name, found end of expression", ""),
        ("a.1", "expected a field name, found '1'", "1"),
        ("a['x']", "expected an index, found ''x''", "'x'"),
        ("a[1", "expected ']', found end of expression", ""),
        ("AND", "expected an expression, found 'AND'", "AND"),
        ("9223372036854775808", "integer 9223372036854775808 does not fit in 64 bits", "9223372036854775808"),
        ("-9223372036854775809", "integer 9223372036854775809 does not fit in 64 bits", "9223372036854775809"),
    ],
)
def test_syntax_errors_at_the_offending_token(text: str, message: str, token: str) -> None:
    error = syntax_error(text)
    assert error.message == message
    assert text[error.span.start : error.span.end] == token


def test_huge_decimal_is_rejected() -> None:
    error = syntax_error("9" * 400 + ".5")
    assert error.message.startswith("number 999") and error.message.endswith("is too large")


def test_abuse_limits_are_syntax_errors() -> None:
    long = "1" + " " * 2000
    error = syntax_error(long)
    assert error.message == "an expression may have at most 2000 characters, this one has 2001"
    assert error.span == Span(2000, 2001)
    assert parse("1" + " " * 1999) == Literal(1, Span(0, 1))  # exactly 2,000 is fine

    assert shape(parse("(" * 64 + "1" + ")" * 64)) == 1
    error = syntax_error("(" * 65 + "1" + ")" * 65)
    assert error.message == "expression nested more than 64 levels deep" and error.span == Span(64, 65)
    assert syntax_error("NOT " * 65 + "x").message == "expression nested more than 64 levels deep"
    assert syntax_error("- " * 65 + "x").message == "expression nested more than 64 levels deep"
    assert syntax_error("f(" * 65 + ")" * 65).message == "expression nested more than 64 levels deep"
    # operator chains nest without recursion in the parser, and are bounded all the same
    assert isinstance(parse("+".join(["1"] * 64)), Binary)
    assert syntax_error("+".join(["1"] * 66)).message == "expression nested more than 64 levels deep"
    assert syntax_error(" OR ".join(["a"] * 66)).message == "expression nested more than 64 levels deep"

    assert len(shape(parse("[" + ",".join(["1"] * 999) + "]"))) == 999  # type: ignore[arg-type]


def test_list_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # Within 2,000 characters a list cannot reach 1,001 items; the limit holds on its own all the same.
    monkeypatch.setattr(expressions, "MAX_LENGTH", 10_000)
    assert len(shape(parse("[" + ",".join(["1"] * 1000) + "]"))) == 1000  # type: ignore[arg-type]
    text = "[" + ",".join(["1"] * 1001) + "]"
    error = syntax_error(text)
    assert error.message == "a list may have at most 1000 items"
    assert error.span == Span(2001, 2002)


def test_syntax_errors_are_translated() -> None:
    with using("es"):
        assert syntax_error("1 +").message == "la expresión termina antes de tiempo"
        assert syntax_error("a NOT b").message == "se esperaba IN y hay 'b'"


# ---------------------------------------------------------------------------------------------- evaluation


@pytest.mark.parametrize(
    ("text", "value"),
    [
        # literals and arithmetic; int and float mix; / is true division; % takes the divisor's sign
        ("1 + 2 * 3", 7),
        ("7 / 2", 3.5),
        ("6 / 3", 2.0),
        ("7 % 3", 1),
        ("-7 % 3", 2),
        ("1 + 0.5", 1.5),
        ("vars.n * vars.f", 10.5),
        ("-vars.n", -7),
        # keywords are case-insensitive, strings are compared case-sensitively
        ("'Gold' == 'gold'", False),
        ("'a' < 'b'", True),
        ("'B' < 'a'", True),
        ("TRUE and not FALSE", True),
        # == and != with null; ordering with null is false
        ("null == null", True),
        ("vars.nada == null", True),
        ("vars.n != null", True),
        ("vars.nada < 1", False),
        ("vars.nada >= 1", False),
        ("null <= null", False),
        # no coercion: other types are never equal; ints and floats compare by value
        ("1 == '1'", False),
        ("1 == 1.0", True),
        ("true == 1", False),
        ("[1, 'a'] == [1.0, 'a']", True),
        ("[1] != [1, 2]", True),
        # missing keys and paths through null are null
        ("contact.attributes.missing", None),
        ("contact.attributes.missing.deeper[3]", None),
        ("customer.name", None),
        ("customer.attributes.x", None),
        ("vars.undeclared", None),
        ("contact.attributes.tags[1]", "b"),
        ("contact.attributes.tags[5]", None),
        ("contact.attributes.nested.x", 1),
        # membership, substring, prefix
        ("'a' IN contact.attributes.tags", True),
        ("'z' IN contact.attributes.tags", False),
        ("'z' NOT IN contact.attributes.tags", True),
        ("2 IN [1, 2.0]", True),
        ("contact.attributes.tags HAS 'b'", True),
        ("'x' IN null", False),
        ("'x' NOT IN null", False),
        ("null HAS 'x'", False),
        ("'premium plus' CONTAINS 'um p'", True),
        ("'premium' CONTAINS 'P'", False),
        ("['a', 'b'] CONTAINS 'b'", True),
        ("null CONTAINS 'b'", False),
        ("'abc' CONTAINS null", False),
        ("contact.ani STARTS_WITH '+34'", True),
        ("contact.ani STARTS_WITH '34'", False),
        ("null STARTS_WITH 'a'", False),
        # AND / OR stop at the deciding operand; null counts as false
        ("false AND 1 / 0 == 1", False),
        ("true OR 1 / 0 == 1", True),
        ("null OR true", True),
        ("NOT null", True),
        # namespaces
        ("contact.priority", 2),
        ("digits", "0042"),
        ("flow.steps", 3),
        ("flow.elapsed_s", 12.5),
        ("now.tod", 905),
        ("now.hour", 9),
        ("now.minute", 5),
        ("now.dow", 7),
        ("now.doy", 67),
        ("now.date", "2026-03-08"),
    ],
)
def test_evaluation(text: str, value: Any) -> None:
    result = ev(text)
    assert result == value
    assert type(result) is type(value)


@pytest.mark.parametrize(
    ("text", "message", "at"),
    [
        ("vars.nada + 1", "arithmetic on null is an error", "vars.nada"),
        ("-vars.nada", "arithmetic on null is an error", "vars.nada"),
        ("'a' + 'b'", "+ needs numbers, not string", "'a'"),
        ("digits + 1", "+ needs numbers, not string", "digits"),
        ("true * 2", "* needs numbers, not bool", "true"),
        ("1 / 0", "division by zero", "0"),
        ("1.5 / 0.0", "division by zero", "0.0"),
        ("1 % 0", "division by zero", "0"),
        ("1 < '2'", "cannot compare int with string", "1 < '2'"),
        ("true < false", "cannot compare bool with bool", "true < false"),
        ("[1] < [2]", "cannot compare list with list", "[1] < [2]"),
        ("1 IN 'abc'", "IN needs a list, not string", "'abc'"),
        ("'abc' HAS 'a'", "HAS needs a list, not string", "'abc'"),
        ("3 CONTAINS 1", "CONTAINS needs a string or a list, not int", "3"),
        ("'abc' CONTAINS 1", "CONTAINS needs strings, not int", "1"),
        ("'abc' STARTS_WITH 1", "STARTS_WITH needs strings, not int", "1"),
        ("NOT 3", "NOT needs bools, not int", "3"),
        ("1 AND true", "AND needs bools, not int", "1"),
        ("false OR 'x'", "OR needs bools, not string", "'x'"),
        ("9223372036854775807 + 1", "integer result out of 64-bit range", "9223372036854775807 + 1"),
        ("-(-9223372036854775808)", "integer result out of 64-bit range", "-(-9223372036854775808)"),
        ("contact.ani.x", "string has no fields", "x"),
        ("contact.ani[0]", "string cannot be indexed", "0"),
        ("contact.attributes", "contact.attributes needs a field", "contact.attributes"),
        ("bogus.x", "unknown namespace bogus", "bogus"),
        ("agent.id", "agent.* is only available in steps[].require", "agent"),
        ("nope(1)", "unknown function nope()", "nope"),
        ("len('a', 'b')", "len() takes 1 argument, not 2", "len('a', 'b')"),
        ("len(5)", "argument 1 of len() must be string|list, not int", "5"),
    ],
)
def test_evaluation_errors(text: str, message: str, at: str) -> None:
    error = eval_error(text)
    assert error.message == message
    assert error.span is not None and text[error.span.start : error.span.end] == at


def test_estimators_return_inf_that_compares_as_a_float() -> None:
    assert ev("ewt('soporte') > 100000") is True
    assert ev("my_ewt() == ewt('soporte')") is True
    assert ev("ewt('ventas') < 60") is True


def test_statistics_functions() -> None:
    stats = FakeStats()
    ctx = context(stats=stats)
    assert ev("queue_size('ventas')", ctx) == 3
    assert ev("queue_size('ventas', 2)", ctx) == 3
    assert ("queue_size", ("ventas", None)) in stats.calls and ("queue_size", ("ventas", 2)) in stats.calls
    assert ev("oldest_wait('ventas')", ctx) == 12.0 and type(ev("oldest_wait('ventas')", ctx)) is float
    assert ev("agents_staffed('ventas') + agents_available('ventas') + agents_online('ventas')", ctx) == 10
    ev("ewt('ventas')", ctx)
    assert stats.calls[-1] == ("ewt", ("ventas", 2))  # the contact's priority by default
    ev("ewt('ventas', 5)", ctx)
    assert stats.calls[-1] == ("ewt", ("ventas", 5))
    assert ev("rolling_asa('ventas')", ctx) == 18.5
    assert ev("rolling_asa('soporte')", ctx) is None
    assert ev("in_queue() AND in_queue('ventas') AND NOT in_queue('soporte')", ctx) is True
    assert ev("time_in_queue('ventas') >= 120", ctx) is True
    assert ev("position('ventas')", ctx) == 2
    assert ev("position('soporte')", ctx) is None
    assert ev("in_hours('oficina') AND NOT is_holiday('oficina')", ctx) is True
    assert ev("min_ewt_queue(['soporte', 'ventas', 'bis'])", ctx) == "ventas"  # ties: the first listed
    assert ev("min_ewt_queue(['bis', 'ventas'])", ctx) == "bis"


def test_unknown_queue_or_schedule_is_an_evaluation_error() -> None:
    assert eval_error("queue_size('nope') > 0").message == "unknown queue nope"
    assert eval_error("min_ewt_queue(['ventas', 'nope'])").message == "unknown queue nope"
    assert eval_error("in_hours('nope')").message == "unknown schedule nope"
    assert eval_error("min_ewt_queue([])").message == "min_ewt_queue() needs at least one queue"
    assert eval_error("queue_size(null)").message == "argument 1 of queue_size() must be string, not null"


def test_percent_bucket() -> None:
    expected = int.from_bytes(hashlib.sha256(b"1234:reparto").digest()[:8], "big") % 100
    assert ev("percent_bucket()") == expected
    other = int.from_bytes(hashlib.sha256(b"1234:otro").digest()[:8], "big") % 100
    assert ev("percent_bucket()", context(node_id="otro")) == other
    buckets = {ev("percent_bucket()", context(contact={"id": i})) for i in range(2000)}
    assert buckets == set(range(100))


def test_spell() -> None:
    assert ev("spell('K7M-42Q')") == "K 7 M, 4 2 Q"
    assert ev("spell('-AB--12 3-')") == "A B, 1 2, 3"
    assert ev("spell('')") == ""
    assert ev("spell(null)") is None
    chat = context(contact={"id": 1, "channel": "chat"})
    assert ev("spell('K7M-42Q')", chat) == "K7M-42Q"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("len('hola')", 4),
        ("len(contact.attributes.tags)", 2),
        ("len(vars.nada)", None),
        ("substr('abcdef', 1, 3)", "bcd"),
        ("substr('abcdef', 4)", "ef"),
        ("substr('abc', 5, 2)", ""),
        ("substr(null, 0, 1)", None),
        ("concat('Cola ', 3, ' ', null, true, 1.5)", "Cola 3 true1.5"),
        ("concat()", ""),
        ("int(digits)", 42),
        ("int(' -12.9 ')", -12),
        ("int(7.9)", 7),
        ("int(-7.9)", -7),
        ("int(3)", 3),
        ("int(null)", None),
        ("str(null)", ""),
        ("str(true)", "true"),
        ("str(false)", "false"),
        ("str(2.0)", "2.0"),
        ("str(0.1 + 0.2)", "0.30000000000000004"),
        ("str(100000000000000000000.0)", "100000000000000000000.0"),
        ("str(0.0000001)", "0.0000001"),
        ("str(-3)", "-3"),
        ("str(['a', 1, null])", "a, 1, "),
        ("lower('ÁbC')", "ábc"),
        ("upper('ábc')", "ÁBC"),
        ("lower(null)", None),
        ("coalesce(vars.nada, customer.name, 'x', 'y')", "x"),
        ("coalesce(null)", None),
    ],
)
def test_utilities(text: str, value: Any) -> None:
    result = ev(text)
    assert result == value
    assert type(result) is type(value)


def test_utility_errors() -> None:
    assert eval_error("int('12a')").message == "cannot convert '12a' to an integer"
    assert eval_error("int(true)").message == "argument 1 of int() must be number|string, not bool"
    assert eval_error("int(1 / 0.0)").message == "division by zero"
    assert eval_error("int('99999999999999999999')").message == "integer result out of 64-bit range"
    assert eval_error("substr('abc', -1, 2)").message == "substr() needs a start and a length of 0 or more"


def test_to_text_of_special_floats() -> None:
    assert to_text(math.inf) == "inf"
    assert to_text(-math.inf) == "-inf"
    assert to_text([1.5, [True]]) == "1.5, true"


def test_agent_and_value_namespaces() -> None:
    agent = {"id": 9, "skills": {"banca": 4}, "languages": ["es", "en"], "idle_s": 30.0}
    ctx = context(agent=agent, customer={"id": 3, "owner": 9})
    assert ev("agent.id == customer.owner", ctx) is True
    assert ev("agent.skills.banca >= 4", ctx) is True
    assert ev("agent.skills.seguros >= 1", ctx) is False  # absent skill: null
    assert ev("agent.languages HAS 'en'", ctx) is True
    assert ev("len(value) == 8", context(value="12345678")) is True


# ---------------------------------------------------------------------------------------------- static checks


def test_a_clean_expression_has_no_problems() -> None:
    text = "vars.n > 3 AND customer.segment == 'premium' AND len(vars.s) < 10 AND contact.attributes.x == 1"
    assert check(parse(text), SCOPE) == []
    assert check(parse("agent.skills.banca >= 4"), Scope({}, agent=True)) == []
    assert check(parse("len(value) == 8"), Scope({}, value=True)) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bogus.x", [("unknown namespace bogus", "bogus", False)]),
        ("contact.bogus", [("contact has no field bogus", "bogus", False)]),
        ("now.second", [("now has no field second", "second", False)]),
        ("contact", [("contact needs a field", "contact", False)]),
        ("vars", [("vars needs a field", "vars", False)]),
        ("contact.attributes", [("contact.attributes needs a key", "contact.attributes", False)]),
        ("vars.zz == 1", [("variable zz is not declared", "zz", False)]),
        ("agent.id == 1", [("agent.* is only available in steps[].require", "agent", False)]),
        ("len(value)", [("value is only available in collect.valid", "value", False)]),
        ("digits.x", [("string has no fields", "x", False)]),
        ("contact.ani[0]", [("string cannot be indexed", "0", False)]),
        ("nope(1)", [("unknown function nope()", "nope", False)]),
        ("len()", [("len() takes 1 argument, not 0", "len()", False)]),
        ("my_ewt(1)", [("my_ewt() takes 0 arguments, not 1", "my_ewt(1)", False)]),
        ("ewt()", [("ewt() takes 1 to 2 arguments, not 0", "ewt()", False)]),
        ("coalesce()", [("coalesce() takes at least 1 argument, not 0", "coalesce()", False)]),
        ("queue_size(1)", [("argument 1 of queue_size() must be string, not int", "1", False)]),
        ("substr(vars.s, '1')", [("argument 2 of substr() must be int, not string", "'1'", False)]),
        ("'a' + 1", [("+ needs numbers, not string", "'a'", False)]),
        ("vars.n + null", [("arithmetic on null is an error", "null", False)]),
        ("-vars.s", [("- needs numbers, not string", "vars.s", False)]),
        ("vars.n > 'x'", [("cannot compare int with string", "vars.n > 'x'", False)]),
        ("vars.b < true", [("< needs numbers or strings, not bool", "vars.b", False)]),
        ("NOT 3", [("NOT needs bools, not int", "3", False)]),
        ("vars.s AND true", [("AND needs bools, not string", "vars.s", False)]),
        ("1 IN 'abc'", [("IN needs a list, not string", "'abc'", False)]),
        ("vars.s HAS 1", [("HAS needs a list, not string", "vars.s", False)]),
        ("vars.n CONTAINS 1", [("CONTAINS needs a string or a list, not int", "vars.n", False)]),
        ("vars.s CONTAINS 1", [("CONTAINS needs strings, not int", "1", False)]),
        ("vars.s STARTS_WITH 1", [("STARTS_WITH needs strings, not int", "1", False)]),
        # warnings: legal, but always the same answer
        ("vars.n == 's'", [("int and string are never equal", "vars.n == 's'", True)]),
        ("vars.n < null", [("ordering with null is always false", "vars.n < null", True)]),
        # every problem, in source order
        (
            "bogus.x + vars.zz * 'a' > nope()",
            [
                ("unknown namespace bogus", "bogus", False),
                ("variable zz is not declared", "zz", False),
                ("* needs numbers, not string", "'a'", False),
                ("unknown function nope()", "nope", False),
            ],
        ),
    ],
)
def test_check_problems(text: str, expected: list[tuple[str, str, bool]]) -> None:
    assert problems(text) == expected


def test_untyped_attributes_are_not_type_checked() -> None:
    assert problems("contact.attributes.x + 1 > 'a'") == []
    assert problems("customer.attributes.a.b[0] STARTS_WITH 'x'") == []
    assert problems("coalesce(contact.attributes.x, 1) + 1") == []


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("1", "int"),
        ("1.5", "float"),
        ("'a'", "string"),
        ("null", "null"),
        ("[1]", "list"),
        ("vars.n + 1", "int"),
        ("vars.n + vars.f", "float"),
        ("vars.n / 2", "float"),
        ("vars.n % 2", "int"),
        ("-vars.f", "float"),
        ("vars.n > 1", "bool"),
        ("NOT vars.b", "bool"),
        ("contact.priority", "int"),
        ("customer.lifetime_value", "float"),
        ("contact.attributes.x", "any"),
        ("contact.attributes.x + 1", "any"),
        ("contact.attributes.x / 1", "float"),
        ("agent.skills.banca", "int"),
        ("agent.languages[0]", "any"),
        ("ewt('q')", "float"),
        ("coalesce(vars.s, 'x')", "string"),
        ("coalesce(vars.s, 1)", "any"),
        ("'a' + 1", "any"),
        ("digits", "string"),
    ],
)
def test_static_type(text: str, kind: str) -> None:
    assert static_type(parse(text), Scope({"n": "int", "s": "string", "f": "float", "b": "bool"}, agent=True)) == kind


def test_function_table() -> None:
    assert FUNCTIONS["substr"].min_args == 2 and FUNCTIONS["substr"].max_args == 3
    assert FUNCTIONS["concat"].max_args is None
    assert FUNCTIONS["percent_bucket"].result == "int"
    spec_names = (
        "queue_size oldest_wait agents_staffed agents_available agents_online ewt rolling_asa my_ewt in_queue "
        "time_in_queue position in_hours is_holiday min_ewt_queue percent_bucket len substr concat int str "
        "lower upper coalesce spell"
    )
    assert set(FUNCTIONS) == set(spec_names.split())


def test_check_messages_are_translated() -> None:
    with using("es"):
        assert check(parse("vars.zz"), SCOPE) == [Problem("la variable zz no está declarada", Span(5, 7))]


# ---------------------------------------------------------------------------------------------- prompts


def test_render_prompt() -> None:
    ctx = context(vars={"saldo": 12.5, "ref": "K7M-42Q", "nada": None})
    text = "tts:Su saldo es {{vars.saldo}} euros. Referencia {{ spell(vars.ref) }}.{{vars.nada}}"
    assert render_prompt(text, ctx) == "tts:Su saldo es 12.5 euros. Referencia K 7 M, 4 2 Q."
    assert render_prompt("sin expresiones", ctx) == "sin expresiones"
    assert render_prompt("{{1 == 1}}{{position('ventas')}}", ctx) == "true2"
    assert render_prompt("{ {{'}'}} }", ctx) == "{ } }"


def test_render_prompt_errors() -> None:
    with pytest.raises(EvalError) as caught:
        render_prompt("a {{1 / 0}} b", context())
    assert caught.value.message == "division by zero" and caught.value.span == Span(8, 9)  # in the prompt
    with pytest.raises(EvalError) as caught:
        render_prompt("a {{1 +}} b", context())
    assert caught.value.message == "unexpected end of expression" and caught.value.span == Span(7, 7)
    with pytest.raises(EvalError) as caught:
        render_prompt("a {{vars.x", context())
    assert caught.value.message == "'{{' without a closing '}}'"


def test_prompt_expressions() -> None:
    text = "tts:Hola {{customer.name}}, cola {{ position(vars.cola) }}{{}}"
    found = prompt_expressions(text)
    assert found == [(11, "customer.name"), (35, " position(vars.cola) "), (60, "")]
    for offset, source in found:
        assert text[offset : offset + len(source)] == source
    error = syntax_error_of(lambda: prompt_expressions("a {{b}} {{c"))
    assert error.span == Span(8, 10)


def syntax_error_of(action: Any) -> ExprSyntaxError:
    with pytest.raises(ExprSyntaxError) as caught:
        action()
    return caught.value


# ---------------------------------------------------------------------------------------------- robustness

TOKENS = [
    *"()[],.+-*/%<>",
    "==",
    "!=",
    "<=",
    ">=",
    "AND",
    "or",
    "NOT",
    "IN",
    "HAS",
    "CONTAINS",
    "STARTS_WITH",
    "true",
    "null",
    "0",
    "9223372036854775808",
    "1.5",
    "'s'",
    '"t"',
    "'",
    "contact",
    "customer",
    "vars",
    "n",
    "s",
    "agent",
    "value",
    "digits",
    "attributes",
    "len",
    "coalesce",
    "substr",
    "ewt",
    "x",
    "=",
    "!",
    "{",
    " ",
]
SCOPES = st.builds(Scope, st.just({"n": "int", "s": "string"}), st.booleans(), st.booleans())


def parse_and_check(text: str, scope: Scope) -> None:
    try:
        expr = parse(text)
    except ExprSyntaxError as error:
        assert 0 <= error.span.start <= error.span.end <= len(text) and error.message
        return
    found = check(expr, scope)
    assert all(isinstance(p, Problem) and 0 <= p.span.start <= p.span.end <= len(text) for p in found)
    assert static_type(expr, scope) in ("int", "float", "string", "bool", "null", "list", "any")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80), SCOPES)
def test_random_text_only_parses_or_raises_syntax_errors(text: str, scope: Scope) -> None:
    parse_and_check(text, scope)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=40), SCOPES)
def test_random_token_sequences_only_parse_or_raise_syntax_errors(tokens: list[str], scope: Scope) -> None:
    parse_and_check(" ".join(tokens), scope)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_random_token_sequences_evaluate_or_raise_eval_errors(tokens: list[str]) -> None:
    try:
        expr = parse("".join(tokens))
    except ExprSyntaxError:
        return
    try:
        evaluate(expr, context(agent={"id": 1}, value="1"))
    except EvalError as error:
        assert error.message


def test_deep_input_never_overflows_the_stack() -> None:
    for text in ("(" * 1000, "NOT " * 499, "-" * 1999, "[" * 1999, "1" + "*1" * 999):
        assert syntax_error(text).message
    ok: Mapping[str, str] = {}
    assert check(parse("a" + ".a" * 900), Scope(ok)) == [Problem("unknown namespace a", Span(0, 1))]


def test_the_module_is_pure() -> None:
    """Standard library and centralita.core only: no I/O layers, no clock, no database."""
    source = FilePath(expressions.__file__).read_text(encoding="utf-8")
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    outside = {name for name in imported if name.split(".")[0] not in sys.stdlib_module_names}
    assert outside <= {"centralita.core.i18n"}
    assert not imported & {"time", "os", "io", "socket", "random", "pathlib"}


@pytest.mark.parametrize(
    ("require", "customer", "expected"),
    [
        ("true", None, AgentRequirement()),
        ("agent.skills.banca >= 4", None, AgentRequirement((("banca", 4),))),
        (
            "agent.skills.banca > 3.5 AND 2 <= agent.skills.ingles",
            None,
            AgentRequirement((("banca", 4), ("ingles", 2))),
        ),
        ("agent.id == customer.owner", {"owner": 7}, AgentRequirement((), (7,))),
        ("agent.id == customer.owner", {"owner": None}, AgentRequirement((), ())),  # nobody: the step expires
        ("agent.id IN [3, 5] AND contact.segment == 'premium'", None, AgentRequirement((), (3, 5))),
        ("agent.skills.banca >= 2 AND contact.segment == 'pyme'", None, AgentRequirement((("banca", 2),), ())),
        ("agent.skills.banca >= 2 OR agent.id == 3", None, None),
        ("agent.idle_s > 30", None, None),
        ("NOT (agent.skills.banca >= 2)", None, None),
    ],
)
def test_a_require_becomes_what_the_routing_engine_takes(
    require: str, customer: dict[str, Any] | None, expected: AgentRequirement | None
) -> None:
    assert requirement(parse(require), context(customer=customer)) == expected
