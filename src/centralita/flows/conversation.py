"""Testing a flow without a phone: a scripted conversation played against the interpreter.

A script (YAML) says who calls, what the world answers (queues, schedules, functions) and the conversation
as transcript lines; `play(flow, script)` runs the flow, writes the transcript that actually happened in
the same form, and `Outcome.diff` is a unified diff of the two (empty when they agree), plus the checks
of `expect` (variables, contact fields, final status). Pure: the caller reads the files.

```yaml
channel: voice                    # or chat
contact: {ani: "+34600111222", segment: premium}
customer: {id: 42, name: Ana, segment: premium}     # null or absent: not identified
queues: {gestores: {staffed: 2, waiting: 3, max_contacts: 50, schedule: gestores}}
schedules: {gestores: open}       # open | closed | holiday
functions: {banco.saldo: {disponible: "1.234,56"}, crm.open_case: [{reference: K7M42Q}], banco.x: timeout}
conversation:
  - "bot: Bienvenido a Banco Ejemplo."
  - "customer: 1"                 # digits on voice, a reply or button on chat
  - "invoke: banco.saldo"
  - "queue: gestores"
  - "agent connects"              # or "customer hangs up"; "customer: (no answer)" lets a collect time out;
                                  # "time passes" ends a running wait (the music loops once more)
expect: {status: connected, vars: {saldo: "1.234,56"}, contact: {reason: consulta_saldo}}
```

Transcript lines: `bot: <text>` (what is said or written), `buttons: a | b` (chat options), `customer: <input>`,
`invoke: <function>`, `queue: <queue> (priority <n>)`, `queue update: …`, `leave queues: …`,
`transfer: <number>`, `callback: <number>`, `disconnect`, and last `end: <status>`. Prompts finish,
function results arrive and wait timers fire by themselves; the customer's lines and the scripted events
are sent when the flow waits for them.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from centralita.core.i18n import _
from centralita.flows import interpreter as it
from centralita.flows.document import Flow

__all__ = ["Outcome", "Player", "ScriptError", "ScriptedEnvironment", "ScriptedStats", "play"]

START = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)
MAX_EVENTS = 2_000
_EVENTS: dict[str, it.Event] = {"agent connects": it.AgentConnected(), "customer hangs up": it.HungUp()}
_NO_ANSWER = "customer: (no answer)"


class ScriptError(Exception):
    """The script itself is wrong (unknown field, wrong kind); `.path` names the field."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass
class Outcome:
    transcript: list[str]
    expected: list[str]
    problems: list[str] = field(default_factory=list)  # `expect` checks that failed
    diff: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.diff and not self.problems


@dataclass
class ScriptedStats:
    """Live figures as a script (or a benchmark) gives them: per queue `staffed`, `waiting`, `available`,
    `oldest_wait`, `ewt`, `asa`; per schedule open, closed or holiday. An unknown queue raises KeyError."""

    queues: Mapping[str, Mapping[str, Any]]
    schedules: Mapping[str, str]

    def _queue(self, queue: str) -> Mapping[str, Any]:
        found = self.queues.get(queue)
        if found is None:
            raise KeyError(queue)
        return found

    def queue_size(self, queue: str, min_priority: int | None) -> int:
        return int(self._queue(queue).get("waiting", 0))

    def oldest_wait(self, queue: str, min_priority: int | None) -> float:
        return float(self._queue(queue).get("oldest_wait", 0))

    def agents_staffed(self, queue: str) -> int:
        return int(self._queue(queue).get("staffed", 1))

    def agents_available(self, queue: str) -> int:
        return int(self._queue(queue).get("available", 0))

    def agents_online(self, queue: str) -> int:
        return self.agents_staffed(queue)

    def ewt(self, queue: str, priority: int) -> float:
        return float(self._queue(queue).get("ewt", 60))

    def rolling_asa(self, queue: str) -> float | None:
        value = self._queue(queue).get("asa")
        return None if value is None else float(value)

    def my_ewt(self) -> float:
        return min((float(q.get("ewt", 60)) for q in self.queues.values()), default=float("inf"))

    def in_queue(self, queue: str | None) -> bool:
        return False

    def time_in_queue(self, queue: str) -> float | None:
        return None

    def position(self, queue: str) -> int | None:
        return int(self._queue(queue).get("waiting", 0)) + 1

    def in_hours(self, schedule: str) -> bool:
        return self._schedule(schedule) == "open"

    def is_holiday(self, schedule: str) -> bool:
        return self._schedule(schedule) == "holiday"

    def _schedule(self, schedule: str) -> str:
        if schedule not in self.schedules:
            raise KeyError(schedule)
        return self.schedules[schedule]


@dataclass
class ScriptedEnvironment:
    flows: Mapping[str, Flow]
    stats: ScriptedStats
    queue_settings: Mapping[str, Mapping[str, Any]]
    prompts: Mapping[str, str]
    globals: Mapping[str, Any] = field(default_factory=dict)

    def flow(self, flow_id: str) -> Flow | None:
        return self.flows.get(flow_id)

    def queue(self, queue: str) -> it.QueueInfo | None:
        settings = self.queue_settings.get(queue)
        if settings is None:
            return None
        return it.QueueInfo(
            max_contacts=settings.get("max_contacts"),
            segment_priority=dict(settings.get("segment_priority") or {}),
            schedule=settings.get("schedule"),
        )

    def schedule_state(self, schedule: str, now: dt.datetime) -> str | None:
        return self.stats.schedules.get(schedule)

    def prompt(self, prompt_id: str, language: str) -> str | None:
        return self.prompts.get(f"{prompt_id}:{language}") or self.prompts.get(prompt_id)

    def dialable(self, number: str) -> bool:
        return True


_SCRIPT_KEYS = {
    "channel",
    "contact",
    "customer",
    "queues",
    "schedules",
    "functions",
    "prompts",
    "conversation",
    "expect",
}


def play(flow: Flow, script: Mapping[str, Any], others: Sequence[Flow] = ()) -> Outcome:
    """Play `script` against `flow` (`others`: flows it may enter by subflow or transfer)."""
    for key in script:
        if key not in _SCRIPT_KEYS:
            raise ScriptError(str(key), _("unknown field; known: {names}", names=", ".join(sorted(_SCRIPT_KEYS))))
    channel = script.get("channel", "voice")
    if channel not in ("voice", "chat"):
        raise ScriptError("channel", _("must be voice or chat"))
    conversation = _lines(script.get("conversation"))
    queues = _mapping(script, "queues")
    for name, figures in queues.items():
        _queue_figures(str(name), figures)
    env = ScriptedEnvironment(
        flows={f.id: f for f in (flow, *others)},
        stats=ScriptedStats({str(k): _mapping(queues, str(k)) for k in queues}, _str_map(script, "schedules")),
        queue_settings={str(k): _mapping(queues, str(k)) for k in queues},
        prompts=_str_map(script, "prompts"),
    )
    functions = {str(k): v for k, v in _mapping(script, "functions").items()}
    contact = {"id": 1, "ani": None, "language": "es", **_mapping(script, "contact"), "channel": channel}
    customer = script.get("customer")
    if customer is not None and not isinstance(customer, Mapping):
        raise ScriptError("customer", _("must be a mapping or null"))
    player = Player(flow, env, contact, customer, functions, conversation)
    player.run()
    outcome = Outcome(transcript=player.transcript, expected=conversation)
    expected = list(conversation)
    if not any(line.startswith("end: ") for line in expected):
        actual = [line for line in player.transcript if not line.startswith("end: ")]
    else:
        actual = player.transcript
    outcome.diff = list(difflib.unified_diff(expected, actual, "expected", "actual", lineterm="", n=2))
    outcome.problems = _expectations(_mapping(script, "expect"), player.state)
    return outcome


class Player:
    """Drives a flow: prompts finish, function results arrive (`invoke_result`) and waits end by themselves;
    the customer's lines and events come from `scripted()`. `flow chat` reads them from the terminal."""

    def __init__(
        self,
        flow: Flow,
        env: ScriptedEnvironment,
        contact: dict[str, Any],
        customer: Mapping[str, Any] | None,
        functions: Mapping[str, Any],
        conversation: list[str],
    ) -> None:
        self.env = env
        self.state = it.start(flow, contact, customer)
        self.functions = functions
        self.calls: dict[str, int] = {}
        self.script = conversation
        self.cursor = 0  # the next scripted line not yet matched
        self.transcript: list[str] = []
        self.now = START
        self.pending: list[it.Event] = [it.Start()]
        self.last_invoke: it.Invoke | None = None

    def say(self, line: str) -> None:
        self.transcript.append(line)
        if self.cursor < len(self.script) and self.script[self.cursor] == line:
            self.cursor += 1

    def scripted(self) -> str | None:
        """The next scripted line that is the customer's or an event, skipping the flow's own lines."""
        for n in range(self.cursor, len(self.script)):
            line = self.script[n]
            if line.startswith("customer: ") or line in _EVENTS or line == "time passes":
                self.cursor = n + 1
                return line
        return None

    def run(self) -> None:
        events = 0
        while self.pending and events < MAX_EVENTS:
            event = self.pending.pop(0)
            events += 1
            _, actions = it.run(self.state, event, self.now, self.env)
            for action in actions:
                self.show(action)
            if not self.pending:
                self.pending.extend(self.next_events())
        self.transcript.append(f"end: {self.state.status}")

    def next_events(self) -> list[it.Event]:
        s = self.state
        if s.status in ("ended", "connected", "transferred"):
            return []
        if s.waiting in ("prompt", "disconnect"):
            return [it.PromptDone()]
        if s.waiting == "invoke":
            return [self.invoke_result()]
        if s.waiting == "transfer":
            return [it.TransferDone(ok=True)]
        line = self.scripted() if s.waiting in ("input", "wait") or s.status == "queued" else None
        if line == "time passes":
            if s.waiting != "wait":
                raise ScriptError("conversation", _("'time passes' ends a running wait; the flow waits for none here"))
            self.transcript.append(line)  # the wait runs out (music loops once more)
            self.now += dt.timedelta(seconds=60)
            return [it.TimerFired("wait")]
        if line is None:
            if s.waiting == "input":
                self.transcript.append(_NO_ANSWER)
                return [it.TimerFired("collect")]
            if s.waiting == "wait" and not s.queues:
                self.now += dt.timedelta(seconds=60)
                return [it.TimerFired("wait")]
            return []  # the script is over while the contact waits in a queue: it waits on
        if line in _EVENTS:
            self.transcript.append(line)
            return [_EVENTS[line]]
        text = line[len("customer: ") :]
        self.transcript.append(line)
        if line == _NO_ANSWER:
            return [it.TimerFired("collect")]
        return [it.Input(text)]

    def invoke_result(self) -> it.Event:
        node = self.env.flows[self.state.flow_id].nodes[self.state.node or ""]
        name = str(node.params.get("function"))
        canned = self.functions.get(name)
        if isinstance(canned, list):
            n = self.calls.get(name, 0)
            self.calls[name] = n + 1
            canned = canned[min(n, len(canned) - 1)] if canned else None
        if canned in ("error", "timeout"):
            return it.InvokeDone(failure=str(canned))
        if not isinstance(canned, Mapping):
            return it.InvokeDone(failure="error")  # no result scripted: the function fails
        return it.InvokeDone(dict(canned))

    def show(self, action: it.Action) -> None:
        match action:
            case it.Say(text=text):
                self.say(f"bot: {text}")
            case it.Ask(options=options) if options and self.state.contact.get("channel") == "chat":
                self.say("buttons: " + " | ".join(label for _value, label in options))
            case it.Invoke(function=function):
                self.last_invoke = action
                self.say(f"invoke: {function}")
            case it.JoinQueue(queue=queue, priority=priority):
                self.say(f"queue: {queue}" + (f" (priority {priority})" if priority else ""))
            case it.UpdateQueue(queue=queue, priority=priority):
                self.say(f"queue update: {queue} (priority {priority})")
            case it.LeaveQueues(queues=queues, abandon=abandon):
                self.say("leave queues: " + ", ".join(queues) + (" (abandon)" if abandon else ""))
            case it.Transfer(number=number, voicemail=voicemail):
                self.say(f"transfer: {number or voicemail}")
            case it.Callback(number=number):
                self.say(f"callback: {number}")
            case it.Disconnect():
                self.say("disconnect")


def _expectations(expect: Mapping[str, Any], state: it.FlowState) -> list[str]:
    problems: list[str] = []
    for key, want in expect.items():
        if key == "status":
            if state.status != want:
                problems.append(_("status: expected {want!r}, got {got!r}", want=want, got=state.status))
        elif key in ("vars", "contact"):
            have = state.vars if key == "vars" else state.contact
            if not isinstance(want, Mapping):
                raise ScriptError(f"expect.{key}", _("must be a mapping"))
            for name, value in want.items():
                got = _dig(have, str(name))
                if got != value:
                    problems.append(
                        _("{key}.{name}: expected {want!r}, got {got!r}", key=key, name=name, want=value, got=got)
                    )
        else:
            raise ScriptError(f"expect.{key}", _("unknown field; known: status, vars, contact"))
    return problems


_QUEUE_NUMBERS = ("staffed", "waiting", "available", "oldest_wait", "ewt", "asa", "max_contacts")
_QUEUE_KEYS = (*_QUEUE_NUMBERS, "schedule", "segment_priority")


def _queue_figures(name: str, figures: Any) -> None:
    """A queue's scripted figures: numbers where numbers go, so the flow never meets a wrong kind."""
    path = f"queues.{name}"
    if not isinstance(figures, Mapping):
        raise ScriptError(path, _("must be a mapping"))
    for key, value in figures.items():
        if key not in _QUEUE_KEYS:
            raise ScriptError(f"{path}.{key}", _("unknown field; known: {names}", names=", ".join(_QUEUE_KEYS)))
        if (
            key in _QUEUE_NUMBERS
            and value is not None
            and (isinstance(value, bool) or not isinstance(value, int | float))
        ):
            raise ScriptError(f"{path}.{key}", _("must be a number"))
        if key == "schedule" and not isinstance(value, str):
            raise ScriptError(f"{path}.{key}", _("must be text"))
        if key == "segment_priority" and not (
            isinstance(value, Mapping) and all(isinstance(v, int) and not isinstance(v, bool) for v in value.values())
        ):
            raise ScriptError(f"{path}.{key}", _("must map segments to whole numbers"))


def _dig(data: Mapping[str, Any], dotted: str) -> Any:
    current: Any = data
    for part in dotted.split("."):
        current = current.get(part) if isinstance(current, Mapping) else None
    return current


def _lines(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ScriptError("conversation", _("must be a list of lines (text)"))
    return [v.strip() for v in value]


def _mapping(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ScriptError(key, _("must be a mapping"))
    return value


def _str_map(data: Mapping[str, Any], key: str) -> dict[str, str]:
    return {str(k): str(v) for k, v in _mapping(data, key).items()}
