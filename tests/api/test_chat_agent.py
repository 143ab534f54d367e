"""A web chat with an agent (api/routes/conversations.py, contacts/chat.py, realtime/typing.py): the visitor
and the agent write to each other, each message on the timeline and on the agent's realtime socket; typing
shows on both sides without an event; the visitor leaves or the agent ends, and the visitor answers the
survey once. And every door tried as an attacker would: other tenants, other agents, supervisors, bad text,
huge ids, bad tokens, surveys out of range or twice, floods. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

import tests.flowrun.conftest as flowrun_fixtures
from centralita.api.routes import conversations
from centralita.store import tables as t
from tests.api.test_conversations_api import WIDGET, _publish_for, _start, _written
from tests.flowrun.conftest import Live
from tests.flowrun.test_live import publish, settle

live = flowrun_fixtures.live  # the fixture: contacts route and flows run
NOT_YET = {"offered": False, "answered": False, "csat": None, "ces": None, "nps": None}
OFFERED = {**NOT_YET, "offered": True}


def _connected(live: Live) -> tuple[int, dict[str, str]]:
    """A visitor's conversation, queued by the bot and accepted by Ana (agent)."""
    publish(live)
    cid, token, _ = _start(live)
    resp = live.api.anonymous().post(f"/api/chat/conversations/{cid}/messages", json={"text": "2"}, headers=token)
    assert resp.json()["status"] == "queued", resp.text
    live.available()
    assert live.offered_to(cid) == live.agent_id("ana")
    assert live.client("agent").post(f"/api/contacts/{cid}/accept").status_code == 200
    settle(live)
    return cid, token


def _frame(ws: Any, wanted: Any, most: int = 200) -> dict[str, Any]:
    """The next frame `wanted` accepts (others skipped)."""
    for _ in range(most):
        msg: dict[str, Any] = ws.receive_json()
        if wanted(msg):
            return msg
    raise AssertionError("no such frame")


def _is_message(msg: dict[str, Any]) -> bool:
    return msg.get("type") == "event" and msg["event"]["type"] == "contact.message"


# the exchange ---------------------------------------------------------------------------------------------


def test_a_full_exchange_from_bot_to_agent_to_survey(live: Live) -> None:
    cid, token = _connected(live)
    anon, agent = live.api.anonymous(), live.client("agent")
    url = f"/api/chat/conversations/{cid}/messages"
    read = anon.get(url, headers=token).json()
    assert read["status"] == "connected" and read["agent"] == {"name": "Ana"}
    assert read["agent_typing"] is False and read["survey"] == NOT_YET
    last = read["messages"][-1]["id"]
    with agent.websocket_connect("/api/realtime") as ws:
        assert ws.receive_json()["type"] == "hello"
        # the visitor writes: stored as the customer's, on the agent's socket at once
        sent = anon.post(url, json={"text": "Hola, ¿me ayuda?"}, headers=token)
        assert sent.status_code == 200, sent.text
        assert [(m["sender"], m["text"], m["author"]) for m in sent.json()["messages"]] == [
            ("customer", "Hola, ¿me ayuda?", None)
        ]
        event = _frame(ws, _is_message)["event"]
        assert event["contact_id"] == cid and event["agent_id"] == live.agent_id("ana")
        assert event["data"] == {
            "message_id": sent.json()["messages"][0]["id"],
            "sender": "customer",
            "text": "Hola, ¿me ayuda?",
            "author": None,
        }
        # the visitor types: a typing frame on the agent's socket, no event
        with live.service.db.read() as s:
            events_before = s.scalar(select(func.count()).select_from(t.Event))
        assert anon.post(f"/api/chat/conversations/{cid}/typing", headers=token).status_code == 204
        assert _frame(ws, lambda m: m.get("type") == "typing") == {
            "type": "typing",
            "contact_id": cid,
            "who": "customer",
        }
        with live.service.db.read() as s:
            assert s.scalar(select(func.count()).select_from(t.Event)) == events_before
        # the agent types: the visitor's read says so for a few seconds, then no more
        assert agent.post(f"/api/contacts/{cid}/typing").status_code == 204
        assert anon.get(url, headers=token).json()["agent_typing"] is True
        live.clock.advance(6)
        assert anon.get(url, headers=token).json()["agent_typing"] is False
        assert agent.post(f"/api/contacts/{cid}/typing").status_code == 204
        # the agent answers: 201, its message with its name; its typing ends
        answer = agent.post(f"/api/contacts/{cid}/messages", json={"text": "Claro, dígame."})
        assert answer.status_code == 201, answer.text
        body = answer.json()
        assert (body["sender"], body["text"], body["author"]) == ("agent", "Claro, dígame.", "Ana")
        event = _frame(ws, _is_message)["event"]
        assert event["data"]["sender"] == "agent" and event["data"]["author"] == "Ana"
    read = anon.get(f"{url}?after={last}", headers=token).json()
    assert read["agent_typing"] is False
    assert [(m["sender"], m["text"], m["author"]) for m in read["messages"]] == [
        ("customer", "Hola, ¿me ayuda?", None),
        ("agent", "Claro, dígame.", "Ana"),
    ]
    on_contact = live.client("supervisor").get(f"/api/contacts/{cid}/messages").json()["messages"]
    assert [(m["sender"], m["author"]) for m in on_contact[-2:]] == [("customer", None), ("agent", "Ana")]
    # the agent ends: the visitor reads it, the survey is offered, answered once
    assert agent.post(f"/api/contacts/{cid}/end").status_code == 200
    read = anon.get(url, headers=token).json()
    assert read["status"] == "acw" and read["agent"] is None
    assert read["survey"] == OFFERED
    late = anon.post(url, json={"text": "¿hola?"}, headers=token)
    assert late.status_code == 409 and "ended" in late.json()["detail"]
    assert agent.post(f"/api/contacts/{cid}/messages", json={"text": "x"}).status_code == 409
    surveyed = anon.post(f"/api/chat/conversations/{cid}/survey", json={"csat": 5, "ces": 2}, headers=token)
    assert surveyed.status_code == 200, surveyed.text
    assert surveyed.json()["survey"] == {**OFFERED, "answered": True, "csat": 5, "ces": 2}
    before = _written(live)
    twice = anon.post(f"/api/chat/conversations/{cid}/survey", json={"csat": 1}, headers=token)
    assert twice.status_code == 409, twice.text
    assert _written(live) == before
    with live.service.db.read() as s:
        row = s.get(t.Contact, cid)
        assert row is not None and (row.csat, row.ces) == (5, 2) and row.survey_ts is not None
    types = live.types(cid)
    assert types.count("contact.message") == 2 and types.count("contact.surveyed") == 1
    assert types.index("contact.connected") < types.index("contact.message") < types.index("contact.ended")


def test_the_visitor_leaving_sends_the_agent_to_wrap_up_and_offers_the_survey(live: Live) -> None:
    cid, token = _connected(live)
    anon = live.api.anonymous()
    left = anon.post(f"/api/chat/conversations/{cid}/end", headers=token)
    assert left.status_code == 200 and left.json()["status"] == "acw", left.text
    assert left.json()["survey"]["offered"] is True
    contact = live.contact(cid)
    assert contact["disconnect_reason"] == "CUSTOMER_DISCONNECT"
    ok = anon.post(f"/api/chat/conversations/{cid}/survey", json={"ces": 7}, headers=token)
    assert ok.status_code == 200 and ok.json()["survey"] == {**OFFERED, "answered": True, "ces": 7}, ok.text


def test_the_survey_is_not_offered_before_an_agent_served_nor_out_of_range(live: Live) -> None:
    publish(live)
    anon = live.api.anonymous()
    cid, token, started = _start(live)
    assert started["survey"] == NOT_YET
    survey = f"/api/chat/conversations/{cid}/survey"
    for body, field in (
        ({"csat": 0}, "csat"),
        ({"csat": 6}, "csat"),
        ({"ces": 8}, "ces"),
        ({"ces": 0}, "ces"),
        ({"csat": 2**70}, "csat"),
        ({"csat": 2.5}, "csat"),
        ({"nps": 11}, "nps"),
        ({"satisfaction": 5}, "satisfaction"),
    ):
        resp = anon.post(survey, json=body, headers=token)
        assert resp.status_code == 422, resp.text
        assert any(e["field"] == f"body.{field}" or e["field"] == field for e in resp.json()["errors"]), resp.json()
    empty = anon.post(survey, json={}, headers=token)
    assert empty.status_code == 422 and "csat" in empty.text, empty.text
    before = _written(live)
    resp = anon.post(survey, json={"csat": 4}, headers=token)
    assert resp.status_code == 409 and "not offered" in resp.json()["detail"], resp.text
    # ended in its flow, no agent ever: still not offered
    assert anon.post(f"/api/chat/conversations/{cid}/end", headers=token).status_code == 200
    resp = anon.post(survey, json={"csat": 4}, headers=token)
    assert resp.status_code == 409, resp.text
    assert _written(live)[0] == before[0]


# who may write ------------------------------------------------------------------------------------------


def test_only_the_handling_agent_writes_and_only_while_connected(live: Live) -> None:
    publish(live)
    anon = live.api.anonymous()
    cid, token, _ = _start(live)
    url = f"/api/contacts/{cid}/messages"
    # in its flow: not with an agent (Ana cannot even see it yet: in no queue of hers)
    assert live.client("agent").post(url, json={"text": "hola"}).status_code == 403
    anon.post(f"/api/chat/conversations/{cid}/messages", json={"text": "2"}, headers=token)
    queued = live.client("agent").post(url, json={"text": "hola"})  # in her queue now, not hers yet
    assert queued.status_code == 409 and "queued" in queued.json()["detail"], queued.text
    live.available()
    assert live.client("agent").post(f"/api/contacts/{cid}/accept").status_code == 200
    settle(live)
    before = _written(live)
    for role in ("supervisor", "admin", "agent2"):
        resp = live.client(role).post(url, json={"text": "intruso"})
        assert resp.status_code == 403, (role, resp.text)
        assert live.client(role).post(f"/api/contacts/{cid}/typing").status_code == 403
    # another contact center's people: no such contact
    for role in ("admin", "supervisor", "agent"):
        resp = live.api.client(role, live.api.b).post(url, json={"text": "intruso"})
        assert resp.status_code == 404, (role, resp.text)
        assert live.api.client(role, live.api.b).post(f"/api/contacts/{cid}/typing").status_code == 404
    agent = live.client("agent")
    for body, field in (
        ({"text": "a\x00b"}, "text"),
        ({"text": ""}, "text"),
        ({"text": "x" * 2001}, "text"),
        ({"text": "hola", "author": "Jefe"}, "author"),
        ({}, "text"),
    ):
        resp = agent.post(url, json=body)
        assert resp.status_code == 422 and any(field in e["field"] for e in resp.json()["errors"]), resp.text
    for bad in ("99999999999999999999", "²"):
        assert agent.post(f"/api/contacts/{bad}/messages", json={"text": "x"}).status_code == 422
    assert agent.post(f"/api/contacts/{2**62}/messages", json={"text": "x"}).status_code == 404
    assert _written(live) == before
    assert agent.post(url, json={"text": "ñ" * 2000}).status_code == 201
    # on hold the agent still writes
    assert agent.post(f"/api/contacts/{cid}/hold").status_code == 200
    assert agent.post(url, json={"text": "un momento"}).status_code == 201


def test_a_visitor_with_a_bad_token_reaches_nothing(live: Live) -> None:
    cid, token = _connected(live)
    other_cid, other_token, _ = _start(live)
    anon = live.api.anonymous()
    before = _written(live)
    for headers in ({}, {"X-Chat-Token": "x.y.z"}, other_token):
        for path, body in (("messages", {"text": "hola"}), ("typing", None), ("survey", {"csat": 5})):
            resp = anon.post(f"/api/chat/conversations/{cid}/{path}", json=body, headers=headers)
            assert resp.status_code == 404, (path, resp.text)
    assert anon.post(f"/api/chat/conversations/{cid}/typing", headers=token).status_code == 204
    assert anon.post(f"/api/chat/conversations/{other_cid}/typing", headers=other_token).status_code == 204
    assert _written(live) == before


# floods ------------------------------------------------------------------------------------------------


def test_a_visitor_sends_at_most_ten_messages_in_ten_seconds(live: Live) -> None:
    cid, token = _connected(live)
    anon = live.api.anonymous()
    url = f"/api/chat/conversations/{cid}/messages"
    live.clock.advance(11)  # the "2" that queued it is out of the window
    for n in range(10):
        assert anon.post(url, json={"text": f"m{n}"}, headers=token).status_code == 200
    before = _written(live)
    resp = anon.post(url, json={"text": "one more"}, headers=token)
    assert resp.status_code == 429, resp.text
    assert int(resp.headers["Retry-After"]) >= 1
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in resp.json()["errors"]] == ["text"]
    assert _written(live) == before
    live.clock.advance(11)
    assert anon.post(url, json={"text": "again"}, headers=token).status_code == 200


def test_one_address_starts_at_most_twenty_conversations_a_minute(live: Live) -> None:
    publish(live)
    anon = live.api.anonymous()  # one app: one process's counts
    for _ in range(conversations.CHAT_STARTS_PER_MINUTE):
        assert anon.post(f"/api/chat/{WIDGET}/conversations", json={}).status_code == 201
    resp = anon.post(f"/api/chat/{WIDGET}/conversations", json={})
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) >= 1, resp.text


def test_another_tenants_widget_conversation_is_not_ours(live: Live) -> None:
    _publish_for(live, live.api.b, "web-sur-0001")
    b_cid, b_token, _ = _start(live, "web-sur-0001")
    agent = live.client("agent")
    assert agent.post(f"/api/contacts/{b_cid}/messages", json={"text": "x"}).status_code == 404
    assert agent.get(f"/api/contacts/{b_cid}/messages").status_code == 404
    assert live.api.anonymous().get(f"/api/chat/conversations/{b_cid}/messages", headers=b_token).status_code == 200


@pytest.mark.parametrize("path", ["messages", "typing"])
def test_an_agent_cannot_write_on_a_voice_contact(live: Live, path: str) -> None:
    contact = live.new_contact(channel="voice")
    live.available()
    cid = contact["id"]
    assert live.client("agent").post(f"/api/contacts/{cid}/accept").status_code == 200
    resp = live.client("agent").post(f"/api/contacts/{cid}/{path}", json={"text": "x"})
    assert resp.status_code == 409 and "chat" in resp.json()["detail"], resp.text


def test_a_transferred_chat_goes_on_with_the_next_agent(live: Live) -> None:
    cid, token = _connected(live)
    anon, ana = live.api.anonymous(), live.client("agent")
    url = f"/api/chat/conversations/{cid}/messages"
    assert ana.post(f"/api/contacts/{cid}/messages", json={"text": "Le paso con cobros."}).status_code == 201
    moved = ana.post(f"/api/contacts/{cid}/transfer", json={"queue": "cobros"})
    assert moved.status_code == 201, moved.text
    live.sync()
    waiting = anon.post(url, json={"text": "¿hola?"}, headers=token)  # nobody to read it yet
    assert waiting.status_code == 409 and "agent" in waiting.json()["detail"], waiting.text
    read = anon.get(url, headers=token).json()
    assert read["status"] == "queued" and read["agent"] is None and read["survey"]["offered"] is False
    live.available("agent2")
    nxt = live.contact(cid)["next_contact_id"]
    assert live.offered_to(nxt) == live.agent_id("luis")
    luis = live.client("agent2")
    assert luis.post(f"/api/contacts/{nxt}/accept").status_code == 200
    assert ana.post(f"/api/contacts/{cid}/messages", json={"text": "x"}).status_code == 409  # hers has ended
    assert anon.post(url, json={"text": "Hola de nuevo"}, headers=token).status_code == 200
    assert luis.post(f"/api/contacts/{nxt}/messages", json={"text": "Soy Luis."}).status_code == 201
    read = anon.get(url, headers=token).json()
    assert read["agent"] == {"name": "Luis"}
    talk = [(m["sender"], m["text"], m["author"]) for m in read["messages"] if m["sender"] in ("agent", "customer")]
    assert talk[-3:] == [
        ("agent", "Le paso con cobros.", "Ana"),
        ("customer", "Hola de nuevo", None),
        ("agent", "Soy Luis.", "Luis"),
    ]
    # Luis reads what was said before the transfer; Ana's old contact shows nothing said after it
    assert [m["text"] for m in luis.get(f"/api/contacts/{nxt}/messages").json()["messages"]][-3:] == [
        "Le paso con cobros.",
        "Hola de nuevo",
        "Soy Luis.",
    ]
    assert ana.get(f"/api/contacts/{cid}/messages").json()["messages"][-1]["text"] == "Le paso con cobros."
    assert luis.post(f"/api/contacts/{nxt}/end").status_code == 200
    done = anon.post(f"/api/chat/conversations/{cid}/survey", json={"csat": 4}, headers=token)
    assert done.status_code == 200 and done.json()["status"] == "acw", done.text
    with live.service.db.read() as s:
        served = s.get(t.Contact, nxt)
        assert served is not None and served.csat == 4
