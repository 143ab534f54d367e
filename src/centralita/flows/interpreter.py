"""The flowlang 1 interpreter: a contact's flow state + one input event → the new state + output actions.

Pure and channel-agnostic (flows-and-routing.md §1–2): no I/O, no clock. The caller (the live contact
service, the flow test runner, the chat in a terminal, the simulator) brings each event with the time it
happened and an `Environment` that answers what the flow may ask (live queue figures, schedules, other
flows, prompts); it carries out the actions (say, ask, join a queue, start a timer, invoke a function…)
and feeds back what comes of them as further events. `FlowState` is plain data (`to_dict`/`from_dict`),
so a contact's flow can be stored and resumed at the node it was in after a restart.

Events: `Start`, `Input` (digits on voice, a reply or a button on chat), `PromptDone`, `TimerFired`,
`InvokeDone`, `TransferDone`, `AgentConnected`, `HungUp`. While the contact is queued, interrupts go by
precedence (§2): hang-up, agent connected, exit key, `max_wait`, `max_wait_unstaffed`; the caller delivers
simultaneous events in that order, and an exit key beats any input the running node waits for.
"""

from __future__ import annotations

import dataclasses
import re
from collections import ChainMap
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, cast
from zoneinfo import ZoneInfo

from centralita.flows import expressions as ex
from centralita.flows.document import Flow, Node

__all__ = [
    "MAX_QUEUES",
    "MAX_STACK",
    "Action",
    "AgentConnected",
    "Ask",
    "Callback",
    "CancelTimer",
    "Disconnect",
    "Environment",
    "Event",
    "FlowState",
    "HungUp",
    "Input",
    "Invoke",
    "InvokeDone",
    "JoinQueue",
    "LeaveQueues",
    "PromptDone",
    "QueueInfo",
    "Say",
    "SetContact",
    "SetGlobal",
    "Start",
    "StartTimer",
    "Step",
    "TimerFired",
    "Transfer",
    "TransferDone",
    "Treatment",
    "UpdateQueue",
    "run",
    "start",
]

MAX_QUEUES = 3
MAX_STACK = 400
DISCONNECT_REASON = "CONTACT_FLOW_DISCONNECT"
COLLECT_TIMEOUT_S = {"voice": 10.0, "chat": 300.0}
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_WAIT, _COLLECT = "wait", "collect"

# -- events --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Start:
    """The contact arrived: identification is done (its `contact` and `customer` are in the state)."""


@dataclass(frozen=True)
class Input:
    """What the customer sent: DTMF digits on voice (one or more), a typed reply or a button's value on chat."""

    text: str


@dataclass(frozen=True)
class PromptDone:
    """The prompt being played (voice) has finished."""

    wait: int | None = None  # the `Say`'s: an answer to a node that is no longer running is dropped


@dataclass(frozen=True)
class TimerFired:
    name: str  # "wait", "collect", "max_wait:<queue>", "unstaffed:<queue>"
    wait: int | None = None  # the `StartTimer`'s


@dataclass(frozen=True)
class InvokeDone:
    result: Mapping[str, Any] | None = None
    failure: str | None = None  # "error" or "timeout"
    wait: int | None = None  # the `Invoke`'s


@dataclass(frozen=True)
class TransferDone:
    ok: bool
    wait: int | None = None  # the `Transfer`'s


@dataclass(frozen=True)
class AgentConnected:
    pass


@dataclass(frozen=True)
class HungUp:
    pass


Event = Start | Input | PromptDone | TimerFired | InvokeDone | TransferDone | AgentConnected | HungUp

# -- actions -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """A node ran (for the contact's timeline): its outcome and, for `collect`, the input (masked when its
    variable is sensitive)."""

    flow: str
    node: str
    type: str
    outcome: str
    input: str | None = None


@dataclass(frozen=True)
class Say:
    text: str
    barge_in: bool = False
    wait: int = field(default=0, compare=False)  # its node run: `PromptDone(wait=…)` answers it (`FlowState.wait`)


@dataclass(frozen=True)
class Ask:
    """Collect: the prompt (already said with `Say` when there is one) and how input ends."""

    max_digits: int
    terminator: str
    timeout_s: float
    options: tuple[tuple[str, str], ...] = ()  # (value, label): buttons on chat
    wait: int = field(default=0, compare=False)


@dataclass(frozen=True)
class StartTimer:
    """Start (or restart: one timer per name) a timer; fire it back as `TimerFired(name, wait)`."""

    name: str
    seconds: float
    wait: int = field(default=0, compare=False)


@dataclass(frozen=True)
class CancelTimer:
    name: str


@dataclass(frozen=True)
class Treatment:
    kind: str  # music | ringback | silence


@dataclass(frozen=True)
class JoinQueue:
    queue: str
    priority: int
    age_adjust_s: int = 0
    steps: tuple[tuple[str, float | None], ...] = (("true", None),)  # (require expression, duration_s)
    after_steps: str = "any_agent"
    skip_unstaffed_steps: bool = False
    keep_age: bool = False
    # each step's `require` evaluated for the contact as it joins (None: not a shape routing can take)
    requirements: tuple[ex.AgentRequirement | None, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class UpdateQueue:
    """Re-queued with another priority or age adjustment: only those change (enqueue time and step kept)."""

    queue: str
    priority: int
    age_adjust_s: int


@dataclass(frozen=True)
class LeaveQueues:
    queues: tuple[str, ...]
    abandon: bool = False


@dataclass(frozen=True)
class Invoke:
    function: str
    input: Mapping[str, Any]
    timeout_s: float
    retries: int
    validate: str
    wait: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Transfer:
    number: str | None = None
    voicemail: str | None = None
    wait: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Callback:
    number: str
    queue: str | None
    initial_delay_s: float
    max_retries: int
    retry_interval_s: float
    keep_place: bool  # the original waited in that queue: the callback keeps its place


@dataclass(frozen=True)
class SetContact:
    """A contact field or attribute the flow wrote (`reason`, `language`, `self_service`, `queue`, or
    `attributes.<key>`), to be saved on the contact."""

    field: str
    value: Any


@dataclass(frozen=True)
class SetGlobal:
    name: str
    value: Any


@dataclass(frozen=True)
class Disconnect:
    reason: str = DISCONNECT_REASON
    tone: str = "none"


Action = (
    Step
    | Say
    | Ask
    | StartTimer
    | CancelTimer
    | Treatment
    | JoinQueue
    | UpdateQueue
    | LeaveQueues
    | Invoke
    | Transfer
    | Callback
    | SetContact
    | SetGlobal
    | Disconnect
)

# -- what the flow may ask -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueInfo:
    max_contacts: int | None = None
    segment_priority: Mapping[str, int] = field(default_factory=dict)
    schedule: str | None = None


class Environment(Protocol):
    """What a flow reads from outside, at the time of the event: live queue figures, queue settings,
    schedules, other flows, the prompt library, the dial plan and the tenant's global variables."""

    @property
    def stats(self) -> ex.Stats: ...
    @property
    def globals(self) -> Mapping[str, Any]: ...
    def flow(self, flow_id: str) -> Flow | None: ...
    def queue(self, queue: str) -> QueueInfo | None: ...
    def schedule_state(self, schedule: str, now: datetime) -> str | None: ...  # open | closed | holiday
    def prompt(self, prompt_id: str, language: str) -> str | None: ...
    def dialable(self, number: str) -> bool: ...


# -- state ---------------------------------------------------------------------------------------------------


@dataclass
class FlowState:
    """A contact's place in its flow. `status`: running (a node waits for something), queued (processing
    has ended but the contact waits in queues), connected, transferred, ended. `waiting`: what the current
    node waits for (prompt, input, invoke, wait, transfer, disconnect) or None."""

    flow_id: str
    contact: dict[str, Any]
    customer: dict[str, Any] | None = None
    node: str | None = None
    waiting: str | None = None
    status: str = "running"
    steps: int = 0
    wait: int = 0  # goes up with every node run: what an event answers (stale ones are dropped)
    started_at: str = ""
    stack: list[list[str]] = field(default_factory=list)
    vars: dict[str, Any] = field(default_factory=dict)
    digits: str | None = None
    buffer: str = ""  # voice type-ahead
    collected: str = ""
    queues: dict[str, dict[str, Any]] = field(default_factory=dict)
    ended: str | None = None  # why processing ended

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FlowState:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def start(flow: Flow, contact: Mapping[str, Any], customer: Mapping[str, Any] | None = None) -> FlowState:
    """A new contact's state at the flow's start (run it with `run(state, Start(), now, env)`)."""
    return FlowState(flow_id=flow.id, contact={"attributes": {}, **contact}, customer=dict(customer or {}) or None)


def run(state: FlowState, event: Event, now: datetime, env: Environment) -> tuple[FlowState, list[Action]]:
    """Apply one event; the state is changed in place and returned with the actions to carry out."""
    machine = _Machine(state, now, env)
    machine.handle(event)
    return state, machine.actions


# -- the machine ---------------------------------------------------------------------------------------------


class _Machine:
    def __init__(self, state: FlowState, now: datetime, env: Environment) -> None:
        self.s = state
        self.now = now
        self.env = env
        self.actions: list[Action] = []
        self._flow: Flow | None = None
        self._local: tuple[str, datetime] | None = None
        self._started: datetime | None = None
        self.written_globals: dict[str, Any] = {}  # this event's writes (the tenant's value is the env's)

    # flows and nodes

    def flow(self) -> Flow:
        flow = self._flow
        if flow is None or flow.id != self.s.flow_id:
            flow = self.env.flow(self.s.flow_id)
            if flow is None:
                raise LookupError(f"flow {self.s.flow_id!r} is gone")
            self._flow = flow
        return flow

    def local_now(self, timezone: str) -> datetime:
        """The event's time in the flow's time zone (`now.*`), computed once per zone and event."""
        if self._local is None or self._local[0] != timezone:
            local = self.now if timezone == "UTC" else self.now.astimezone(ZoneInfo(timezone))
            self._local = (timezone, local)
        return self._local[1]

    def node(self) -> Node:
        assert self.s.node is not None
        return self.flow().nodes[self.s.node]

    def context(self, node_id: str = "", value: str | None = None) -> ex.Context:
        if self._started is None:
            self._started = datetime.fromisoformat(self.s.started_at) if self.s.started_at else self.now
        started = self._started
        return ex.Context(
            contact=self.s.contact,
            now=self.local_now(self.flow().timezone),
            stats=self.env.stats,
            node_id=node_id,
            customer=self.s.customer,
            vars=self.variables(),
            digits=self.s.digits,
            flow_steps=self.s.steps,
            flow_elapsed_s=(self.now - started).total_seconds(),
            value=value,
        )

    def variables(self) -> Mapping[str, Any]:
        """The contact's variables, then the globals: written in this event, the tenant's (read now, last
        write wins), the flow's declared defaults. Globals are never stored with the contact."""
        defaults = self.flow().global_defaults
        if not defaults and not self.written_globals:
            return self.s.vars
        tenant = cast(MutableMapping[str, Any], self.env.globals)  # read only: ChainMap writes to its first map
        return ChainMap(self.s.vars, self.written_globals, tenant, defaults)

    def eval(self, node: Node, path: tuple[Any, ...], value: str | None = None) -> Any:
        return ex.evaluate(node.expressions[path], self.context(node.id, value))

    # events

    def handle(self, event: Event) -> None:
        s = self.s
        if s.status in ("ended", "connected", "transferred"):
            return  # processing is over: late events change nothing
        if isinstance(event, Start):
            if s.node is None and s.steps == 0:
                s.started_at = self.now.isoformat()
                self.enter(self.flow())
                self.advance(self.flow().start)
            return
        if isinstance(event, HungUp):
            self.cancel_node_timers()
            if s.queues:
                self.actions.append(LeaveQueues(tuple(s.queues), abandon=True))
                s.queues.clear()
            self.finish("ended", "hung_up")
            return
        if isinstance(event, AgentConnected):
            self.cancel_timers()
            s.queues.clear()
            self.finish("connected", "agent_connected")
            return
        if self.stale(event):
            return
        if isinstance(event, Input) and self.exit_key(event.text):
            return
        if isinstance(event, TimerFired) and ":" in event.name:
            self.queue_timer(event.name)
            return
        if isinstance(event, Input) and s.waiting != "input" and not (s.waiting == "prompt" and self.barges_in()):
            if s.contact.get("channel") == "voice":
                s.buffer += event.text  # type-ahead for the next collect, whatever the contact is waiting for
            return
        if s.waiting is None:
            return
        getattr(self, f"on_{s.waiting}")(event)

    def barges_in(self) -> bool:
        node = self.node() if self.s.node is not None else None
        return node is not None and node.type == "play" and node.params.get("barge_in") is True

    def stale(self, event: Event) -> bool:
        """An answer to a node run that is over (cut short by an interrupt, or left since): dropped. Events
        without a `wait` are taken as answers to what runs now."""
        wait = getattr(event, "wait", None)
        if wait is None:
            return False
        if isinstance(event, TimerFired) and ":" in event.name:
            membership = self.s.queues.get(event.name.partition(":")[2])
            return membership is None or membership.get("token") != wait
        return bool(wait != self.s.wait)

    def exit_key(self, text: str) -> bool:
        """An exit key of a queue the contact waits in: leave all queues, go to its handler."""
        key = text.strip()
        for membership in self.s.queues.values():
            target = membership.get("exit_keys", {}).get(key)
            if target is not None:
                self.leave_all()
                self.interrupt(membership["flow"], target, int(membership.get("depth", 0)))
                return True
        return False

    def queue_timer(self, name: str) -> None:
        kind, _, queue = name.partition(":")
        membership = self.s.queues.get(queue)
        if membership is None or kind not in ("max_wait", "unstaffed"):
            return  # the contact left that queue meanwhile
        if kind == "unstaffed":
            try:
                if self.env.stats.agents_staffed(queue) > 0:
                    return
            except KeyError:
                pass  # the queue is gone: nobody serves it
        target = membership.get("on", {}).get(kind)
        self.leave_all()
        if target is not None:
            self.interrupt(membership["flow"], target, int(membership.get("depth", 0)))

    def interrupt(self, flow_id: str, target: str, depth: int) -> None:
        """Cut the running node short and continue at `target` of `flow_id`, the flow that queued the
        contact, with the subflow stack as it was there (`depth`)."""
        self.cancel_node_timers()
        self.s.flow_id = flow_id
        del self.s.stack[depth:]
        self.s.buffer = ""  # what was typed ahead before the exit key is not an answer to the handler
        self.s.waiting = None
        self.s.status = "running"
        self.advance(target)

    # waiting nodes

    def on_prompt(self, event: Event) -> None:
        node = self.node()
        if isinstance(event, PromptDone):
            self.s.waiting = None
            self.after_prompt(node)
        elif isinstance(event, Input):  # only a barge-in reaches here (handle buffers other input)
            self.s.buffer += event.text
            self.s.waiting = None
            self.after_prompt(node)

    def after_prompt(self, node: Node) -> None:
        if node.type == "play":
            self.done(node, "next")
        elif node.type == "collect":
            self.ask(node)
        elif node.type == "wait":
            self.start_wait(node)
        elif node.type == "disconnect":
            self.hang_up(node)

    def on_input(self, event: Event) -> None:
        node = self.node()
        if isinstance(event, TimerFired) and event.name == _COLLECT:
            value = self.s.collected
            self.s.collected = ""
            self.s.waiting = None
            if value:
                self.collected(node, value)
            else:
                self.store(node, "")
                self.done(node, "timeout")
        elif isinstance(event, Input):
            if self.s.contact.get("channel") != "voice":
                self.s.waiting = None
                self.actions.append(CancelTimer(_COLLECT))
                self.collected(node, event.text.strip())
            else:
                self.s.buffer += event.text
                self.take_digits(node, restart_timer=True)

    def on_invoke(self, event: Event) -> None:
        if not isinstance(event, InvokeDone):
            return
        node = self.node()
        self.s.waiting = None
        if event.failure is not None or event.result is None:
            self.done(node, "timeout" if event.failure == "timeout" and "timeout" in node.on else "error")
            return
        identified = event.result.get("customer") if node.params.get("function") == "crm.identify" else None
        if isinstance(identified, Mapping):  # a single match: the contact's customer from now on
            self.s.customer = dict(identified)
            self.s.contact["segment"] = identified.get("segment")
        targets = node.params.get("result_into") or {}
        for key, target in targets.items():
            value = event.result.get(key)
            if not self.write(target, value):
                self.done(node, "error")
                return
        self.done(node, "next")

    def on_wait(self, event: Event) -> None:
        if isinstance(event, TimerFired) and event.name == _WAIT:
            self.s.waiting = None
            self.done(self.node(), "next")

    def on_transfer(self, event: Event) -> None:
        if not isinstance(event, TransferDone):
            return
        node = self.node()
        self.s.waiting = None
        if event.ok:
            self.actions.append(Step(self.s.flow_id, node.id, node.type, "next"))
            self.leave_all()
            self.finish("transferred", "transferred")
        else:
            self.done(node, "fail")

    def on_disconnect(self, event: Event) -> None:
        if isinstance(event, PromptDone):
            self.hang_up(self.node())

    # running nodes

    def advance(self, node_id: str | None) -> None:
        """Run nodes from `node_id` until one waits or processing ends."""
        while node_id is not None and self.s.status == "running" and self.s.waiting is None:
            flow = self.flow()
            if self.s.steps >= flow.max_steps:
                node_id = None
                break
            node = flow.nodes[node_id]
            self.s.node = node_id
            self.s.steps += 1
            self.s.wait += 1
            node_id = getattr(self, f"run_{node.type}")(node)
        if node_id is None and self.s.status == "running" and self.s.waiting is None:
            self.stop()

    def done(self, node: Node, outcome: str, given: str | None = None) -> None:
        """A waiting node finished: record it and carry on from its outcome."""
        self.advance(self.outcome(node, outcome, given))

    def outcome(self, node: Node, outcome: str, given: str | None = None) -> str | None:
        """Record the step; the next node: `on[outcome]`, else `next`, else None (an implicit stop)."""
        self.actions.append(Step(self.s.flow_id, node.id, node.type, outcome, given))
        if outcome != "next" and outcome in node.on:
            return node.on[outcome]
        if node.type == "switch":
            return None
        return node.next

    def run_play(self, node: Node) -> str | None:
        if not self.say(node):
            return self.outcome(node, "error")
        if self.s.contact.get("channel") == "voice":
            self.s.waiting = "prompt"
            return None
        return self.outcome(node, "next")

    def run_collect(self, node: Node) -> str | None:
        if "prompt" in node.params:
            if not self.say(node):
                return self.outcome(node, "error")
            if self.s.contact.get("channel") == "voice":
                if node.params.get("type_ahead", True) is False:
                    self.s.buffer = ""
                if not self.s.buffer:
                    self.s.waiting = "prompt"
                    return None
        self.ask(node)
        return None

    def ask(self, node: Node) -> None:
        channel = self.s.contact.get("channel", "voice")
        if node.params.get("type_ahead", True) is False:
            self.s.buffer = ""
        timeout = float(node.params.get("timeout_s", COLLECT_TIMEOUT_S.get(channel, 300.0)))
        options = tuple(
            (str(o["value"]), str(o["label"])) for o in node.params.get("options") or [] if isinstance(o, dict)
        )
        self.s.waiting = "input"
        self.s.collected = ""
        max_digits, terminator = int(node.params.get("max_digits", 1)), str(node.params.get("terminator", "#"))
        self.actions.append(Ask(max_digits, terminator, timeout, options, self.s.wait))
        if channel == "voice" and self.take_digits(node, restart_timer=False):
            return
        self.actions.append(StartTimer(_COLLECT, timeout, self.s.wait))

    def take_digits(self, node: Node, restart_timer: bool) -> bool:
        """Voice: consume buffered digits; True when the input is complete (then it has been handled)."""
        max_digits = int(node.params.get("max_digits", 1))
        terminator = str(node.params.get("terminator", "#"))
        while self.s.buffer:
            digit, self.s.buffer = self.s.buffer[0], self.s.buffer[1:]
            if digit == terminator:
                return self.complete(node)
            self.s.collected += digit
            if len(self.s.collected) >= max_digits:
                return self.complete(node)
        if restart_timer:  # the timeout runs again between digits
            timeout = float(node.params.get("timeout_s", COLLECT_TIMEOUT_S["voice"]))
            self.actions.append(StartTimer(_COLLECT, timeout, self.s.wait))
        return False

    def complete(self, node: Node) -> bool:
        value, self.s.collected = self.s.collected, ""
        self.s.waiting = None
        self.actions.append(CancelTimer(_COLLECT))
        self.collected(node, value)
        return True

    def collected(self, node: Node, value: str) -> None:
        options = [str(o.get("value")) for o in node.params.get("options") or [] if isinstance(o, dict)]
        valid = True
        if ("valid",) in node.expressions:
            try:
                valid = self.eval(node, ("valid",), value=value) is True
            except ex.EvalError:
                valid = False
        elif options:
            valid = value in options
        shown = self.masked(node, value)
        if not valid:
            self.done(node, "invalid", shown)
            return
        self.s.digits = value
        if not self.store(node, value):
            self.done(node, "error", shown)
            return
        self.done(node, "next", shown)

    def masked(self, node: Node, value: str) -> str:
        target = node.params.get("into")
        if isinstance(target, str) and target.startswith("vars."):
            var = self.flow().variables.get(target[5:])
            if var is not None and var.sensitive:
                return "*" * len(value)
        return value

    def store(self, node: Node, value: str) -> bool:
        target = node.params.get("into")
        return isinstance(target, str) and self.write(target, value)

    def run_set(self, node: Node) -> str | None:
        for target in node.params.get("assign") or {}:
            try:
                value = self.eval(node, ("assign", target))
            except ex.EvalError:
                return self.outcome(node, "error")
            if not self.write(target, value):
                return self.outcome(node, "error")
        return self.outcome(node, "next")

    def run_switch(self, node: Node) -> str | None:
        for n, case in enumerate(node.params.get("cases") or []):
            try:
                chosen = self.eval(node, ("cases", n, "when")) is True
            except ex.EvalError:
                chosen = False  # a case that raises counts as false
            if chosen:
                self.actions.append(Step(self.s.flow_id, node.id, node.type, f"case {n + 1}"))
                return str(case["next"])
        self.actions.append(Step(self.s.flow_id, node.id, node.type, "default"))
        default = node.params.get("default")
        return str(default) if isinstance(default, str) else node.next

    def run_check_hours(self, node: Node) -> str | None:
        try:
            schedule = self.id_param(node, "schedule")
        except ex.EvalError:
            return self.outcome(node, "error")
        if schedule is None:
            working = self.s.contact.get("queue")
            info = self.env.queue(working) if isinstance(working, str) else None
            schedule = info.schedule if info is not None else None
        state = self.env.schedule_state(schedule, self.now) if schedule is not None else None
        if state is None:
            return self.outcome(node, "error")
        if state == "holiday" and "holiday" not in node.on:
            state = "closed"  # unwired: as closed
        return self.outcome(node, state)

    def run_invoke(self, node: Node) -> str | None:
        inputs: dict[str, Any] = {}
        for key in node.params.get("input") or {}:
            try:
                inputs[key] = self.eval(node, ("input", key))
            except ex.EvalError:
                return self.outcome(node, "error")
        self.actions.append(
            Invoke(
                str(node.params["function"]),
                inputs,
                float(node.params.get("timeout_s", 8)),
                int(node.params.get("retries", 3)),
                str(node.params.get("validate", "json")),
                self.s.wait,
            )
        )
        self.s.waiting = "invoke"
        return None

    def run_queue(self, node: Node) -> str | None:
        try:
            queue = self.id_param(node, "queue")
        except ex.EvalError:
            return self.outcome(node, "error")
        info = self.env.queue(queue) if queue is not None else None
        if queue is None or info is None:
            return self.outcome(node, "error")
        try:
            if ("when",) in node.expressions and self.eval(node, ("when",)) is not True:
                return self.outcome(node, "skipped")
            if ("priority",) in node.expressions:
                priority = self.eval(node, ("priority",))
            else:
                priority = info.segment_priority.get(str(self.s.contact.get("segment")), 0)
        except ex.EvalError:
            return self.outcome(node, "error")
        if not isinstance(priority, int) or isinstance(priority, bool):
            return self.outcome(node, "error")
        age_adjust = int(node.params.get("age_adjust_s", 0))
        current = self.s.queues.get(queue)
        if current is not None:
            if (current["priority"], current["age_adjust_s"]) == (priority, age_adjust):
                return self.outcome(node, "skipped")
            if node.params.get("replace") is True and len(self.s.queues) > 1:
                self.leave_all(keep=queue)
            current.update(priority=priority, age_adjust_s=age_adjust)
            self.actions.append(UpdateQueue(queue, priority, age_adjust))
            self.s.contact["queue"] = queue
            self.actions.append(SetContact("queue", queue))
            return self.outcome(node, "next")
        replace = node.params.get("replace") is True
        if not replace and len(self.s.queues) >= MAX_QUEUES:
            return self.outcome(node, "skipped")
        if node.params.get("join_when_unstaffed", True) is False:
            try:
                staffed = self.env.stats.agents_staffed(queue)
            except KeyError:
                return self.outcome(node, "error")
            if staffed == 0:
                return self.outcome(node, "unstaffed")
        if info.max_contacts is not None:
            try:
                if self.env.stats.queue_size(queue, None) >= info.max_contacts:
                    return self.outcome(node, "full")
            except KeyError:
                return self.outcome(node, "error")
        if replace and self.s.queues:
            self.leave_all()
        steps = tuple(
            (str(step.get("require", "true")), step.get("duration_s"))
            for step in node.params.get("steps") or [{"require": "true", "duration_s": None}]
            if isinstance(step, dict)
        )
        context = self.context(node.id)
        requirements = tuple(
            ex.requirement(node.expressions[("steps", n, "require")], context)
            if ("steps", n, "require") in node.expressions
            else None
            for n in range(len(steps))
        )
        self.actions.append(
            JoinQueue(
                queue,
                priority,
                age_adjust,
                steps,
                str(node.params.get("after_steps", "any_agent")),
                node.params.get("skip_unstaffed_steps") is True,
                node.params.get("keep_age") is True,
                requirements,
            )
        )
        self.s.queues[queue] = {
            "priority": priority,
            "age_adjust_s": age_adjust,
            "flow": self.s.flow_id,
            "depth": len(self.s.stack),
            "token": self.s.wait,
            "node": node.id,
            "exit_keys": dict(node.params.get("exit_keys") or {}),
            "on": {k: v for k, v in node.on.items() if k in ("max_wait", "unstaffed")},
        }
        self.s.contact["queue"] = queue
        self.actions.append(SetContact("queue", queue))
        if "max_wait_s" in node.params:
            self.actions.append(StartTimer(f"max_wait:{queue}", float(node.params["max_wait_s"]), self.s.wait))
        if "max_wait_unstaffed_s" in node.params:
            seconds = float(node.params["max_wait_unstaffed_s"])
            self.actions.append(StartTimer(f"unstaffed:{queue}", seconds, self.s.wait))
        return self.outcome(node, "next")

    def run_wait(self, node: Node) -> str | None:
        """The prompt first (on voice, to its end), then the treatment for `seconds`."""
        if "prompt" in node.params:
            if not self.say(node):
                return self.outcome(node, "error")
            if self.s.contact.get("channel") == "voice":
                self.s.waiting = "prompt"
                return None
        self.start_wait(node)
        return None

    def start_wait(self, node: Node) -> None:
        if self.s.contact.get("channel") == "voice":
            self.actions.append(Treatment(str(node.params.get("treatment", "music"))))
        self.actions.append(StartTimer(_WAIT, float(node.params.get("seconds", 0)), self.s.wait))
        self.s.waiting = "wait"

    def run_transfer(self, node: Node) -> str | None:
        to = node.params.get("to") or {}
        if "flow" in to:
            try:
                target_id = self.id_param(node, "to", "flow")
            except ex.EvalError:
                return self.outcome(node, "fail")
            target = self.env.flow(target_id) if target_id is not None else None
            if target is None:
                return self.outcome(node, "fail")
            self.actions.append(Step(self.s.flow_id, node.id, node.type, "next"))
            self.leave_all()
            running = [self.s.flow_id, *(flow_id for flow_id, _next in self.s.stack)]
            self.s.stack.clear()
            for flow_id in running:
                left = self.env.flow(flow_id)
                for name, var in left.variables.items() if left is not None else ():
                    if var.scope == "flow":
                        self.s.vars.pop(name, None)
            self.s.flow_id = target.id
            self.enter(target)
            return target.start
        if self.s.contact.get("channel") != "voice":
            return self.outcome(node, "fail")
        kind = "number" if "number" in to else "voicemail"
        try:
            where = self.eval(node, ("to", kind))
        except ex.EvalError:
            return self.outcome(node, "fail")
        if not isinstance(where, str) or not where:
            return self.outcome(node, "fail")
        self.actions.append(Transfer(**{kind: where}, wait=self.s.wait))
        self.s.waiting = "transfer"
        return None

    def run_callback(self, node: Node) -> str | None:
        try:
            number = self.eval(node, ("number",)) if ("number",) in node.expressions else None
            queue = self.id_param(node, "queue")
        except ex.EvalError:
            return self.outcome(node, "invalid_number")
        if ("number",) not in node.expressions and self.s.contact.get("channel") == "voice":
            number = self.s.contact.get("ani")  # no `number`: the caller's; one that gives null is invalid
        if not isinstance(number, str) or not _E164.match(number):
            return self.outcome(node, "invalid_number")
        if not self.env.dialable(number):
            return self.outcome(node, "not_dialable")
        queue = queue or self.s.contact.get("queue")
        self.actions.append(
            Callback(
                number,
                queue if isinstance(queue, str) else None,
                float(node.params.get("initial_delay_s", 0)),
                int(node.params.get("max_retries", 1)),
                float(node.params.get("retry_interval_s", 600)),
                isinstance(queue, str) and queue in self.s.queues,
            )
        )
        self.leave_all()  # the original leaves all queues, not as an abandon
        return self.outcome(node, "next")

    def run_subflow(self, node: Node) -> str | None:
        try:
            target_id = self.id_param(node, "flow")
        except ex.EvalError:
            return self.outcome(node, "error")
        target = self.env.flow(target_id) if target_id is not None else None
        if target is None or len(self.s.stack) >= MAX_STACK:
            return self.outcome(node, "error")
        self.actions.append(Step(self.s.flow_id, node.id, node.type, "next"))
        self.s.stack.append([self.s.flow_id, node.next or ""])
        self.s.flow_id = target.id
        self.enter(target)
        return target.start

    def run_return(self, node: Node) -> str | None:
        self.actions.append(Step(self.s.flow_id, node.id, node.type, "next"))
        if not self.s.stack:
            return None  # an empty stack: as stop
        flow_id, target = self.s.stack.pop()
        self.s.flow_id = flow_id
        return target or None  # the subflow node had no next: an implicit stop there

    def run_disconnect(self, node: Node) -> str | None:
        if "prompt" in node.params:
            if not self.say(node):
                return self.outcome(node, "error")
            if self.s.contact.get("channel") == "voice":
                self.s.waiting = "disconnect"  # queued, it can still connect while the prompt plays
                return None
        self.hang_up(node)
        return None

    def run_stop(self, node: Node) -> str | None:
        self.actions.append(Step(self.s.flow_id, node.id, node.type, "next"))
        return None

    # helpers

    def hang_up(self, node: Node) -> None:
        self.actions.append(Step(self.s.flow_id, node.id, node.type, "next"))
        self.s.waiting = None
        self.leave_all()
        self.actions.append(Disconnect(tone=str(node.params.get("tone", "none"))))
        self.finish("ended", DISCONNECT_REASON)

    def stop(self) -> None:
        """Past the last node (or the step limit, or `stop`): a queued contact waits on; any other is
        disconnected (not an abandon)."""
        if self.s.queues:
            self.s.status = "queued"
            self.s.node = None
            return
        self.actions.append(Disconnect())
        self.finish("ended", DISCONNECT_REASON)

    def finish(self, status: str, why: str) -> None:
        self.s.status = status
        self.s.waiting = None
        self.s.ended = why

    def leave_all(self, keep: str | None = None) -> None:
        """Leave every queue (but `keep`), cancelling their timers."""
        leaving = tuple(q for q in self.s.queues if q != keep)
        if leaving:
            self.cancel_queue_timers(leaving)
            for queue in leaving:
                del self.s.queues[queue]
            self.actions.append(LeaveQueues(leaving))

    def cancel_timers(self) -> None:
        self.cancel_queue_timers(tuple(self.s.queues))
        self.cancel_node_timers()

    def cancel_queue_timers(self, queues: tuple[str, ...]) -> None:
        for queue in queues:
            self.actions.append(CancelTimer(f"max_wait:{queue}"))
            self.actions.append(CancelTimer(f"unstaffed:{queue}"))

    def cancel_node_timers(self) -> None:
        if self.s.waiting == "input":
            self.actions.append(CancelTimer(_COLLECT))
        elif self.s.waiting == "wait":
            self.actions.append(CancelTimer(_WAIT))

    def say(self, node: Node) -> bool:
        """Say the node's prompt; False when it cannot be said (unknown prompt id, an expression error)."""
        prompt = node.params.get("prompt")
        if not isinstance(prompt, str):
            return False
        if prompt.startswith("tts:"):
            text: str | None = prompt[4:]
        else:
            text = self.env.prompt(prompt, str(self.s.contact.get("language") or "es"))
        if text is None:
            return False
        try:
            rendered = ex.render_prompt(text, self.context(node.id))
        except ex.EvalError:
            return False
        self.actions.append(Say(rendered, node.params.get("barge_in") is True, self.s.wait))
        return True

    def id_param(self, node: Node, *path: str) -> str | None:
        """An id parameter: the plain id, or the value of its `=expression`."""
        value: Any = node.params
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if not isinstance(value, str):
            return None
        if value.startswith("="):
            got = self.eval(node, tuple(path))
            return got if isinstance(got, str) else None
        return value

    def enter(self, flow: Flow) -> None:
        """Entering a flow gives its unset declared variables their default."""
        for name, var in flow.variables.items():
            if var.scope != "global" and name not in self.s.vars:
                self.s.vars[name] = var.default

    def write(self, target: str, value: Any) -> bool:
        """Write a value where a flow may (False: the wrong type, an evaluation error)."""
        if target.startswith("vars."):
            name = target[5:]
            var = self.flow().variables.get(name)
            if var is None or not _of_type(value, var.type):
                return False
            if var.scope == "global":
                self.actions.append(SetGlobal(name, value))
                self.written_globals[name] = value
                return True
            self.s.vars[name] = value
            return True
        if target.startswith("contact.attributes."):
            key = target[len("contact.attributes.") :]
            self.s.contact.setdefault("attributes", {})[key] = value
            self.actions.append(SetContact(f"attributes.{key}", value))
            return True
        name = target[len("contact.") :]
        want = "bool" if name == "self_service" else "string"
        if not _of_type(value, want):
            return False
        self.s.contact[name] = value
        self.actions.append(SetContact(name, value))
        return True


def _of_type(value: Any, var_type: str) -> bool:
    if value is None:
        return True
    if var_type == "string":
        return isinstance(value, str)
    if var_type == "bool":
        return isinstance(value, bool)
    if var_type == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, int | float) and not isinstance(value, bool)
