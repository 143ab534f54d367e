"""Queue settings from the store reach the live router: R9 overload levels with reserve agents, R5 `order_by`."""

from __future__ import annotations

from tests.dispatch.conftest import Live


def _agent(live: Live, code: str, **body: object) -> None:
    resp = live.client("admin").post("/api/agents", json={"code": code, "name": code.title(), **body})
    assert resp.status_code == 201, resp.text
    resp = live.client("supervisor").post(f"/api/agents/{code}/state", json={"state": "available"})
    assert resp.status_code == 200, resp.text
    live.sync()


def test_reserve_agents_get_contacts_only_from_the_queues_overload_level(live: Live) -> None:
    resp = live.client("admin").patch(
        "/api/queues/atencion",
        json={"overload": {"metric": "oldest_wait", "level1_s": 30, "level2_s": 60}, "offer_timeout_s": 600},
    )
    assert resp.status_code == 200, resp.text
    _agent(live, "rosa", queues=[{"queue": "atencion", "reserve": 1}])
    _agent(live, "pablo", queues=[{"queue": "atencion", "reserve": 2}])
    rosa, pablo = live.agent_id("rosa"), live.agent_id("pablo")
    first = live.new_contact()["id"]  # ana, the queue's own agent, is offline: it waits
    live.advance(1)
    second = live.new_contact()["id"]

    def level() -> int:
        stats = {q["code"]: q for q in live.client("supervisor").get("/api/queues/stats").json()}
        return int(stats["atencion"]["overload_level"])

    live.advance(28)  # the oldest has waited 29 s: level 0, reserves stay out
    assert level() == 0
    assert live.offered_to(first) is None and live.offered_to(second) is None
    live.advance(1)  # 30 s: level 1, the level-1 reserve serves the queue; the level-2 one does not yet
    assert live.offered_to(first) == rosa and live.offered_to(second) is None
    assert level() == 0  # read after that offer: the oldest still waiting (the second) has waited 29 s
    live.advance(30)  # the second has waited 59 s: level 1, and rosa is ringing
    assert level() == 1 and live.offered_to(second) is None
    live.advance(1)  # 60 s: level 2, the level-2 reserve too
    assert live.offered_to(second) == pablo
    assert level() == 0  # nobody waits unoffered any more
    assert live.types(second).count("contact.offered") == 1


def test_order_by_picks_agents_by_their_integer_attributes(live: Live) -> None:
    resp = live.client("admin").patch(
        "/api/queues/atencion", json={"agent_selection": "order_by", "order_by": ["agent.antiguedad DESC"]}
    )
    assert resp.status_code == 200, resp.text
    _agent(live, "junior", queues=[{"queue": "atencion"}], attributes={"antiguedad": 1})
    _agent(live, "senior", queues=[{"queue": "atencion"}], attributes={"antiguedad": 9})
    _agent(live, "sin_dato", queues=[{"queue": "atencion"}], attributes={"antiguedad": "mucha"})
    offered = [live.offered_to(live.new_contact()["id"]) for _ in range(3)]
    assert offered == [live.agent_id("senior"), live.agent_id("junior"), live.agent_id("sin_dato")]


def test_a_new_queue_shows_on_the_figures_at_once_with_zeros(live: Live) -> None:
    admin = live.client("admin")
    assert admin.post("/api/queues", json={"code": "ventas", "name": "Ventas"}).status_code == 201
    live.sync()
    figures = {q["code"]: q for q in live.client("supervisor").get("/api/queues/stats").json()}
    new = figures["ventas"]
    assert (new["waiting"], new["offered"], new["staffed"], new["available"]) == (0, 0, 0, 0)
    assert new["last_15m"]["answered"] == 0 and new["last_15m"]["service_level"] is None
    one = live.client("supervisor").get("/api/queues/ventas/stats")
    assert one.status_code == 200 and one.json()["code"] == "ventas"


def test_queue_figures_are_coalesced_and_the_latest_goes_out(live: Live) -> None:
    """A burst of arrivals moves the figures with every event; they are computed and published at most once
    per STATS_INTERVAL_S (plus the first), and the last published figures are the latest state."""
    import asyncio
    import time

    from centralita.dispatch.runner import STATS_INTERVAL_S

    loop = asyncio.new_event_loop()
    try:
        tenant_id = live.api.a.tenant_id
        q = live.dispatch.hub.subscribe(tenant_id, loop)
        started = time.monotonic()
        for n in range(12):
            live.new_contact(from_=f"chat-burst-{n}")
        elapsed = time.monotonic() - started
        time.sleep(STATS_INTERVAL_S * 3)  # the pending figures go out when due
        loop.run_until_complete(asyncio.sleep(0))  # run the loop's pending puts
        messages = []
        while not q.empty():
            messages.append(q.get_nowait())
        live.dispatch.hub.unsubscribe(q)
    finally:
        loop.close()
    assert messages, "no figures were published"
    # "a few a second": the latest on subscribe, the first, then at most four a second (12 or more without
    # coalescing, when the burst takes under a second, as it does)
    assert STATS_INTERVAL_S >= 0.25
    most = 2 + int(elapsed * 4) + 1
    assert len(messages) <= most, (len(messages), elapsed)
    waiting = {f["code"]: f["waiting"] for f in messages[-1]["queues"]}
    assert waiting["atencion"] == 12


def test_a_process_that_does_not_route_asks_the_leader_for_figures_it_has_not_had(live: Live) -> None:
    """A worker started after the leader last sent its figures (nothing has changed since) asks for them
    and answers with the leader's, not with an empty list (seen after a restart of `up`)."""
    from centralita.dispatch.runner import Dispatcher

    bus = live.service.bus
    bus.shares_notes = True  # as between processes: the leader sends its figures to the others as notes
    standby = Dispatcher(live.service.db, bus, live.clock, standby_s=3600.0)
    standby.start()
    try:
        assert not standby.is_leader and standby.hub.latest(live.api.a.tenant_id) is None
        figures = {q["code"]: q for q in standby.queue_stats(live.api.a.tenant_id)}
        assert figures and figures == {q["code"]: q for q in live.dispatch.queue_stats(live.api.a.tenant_id)}
    finally:
        standby.stop()
