"""What is said on a contact while its flow runs, and the web chat's own door.

- `GET /api/contacts/{id}/messages[?after=ID]`: the conversation (the bot's lines with their buttons, the
  customer's replies, masked where the flow keeps them secret) — whoever may see the contact.
- `POST /api/contacts/{id}/input` `{"text"}`: the customer's digits or reply to the contact's flow, from a
  channel connector or an integration (the roles that bring contacts in); answers with what the flow said.
- The web chat (`/api/chat/...`), open to the public and guarded by the conversation's own token:
  `POST /api/chat/{widget_key}/conversations` starts a conversation at that web chat entry point (the
  contact arrives and its bot flow runs) and returns the token; `POST .../conversations/{id}/messages`
  sends the customer's text (or a button's value), `GET .../conversations/{id}/messages?after=ID` reads
  what came since, `POST .../conversations/{id}/end` leaves. The token (header `X-Chat-Token`) is signed
  with the server's secret key, names one conversation and lasts a day.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from centralita import access
from centralita.api.auth import AgentActor, ServiceDep, public
from centralita.contacts import live
from centralita.core.actor import Actor
from centralita.core.errors import Conflict, NotFound
from centralita.core.i18n import _
from centralita.flowrun.advance import Moved, advance, start_at_entry
from centralita.flowrun.arrivals import widget_entry_point
from centralita.flows import interpreter as it
from centralita.service import Service
from centralita.store import tables as t

router = APIRouter(tags=["conversations"])

TOKEN_MAX_AGE_S = 24 * 3600
MAX_TEXT = 2000
NO_CONTROL = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


class Message(BaseModel):
    id: int
    sender: str = Field(description="bot, customer, agent or system")
    text: str
    options: list[dict[str, str]] = Field(default_factory=list, description="buttons: value and label")
    created_at: Any = None


class Conversation(BaseModel):
    contact_id: int
    status: str = Field(description="the contact's status: arrived (in its flow), queued, connected, closed…")
    flow_status: str | None = Field(default=None, description="running, queued, connected, transferred, ended")
    messages: list[Message]


class ChatStarted(Conversation):
    token: str = Field(description="send it as the X-Chat-Token header with this conversation's requests")


class InputBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=MAX_TEXT, pattern=NO_CONTROL)


class ChatStart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=200, pattern=NO_CONTROL)
    identity: str | None = Field(
        default=None, min_length=1, max_length=100, pattern=NO_CONTROL, description="the chat id the site knows"
    )
    language: str | None = Field(default=None, pattern="^(es|en)$")


def _messages(session: Session, contact_id: int, after: int) -> list[Message]:
    rows = session.scalars(
        select(t.ContactMessage)
        .where(t.ContactMessage.contact_id == contact_id, t.ContactMessage.id > after)
        .order_by(t.ContactMessage.id)
        .limit(500)
    )
    return [Message(id=m.id, sender=m.sender, text=m.text, options=m.options, created_at=m.created_at) for m in rows]


def _conversation(session: Session, row: t.Contact, after: int) -> Conversation:
    run = session.get(t.ContactFlowRun, row.id)
    return Conversation(
        contact_id=row.id,
        status=row.status,
        flow_status=run.status if run is not None else None,
        messages=_messages(session, row.id, after),
    )


def _last_id(session: Session, contact_id: int) -> int:
    found = session.scalar(select(func.max(t.ContactMessage.id)).where(t.ContactMessage.contact_id == contact_id))
    return int(found or 0)


def _send(svc: Service, actor: Actor, contact_id: int, text: str) -> Conversation:
    """The customer's input to the contact's flow; what was said from it on."""
    with svc.db.write() as s:
        row = live.lock_contact(s, actor, contact_id)
        if row.status == "closed":
            raise Conflict(_("contact {id} has ended", id=contact_id))
        after = _last_id(s, contact_id)
        moved: Moved | None = advance(s, actor, contact_id, it.Input(text), svc.queue_figures)
        if moved is None:
            raise NotFound(_("contact {id} has no flow running", id=contact_id))
        conversation = _conversation(s, row, after)
    svc.flow_moved(moved)
    return conversation


After = Annotated[int, Query(ge=0, le=2**62, description="only messages after this id")]


@router.get("/contacts/{contact_id}/messages")
def contact_messages(contact_id: int, actor: AgentActor, svc: ServiceDep, after: After = 0) -> Conversation:
    """The contact's conversation with its flow: what the bot said, with its buttons, and what was answered."""
    with svc.db.read() as s:
        row = access.access_contact(s, actor, contact_id)
        return _conversation(s, row, after)


@router.post("/contacts/{contact_id}/input")
def contact_input(contact_id: int, body: InputBody, actor: AgentActor, svc: ServiceDep) -> Conversation:
    """The customer's digits (voice) or reply (chat) for the contact's flow; answers with what it said."""
    access.check_brings_contacts(actor)
    return _send(svc, actor, contact_id, body.text)


# --- the web chat -----------------------------------------------------------------------------------------


def _serializer(svc: Service) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(svc.settings.ensure_secret_key(), salt="centralita-web-chat")


def _chat_actor(svc: Service, tenant_id: int) -> Actor:
    return Actor(tenant_id=tenant_id, role="admin", username="web-chat", clock=svc.clock)


def _chat_contact(svc: Service, contact_id: int, token: str | None) -> Actor:
    """The actor of the conversation `token` opens, when it is `contact_id`'s; else 404 (never saying why)."""
    try:
        data = _serializer(svc).loads(token or "", max_age=TOKEN_MAX_AGE_S)
    except BadSignature:
        raise NotFound(_("no conversation {id}", id=contact_id)) from None
    if not isinstance(data, dict) or data.get("c") != contact_id or not isinstance(data.get("t"), int):
        raise NotFound(_("no conversation {id}", id=contact_id))
    return _chat_actor(svc, int(data["t"]))


ChatToken = Annotated[str | None, Header(alias="X-Chat-Token", max_length=400)]


@router.post("/chat/{widget_key}/conversations", status_code=201, dependencies=[Depends(public())])
def start_chat(widget_key: str, svc: ServiceDep, body: ChatStart | None = None) -> ChatStarted:
    """A visitor opens the web chat of `widget_key`: the contact arrives (recognised by `identity` when
    the site knows the customer) and the bot greets them."""
    body = body or ChatStart()
    if len(widget_key) > 64:
        raise NotFound(_("no web chat {key!r}", key=widget_key[:64]))
    with svc.db.read() as s:
        entry = widget_entry_point(s, widget_key)
        if entry is None:
            raise NotFound(_("no web chat {key!r}", key=widget_key))
        tenant_id, flow, code, language = entry.tenant_id, entry.flow, entry.code, entry.language
    actor = _chat_actor(svc, tenant_id)
    attributes: dict[str, Any] = {"name": body.name} if body.name else {}
    with svc.db.write() as s:
        row, moved = start_at_entry(
            s,
            actor,
            channel="chat",
            ani=body.identity or f"web-{secrets.token_hex(8)}",
            dnis=widget_key,
            language=body.language or language,
            attributes=attributes,
            flow_code=flow,
            entry_point=code,
            figures=svc.queue_figures,
        )
        conversation = _conversation(s, row, 0)
    svc.flow_moved(moved)
    token = _serializer(svc).dumps({"t": tenant_id, "c": row.id})
    return ChatStarted(**conversation.model_dump(), token=token)


@router.post("/chat/conversations/{contact_id}/messages", dependencies=[Depends(public())])
def chat_send(contact_id: int, body: InputBody, svc: ServiceDep, token: ChatToken = None) -> Conversation:
    """The visitor's text, or a button's value: answers with what the bot said to it."""
    return _send(svc, _chat_contact(svc, contact_id, token), contact_id, body.text)


@router.get("/chat/conversations/{contact_id}/messages", dependencies=[Depends(public())])
def chat_read(contact_id: int, svc: ServiceDep, token: ChatToken = None, after: After = 0) -> Conversation:
    """What was said since `after` (the bot, a function's answer, later an agent)."""
    actor = _chat_contact(svc, contact_id, token)
    with svc.db.read() as s:
        row = s.get(t.Contact, contact_id)
        if row is None or row.tenant_id != actor.tenant_id:
            raise NotFound(_("no conversation {id}", id=contact_id))
        return _conversation(s, row, after)


@router.post("/chat/conversations/{contact_id}/end", dependencies=[Depends(public())])
def chat_end(contact_id: int, svc: ServiceDep, token: ChatToken = None) -> Conversation:
    """The visitor leaves: an abandon while queued, the end of the conversation otherwise."""
    actor = _chat_contact(svc, contact_id, token)
    with svc.db.write() as s:
        row = live.lock_contact(s, actor, contact_id)
        after = _last_id(s, contact_id)
        if row.status != "closed":
            row = live.do_customer_disconnect(s, actor, row)
        moved = advance(s, actor, contact_id, None)
        conversation = _conversation(s, row, after)
    svc.flow_moved(moved)
    return conversation
