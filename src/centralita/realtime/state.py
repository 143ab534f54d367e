"""What a realtime client draws, and how the events change it: the snapshot and `apply`.

A client registers and gets `snapshot(...)`; every later event it receives goes through `apply(...)`, so
its state stays what a fresh snapshot would give (a test checks it after every live action: the
`verify_action` pattern). The browser keeps the same model in JavaScript.

```
{"me": {"role", "agent_id", "user_id"},
 "agents":   {"<agent id>": {"id", "code", "name", "state", "away_reason", "state_since", "activity"}},
 "offers":   {"<contact id>:<agent id>": {"contact_id", "agent_id", "queue", "timeout_at", "contact"}},
 "contacts": {"<contact id>": {"contact_id", "agent_id", "status", "queue", "contact"}},
 "queues":   {"<queue id>": {"id", "code", "name"}}}
```

`activity` is derived from the agent's state, offers and contacts: `offline`, `busy` (a contact connected or
on hold), `wrap_up` (after-contact work), `ringing` (an open offer), else its state (`available`, `away`,
`missed`). `contact` is the contact's summary as recognised (`contacts.live.contact_summary`). A supervisor
or admin sees every active agent, offer, agent-handled contact and active queue of its tenant; an agent its
own state, offers and contacts, and its queues. `apply` is pure: no I/O.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from centralita import access
from centralita.contacts.live import contact_summary
from centralita.contacts.status import ContactStatus
from centralita.core.actor import Actor
from centralita.store import tables as t

__all__ = ["activity", "apply", "snapshot"]

State = dict[str, Any]
S = ContactStatus
WITH_AGENT = (S.CONNECTED, S.HELD, S.ACW)


def activity(state: State, agent_id: int) -> str:
    """What the agent is doing now, from its state, offers and contacts."""
    agent = state["agents"][str(agent_id)]
    if agent["state"] == "offline":
        return "offline"
    mine = [c for c in state["contacts"].values() if c["agent_id"] == agent_id]
    if any(c["status"] in (S.CONNECTED, S.HELD) for c in mine):
        return "busy"
    if any(c["status"] == S.ACW for c in mine):
        return "wrap_up"
    if any(o["agent_id"] == agent_id for o in state["offers"].values()):
        return "ringing"
    return str(agent["state"])


def _refresh(state: State, agent_id: int | None) -> None:
    if agent_id is not None and str(agent_id) in state["agents"]:
        state["agents"][str(agent_id)]["activity"] = activity(state, agent_id)


def snapshot(session: Session, actor: Actor, served: access.Served) -> State:
    """The client's state now, as the actor may see it."""
    agents_stmt = select(t.Agent).where(
        t.Agent.tenant_id == actor.tenant_id, t.Agent.active.is_(True), access.own_agent_rows(actor, t.Agent.id)
    )
    state: State = {
        "me": {"role": actor.role, "agent_id": actor.agent_id, "user_id": actor.user_id},
        "agents": {},
        "offers": {},
        "contacts": {},
        "queues": {},
    }
    for a in session.scalars(agents_stmt.order_by(t.Agent.id)):
        state["agents"][str(a.id)] = {
            "id": a.id,
            "code": a.code,
            "name": a.name,
            "state": a.state,
            "away_reason": a.away_reason,
            "state_since": a.state_since.isoformat() if a.state_since else None,
        }
    queues = {
        q.id: q
        for q in session.scalars(select(t.Queue).where(t.Queue.tenant_id == actor.tenant_id, t.Queue.active.is_(True)))
    }
    for q in sorted(queues.values(), key=lambda q: q.id):
        if access.can_see_queue(actor, served, q.id):
            state["queues"][str(q.id)] = {"id": q.id, "code": q.code, "name": q.name}
    offers_stmt = (
        select(t.ContactOffer, t.Contact)
        .join(t.Contact, t.Contact.id == t.ContactOffer.contact_id)
        .where(
            t.ContactOffer.tenant_id == actor.tenant_id,
            t.ContactOffer.ended_at.is_(None),
            access.own_agent_rows(actor, t.ContactOffer.agent_id),
        )
    )
    for offer, contact in session.execute(offers_stmt.order_by(t.ContactOffer.id)):
        queue = queues.get(offer.queue_id) or session.get(t.Queue, offer.queue_id)
        state["offers"][f"{offer.contact_id}:{offer.agent_id}"] = {
            "contact_id": offer.contact_id,
            "agent_id": offer.agent_id,
            "queue": queue.code if queue is not None else None,
            "timeout_at": offer.timeout_at.isoformat(),
            "contact": contact_summary(session, contact),
        }
    contacts_stmt = select(t.Contact).where(
        t.Contact.tenant_id == actor.tenant_id,
        t.Contact.status.in_(WITH_AGENT),
        t.Contact.agent_id.is_not(None),
        access.own_agent_rows(actor, t.Contact.agent_id),
    )
    for c in session.scalars(contacts_stmt.order_by(t.Contact.id)):
        summary = contact_summary(session, c)
        state["contacts"][str(c.id)] = {
            "contact_id": c.id,
            "agent_id": c.agent_id,
            "status": c.status,
            "queue": summary["queue"],
            "contact": summary,
        }
    for agent_id in state["agents"]:
        _refresh(state, int(agent_id))
    return state


def _mine(state: State, agent_id: int | None) -> bool:
    """Whether the client keeps things of this agent: a supervisor every agent's, an agent its own."""
    me = state["me"]
    if me["role"] in ("supervisor", "admin"):
        return agent_id is not None
    return agent_id is not None and agent_id == me["agent_id"]


def apply(state: State, event: dict[str, Any]) -> State:
    """The state after one event the client received (`EventRecord.to_dict()` shape); a new dict."""
    out = copy.deepcopy(state)
    kind, data = event["type"], event.get("data") or {}
    agent_id, contact_id = event.get("agent_id"), event.get("contact_id")
    agents, offers, contacts, queues = out["agents"], out["offers"], out["contacts"], out["queues"]
    if kind == "agent.created" and _mine(out, agent_id):
        agents[str(agent_id)] = {
            "id": agent_id,
            "code": data["code"],
            "name": data["name"],
            "state": "offline",
            "away_reason": None,
            "state_since": event["ts"],
        }
    elif kind == "agent.updated" and str(agent_id) in agents and "name" in data["changes"]:
        agents[str(agent_id)]["name"] = data["changes"]["name"][1]
    elif kind == "agent.deleted":
        agents.pop(str(agent_id), None)
    elif kind == "agent.state_changed" and str(agent_id) in agents:
        agents[str(agent_id)].update(state=data["to"], away_reason=data["away_reason"], state_since=event["ts"])
    elif kind == "contact.offered" and _mine(out, agent_id):
        offers[f"{contact_id}:{agent_id}"] = {
            "contact_id": contact_id,
            "agent_id": agent_id,
            "queue": data["queue"],
            "timeout_at": data["timeout_at"],
            "contact": data["contact"],
        }
    elif kind == "contact.offer_ended":
        offers.pop(f"{contact_id}:{agent_id}", None)
    elif kind == "contact.connected" and _mine(out, agent_id):
        contacts[str(contact_id)] = {
            "contact_id": contact_id,
            "agent_id": agent_id,
            "status": S.CONNECTED.value,
            "queue": data["queue"],
            "contact": data["contact"],
        }
    elif kind in ("contact.held", "contact.resumed") and str(contact_id) in contacts:
        contacts[str(contact_id)]["status"] = (S.HELD if kind == "contact.held" else S.CONNECTED).value
    elif kind == "contact.ended" and data["acw"] and str(contact_id) in contacts:
        contacts[str(contact_id)]["status"] = S.ACW.value
    elif kind == "contact.wrapped_up":
        contacts.pop(str(contact_id), None)
    elif kind == "queue.created" and out["me"]["role"] in ("supervisor", "admin"):
        queue_id = event["queue_id"]
        queues[str(queue_id)] = {"id": queue_id, "code": data["code"], "name": data["name"]}
    elif kind == "queue.updated" and str(event.get("queue_id")) in queues:
        changes = data["changes"]
        if "name" in changes:
            queues[str(event["queue_id"])]["name"] = changes["name"][1]
        if "active" in changes and changes["active"][1] is False:
            queues.pop(str(event["queue_id"]))
    elif kind == "queue.deleted":
        queues.pop(str(event.get("queue_id")), None)
    for aid in list(agents):
        _refresh(out, int(aid))
    return out
