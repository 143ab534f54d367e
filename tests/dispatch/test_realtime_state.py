"""The realtime contract: the snapshot holds what a client draws, and applying the events a client receives
to it gives what a fresh snapshot gives, after every live action (zulip's `verify_action`), for an agent
and for a supervisor. Then the socket itself: a client that connects after an offer sees it, gaps of any
size are filled page by page, bad `after=` values close with the documented code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from starlette.websockets import WebSocketDisconnect

from centralita import access
from centralita.core.actor import Actor
from centralita.events.log import last_seq, read_events
from centralita.realtime import state
from centralita.store import tables as t
from tests.dispatch.conftest import Live


def _actor(live: Live, role: str) -> Actor:
    with live.service.db.read() as s:
        user = s.scalars(select(t.User).where(t.User.username == live.api.a.usernames[role])).one()
        return Actor(tenant_id=user.tenant_id, role=user.role, user_id=user.id, agent_id=user.agent_id)


class Client:
    """A realtime client as the socket makes one: a snapshot, then the events it may see, applied."""

    def __init__(self, live: Live, role: str) -> None:
        self.live = live
        self.actor = _actor(live, role)
        self.state, self.seq, self.served = self.fresh()

    def fresh(self) -> tuple[state.State, int, access.Served]:
        with self.live.service.db.read() as s:
            served = access.served_queues(s, self.actor)
            return state.snapshot(s, self.actor, served), last_seq(s, self.actor.tenant_id), served

    def catch_up(self) -> int:
        """Apply every event since the last catch-up that this client may see; how many it saw."""
        with self.live.service.db.read() as s:
            events = read_events(s, self.actor.tenant_id, after_seq=self.seq, limit=100_000)
        seen = 0
        for e in events:
            if access.can_see_event(self.actor, self.served, e):
                self.state = state.apply(self.state, e.to_dict())
                seen += 1
            self.seq = e.seq
        return seen

    def check(self, what: str) -> None:
        self.catch_up()
        fresh, _seq, _served = self.fresh()
        assert self.state == fresh, what


def _reason(live: Live) -> None:
    admin = live.client("admin")
    assert admin.post("/api/reason-groups", json={"code": "g", "name_es": "G", "name_en": "G"}).status_code == 201
    body = {"code": "saldo", "group": "g", "name_es": "Saldo", "name_en": "Balance"}
    assert admin.post("/api/reasons", json=body).status_code == 201


def test_applying_the_events_equals_a_fresh_snapshot_after_every_action(live: Live) -> None:
    _reason(live)
    sup, agent, agent2 = live.client("supervisor"), live.client("agent"), live.client("agent2")
    admin = live.client("admin")
    customer = sup.post(
        "/api/customers",
        json={"name": "Marta Ruiz", "segment": "premium", "identities": [{"kind": "chat", "value": "chat-42"}]},
    ).json()
    clients = [Client(live, "agent"), Client(live, "supervisor"), Client(live, "agent2")]
    ids: dict[str, int] = {}

    def new_contact(key: str, **extra: Any) -> None:
        ids[key] = live.new_contact(**extra)["id"]

    wrap = {"disposition": "ok", "reason": "saldo"}
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("ana available", lambda: live.available("agent")),
        ("a contact arrives and is offered to ana", lambda: new_contact("c1")),
        ("ana accepts", lambda: agent.post(f"/api/contacts/{ids['c1']}/accept")),
        ("ana holds", lambda: agent.post(f"/api/contacts/{ids['c1']}/hold")),
        ("ana resumes", lambda: agent.post(f"/api/contacts/{ids['c1']}/resume")),
        ("ana ends", lambda: agent.post(f"/api/contacts/{ids['c1']}/end")),
        ("a second contact waits (ana in ACW)", lambda: new_contact("c2", channel="voice")),
        ("ana wraps up and is offered the second", lambda: agent.post(f"/api/contacts/{ids['c1']}/wrap-up", json=wrap)),
        ("ana rejects: missed", lambda: agent.post(f"/api/contacts/{ids['c2']}/reject")),
        ("ana available again", lambda: live.available("agent")),
        ("the offer times out", lambda: live.advance(21)),
        ("ana available again", lambda: live.available("agent")),
        ("ana accepts the second", lambda: agent.post(f"/api/contacts/{ids['c2']}/accept")),
        (
            "ana transfers it to cobros",
            lambda: agent.post(f"/api/contacts/{ids['c2']}/transfer", json={"queue": "cobros"}),
        ),
        ("luis available: takes the transfer", lambda: live.available("agent2")),
        ("the customer hangs up on luis", lambda: sup.post(f"/api/contacts/{ids['c2']}/customer-disconnect")),
        ("ana wraps her leg up", lambda: agent.post(f"/api/contacts/{ids['c2']}/wrap-up", json=wrap)),
        ("a contact from a known customer", lambda: new_contact("c3", from_="chat-42")),
        ("it abandons while offered", lambda: sup.post(f"/api/contacts/{ids['c3']}/customer-disconnect")),
        (
            "ana takes a break",
            lambda: agent.post("/api/agents/me/state", json={"state": "away", "away_reason": "descanso"}),
        ),
        ("luis goes offline", lambda: agent2.post("/api/agents/me/state", json={"state": "offline"})),
        ("an agent is created", lambda: admin.post("/api/agents", json={"code": "eva", "name": "Eva"})),
        ("and renamed", lambda: admin.patch("/api/agents/eva", json={"name": "Eva María"})),
        ("a queue is created", lambda: admin.post("/api/queues", json={"code": "ventas", "name": "Ventas"})),
        ("and renamed", lambda: admin.patch("/api/queues/ventas", json={"name": "Ventas y altas"})),
        ("the agent is deactivated", lambda: admin.delete("/api/agents/eva")),
    ]
    for what, act in steps:
        resp = act()
        if resp is not None and hasattr(resp, "status_code"):
            assert resp.status_code < 300, (what, resp.text)
        live.sync()
        for client in clients:
            client.check(f"{what} ({client.actor.role} {client.actor.agent_id})")
    assert customer["id"] and ids["c3"]
    # the run went through the states a client draws
    sup_state = clients[1].state
    assert {a["code"]: a["activity"] for a in sup_state["agents"].values()} == {"ana": "away", "luis": "offline"}


def test_the_snapshot_holds_what_a_screen_draws(live: Live) -> None:
    sup = live.client("supervisor")
    sup.post(
        "/api/customers",
        json={"name": "Marta Ruiz", "segment": "premium", "identities": [{"kind": "chat", "value": "chat-42"}]},
    )
    live.available("agent")
    first = live.new_contact(from_="chat-42")["id"]  # offered to ana
    ana, agent = live.agent_id("ana"), Client(live, "agent")
    offer = agent.state["offers"][f"{first}:{ana}"]
    assert offer["queue"] == "atencion" and offer["timeout_at"]
    assert offer["contact"]["customer_name"] == "Marta Ruiz" and offer["contact"]["segment"] == "premium"
    assert agent.state["agents"][str(ana)]["activity"] == "ringing"
    assert list(agent.state["agents"]) == [str(ana)]  # an agent sees itself only
    atencion = _queue_id(live, "atencion")
    assert agent.state["queues"] == {str(atencion): {"id": atencion, "code": "atencion", "name": "Atención"}}
    assert live.client("agent").post(f"/api/contacts/{first}/accept").status_code == 200
    supervisor = Client(live, "supervisor")
    assert supervisor.state["agents"][str(ana)]["activity"] == "busy"
    assert supervisor.state["contacts"][str(first)]["status"] == "connected"
    assert supervisor.state["contacts"][str(first)]["contact"]["customer_name"] == "Marta Ruiz"
    assert {q["code"] for q in supervisor.state["queues"].values()} == {"atencion", "cobros"}


def _queue_id(live: Live, code: str) -> int:
    with live.service.db.read() as s:
        return int(
            s.scalars(select(t.Queue.id).where(t.Queue.tenant_id == live.api.a.tenant_id, t.Queue.code == code)).one()
        )


def _hello(ws: Any) -> dict[str, Any]:
    msg = ws.receive_json()
    assert msg["type"] == "hello", msg
    return msg  # type: ignore[no-any-return]


def test_a_client_that_connects_after_the_offer_sees_it_and_its_queue_figures(live: Live) -> None:
    live.available("agent")
    cid = live.new_contact()["id"]
    ana = live.agent_id("ana")
    with live.client("agent").websocket_connect("/api/realtime") as ws:
        hello = _hello(ws)
        assert f"{cid}:{ana}" in hello["snapshot"]["offers"]
        assert hello["snapshot"]["agents"][str(ana)]["activity"] == "ringing"
        assert [q["code"] for q in hello["queue_stats"]] == ["atencion"]  # its queues' live figures
        assert live.client("agent").post(f"/api/contacts/{cid}/accept").status_code == 200
        received = [ws.receive_json()["event"] for _ in range(3)]
        assert [(e["type"], e["contact_id"]) for e in received] == [
            ("contact.offer_ended", cid),
            ("contact.dequeued", cid),
            ("contact.connected", cid),
        ]
        assert received[2]["data"]["contact"]["queue"] == "atencion"


def test_an_agent_whose_queues_change_gets_a_fresh_snapshot(live: Live) -> None:
    with live.client("agent").websocket_connect("/api/realtime") as ws:
        hello = _hello(ws)
        assert [q["code"] for q in hello["snapshot"]["queues"].values()] == ["atencion"]
        body = {"queues": [{"queue": "atencion"}, {"queue": "cobros"}]}
        assert live.client("admin").patch("/api/agents/ana", json=body).status_code == 200
        again = _hello(ws)
        assert sorted(q["code"] for q in again["snapshot"]["queues"].values()) == ["atencion", "cobros"]
        cid = live.new_contact(queue="cobros")["id"]  # now visible to ana
        msg = ws.receive_json()
        assert msg["type"] == "event" and msg["event"]["contact_id"] == cid


def test_a_resume_across_more_than_a_page_of_events_misses_nothing(live: Live) -> None:
    sup = live.client("supervisor")
    with sup.websocket_connect("/api/realtime") as ws:
        start = _hello(ws)["last_seq"]
    with live.service.db.write() as s:  # 2,500 events while the client is away (more than two pages)
        from centralita.events.log import append_events
        from tests.events.test_types import NOW, valid

        append_events(s, live.api.a.tenant_id, [("customer.updated", NOW, valid("customer.updated"), {})] * 2500)
    with sup.websocket_connect(f"/api/realtime?after={start}") as ws:
        hello = _hello(ws)
        assert hello["last_seq"] == start + 2500
        seqs = [ws.receive_json()["event"]["seq"] for _ in range(2500)]
    assert seqs == list(range(start + 1, start + 2501))


@pytest.mark.parametrize("after", ["-1", "abc", "²", "١٢٣", "1" * 30, "10000000"])
def test_bad_after_closes_with_4422(live: Live, after: str) -> None:
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        live.client("supervisor").websocket_connect(f"/api/realtime?after={after}") as ws,
    ):
        ws.receive_json()
    assert closed.value.code == 4422 and closed.value.reason


def test_unauthenticated_and_cross_origin_close_with_their_codes(live: Live) -> None:
    with pytest.raises(WebSocketDisconnect) as closed, live.api.anonymous().websocket_connect("/api/realtime") as ws:
        ws.receive_json()
    assert closed.value.code == 4401 and closed.value.reason
    bad_token = live.api.anonymous()
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        bad_token.websocket_connect("/api/realtime?token=ctk_nope") as ws,
    ):
        ws.receive_json()
    assert closed.value.code == 4401
    headers = {"origin": "https://evil.example"}
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        live.client("supervisor").websocket_connect("/api/realtime", headers=headers) as ws,
    ):
        ws.receive_json()
    assert closed.value.code == 4403


def test_a_socket_closes_when_its_credentials_stop_working(live: Live) -> None:
    """A deactivated user's socket, one whose role changed, and one of a revoked token close with 4401."""
    admin = live.client("admin")
    users = {u["username"]: u["id"] for u in admin.get("/api/users").json()}
    with live.client("supervisor").websocket_connect("/api/realtime") as ws:
        _hello(ws)
        assert admin.patch(f"/api/users/{users['supervisor@norte']}", json={"role": "agent"}).status_code == 200
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                ws.receive_json()
        assert closed.value.code == 4401 and closed.value.reason
    issued = admin.post("/api/tokens", json={"name": "wallboard", "role": "supervisor"}).json()
    anon = live.api.anonymous()
    with anon.websocket_connect(f"/api/realtime?token={issued['token']}") as ws:
        _hello(ws)
        assert admin.delete(f"/api/tokens/{issued['id']}").status_code == 200
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                ws.receive_json()
        assert closed.value.code == 4401
    with live.client("agent").websocket_connect("/api/realtime") as ws:
        _hello(ws)
        assert admin.patch(f"/api/users/{users['agent@norte']}", json={"active": False}).status_code == 200
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                ws.receive_json()
        assert closed.value.code == 4401
