"""What is said on a contact, from its flow to its agent, and the web chat's own door.

- `GET /api/contacts/{id}/messages[?after=ID]`: the conversation (the bot's lines with their buttons, the
  customer's replies, masked where the flow keeps them secret, and the chat with the agent, each agent
  message with its `author`; after a transfer, what was said on the contacts before it too) — whoever may
  see the contact.
- `POST /api/contacts/{id}/input` `{"text"}`: the customer's digits or reply to the contact's flow, from a
  channel connector or an integration (the roles that bring contacts in); answers with what the flow said.
- `POST /api/contacts/{id}/messages` `{"text"}`: the agent handling a chat (connected or held) writes to the
  customer (201, the Message; a `contact.message` event); `POST /api/contacts/{id}/typing` (204): the agent
  is typing, which the visitor's read shows as `agent_typing` for TYPING_S seconds. Only the contact's
  own agent: another agent, a supervisor or an admin is a 403 (an agent that may not see the contact, 403
  as `access.access_contact` says; another tenant's, 404); a contact not with an agent (in its flow,
  queued, ended) or no chat is a 409 saying why.
- The web chat (`/api/chat/...`), open to the public and guarded by the conversation's own token:
  `POST /api/chat/{widget_key}/conversations` starts a conversation at that web chat entry point (the
  contact arrives and its bot flow runs) and returns the token; `identity` (who the visitor is, the
  customer recognised by it) is taken only from the site's server, with a Bearer integration token (or a
  supervisor's) of the entry point's contact center: from anyone else it is refused, naming `identity`;
  `POST .../conversations/{id}/messages` sends the customer's text (or a button's value): input to the bot
  flow while it runs, a message to the agent (`contact.message`) once an agent took the conversation;
  `GET .../conversations/{id}/messages?after=ID` reads what came since (bot and agent alike), with
  `agent` (who serves it now), `agent_typing` and `survey`; `POST .../conversations/{id}/typing` (204)
  tells the agent's realtime socket the visitor is typing (`{"type": "typing", ...}`, never an event);
  `POST .../conversations/{id}/end` leaves (with an agent: as a customer disconnect, the agent goes to
  wrap-up); `POST .../conversations/{id}/survey` `{"csat": 1-5, "ces": 1-7, "nps": 0-10}` (each optional,
  at least one) answers the survey once it is offered (the conversation reached an agent and ended), once:
  `contacts.surveys.do_answer_survey`, the action every channel's survey will use. The token (header `X-Chat-Token`) is
  signed with the server's secret key, names one conversation and lasts a day.
- Bad input is a 422 naming the field (text as every input model takes it: `core.vocabulary.Strict`) and
  writes nothing; a token that is forged, tampered with, expired or another conversation's is a 404 that
  does not say why. Input to an ended contact (after-contact work or closed) is a 409; to a contact without
  a flow, a 404; a survey not offered or answered already, a 409. Leaving twice is no error.
- Floods: a conversation takes at most MAX_CUSTOMER_MESSAGES from the customer (409 after that: a bot
  cannot be fed forever), and at most BURST_MESSAGES in any BURST_S seconds (429 with `Retry-After`,
  naming `text`; counted from the stored messages, so across workers). Each client address starts at
  most CHAT_STARTS_PER_MINUTE conversations a minute (429), counted per process.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from centralita import access
from centralita.api.auth import AgentActor, MinuteWindows, ServiceDep, authenticate, public
from centralita.api.openapi import problem_response
from centralita.contacts import chat, live, surveys
from centralita.contacts.chat import ENDED, WITH_AGENT
from centralita.contacts.surveys import SCALES, SurveyAnswers
from centralita.core.actor import Actor
from centralita.core.errors import Conflict, FieldError, InvalidInput, NotFound, TooManyRequests
from centralita.core.i18n import LANGUAGES, _
from centralita.core.vocabulary import Strict, Text, one_of
from centralita.flowrun.advance import Moved, advance, start_at_entry
from centralita.flowrun.arrivals import widget_entry_point
from centralita.flows import interpreter as it
from centralita.realtime.typing import TYPING_S, ChatTyping
from centralita.service import Service
from centralita.store import tables as t

__all__ = ["CHAT_STARTS_PER_MINUTE", "ChatStartLimiter", "router"]

router = APIRouter(tags=["conversations"])

TOKEN_MAX_AGE_S = 24 * 3600
MAX_TEXT = 2000
MAX_CUSTOMER_MESSAGES = 1000  # what one conversation takes from its customer
BURST_MESSAGES, BURST_S = 10, 10  # at most so many visitor messages in any so many seconds
CHAT_STARTS_PER_MINUTE = 20  # conversations one client address starts a minute (per process)
_TOO_MANY: dict[int | str, dict[str, Any]] = {429: problem_response("Too many requests: wait Retry-After seconds")}


class Message(BaseModel):
    id: int
    sender: str = Field(description="bot, customer, agent or system")
    text: str
    options: list[dict[str, str]] = Field(default_factory=list, description="buttons: value and label")
    author: str | None = Field(default=None, description="the agent's name, on an agent's message")
    created_at: Any = None


class AgentServing(BaseModel):
    name: str


class Survey(BaseModel):
    offered: bool = Field(description="the conversation reached an agent and has ended: the visitor may answer")
    answered: bool = Field(default=False, description="the survey was answered (it takes no second answer)")
    csat: int | None = None
    ces: int | None = None
    nps: int | None = None


class Conversation(BaseModel):
    contact_id: int
    status: str = Field(description="the contact's status: arrived (in its flow), queued, connected, closed…")
    flow_status: str | None = Field(default=None, description="running, queued, connected, transferred, ended")
    messages: list[Message]
    agent: AgentServing | None = Field(default=None, description="the agent serving the conversation now")
    agent_typing: bool = Field(default=False, description="the agent typed in the last few seconds")
    survey: Survey = Field(default_factory=lambda: Survey(offered=False))


class ChatStarted(Conversation):
    token: str = Field(description="send it as the X-Chat-Token header with this conversation's requests")


class InputBody(Strict):
    text: Text = Field(min_length=1, max_length=MAX_TEXT, description="TAB, LF and CR allowed; no other control")


def _answer(low: int, high: int, what: str) -> Any:
    """One survey question: a whole number from `low` to `high`, or null (unanswered). Strict: no `true`, no
    `4.0`, no `"4"`."""
    return Field(default=None, strict=True, ge=low, le=high, description=f"{what}, {low} to {high}; optional")


class SurveyBody(Strict):
    """The visitor's answers to the survey: each question optional, at least one answered."""

    csat: int | None = _answer(*SCALES["csat"], "satisfaction (CSAT)")
    ces: int | None = _answer(*SCALES["ces"], 'effort (CES): "the company made it easy for me"')
    nps: int | None = _answer(*SCALES["nps"], "how likely to recommend (NPS)")

    @model_validator(mode="after")
    def _one_at_least(self) -> SurveyBody:
        problems = self.answers().problems()
        if problems:
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [
                    InitErrorDetails(
                        type=PydanticCustomError("value_error", "{message}", {"message": p.message}),
                        loc=tuple(p.loc),
                        input=None,
                    )
                    for p in problems
                ],
            )
        return self

    def answers(self) -> SurveyAnswers:
        return SurveyAnswers(csat=self.csat, ces=self.ces, nps=self.nps)


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


class ChatStartLimiter(MinuteWindows):
    """At most `per_minute` conversations started per client address in any minute, in this process."""

    def __init__(self, per_minute: int) -> None:
        super().__init__()
        self.per_minute = per_minute

    def reserve(self, client: str) -> None:
        self._take_hits(((client, self.per_minute),), _too_many_starts)


def _too_many_starts() -> str:
    return _("too many conversations started from this address; wait before starting another")


def _messages(session: Session, contacts: Sequence[t.Contact], after: int) -> list[Message]:
    by_id = {c.id: c for c in contacts}
    rows = list(
        session.scalars(
            select(t.ContactMessage)
            .where(t.ContactMessage.contact_id.in_(list(by_id)), t.ContactMessage.id > after)
            .order_by(t.ContactMessage.id)
            .limit(500)
        )
    )
    names = chat.agent_names(session, contacts) if any(m.sender == "agent" for m in rows) else {}
    return [
        Message(
            id=m.id,
            sender=m.sender,
            text=m.text,
            options=m.options,
            author=names.get(m.contact_id) if m.sender == "agent" else None,
            created_at=m.created_at,
        )
        for m in rows
    ]


def _conversation(
    session: Session, row: t.Contact, after: int, contacts: Sequence[t.Contact], typing: bool = False
) -> Conversation:
    """`row`'s conversation: the messages of `contacts` (its chain) after `after`, and where it stands."""
    run = session.get(t.ContactFlowRun, row.id)
    now = contacts[-1]
    agent = None
    if now.status in WITH_AGENT and now.agent_id is not None:
        serving = session.get(t.Agent, now.agent_id)
        agent = AgentServing(name=serving.name) if serving is not None else None
    served = chat.served_contact(contacts)
    survey = Survey(
        offered=chat.survey_offered(contacts),
        answered=served is not None and served.survey_ts is not None,
        csat=served.csat if served is not None else None,
        ces=served.ces if served is not None else None,
        nps=served.nps if served is not None else None,
    )
    return Conversation(
        contact_id=row.id,
        status=now.status,
        flow_status=run.status if run is not None else None,
        messages=_messages(session, contacts, after),
        agent=agent,
        agent_typing=typing and agent is not None,
        survey=survey,
    )


def _last_id(session: Session, contact_ids: Sequence[int]) -> int:
    found = session.scalar(select(func.max(t.ContactMessage.id)).where(t.ContactMessage.contact_id.in_(contact_ids)))
    return int(found or 0)


def _lock(s: Session, actor: Actor, contact_id: int, chat: bool) -> t.Contact:
    """The tenant's contact, locked; for the web chat, a missing one is "no conversation" like a bad token."""
    try:
        return live.lock_contact(s, actor, contact_id)
    except NotFound:
        if chat:
            raise NotFound(_("no conversation {id}", id=contact_id)) from None
        raise


def _check_burst(s: Session, actor: Actor, contact_ids: Sequence[int]) -> None:
    """At most BURST_MESSAGES from the visitor in any BURST_S seconds (the stored messages say)."""
    since = actor.now() - dt.timedelta(seconds=BURST_S)
    if chat.customer_messages_since(s, contact_ids, since) < BURST_MESSAGES:
        return
    message = _("at most {n} messages in {s} seconds; wait a moment", n=BURST_MESSAGES, s=BURST_S)
    raise TooManyRequests(message, BURST_S, [FieldError(["text"], message)])


def _send(svc: Service, actor: Actor, contact_id: int, text: str, chat_door: bool = False) -> Conversation:
    """The customer's input to the contact's flow, or (the web chat, with an agent) its message to the
    agent; what was said from it on."""
    with svc.db.write() as s:
        row = _lock(s, actor, contact_id, chat_door)
        now = live.live_in_chain(s, actor, row) if chat_door else row  # locked too
        contacts = chat.chain(s, row) if chat_door else [row]
        ids = [c.id for c in contacts]
        if now.status in ENDED:
            raise Conflict(_("contact {id} has ended", id=contact_id))
        if now.status in WITH_AGENT and not chat_door:
            raise Conflict(_("contact {id} is with an agent: its flow takes no more input", id=contact_id))
        if now is not row and now.status not in WITH_AGENT:  # transferred, waiting for the next agent
            raise Conflict(_("contact {id} is not with an agent", id=contact_id))
        if chat.customer_messages_since(s, ids, None) >= MAX_CUSTOMER_MESSAGES:
            raise Conflict(
                _(
                    "contact {id} has taken {n} messages, the most a conversation takes",
                    id=contact_id,
                    n=MAX_CUSTOMER_MESSAGES,
                )
            )
        if chat_door:
            _check_burst(s, actor, ids)
        after = _last_id(s, ids)
        if now.status in WITH_AGENT:
            chat.do_send_message(s, actor, now, "customer", text)
            return _conversation(s, row, after, contacts)
        moved: Moved | None = advance(s, actor, contact_id, it.Input(text), svc.queue_figures)
        if moved is None:
            raise NotFound(_("contact {id} has no flow running", id=contact_id))
        conversation = _conversation(s, row, after, chat.chain(s, row) if chat_door else [row])
    svc.flow_moved(moved)
    return conversation


After = Annotated[int, Query(ge=0, le=2**62, description="only messages after this id")]


@router.get("/contacts/{contact_id}/messages")
def contact_messages(contact_id: int, actor: AgentActor, svc: ServiceDep, after: After = 0) -> Conversation:
    """The contact's conversation: what the bot said, with its buttons, what was answered, and the chat with
    the agent (with what was said before a transfer)."""
    with svc.db.read() as s:
        row = access.access_contact(s, actor, contact_id)
        contacts = chat.chain_back(s, row)
        return _conversation(s, row, after, contacts)


@router.post("/contacts/{contact_id}/input")
def contact_input(contact_id: int, body: InputBody, actor: AgentActor, svc: ServiceDep) -> Conversation:
    """The customer's digits (voice) or reply (chat) for the contact's flow; answers with what it said."""
    access.check_brings_contacts(actor)
    return _send(svc, actor, contact_id, body.text)


def _own_chat(s: Session, actor: Actor, contact_id: int, lock: bool = True) -> t.Contact:
    """The chat `actor` handles as its agent (locked, with `lock`); 403 for anyone else, 409 when it is not
    with its agent."""
    row = access.access_contact(s, actor, contact_id, lock=lock)
    if actor.agent_id is None:  # no agent: never a chat's own
        access.check_writes_to_customer(actor, contact_id, row.agent_id)
    if row.channel != "chat":
        raise Conflict(_("contact {id} is no chat", id=contact_id))
    if row.status in ENDED:
        raise Conflict(_("contact {id} has ended", id=contact_id))
    if row.status not in WITH_AGENT:
        raise Conflict(_("contact {id} is not with an agent (it is {status})", id=contact_id, status=row.status))
    access.check_writes_to_customer(actor, contact_id, row.agent_id)
    return row


@router.post("/contacts/{contact_id}/messages", status_code=201)
def agent_message(contact_id: int, body: InputBody, actor: AgentActor, svc: ServiceDep, request: Request) -> Message:
    """The agent handling a chat writes to its customer (a `contact.message` event)."""
    with svc.db.write() as s:
        row = _own_chat(s, actor, contact_id)
        agent = s.get(t.Agent, row.agent_id)
        author = agent.name if agent is not None else None
        message = chat.do_send_message(s, actor, row, "agent", body.text, author)
        answer = Message(id=message.id, sender="agent", text=message.text, author=author, created_at=message.created_at)
        tenant_id = row.tenant_id
    _typing(request).agent_typing(tenant_id, contact_id, 0.0)  # a message ends its typing
    return answer


@router.post("/contacts/{contact_id}/typing", status_code=204)
def agent_typing(contact_id: int, actor: AgentActor, svc: ServiceDep, request: Request) -> Response:
    """The agent handling a chat is typing: the visitor's read says so for a few seconds."""
    with svc.db.read() as s:
        row = _own_chat(s, actor, contact_id, lock=False)
        tenant_id = row.tenant_id
    until = svc.clock.now().timestamp() + TYPING_S
    _typing(request).agent_typing(tenant_id, contact_id, until)
    return Response(status_code=204)


def _typing(request: Request) -> ChatTyping:
    hub: ChatTyping = request.app.state.chat_typing
    return hub


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


@router.post("/chat/{widget_key}/conversations", status_code=201, dependencies=[Depends(public())], responses=_TOO_MANY)
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
    limiter: ChatStartLimiter = request.app.state.chat_starts
    limiter.reserve(request.client.host if request.client else "unknown")
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
        conversation = _conversation(s, row, 0, [row])
    svc.flow_moved(moved)
    token = _serializer(svc).dumps({"t": tenant_id, "c": row.id})
    return ChatStarted(**conversation.model_dump(), token=token)


@router.post("/chat/conversations/{contact_id}/messages", dependencies=[Depends(public())], responses=_TOO_MANY)
def chat_send(contact_id: int, body: InputBody, svc: ServiceDep, token: ChatToken = None) -> Conversation:
    """The visitor's text, or a button's value: answers with what the bot said to it; with an agent, a
    message to the agent."""
    return _send(svc, _chat_contact(svc, contact_id, token), contact_id, body.text, chat_door=True)


def _chat_row(s: Session, actor: Actor, contact_id: int) -> t.Contact:
    row = s.get(t.Contact, contact_id)
    if row is None or row.tenant_id != actor.tenant_id:
        raise NotFound(_("no conversation {id}", id=contact_id))
    return row


@router.get("/chat/conversations/{contact_id}/messages", dependencies=[Depends(public())])
def chat_read(
    contact_id: int, request: Request, svc: ServiceDep, token: ChatToken = None, after: After = 0
) -> Conversation:
    """What was said since `after` (the bot, a function's answer, the agent), who serves the conversation,
    whether the agent is typing, and the survey."""
    actor = _chat_contact(svc, contact_id, token)
    with svc.db.read() as s:
        row = _chat_row(s, actor, contact_id)
        contacts = chat.chain(s, row)
        typing = _typing(request).agent_is_typing(actor.tenant_id, contacts[-1].id, svc.clock.now().timestamp())
        return _conversation(s, row, after, contacts, typing)


@router.post("/chat/conversations/{contact_id}/typing", status_code=204, dependencies=[Depends(public())])
def chat_typing(contact_id: int, request: Request, svc: ServiceDep, token: ChatToken = None) -> Response:
    """The visitor is typing: the agent's realtime socket hears it (nothing is written). Before an agent took
    the conversation, and after it, nobody hears it."""
    actor = _chat_contact(svc, contact_id, token)
    with svc.db.read() as s:
        now = chat.chain(s, _chat_row(s, actor, contact_id))[-1]
        agent_id = now.agent_id if now.status in WITH_AGENT else None
        live_id = now.id
    if agent_id is not None:
        _typing(request).customer_typing(actor.tenant_id, live_id, agent_id)
    return Response(status_code=204)


@router.post("/chat/conversations/{contact_id}/end", dependencies=[Depends(public())])
def chat_end(contact_id: int, svc: ServiceDep, token: ChatToken = None) -> Conversation:
    """The visitor leaves: an abandon while queued, the end of the conversation otherwise (with an agent, the
    agent goes to wrap-up)."""
    actor = _chat_contact(svc, contact_id, token)
    with svc.db.write() as s:
        row = _lock(s, actor, contact_id, chat=True)
        contacts = chat.chain(s, row)
        after = _last_id(s, [c.id for c in contacts])
        live_row = live.live_in_chain(s, actor, row)  # a transferred conversation goes on in the chain
        if live_row.status not in ENDED:  # leaving a conversation that has ended already is no error
            live.do_customer_disconnect(s, actor, row)
        moved = advance(s, actor, contact_id, None)
        conversation = _conversation(s, row, after, chat.chain(s, row))
    svc.flow_moved(moved)
    return conversation


@router.post("/chat/conversations/{contact_id}/survey", dependencies=[Depends(public())])
def chat_survey(contact_id: int, body: SurveyBody, svc: ServiceDep, token: ChatToken = None) -> Conversation:
    """The visitor answers the survey (satisfaction 1-5, effort 1-7, recommend 0-10; each optional, at least
    one), once, after the agent served it and the conversation ended."""
    actor = _chat_contact(svc, contact_id, token)
    with svc.db.write() as s:
        row = _lock(s, actor, contact_id, chat=True)
        live.live_in_chain(s, actor, row)  # the chain, locked
        contacts = chat.chain(s, row)
        surveys.do_answer_survey(s, actor, chat.survey_contact(contacts), body.answers())
        return _conversation(s, row, _last_id(s, [c.id for c in contacts]), contacts)
