"""flowlang 1's vocabulary as data: the node types with their parameters and outcomes, the variable types and
scopes, and what a flow may write (flows-and-routing.md §1–2). The validator (`flows.document`) reads these
tables; nothing here runs anything."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "EXIT_KEYS",
    "FUNCTION_PATTERN",
    "ID_PATTERN",
    "MAX_NODES",
    "MAX_STEPS",
    "NODE_TYPES",
    "PROMPT_ID_PATTERN",
    "SCOPES",
    "TIMED",
    "VAR_TYPES",
    "WRITABLE",
    "NodeType",
    "Param",
]

ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,49}$"
FUNCTION_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"
PROMPT_ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]{0,99}$"
MAX_NODES = 250
MAX_STEPS = 10_000
VAR_TYPES = ("string", "int", "float", "bool")
SCOPES = ("flow", "contact", "global")
EXIT_KEYS = frozenset("0123456789*#")
# nodes that take time (a cycle without one of them is a busy loop, §4 rule 6)
TIMED = frozenset({"play", "wait", "collect", "invoke"})
# what `set`, `collect.into` and `invoke.result_into` may write besides `vars.<name>`, with its type
WRITABLE = {
    "contact.reason": "string",
    "contact.language": "string",
    "contact.self_service": "bool",
    "contact.queue": "string",
}


@dataclass(frozen=True)
class Param:
    """One parameter of a node type. `kind` tells the validator how to read it:

    - `prompt`: `tts:<text>` or a prompt-library id, `{{expr}}` inside;
    - `expr` (with `want`: the type it must have when known; `scope`: `agent` or `value` where those exist);
    - `id`: a plain id, or `=expr` (`catalog`: which catalogue publishing checks it against);
    - `node`: another node's id; `int` / `number` (`low`, `high`, `open_low`); `bool`; `enum` (`choices`);
    - `function`: a dotted lowercase name; `target`: a writable place; and the structured ones, `options`,
      `assign`, `input`, `result_into`, `cases`, `steps`, `exit_keys`, `to`, `terminator`, `limits`.
    """

    kind: str
    required: bool = False
    want: str | None = None
    scope: str | None = None
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    choices: tuple[str, ...] = ()
    catalog: str | None = None
    nullable: bool = False


@dataclass(frozen=True)
class NodeType:
    params: dict[str, Param]
    outcomes: frozenset[str] = frozenset()
    terminal: bool = False  # no `next`: nothing follows it


_PROMPT = Param("prompt")
NODE_TYPES: dict[str, NodeType] = {
    "play": NodeType({"prompt": Param("prompt", required=True), "barge_in": Param("bool")}, frozenset({"error"})),
    "collect": NodeType(
        {
            "into": Param("target", required=True),
            "prompt": _PROMPT,
            "max_digits": Param("int", low=1, high=16),
            "terminator": Param("terminator"),
            "timeout_s": Param("number", low=0, open_low=True, high=86_400),
            "valid": Param("expr", want="bool", scope="value"),
            "type_ahead": Param("bool"),
            "options": Param("options"),
        },
        frozenset({"timeout", "invalid", "error"}),
    ),
    "set": NodeType({"assign": Param("assign", required=True)}, frozenset({"error"})),
    "switch": NodeType({"cases": Param("cases", required=True), "default": Param("node")}),
    "check_hours": NodeType(
        {"schedule": Param("id", catalog="schedules")}, frozenset({"open", "closed", "holiday", "error"})
    ),
    "invoke": NodeType(
        {
            "function": Param("function", required=True),
            "input": Param("input"),
            "timeout_s": Param("number", low=0, open_low=True, high=300),
            "retries": Param("int", low=0, high=10),
            "result_into": Param("result_into"),
            "validate": Param("enum", choices=("json", "string_map")),
        },
        frozenset({"error", "timeout"}),
    ),
    "queue": NodeType(
        {
            "queue": Param("id", required=True, catalog="queues"),
            "priority": Param("expr", want="int"),
            "age_adjust_s": Param("int", low=-31_536_000, high=31_536_000),
            "when": Param("expr", want="bool"),
            "steps": Param("steps"),
            "after_steps": Param("enum", choices=("any_agent", "keep_last")),
            "skip_unstaffed_steps": Param("bool"),
            "replace": Param("bool"),
            "keep_age": Param("bool"),
            "join_when_unstaffed": Param("bool"),
            "max_wait_s": Param("number", low=0, open_low=True, high=604_800),
            "max_wait_unstaffed_s": Param("number", low=0, open_low=True, high=604_800),
            "exit_keys": Param("exit_keys"),
        },
        frozenset({"skipped", "unstaffed", "full", "error", "max_wait"}),
    ),
    "wait": NodeType(
        {
            "seconds": Param("number", required=True, low=0, high=28_800),
            "treatment": Param("enum", choices=("music", "ringback", "silence")),
            "prompt": _PROMPT,
        },
        frozenset({"error"}),
    ),
    "transfer": NodeType({"to": Param("to", required=True)}, frozenset({"fail"})),
    "callback": NodeType(
        {
            "number": Param("expr", want="string"),
            "queue": Param("id", catalog="queues"),
            "initial_delay_s": Param("number", low=0, high=604_800),
            "max_retries": Param("int", low=0, high=10),
            "retry_interval_s": Param("number", low=0, open_low=True, high=604_800),
        },
        frozenset({"invalid_number", "not_dialable"}),
    ),
    "subflow": NodeType({"flow": Param("id", required=True, catalog="flows")}, frozenset({"error"})),
    "return": NodeType({}, terminal=True),
    "disconnect": NodeType(
        {"prompt": _PROMPT, "tone": Param("enum", choices=("none", "busy"))}, frozenset({"error"}), terminal=True
    ),
    "stop": NodeType({}, terminal=True),
}
