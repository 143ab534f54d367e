"""A checked flow drawn as a Graphviz DOT graph: `to_dot(flow)` (`centralita flow graph` renders it).

One box per node with its id, its type and a short detail (the prompt, the queue, the function…); one arrow
per pair of nodes joined by transitions, labelled with every transition it stands for: `next` (unlabelled
when alone), each `on.<outcome>`, a switch's cases (`case 1: <when>`) and `default`, a queue's exit keys
(`key 9`). The start node is filled and drawn thick; terminal nodes (stop, disconnect, return) are
octagons; the nodes no path from start reaches are dashed and grey, with their arrows. Node and edge
labels are HTML-like labels built from escaped text, so a prompt may say anything. Pure: text in, text out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from centralita.flows.document import Flow, Node
from centralita.flows.spec import NODE_TYPES

__all__ = ["Arrow", "Box", "Transition", "layout_parts", "reachable", "to_dot", "transitions"]

Kind = Literal["next", "on", "case", "default", "key"]
DETAIL_CHARS = 42  # a node's detail line, trimmed to this many characters…
TERMINAL_CHARS = 30  # …in an octagon, which grows wider than a box for the same text
WHEN_CHARS = 36  # a switch case's condition on its arrow
FONT = "Helvetica,Arial,sans-serif"
_COLOR: Mapping[str, str] = {"next": "#333333", "on": "#b0451f", "case": "#1f5fa8", "default": "#1f5fa8"}
_KEY_COLOR = "#6b3fa0"
_UNREACHABLE = "#9a9a9a"
# the parameter shown under the type, for the node types not told apart in `_plain_detail`
_DETAIL_PARAM = {
    "queue": "queue",
    "callback": "queue",
    "invoke": "function",
    "check_hours": "schedule",
    "subflow": "flow",
}
# characters XML 1.0 refuses (an SVG is XML) or that Graphviz would read as layout: shown as a space
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff\u2028\u2029]")


@dataclass(frozen=True)
class Transition:
    """One way out of a node: `kind` is next, on (an outcome), case, default or key (a queue's exit key);
    `label` what its arrow says (`next`, `timeout`, `case 1: vars.x > 1`, `default`, `key 9`)."""

    source: str
    target: str
    kind: Kind
    label: str


def transitions(node: Node) -> list[Transition]:
    """Every transition of `node`, in the order a reader meets them: next, on, cases, default, exit keys."""
    found: list[Transition] = []
    if node.next is not None:
        found.append(Transition(node.id, node.next, "next", "next"))
    found += [Transition(node.id, target, "on", str(outcome)) for outcome, target in node.on.items()]
    if node.type == "switch":
        cases = node.params.get("cases")
        for number, case in enumerate(cases if isinstance(cases, list) else [], 1):
            if isinstance(case, dict) and isinstance(case.get("next"), str):
                when = _trim(_source(case.get("when")), WHEN_CHARS)
                found.append(Transition(node.id, case["next"], "case", f"case {number}: {when}"))
        if isinstance(node.params.get("default"), str):
            found.append(Transition(node.id, node.params["default"], "default", "default"))
    keys = node.params.get("exit_keys")
    if isinstance(keys, dict):
        found += [Transition(node.id, t, "key", f"key {k}") for k, t in keys.items() if isinstance(t, str)]
    return found


def reachable(flow: Flow) -> set[str]:
    """The nodes some path from `start` reaches, over every kind of transition."""
    seen = {flow.start} & flow.nodes.keys()
    stack = list(seen)
    while stack:
        for move in transitions(flow.nodes[stack.pop()]):
            if move.target in flow.nodes and move.target not in seen:
                seen.add(move.target)
                stack.append(move.target)
    return seen


@dataclass(frozen=True)
class Box:
    """A node as a drawing shows it: its id, type, one-line detail, and whether it is the start, a terminal
    node (stop, disconnect, return) or reached from the start."""

    id: str
    type: str
    detail: str
    start: bool
    terminal: bool
    reachable: bool


@dataclass(frozen=True)
class Arrow:
    """One arrow between two nodes with every transition it stands for (`labels`; `kind` of the first that
    is not a plain `next`)."""

    source: str
    target: str
    kind: Kind
    labels: list[str]
    reachable: bool


def layout_parts(flow: Flow) -> tuple[list[Box], list[Arrow]]:
    """The boxes and arrows `to_dot` draws, as data (for a drawing made elsewhere, e.g. the admin page)."""
    reached = reachable(flow)
    boxes = []
    for node in flow.nodes.values():
        spec = NODE_TYPES.get(node.type)
        terminal = spec is not None and spec.terminal
        detail = _detail(node, TERMINAL_CHARS if terminal else DETAIL_CHARS)
        boxes.append(Box(node.id, node.type, detail, node.id == flow.start, terminal, node.id in reached))
    arrows = []
    for (source, target), moves in _arrows(flow).items():
        first = next((move for move in moves if move.kind != "next"), moves[0])
        labels = [] if [move.kind for move in moves] == ["next"] else [move.label for move in moves]
        arrows.append(Arrow(source, target, first.kind, labels, source in reached))
    return boxes, arrows


def to_dot(flow: Flow, title: str | None = None) -> str:
    """The DOT text of `flow` (`title`: the caption on top, the flow's id by default)."""
    reached = reachable(flow)
    lines = [
        f"digraph {_quote(flow.id)} {{",
        f'  graph [rankdir=TB, nodesep=0.35, ranksep=0.45, fontname="{FONT}", fontsize=16, labelloc=t,',
        f"         label=<{_text(title if title is not None else flow.id)}>];",
        f'  node [shape=box, style="rounded", fontname="{FONT}", fontsize=11, margin="0.12,0.05"];',
        f'  edge [fontname="{FONT}", fontsize=9, arrowsize=0.7];',
    ]
    for node in flow.nodes.values():
        lines.append(f"  {_quote(node.id)} [{_node_attributes(node, node.id == flow.start, node.id in reached)}];")
    for (source, target), moves in _arrows(flow).items():
        lines.append(f"  {_quote(source)} -> {_quote(target)} [{_edge_attributes(moves, source in reached)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


# -- nodes and arrows ------------------------------------------------------------------------------------------


def _node_attributes(node: Node, start: bool, reached: bool) -> str:
    spec = NODE_TYPES.get(node.type)
    terminal = spec is not None and spec.terminal
    kind = f"{node.type} · start" if start else node.type
    label = f"<b>{_text(node.id)}</b><br/><font point-size='9'>{_text(kind)}</font>"
    detail = _detail(node, TERMINAL_CHARS if terminal else DETAIL_CHARS)
    if detail:
        label += f"<br/><font point-size='9'>{_text(detail)}</font>"
    styles = [] if terminal else ["rounded"]
    attributes = [f"label=<{label}>"]
    if terminal:
        attributes.append("shape=octagon")
    if start:
        styles.append("filled")
        attributes += ['fillcolor="#e3f1e0"', "penwidth=2.2"]
    if not reached:
        styles.append("dashed")
        attributes += [f'color="{_UNREACHABLE}"', f'fontcolor="{_UNREACHABLE}"']
    attributes.append(f'style="{",".join(styles)}"')
    return ", ".join(attributes)


def _arrows(flow: Flow) -> dict[tuple[str, str], list[Transition]]:
    """The transitions grouped by the pair of nodes they join (one arrow each), in file order; those to a
    node the flow does not have (never in a checked flow) are left out."""
    arrows: dict[tuple[str, str], list[Transition]] = {}
    for node in flow.nodes.values():
        for move in transitions(node):
            if move.target in flow.nodes:
                arrows.setdefault((move.source, move.target), []).append(move)
    return arrows


def _edge_attributes(moves: list[Transition], reached: bool) -> str:
    attributes: list[str] = []
    if [move.kind for move in moves] != ["next"]:
        attributes.append(f"label=<{'<br/>'.join(_text(move.label) for move in moves)}>")
    first = next((move for move in moves if move.kind != "next"), moves[0])
    color = _UNREACHABLE if not reached else _KEY_COLOR if first.kind == "key" else _COLOR[first.kind]
    attributes += [f'color="{color}"', f'fontcolor="{color}"']
    if not reached:
        attributes.append("style=dashed")
    return ", ".join(attributes)


def _detail(node: Node, limit: int) -> str:
    """The one line under a node's type, at most `limit` long: what it says, where it queues, what it calls…"""
    params = node.params
    if node.type in ("play", "collect", "disconnect") and "prompt" in params:
        text = _source(params["prompt"])  # a `tts:` prompt's text in quotes, a prompt-library id as it is
        return f'"{_trim(text[4:], limit - 2)}"' if text.startswith("tts:") else _trim(text, limit)
    return _trim(_plain_detail(node), limit)


def _plain_detail(node: Node) -> str:
    params = node.params
    if node.type == "collect" and "into" in params:
        return f"into {_source(params['into'])}"
    if node.type == "wait":
        treatment = params.get("treatment")
        return f"{_source(params.get('seconds'))} s" + (f", {_source(treatment)}" if treatment else "")
    if node.type == "set" and isinstance(params.get("assign"), dict):
        return ", ".join(str(target) for target in params["assign"])
    if node.type == "transfer" and isinstance(params.get("to"), dict) and len(params["to"]) == 1:
        ((kind, target),) = params["to"].items()
        return f"{kind}: {_source(target)}"
    name = _DETAIL_PARAM.get(node.type)
    if name is not None and name in params:
        return _source(params[name])
    return ""


# -- text ------------------------------------------------------------------------------------------------------


def _source(value: Any) -> str:
    """A parameter as written in the YAML (true, not True)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def _trim(text: str, limit: int) -> str:
    """One line (every run of spaces, newlines or control characters one space), at most `limit` long."""
    line = " ".join(_INVISIBLE.sub(" ", text).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def _text(text: str) -> str:
    """Text for an HTML-like label: one line, the XML specials as entities and every backslash doubled
    (Graphviz reads `\\N`, `\\G`, `\\L`… as the node's, graph's… name even there; `\\\\` is one backslash)."""
    line = " ".join(_INVISIBLE.sub(" ", text).split())
    return (
        line.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
        .replace("\\", "\\\\")
    )


def _quote(text: str) -> str:
    """A DOT quoted string (an id: always quoted, so a node called `node` or `graph` is no keyword)."""
    return '"' + _INVISIBLE.sub(" ", text).replace("\\", "\\\\").replace('"', '\\"') + '"'
