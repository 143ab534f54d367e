"""What is said on a contact while its flow runs, and the web chat's own door.

- `GET /api/contacts/{id}/messages[?after=ID]`: the conversation (the bot's lines with their buttons, the
  customer's replies, masked where the flow keeps them secret) — whoever may see the contact.
- `POST /api/contacts/{id}/input` `{"text"}`: the customer's digits or reply to the contact's flow, from a
  channel connector or an integration (the roles that bring contacts in); answers with what the flow said.
- The web chat (`/api/chat/...`), open to the public and guarded by the conversation's own token:
  `POST /api/chat/{widget_key}/conversations` starts a conversation at that web chat entry point (the
  contact arrives and its bot flow runs) and returns the token; `identity` (who the visitor is, the
  customer recognised by it) is taken only from the site's server, with a Bearer integration token (or a
  supervisor's) of the entry point's contact center: from anyone else it is refused, naming `identity`;
  `POST .../conversations/{id}/messages` sends the customer's text (or a button's value),
  `GET .../conversations/{id}/messages?after=ID` reads what came since, `POST .../conversations/{id}/end`
  leaves. The token (header `X-Chat-Token`) is signed
  with the server's secret key, names one conversation and lasts a day.
- Bad input is a 422 naming the field (text as every input model takes it: `core.vocabulary.Strict`) and
  writes nothing; a token that is forged, tampered with, expired or another conversation's is a 404 that
  does not say why. Input to an ended contact (after-contact work or closed) or to one with an agent is a
  409; to a contact without a flow, a 404. Leaving twice is no error. A conversation takes at most
  MAX_CUSTOMER_MESSAGES from the customer (409 after that): a bot cannot be fed forever.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from centralita import access
from centralita.api.auth import AgentActor, ServiceDep, authenticate, public
from centralita.contacts import live
from centralita.contacts.status import ContactStatus
from centralita.core.actor import Actor
from centralita.core.errors import Conflict, InvalidInput, NotFound
from centralita.core.i18n import LANGUAGES, _
from centralita.core.vocabulary import Strict, Text, one_of
from centralita.flowrun.advance import Moved, advance, start_at_entry
from centralita.flowrun.arrivals import widget_entry_point
from centralita.flows import interpreter as it
from centralita.service import Service
from centralita.store import tables as t

router = APIRouter(tags=["conversations"])

TOKEN_MAX_AGE_S = 24 * 3600
MAX_TEXT = 2000
MAX_CUSTOMER_MESSAGES = 1000  # what one conversation takes from its customer
ENDED = frozenset({ContactStatus.ACW, ContactStatus.CLOSED})  # the customer is gone
WITH_AGENT = frozenset({ContactStatus.CONNECTED, ContactStatus.HELD})


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


class InputBody(Strict):
    text: Text = Field(min_length=1, max_length=MAX_TEXT, description="TAB, LF and CR allowed; no other control")


class ChatStart(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    identity: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="the chat id the site knows: only with the site's Bearer integration token",
    )
    language: str | None = Field(default=None, description="es or en; by default the entry point's")

    _language = field_validator("language")(one_of("language", LANGUAGES))


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


def _lock(s: Session, actor: Actor, contact_id: int, chat: bool) -> t.Contact:
    """The tenant's contact, locked; for the web chat, a missing one is "no conversation" like a bad token."""
    try:
        return live.lock_contact(s, actor, contact_id)
    except NotFound:
        if chat:
            raise NotFound(_("no conversation {id}", id=contact_id)) from None
        raise


def _send(svc: Service, actor: Actor, contact_id: int, text: str, chat: bool = False) -> Conversation:
    """The customer's input to the contact's flow; what was said from it on."""
    with svc.db.write() as s:
        row = _lock(s, actor, contact_id, chat)
        if row.status in ENDED:
            raise Conflict(_("contact {id} has ended", id=contact_id))
        if row.status in WITH_AGENT:
            raise Conflict(_("contact {id} is with an agent: its flow takes no more input", id=contact_id))
        said = s.scalar(
            select(func.count())
            .select_from(t.ContactMessage)
            .where(t.ContactMessage.contact_id == contact_id, t.ContactMessage.sender == "customer")
        )
        if (said or 0) >= MAX_CUSTOMER_MESSAGES:
            raise Conflict(
                _(
                    "contact {id} has taken {n} messages, the most a conversation takes",
                    id=contact_id,
                    n=MAX_CUSTOMER_MESSAGES,
                )
            )
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


def _check_vouched(request: Request, svc: Service, tenant_id: int) -> None:
    """An `identity` recognises a customer (the bot greets them by name, a function may read their
    accounts): only the site's server may give it, authenticated for the widget's contact center."""
    refused = InvalidInput.field(
        "identity", _("only the site's server gives identity, with an integration token of this contact center")
    )
    if not request.headers.get("authorization", "").lower().startswith("bearer "):
        raise refused
    actor = authenticate(request, svc)
    if actor.tenant_id != tenant_id or not (actor.integration or actor.at_least("supervisor")):
        raise refused


ChatToken = Annotated[str | None, Header(alias="X-Chat-Token", max_length=400)]


@router.post("/chat/{widget_key}/conversations", status_code=201, dependencies=[Depends(public())])
def start_chat(widget_key: str, request: Request, svc: ServiceDep, body: ChatStart | None = None) -> ChatStarted:
    """A visitor opens the web chat of `widget_key`: the contact arrives (recognised by `identity` when
    the site's server, with its Bearer integration token, says who the customer is) and the bot greets them."""
    body = body or ChatStart()
    if len(widget_key) > 64:
        raise NotFound(_("no web chat {key!r}", key=widget_key[:64]))
    with svc.db.read() as s:
        entry = widget_entry_point(s, widget_key)
        if entry is None:
            raise NotFound(_("no web chat {key!r}", key=widget_key))
        tenant_id, flow, code, language = entry.tenant_id, entry.flow, entry.code, entry.language
        address = entry.address  # as stored (the key given may differ in surrounding blanks)
    if body.identity is not None:
        _check_vouched(request, svc, tenant_id)
    actor = _chat_actor(svc, tenant_id)
    attributes: dict[str, Any] = {"name": body.name} if body.name else {}
    with svc.db.write() as s:
        row, moved = start_at_entry(
            s,
            actor,
            channel="chat",
            ani=body.identity or f"web-{secrets.token_hex(8)}",
            dnis=address,
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
    return _send(svc, _chat_contact(svc, contact_id, token), contact_id, body.text, chat=True)


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
        row = _lock(s, actor, contact_id, chat=True)
        after = _last_id(s, contact_id)
        live_row = live.live_in_chain(s, actor, row)  # a transferred conversation goes on in the chain
        if live_row.status not in ENDED:  # leaving a conversation that has ended already is no error
            row = live.do_customer_disconnect(s, actor, row)
        moved = advance(s, actor, contact_id, None)
        conversation = _conversation(s, row, after)
    svc.flow_moved(moved)
    return conversation
