"""`flows.graph.to_dot` and `centralita flow graph FILE -o OUT [--format svg|dot]`: every kind of transition
on an arrow with its label, the start, unreachable and terminal nodes told apart, any text escaped, and the
bank example drawn by Graphviz into a real SVG."""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from centralita.cli import flows as cli_flows
from centralita.flows.document import Flow, Node, check_flow
from centralita.flows.graph import reachable, to_dot, transitions
from tests.clirun import run_cli

BANK = Path(__file__).resolve().parent / "banco_entrada.yaml"
SVG = "{http://www.w3.org/2000/svg}"
SMALL = """\
flowlang: 1
id: small
start: hola
variables:
  op: {type: string, scope: flow, default: ""}
nodes:
  hola: {type: play, prompt: "tts:Hola, gracias por llamar.", next: menu}
  menu: {type: collect, prompt: "tts:Pulse 1 o 2", into: vars.op, on: {timeout: fin}, next: ruta}
  ruta: {type: switch, cases: [{when: "vars.op == '1'", next: cola}, {when: "vars.op == '2'", next: salir}],
         default: fin}
  cola: {type: queue, queue: ventas, max_wait_s: 60, exit_keys: {"9": salir}, on: {max_wait: fin}, next: espera}
  espera: {type: wait, seconds: 30, on: {error: fin}, next: fin}
  salir: {type: invoke, function: crm.close, on: {error: fin}, next: fin}
  fin: {type: disconnect, prompt: "tts:Adiós"}
  viejo: {type: play, prompt: "tts:Nunca se oye", next: fin}
"""
BROKEN = "flowlang: 1\nid: f\nstart: a\nnodes:\n  a: {type: play, next: nowhere}\n"
HOSTILE_PROMPT = 'tts:"a" \\ <b>&amp;</b> \\N\n];x'  # quotes, a backslash, markup, an entity, \N, a newline


def _small() -> Flow:
    checked = check_flow(SMALL, "small.yaml")
    assert checked.flow is not None, checked.diagnostics
    return checked.flow


def _statement(dot: str, head: str) -> str:
    """The one line of `dot` that declares node `"a"` or arrow `"a" -> "b"`."""
    found = [line for line in dot.splitlines() if line.startswith(f"  {head} [")]
    assert len(found) == 1, (head, dot)
    return found[0]


def _label(statement: str) -> str | None:
    match = re.search(r"label=<(.*?)>(?:, |\]$)", statement)
    return match.group(1) if match else None


# -- the DOT text ----------------------------------------------------------------------------------------------


def test_every_kind_of_transition_is_an_arrow_with_its_label() -> None:
    dot = to_dot(_small())
    assert dot.startswith('digraph "small" {\n') and dot.endswith("}\n")
    assert _label(_statement(dot, '"hola" -> "menu"')) is None  # next alone: no label
    assert _label(_statement(dot, '"menu" -> "ruta"')) is None
    assert _label(_statement(dot, '"menu" -> "fin"')) == "timeout"  # on.<outcome>
    assert _label(_statement(dot, '"ruta" -> "cola"')) == "case 1: vars.op == &#39;1&#39;"  # switch cases
    assert _label(_statement(dot, '"ruta" -> "salir"')) == "case 2: vars.op == &#39;2&#39;"
    assert _label(_statement(dot, '"ruta" -> "fin"')) == "default"
    assert _label(_statement(dot, '"cola" -> "salir"')) == "key 9"  # a queue's exit key
    assert _label(_statement(dot, '"cola" -> "fin"')) == "max_wait"
    assert _label(_statement(dot, '"cola" -> "espera"')) is None
    # transitions between the same two nodes share one arrow that names them all, next included
    assert _label(_statement(dot, '"espera" -> "fin"')) == "next<br/>error"
    assert dot.count(" -> ") == 12


def test_start_unreachable_and_terminal_nodes_are_told_apart() -> None:
    dot = to_dot(_small())
    start = _statement(dot, '"hola"')
    assert "play · start" in start and "filled" in start and "penwidth" in start
    assert "&quot;Hola, gracias por llamar.&quot;" in start  # the prompt's text under the type
    assert "start" not in _statement(dot, '"menu"')
    old = _statement(dot, '"viejo"')  # no path from start: dashed and grey, its arrow too
    assert "dashed" in old and "#9a9a9a" in old
    assert "dashed" in _statement(dot, '"viejo" -> "fin"')
    assert not any("dashed" in _statement(dot, f'"{node}"') for node in ("hola", "menu", "cola", "fin"))
    assert "shape=octagon" in _statement(dot, '"fin"')  # stop, disconnect, return
    assert not any("octagon" in _statement(dot, f'"{node}"') for node in ("hola", "ruta", "cola"))


def test_each_node_says_what_it_does() -> None:
    dot = to_dot(_small(), title="Ventas")
    assert "label=<Ventas>" in dot
    assert "ventas" in (_label(_statement(dot, '"cola"')) or "")  # the queue
    assert "crm.close" in (_label(_statement(dot, '"salir"')) or "")  # the function
    assert "30 s" in (_label(_statement(dot, '"espera"')) or "")
    long_prompt = Node("p", "play", {"prompt": "tts:" + "palabra " * 20}, None, {}, {})
    label = _label(_statement(to_dot(Flow("f", "UTC", "p", 10, {}, {"p": long_prompt})), '"p"')) or ""
    assert "palabra palabra" in label and "…&quot;" in label and len(label) < 200  # trimmed, quotes kept


def test_reachability_follows_every_kind_of_transition() -> None:
    flow = _small()
    assert reachable(flow) == set(flow.nodes) - {"viejo"}
    kinds = {move.kind for node in flow.nodes.values() for move in transitions(node)}
    assert kinds == {"next", "on", "case", "default", "key"}


def test_any_text_is_escaped() -> None:
    hostile = Node("node", "play", {"prompt": HOSTILE_PROMPT}, "edge", {"error": "edge"}, {})
    switch = Node("edge", "switch", {"cases": [{"when": 'x == "<\\"a\\">"', "next": "node"}]}, None, {}, {})
    flow = Flow("graph", "UTC", "node", 10, {}, {"node": hostile, "edge": switch})
    dot = to_dot(flow, title='Title "with" <markup> & \\ back\nslash')
    # ids are always quoted (`node`, `edge` and `graph` are DOT keywords), each statement on its own line
    assert dot.splitlines()[0] == 'digraph "graph" {'
    assert '  "node" -> "edge" [' in dot and '  "edge" -> "node" [' in dot
    node = _statement(dot, '"node"')
    assert r"&quot;&quot;a&quot; \\ &lt;b&gt;&amp;amp;&lt;/b&gt; \\N ];x&quot;" in node  # a backslash doubled
    assert r"label=<Title &quot;with&quot; &lt;markup&gt; &amp; \\ back slash>" in dot
    assert _label(_statement(dot, '"edge" -> "node"')) == r"case 1: x == &quot;&lt;\\&quot;a\\&quot;&gt;&quot;"
    assert all(line.startswith(("digraph", "  ", "}")) for line in dot.splitlines())
    # …and Graphviz draws it with every character as it was written
    svg = subprocess.run(["dot", "-Tsvg"], input=dot.encode(), capture_output=True, check=True, timeout=60).stdout
    root = ET.fromstring(svg)
    texts = _node_texts(root)
    assert texts["node"] == ["node", "play · start", '""a" \\ <b>&amp;</b> \\N ];x"']
    assert texts["edge"] == ["edge", "switch"]
    assert 'case 1: x == "<\\"a\\">"' in _edge_texts(root)
    assert 'Title "with" <markup> & \\ back slash' in [t.text for t in root.iter(f"{SVG}text")]


def test_control_characters_never_reach_the_svg() -> None:
    node = Node("a", "play", {"prompt": "tts:bell\x07 nul\x00 tab\tend"}, None, {}, {})
    dot = to_dot(Flow("f", "UTC", "a", 10, {}, {"a": node}))
    assert "bell nul tab end" in dot and "\x07" not in dot and "\x00" not in dot and "\t" not in dot


# -- the command -----------------------------------------------------------------------------------------------


def _node_texts(root: ET.Element) -> dict[str, list[str]]:
    """Each `<g class="node">`'s title (the node id) → the lines of text drawn in it."""
    found = {}
    for group in root.iter(f"{SVG}g"):
        if group.get("class") == "node":
            title = group.find(f"{SVG}title")
            assert title is not None and title.text is not None
            found[title.text] = [t.text or "" for t in group.iter(f"{SVG}text")]
    return found


def _edge_texts(root: ET.Element) -> list[str]:
    return [t.text or "" for g in root.iter(f"{SVG}g") if g.get("class") == "edge" for t in g.iter(f"{SVG}text")]


def test_the_bank_flow_drawn_as_svg(tmp_path: Path) -> None:
    out = tmp_path / "flow.svg"
    code, stdout, err = run_cli(tmp_path, "flow", "graph", str(BANK), "-o", str(out))
    assert (code, err) == (0, "")
    assert stdout == f"{BANK}: drawn in {out}\n"
    root = ET.fromstring(out.read_bytes())
    assert root.tag == f"{SVG}svg"
    nodes = _node_texts(root)
    flow = check_flow(BANK.read_text(encoding="utf-8"), str(BANK)).flow
    assert flow is not None
    assert len(nodes) == 27 and set(nodes) == set(flow.nodes)
    assert nodes["bienvenida"] == ["bienvenida", "play · start", '"Bienvenido a Banco Ejemplo."']
    assert nodes["en_cola"] == ["en_cola", "queue", "=vars.cola"]
    assert nodes["identificar"] == ["identificar", "invoke", "crm.identify"]
    labels = _edge_texts(root)
    for label in ("timeout", "invalid", "error", "max_wait", "full", "unstaffed", "key 9", "closed", "default"):
        assert label in labels
    assert "case 1: customer.id != null" in labels
    assert "case 1: customer.segment == 'premium'" in labels
    edges = [g for g in root.iter(f"{SVG}g") if g.get("class") == "edge"]
    assert len(edges) == to_dot(flow).count(" -> ")


def test_the_bank_flow_as_dot_text(tmp_path: Path) -> None:
    out = tmp_path / "flow.dot"
    code, _out, err = run_cli(tmp_path, "flow", "graph", str(BANK), "-o", str(out), "--format", "dot")
    assert (code, err) == (0, "")
    flow = check_flow(BANK.read_text(encoding="utf-8"), str(BANK)).flow
    assert flow is not None
    assert out.read_text(encoding="utf-8") == to_dot(flow)


def test_a_flow_with_errors_is_not_drawn(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN, encoding="utf-8")
    for graph_format in ("svg", "dot"):
        out = tmp_path / f"flow.{graph_format}"
        code, stdout, err = run_cli(tmp_path, "flow", "graph", str(broken), "-o", str(out), "--format", graph_format)
        assert code == 1 and not out.exists()
        assert err.splitlines() == [
            f"{broken}:5:3: error: node 'a': missing field 'prompt'",
            f"{broken}:5:25: error: node 'a': no node is called 'nowhere'",
        ]
        assert stdout == f"{broken}: 2 errors, 0 warnings\n"


def test_warnings_are_printed_and_the_flow_drawn(tmp_path: Path) -> None:
    small = tmp_path / "small.yaml"
    small.write_text(SMALL, encoding="utf-8")
    out = tmp_path / "small.svg"
    code, _out, err = run_cli(tmp_path, "flow", "graph", str(small), "-o", str(out))
    assert code == 0 and "warning: node 'viejo': unreachable" in err
    dashed = _node_texts(ET.fromstring(out.read_bytes()))["viejo"]
    assert dashed == ["viejo", "play", '"Nunca se oye"']


def test_without_graphviz(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    out = tmp_path / "flow.svg"
    code, _out, err = run_cli(tmp_path, "flow", "graph", str(BANK), "-o", str(out))
    assert code == 2 and not out.exists()
    assert "Debian package graphviz" in err and "--format dot" in err
    code, _out, err = run_cli(tmp_path, "flow", "graph", str(BANK), "-o", str(out), lang="es")
    assert code == 2 and "paquete de Debian graphviz" in err
    # DOT text needs no Graphviz
    code, _out, _err = run_cli(tmp_path, "flow", "graph", str(BANK), "-o", str(tmp_path / "f.dot"), "--format", "dot")
    assert code == 0 and (tmp_path / "f.dot").read_text(encoding="utf-8").startswith('digraph "banco_entrada"')


def test_when_dot_fails_or_hangs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dot"
    monkeypatch.setenv("PATH", str(bin_dir))
    out = tmp_path / "flow.svg"
    fake.write_text("#!/bin/sh\necho 'syntax error in line 1' >&2\nexit 3\n", encoding="utf-8")
    fake.chmod(0o755)
    code, _out, err = run_cli(tmp_path, "flow", "graph", str(BANK), "-o", str(out))
    assert code == 2 and not out.exists()
    assert "dot failed (exit code 3): syntax error in line 1" in err
    fake.write_text("#!/bin/sh\nexec /bin/sleep 10\n", encoding="utf-8")
    monkeypatch.setattr(cli_flows, "DOT_TIMEOUT_S", 0.3)
    code, _out, err = run_cli(tmp_path, "flow", "graph", str(BANK), "-o", str(out))
    assert code == 2 and not out.exists() and "dot took more than 0.3 seconds" in err


def test_bad_arguments(tmp_path: Path) -> None:
    code, _out, err = run_cli(tmp_path, "flow", "graph", str(BANK), "-o", str(tmp_path / "x"), "--format", "png")
    assert code == 2 and "svg or dot" in err
    code, _out, err = run_cli(tmp_path, "flow", "graph", str(tmp_path / "missing.yaml"), "-o", str(tmp_path / "x"))
    assert code == 2 and "missing.yaml" in err
    code, _out, err = run_cli(tmp_path, "flow", "graph", str(BANK), "-o", str(tmp_path / "no" / "dir" / "f.svg"))
    assert code == 2 and "f.svg" in err
