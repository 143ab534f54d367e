"""What the agent desktop reads and writes beyond the live routes: the screen pop (only the contact's own
agent and supervisors), a transfer's note travelling with what was collected, and a wrap-up's follow-up
becoming an open case of the customer's, due then."""

from __future__ import annotations

from sqlalchemy import select

from centralita.store import tables as t
from tests.dispatch.conftest import Live


def _reason(live: Live) -> None:
    admin = live.client("admin")
    assert admin.post("/api/reason-groups", json={"code": "g", "name_es": "G", "name_en": "G"}).status_code == 201
    body = {"code": "saldo", "group": "g", "name_es": "Saldo", "name_en": "Balance"}
    assert admin.post("/api/reasons", json=body).status_code == 201


def _customer(live: Live) -> int:
    body = {"name": "Marta Vidal", "segment": "premium", "identities": [{"kind": "chat", "value": "chat-42"}]}
    made = live.client("supervisor").post("/api/customers", json=body)
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def _connected(live: Live) -> int:
    live.available()
    cid = int(live.new_contact()["id"])
    assert live.client("agent").post(f"/api/contacts/{cid}/accept").status_code == 200
    live.sync()
    return cid


def test_screen_pop_shows_the_customer_to_its_own_agent_only(live: Live) -> None:
    customer = _customer(live)
    sup = live.client("supervisor")
    case = sup.post("/api/cases", json={"subject": "Tarjeta retenida", "customer_id": customer})
    assert case.status_code == 201
    live.available()
    cid = int(live.new_contact()["id"])
    # offered, not yet answered: the agent already sees who it is
    pop = live.client("agent").get(f"/api/contacts/{cid}/screen-pop")
    assert pop.status_code == 200, pop.text
    body = pop.json()
    assert body["customer"]["customer"]["name"] == "Marta Vidal"
    assert body["customer"]["customer"]["segment"] == "premium"
    assert [c["subject"] for c in body["customer"]["open_cases"]] == ["Tarjeta retenida"]
    assert all(c["id"] != cid for c in body["customer"]["last_contacts"])  # not the contact in hand
    assert body["contact"]["id"] == cid and "collected" in body["contact"]
    # supervisors too; another agent of the tenant (luis, who serves cobros) no; another tenant's: 404
    assert sup.get(f"/api/contacts/{cid}/screen-pop").status_code == 200
    assert live.client("agent2").get(f"/api/contacts/{cid}/screen-pop").status_code == 403
    other = live.api.client("supervisor", live.api.b)
    assert other.get(f"/api/contacts/{cid}/screen-pop").status_code == 404


def test_screen_pop_is_refused_to_an_agent_of_the_same_queue(live: Live) -> None:
    admin = live.client("admin")
    assert admin.patch("/api/agents/luis", json={"queues": [{"queue": "atencion"}]}).status_code == 200
    cid = _connected(live)
    luis = live.client("agent2")
    assert luis.get(f"/api/contacts/{cid}").status_code == 200  # its queue's contact: readable
    assert luis.get(f"/api/contacts/{cid}/screen-pop").status_code == 403  # but not its screen pop


def test_transfer_note_travels_with_what_was_collected(live: Live) -> None:
    cid = _connected(live)
    with live.service.db.write() as s:
        row = s.get(t.Contact, cid)
        assert row is not None
        row.collected = {"flow": "banco_chat", "version": 2, "case": {"reference": "K7M-42Q"}}
    note = "Quiere anular el último recibo"
    moved = live.client("agent").post(f"/api/contacts/{cid}/transfer", json={"queue": "cobros", "note": note})
    assert moved.status_code == 201, moved.text
    new = moved.json()["id"]
    live.sync()
    collected = live.client("supervisor").get(f"/api/contacts/{new}/screen-pop").json()["contact"]["collected"]
    assert collected["case"] == {"reference": "K7M-42Q"} and collected["flow"] == "banco_chat"
    assert collected["transfer"] == {"from_contact_id": cid, "from_agent": "Ana", "note": note}


def test_transfer_note_is_checked(live: Live) -> None:
    cid = _connected(live)
    for note, field in (("x" * 1001, "note"), ("a\x00b", "note")):
        bad = live.client("agent").post(f"/api/contacts/{cid}/transfer", json={"queue": "cobros", "note": note})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == field
    assert live.contact(cid)["status"] == "connected"


def test_wrap_up_follow_up_opens_a_case_due_then(live: Live) -> None:
    _reason(live)
    customer = _customer(live)
    cid = _connected(live)
    agent = live.client("agent")
    assert agent.post(f"/api/contacts/{cid}/end").status_code == 200
    body = {
        "disposition": "follow_up",
        "reason": "saldo",
        "resolved": False,
        "follow_up": {"kind": "callback", "due_at": "2026-12-09T10:00:00+01:00", "note": "Confirmar el abono"},
    }
    done = agent.post(f"/api/contacts/{cid}/wrap-up", json=body)
    assert done.status_code == 200, done.text
    with live.service.db.read() as s:
        case = s.scalar(select(t.Case).where(t.Case.customer_id == customer))
        assert case is not None
        assert case.subject == "Call the customer back: Confirmar el abono" and case.status == "open"
        assert case.owner_agent_id == live.agent_id("ana")
        assert case.due_at is not None and case.due_at.isoformat().startswith("2026-12-09T09:00")
        linked = s.scalar(select(t.CaseContact.contact_id).where(t.CaseContact.case_id == case.id))
        assert linked == cid


def test_wrap_up_follow_up_is_checked_and_changes_nothing(live: Live) -> None:
    _reason(live)
    cid = _connected(live)
    agent = live.client("agent")
    assert agent.post(f"/api/contacts/{cid}/end").status_code == 200
    for follow, field in (
        ({"kind": "visit"}, "follow_up.kind"),
        ({"kind": "task", "due_at": "2026-12-09T10:00:00"}, "follow_up.due_at"),  # no offset: which 10:00?
        ({"kind": "task", "note": "x" * 301}, "follow_up.note"),
    ):
        bad = agent.post(
            f"/api/contacts/{cid}/wrap-up", json={"disposition": "ok", "reason": "saldo", "follow_up": follow}
        )
        assert bad.status_code == 422, bad.text
        assert bad.json()["errors"][0]["field"] == field
    assert live.contact(cid)["status"] == "acw"
    with live.service.db.read() as s:
        assert s.scalar(select(t.Case.id)) is None


def test_a_supervisor_changes_an_agents_skills_and_queues_only(live: Live) -> None:
    sup = live.client("supervisor")
    body = {"skills": {"banca": 5}, "queues": [{"queue": "atencion"}, {"queue": "cobros"}]}
    changed = sup.patch("/api/agents/ana", json=body)
    assert changed.status_code == 200, changed.text
    assert changed.json()["skills"] == {"banca": 5} and [q["queue"] for q in changed.json()["queues"]] == [
        "atencion",
        "cobros",
    ]
    refused = sup.patch("/api/agents/ana", json={"skills": {"banca": 1}, "name": "Otra", "max_occupancy": 0.5})
    assert refused.status_code == 403
    assert sorted(e["field"] for e in refused.json()["errors"]) == ["max_occupancy", "name"]
    assert live.client("supervisor").get("/api/agents/ana").json()["skills"] == {"banca": 5}  # nothing changed
    assert live.client("agent").patch("/api/agents/ana", json={"skills": {"banca": 1}}).status_code == 403
    assert live.client("admin").patch("/api/agents/ana", json={"name": "Ana María"}).status_code == 200
    # the other contact center's supervisor changes its own "ana", never this one
    assert live.api.client("supervisor", live.api.b).patch("/api/agents/ana", json={"skills": {"banca": 1}}).is_success
    assert live.client("supervisor").get("/api/agents/ana").json()["skills"] == {"banca": 5}
