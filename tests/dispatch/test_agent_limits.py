"""An agent's limits, live: after-contact work that times out (`acw_timeout_s`), and maximum routing
occupancy (R8, behaviour 13) kept by the router from the agent's login."""

from __future__ import annotations

import pytest

from tests.dispatch.conftest import Live


def _handle(live: Live, contact_id: int, talk_s: float) -> None:
    agent = live.client("agent")
    assert agent.post(f"/api/contacts/{contact_id}/accept").status_code == 200
    live.advance(talk_s)
    assert agent.post(f"/api/contacts/{contact_id}/end").status_code == 200
    live.sync()


def _reason(live: Live) -> None:
    admin = live.client("admin")
    assert admin.post("/api/reason-groups", json={"code": "g", "name_es": "G", "name_en": "G"}).status_code == 201
    body = {"code": "saldo", "group": "g", "name_es": "Saldo", "name_en": "Balance"}
    assert admin.post("/api/reasons", json=body).status_code == 201


def test_acw_times_out_closes_the_contact_and_frees_the_agent_even_across_a_restart(live: Live) -> None:
    admin = live.client("admin")
    assert admin.patch("/api/agents/ana", json={"acw_timeout_s": 30}).status_code == 200
    ana = live.agent_id("ana")
    live.available()
    first = live.new_contact(channel="voice")["id"]
    _handle(live, first, 60)
    waiting = live.new_contact(channel="voice")["id"]
    live.advance(20)
    assert live.contact(first)["status"] == "acw" and live.offered_to(waiting) is None

    # the routing process restarts: the deadline comes back from the store (ACW started 20 s ago)
    _restart_routing(live)
    live.advance(9)
    assert live.contact(first)["status"] == "acw"
    live.advance(1)
    closed = live.contact(first)
    assert closed["status"] == "closed" and closed["disposition"] is None and closed["reason_id"] is None
    wrapped = [e for e in closed["timeline"] if e["type"] == "contact.wrapped_up"]
    assert len(wrapped) == 1 and wrapped[0]["data"]["timed_out"] is True
    assert wrapped[0]["data"]["handle_s"] == 90.0  # 60 s talk + 30 s ACW
    assert live.offered_to(waiting) == ana
    _reason(live)
    late = live.client("agent").post(f"/api/contacts/{first}/wrap-up", json={"disposition": "ok", "reason": "saldo"})
    assert late.status_code == 409  # closed: the time-out was the wrap-up


def _restart_routing(live: Live, down_s: float = 0.0) -> None:
    assert live.service.dispatch is not None
    live.service.dispatch.stop()
    live.service.dispatch = None
    live.clock.advance(down_s)
    live.service.start_routing()
    live.sync()


def test_an_acw_time_out_missed_while_routing_was_down_ends_at_its_deadline(live: Live) -> None:
    admin = live.client("admin")
    assert admin.patch("/api/agents/ana", json={"acw_timeout_s": 30}).status_code == 200
    live.available()
    first = live.new_contact(channel="voice")["id"]
    _handle(live, first, 60)
    _restart_routing(live, down_s=3600)  # routing was down for an hour
    closed = live.contact(first)
    wrapped = [e for e in closed["timeline"] if e["type"] == "contact.wrapped_up"]
    assert closed["status"] == "closed" and wrapped[0]["data"]["handle_s"] == 90.0  # not 3,660
    assert closed["acw_end_ts"] is not None


def test_a_wrap_up_before_the_timeout_wins(live: Live) -> None:
    admin = live.client("admin")
    assert admin.patch("/api/agents/ana", json={"acw_timeout_s": 30}).status_code == 200
    _reason(live)
    live.available()
    first = live.new_contact(channel="voice")["id"]
    _handle(live, first, 10)
    live.advance(5)
    done = live.client("agent").post(f"/api/contacts/{first}/wrap-up", json={"disposition": "ok", "reason": "saldo"})
    assert done.status_code == 200
    live.advance(60)
    row = live.contact(first)
    assert row["disposition"] == "ok" and [e["type"] for e in row["timeline"]].count("contact.wrapped_up") == 1


@pytest.mark.parametrize("restart", [False, True], ids=["running", "restarted"])
def test_max_occupancy_holds_offers_until_back_at_the_limit(live: Live, restart: bool) -> None:
    """Login at t0, 60 s talk + 20 s ACW: busy 80 s of 80, occupancy 1.0 > 0.5. Idle, the agent is back
    at the limit at t0 + 80 / 0.5 = t0 + 160 s; a contact waiting meanwhile is offered then. A router
    restarted meanwhile knows it too: the login is stored and the busy time read back from the contacts."""
    admin = live.client("admin")
    assert admin.patch("/api/agents/ana", json={"max_occupancy": 0.5, "acw_timeout_s": 20}).status_code == 200
    ana = live.agent_id("ana")
    live.available()  # login at t0
    first = live.new_contact(channel="voice")["id"]
    _handle(live, first, 60)
    live.advance(20)  # ACW times out at t0 + 80
    assert live.contact(first)["status"] == "closed"
    second = live.new_contact(channel="voice")["id"]
    if restart:
        _restart_routing(live, down_s=40)  # t0 + 120: occupancy 80 / 120
        assert live.offered_to(second) is None
        live.advance(39)
    else:
        live.advance(79)
    assert live.offered_to(second) is None  # t0 + 159: occupancy 80 / 159 > 0.5
    live.advance(1)
    assert live.offered_to(second) == ana


def test_busy_time_is_the_union_of_the_contacts_since_login() -> None:
    """Two chats at once count once (wall clock with any contact); time before the login is left out."""
    import datetime as dt

    from centralita.dispatch.snapshot import busy_since

    def at(s: int) -> dt.datetime:
        return dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC) + dt.timedelta(seconds=s)

    spans = [(at(-50), at(20)), (at(100), at(200)), (at(150), at(260)), (at(300), at(400))]
    assert busy_since(spans, login=at(0), now=at(350)) == 20 + 160 + 50
    assert busy_since([], login=at(0), now=at(10)) == 0.0
