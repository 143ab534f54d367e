"""Schemas for contacts: the public view, and the live contact's input (arrive, transfer, wrap up)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from centralita.core.i18n import _
from centralita.core.vocabulary import CODE, Attributes, Strict, Text, one_of

__all__ = [
    "ContactPublic",
    "EndRequest",
    "FollowUp",
    "LiveContactCreate",
    "LiveContactPublic",
    "TransferRequest",
    "WrapUp",
]


class ContactPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    initial_contact_id: int | None
    previous_contact_id: int | None
    next_contact_id: int | None
    channel: str
    direction: str
    initiation_method: str
    status: str
    ani: str | None
    dnis: str | None
    language: str
    customer_id: int | None
    customer_name: str | None = None  # as recognised at arrival
    segment: str | None
    value_tier: str | None
    lifecycle_stage: str | None
    reason_id: int | None
    sub_reason_id: int | None
    self_service: bool
    resolved: bool | None
    queue_id: int | None
    priority: int
    agent_id: int | None
    initiation_ts: dt.datetime
    enqueue_ts: dt.datetime | None
    dequeue_ts: dt.datetime | None
    queue_outcome: str | None
    agent_connected_ts: dt.datetime | None
    agent_end_ts: dt.datetime | None
    acw_start_ts: dt.datetime | None
    acw_end_ts: dt.datetime | None
    disconnect_ts: dt.datetime | None
    disconnect_reason: str | None
    transferred_to: str | None
    disposition: str | None
    csat: int | None
    ces: int | None
    nps: int | None
    cost: float | None
    outcome: str | None = None  # how it ended when no agent took it (contacts/live.py, contacts/in_flow.py)
    collected: dict[str, Any] = Field(
        default_factory=dict,
        description="what its flow collected for the agent: flow and version, variables (not the secret ones),"
        " functions run and their outcomes, reason, case, callback",
    )


# live contacts (contacts/live.py) ------------------------------------------------------------------

LIVE_CHANNELS = ("voice", "chat", "email")


class LiveContactCreate(Strict):
    """A contact entering now: a chat, an e-mail or a simulated call, queued in `queue` or running the flow
    of the entry point `to`."""

    channel: str = Field(description="voice (a simulated call), chat or email")
    from_: str = Field(alias="from", min_length=1, max_length=100, description="caller number, e-mail or chat id")
    to: str | None = Field(default=None, max_length=100, description="number or address dialled")
    queue: str | None = Field(
        default=None,
        pattern=CODE,
        description="queue code; without one, `to` names an entry point (a number, widget key or address) whose"
        " flow the contact runs",
    )
    priority: int | None = Field(
        default=None, ge=-100, le=100, description="higher first; default: the queue's segment priority, else 0"
    )
    language: str = Field(default="es", pattern="^(es|en)$")
    attributes: Attributes = Field(default_factory=dict)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    _channel = field_validator("channel")(one_of("channel", LIVE_CHANNELS))


class TransferRequest(Strict):
    """To a queue (re-queued there) or to one agent (queued for that agent only). Exactly one."""

    queue: str | None = Field(default=None, pattern=CODE)
    agent: str | None = Field(default=None, pattern=CODE)
    note: Text | None = Field(
        default=None, max_length=1000, description="for the next agent: shown in its screen pop (`collected.transfer`)"
    )

    @model_validator(mode="after")
    def _one_target(self) -> TransferRequest:
        if (self.queue is None) == (self.agent is None):
            raise ValueError(_("give exactly one of queue or agent"))
        return self


class FollowUp(Strict):
    """What is left to do after the contact: a task, or calling the customer back. Either becomes an open case
    of the customer's, owned by the agent and linked to the contact, due at `due_at` (the outbound dialer,
    when it comes, dials the `callback` ones)."""

    kind: str = Field(pattern="^(task|callback)$")
    due_at: AwareDatetime | None = Field(default=None, description="when it is due (ISO 8601 with its offset)")
    note: Text | None = Field(default=None, max_length=300)


class WrapUp(Strict):
    disposition: str = Field(pattern=CODE, description="the outcome code, e.g. resolved, callback, sale")
    reason: str = Field(pattern=CODE, description="contact reason code (taxonomy)")
    sub_reason: str | None = Field(default=None, pattern=CODE, description="a sub-reason of `reason`")
    resolved: bool | None = None
    notes: Text | None = Field(default=None, max_length=4000)
    follow_up: FollowUp | None = Field(default=None, description="a task or a callback: an open case, due then")


class EndRequest(Strict):
    wrap_up: WrapUp | None = Field(
        default=None, description="wrap the contact up as it ends, in the same write (no after-contact work)"
    )


class LiveContactPublic(ContactPublic):
    """A contact with its live routing state."""

    offered_to: int | None = Field(default=None, description="agent id of the open offer (the first, with ring_all)")
    offered_agents: list[int] = Field(default_factory=list, description="agent ids of every open offer")
    queues: list[Any] = Field(default_factory=list)
