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
    """A realtime client as the socket makes one: a snapshot, then the events its socket sends, applied."""

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
            if access.may_need_event(self.actor, self.served, e):
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
        ("a known customer's contact arrives and is offered to ana", lambda: new_contact("c1", from_="chat-42")),
        ("ana accepts", lambda: agent.post(f"/api/contacts/{ids['c1']}/accept")),
        (
            "the customer is renamed during the call (the summary stays as recognised)",
            lambda: sup.patch(f"/api/customers/{customer['id']}", json={"name": "Marta Ruiz López"}),
        ),
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
        ("and reactivated", lambda: admin.patch("/api/agents/eva", json={"active": True})),
        ("luis is deactivated by PATCH", lambda: admin.patch("/api/agents/luis", json={"active": False})),
        ("and back", lambda: admin.patch("/api/agents/luis", json={"active": True})),
        ("a queue is deactivated", lambda: admin.patch("/api/queues/ventas", json={"active": False})),
        ("and reactivated", lambda: admin.patch("/api/queues/ventas", json={"active": True})),
        ("cobros is deactivated (luis's queue)", lambda: admin.delete("/api/queues/cobros")),
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
    assert {a["code"]: a["activity"] for a in sup_state["agents"].values()} == {
        "ana": "away",
        "luis": "offline",
        "eva": "offline",
    }


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
    assert agent.state["queues"] == {
        str(atencion): {"id": atencion, "code": "atencion", "name": "Atención", "active": True}
    }
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
        # cobros is hers now: its changes reach her socket (its traffic does not: only her own work and
        # figures do, the lean fan-out)
        assert live.client("admin").patch("/api/queues/cobros", json={"name": "Cobros y pagos"}).status_code == 200
        msg = ws.receive_json()
        assert msg["type"] == "event" and msg["event"]["type"] == "queue.updated"
        assert msg["event"]["data"]["changes"]["name"] == ["Cobros", "Cobros y pagos"]


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


def test_a_busy_socket_is_rechecked_too(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    """A token that stops working without an event (it expires) closes its socket within the re-check
    period, even while events keep flowing to it."""
    from centralita.realtime import ws as ws_module

    monkeypatch.setattr(ws_module, "RECHECK_S", 0.3)
    admin = live.client("admin")
    issued = admin.post("/api/tokens", json={"name": "wallboard", "role": "supervisor", "expires_in_days": 1}).json()
    with live.api.anonymous().websocket_connect(f"/api/realtime?token={issued['token']}") as ws:
        _hello(ws)
        live.clock.advance(2 * 86400)  # expired: nothing in the log says so
        with pytest.raises(WebSocketDisconnect) as closed:
            for i in range(200):
                admin.post("/api/customers", json={"name": f"Cliente {i}"})  # the socket stays busy
                ws.receive_json()
        assert closed.value.code == 4401


def _events(ws: Any, n: int) -> list[dict[str, Any]]:
    out = []
    for _ in range(n):
        msg = ws.receive_json()
        assert msg["type"] == "event", msg
        out.append(msg["event"])
    return out


def test_an_agent_gets_its_own_offer_not_another_agents_and_a_supervisor_gets_both(live: Live) -> None:
    """ana and luis serve atencion; a contact offered to luis never reaches ana's socket (not its arrival,
    queueing nor offer), her own state change does, next; the supervisor gets all of it. Resuming ana's
    socket from before that stretch gives exactly the events she needs, in order, and nothing else."""
    admin = live.client("admin")
    body = {"queues": [{"queue": "cobros"}, {"queue": "atencion"}]}
    assert admin.patch("/api/agents/luis", json=body).status_code == 200
    ana, luis = live.agent_id("ana"), live.agent_id("luis")
    me = Client(live, "agent")
    with (
        live.client("agent").websocket_connect("/api/realtime") as ws_ana,
        live.client("supervisor").websocket_connect("/api/realtime") as ws_sup,
    ):
        start = _hello(ws_ana)["last_seq"]
        _hello(ws_sup)
        live.available("agent2")
        cid = live.new_contact()["id"]
        assert live.offered_to(cid) == luis
        live.available("agent")
        mine = _events(ws_ana, 1)[0]
        assert (mine["type"], mine["agent_id"]) == ("agent.state_changed", ana)  # nothing of luis's before
        sup_events = [ws_sup.receive_json()["event"]]
        while sup_events[-1]["seq"] < mine["seq"]:  # the supervisor's stream, up to ana's event
            sup_events.append(ws_sup.receive_json()["event"])
        offered = [e for e in sup_events if e["type"] == "contact.offered"]
        assert [(e["contact_id"], e["agent_id"]) for e in offered] == [(cid, luis)]
        assert [e["seq"] for e in sup_events] == list(range(start + 1, mine["seq"] + 1))  # everything
    with live.service.db.read() as s:
        log = read_events(s, live.api.a.tenant_id, after_seq=start, limit=10_000)
    visible = [e.seq for e in log if access.can_see_event(me.actor, me.served, e)]
    needed = [e.seq for e in log if access.may_need_event(me.actor, me.served, e)]
    assert len(visible) > len(needed) >= 1  # a stretch she may see but does not need
    with live.client("agent").websocket_connect(f"/api/realtime?after={start}") as ws_ana:
        hello = _hello(ws_ana)
        assert hello["resumed_from"] == start and hello["last_seq"] == log[-1].seq
        assert [e["seq"] for e in _events(ws_ana, len(needed))] == needed
        # and then only what comes next: her own break, no late event of luis's contact
        away = {"state": "away", "away_reason": "descanso"}
        assert live.client("agent").post("/api/agents/me/state", json=away).status_code == 200
        nxt = _events(ws_ana, 1)[0]
        assert (nxt["type"], nxt["agent_id"], nxt["seq"]) == ("agent.state_changed", ana, log[-1].seq + 1)


def test_a_filtered_stretch_is_no_gap(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    """Events an agent's socket drops are no gap: the socket reads nothing from the log to cover them."""
    from centralita.realtime import ws as ws_module

    reads: list[tuple[int, int]] = []
    real_page = ws_module._page

    def counted(svc: Any, tenant_id: int, after: int, upto: int) -> list[Any]:
        reads.append((after, upto))
        return real_page(svc, tenant_id, after, upto)

    monkeypatch.setattr(ws_module, "_page", counted)
    sup = live.client("supervisor")
    with live.client("agent").websocket_connect("/api/realtime") as ws:
        start = _hello(ws)["last_seq"]
        for i in range(5):  # five events ana does not need
            assert sup.post("/api/customers", json={"name": f"Cliente {i}"}).status_code == 201
        away = {"state": "away", "away_reason": "descanso"}
        assert live.client("agent").post("/api/agents/me/state", json=away).status_code == 200
        event = _events(ws, 1)[0]
        assert (event["type"], event["seq"]) == ("agent.state_changed", start + 6)
    assert reads == []


def test_a_frame_is_encoded_once_for_every_socket(live: Live) -> None:
    from centralita.realtime.ws import FRAMES

    sup = live.client("supervisor")
    sockets = [sup.websocket_connect("/api/realtime") for _ in range(5)]
    try:
        opened = [cm.__enter__() for cm in sockets]
        for ws in opened:
            _hello(ws)
        before = FRAMES.encoded
        assert live.client("admin").post("/api/customers", json={"name": "Una"}).status_code == 201
        frames = [ws.receive_text() for ws in opened]
        assert FRAMES.encoded - before == 1  # one event, five sockets, one encoding
        assert len(set(frames)) == 1 and '"customer.created"' in frames[0]
    finally:
        for cm in sockets:
            cm.__exit__(None, None, None)


def test_a_queue_stats_frame_is_encoded_once_per_set_of_visible_queues(live: Live) -> None:
    from centralita.realtime.ws import STATS_FRAMES

    live.new_contact()  # the router has figures to send
    live.sync()
    sup = live.client("supervisor")
    sockets = [sup.websocket_connect("/api/realtime?stats=1") for _ in range(3)]
    before = STATS_FRAMES.encoded
    try:
        opened = [cm.__enter__() for cm in sockets]
        for ws in opened:
            _hello(ws)
        frames = [ws.receive_text() for ws in opened]  # the latest figures, on connect
        assert len(set(frames)) == 1 and '"queue_stats"' in frames[0]
        assert STATS_FRAMES.encoded - before == 1
    finally:
        for cm in sockets:
            cm.__exit__(None, None, None)
