"""One test per validation rule of flowlang 1 (flows-and-routing.md §4): for every node type a minimal valid
node, then each parameter and outcome refused with its message at its exact place; every rule 1–8 and the
three warnings; hostile inputs that must give diagnostics, never an exception or a hang. Expected positions
are computed from the token in the text (`where`), never counted by hand."""

from __future__ import annotations

import pytest

from centralita.core.i18n import using
from centralita.flows.document import Catalog, check_flow, check_flows

VARS = "    s: {type: string}\n    i: {type: int, default: 0}\n"
WRITABLE = (
    "writable: vars.<name>, contact.attributes.<key>, contact.reason, contact.language, contact.self_service, "
    "contact.queue"
)


def _report(text: str, catalog: Catalog | None = None) -> list[str]:
    with using("en"):
        return [str(d) for d in check_flow(text, "f.yaml", catalog).diagnostics]


def where(text: str, token: str, nth: int = 0) -> str:
    """`f.yaml:LINE:COL` of the `nth` occurrence of `token` in `text` (LINE and COL 1-based)."""
    index = -1
    for _ in range(nth + 1):
        index = text.index(token, index + 1)
    line = text.count("\n", 0, index) + 1
    column = index - text.rfind("\n", 0, index)
    return f"f.yaml:{line}:{column}"


def _flow(nodes: str, variables: str = VARS, start: str = "a", head: str = "") -> str:
    text = f"flowlang: 1\nid: f\nstart: {start}\n{head}"
    if variables:
        text += "variables:\n" + variables
    return text + "nodes:\n" + nodes


def _one(node: str) -> str:
    """A flow whose start node `a` is `node`, with a `stop` node `z` when it is named."""
    return _flow(f"  a: {node}\n" + ("  z: {type: stop}\n" if "z" in node.replace("type", "") else ""))


# -- every node type: a minimal valid node ------------------------------------------------------------------

VALID = {
    "play": "{type: play, prompt: 'tts:Hola', next: z}",
    "collect": "{type: collect, into: vars.s, next: z}",
    "set": "{type: set, assign: {vars.s: \"'x'\"}, next: z}",
    "switch": "{type: switch, cases: [{when: 'true', next: z}]}",
    "check_hours": "{type: check_hours, next: z}",
    "invoke": "{type: invoke, function: crm.identify, on: {error: z}}",
    "queue": "{type: queue, queue: ventas, next: z}",
    "wait": "{type: wait, seconds: 0, next: z}",
    "transfer": "{type: transfer, to: {number: \"'+34910000000'\"}, next: z}",
    "callback": "{type: callback, next: z}",
    "subflow": "{type: subflow, flow: encuesta, next: z}",
    "return": "{type: return}",
    "disconnect": "{type: disconnect}",
    "stop": "{type: stop}",
}


@pytest.mark.parametrize("node_type", list(VALID))
def test_a_minimal_node_of_each_type_is_valid(node_type: str) -> None:
    checked = check_flow(_one(VALID[node_type]), "f.yaml")
    assert checked.diagnostics == []
    assert checked.flow is not None and checked.flow.nodes["a"].type == node_type


def test_every_node_type_has_a_minimal_valid_node() -> None:
    from centralita.flows.spec import NODE_TYPES

    assert set(VALID) == set(NODE_TYPES)


# -- each parameter and outcome refused, at its place ----------------------------------------------------------

OUTCOME = "{o!r} is not an outcome of a {t} node ({c})"
# (node, token at which the problem is reported, which occurrence of it, message)
REFUSED = [
    # play
    ("{type: play, prompt: 5, next: z}", "5", 0, "a prompt is tts:<text> or a prompt id"),
    ("{type: play, prompt: 'bad id!', next: z}", "'bad", 0, "a prompt is tts:<text> or a prompt id"),
    ("{type: play, prompt: 'tts:x', barge_in: 'yes', next: z}", "'yes'", 0, "true or false was expected"),
    ("{type: play, next: z}", "a:", 0, "missing field 'prompt'"),
    ("{type: play, prompt: 'tts:x', on: {fail: z}}", "fail", 0, OUTCOME.format(o="fail", t="play", c="error")),
    ("{type: play, prompt: 'tts:x', loud: 1, next: z}", "loud", 0, "unknown field 'loud' for a play node"),
    # collect
    ("{type: collect, next: z}", "a:", 0, "missing field 'into'"),
    ("{type: collect, into: contact.id, next: z}", "contact.id", 0, f"'contact.id' cannot be written; {WRITABLE}"),
    ("{type: collect, into: vars.nope, next: z}", "vars.nope", 0, "vars.nope is not declared in variables"),
    (
        "{type: collect, into: 'contact.attributes.a.b', next: z}",
        "'contact",
        0,
        "an attribute name has no '$' or '.' (and 1 to 100 characters)",
    ),
    ("{type: collect, into: vars.i, next: z}", "vars.i", 0, "collect stores text, but vars.i is int"),
    (
        "{type: collect, into: contact.self_service, next: z}",
        "contact.self",
        0,
        "collect stores text, but contact.self_service is bool",
    ),
    ("{type: collect, into: vars.s, max_digits: 0, next: z}", "0, next", 0, "must be a whole number from 1 to 16"),
    ("{type: collect, into: vars.s, max_digits: 17, next: z}", "17", 0, "must be a whole number from 1 to 16"),
    ("{type: collect, into: vars.s, max_digits: 2.0, next: z}", "2.0", 0, "must be a whole number from 1 to 16"),
    ("{type: collect, into: vars.s, terminator: '##', next: z}", "'##'", 0, "the terminator is one key: 0-9, * or #"),
    ("{type: collect, into: vars.s, timeout_s: 0, next: z}", "0,", 0, "must be a number over 0 and up to 86400"),
    (
        "{type: collect, into: vars.s, valid: \"'x'\", next: z}",
        "\"'x'",
        0,
        "the expression gives string where bool is needed",
    ),
    ("{type: collect, into: vars.s, type_ahead: 1, next: z}", "1,", 0, "true or false was expected"),
    ("{type: collect, into: vars.s, options: [], next: z}", "options", 0, "options is a list of {value, label}"),
    ("{type: collect, into: vars.s, options: [x], next: z}", "x]", 0, "an option is {value, label}"),
    ("{type: collect, into: vars.s, options: [{value: '1'}], next: z}", "{value", 0, "label must be text"),
    ("{type: collect, into: vars.s, options: [{value: 1, label: u}], next: z}", "1,", 0, "value must be text"),
    ("{type: collect, into: vars.s, options: [{value: '1', label: u, x: 1}], next: z}", "x:", 0, "unknown field 'x'"),
    (
        "{type: collect, into: vars.s, on: {busy: z}}",
        "busy",
        0,
        OUTCOME.format(o="busy", t="collect", c="error, invalid, timeout"),
    ),
    # set
    ("{type: set, next: z}", "a:", 0, "missing field 'assign'"),
    ("{type: set, assign: [], next: z}", "assign", 0, "assign is a mapping of place to expression"),
    ("{type: set, assign: {vars.s: 1}, next: z}", "1}", 0, "the expression gives int where string is needed"),
    (
        "{type: set, assign: {contact.self_service: \"'y'\"}, next: z}",
        "\"'y'",
        0,
        "the expression gives string where bool is needed",
    ),
    (
        "{type: set, assign: {contact.reason: {a: 1}}, next: z}",
        "contact",
        0,
        "an expression was expected (a string, number or boolean)",
    ),
    (
        "{type: set, assign: {customer.name: \"'x'\"}, next: z}",
        "customer",
        0,
        f"'customer.name' cannot be written; {WRITABLE}",
    ),
    ("{type: set, assign: {vars.s: \"'x'\"}, on: {fail: z}}", "fail", 0, OUTCOME.format(o="fail", t="set", c="error")),
    # switch
    ("{type: switch, default: z}", "a:", 0, "missing field 'cases'"),
    ("{type: switch, cases: {when: 'true'}, default: z}", "cases", 0, "cases is a list of {when, next}"),
    ("{type: switch, cases: [x], default: z}", "x]", 0, "a case is {when, next}"),
    ("{type: switch, cases: [{when: 'true'}], default: z}", "{when", 0, "missing field 'next'"),
    ("{type: switch, cases: [{next: z}], default: z}", "{next", 0, "missing field 'when'"),
    ("{type: switch, cases: [{when: 'true', next: z, x: 1}]}", "x:", 0, "unknown field 'x'"),
    ("{type: switch, cases: [{when: 1, next: z}]}", "1,", 0, "the expression gives int where bool is needed"),
    ("{type: switch, cases: [{when: 'true', next: nowhere}], default: z}", "nowhere", 0, "no node is called 'nowhere'"),
    (
        "{type: switch, cases: [{when: 'true', next: z}], default: elsewhere}",
        "elsewhere",
        0,
        "no node is called 'elsewhere'",
    ),
    ("{type: switch, cases: [{when: 'true', next: z}], on: {error: z}}", "error", 0, "a switch node has no outcomes"),
    # check_hours
    ("{type: check_hours, schedule: 'a b', next: z}", "'a b'", 0, "an id was expected (or =expression)"),
    ("{type: check_hours, schedule: '', next: z}", "''", 0, "an id was expected (or =expression)"),
    ("{type: check_hours, schedule: [x], next: z}", "schedule", 0, "an id was expected (or =expression)"),
    (
        "{type: check_hours, on: {busy: z}}",
        "busy",
        0,
        OUTCOME.format(o="busy", t="check_hours", c="closed, error, holiday, open"),
    ),
    # invoke
    ("{type: invoke, on: {error: z}}", "a:", 0, "missing field 'function'"),
    (
        "{type: invoke, function: Crm.Identify, on: {error: z}}",
        "Crm",
        0,
        "a function is a dotted lowercase name, e.g. crm.identify",
    ),
    (
        "{type: invoke, function: crm, on: {error: z}}",
        "crm",
        0,
        "a function is a dotted lowercase name, e.g. crm.identify",
    ),
    (
        "{type: invoke, function: x.y, input: [1], on: {error: z}}",
        "input",
        0,
        "input is a mapping of name to expression",
    ),
    ("{type: invoke, function: x.y, input: {'a b': 1}, on: {error: z}}", "'a b'", 0, "'a b' is not a valid name"),
    (
        "{type: invoke, function: x.y, input: {k: [1]}, on: {error: z}}",
        "k:",
        0,
        "an expression was expected (a string, number or boolean)",
    ),
    (
        "{type: invoke, function: x.y, timeout_s: 301, on: {error: z}}",
        "301",
        0,
        "must be a number over 0 and up to 300",
    ),
    ("{type: invoke, function: x.y, retries: 11, on: {error: z}}", "11", 0, "must be a whole number from 0 to 10"),
    (
        "{type: invoke, function: x.y, result_into: [k], on: {error: z}}",
        "result_into",
        0,
        "result_into is a mapping of result key to place",
    ),
    (
        "{type: invoke, function: x.y, result_into: {k: vars.nope}, on: {error: z}}",
        "vars.nope",
        0,
        "vars.nope is not declared in variables",
    ),
    (
        "{type: invoke, function: x.y, result_into: {k: contact.id}, on: {error: z}}",
        "contact.id",
        0,
        f"'contact.id' cannot be written; {WRITABLE}",
    ),
    ("{type: invoke, function: x.y, result_into: {1: vars.s}, on: {error: z}}", "1:", 0, "a result key is text"),
    ("{type: invoke, function: x.y, validate: xml, on: {error: z}}", "xml", 0, "must be one of json, string_map"),
    (
        "{type: invoke, function: x.y, on: {error: z, busy: z}}",
        "busy",
        0,
        OUTCOME.format(o="busy", t="invoke", c="error, timeout"),
    ),
    # queue
    ("{type: queue, next: z}", "a:", 0, "missing field 'queue'"),
    ("{type: queue, queue: 'a b', next: z}", "'a b'", 0, "an id was expected (or =expression)"),
    ("{type: queue, queue: " + "q" * 51 + ", next: z}", "qq", 0, "an id was expected (or =expression)"),
    (
        "{type: queue, queue: q, priority: \"'alta'\", next: z}",
        "\"'alta'",
        0,
        "the expression gives string where int is needed",
    ),
    ("{type: queue, queue: q, priority: 1.5, next: z}", "1.5", 0, "the expression gives float where int is needed"),
    (
        "{type: queue, queue: q, age_adjust_s: 1.5, next: z}",
        "1.5",
        0,
        "must be a whole number from -31536000 to 31536000",
    ),
    ("{type: queue, queue: q, when: 1, next: z}", "1,", 0, "the expression gives int where bool is needed"),
    ("{type: queue, queue: q, steps: {}, next: z}", "steps", 0, "steps is a list of {require, duration_s}"),
    ("{type: queue, queue: q, steps: [x], next: z}", "x]", 0, "a step is {require, duration_s}"),
    ("{type: queue, queue: q, steps: [{duration_s: 5}], next: z}", "{duration_s", 0, "missing field 'require'"),
    ("{type: queue, queue: q, steps: [{require: 'true', x: 1}], next: z}", "x:", 0, "unknown field 'x'"),
    (
        "{type: queue, queue: q, steps: [{require: 'true', duration_s: -5}], next: z}",
        "-5",
        0,
        "duration_s must be a number of seconds over 0",
    ),
    (
        "{type: queue, queue: q, steps: [{require: 'true', duration_s: 'x'}], next: z}",
        "'x'",
        0,
        "duration_s must be a number of seconds over 0",
    ),
    (
        "{type: queue, queue: q, steps: [{require: 1}], next: z}",
        "1}",
        0,
        "the expression gives int where bool is needed",
    ),
    ("{type: queue, queue: q, after_steps: all, next: z}", "all", 0, "must be one of any_agent, keep_last"),
    ("{type: queue, queue: q, skip_unstaffed_steps: 1, next: z}", "1,", 0, "true or false was expected"),
    ("{type: queue, queue: q, replace: 1, next: z}", "1,", 0, "true or false was expected"),
    ("{type: queue, queue: q, keep_age: 1, next: z}", "1,", 0, "true or false was expected"),
    ("{type: queue, queue: q, join_when_unstaffed: 1, next: z}", "1,", 0, "true or false was expected"),
    ("{type: queue, queue: q, max_wait_s: 0, on: {max_wait: z}}", "0,", 0, "must be a number over 0 and up to 604800"),
    (
        "{type: queue, queue: q, max_wait_unstaffed_s: 604801, on: {unstaffed: z}}",
        "604801",
        0,
        "must be a number over 0 and up to 604800",
    ),
    ("{type: queue, queue: q, exit_keys: [], next: z}", "exit_keys", 0, "exit_keys is a mapping of key to node"),
    ("{type: queue, queue: q, exit_keys: {'9': nowhere}, next: z}", "nowhere", 0, "no node is called 'nowhere'"),
    ("{type: queue, queue: q, exit_keys: {'A': z}, next: z}", "'A'", 0, "an exit key is one of 0-9, * or #"),
    ("{type: queue, queue: q, exit_keys: {9: z}, next: z}", "9:", 0, "quote the exit key: '9'"),
    ("{type: queue, queue: q, exit_keys: {10: z}, next: z}", "10:", 0, "an exit key is one of 0-9, * or #"),
    (
        "{type: queue, queue: q, on: {fail: z}}",
        "fail",
        0,
        OUTCOME.format(o="fail", t="queue", c="error, full, max_wait, skipped, unstaffed"),
    ),
    # wait
    ("{type: wait, next: z}", "a:", 0, "missing field 'seconds'"),
    ("{type: wait, seconds: -1, next: z}", "-1", 0, "must be a number from 0 to 28800"),
    ("{type: wait, seconds: '5', next: z}", "'5'", 0, "must be a number from 0 to 28800"),
    ("{type: wait, seconds: 5, treatment: loud, next: z}", "loud", 0, "must be one of music, ringback, silence"),
    ("{type: wait, seconds: 5, prompt: [x], next: z}", "prompt", 0, "a prompt is tts:<text> or a prompt id"),
    ("{type: wait, seconds: 5, on: {timeout: z}}", "timeout", 0, OUTCOME.format(o="timeout", t="wait", c="error")),
    # transfer
    ("{type: transfer, next: z}", "a:", 0, "missing field 'to'"),
    (
        "{type: transfer, to: {number: 34910000000}, next: z}",
        "34910000000",
        0,
        "the expression gives int where string is needed",
    ),
    ("{type: transfer, to: {voicemail: 'vars.'}, next: z}", "'}", 0, None),
    ("{type: transfer, to: {flow: 'a b'}, next: z}", "'a b'", 0, "an id was expected (or =expression)"),
    (
        "{type: transfer, to: {number: \"'1'\", flow: x}, next: z}",
        "to:",
        0,
        "to is one of {number: expr}, {flow: id} or {voicemail: expr}",
    ),
    (
        "{type: transfer, to: {fax: \"'1'\"}, next: z}",
        "to:",
        0,
        "to is one of {number: expr}, {flow: id} or {voicemail: expr}",
    ),
    ("{type: transfer, to: {}, next: z}", "to:", 0, "to is one of {number: expr}, {flow: id} or {voicemail: expr}"),
    (
        "{type: transfer, to: \"'+34'\", next: z}",
        "\"'+34'",
        0,
        "to is one of {number: expr}, {flow: id} or {voicemail: expr}",
    ),
    ("{type: transfer, to: {flow: x}, on: {busy: z}}", "busy", 0, OUTCOME.format(o="busy", t="transfer", c="fail")),
    # callback
    ("{type: callback, number: 600, next: z}", "600", 0, "the expression gives int where string is needed"),
    ("{type: callback, queue: 'a b', next: z}", "'a b'", 0, "an id was expected (or =expression)"),
    ("{type: callback, initial_delay_s: -1, next: z}", "-1", 0, "must be a number from 0 to 604800"),
    ("{type: callback, max_retries: 11, next: z}", "11", 0, "must be a whole number from 0 to 10"),
    ("{type: callback, retry_interval_s: 0, next: z}", "0,", 0, "must be a number over 0 and up to 604800"),
    (
        "{type: callback, on: {error: z}}",
        "error",
        0,
        OUTCOME.format(o="error", t="callback", c="invalid_number, not_dialable"),
    ),
    # subflow
    ("{type: subflow, next: z}", "a:", 0, "missing field 'flow'"),
    ("{type: subflow, flow: 7, next: z}", "7", 0, "an id was expected (or =expression)"),
    ("{type: subflow, flow: x, on: {fail: z}}", "fail", 0, OUTCOME.format(o="fail", t="subflow", c="error")),
    # return, disconnect, stop
    ("{type: return, next: a}", "next", 0, "a return node has no next"),
    ("{type: return, on: {error: z}}", "error", 0, "a return node has no outcomes"),
    ("{type: return, flow: x}", "flow: x", 0, "unknown field 'flow' for a return node"),
    ("{type: disconnect, tone: loud}", "loud", 0, "must be one of none, busy"),
    ("{type: disconnect, prompt: ''}", "''", 0, "a prompt is tts:<text> or a prompt id"),
    ("{type: disconnect, next: a}", "next", 0, "a disconnect node has no next"),
    ("{type: disconnect, on: {fail: z}}", "fail", 0, OUTCOME.format(o="fail", t="disconnect", c="error")),
    ("{type: stop, next: a}", "next", 0, "a stop node has no next"),
    ("{type: stop, on: {error: z}}", "error", 0, "a stop node has no outcomes"),
    ("{type: stop, prompt: 'tts:x'}", "prompt", 0, "unknown field 'prompt' for a stop node"),
    # any node
    ("{type: play, prompt: 'tts:x', next: nowhere}", "nowhere", 0, "no node is called 'nowhere'"),
    ("{type: play, prompt: 'tts:x', next: [z]}", "next", 0, "a node id was expected"),
    ("{type: play, prompt: 'tts:x', on: [z]}", "on:", 0, "on must be a mapping of outcome to node"),
    ("{type: play, prompt: 'tts:x', on: {error: nowhere}}", "nowhere", 0, "no node is called 'nowhere'"),
    ("{type: Play, prompt: 'tts:x'}", "Play", 0, "type must be one of " + ", ".join(VALID)),
    ("{prompt: 'tts:x'}", "a:", 0, "type must be one of " + ", ".join(VALID)),
    ("[play]", "a:", 0, "a node is a mapping with a type"),
]


@pytest.mark.parametrize(("node", "token", "nth", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_each_parameter_and_outcome_is_refused_at_its_place(
    node: str, token: str, nth: int, message: str | None
) -> None:
    text = _one(node)
    found = [d for d in _report(text) if ": error: " in d]
    if message is None:  # an expression error: its own message, tested in test_expressions
        assert [d.split(": error: ")[0] for d in found] == [where(text, token, nth)], found
        return
    assert found == [f"{where(text, token, nth)}: error: node 'a': {message}"]


# -- §4 rule 1: YAML, fields, kinds, time zone ---------------------------------------------------------------


def test_rule_1_yaml_syntax_duplicates_fields_kinds_and_time_zone() -> None:
    broken = "flowlang: 1\nid: f\nnodes: {a: [}\n"
    [syntax] = _report(broken)
    assert syntax.startswith(f"{where(broken, '}')}: error: YAML syntax:")
    text = _flow("  a: {type: stop}\n", head="id: g\ntimezone: Europe/Madird\nlimits: [5]\ncolour: red\n")
    assert _report(text) == [
        f"{where(text, 'id', 1)}: error: duplicate key 'id' (first at line 2)",
        f"{where(text, 'Europe')}: error: 'Europe/Madird' is not an IANA time zone",
        f"{where(text, 'limits')}: error: limits must be a mapping",
        f"{where(text, 'colour')}: error: unknown field 'colour'",
    ]
    kinds = "flowlang: 1.0\nid: f\nstart: zz\nvariables: [x]\nnodes: [a]\n"
    assert _report(kinds) == [
        f"{where(kinds, '1.0')}: error: flowlang must be 1 (the only version there is)",
        f"{where(kinds, 'zz')}: error: no node is called 'zz'",
        f"{where(kinds, 'variables')}: error: variables must be a mapping of name to declaration",
        f"{where(kinds, 'nodes')}: error: nodes must be a mapping of node id to node",
    ]
    assert _report("") == [
        "f.yaml:1:1: error: missing field 'flowlang'",
        "f.yaml:1:1: error: missing field 'id'",
        "f.yaml:1:1: error: missing field 'start'",
        "f.yaml:1:1: error: missing field 'nodes'",
    ]


def test_rule_1_yaml_1_2_on_yes_no_are_strings() -> None:
    text = _one("{type: collect, into: vars.s, on: {timeout: z, invalid: z}, next: z}").replace("on:", "on:", 1)
    assert _report(text) == []
    yes = _one("{type: play, prompt: 'tts:x', barge_in: yes, next: z}")
    assert _report(yes) == [f"{where(yes, 'yes')}: error: node 'a': true or false was expected"]


# -- rule 2: ids, node count, targets, outcomes --------------------------------------------------------------


def test_rule_2_bad_ids() -> None:
    long_id = "n" * 51
    text = _flow(
        f"  b c: {{type: stop}}\n  {long_id}: {{type: stop}}\n  a: {{type: stop}}\n",
        variables="    9x: {type: int}\n",
        head="",
    ).replace("id: f", "id: 'mi flujo'")
    assert _report(text) == [
        f"{where(text, chr(39) + 'mi')}: error: 'mi flujo' is not a valid id (letters, digits and _, at most 50)",
        f"{where(text, '9x')}: error: '9x' is not a valid variable name",
        f"{where(text, 'b c')}: error: 'b c' is not a valid node id",
        f"{where(text, long_id)}: error: '{long_id}' is not a valid node id",
    ]
    ok = _flow(f"  {'n' * 50}: {{type: stop}}\n", start="n" * 50)
    assert _report(ok) == []


def test_rule_2_at_most_250_nodes() -> None:
    nodes = "".join(f"  n{i}: {{type: play, prompt: 'tts:x', next: n{i + 1}}}\n" for i in range(249))
    text = _flow(nodes + "  n249: {type: stop}\n", start="n0")
    assert _report(text) == []
    more = text + "  n250: {type: stop}\n"
    assert _report(more)[0] == f"{where(more, 'nodes:')}: error: 251 nodes; a flow has at most 250"


def test_rule_2_every_kind_of_transition_target() -> None:
    text = _flow(
        "  a: {type: switch, cases: [{when: 'true', next: c1}], default: d1, next: n1}\n"
        "  b: {type: queue, queue: q, exit_keys: {'*': e1}, on: {full: o1}, next: a}\n",
        start="s1",
    )
    assert [d.split(": error: ")[0] for d in _report(text)] == [
        where(text, "s1"),
        where(text, "c1"),
        where(text, "d1"),
        where(text, "n1"),
        where(text, "e1"),
        where(text, "o1"),
    ]
    assert all("no node is called" in d for d in _report(text))


# -- rule 3: variables -------------------------------------------------------------------------------------


def test_rule_3_undeclared_variables_and_defaults() -> None:
    variables = (
        "    s: {type: string, default: 1}\n"
        "    i: {type: int, default: 'x'}\n"
        "    f: {type: float, default: true}\n"
        "    b: {type: bool, default: 0}\n"
        "    t: {type: text}\n"
        "    g: {type: int, scope: tenant}\n"
        "    x: {type: int, visible: true}\n"
        "    y: 5\n"
        "    ok_f: {type: float, default: 1, scope: global}\n"
    )
    text = _flow("  a: {type: switch, cases: [{when: 'vars.nope == 1', next: z}]}\n  z: {type: stop}\n", variables)
    assert _report(text) == [
        f"{where(text, '1}')}: error: the default is not of type string",
        f"{where(text, chr(39) + 'x')}: error: the default is not of type int",
        f"{where(text, 'true}')}: error: the default is not of type float",
        f"{where(text, '0}')}: error: the default is not of type bool",
        f"{where(text, 'text')}: error: type must be one of string, int, float, bool",
        f"{where(text, 'tenant')}: error: scope must be one of flow, contact, global",
        f"{where(text, 'visible')}: error: unknown field 'visible'",
        f"{where(text, '5')}: error: a variable is declared as {{type, scope, default, sensitive}}",
        f"{where(text, 'nope')}: error: node 'a': expression: variable nope is not declared",
    ]
    checked = check_flow(text.replace("vars.nope", "vars.ok_f"), "f.yaml")
    assert checked.flow is None  # the other errors remain


@pytest.mark.parametrize(
    ("declaration", "ok"),
    [
        ("{type: int, default: 9223372036854775807}", True),
        ("{type: int, default: -9223372036854775808}", True),
        ("{type: int, default: 9223372036854775808}", False),
        ("{type: int, default: -9223372036854775809}", False),
        ("{type: float, default: 9223372036854775808}", True),
    ],
)
def test_rule_3_int_defaults_are_64_bit(declaration: str, ok: bool) -> None:
    text = _flow("  a: {type: stop}\n", f"    n: {declaration}\n")
    number = declaration.split("default: ")[1].rstrip("}")
    expected = [] if ok else [f"{where(text, number)}: error: the default is not of type int"]
    assert _report(text) == expected


@pytest.mark.parametrize(
    ("literal", "ok"),
    [
        ("9223372036854775807", True),
        ("-9223372036854775808", True),
        ("9223372036854775808", False),
        ("-9223372036854775809", False),
    ],
)
def test_rule_4_int_literals_are_64_bit(literal: str, ok: bool) -> None:
    text = _one(f"{{type: queue, queue: q, priority: {literal}, next: z}}")
    expected = [] if ok else [f"{where(text, literal)}: error: node 'a': the number is too large (at most 64 bits)"]
    assert _report(text) == expected
    quoted = _one(f"{{type: queue, queue: q, priority: '{literal}', next: z}}")
    assert (_report(quoted) == []) == ok


# -- rule 4: expressions ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("node", "token", "message"),
    [
        # `=expr` id parameters: the position is inside the scalar, after the `=`
        ("{type: queue, queue: '=lower(vars.s', next: z}", "', next", "expected ')', found end of expression"),
        ("{type: queue, queue: =nonsense(1), next: z}", "nonsense", "unknown function nonsense()"),
        ("{type: check_hours, schedule: '=vars.s ==', next: z}", "', next", "unexpected end of expression"),
        ("{type: subflow, flow: '=vars.nope', next: z}", "nope", "variable nope is not declared"),
        ("{type: transfer, to: {flow: '=1 +'}, next: z}", "'}", "unexpected end of expression"),
        ('{type: callback, queue: "=upper(vars.s, 1)", next: z}', "upper", "upper() takes 1 argument, not 2"),
        # prompts: the position is inside the prompt
        ("{type: play, prompt: 'tts:Hola {{vars.s +}} y {{vars.s}}', next: z}", "}}", "unexpected end of expression"),
        ("{type: collect, into: vars.s, prompt: 'tts:{{vars.i + vars.s}}', next: z}", "vars.s}}", None),
        (
            "{type: wait, seconds: 1, prompt: 'tts:Hola {{agent.id}}', next: z}",
            "agent",
            "agent.* is only available in steps[].require",
        ),
        ("{type: disconnect, prompt: 'tts:{{value}}'}", "value", "value is only available in collect.valid"),
        # everywhere else
        ("{type: set, assign: {vars.s: 'agent.id'}, next: z}", "agent", "agent.* is only available in steps[].require"),
        ("{type: queue, queue: q, when: 'value == 1', next: z}", "value", "value is only available in collect.valid"),
        ("{type: set, assign: {vars.i: 'len(1, 2)'}, next: z}", "len", "len() takes 1 argument, not 2"),
        ("{type: set, assign: {vars.i: 'vars.s - 1'}, next: z}", "vars.s", None),
        ("{type: invoke, function: x.y, input: {k: 'vars.s +'}, on: {error: z}}", "'}", "unexpected end of expression"),
        ("{type: transfer, to: {number: 'nope()'}, next: z}", "nope", "unknown function nope()"),
        ("{type: transfer, to: {voicemail: '((1)'}, next: z}", "'}", "expected ')', found end of expression"),
        ("{type: callback, number: 'vars.s +', next: z}", "', next", "unexpected end of expression"),
    ],
)
def test_rule_4_expressions_at_their_token(node: str, token: str, message: str | None) -> None:
    text = _one(node)
    found = _report(text)
    assert [d.split(": error: ")[0] for d in found] == [where(text, token)], found
    if message is not None:
        assert found[0].endswith(f": error: node 'a': expression: {message}")
    else:
        assert ": error: node 'a': expression: " in found[0]


def test_rule_4_attributes_are_untyped_and_agent_is_known_in_require() -> None:
    text = _one(
        "{type: queue, queue: q, when: 'contact.attributes.x > 1 AND customer.attributes.y == true', "
        "steps: [{require: \"agent.skills.banca >= 4 AND agent.languages HAS 'es'\"}], next: z}"
    )
    assert _report(text) == []
    valid = _one("{type: collect, into: vars.s, valid: 'len(value) == 4', next: z}")
    assert _report(valid) == []


def test_rule_4_a_folded_expression_with_an_error_on_its_second_line() -> None:
    text = _flow(
        "  a:\n"
        "    type: switch\n"
        "    cases:\n"
        "      - when: >\n"
        "          len(vars.s) > 1 AND\n"
        "          len(1) > 0\n"
        "        next: z\n"
        "  z: {type: stop}\n"
    )
    # the bad argument is the `1` of the second line, not the first `1` of the scalar
    [problem] = _report(text)
    assert problem.startswith(f"{where(text, '1)')}: error: node 'a': expression: argument 1 of len()")
    quoted = _flow(
        '  a: {type: switch, cases: [{when: "len(vars.s) > 1 AND\n      len(vars.s) >", next: z}]}\n  z: {type: stop}\n'
    )
    # an expression cut short is reported at its end, as on one line
    assert _report(quoted) == [
        f"{where(quoted, chr(34) + ', next')}: error: node 'a': expression: unexpected end of expression"
    ]
    prompt = _flow(
        "  a:\n"
        "    type: play\n"
        "    prompt: >-\n"
        "      tts:Hola {{vars.s}},\n"
        "      {{vars.s}} {{len(vars.s, 1)}}\n"
        "    next: z\n"
        "  z: {type: stop}\n"
    )
    assert _report(prompt) == [f"{where(prompt, 'len')}: error: node 'a': expression: len() takes 1 argument, not 2"]


def test_rule_4_the_type_of_a_whole_expression() -> None:
    text = _one("{type: switch, cases: [{when: 'vars.i + 1', next: z}]}")
    assert _report(text) == [
        f"{where(text, chr(39) + 'vars')}: error: node 'a': the expression gives int where bool is needed"
    ]


# -- rule 5: ranges and timers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("node", "token", "message"),
    [
        ("{type: collect, into: vars.s, max_digits: 16, next: z}", None, None),
        ("{type: wait, seconds: 28800, next: z}", None, None),
        ("{type: wait, seconds: 28800.5, next: z}", "28800.5", "must be a number from 0 to 28800"),
        (
            "{type: queue, queue: q, steps: [{require: 'true', duration_s: null}, {require: 'true', duration_s: 5}], "
            "next: z}",
            "null",
            "only the last step may last for ever (duration_s null)",
        ),
        (
            "{type: queue, queue: q, steps: [{require: 'true'}, {require: 'false'}], next: z}",
            "{require",
            "only the last step may last for ever (duration_s null)",
        ),
        ("{type: queue, queue: q, steps: [{require: 'true', duration_s: 5}, {require: 'true'}], next: z}", None, None),
        (
            "{type: queue, queue: q, steps: [{require: 'true', duration_s: 0.0}], next: z}",
            "0.0",
            "duration_s must be a number of seconds over 0",
        ),
        ("{type: queue, queue: q, steps: [{require: 'true', duration_s: 604800}], next: z}", None, None),
        (
            "{type: queue, queue: q, steps: [{require: 'true', duration_s: 604801}], next: z}",
            "604801",
            "duration_s is at most 604800 seconds (a week)",
        ),
        ("{type: queue, queue: q, exit_keys: {'#': z, '*': z, '0': z}, next: z}", None, None),
        ("{type: queue, queue: q, exit_keys: {'99': z}, next: z}", "'99'", "an exit key is one of 0-9, * or #"),
        (
            "{type: queue, queue: q, max_wait_s: 60, next: z}",
            "60",
            "max_wait_s needs on.max_wait (where to go when it expires)",
        ),
        ("{type: queue, queue: q, max_wait_s: 60, on: {max_wait: z}}", None, None),
        (
            "{type: queue, queue: q, max_wait_unstaffed_s: 30, on: {max_wait: z}}",
            "30",
            "max_wait_unstaffed_s needs on.unstaffed (where to go when it expires)",
        ),
        ("{type: queue, queue: q, max_wait_unstaffed_s: 30, on: {unstaffed: z}}", None, None),
    ],
)
def test_rule_5_ranges_and_timers(node: str, token: str | None, message: str | None) -> None:
    text = _one(node)
    expected = [] if token is None else [f"{where(text, token)}: error: node 'a': {message}"]
    assert _report(text) == expected


@pytest.mark.parametrize(
    ("limits", "ok"),
    [
        ("{max_steps: 1}", True),
        ("{max_steps: 1000000}", True),
        ("{}", True),
        ("{max_steps: 0}", False),
        ("{max_steps: 1000001}", False),
        ("{max_steps: 1.5}", False),
        ("{max_steps: true}", False),
        ("{max_steps: '10'}", False),
        ("{max_steps: null}", False),
    ],
)
def test_limits_max_steps(limits: str, ok: bool) -> None:
    text = _flow("  a: {type: stop}\n", head=f"limits: {limits}\n")
    value = limits[len("{max_steps: ") : -1]
    expected = [] if ok else [f"{where(text, value + '}')}: error: max_steps must be a whole number from 1 to 1000000"]
    assert _report(text) == expected
    checked = check_flow(text, "f.yaml")
    if ok:
        assert checked.flow is not None and checked.flow.max_steps == (int(value) if value else 10_000)
    unknown = _flow("  a: {type: stop}\n", head="limits: {max_nodes: 3}\n")
    assert _report(unknown) == [f"{where(unknown, 'max_nodes')}: error: unknown field 'max_nodes'"]


# -- rules 6 and 7: busy loops, four queues -------------------------------------------------------------------


def test_rule_6_busy_loops() -> None:
    text = _flow(
        "  a: {type: set, assign: {vars.i: 'vars.i + 1'}, next: b}\n"
        "  b: {type: check_hours, on: {closed: a}, next: w}\n"
        "  w: {type: wait, seconds: 5, next: c}\n"
        "  c: {type: queue, queue: q, on: {skipped: c}, next: w}\n"
    )
    message = "busy loop: a cycle through here runs no play, wait, collect or invoke"
    assert _report(text) == [
        f"{where(text, 'a:')}: error: node 'a': {message}",
        f"{where(text, 'c:')}: error: node 'c': {message}",
    ]


def test_rule_6_a_loop_with_a_timed_node_is_not_busy() -> None:
    for timed in (
        "{type: wait, seconds: 1, next: a}",
        "{type: collect, into: vars.s, next: a}",
        "{type: invoke, function: x.y, on: {error: a}, next: a}",
    ):
        text = _flow(f"  a: {{type: set, assign: {{vars.i: 1}}, next: t}}\n  t: {timed}\n")
        assert _report(text) == [], timed


def test_rule_7_a_path_joining_four_queues_and_what_resets_it() -> None:
    def chain(between: str = "", fourth: str = "cuatro") -> str:
        return _flow(
            "  a: {type: queue, queue: uno, next: b}\n"
            "  b: {type: queue, queue: dos, next: c}\n"
            f"  c: {{type: queue, queue: tres, next: {'x' if between else 'd'}}}\n"
            + (f"  x: {between}\n" if between else "")
            + f"  d: {{type: queue, queue: {fourth}, next: w}}\n"
            "  w: {type: wait, seconds: 30, next: w}\n"
        )

    four = chain()
    assert _report(four) == [
        f"{where(four, 'cuatro')}: error: node 'd': a path joins four queues (cuatro, dos, tres, uno); "
        "a contact waits in at most three"
    ]
    assert _report(chain(fourth="uno")) == []  # the same queue again
    assert _report(chain("{type: callback, next: d}")) == []  # a callback leaves all queues
    assert _report(chain("{type: play, prompt: 'tts:x', next: d}")) != []
    skipped = _flow(
        "  a: {type: queue, queue: uno, next: b}\n"
        "  b: {type: queue, queue: dos, next: c}\n"
        "  c: {type: queue, queue: tres, on: {full: d}, next: w}\n"
        "  d: {type: queue, queue: cuatro, next: w}\n"
        "  w: {type: wait, seconds: 30, next: w}\n"
    )
    assert _report(skipped) == []  # `full`: tres was not joined


# -- rule 8: the catalogue --------------------------------------------------------------------------------------


CATALOG = Catalog(
    queues=frozenset({"ventas"}),
    schedules=frozenset({"general"}),
    flows=frozenset({"encuesta"}),
    functions=frozenset({"crm.identify"}),
    prompts=frozenset({"bienvenida"}),
)


@pytest.mark.parametrize(
    ("node", "token", "message"),
    [
        ("{type: queue, queue: soporte, next: z}", "soporte", "no queue is called 'soporte'"),
        ("{type: callback, queue: soporte, next: z}", "soporte", "no queue is called 'soporte'"),
        ("{type: check_hours, schedule: verano, next: z}", "verano", "no schedule is called 'verano'"),
        ("{type: subflow, flow: otra, next: z}", "otra", "no flow is called 'otra'"),
        ("{type: transfer, to: {flow: otra}, next: z}", "otra", "no flow is called 'otra'"),
        (
            "{type: invoke, function: crm.open_case, on: {error: z}}",
            "crm.open",
            "no function is registered as 'crm.open_case'",
        ),
        ("{type: play, prompt: adios, next: z}", "adios", "no prompt is called 'adios'"),
        ("{type: collect, into: vars.s, prompt: adios, next: z}", "adios", "no prompt is called 'adios'"),
        ("{type: wait, seconds: 1, prompt: adios, next: z}", "adios", "no prompt is called 'adios'"),
        ("{type: disconnect, prompt: adios}", "adios", "no prompt is called 'adios'"),
        ("{type: queue, queue: ventas, next: z}", None, None),
        ("{type: queue, queue: '=vars.s', next: z}", None, None),  # an expression is not checked
        ("{type: play, prompt: bienvenida, next: z}", None, None),
        ("{type: play, prompt: 'tts:{{vars.s}}', next: z}", None, None),
        ("{type: subflow, flow: encuesta, next: z}", None, None),
        ("{type: check_hours, schedule: general, next: z}", None, None),
        ("{type: invoke, function: crm.identify, on: {error: z}}", None, None),
    ],
)
def test_rule_8_every_kind_of_id_on_publish(node: str, token: str | None, message: str | None) -> None:
    text = _one(node)
    assert _report(text) == []  # without a catalogue nothing is checked
    expected = [] if token is None else [f"{where(text, token)}: error: node 'a': {message}"]
    assert _report(text, CATALOG) == expected


# -- the warnings -------------------------------------------------------------------------------------------


def test_the_three_warnings() -> None:
    text = _flow(
        "  a: {type: invoke, function: x.y, next: q}\n"
        "  q: {type: queue, queue: ventas, next: p}\n"
        "  p: {type: play, prompt: 'tts:Espere', next: s}\n"
        "  s: {type: switch, cases: [{when: 'true', next: p}]}\n"
        "  lejos: {type: stop}\n"
    )
    checked = check_flow(text, "f.yaml")
    with using("en"):
        assert [str(d) for d in checked.diagnostics] == [
            f"{where(text, 'x.y')}: warning: node 'a': invoke without on.error: a failure falls through to next",
            f"{where(text, 'p:')}: warning: node 'p': the only timed node of a cycle through here is play: on chat "
            "it spins at once",
            f"{where(text, 'lejos')}: warning: node 'lejos': unreachable: no path from start leads here",
        ]
    assert checked.ok() and not checked.ok(strict=True)


def test_the_chat_spin_warning_does_not_depend_on_node_order() -> None:
    # the first node of the cycle in file order is not the play, nor next to it
    text = _flow(
        "  a: {type: queue, queue: ventas, next: b}\n"
        "  b: {type: set, assign: {vars.i: 1}, next: c}\n"
        "  c: {type: set, assign: {vars.i: 2}, next: d}\n"
        "  d: {type: play, prompt: 'tts:Espere', next: b}\n"
    )
    assert _report(text) == [
        f"{where(text, 'b:')}: warning: node 'b': the only timed node of a cycle through here is play: on chat "
        "it spins at once"
    ]


def test_collect_with_options_and_valid_warns_and_duplicate_options() -> None:
    text = _one(
        "{type: collect, into: vars.s, options: [{value: '1', label: Si}, {value: '1', label: No}], "
        "valid: 'true', next: z}"
    )
    assert _report(text) == [
        f"{where(text, chr(39) + '1', 1)}: error: node 'a': the value '1' is given twice",
        f"{where(text, chr(39) + 'true')}: warning: node 'a': with valid, options are only buttons: a reply outside "
        "them is not refused",
    ]


def test_result_into_targets() -> None:
    text = _one(
        "{type: invoke, function: x.y, result_into: {a: vars.s, b: contact.attributes.x, c: contact.reason, "
        "d: vars.nope, e: contact.attributes., f: 5}, on: {error: z}}"
    )
    assert _report(text) == [
        f"{where(text, 'vars.nope')}: error: node 'a': vars.nope is not declared in variables",
        f"{where(text, 'contact.attributes.,')}: error: node 'a': an attribute name has no '$' or '.' (and 1 to 100 "
        "characters)",
        f"{where(text, '5}')}: error: node 'a': a place to write was expected, e.g. vars.dni",
    ]


# -- several files ----------------------------------------------------------------------------------------


def test_flows_loaded_together_agree_on_type_and_scope() -> None:
    one = _flow("  a: {type: stop}\n", "    cola: {type: string, scope: contact}\n")
    same = one.replace("id: f", "id: g")
    other_scope = one.replace("scope: contact", "scope: flow")
    with using("en"):
        first, second, third = check_flows([(one, "uno.yaml"), (same, "dos.yaml"), (other_scope, "tres.yaml")])
        assert first.ok() and second.ok() and third.flow is None
        assert [str(d) for d in third.diagnostics] == [
            f"tres.yaml:{where(other_scope, 'cola')[len('f.yaml:') :]}: error: variable 'cola' is string in scope "
            "flow here but string in scope contact in uno.yaml"
        ]


# -- hostile inputs: diagnostics, never an exception or a hang ------------------------------------------------------


def _errors(text: str) -> list[str]:
    checked = check_flow(text, "f.yaml")
    assert checked.flow is None
    with using("en"):
        return [str(d) for d in checked.errors]


@pytest.mark.parametrize(
    "text",
    [
        "x: " + "[" * 10_000 + "]" * 10_000 + "\n",
        "x: " + "{a: " * 5_000 + "1" + "}" * 5_000 + "\n",
        "".join("  " * i + "a:\n" for i in range(3_000)) + "  " * 3_000 + "1\n",
    ],
    ids=["sequences", "flow mappings", "block mappings"],
)
def test_deep_nesting_is_an_error_not_a_crash(text: str) -> None:
    assert _errors(text) == ["f.yaml:1:1: error: the document nests too deeply to be read"]


def test_a_scalar_its_tag_cannot_build_is_an_error() -> None:
    text = _one("{type: wait, seconds: !!int x, next: z}")
    [problem] = _errors(text)
    assert problem.startswith("f.yaml:1:1: error: YAML: ") and "'x'" in problem
    assert _errors(_one("{type: wait, seconds: !!float y, next: z}"))


@pytest.mark.parametrize(
    ("node", "message"),
    [
        ("{type: wait, seconds: 99999999999999999999999999999, next: z}", "must be a number from 0 to 28800"),
        ("{type: wait, seconds: 1e400, next: z}", "must be a number from 0 to 28800"),
        ("{type: wait, seconds: .nan, next: z}", "must be a number from 0 to 28800"),
        ("{type: wait, seconds: -.inf, next: z}", "must be a number from 0 to 28800"),
        (
            "{type: queue, queue: q, priority: .nan, next: z}",
            "an expression was expected (a string, number or boolean)",
        ),
        ("{type: queue, queue: q, priority: .inf, next: z}", "the expression gives float where int is needed"),
        (
            "{type: set, assign: {vars.s: 'str(99999999999999999999)'}, next: z}",
            "expression: integer 99999999999999999999 does not fit in 64 bits",
        ),
    ],
)
def test_huge_numbers(node: str, message: str) -> None:
    assert [d.split(": node 'a': ")[1] for d in _errors(_one(node))] == [message]


def test_nul_bytes() -> None:
    [raw] = _errors(_one("{type: play, prompt: 'tts:\x00', next: z}"))
    assert raw.startswith("f.yaml:1:1: error: YAML syntax: unacceptable character #x0000")
    escaped = _one("{type: set, assign: {vars.s: \"'\\0'\"}, next: z}")
    assert check_flow(escaped, "f.yaml").diagnostics == []  # a NUL inside a string literal is only text
    zone = _flow("  a: {type: stop}\n", head='timezone: "Europe/\\0Madrid"\n')
    assert _errors(zone) == [f"{where(zone, chr(34) + 'Europe')}: error: 'Europe/\\x00Madrid' is not an IANA time zone"]


def test_ten_megabyte_scalars() -> None:
    big = "x" * 10_000_000
    assert check_flow(_one(f"{{type: play, prompt: 'tts:{big}', next: z}}"), "f.yaml").diagnostics == []
    big = big[:1_000_000]
    [problem] = _errors(_one(f"{{type: set, assign: {{vars.s: '{big}'}}, next: z}}"))
    assert "expression: an expression may have at most 2000 characters" in problem
    [problem] = _errors(_flow("  a: {type: stop}\n", start=big))
    assert problem.endswith(f"no node is called '{big[:10]}" + big[10:] + "'")


@pytest.mark.parametrize(
    ("nodes", "token"),
    [
        ("  [a]: {type: stop}\n", "[a]"),
        ("  {a: 1}: {type: stop}\n", "{a: 1}"),
        ("  ? [a, b]\n  : {type: stop}\n", "[a, b]"),
        ("  a: {type: play, prompt: 'tts:x', on: {[error]: a}}\n", "[error]"),
    ],
)
def test_keys_that_are_lists_or_mappings(nodes: str, token: str) -> None:
    text = _flow(nodes)
    assert f"{where(text, token)}: error: a key must be a plain value" in _errors(text)


def test_non_string_and_unicode_node_ids() -> None:
    text = _flow("  1: {type: stop}\n  null: {type: stop}\n  ñandú: {type: stop}\n  a: {type: stop}\n")
    assert _errors(text) == [
        f"{where(text, '1:')}: error: 1 is not a valid node id",
        f"{where(text, 'null')}: error: None is not a valid node id",
        f"{where(text, 'ñandú')}: error: 'ñandú' is not a valid node id",
    ]
    numeric_start = _flow("  a: {type: stop}\n", start="1")
    assert _errors(numeric_start) == [f"{where(numeric_start, '1', 1)}: error: a node id was expected"]


def test_ten_thousand_nodes() -> None:
    nodes = "".join(f"  n{i}: {{type: play, prompt: 'tts:x', next: n{i + 1}}}\n" for i in range(10_000))
    text = _flow(nodes + "  n10000: {type: stop}\n", start="n0")
    errors = _errors(text)
    assert errors == [f"{where(text, 'nodes:')}: error: 10001 nodes; a flow has at most 250"]


def test_anchors_and_aliases() -> None:
    text = _flow("  a: &play {type: play, prompt: 'tts:x', next: b}\n  b: *play\n")
    assert _report(text) == [
        f"{where(text, 'b:')}: warning: node 'b': the only timed node of a cycle through here is play: on chat it "
        "spins at once"
    ]
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcde", "bcdef", strict=True)
    )
    assert _errors(bomb) == ["f.yaml:1:1: error: the document expands to more than 200000 values (aliases?)"]
    merge = _flow("  a: {<<: {type: stop}}\n")
    assert f"{where(merge, '<<')}: error: merge keys (<<) are not supported" in _errors(merge)


def test_flows_loaded_together_know_each_other_on_publish() -> None:
    main = _flow("  a: {type: subflow, flow: encuesta, next: b}\n  b: {type: transfer, to: {flow: otra}}\n")
    survey = _flow("  a: {type: return}\n").replace("id: f", "id: encuesta")
    catalog = Catalog(flows=frozenset())
    with using("en"):
        first, second = check_flows([(main, "main.yaml"), (survey, "encuesta.yaml")], catalog)
        assert [str(d) for d in first.diagnostics] == [
            f"main.yaml:{where(main, 'otra')[len('f.yaml:') :]}: error: node 'b': no flow is called 'otra'"
        ]
        assert second.diagnostics == []
        [alone] = check_flows([(main, "main.yaml")], catalog)
        assert len(alone.errors) == 2  # without the other file, encuesta is unknown too


def test_an_id_with_a_trailing_line_break_is_not_an_id() -> None:
    # `$` in the id patterns also matches before a final line break: every id is matched whole
    text = (
        'flowlang: 1\nid: "f\\n"\nstart: a\nvariables: {"v\\n": {type: int}}\nnodes:\n'
        '  "b\\n": {type: stop}\n'
        '  a: {type: invoke, function: "x.y\\n", input: {"k\\n": 1}, on: {error: c}}\n'
        '  c: {type: play, prompt: "hola\\n"}\n'
    )
    assert [d.split(": error: ")[0] for d in _errors(text)] == [
        where(text, '"f'),
        where(text, '"v'),
        where(text, '"b'),
        where(text, '"x.y'),
        where(text, '"k'),
        where(text, '"hola'),
    ]


def test_an_on_key_that_is_not_an_outcome_leads_nowhere() -> None:
    # a stop node cannot loop back to itself through an outcome it does not have
    text = _flow("  a: {type: stop, on: {error: a}}\n")
    assert _report(text) == [f"{where(text, 'error')}: error: node 'a': a stop node has no outcomes"]
    play = _flow("  a: {type: play, prompt: 'tts:x', on: {busy: b}}\n  b: {type: stop}\n")
    assert _report(play) == [
        f"{where(play, 'busy')}: error: node 'a': 'busy' is not an outcome of a play node (error)",
        f"{where(play, 'b:')}: warning: node 'b': unreachable: no path from start leads here",
    ]


def test_load_yaml_reports_deep_nesting_itself() -> None:
    from centralita.core.located_yaml import load_yaml

    with using("en"):
        loaded = load_yaml("[" * 10_000 + "]" * 10_000, "deep.yaml")
        assert loaded.data is None
        assert [(e.line, e.column, e.message) for e in loaded.errors] == [
            (1, 1, "the document nests too deeply to be read")
        ]
        assert load_yaml("[" * 50 + "]" * 50, "ok.yaml").errors == []
