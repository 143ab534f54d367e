"""WebSocket realtime: register → snapshot + last seq → pushed events → resume without loss."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

from tests.conftest import Api


@pytest.fixture(autouse=True)
def _logged_in(api: Api) -> None:
    """Log every client in first: logins are events too, and the tests count events."""
    for world in (api.a, api.b):
        for role in ("admin", "supervisor", "agent"):
            api.client(role, world)


def _next_event(ws: Any) -> dict[str, Any]:
    msg = ws.receive_json()
    assert msg["type"] == "event", msg
    return msg["event"]  # type: ignore[no-any-return]


def test_snapshot_then_pushed_events(api: Api) -> None:
    sup = api.client("supervisor")
    with sup.websocket_connect("/api/realtime") as ws:
        hello = ws.receive_json()
        assert hello["type"] == "hello"
        assert {a["code"] for a in hello["snapshot"]["agents"].values()} == {"ana", "luis"}
        start = hello["last_seq"]
        api.client("agent").post("/api/agents/me/state", json={"state": "available"})
        event = _next_event(ws)
        assert event["type"] == "agent.state_changed" and event["seq"] == start + 1
        assert event["data"]["to"] == "available"


def test_resume_after_reconnect_loses_nothing(api: Api) -> None:
    sup = api.client("supervisor")
    with sup.websocket_connect("/api/realtime") as ws:
        last = ws.receive_json()["last_seq"]
    # while disconnected, three events happen
    admin = api.client("admin")
    for name in ("Uno", "Dos", "Tres"):
        admin.post("/api/customers", json={"name": name})
    with sup.websocket_connect(f"/api/realtime?after={last}") as ws:
        hello = ws.receive_json()
        assert hello["resumed_from"] == last and hello["last_seq"] == last + 3
        missed = [_next_event(ws) for _ in range(3)]
        assert [e["seq"] for e in missed] == [last + 1, last + 2, last + 3]
        assert [e["data"]["name"] for e in missed] == ["Uno", "Dos", "Tres"]
        admin.post("/api/customers", json={"name": "Cuatro"})
        live = _next_event(ws)
        assert live["seq"] == last + 4  # exactly once, in order


def test_gap_in_bus_is_filled_from_log(api: Api) -> None:
    """An event committed without reaching this process's bus (another process) is read from the log."""
    sup = api.client("supervisor")
    with sup.websocket_connect("/api/realtime") as ws:
        start = ws.receive_json()["last_seq"]
        bus = api.service.db.bus
        api.service.db.bus = None  # this write's event will not be published
        api.client("admin").post("/api/customers", json={"name": "Silencioso"})
        api.service.db.bus = bus
        api.client("admin").post("/api/customers", json={"name": "Visible"})
        first, second = _next_event(ws), _next_event(ws)
        assert (first["seq"], second["seq"]) == (start + 1, start + 2)
        assert first["data"]["name"] == "Silencioso"


def test_agent_receives_only_its_own_events(api: Api) -> None:
    agent = api.client("agent")
    with agent.websocket_connect("/api/realtime") as ws:
        hello = ws.receive_json()
        assert [a["code"] for a in hello["snapshot"]["agents"].values()] == ["ana"]
        api.client("supervisor").post("/api/agents/luis/state", json={"state": "available"})  # not for ana
        agent.post("/api/agents/me/state", json={"state": "available"})
        event = _next_event(ws)
        assert event["data"]["code"] == "ana"


def test_other_tenant_events_never_arrive(api: Api) -> None:
    sur = api.client("supervisor", api.b)
    with sur.websocket_connect("/api/realtime") as ws:
        ws.receive_json()
        api.client("admin", api.a).post("/api/customers", json={"name": "Norte"})
        api.client("admin", api.b).post("/api/customers", json={"name": "Sur"})
        event = _next_event(ws)
        assert event["data"]["name"] == "Sur" and event["tenant_id"] == api.b.tenant_id


def test_unauthenticated_and_cross_origin_are_refused(api: Api) -> None:
    with pytest.raises(WebSocketDisconnect) as info, api.anonymous().websocket_connect("/api/realtime") as ws:
        ws.receive_json()
    assert info.value.code == 4401
    sup = api.client("supervisor")
    with (
        pytest.raises(WebSocketDisconnect) as info,
        sup.websocket_connect("/api/realtime", headers={"origin": "https://evil.example"}) as ws,
    ):
        ws.receive_json()
    assert info.value.code == 4403


def test_bad_resume_point_is_refused(api: Api) -> None:
    sup = api.client("supervisor")
    with pytest.raises(WebSocketDisconnect) as info, sup.websocket_connect("/api/realtime?after=abc") as ws:
        ws.receive_json()
    assert info.value.code == 4422


def test_the_server_does_not_compress_websocket_frames() -> None:
    """permessage-deflate off: measured to cost more than it saves for frames this small (bench/fanout.py)."""
    from centralita.api.server import uvicorn_config
    from centralita.core.settings import load_settings

    assert uvicorn_config(object(), load_settings(env={})).ws_per_message_deflate is False


def test_an_event_that_arrives_during_the_access_recheck_is_not_lost(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every turn of the socket's loop rechecks its access (RECHECK_S = 0), and the recheck is slow, as on
    a loaded server: events that reach the socket meanwhile are still sent, every one, in order (they
    were dropped: the subscription had accounted for them, so no gap showed)."""
    import time

    from centralita.realtime import ws as realtime_ws

    slow_check = realtime_ws._still_valid

    def still_valid(*args: Any) -> bool:
        time.sleep(0.05)
        return slow_check(*args)

    monkeypatch.setattr(realtime_ws, "RECHECK_S", 0.0)
    monkeypatch.setattr(realtime_ws, "_still_valid", still_valid)
    sup = api.client("supervisor")
    agent = api.client("agent")
    with sup.websocket_connect("/api/realtime") as ws:
        start = ws.receive_json()["last_seq"]
        for state in ("available", "away", "available", "away", "available", "away"):
            body = {"state": state, "away_reason": "descanso" if state == "away" else None}
            assert agent.post("/api/agents/me/state", json=body).status_code == 200
        seqs: list[int] = []

        def receive() -> None:
            for _ in range(6):
                seqs.append(_next_event(ws)["seq"])

        import threading

        reader = threading.Thread(target=receive, daemon=True)
        reader.start()
        reader.join(timeout=15)  # a lost event would leave the reader waiting forever
        assert seqs == list(range(start + 1, start + 7)), seqs
