"""flowlang 1 documents: every static rule of flows-and-routing.md §4, reported all at once at the offending
key, scalar or expression token (`FILE:LINE:COL: error|warning: node '<id>': <message>`)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from centralita.core.i18n import using
from centralita.flows.document import Catalog, check_flow, check_flows

BANK = Path(__file__).resolve().parent / "banco_entrada.yaml"


def _report(text: str, catalog: Catalog | None = None) -> list[str]:
    with using("en"):
        return [str(d) for d in check_flow(text, "f.yaml", catalog).diagnostics]


def at(text: str, line: int, token: str, nth: int = 0) -> str:
    """`f.yaml:LINE:COL` of the `nth` occurrence of `token` on `line` (1-based) of `text`."""
    row = text.splitlines()[line - 1]
    column = -1
    for _ in range(nth + 1):
        column = row.index(token, column + 1)
    return f"f.yaml:{line}:{column + 1}"


def _flow(nodes: str, variables: str = "", start: str = "a") -> str:
    head = f"flowlang: 1\nid: f\nstart: {start}\n"
    if variables:
        head += "variables:\n" + variables
    return head + "nodes:\n" + nodes


def test_the_specs_bank_flow_is_valid() -> None:
    checked = check_flow(BANK.read_text(encoding="utf-8"), str(BANK))
    assert checked.diagnostics == []
    flow = checked.flow
    assert flow is not None and (flow.id, flow.start, flow.timezone, flow.max_steps) == (
        "banco_entrada",
        "bienvenida",
        "Europe/Madrid",
        10_000,
    )
    assert len(flow.nodes) == 27 and len({n.type for n in flow.nodes.values()}) == 10
    assert flow.variables["prio"].type == "int" and flow.variables["dni"].scope == "contact"
    queue = flow.nodes["en_cola"]
    assert queue.on == {"full": "ofrecer", "unstaffed": "ofrecer", "max_wait": "ofrecer"}
    assert ("steps", 0, "require") in queue.expressions and ("queue",) in queue.expressions


def test_every_problem_at_once_each_at_its_place() -> None:
    text = (
        "flowlang: 1\n"  # 1
        "id: 9bad\n"  # 2
        "timezone: Mars/Olympus\n"  # 3
        "start: nowhere\n"  # 4
        "colour: red\n"  # 5
        "variables:\n"  # 6
        "  n: {type: int, default: 'x'}\n"  # 7
        "nodes:\n"  # 8
        "  a: {type: play, prompt: 'tts:Hola', next: b, loud: true}\n"  # 9
        "  b:\n"  # 10
        "    type: collect\n"  # 11
        "    into: vars.missing\n"  # 12
        "    max_digits: 17\n"  # 13
        "    on: {timeout: a, busy: a}\n"  # 14
        '  c: {type: switch, cases: [{when: "vars.n >", next: a}]}\n'  # 15
    )
    assert _report(text) == [
        f"{at(text, 2, '9bad')}: error: '9bad' is not a valid id (letters, digits and _, at most 50)",
        f"{at(text, 3, 'Mars')}: error: 'Mars/Olympus' is not an IANA time zone",
        f"{at(text, 4, 'nowhere')}: error: no node is called 'nowhere'",
        f"{at(text, 5, 'colour')}: error: unknown field 'colour'",
        f"{at(text, 7, chr(39) + 'x')}: error: the default is not of type int",
        f"{at(text, 9, 'loud')}: error: node 'a': unknown field 'loud' for a play node",
        f"{at(text, 12, 'vars.missing')}: error: node 'b': vars.missing is not declared in variables",
        f"{at(text, 13, '17')}: error: node 'b': must be a whole number from 1 to 16",
        f"{at(text, 14, 'busy')}: error: node 'b': 'busy' is not an outcome of a collect node "
        "(error, invalid, timeout)",
        f"{at(text, 15, chr(34) + ', next')}: error: node 'c': expression: " + _expr_error("vars.n >"),  # its end
    ]
    assert check_flow(text, "f.yaml").flow is None


def _expr_error(source: str) -> str:
    from centralita.flows.expressions import ExprSyntaxError, parse

    try:
        parse(source)
    except ExprSyntaxError as exc:
        with using("en"):
            return exc.message
    raise AssertionError(f"{source!r} parses")


def test_yaml_1_2_duplicate_keys_and_syntax() -> None:
    # `on` is a string key in YAML 1.2 (not true), and a repeated node id is an error at the second one
    text = _flow("  a: {type: play, prompt: 'tts:x', on: {error: b}}\n  b: {type: stop}\n  a: {type: stop}\n")
    assert _report(text) == [f"{at(text, 7, 'a')}: error: duplicate key 'a' (first at line 5)"]
    [syntax] = _report("flowlang: 1\nnodes: [\n")
    assert syntax.startswith("f.yaml:3:1: error: YAML syntax:")
    assert _report("- 1\n") == ["f.yaml:1:1: error: a flow is a mapping of flowlang, id, start, variables and nodes"]


def test_missing_fields_and_wrong_kinds() -> None:
    assert _report("flowlang: 2\n") == [
        "f.yaml:1:1: error: missing field 'id'",
        "f.yaml:1:1: error: missing field 'start'",
        "f.yaml:1:1: error: missing field 'nodes'",
        "f.yaml:1:11: error: flowlang must be 1 (the only version there is)",
    ]
    text = _flow("  a: {type: queue, next: b, replace: 'yes'}\n  b: {type: dance}\n")
    assert _report(text) == [
        f"{at(text, 5, 'a')}: error: node 'a': missing field 'queue'",
        f"{at(text, 5, chr(39) + 'yes')}: error: node 'a': true or false was expected",
        f"{at(text, 6, 'dance')}: error: node 'b': type must be one of play, collect, set, switch, check_hours, "
        "invoke, queue, wait, transfer, callback, subflow, return, disconnect, stop",
    ]


def test_ids_targets_and_outcomes() -> None:
    text = _flow(
        "  a: {type: switch, cases: [{when: 'true', next: gone}], default: d, on: {x: d}}\n"
        "  b c: {type: stop}\n"
        "  d: {type: stop, next: a}\n"
        "  e: {type: queue, queue: ventas, exit_keys: {'12': a, '#': ghost}, next: d}\n",
    )
    assert _report(text) == [
        f"{at(text, 5, 'gone')}: error: node 'a': no node is called 'gone'",
        f"{at(text, 5, 'x:')}: error: node 'a': a switch node has no outcomes",
        f"{at(text, 6, 'b c')}: error: 'b c' is not a valid node id",
        f"{at(text, 7, 'next')}: error: node 'd': a stop node has no next",
        f"{at(text, 8, 'e')}: warning: node 'e': unreachable: no path from start leads here",
        f"{at(text, 8, chr(39) + '12')}: error: node 'e': an exit key is one of 0-9, * or #",
        f"{at(text, 8, 'ghost')}: error: node 'e': no node is called 'ghost'",
    ]


def test_at_most_250_nodes() -> None:
    nodes = "".join(f"  n{i}: {{type: play, prompt: 'tts:x', next: n{i + 1}}}\n" for i in range(250))
    nodes += "  n250: {type: stop}\n"
    [problem] = _report(_flow(nodes, start="n0"))
    assert problem == "f.yaml:4:1: error: 251 nodes; a flow has at most 250"


def test_variables_and_their_types() -> None:
    variables = (
        "    s: {type: string, scope: contact, default: null}\n"
        "    i: {type: int, default: 1.5}\n"
        "    b: {type: boolean}\n"
        "    g: {type: int, scope: tenant}\n"
    )
    text = _flow(
        "  a: {type: set, assign: {vars.s: 3, vars.nope: 1, contact.reason: \"'x'\", contact.id: 4}, next: z}\n"
        "  z: {type: stop}\n",
        variables,
    ).replace("variables:\n", "variables:\n", 1)
    lines = text.splitlines()
    row = next(i for i, line in enumerate(lines, 1) if "type: set" in line)
    assert _report(text) == [
        f"{at(text, 6, '1.5')}: error: the default is not of type int",
        f"{at(text, 7, 'boolean')}: error: type must be one of string, int, float, bool",
        f"{at(text, 8, 'tenant')}: error: scope must be one of flow, contact, global",
        f"{at(text, row, '3')}: error: node 'a': the expression gives int where string is needed",
        f"{at(text, row, 'vars.nope')}: error: node 'a': vars.nope is not declared in variables",
        f"{at(text, row, 'contact.id')}: error: node 'a': 'contact.id' cannot be written; writable: vars.<name>, "
        "contact.attributes.<key>, contact.reason, contact.language, contact.self_service, contact.queue",
    ]


def test_expressions_are_checked_where_they_stand() -> None:
    text = _flow(
        "  a:\n"  # 7
        "    type: collect\n"  # 8
        "    into: digits_go_here\n"  # 9
        '    valid: "len(value) == 4 AND agent.id == 1"\n'  # 10
        "    next: q\n"  # 11
        "  q:\n"  # 12
        "    type: queue\n"  # 13
        '    queue: "=lower(vars.cola"\n'  # 14
        "    priority: \"'alta'\"\n"  # 15
        "    when: \"value == '1'\"\n"  # 16
        "    steps: [{require: \"agent.skills.banca >= 4\", duration_s: 30}, {require: 'nonsense(1)'}]\n"  # 17
        "    next: w\n"  # 18
        "  w: {type: wait, seconds: 5, prompt: 'tts:Posición {{position(1, 2, 3)}}', next: q}\n",  # 19
        "    cola: {type: string}\n",
    )
    with using("en"):
        found = _report(text)
    messages = {line.split(": ", 1)[0]: line for line in found}
    assert [line.split(": error: ")[0] for line in found] == [
        at(text, 9, "digits_go_here"),
        at(text, 10, "agent"),
        at(text, 14, '"', 1),  # the end of the expression: a ')' was expected there
        at(text, 15, '"'),  # the whole expression has the wrong type
        at(text, 16, "value"),
        at(text, 17, "nonsense"),
        at(text, 19, "position"),
    ], found
    assert "'digits_go_here' cannot be written" in messages[at(text, 9, "digits_go_here")]
    assert "gives string where int is needed" in messages[at(text, 15, '"')]
    assert all(
        ": expression: " in messages[at(text, n, t)] for n, t in ((10, "agent"), (16, "value"), (17, "nonsense"))
    )


def test_ranges_and_timers() -> None:
    text = _flow(
        "  a: {type: wait, seconds: 28801, next: q}\n"  # 5
        "  q:\n"  # 6
        "    type: queue\n"  # 7
        "    queue: ventas\n"  # 8
        "    steps: [{require: 'true'}, {require: 'true', duration_s: 0}]\n"  # 9
        "    max_wait_s: 60\n"  # 10
        "    max_wait_unstaffed_s: 30\n"  # 11
        "    exit_keys: {'x': a}\n"  # 12
        "    next: a\n"  # 13
    )
    assert _report(text) == [
        f"{at(text, 5, '28801')}: error: node 'a': must be a number from 0 to 28800",
        f"{at(text, 9, '{')}: error: node 'q': only the last step may last for ever (duration_s null)",
        f"{at(text, 9, '0}')}: error: node 'q': duration_s must be a number of seconds over 0",
        f"{at(text, 10, '60')}: error: node 'q': max_wait_s needs on.max_wait (where to go when it expires)",
        f"{at(text, 11, '30')}: error: node 'q': max_wait_unstaffed_s needs on.unstaffed (where to go when it expires)",
        f"{at(text, 12, chr(39) + 'x')}: error: node 'q': an exit key is one of 0-9, * or #",
    ]


def test_busy_loops_and_loops_that_spin_on_chat() -> None:
    busy = _flow(
        "  a: {type: play, prompt: 'tts:x', next: b}\n"
        "  b: {type: set, assign: {vars.n: 'vars.n + 1'}, next: c}\n"
        "  c: {type: switch, cases: [{when: 'vars.n < 3', next: b}], default: d}\n"
        "  d: {type: stop}\n",
        "    n: {type: int, default: 0}\n",
    )
    assert _report(busy) == [
        f"{at(busy, 8, 'b')}: error: node 'b': busy loop: a cycle through here runs no play, wait, collect or invoke"
    ]
    spinning = _flow(
        "  a: {type: queue, queue: ventas, next: b}\n"
        "  b: {type: play, prompt: 'tts:Espere', next: c}\n"
        "  c: {type: switch, cases: [{when: 'true', next: b}]}\n"
    )
    assert _report(spinning) == [
        f"{at(spinning, 6, 'b')}: warning: node 'b': the only timed node of a cycle through here is play: "
        "on chat it spins at once"
    ]
    waiting = spinning.replace("next: c}", "next: w}\n  w: {type: wait, seconds: 30, next: c}")
    assert _report(waiting) == []


def test_a_path_never_joins_four_queues() -> None:
    def chain(last: str) -> str:
        return _flow(
            "  a: {type: queue, queue: uno, next: b}\n"
            "  b: {type: queue, queue: dos, next: c}\n"
            "  c: {type: queue, queue: tres, next: d}\n"
            f"  d: {{type: queue, queue: cuatro, next: w{last}}}\n"
            "  w: {type: wait, seconds: 30, next: w}\n"
        )

    four = chain("")
    assert _report(four) == [
        f"{at(four, 8, 'cuatro')}: error: node 'd': a path joins four queues (cuatro, dos, tres, uno); "
        "a contact waits in at most three"
    ]
    assert _report(chain(", replace: true")) == []  # leaves the others first
    by_expression = four.replace("queue: cuatro", "queue: '=vars.q'").replace(
        "nodes:", "variables:\n  q: {type: string}\nnodes:"
    )
    assert _report(by_expression) == []  # only literal queues are counted
    via_exit_key = _flow(
        "  a: {type: queue, queue: uno, next: b}\n"
        "  b: {type: queue, queue: dos, next: c}\n"
        "  c: {type: queue, queue: tres, exit_keys: {'9': d}, next: w}\n"
        "  d: {type: queue, queue: cuatro, next: w}\n"
        "  w: {type: wait, seconds: 30, next: w}\n"
    )
    assert _report(via_exit_key) == []  # an exit key leaves all queues first


def test_warnings_and_strict() -> None:
    text = _flow("  a: {type: invoke, function: banco.saldo, next: b}\n  b: {type: stop}\n  c: {type: stop}\n")
    checked = check_flow(text, "f.yaml")
    with using("en"):
        assert [str(d) for d in checked.diagnostics] == [
            f"{at(text, 5, 'banco.saldo')}: warning: node 'a': invoke without on.error: "
            "a failure falls through to next",
            f"{at(text, 7, 'c')}: warning: node 'c': unreachable: no path from start leads here",
        ]
    assert checked.ok() and not checked.ok(strict=True) and checked.flow is not None


def test_on_publish_every_id_must_exist() -> None:
    text = _flow(
        "  a: {type: check_hours, schedule: oficina, next: b}\n"
        "  b: {type: invoke, function: banco.saldo, on: {error: c}, next: c}\n"
        "  c: {type: queue, queue: ventas, next: d}\n"
        "  d: {type: play, prompt: bienvenida_es, next: e}\n"
        "  e: {type: subflow, flow: encuesta, next: f}\n"
        "  f: {type: transfer, to: {flow: otra}}\n"
    )
    assert _report(text) == []  # without a catalogue the ids are not checked
    catalog = Catalog(
        queues=frozenset({"ventas"}),
        schedules=frozenset({"general"}),
        flows=frozenset({"encuesta"}),
        functions=frozenset({"crm.identify"}),
        prompts=frozenset(),
    )
    assert _report(text, catalog) == [
        f"{at(text, 5, 'oficina')}: error: node 'a': no schedule is called 'oficina'",
        f"{at(text, 6, 'banco.saldo')}: error: node 'b': no function is registered as 'banco.saldo'",
        f"{at(text, 8, 'bienvenida_es')}: error: node 'd': no prompt is called 'bienvenida_es'",
        f"{at(text, 10, 'otra')}: error: node 'f': no flow is called 'otra'",
    ]


def test_flows_loaded_together_agree_on_variables() -> None:
    one = _flow("  a: {type: stop}\n", "    cola: {type: string, scope: contact}\n")
    two = one.replace("type: string", "type: int")
    with using("en"):
        first, second = check_flows([(one, "uno.yaml"), (two, "dos.yaml")])
        assert first.ok() and second.flow is None
        assert [str(d) for d in second.diagnostics] == [
            f"dos.yaml:{at(two, 5, 'cola')[len('f.yaml:') :]}: error: variable 'cola' is int in scope contact here "
            "but string in scope contact in uno.yaml"
        ]


_FRAGMENTS = st.sampled_from(
    [
        "flowlang: 1\n",
        "id: f\n",
        "start: a\n",
        "nodes:\n",
        "  a: {type: play, prompt: 'tts:x {{vars.n + }}', next: a}\n",
        "  b: {type: queue, queue: '=', steps: [{require: 'agent.'}], exit_keys: {'#': b}}\n",
        "  c: {type: switch, cases: [{when: '(((', next: c}]}\n",
        "variables: {n: {type: int, default: 9223372036854775808}}\n",
        "  d: &x {type: stop}\n  e: *x\n",
        "  f: [1, 2]\n",
        "limits: {max_steps: -1}\n",
        "  g: {type: set, assign: {vars.n: {a: 1}}}\n",
        "timezone: '\\0'\n",
        "  h: {type: transfer, to: {flow: '=x', number: 1}}\n",
        ": :\n",
        "  - x\n",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_FRAGMENTS, max_size=12), st.text(max_size=40))
def test_the_checker_never_crashes_it_only_reports(fragments: list[str], noise: str) -> None:
    text = "".join(fragments)
    for variant in (text, text + noise, noise + text, text.replace("a", noise[:3])):
        checked = check_flow(variant, "f.yaml")
        for diagnostic in checked.diagnostics:
            assert diagnostic.line >= 1 and diagnostic.column >= 1 and diagnostic.message
        assert (checked.flow is None) == bool(checked.errors)


def test_a_flow_may_name_itself_whatever_the_catalogue_knows() -> None:
    text = _flow("  a: {type: play, prompt: 'tts:x', next: b}\n  b: {type: subflow, flow: f, on: {error: c}}\n"
                 "  c: {type: transfer, to: {flow: otra}}\n")  # fmt: skip
    assert _report(text, Catalog(flows=frozenset())) == [
        f"{at(text, 7, 'otra')}: error: node 'c': no flow is called 'otra'"
    ]


def test_a_null_document_is_reported_not_silently_empty() -> None:
    for text in ("null", "Null", "~"):
        checked = check_flow(text, "f.yaml")
        assert checked.flow is None and checked.errors, text
