"""A contact's flow moved on by one event, in one transaction: the contact locked, its stored run loaded,
the interpreter run, every action carried out through the contacts' `do_*` actions, the run stored again.

- **Arrival** (`start_at_entry`): the contact arrives (`contacts.live.arrive`: recognised by its caller
  number or chat identity before the first node), its run is created at the flow's current version
  (`flow.started`), and the flow runs until it waits for something: the customer, a timer, a function.
- **Every later event** (`advance`): the customer's input, a timer, a function's result, an agent
  connecting, the customer leaving. A contact the store already shows connected to an agent or closed
  first gets `AgentConnected` / `HungUp`, so the flow never acts on a contact that has moved on,
  whichever process learns of it first.
- **Steps and messages**: every node run is a `flow.step` event on the contact's timeline (input masked
  for a sensitive variable); what the flow says and what the customer sends are `contact_messages`
  (the web chat's conversation, a call's transcript).
- **Prompts and transfers without a media node**: until the voice media node (issue 14) plays prompts, a
  prompt is done as soon as it is said, and a transfer to a number or voicemail fails (`fail` outcome).
- **What is collected** (`contacts.collected`): the flow and version, how the customer was identified,
  the flow's variables that are not sensitive, the functions run with their outcomes (self-service steps),
  the contact's reason, and the case the flow opened: the agent sees it in the offer and never asks twice.

Timers and function calls are stored in the run (`timers`, `invoke`); the flow runner (`runner.py`)
fires and calls them, on the routing leader, and resumes them after a restart.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from centralita.contacts import in_flow
from centralita.contacts.live import arrive, lock_contact
from centralita.contacts.status import ContactStatus
from centralita.core.actor import Actor
from centralita.core.errors import InvalidInput
from centralita.core.i18n import _
from centralita.core.phones import normalize_identity
from centralita.crm.queries import flow_customer
from centralita.events.log import append_event
from centralita.flowrun.environment import Figures, LiveEnvironment, load_flow, no_figures
from centralita.flows import interpreter as it
from centralita.flows.document import Flow
from centralita.store import tables as t

__all__ = ["Moved", "advance", "contact_namespace", "start_at_entry"]

log = logging.getLogger(__name__)

S = ContactStatus
FINISHED = frozenset({"connected", "transferred", "ended"})
MAX_EVENTS = 500  # events handled in one transaction (auto-finished prompts included): a runaway stops here
WITH_AGENT = frozenset({S.CONNECTED, S.HELD, S.ACW})


@dataclass
class Moved:
    """What one transaction did to a contact's flow: the run's status, the messages it wrote, and whether
    its timers or function call changed (the runner re-reads them)."""

    contact_id: int
    tenant_id: int
    status: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    timers_changed: bool = False  # or its status, or it is new: the runner looks at it again


def contact_namespace(session: Session, row: t.Contact) -> dict[str, Any]:
    """The contact as a flow sees it (`contact.*`, flows-and-routing §3)."""
    queue = session.get(t.Queue, row.queue_id) if row.queue_id is not None else None
    reason = session.get(t.Reason, row.reason_id) if row.reason_id is not None else None
    return {
        "id": row.id,
        "initial_id": row.initial_contact_id,
        "previous_id": row.previous_contact_id,
        "channel": row.channel,
        "ani": row.ani,
        "dnis": row.dnis,
        "language": row.language,
        "initiation_method": row.initiation_method,
        "priority": row.priority,
        "queue": queue.code if queue is not None else None,
        "reason": reason.code if reason is not None else None,
        "segment": row.segment,
        "self_service": row.self_service,
        "attributes": dict(row.attributes or {}),
    }


def _unknown_flow(code: str) -> InvalidInput:
    return InvalidInput.field(
        "flow",
        _("the entry point's flow {code!r} is not published; publish it with centralita flow publish", code=code),
    )


def start_at_entry(
    session: Session,
    actor: Actor,
    *,
    channel: str,
    ani: str,
    dnis: str | None,
    language: str,
    attributes: dict[str, Any],
    flow_code: str,
    entry_point: str | None,
    figures: Figures = no_figures,
) -> tuple[t.Contact, Moved]:
    """A contact arrives at an entry point: recognised, then its flow runs until it waits."""
    found = load_flow(session, actor.tenant_id, flow_code, None)
    if found is None:
        raise _unknown_flow(flow_code)
    flow, version = found
    row, customer = arrive(session, actor, channel, ani, dnis, language, attributes)
    now = actor.now()
    run = t.ContactFlowRun(
        contact_id=row.id,
        tenant_id=actor.tenant_id,
        flow_code=flow_code,
        flow_version=version,
        versions={flow_code: version},
        status="running",
        state={},
        timers={},
        invoke=None,
        started_at=now,
        updated_at=now,
    )
    session.add(run)
    append_event(
        session,
        actor.tenant_id,
        "flow.started",
        now,
        {"flow": flow_code, "version": version, "entry_point": entry_point},
        contact_id=row.id,
        customer_id=row.customer_id,
    )
    state = it.start(
        flow,
        contact_namespace(session, row),
        flow_customer(session, customer) if customer is not None else None,
    )
    moved = _Driver(session, actor, row, run, state, figures).drive([it.Start()])
    moved.timers_changed = True  # the runner learns of every run (it brings it up to date on agent and end)
    return row, moved


def advance(
    session: Session, actor: Actor, contact_id: int, event: it.Event | None, figures: Figures = no_figures
) -> Moved | None:
    """Apply `event` (None: only catch up with the contact's status) to the contact's flow; None when the
    contact has no flow running."""
    row = lock_contact(session, actor, contact_id)
    run = session.get(t.ContactFlowRun, contact_id, populate_existing=True)
    if run is None or run.status in FINISHED:
        return None
    state = it.FlowState.from_dict(run.state)
    events: list[it.Event] = []
    if row.status in WITH_AGENT:
        events.append(it.AgentConnected())
    elif row.status == S.CLOSED:
        events.append(it.HungUp())
    elif event is not None:
        events.append(event)
    if not events:
        return Moved(contact_id, actor.tenant_id, run.status)
    return _Driver(session, actor, row, run, state, figures).drive(events)


def routing_steps(a: it.JoinQueue) -> dict[str, Any] | None:
    """A `queue` node's steps as the routing engine takes them (None: any agent of the queue at once). A
    step whose `require` routing cannot take (an `OR`, `agent.languages`…) admits any agent, logged."""
    steps = []
    for n, (require, duration) in enumerate(a.steps):
        found = a.requirements[n] if n < len(a.requirements) else None
        if found is None and require.strip().lower() != "true":
            log.warning("queue %s: step %d's require %r is not routable; any agent meets it", a.queue, n + 1, require)
        skills = [list(pair) for pair in found.min_skills] if found is not None else []
        agents = list(found.agent_ids) if found is not None and found.agent_ids is not None else None
        steps.append({"skills": skills, "agents": agents, "duration_s": duration})
    if all(not st["skills"] and st["agents"] is None for st in steps) and not a.skip_unstaffed_steps:
        return None
    return {"steps": steps, "after_steps": a.after_steps, "skip_unstaffed_steps": a.skip_unstaffed_steps}


class _Driver:
    def __init__(
        self,
        session: Session,
        actor: Actor,
        row: t.Contact,
        run: t.ContactFlowRun,
        state: it.FlowState,
        figures: Figures,
    ) -> None:
        self.session = session
        self.actor = actor
        self.row = row
        self.run = run
        self.state = state
        self.now = actor.now()
        self.versions = dict(run.versions or {})
        self.env = LiveEnvironment(session, actor.tenant_id, row.id, self.now, figures(actor.tenant_id), self.versions)
        self.env.state_queues = state.queues
        self.moved = Moved(row.id, actor.tenant_id, run.status)
        self.timers = dict(run.timers or {})
        self.invoke = run.invoke
        self.pending: deque[it.Event] = deque()
        self.collected = dict(row.collected or {})

    # the loop

    def drive(self, events: list[it.Event]) -> Moved:
        before = self.run.status
        self.pending.extend(events)
        handled = 0
        while self.pending and handled < MAX_EVENTS:
            event = self.pending.popleft()
            handled += 1
            if isinstance(event, it.Input):
                self._message("customer", self._shown_input(event.text))
            if isinstance(event, it.TimerFired):
                self._fired(event)
            _, actions = it.run(self.state, event, self.now, self.env)
            for action in actions:
                self._apply(action)
            if not self.pending:
                self.pending.extend(self._answered_here())
        if self.pending:
            log.warning("contact %s: flow stopped after %d events in one go", self.row.id, handled)
        self._store(before)
        return self.moved

    def _answered_here(self) -> list[it.Event]:
        """What this runtime answers at once: a prompt is done when said (no media node yet), a transfer
        to a number fails (nothing to transfer with)."""
        s = self.state
        if s.status in FINISHED:
            return []
        if s.waiting in ("prompt", "disconnect"):
            return [it.PromptDone(wait=s.wait)]
        if s.waiting == "transfer":
            return [it.TransferDone(ok=False, wait=s.wait)]
        return []

    def _store(self, before: str) -> None:
        s, run = self.state, self.run
        if s.status in FINISHED:
            self.timers = {}
            self.invoke = None
        if s.waiting != "invoke":
            self.invoke = None
        if self.timers != (run.timers or {}) or self.invoke != run.invoke or s.status != before:
            self.moved.timers_changed = True
        run.state = s.to_dict()
        run.status = s.status
        run.timers = self.timers
        run.invoke = self.invoke
        run.versions = self.versions
        run.updated_at = self.now
        self.moved.status = s.status
        self._collect()
        if s.status != before and s.status != "running":
            append_event(
                self.session,
                self.actor.tenant_id,
                "flow.ended",
                self.now,
                {"flow": s.flow_id, "status": s.status, "why": s.ended},
                **self._subjects(),
            )

    # actions

    def _apply(self, action: it.Action) -> None:
        match action:
            case it.Step():
                self._step(action)
            case it.Say():
                self._say(action)
            case it.Ask():
                self._ask(action)
            case it.StartTimer():
                self._start_timer(action)
            case it.CancelTimer():
                self._cancel_timer(action)
            case it.Invoke():
                self._call(action)
            case it.JoinQueue():
                self._join_queue(action)
            case it.UpdateQueue():
                self._update_queue(action)
            case it.LeaveQueues():
                self._leave_queues(action)
            case it.Callback():
                self._callback(action)
            case it.SetContact():
                self._set_contact(action)
            case it.SetGlobal():
                self._set_global(action)
            case it.Disconnect():
                self._disconnect(action)
            case _:
                pass  # Treatment: for the voice media node (issue 14)

    def _step(self, a: it.Step) -> None:
        append_event(
            self.session,
            self.actor.tenant_id,
            "flow.step",
            self.now,
            {"flow": a.flow, "node": a.node, "node_type": a.type, "outcome": a.outcome, "input": a.input},
            **self._subjects(),
        )
        if a.type == "invoke":
            flow = self.env.flow(a.flow)
            node = flow.nodes.get(a.node) if flow is not None else None
            function = str(node.params.get("function")) if node is not None else ""
            steps = list(self.collected.get("functions") or [])
            steps.append({"node": a.node, "function": function, "outcome": a.outcome, "at": self.now.isoformat()})
            self.collected["functions"] = steps[-50:]

    def _say(self, a: it.Say) -> None:
        self._message("bot", a.text)

    def _ask(self, a: it.Ask) -> None:
        if not a.options:
            return
        options = [{"value": v, "label": label} for v, label in a.options]
        last = self.moved.messages[-1] if self.moved.messages else None
        if last is not None and last["sender"] == "bot" and not last["options"]:
            last["options"] = options
            last["_row"].options = options
        else:
            self._message("bot", "", options)

    def _start_timer(self, a: it.StartTimer) -> None:
        due = self.now + dt.timedelta(seconds=a.seconds)
        self.timers[a.name] = {"due": due.timestamp(), "wait": a.wait}

    def _fired(self, event: it.TimerFired) -> None:
        """A timer that fired is spent, whether the flow acts on it or drops it as stale (a `collect`'s
        time-out after the flow moved on): kept, the runner would arm it again, due at once, for ever."""
        armed = self.timers.get(event.name)
        if armed is not None and (event.wait is None or int(armed["wait"]) == event.wait):
            del self.timers[event.name]

    def _cancel_timer(self, a: it.CancelTimer) -> None:
        self.timers.pop(a.name, None)

    def _call(self, a: it.Invoke) -> None:
        self.invoke = {
            "function": a.function,
            "input": dict(a.input),
            "timeout_s": a.timeout_s,
            "retries": a.retries,
            "validate": a.validate,
            "wait": a.wait,
            "started": self.now.timestamp(),
        }

    def _queue(self, code: str) -> t.Queue | None:
        return in_flow.queue_by_code(self.session, self.actor.tenant_id, code)

    def _join_queue(self, a: it.JoinQueue) -> None:
        queue = self._queue(a.queue)
        if queue is None or self.row.status not in (S.ARRIVED, S.QUEUED) or a.queue in self.env.my_queues():
            return
        in_flow.do_join_queue(
            self.session, self.actor, self.row, queue, a.priority, a.age_adjust_s, a.keep_age, routing_steps(a)
        )

    def _update_queue(self, a: it.UpdateQueue) -> None:
        queue = self._queue(a.queue)
        if queue is not None and self.row.status == S.QUEUED and a.queue in self.env.my_queues():
            in_flow.do_requeue(self.session, self.actor, self.row, queue, a.priority, a.age_adjust_s)

    def _leave_queues(self, a: it.LeaveQueues) -> None:
        if a.abandon:
            return  # the customer left: do_customer_disconnect ended the episode as an abandon
        in_flow.do_leave_queues(self.session, self.actor, self.row, list(a.queues) or None)

    def _callback(self, a: it.Callback) -> None:
        tenant = self.session.get(t.Tenant, self.actor.tenant_id)
        country = tenant.country if tenant is not None else "ES"
        try:
            number = normalize_identity("phone", a.number, country)
        except InvalidInput:
            return  # the interpreter checked it with the same rule (dialable)
        code = a.queue or self.state.contact.get("queue")
        queue = self._queue(str(code)) if code else None
        if queue is None:
            log.warning("contact %s: callback without a queue", self.row.id)
            return
        settings = {
            "number": number,
            "initial_delay_s": a.initial_delay_s,
            "max_retries": a.max_retries,
            "retry_interval_s": a.retry_interval_s,
        }
        self._collect()
        call = in_flow.do_create_callback(self.session, self.actor, self.row, number, queue, True, settings)
        self.collected["callback"] = {"contact_id": call.id, "number": number, "queue": queue.code}

    def _set_contact(self, a: it.SetContact) -> None:
        row = self.row
        if a.field == "reason":
            reason = self.session.scalar(
                select(t.Reason).where(t.Reason.tenant_id == self.actor.tenant_id, t.Reason.code == str(a.value))
            )
            row.reason_id = reason.id if reason is not None else None
            self.collected["reason"] = a.value
        elif a.field == "language" and a.value in ("es", "en"):
            row.language = str(a.value)
        elif a.field == "self_service":
            row.self_service = a.value is True
        elif a.field == "queue":
            queue = self._queue(str(a.value))
            if queue is not None:
                row.queue_id = queue.id
        elif a.field.startswith("attributes."):
            row.attributes = {**(row.attributes or {}), a.field.split(".", 1)[1]: a.value}

    def _set_global(self, a: it.SetGlobal) -> None:
        found = self.session.get(t.FlowGlobal, (self.actor.tenant_id, a.name))
        if found is None:
            self.session.add(
                t.FlowGlobal(tenant_id=self.actor.tenant_id, name=a.name, value=a.value, updated_at=self.now)
            )
        else:
            found.value, found.updated_at = a.value, self.now

    def _disconnect(self, a: it.Disconnect) -> None:
        self._collect()
        in_flow.do_end_in_flow(
            self.session, self.actor, self.row, a.reason, in_flow.outcome_in_flow(self.row, customer_left=False)
        )

    # helpers

    def _subjects(self) -> dict[str, int | None]:
        return {"contact_id": self.row.id, "customer_id": self.row.customer_id, "queue_id": self.row.queue_id}

    def _sensitive(self) -> set[str]:
        names: set[str] = set()
        for code in self.versions:
            flow: Flow | None = self.env.flow(code)
            if flow is not None:
                names.update(n for n, v in flow.variables.items() if v.sensitive)
        return names

    def _shown_input(self, text: str) -> str:
        """The customer's input as stored: masked when the flow collects it into a sensitive variable."""
        flow = self.env.flow(self.state.flow_id)
        node = flow.nodes.get(self.state.node or "") if flow is not None else None
        target = str(node.params.get("into", "")) if node is not None and node.type == "collect" else ""
        if target.startswith("vars.") and target[5:] in self._sensitive():
            return "*" * min(len(text.strip()), 16)
        return text[:4000]

    def _message(self, sender: str, text: str, options: list[dict[str, str]] | None = None) -> None:
        row = t.ContactMessage(
            tenant_id=self.actor.tenant_id,
            contact_id=self.row.id,
            sender=sender,
            text=text,
            options=options or [],
            created_at=self.now,
        )
        self.session.add(row)
        self.moved.messages.append({"sender": sender, "text": text, "options": options or [], "_row": row})

    def _collect(self) -> None:
        """What the agent will see: kept on the contact after every transaction."""
        s = self.state
        secret = self._sensitive()
        c = self.collected
        c["flow"] = self.run.flow_code
        c["version"] = self.run.flow_version
        c["vars"] = {k: v for k, v in s.vars.items() if k not in secret and v is not None and v != ""}
        c["self_service"] = self.row.self_service
        if s.customer and s.customer.get("id") is not None:
            c["customer_id"] = s.customer.get("id")
        self.row.collected = dict(c)


def public_messages(moved: Moved) -> list[dict[str, Any]]:
    """The messages of a transaction as the API shows them (ids once flushed)."""
    return [
        {"id": m["_row"].id, "sender": m["sender"], "text": m["text"], "options": m["options"]} for m in moved.messages
    ]
