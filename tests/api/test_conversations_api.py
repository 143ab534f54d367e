"""Every door of the conversation API tried as an attacker would (api/routes/conversations.py, and
`POST /api/contacts` without a queue): forged, tampered, expired and misdirected chat tokens; NUL and
control characters, oversize text, huge integers, broken and nested bodies, unknown fields; widget keys
that do not exist or cannot; lower roles and other tenants; contacts that ended, have no flow or are with
an agent; a visitor claiming to be a customer; a flood. Always a 4xx naming the field or saying nothing of
what is not the caller's, never a 500; nothing written; what a visitor sends read back byte-exact.
On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner
from sqlalchemy import func, select

import tests.flowrun.conftest as flowrun_fixtures
from centralita.api.routes import conversations
from centralita.core.actor import Actor
from centralita.entrypoints.actions import do_create_entry_point, do_update_entry_point
from centralita.entrypoints.schemas import EntryPointCreate, EntryPointUpdate
from centralita.flowstore.actions import do_publish_flow
from centralita.store import tables as t
from tests.factories import World
from tests.flowrun.conftest import Live
from tests.flowrun.test_live import BOT, publish, settle

live = flowrun_fixtures.live  # the fixture: contacts route and flows run

WIDGET = "web-banco-1"
SALT = "centralita-web-chat"


# helpers ---------------------------------------------------------------------------------------------


def _publish_for(live: Live, world: World, address: str) -> None:
    """The bot at a web chat entry point of `world`'s contact center."""
    svc = live.service
    with svc.db.write() as s:
        actor = Actor(tenant_id=world.tenant_id, role="admin", username="setup", clock=svc.clock)
        do_publish_flow(s, actor, BOT, "bot.yaml")
        do_create_entry_point(
            s, actor, EntryPointCreate(code="ep_bot", name="bot", kind="chat", address=address, flow="bot")
        )


def _start(live: Live, widget: str = WIDGET, **body: Any) -> tuple[int, dict[str, str], dict[str, Any]]:
    resp = live.api.anonymous().post(f"/api/chat/{widget}/conversations", json=body)
    assert resp.status_code == 201, resp.text
    started: dict[str, Any] = resp.json()
    return started["contact_id"], {"X-Chat-Token": started["token"]}, started


def _written(live: Live) -> tuple[int, int, int, int]:
    """What a refused request must leave as it was: contacts, messages, events, flow runs."""
    with live.service.db.read() as s:
        return (
            int(s.scalar(select(func.count()).select_from(t.Contact)) or 0),
            int(s.scalar(select(func.count()).select_from(t.ContactMessage)) or 0),
            int(s.scalar(select(func.max(t.Event.seq))) or 0),
            int(s.scalar(select(func.count()).select_from(t.ContactFlowRun)) or 0),
        )


def _refused(resp: Any, field: str, *words: str) -> None:
    assert resp.status_code == 422, resp.text
    fields = {e["field"]: e["message"] for e in resp.json()["errors"]}
    assert field in fields, resp.json()
    for word in words:
        assert word in fields[field], fields[field]


def _not_found(resp: Any) -> None:
    assert resp.status_code == 404, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")


def _texts(resp: Any) -> list[tuple[str, str]]:
    assert resp.status_code == 200, resp.text
    return [(m["sender"], m["text"]) for m in resp.json()["messages"]]


def _bearer(live: Live, world: World, role: str = "agent") -> TestClient:
    """A client with an integration token (an API token of no agent) of `world`'s contact center."""
    issued = live.api.client("admin", world).post("/api/tokens", json={"name": f"site-{role}", "role": role})
    assert issued.status_code == 201, issued.text
    client = live.api.anonymous()
    client.headers["Authorization"] = f"Bearer {issued.json()['token']}"
    return client


# the chat token ------------------------------------------------------------------------------------


def test_a_bad_chat_token_is_a_404_that_says_nothing_and_writes_nothing(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(live)
    _publish_for(live, live.api.b, "web-sur-0001")
    cid, good, _ = _start(live)
    other_cid, other, _ = _start(live)
    b_cid, b_token, _ = _start(live, "web-sur-0001")
    token = good["X-Chat-Token"]
    secret = live.service.settings.ensure_secret_key()
    body, sig = token.rsplit(".", 1)
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    expired_signer = URLSafeTimedSerializer(secret, salt=SALT)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: 1_000_000_000)
    expired = expired_signer.dumps({"t": live.api.a.tenant_id, "c": cid})
    monkeypatch.undo()
    bad: dict[str, str | None] = {
        "missing": None,
        "empty": "",
        "forged": "eyJ0IjoxLCJjIjoxfQ.ZZZZZZ.ZZZZZZZZZZZZZZZZZZZZZZZZZZZ",
        "tampered signature": f"{body}.{flipped}",
        "tampered payload": URLSafeTimedSerializer("x", salt=SALT).dumps({"t": 1, "c": cid, "r": "admin"}).split(".")[0]
        + token[token.index(".") :],
        "another key": URLSafeTimedSerializer("not-the-secret", salt=SALT).dumps({"t": live.api.a.tenant_id, "c": cid}),
        "another salt": URLSafeTimedSerializer(secret, salt="other").dumps({"t": live.api.a.tenant_id, "c": cid}),
        "not a dict": URLSafeTimedSerializer(secret, salt=SALT).dumps([live.api.a.tenant_id, cid]),
        "tenant not int": URLSafeTimedSerializer(secret, salt=SALT).dumps({"t": "1", "c": cid}),
        "another conversation": other["X-Chat-Token"],
        "another tenant's": b_token["X-Chat-Token"],
        "wrong tenant, right id": URLSafeTimedSerializer(secret, salt=SALT).dumps(
            {"t": live.api.b.tenant_id, "c": cid}
        ),
        "expired": expired,
    }
    anon = live.api.anonymous()
    before = _written(live)
    for why, value in bad.items():
        headers = {} if value is None else {"X-Chat-Token": value}
        for resp in (
            anon.get(f"/api/chat/conversations/{cid}/messages", headers=headers),
            anon.post(f"/api/chat/conversations/{cid}/messages", json={"text": "1"}, headers=headers),
            anon.post(f"/api/chat/conversations/{cid}/end", headers=headers),
        ):
            assert resp.status_code == 404, (why, resp.text)
            assert "conversation" in resp.json()["detail"], why
    # a header of raw bytes (Latin-1, UTF-8) is no token either
    for raw in ("é".encode("latin-1"), "ñ".encode()):
        _not_found(anon.get(f"/api/chat/conversations/{cid}/messages", headers=[(b"X-Chat-Token", raw)]))
    _refused(anon.get(f"/api/chat/conversations/{cid}/messages", headers={"X-Chat-Token": "x" * 401}), "X-Chat-Token")
    assert _written(live) == before
    # the good tokens still work, each for its own conversation only
    assert _texts(anon.get(f"/api/chat/conversations/{cid}/messages", headers=good))[0] == ("bot", "Hola.")
    _not_found(anon.get(f"/api/chat/conversations/{b_cid}/messages", headers=good))
    assert anon.get(f"/api/chat/conversations/{other_cid}/messages", headers=other).status_code == 200
    assert anon.get(f"/api/chat/conversations/{b_cid}/messages", headers=b_token).status_code == 200


def test_a_token_expires_after_a_day(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    publish(live)
    cid, headers, _ = _start(live)
    anon = live.api.anonymous()
    real = TimestampSigner.get_timestamp
    signed_at = int(real(TimestampSigner("k")))
    # the signer's clock only (patching time.time would age the database pool's connections too)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: signed_at + conversations.TOKEN_MAX_AGE_S - 5)
    assert anon.get(f"/api/chat/conversations/{cid}/messages", headers=headers).status_code == 200
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: signed_at + conversations.TOKEN_MAX_AGE_S + 5)
    before = _written(live)
    _not_found(anon.get(f"/api/chat/conversations/{cid}/messages", headers=headers))
    _not_found(anon.post(f"/api/chat/conversations/{cid}/messages", json={"text": "1"}, headers=headers))
    _not_found(anon.post(f"/api/chat/conversations/{cid}/end", headers=headers))
    assert _written(live) == before


# bad input -----------------------------------------------------------------------------------------


BAD_BODIES: list[tuple[str, bytes | None, Any, str, str]] = [
    ("nul", None, {"text": "a\x00b"}, "text", "U+0000"),
    ("escape", None, {"text": "\x1b[31mrojo"}, "text", "U+001B"),
    ("del", None, {"text": "a\x7f"}, "text", "U+007F"),
    ("bell", None, {"text": "\x07"}, "text", "U+0007"),
    ("surrogate", b'{"text": "\\ud800"}', None, "text", ""),
    ("too long", None, {"text": "x" * 2001}, "text", "2000"),
    ("emoji too long", None, {"text": "😀" * 2001}, "text", "2000"),
    ("empty", None, {"text": ""}, "text", ""),
    ("null", None, {"text": None}, "text", ""),
    ("number", None, {"text": 1}, "text", ""),
    ("nested", None, {"text": {"a": {"b": [1]}}}, "text", ""),
    ("missing", None, {}, "text", ""),
    ("unknown field", None, {"text": "1", "admin": True}, "admin", ""),
    ("unknown nul key", None, {"text": "1", "\x00": 1}, "\x00", ""),
    ("list", None, ["text"], "body", ""),
    ("string", None, "1", "body", ""),
    ("not json", b"text=1", None, "body", ""),
    ("broken json", b'{"text": "1"', None, "body", ""),
    ("deep", b"[" * 5000 + b"]" * 5000, None, "body", ""),
    ("deep object", b'{"a":' * 5000 + b"1" + b"}" * 5000, None, "body", ""),
    ("infinity", b'{"text": 1e999}', None, "text", ""),
    ("no body", b"", None, "body", ""),
]


@pytest.mark.parametrize(("why", "raw", "body", "field", "word"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_input_is_a_422_naming_the_field_and_writes_nothing(
    live: Live, why: str, raw: bytes | None, body: Any, field: str, word: str
) -> None:
    publish(live)
    cid, token, _ = _start(live)
    sup, anon = live.client("supervisor"), live.api.anonymous()
    before = _written(live)
    json_header = {"content-type": "application/json"}
    for client, url, headers in (
        (anon, f"/api/chat/conversations/{cid}/messages", {**token, **json_header}),
        (sup, f"/api/contacts/{cid}/input", json_header),
    ):
        if raw is not None:
            resp = client.post(url, content=raw, headers=headers)
        else:
            resp = client.post(url, json=body, headers=headers)
        _refused(resp, field, word)
    assert _written(live) == before
    assert _texts(anon.get(f"/api/chat/conversations/{cid}/messages", headers=token))[-1] == ("bot", "¿Qué desea?")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (f"after={2**63}", "after"),
        (f"after={2**62 + 1}", "after"),
        ("after=-1", "after"),
        (f"after=-{2**63 + 1}", "after"),
        ("after=1e3", "after"),
        ("after=%00", "after"),
        ("after=١٢", "after"),
    ],
)
def test_after_out_of_range_is_a_422(live: Live, query: str, field: str) -> None:
    publish(live)
    cid, token, _ = _start(live)
    _refused(live.api.anonymous().get(f"/api/chat/conversations/{cid}/messages?{query}", headers=token), field)
    _refused(live.client("supervisor").get(f"/api/contacts/{cid}/messages?{query}"), field)


def test_after_at_its_limits_reads_nothing_new(live: Live) -> None:
    publish(live)
    cid, token, _ = _start(live)
    anon = live.api.anonymous()
    assert _texts(anon.get(f"/api/chat/conversations/{cid}/messages?after={2**62}", headers=token)) == []
    assert len(_texts(anon.get(f"/api/chat/conversations/{cid}/messages?after=0", headers=token))) == 2


@pytest.mark.parametrize("contact_id", [str(2**63), str(2**70), f"-{2**63 + 1}", "1.5", "%00", "١"])
def test_contact_ids_that_are_no_int64_are_a_422(live: Live, contact_id: str) -> None:
    publish(live)
    _, token, _ = _start(live)
    anon, sup = live.api.anonymous(), live.client("supervisor")
    before = _written(live)
    for resp in (
        anon.get(f"/api/chat/conversations/{contact_id}/messages", headers=token),
        anon.post(f"/api/chat/conversations/{contact_id}/messages", json={"text": "1"}, headers=token),
        anon.post(f"/api/chat/conversations/{contact_id}/end", headers=token),
        sup.get(f"/api/contacts/{contact_id}/messages"),
        sup.post(f"/api/contacts/{contact_id}/input", json={"text": "1"}),
    ):
        _refused(resp, "contact_id")
    assert _written(live) == before


@pytest.mark.parametrize("contact_id", [0, -1, 2**63 - 1, -(2**63), 999_999])
def test_contact_ids_of_no_contact_are_a_404(live: Live, contact_id: int) -> None:
    publish(live)
    _, token, _ = _start(live)
    anon, sup = live.api.anonymous(), live.client("supervisor")
    before = _written(live)
    for resp in (
        anon.get(f"/api/chat/conversations/{contact_id}/messages", headers=token),
        anon.post(f"/api/chat/conversations/{contact_id}/messages", json={"text": "1"}, headers=token),
        anon.post(f"/api/chat/conversations/{contact_id}/end", headers=token),
        sup.get(f"/api/contacts/{contact_id}/messages"),
        sup.post(f"/api/contacts/{contact_id}/input", json={"text": "1"}),
        sup.post(f"/api/contacts/{contact_id}/customer-disconnect"),
    ):
        _not_found(resp)
    assert _written(live) == before


# widget keys and the start body ---------------------------------------------------------------------


def test_widget_keys_that_are_no_active_web_chat_are_a_404_or_422(live: Live) -> None:
    publish(live)
    with live.service.db.write() as s:
        actor = Actor(tenant_id=live.api.a.tenant_id, role="admin", username="setup", clock=live.service.clock)
        do_create_entry_point(
            s, actor, EntryPointCreate(code="ep_off", name="off", kind="chat", address="web-cerrado", flow="bot")
        )
        row = s.scalar(select(t.EntryPoint).where(t.EntryPoint.code == "ep_off"))
        assert row is not None
        do_update_entry_point(s, actor, row, EntryPointUpdate(active=False))
    anon = live.api.anonymous()
    before = _written(live)
    for key in (
        "web-no-existe",
        "web-cerrado",
        "k" * 10_000,
        "ñandú-çhat-😀",
        "WEB-BANCO-1",
        "web-banco-",
        "web-banco-1 x",
    ):
        resp = anon.post(f"/api/chat/{key}/conversations")
        assert resp.status_code == 404, (key, resp.text)
    for key in ("a%2Fb", "web-banco-1%2F..%2F..", "..%2Fweb-banco-1", "%2F"):
        resp = anon.post(f"/api/chat/{key}/conversations")
        assert resp.status_code in (404, 422), resp.text
    _refused(anon.post("/api/chat/%00web-banco-1/conversations"), "widget_key", "U+0000")
    _refused(anon.post("/api/chat/web%1bbanco/conversations"), "widget_key", "U+001B")
    assert _written(live) == before
    # a 10 KB key is not repeated whole in the message (the problem's `instance` is the path, as everywhere)
    assert len(anon.post(f"/api/chat/{'k' * 10_000}/conversations").json()["detail"]) < 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Ana\x00"}, "name"),
        ({"name": "Ana\nBot"}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": {"first": "Ana"}}, "name"),
        ({"language": "fr"}, "language"),
        ({"language": "ES"}, "language"),
        ({"language": 1}, "language"),
        ({"identity": ""}, "identity"),
        ({"identity": "x" * 101}, "identity"),
        ({"identity": "chat-\x00"}, "identity"),
        ({"queue": "atencion"}, "queue"),
        ({"token": "x"}, "token"),
        ([], "body"),
        ("hola", "body"),
    ],
)
def test_a_bad_start_body_is_a_422_naming_the_field(live: Live, body: Any, field: str) -> None:
    publish(live)
    before = _written(live)
    _refused(live.api.anonymous().post(f"/api/chat/{WIDGET}/conversations", json=body), field)
    assert _written(live) == before


def test_a_start_body_is_optional_and_may_be_empty(live: Live) -> None:
    publish(live)
    anon = live.api.anonymous()
    assert anon.post(f"/api/chat/{WIDGET}/conversations").status_code == 201
    assert anon.post(f"/api/chat/{WIDGET}/conversations", json={}).status_code == 201
    assert anon.post(f"/api/chat/{WIDGET}/conversations", json=None).status_code == 201
    started = anon.post(f"/api/chat/{WIDGET}/conversations", json={"name": "Ana ‮", "language": "en"})
    assert started.status_code == 201, started.text


# who may say who the visitor is -------------------------------------------------------------------------


def test_only_the_sites_server_says_who_the_visitor_is(live: Live) -> None:
    publish(live)
    made = live.client("agent").post(
        "/api/customers", json={"name": "María Secreta", "identities": [{"kind": "chat", "value": "chat-maria"}]}
    )
    assert made.status_code == 201, made.text
    anon = live.api.anonymous()
    before = _written(live)
    # anyone on the web claiming to be María would be greeted by her name (and a flow could read her accounts)
    _refused(anon.post(f"/api/chat/{WIDGET}/conversations", json={"identity": "chat-maria"}), "identity", "token")
    # another contact center's integration token vouches for nobody here
    _refused(
        _bearer(live, live.api.b).post(f"/api/chat/{WIDGET}/conversations", json={"identity": "chat-maria"}), "identity"
    )
    # an agent's own token is no site's server
    agent_session = live.client("agent")
    _refused(agent_session.post(f"/api/chat/{WIDGET}/conversations", json={"identity": "chat-maria"}), "identity")
    # a bad token is a 401
    forged = live.api.anonymous()
    forged.headers["Authorization"] = "Bearer nope"
    assert forged.post(f"/api/chat/{WIDGET}/conversations", json={"identity": "chat-maria"}).status_code == 401
    assert _written(live) == before
    # the site's server, with its integration token, is believed
    site = _bearer(live, live.api.a)
    started = site.post(f"/api/chat/{WIDGET}/conversations", json={"identity": "chat-maria"})
    assert started.status_code == 201, started.text
    assert started.json()["messages"][0]["text"] == "HolaMaría Secreta."
    # without identity, nobody is recognised whatever the visitor says its name is
    cid, _token, _ = _start(live, name="María Secreta")
    assert live.contact(cid)["customer_id"] is None


# roles and tenants --------------------------------------------------------------------------------------


def test_an_agent_cannot_bring_contacts_in_nor_drive_their_flows(live: Live) -> None:
    publish(live)
    cid, _, _ = _start(live)
    agent = live.client("agent")
    before = _written(live)
    assert agent.post(f"/api/contacts/{cid}/input", json={"text": "1"}).status_code == 403
    assert agent.post("/api/contacts", json={"channel": "chat", "from": "chat-1", "to": WIDGET}).status_code == 403
    assert agent.post(f"/api/contacts/{cid}/customer-disconnect").status_code == 403
    # the contact is in its flow, in none of the agent's queues: not the agent's to read
    assert agent.get(f"/api/contacts/{cid}/messages").status_code == 403
    assert _written(live) == before
    # an agent's own API token is no integration token either
    issued = agent.post("/api/tokens", json={"name": "mine"})
    if issued.status_code == 201:
        bearer = live.api.anonymous()
        bearer.headers["Authorization"] = f"Bearer {issued.json()['token']}"
        assert bearer.post(f"/api/contacts/{cid}/input", json={"text": "1"}).status_code == 403
        before = _written(live)
    # an integration token brings contacts in and drives them
    site = _bearer(live, live.api.a)
    assert _texts(site.post(f"/api/contacts/{cid}/input", json={"text": "1"})) == [
        ("customer", "1"),
        ("bot", "Su clave."),
    ]


def test_another_contact_centers_supervisor_sees_nothing_of_ours(live: Live) -> None:
    publish(live)
    cid, _, _ = _start(live)
    b = live.api.client("supervisor", live.api.b)
    b_site = _bearer(live, live.api.b)
    before = _written(live)
    for client in (b, b_site):
        _not_found(client.get(f"/api/contacts/{cid}/messages"))
        _not_found(client.post(f"/api/contacts/{cid}/input", json={"text": "1"}))
        _not_found(client.post(f"/api/contacts/{cid}/customer-disconnect"))
        # our entry point is not theirs to arrive at
        _refused(client.post("/api/contacts", json={"channel": "chat", "from": "chat-1", "to": WIDGET}), "to")
    assert _written(live) == before
    assert "Hola" not in b.get("/api/contacts").text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"channel": "chat", "from": "chat-1"}, "to"),
        ({"channel": "chat", "from": "chat-1", "to": "web-no-existe"}, "to"),
        ({"channel": "voice", "from": "600000000", "to": WIDGET}, "to"),
        ({"channel": "chat", "from": "chat-1", "to": "web\x00banco"}, "to"),
        ({"channel": "chat", "from": "chat-1", "to": "x" * 100_000}, "to"),
        ({"channel": "voice", "from": "600000000", "to": "+34" + "9" * 60}, "to"),
        ({"channel": "email", "from": "a@b.es", "to": "😀@😀"}, "to"),
        ({"channel": "chat", "from": "chat-1", "to": WIDGET, "language": "fr"}, "language"),
    ],
)
def test_a_contact_without_a_queue_needs_an_entry_point_it_reached(
    live: Live, body: dict[str, Any], field: str
) -> None:
    publish(live)
    before = _written(live)
    resp = live.client("supervisor").post("/api/contacts", json=body)
    assert resp.status_code == 422, resp.text
    assert field in {e["field"] for e in resp.json()["errors"]}, resp.text
    assert _written(live) == before


# contacts that cannot take input ---------------------------------------------------------------------------


def test_input_to_an_ended_contact_is_a_409_and_to_one_without_a_flow_a_404(live: Live) -> None:
    publish(live)
    sup, anon = live.client("supervisor"), live.api.anonymous()
    cid, token, _ = _start(live)
    url = f"/api/chat/conversations/{cid}/messages"
    assert anon.post(url, json={"text": "1"}, headers=token).status_code == 200
    assert anon.post(url, json={"text": "1234"}, headers=token).json()["status"] == "closed"
    before = _written(live)
    for resp in (
        anon.post(url, json={"text": "1"}, headers=token),
        sup.post(f"/api/contacts/{cid}/input", json={"text": "1"}),
    ):
        assert resp.status_code == 409, resp.text
        assert "ended" in resp.json()["detail"]
    # leaving a conversation that has ended is no error, and changes nothing
    assert anon.post(f"/api/chat/conversations/{cid}/end", headers=token).status_code == 200
    assert _written(live) == before
    # a contact queued directly has no flow
    queued = live.new_contact()
    resp = sup.post(f"/api/contacts/{queued['id']}/input", json={"text": "1"})
    assert resp.status_code == 404 and "no flow running" in resp.json()["detail"], resp.text
    after_queueing = _written(live)
    assert sup.post(f"/api/contacts/{queued['id']}/input", json={"text": "1"}).status_code == 404
    assert _written(live) == after_queueing


def test_a_visitor_with_an_agent_talks_to_it_and_may_leave_twice(live: Live) -> None:
    publish(live)
    anon = live.api.anonymous()
    cid, token, _ = _start(live)
    url = f"/api/chat/conversations/{cid}/messages"
    assert anon.post(url, json={"text": "2"}, headers=token).json()["status"] == "queued"
    live.available()
    assert live.offered_to(cid) == live.agent_id("ana")
    assert live.client("agent").post(f"/api/contacts/{cid}/accept").status_code == 200
    settle(live)  # the flow runner ends the flow once the agent connected
    before = _written(live)
    resp = anon.post(url, json={"text": "hola"}, headers=token)  # to the agent now, not the flow
    assert resp.status_code == 200, resp.text
    assert [(m["sender"], m["text"]) for m in resp.json()["messages"]] == [("customer", "hola")]
    after = _written(live)
    assert after[1] == before[1] + 1 and after[2] == before[2] + 1  # one message, one event
    left = anon.post(f"/api/chat/conversations/{cid}/end", headers=token)
    assert left.status_code == 200 and left.json()["status"] == "acw", left.text
    again = anon.post(f"/api/chat/conversations/{cid}/end", headers=token)
    assert again.status_code == 200 and again.json()["status"] == "acw", again.text
    resp = anon.post(url, json={"text": "¿sigue ahí?"}, headers=token)
    assert resp.status_code == 409 and "ended" in resp.json()["detail"], resp.text
    assert anon.get(url, headers=token).status_code == 200


# what is stored reads back ------------------------------------------------------------------------------


ODD_TEXTS = [
    "مرحبا بالعالم",  # RTL
    "a\u202eb\u202dc\u200f",  # bidi overrides and marks
    "👩‍👩‍👧‍👦🏳️‍🌈😀",  # ZWJ sequences, flags
    "e\u0301 n\u0303 Å",  # combining
    "línea 1\nlínea 2\r\n\ttab",
    "\u2028\u2029\ufeff\u00a0\u200b",  # separators, BOM, no-break and zero-width spaces
    "\u0085\u009b[31m",  # C1 controls: not refused (only C0 and DEL are), and read back as they are
    "'; DROP TABLE contact_messages; --",
    "%_\\%' OR 1=1 --",
    "<script>alert(1)</script>{{customer.name}}${x}",
    "𝕳𝖔𝖑𝖆 \U0010ffff \ufffd",
    " ",
    "ñ" * 2000,
    "😀" * 2000,
]


def test_what_a_visitor_sends_reads_back_byte_exact(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    publish(live)
    anon, sup = live.api.anonymous(), live.client("supervisor")
    cid, token, _ = _start(live)
    url = f"/api/chat/conversations/{cid}/messages"
    assert anon.post(url, json={"text": "2"}, headers=token).status_code == 200  # queued, its flow waits
    monkeypatch.setattr(conversations, "BURST_MESSAGES", 100)  # more than a person types in ten seconds
    sent = []
    for text in ODD_TEXTS:
        resp = anon.post(url, json={"text": text}, headers=token)
        assert resp.status_code == 200, resp.text
        got = [m for m in resp.json()["messages"] if m["sender"] == "customer"]
        assert [m["text"] for m in got] == [text]
        sent.append(text)
    for reader in (anon.get(url, headers=token), sup.get(f"/api/contacts/{cid}/messages")):
        said = [text for who, text in _texts(reader) if who == "customer"]
        assert said[1:] == sent
        assert [m.encode() for m in said[1:]] == [m.encode() for m in sent]
    # the rest of the API still reads the contact
    assert live.contact(cid)["id"] == cid
    assert sup.get("/api/contacts").status_code == 200
    assert sup.get("/api/events").status_code == 200


# floods --------------------------------------------------------------------------------------------------


def test_a_flood_of_conversations_and_messages_does_not_crash(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    publish(live)
    anon = live.api.anonymous()
    started = [_start(live) for _ in range(40)]
    assert len({cid for cid, _, _ in started}) == 40
    cid, token, _ = started[0]
    url = f"/api/chat/conversations/{cid}/messages"
    assert anon.post(url, json={"text": "2"}, headers=token).status_code == 200
    monkeypatch.setattr(conversations, "MAX_CUSTOMER_MESSAGES", 30)
    monkeypatch.setattr(conversations, "BURST_MESSAGES", 100)  # the total is the limit under test here
    for n in range(29):
        assert anon.post(url, json={"text": f"m{n}"}, headers=token).status_code == 200
    before = _written(live)
    resp = anon.post(url, json={"text": "one more"}, headers=token)
    assert resp.status_code == 409 and "30" in resp.json()["detail"], resp.text
    assert live.client("supervisor").post(f"/api/contacts/{cid}/input", json={"text": "x"}).status_code == 409
    assert _written(live) == before
    read = anon.get(url, headers=token)
    assert len(_texts(read)) == 2 + 30 + 1  # greeting, menu; 30 from the customer; "Espere, por favor."
    # pages of at most 500: `after` walks them
    last = read.json()["messages"][-1]["id"]
    assert _texts(anon.get(f"{url}?after={last}", headers=token)) == []
    for other_cid, other_token, _ in started[1:]:
        assert anon.post(f"/api/chat/conversations/{other_cid}/end", headers=other_token).status_code == 200
