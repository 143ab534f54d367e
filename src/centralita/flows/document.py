"""A flowlang 1 document checked against every static rule of flows-and-routing.md §4, all problems at once.

`check_flow(text, source)` loads the YAML (1.2, with the position of every key and scalar, duplicate keys
refused), reads the document against the tables of `flows.spec`, parses and checks every expression
(`flows.expressions`), then checks the flow as a graph: transition targets, unreachable nodes, busy loops,
the three-queue limit. Each problem is a `Diagnostic` printed as
`FILE:LINE:COL: error|warning: node '<id>': <message>`, at the offending key, scalar or expression token.
With a `Catalog` (what exists where the flow is published) it also checks the ids of queues, schedules,
flows, functions and prompts (rule 8). Pure: no I/O, no clock.
"""

from __future__ import annotations

import math
import re
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Literal

from centralita.core.i18n import _
from centralita.core.located_yaml import Located, Path, load_yaml
from centralita.flows import expressions as ex
from centralita.flows.spec import (
    EXIT_KEYS,
    FUNCTION_PATTERN,
    ID_PATTERN,
    MAX_NODES,
    MAX_STEPS,
    NODE_TYPES,
    PROMPT_ID_PATTERN,
    SCOPES,
    TIMED,
    VAR_TYPES,
    WRITABLE,
    Param,
)

__all__ = ["Catalog", "Checked", "Diagnostic", "Flow", "Node", "Variable", "check_flow", "check_flows"]

Severity = Literal["error", "warning"]
_ID = re.compile(ID_PATTERN)
_FUNCTION = re.compile(FUNCTION_PATTERN)
_PROMPT_ID = re.compile(PROMPT_ID_PATTERN)
_TOP_KEYS = ("flowlang", "id", "timezone", "start", "limits", "variables", "nodes")
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class Diagnostic:
    source: str
    line: int
    column: int
    severity: Severity
    node: str | None
    message: str

    def __str__(self) -> str:
        where = f"node '{self.node}': " if self.node is not None else ""
        return f"{self.source}:{self.line}:{self.column}: {self.severity}: {where}{self.message}"


@dataclass(frozen=True)
class Variable:
    name: str
    type: str
    scope: str
    default: Any
    sensitive: bool = False  # its collected input is masked on the contact's timeline (a PIN)


@dataclass(frozen=True)
class Node:
    """A node as written: its parameters (plain values), its transitions, its parsed expressions by the
    path of their parameter inside the node (`("cases", 0, "when")`)."""

    id: str
    type: str
    params: Mapping[str, Any]
    next: str | None
    on: Mapping[str, str]
    expressions: Mapping[Path, ex.Expr]


@dataclass(frozen=True)
class Flow:
    id: str
    timezone: str
    start: str
    max_steps: int
    variables: Mapping[str, Variable]
    nodes: Mapping[str, Node]

    @cached_property
    def global_defaults(self) -> dict[str, Any]:
        """The declared `global` variables with their defaults (read under the tenant's values)."""
        return {name: var.default for name, var in self.variables.items() if var.scope == "global"}


@dataclass(frozen=True)
class Catalog:
    """What exists where the flow is published (§4 rule 8); `None`: not known, not checked."""

    queues: frozenset[str] | None = None
    schedules: frozenset[str] | None = None
    flows: frozenset[str] | None = None
    functions: frozenset[str] | None = None
    prompts: frozenset[str] | None = None


@dataclass
class Checked:
    source: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    flow: Flow | None = None  # None when the document has errors

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    def ok(self, strict: bool = False) -> bool:
        return not (self.errors or (strict and self.warnings))


def check_flow(text: str, source: str, catalog: Catalog | None = None) -> Checked:
    """Every problem of one flow document, in file order; `.flow` when it has no error."""
    return _Checker(load_yaml(text, source), catalog or Catalog()).run()


def check_flows(documents: Sequence[tuple[str, str]], catalog: Catalog | None = None) -> list[Checked]:
    """Several flows loaded together, `(text, source)` each: each checked on its own, then across them
    (they must agree on every variable's type and scope, §1); a subflow or transfer target among them is
    known to the others."""
    docs = [load_yaml(text, source) for text, source in documents]
    catalog = catalog or Catalog()
    if catalog.flows is not None:
        ids = {doc.data["id"] for doc in docs if isinstance(doc.data, dict) and isinstance(doc.data.get("id"), str)}
        catalog = replace(catalog, flows=catalog.flows | ids)
    found = [_Checker(doc, catalog).run() for doc in docs]
    seen: dict[str, tuple[Variable, str]] = {}
    for doc, checked in zip(docs, found, strict=True):
        if checked.flow is None:
            continue
        for var in checked.flow.variables.values():
            first = seen.setdefault(var.name, (var, checked.source))
            other, where = first
            if (other.type, other.scope) != (var.type, var.scope):
                message = _(
                    "variable {name!r} is {type} in scope {scope} here but {other_type} in scope {other_scope} "
                    "in {file}",
                    name=var.name,
                    type=var.type,
                    scope=var.scope,
                    other_type=other.type,
                    other_scope=other.scope,
                    file=where,
                )
                line, column = doc.position(("variables", var.name), at_key=True)
                checked.diagnostics.append(Diagnostic(checked.source, line, column, "error", None, message))
                checked.diagnostics.sort(key=lambda d: (d.line, d.column))
                checked.flow = None
    return found


# -- the checker -------------------------------------------------------------------------------------------


class _Checker:
    def __init__(self, doc: Located, catalog: Catalog) -> None:
        self.doc = doc
        self.catalog = catalog
        self.out: list[Diagnostic] = []
        self.node: str | None = None  # the node being read, for the messages
        self.variables: dict[str, Variable] = {}
        self.node_ids: set[str] = set()
        self.own_id: str | None = None

    # reporting

    def report(self, path: Path, message: str, severity: Severity = "error", at_key: bool = False) -> None:
        line, column = self.doc.position(path, at_key)
        self.out.append(Diagnostic(self.doc.source, line, column, severity, self.node, message))

    def report_at(self, path: Path, line_col: tuple[int, int], message: str, severity: Severity = "error") -> None:
        self.out.append(Diagnostic(self.doc.source, line_col[0], line_col[1], severity, self.node, message))

    # the document

    def run(self) -> Checked:
        checked = Checked(source=self.doc.source)
        for error in self.doc.errors:
            self.out.append(
                Diagnostic(self.doc.source, error.line or 1, error.column or 1, "error", None, error.message)
            )
        data = self.doc.data
        if data is None and not self.doc.errors:
            data = {}  # an empty document, or a lone `null`: every required field is missing
        if data is not None and not isinstance(data, dict):
            self.report((), _("a flow is a mapping of flowlang, id, start, variables and nodes"))
        elif isinstance(data, dict):
            flow = self._document(data)
            if flow is not None and not any(d.severity == "error" for d in self.out):
                checked.flow = flow
        checked.diagnostics = sorted(self.out, key=lambda d: (d.line, d.column))
        return checked

    def _document(self, data: dict[Any, Any]) -> Flow | None:
        for key in data:
            if key not in _TOP_KEYS:
                self.report((key,), _("unknown field {name!r}", name=key), at_key=True)
        for key in ("flowlang", "id", "start", "nodes"):
            if key not in data:
                self.report((), _("missing field {name!r}", name=key))
        if "flowlang" in data and (data["flowlang"] != 1 or not _is_int(data["flowlang"])):
            self.report(("flowlang",), _("flowlang must be 1 (the only version there is)"))
        flow_id = self._id(("id",), data.get("id"))
        self.own_id = flow_id  # a flow may enter itself: its own id counts as a known flow (rule 8)
        timezone = data.get("timezone", "UTC")
        if not isinstance(timezone, str) or not _known_zone(timezone):
            self.report(("timezone",), _("{zone!r} is not an IANA time zone", zone=timezone))
        max_steps = self._limits(data.get("limits"))
        self._variables(data.get("variables"))
        nodes_data = data.get("nodes")
        if nodes_data is not None and not isinstance(nodes_data, dict):
            self.report(("nodes",), _("nodes must be a mapping of node id to node"))
            nodes_data = None
        nodes_data = nodes_data or {}
        if len(nodes_data) > MAX_NODES:
            self.report(
                ("nodes",), _("{count} nodes; a flow has at most {most}", count=len(nodes_data), most=MAX_NODES)
            )
        for node_id in nodes_data:
            if isinstance(node_id, str) and _ID.fullmatch(node_id):
                self.node_ids.add(node_id)
            else:
                self.report(("nodes", node_id), _("{id!r} is not a valid node id", id=node_id), at_key=True)
        start = data.get("start")
        if "start" in data:
            self._target(("start",), start)
        nodes: dict[str, Node] = {}
        for node_id, body in nodes_data.items():
            if node_id in self.node_ids:
                self.node = node_id
                node = self._node(node_id, body)
                if node is not None:
                    nodes[node_id] = node
                self.node = None
        if isinstance(start, str) and start in nodes:
            self._graph(start, nodes)
        if flow_id is None or not isinstance(start, str) or not isinstance(timezone, str):
            return None
        return Flow(flow_id, timezone, start, max_steps, dict(self.variables), nodes)

    def _id(self, path: Path, value: Any) -> str | None:
        if isinstance(value, str) and _ID.fullmatch(value):
            return value
        if value is not None:
            self.report(path, _("{id!r} is not a valid id (letters, digits and _, at most 50)", id=value))
        return None

    def _limits(self, value: Any) -> int:
        if value is None:
            return MAX_STEPS
        if not isinstance(value, dict):
            self.report(("limits",), _("limits must be a mapping"))
            return MAX_STEPS
        for key in value:
            if key != "max_steps":
                self.report(("limits", key), _("unknown field {name!r}", name=key), at_key=True)
        steps = value.get("max_steps", MAX_STEPS)
        if not _is_int(steps) or not 1 <= steps <= 1_000_000:
            self.report(("limits", "max_steps"), _("max_steps must be a whole number from 1 to 1000000"))
            return MAX_STEPS
        return int(steps)

    def _variables(self, value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, dict):
            self.report(("variables",), _("variables must be a mapping of name to declaration"))
            return
        for name, decl in value.items():
            path: Path = ("variables", name)
            if not isinstance(name, str) or not _ID.fullmatch(name):
                self.report(path, _("{id!r} is not a valid variable name", id=name), at_key=True)
                continue
            if not isinstance(decl, dict):
                self.report(path, _("a variable is declared as {type, scope, default, sensitive}"))
                continue
            for key in decl:
                if key not in ("type", "scope", "default", "sensitive"):
                    self.report((*path, key), _("unknown field {name!r}", name=key), at_key=True)
            var_type, scope = decl.get("type"), decl.get("scope", "flow")
            if var_type not in VAR_TYPES:
                self.report((*path, "type"), _("type must be one of {choices}", choices=", ".join(VAR_TYPES)))
                continue
            if scope not in SCOPES:
                self.report((*path, "scope"), _("scope must be one of {choices}", choices=", ".join(SCOPES)))
                continue
            default = decl.get("default")
            if default is not None and not _fits(default, var_type):
                self.report((*path, "default"), _("the default is not of type {type}", type=var_type))
                continue
            sensitive = decl.get("sensitive", False)
            if not isinstance(sensitive, bool):
                self.report((*path, "sensitive"), _("true or false was expected"))
                continue
            self.variables[name] = Variable(name, var_type, scope, default, sensitive)

    # a node

    def _node(self, node_id: str, body: Any) -> Node | None:
        path: Path = ("nodes", node_id)
        if not isinstance(body, dict):
            self.report(path, _("a node is a mapping with a type"))
            return None
        node_type = body.get("type")
        spec = NODE_TYPES.get(node_type) if isinstance(node_type, str) else None
        if spec is None:
            where = (*path, "type") if "type" in body else path
            choices = ", ".join(NODE_TYPES)
            self.report(where, _("type must be one of {choices}", choices=choices))
            return None
        assert isinstance(node_type, str)
        exprs: dict[Path, ex.Expr] = {}
        for key, value in body.items():
            key_path: Path = (*path, key)
            if key == "type":
                continue
            if key == "next":
                if spec.terminal:
                    self.report(key_path, _("a {type} node has no next", type=node_type), at_key=True)
                else:
                    self._target(key_path, value)
            elif key == "on":
                self._on(key_path, value, spec.outcomes, node_type)
            elif key in spec.params:
                self._param(key_path, spec.params[key], value, exprs)
            else:
                message = _("unknown field {name!r} for a {type} node", name=key, type=node_type)
                self.report(key_path, message, at_key=True)
        for name, param in spec.params.items():
            if param.required and name not in body:
                self.report(path, _("missing field {name!r}", name=name))
        self._node_rules(node_type, path, body)
        next_id = body.get("next") if isinstance(body.get("next"), str) and not spec.terminal else None
        on = (
            {k: v for k, v in (body.get("on") or {}).items() if isinstance(v, str) and k in spec.outcomes}
            if isinstance(body.get("on"), dict)
            else {}
        )
        params = {k: v for k, v in body.items() if k not in ("type", "next", "on")}
        return Node(node_id, node_type, params, next_id, on, exprs)

    def _node_rules(self, node_type: str, path: Path, body: dict[Any, Any]) -> None:
        """The rules that tie two fields together (§4 rules 5 and the `invoke` warning)."""
        on = body.get("on") if isinstance(body.get("on"), dict) else {}
        assert isinstance(on, dict)
        if node_type == "queue":
            if "max_wait_s" in body and "max_wait" not in on:
                self.report((*path, "max_wait_s"), _("max_wait_s needs on.max_wait (where to go when it expires)"))
            if "max_wait_unstaffed_s" in body and "unstaffed" not in on:
                self.report(
                    (*path, "max_wait_unstaffed_s"),
                    _("max_wait_unstaffed_s needs on.unstaffed (where to go when it expires)"),
                )
        if node_type == "invoke" and "error" not in on:
            self.report((*path, "function"), _("invoke without on.error: a failure falls through to next"), "warning")
        if node_type == "collect" and "options" in body and "valid" in body:
            self.report(
                (*path, "valid"),
                _("with valid, options are only buttons: a reply outside them is not refused"),
                "warning",
            )

    def _on(self, path: Path, value: Any, outcomes: frozenset[str], node_type: str) -> None:
        if not isinstance(value, dict):
            self.report(path, _("on must be a mapping of outcome to node"))
            return
        for outcome, target in value.items():
            if outcome not in outcomes:
                if outcomes:
                    choices = ", ".join(sorted(outcomes))
                    message = _(
                        "{outcome!r} is not an outcome of a {type} node ({choices})",
                        outcome=outcome,
                        type=node_type,
                        choices=choices,
                    )
                else:
                    message = _("a {type} node has no outcomes", type=node_type)
                self.report((*path, outcome), message, at_key=True)
                continue
            self._target((*path, outcome), target)

    def _target(self, path: Path, value: Any) -> None:
        if not isinstance(value, str):
            self.report(path, _("a node id was expected"))
        elif value not in self.node_ids:
            self.report(path, _("no node is called {id!r}", id=value))

    # parameters

    def _param(self, path: Path, param: Param, value: Any, exprs: dict[Path, ex.Expr]) -> None:
        kind = param.kind
        if kind == "expr":
            self._expr(path, value, exprs, param.want, param.scope, param.nullable)
        elif kind == "prompt":
            self._prompt(path, value, exprs)
        elif kind == "id":
            self._id_param(path, value, exprs, param.catalog)
        elif kind == "node":
            self._target(path, value)
        elif kind in ("int", "number"):
            self._number(path, value, param)
        elif kind == "bool":
            if not isinstance(value, bool):
                self.report(path, _("true or false was expected"))
        elif kind == "enum":
            if value not in param.choices:
                self.report(path, _("must be one of {choices}", choices=", ".join(param.choices)))
        elif kind == "function":
            self._function(path, value)
        elif kind == "target":  # collect.into: what is collected is text
            target_type = self._writable(path, value)
            if target_type not in (None, "any", "string"):
                self.report(path, _("collect stores text, but {target} is {type}", target=value, type=target_type))
        elif kind == "terminator":
            if not isinstance(value, str) or len(value) != 1 or value not in EXIT_KEYS:
                self.report(path, _("the terminator is one key: 0-9, * or #"))
        else:
            getattr(self, f"_{kind}")(path, value, exprs)

    def _number(self, path: Path, value: Any, param: Param) -> None:
        ok = _is_int(value) if param.kind == "int" else _is_number(value)
        low, high = param.low, param.high
        if ok and low is not None and (value < low or (param.open_low and value == low)):
            ok = False
        if ok and high is not None and value > high:
            ok = False
        if not ok:
            word = _("a whole number") if param.kind == "int" else _("a number")
            if low is not None and param.open_low:
                span = _("over {low} and up to {high}", low=_fmt(low), high=_fmt(high))
            else:
                span = _("from {low} to {high}", low=_fmt(low), high=_fmt(high))
            self.report(path, _("must be {what} {span}", what=word, span=span))

    def _function(self, path: Path, value: Any) -> None:
        if not isinstance(value, str) or not _FUNCTION.fullmatch(value):
            self.report(path, _("a function is a dotted lowercase name, e.g. crm.identify"))
        elif self.catalog.functions is not None and value not in self.catalog.functions:
            self.report(path, _("no function is registered as {name!r}", name=value))

    def _writable(self, path: Path, value: Any, at_key: bool = False) -> str | None:
        """A place a flow may write (`at_key`: written as a key, as in `assign`); its type ("any" for
        attributes), or None after reporting it."""
        if not isinstance(value, str):
            self.report(path, _("a place to write was expected, e.g. vars.dni"), at_key=at_key)
            return None
        if value.startswith("vars."):
            name = value[5:]
            var = self.variables.get(name)
            if var is None:
                self.report(path, _("vars.{name} is not declared in variables", name=name), at_key=at_key)
                return None
            return var.type
        if value.startswith("contact.attributes."):
            key = value[len("contact.attributes.") :]
            if not key or "$" in key or "." in key or len(key) > 100:
                message = _("an attribute name has no '$' or '.' (and 1 to 100 characters)")
                self.report(path, message, at_key=at_key)
                return None
            return "any"
        if value in WRITABLE:
            return WRITABLE[value]
        choices = ", ".join(["vars.<name>", "contact.attributes.<key>", *WRITABLE])
        message = _("{target!r} cannot be written; writable: {choices}", target=value, choices=choices)
        self.report(path, message, at_key=at_key)
        return None

    def _id_param(self, path: Path, value: Any, exprs: dict[Path, ex.Expr], catalog: str | None) -> None:
        if isinstance(value, str) and value.startswith("="):
            self._expr(path, value[1:], exprs, "string", None, False, offset=1)
            return
        if not isinstance(value, str) or not value or len(value) > 50 or any(c.isspace() for c in value):
            self.report(path, _("an id was expected (or =expression)"))
            return
        known = getattr(self.catalog, catalog) if catalog else None
        if known is not None and value not in known and not (catalog == "flows" and value == self.own_id):
            if catalog == "queues":
                self.report(path, _("no queue is called {id!r}", id=value))
            elif catalog == "schedules":
                self.report(path, _("no schedule is called {id!r}", id=value))
            else:
                self.report(path, _("no flow is called {id!r}", id=value))

    def _prompt(self, path: Path, value: Any, exprs: dict[Path, ex.Expr]) -> None:
        if not isinstance(value, str) or not value:
            self.report(path, _("a prompt is tts:<text> or a prompt id"))
            return
        if not value.startswith("tts:"):
            if not _PROMPT_ID.fullmatch(value):
                self.report(path, _("a prompt is tts:<text> or a prompt id"))
            elif self.catalog.prompts is not None and value not in self.catalog.prompts:
                self.report(path, _("no prompt is called {id!r}", id=value))
            return
        try:
            found = ex.prompt_expressions(value)
        except ex.ExprSyntaxError as exc:
            where = self.doc.position_in(path, exc.span.start, value[exc.span.start : exc.span.end])
            self.report_at(path, where, _("prompt: {message}", message=exc.message))
            return
        for n, (offset, source) in enumerate(found):
            self._expr((*path, n), source, exprs, None, None, True, offset=offset, scalar=path)

    def _expr(
        self,
        path: Path,
        value: Any,
        exprs: dict[Path, ex.Expr],
        want: str | None,
        scope_kind: str | None,
        nullable: bool,
        offset: int = 0,
        scalar: Path | None = None,
    ) -> None:
        """An expression parameter: a YAML string is an expression, a number or boolean a literal."""
        node_path = path[2:]
        scalar = scalar or path
        if isinstance(value, bool) or _is_number(value) or value is None:
            expr: ex.Expr = ex.Literal(value=value, span=ex.Span(0, 0))
            if _is_int(value) and not _INT_MIN <= value <= _INT_MAX:
                self.report(path, _("the number is too large (at most 64 bits)"))
                return
        elif isinstance(value, str):
            try:
                expr = ex.parse(value)
            except ex.ExprSyntaxError as exc:
                fragment = value[exc.span.start : exc.span.end]
                where = self.doc.position_in(scalar, offset + exc.span.start, fragment)
                self.report_at(scalar, where, _("expression: {message}", message=exc.message))
                return
        else:
            self.report(path, _("an expression was expected (a string, number or boolean)"))
            return
        scope = ex.Scope(
            variables={v.name: v.type for v in self.variables.values()},
            agent=scope_kind == "agent",
            value=scope_kind == "value",
        )
        problems = ex.check(expr, scope)
        for problem in problems:
            source = value if isinstance(value, str) else ""
            fragment = source[problem.span.start : problem.span.end]
            where = self.doc.position_in(scalar, offset + problem.span.start, fragment)
            severity: Severity = "warning" if problem.warning else "error"
            self.report_at(scalar, where, _("expression: {message}", message=problem.message), severity)
        if not problems and want is not None:
            got = ex.static_type(expr, scope)
            if not _compatible(got, want, nullable):
                self.report(scalar, _("the expression gives {got} where {want} is needed", got=got, want=want))
        exprs[node_path] = expr

    # structured parameters (called by name from _param)

    def _options(self, path: Path, value: Any, _exprs: dict[Path, ex.Expr]) -> None:
        if not isinstance(value, list) or not value:
            self.report(path, _("options is a list of {value, label}"))
            return
        seen: set[str] = set()
        for n, option in enumerate(value):
            item: Path = (*path, n)
            if not isinstance(option, dict):
                self.report(item, _("an option is {value, label}"))
                continue
            for key in option:
                if key not in ("value", "label"):
                    self.report((*item, key), _("unknown field {name!r}", name=key), at_key=True)
            for key in ("value", "label"):
                if not isinstance(option.get(key), str) or not option.get(key):
                    self.report((*item, key) if key in option else item, _("{name} must be text", name=key))
            if isinstance(option.get("value"), str):
                if option["value"] in seen:
                    self.report((*item, "value"), _("the value {value!r} is given twice", value=option["value"]))
                seen.add(option["value"])

    def _assign(self, path: Path, value: Any, exprs: dict[Path, ex.Expr]) -> None:
        if not isinstance(value, dict) or not value:
            self.report(path, _("assign is a mapping of place to expression"))
            return
        for target, expr_value in value.items():
            target_type = self._writable((*path, target), target, at_key=True)
            if target_type is not None:
                want = None if target_type == "any" else target_type
                self._expr((*path, target), expr_value, exprs, want, None, True)

    def _input(self, path: Path, value: Any, exprs: dict[Path, ex.Expr]) -> None:
        if not isinstance(value, dict):
            self.report(path, _("input is a mapping of name to expression"))
            return
        for key, expr_value in value.items():
            if not isinstance(key, str) or not _ID.fullmatch(key):
                self.report((*path, key), _("{id!r} is not a valid name", id=key), at_key=True)
                continue
            self._expr((*path, key), expr_value, exprs, None, None, True)

    def _result_into(self, path: Path, value: Any, _exprs: dict[Path, ex.Expr]) -> None:
        if not isinstance(value, dict):
            self.report(path, _("result_into is a mapping of result key to place"))
            return
        for key, target in value.items():
            if not isinstance(key, str) or not key:
                self.report((*path, key), _("a result key is text"), at_key=True)
                continue
            self._writable((*path, key), target)

    def _cases(self, path: Path, value: Any, exprs: dict[Path, ex.Expr]) -> None:
        if not isinstance(value, list) or not value:
            self.report(path, _("cases is a list of {when, next}"))
            return
        for n, case in enumerate(value):
            item: Path = (*path, n)
            if not isinstance(case, dict):
                self.report(item, _("a case is {when, next}"))
                continue
            for key in case:
                if key not in ("when", "next"):
                    self.report((*item, key), _("unknown field {name!r}", name=key), at_key=True)
            for key in ("when", "next"):
                if key not in case:
                    self.report(item, _("missing field {name!r}", name=key))
            if "when" in case:
                self._expr((*item, "when"), case["when"], exprs, "bool", None, False)
            if "next" in case:
                self._target((*item, "next"), case["next"])

    def _steps(self, path: Path, value: Any, exprs: dict[Path, ex.Expr]) -> None:
        if not isinstance(value, list) or not value:
            self.report(path, _("steps is a list of {require, duration_s}"))
            return
        for n, step in enumerate(value):
            item: Path = (*path, n)
            if not isinstance(step, dict):
                self.report(item, _("a step is {require, duration_s}"))
                continue
            for key in step:
                if key not in ("require", "duration_s"):
                    self.report((*item, key), _("unknown field {name!r}", name=key), at_key=True)
            if "require" not in step:
                self.report(item, _("missing field {name!r}", name="require"))
            else:
                self._expr((*item, "require"), step["require"], exprs, "bool", "agent", False)
            duration = step.get("duration_s")
            last = n == len(value) - 1
            if duration is None:
                if not last:
                    self.report(
                        (*item, "duration_s") if "duration_s" in step else item,
                        _("only the last step may last for ever (duration_s null)"),
                    )
            elif not _is_number(duration) or duration <= 0:
                self.report((*item, "duration_s"), _("duration_s must be a number of seconds over 0"))
            elif duration > 604_800:
                self.report((*item, "duration_s"), _("duration_s is at most 604800 seconds (a week)"))

    def _exit_keys(self, path: Path, value: Any, _exprs: dict[Path, ex.Expr]) -> None:
        if not isinstance(value, dict) or not value:
            self.report(path, _("exit_keys is a mapping of key to node"))
            return
        for key, target in value.items():
            if _is_int(key) and 0 <= key <= 9:  # YAML reads an unquoted 9 as a number
                self.report((*path, key), _("quote the exit key: '{key}'", key=key), at_key=True)
                continue
            if not isinstance(key, str) or len(key) != 1 or key not in EXIT_KEYS:
                self.report((*path, key), _("an exit key is one of 0-9, * or #"), at_key=True)
                continue
            self._target((*path, key), target)

    def _to(self, path: Path, value: Any, exprs: dict[Path, ex.Expr]) -> None:
        kinds = ("number", "flow", "voicemail")
        if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in kinds:
            self.report(path, _("to is one of {number: expr}, {flow: id} or {voicemail: expr}"))
            return
        ((kind, target),) = value.items()
        if kind == "flow":
            self._id_param((*path, kind), target, exprs, "flows")
        else:
            self._expr((*path, kind), target, exprs, "string", None, False)

    # the graph

    def _graph(self, start: str, nodes: Mapping[str, Node]) -> None:
        edges = {node_id: _successors(node) & nodes.keys() for node_id, node in nodes.items()}
        reached = _reach(start, edges)
        for node_id in nodes:
            if node_id not in reached:
                self.node = node_id
                self.report(("nodes", node_id), _("unreachable: no path from start leads here"), "warning", True)
        self.node = None
        untimed = {
            n: {m for m in e if nodes[m].type not in TIMED} for n, e in edges.items() if nodes[n].type not in TIMED
        }
        busy = _cycle_members(untimed)
        for node_id in _one_per_cycle(busy, untimed):
            self.node = node_id
            self.report(
                ("nodes", node_id),
                _("busy loop: a cycle through here runs no play, wait, collect or invoke"),
                at_key=True,
            )
        only_play = _without(edges, nodes, TIMED - {"play"})
        spinning = _cycle_members(only_play) - busy
        for node_id in _one_per_cycle(spinning, only_play):
            group = _reach(node_id, {n: only_play[n] & spinning for n in spinning})
            if any(nodes[m].type == "play" for m in group):
                self.node = node_id
                self.report(
                    ("nodes", node_id),
                    _("the only timed node of a cycle through here is play: on chat it spins at once"),
                    "warning",
                    True,
                )
        self.node = None
        self._queue_limit(start, nodes)

    def _queue_limit(self, start: str, nodes: Mapping[str, Node]) -> None:
        """Rule 7: no path joins four distinct literal queues (following a queue node's `next`; the count
        restarts where the contact leaves all queues)."""
        seen: set[tuple[str, frozenset[str]]] = set()
        reported: set[str] = set()
        stack: list[tuple[str, frozenset[str]]] = [(start, frozenset())]
        while stack:
            node_id, joined = stack.pop()
            if (node_id, joined) in seen or node_id not in nodes:
                continue
            seen.add((node_id, joined))
            node = nodes[node_id]
            for target, after in _queue_moves(node, joined):
                if len(after) > 3:
                    if node_id not in reported:
                        reported.add(node_id)
                        self.node = node_id
                        names = ", ".join(sorted(after))
                        self.report(
                            ("nodes", node_id, "queue"),
                            _("a path joins four queues ({names}); a contact waits in at most three", names=names),
                        )
                        self.node = None
                    continue
                stack.append((target, after))


# -- graph helpers --------------------------------------------------------------------------------------------


def _successors(node: Node) -> set[str]:
    out = set(node.on.values())
    if node.next is not None:
        out.add(node.next)
    if node.type == "switch":
        cases = node.params.get("cases")
        for case in cases if isinstance(cases, list) else []:
            if isinstance(case, dict) and isinstance(case.get("next"), str):
                out.add(case["next"])
        if isinstance(node.params.get("default"), str):
            out.add(node.params["default"])
    keys = node.params.get("exit_keys")
    if isinstance(keys, dict):
        out.update(v for v in keys.values() if isinstance(v, str))
    return out


def _queue_moves(node: Node, joined: frozenset[str]) -> Iterable[tuple[str, frozenset[str]]]:
    """Where a contact can go from `node`, with the literal queues it is in after it."""
    if node.type == "queue":
        queue = node.params.get("queue")
        literal = isinstance(queue, str) and not queue.startswith("=")
        joined_now = (frozenset() if node.params.get("replace") is True else joined) | (
            {queue} if literal and isinstance(queue, str) else set()
        )
        moves = [(node.next, joined_now)] if node.next else []
        for outcome, target in node.on.items():
            left_all = outcome == "max_wait" or (outcome == "unstaffed" and "max_wait_unstaffed_s" in node.params)
            moves.append((target, frozenset() if left_all else joined))
        keys = node.params.get("exit_keys")
        if isinstance(keys, dict):
            moves += [(t, frozenset()) for t in keys.values() if isinstance(t, str)]
        return moves
    after = frozenset() if node.type == "callback" else joined
    return [(target, after) for target in _successors(node)]


def _without(edges: Mapping[str, set[str]], nodes: Mapping[str, Node], types: frozenset[str]) -> dict[str, set[str]]:
    """The graph without the nodes of `types`."""
    return {n: {m for m in e if nodes[m].type not in types} for n, e in edges.items() if nodes[n].type not in types}


def _reach(start: str, edges: Mapping[str, set[str]]) -> set[str]:
    seen = {start}
    stack = [start]
    while stack:
        for nxt in edges.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _cycle_members(edges: Mapping[str, set[str]]) -> set[str]:
    """The nodes that lie on a cycle (Tarjan's strongly connected components, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    members: set[str] = set()
    counter = 0
    for root in edges:
        if root in index:
            continue
        work: list[tuple[str, Iterable[str]]] = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in edges:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges[node]:
                    members.update(component)
    return members


def _one_per_cycle(members: set[str], edges: Mapping[str, set[str]]) -> list[str]:
    """One node per group of connected cycle members (the first in file order), to report each loop once."""
    chosen: list[str] = []
    done: set[str] = set()
    for node in edges:  # file order
        if node in members and node not in done:
            chosen.append(node)
            group = _reach(node, {n: edges[n] & members for n in members})
            done |= group
    return chosen


# -- values ---------------------------------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and not (isinstance(value, float) and math.isnan(value))


def _fits(value: Any, var_type: str) -> bool:
    if var_type == "string":
        return isinstance(value, str)
    if var_type == "bool":
        return isinstance(value, bool)
    if var_type == "int":
        return _is_int(value) and _INT_MIN <= value <= _INT_MAX
    return _is_number(value)


def _compatible(got: str, want: str, nullable: bool) -> bool:
    if got in ("any", want):
        return True
    if got == "null":
        return nullable
    return want == "float" and got == "int"


def _fmt(value: float | None) -> str:
    if value is None:
        return "?"
    return str(int(value)) if float(value).is_integer() else str(value)


def _known_zone(name: str) -> bool:
    if name == "UTC":
        return True
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True
