"""Contact search with filters and per-role visibility, and a contact's timeline, over recorded history."""

from __future__ import annotations

import datetime as dt

from centralita.contacts.history import RecordedContact, do_record_contacts
from tests.conftest import Api

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def _record(api: Api) -> None:
    def contact(minutes: int, channel: str, queue: str, agent: str | None, segment: str) -> RecordedContact:
        start = T0 + dt.timedelta(minutes=minutes)
        return RecordedContact(
            channel=channel,
            queue=queue,
            queues=[queue],
            agent=agent,
            segment=segment,
            initiation_ts=start,
            enqueue_ts=start + dt.timedelta(seconds=5),
            dequeue_ts=start + dt.timedelta(seconds=25),
            queue_outcome="answered" if agent else "abandoned",
            agent_connected_ts=start + dt.timedelta(seconds=25) if agent else None,
            agent_end_ts=start + dt.timedelta(seconds=200) if agent else None,
            disconnect_ts=start + dt.timedelta(seconds=200 if agent else 25),
            disconnect_reason="AGENT_DISCONNECT" if agent else "CUSTOMER_DISCONNECT",
        )

    with api.service.db.write() as s:
        do_record_contacts(
            s,
            api.a.admin,
            [
                contact(0, "voice", "atencion", "ana", "premium"),
                contact(10, "chat", "atencion", None, "particulares"),
                contact(20, "voice", "cobros", "luis", "particulares"),
                contact(90, "email", "cobros", "luis", "empresas"),
            ],
        )


def test_filters_time_range_channel_queue_agent_segment(api: Api) -> None:
    _record(api)
    sup = api.client("supervisor")

    def total(**params: str) -> int:
        resp = sup.get("/api/contacts", params=params)
        assert resp.status_code == 200, resp.text
        return int(resp.json()["total"])

    assert total() == 4
    assert total(channel="voice") == 2
    assert total(queue="cobros") == 2
    assert total(agent="luis") == 2
    assert total(segment="particulares") == 2
    assert total(since="2026-11-02T09:10:00Z", until="2026-11-02T09:30:00Z") == 2  # [since, until)
    assert total(since="2026-11-02T09:10:00Z", until="2026-11-02T09:20:00Z") == 1
    newest = sup.get("/api/contacts", params={"limit": 1}).json()["items"][0]
    assert newest["channel"] == "email"  # newest first


def test_agent_sees_own_and_queue_contacts_only(api: Api) -> None:
    _record(api)
    ana = api.client("agent")  # serves 'atencion'
    items = ana.get("/api/contacts").json()["items"]
    assert {c["queue_id"] for c in items} == {items[0]["queue_id"]} and len(items) == 2
    others = api.client("supervisor").get("/api/contacts", params={"queue": "cobros"}).json()["items"]
    assert ana.get(f"/api/contacts/{others[0]['id']}").status_code == 403
    assert api.client("supervisor", api.b).get("/api/contacts").json()["total"] == 0


def test_contact_detail_has_its_timeline(api: Api) -> None:
    _record(api)
    sup = api.client("supervisor")
    first = sup.get("/api/contacts", params={"agent": "ana"}).json()["items"][0]
    detail = sup.get(f"/api/contacts/{first['id']}").json()
    types = [e["type"] for e in detail["timeline"]]
    assert types[0] == "contact.arrived" and "contact.connected" in types and "contact.ended" in types
    assert all(e["contact_id"] == first["id"] for e in detail["timeline"])
