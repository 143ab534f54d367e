"""Queues, hours, reasons, skills and agents through the API: CRUD, validation, events."""

from __future__ import annotations

import httpx2 as httpx

from tests.conftest import Api


def test_hours_calendar_with_holiday_and_status(api: Api) -> None:
    admin = api.client("admin")
    body = {
        "code": "oficina",
        "name": "Oficina",
        "weekly": [{"day": d, "start": "08:00", "end": "20:00"} for d in range(1, 6)]
        + [{"day": 6, "start": "09:00", "end": "14:00"}],
        "overrides": [{"date": "2026-12-25", "name": "Navidad", "closed": True}],
    }
    resp = admin.post("/api/hours", json=body)
    assert resp.status_code == 201, resp.text
    assert resp.json()["timezone"] == "Europe/Madrid"  # the contact center's zone by default
    agent = api.client("agent")

    def status(at: str) -> str:
        r = agent.get("/api/hours/oficina/status", params={"at": at})
        assert r.status_code == 200, r.text
        return str(r.json()["status"])

    assert status("2026-12-21T07:30:00Z") == "open"  # Monday 08:30 in Madrid (UTC+1)
    assert status("2026-12-21T06:59:00Z") == "closed"  # 07:59 local
    assert status("2026-12-25T10:00:00Z") == "holiday"
    assert status("2026-12-26T12:59:00Z") == "open"  # Saturday 13:59 local
    assert status("2026-12-26T13:00:00Z") == "closed"  # Saturday 14:00 local: intervals are [start, end)
    assert status("2026-12-27T10:00:00Z") == "closed"  # Sunday
    assert agent.get("/api/hours/oficina/status", params={"at": "2026-12-21T10:00:00"}).status_code == 422


def test_hours_validation_names_fields(api: Api) -> None:
    resp = api.client("admin").post(
        "/api/hours",
        json={
            "code": "Mal Código",
            "name": "x",
            "timezone": "Mars/Olympus",
            "weekly": [{"day": 8, "start": "25:00", "end": "10:00"}],
        },
    )
    assert resp.status_code == 422
    fields = {e["field"] for e in resp.json()["errors"]}
    assert {"code", "timezone", "weekly.0.day", "weekly.0.start"} <= fields


def test_queue_crud_and_references(api: Api) -> None:
    admin = api.client("admin")
    resp = admin.post(
        "/api/queues",
        json={
            "code": "premium",
            "name": "Premium",
            "required_skills": {"banca": 4},
            "segment_priority": {"premium": 5, "particulares": 1},
            "sl_target": {"threshold_s": 15, "percent": 90},
            "overflow": {"queue": "atencion", "after_s": 60},
        },
    )
    assert resp.status_code == 201, resp.text
    q = resp.json()
    assert q["sl_target"] == {"threshold_s": 15, "percent": 90.0} and q["overflow"]["queue"] == "atencion"
    bad = admin.post(
        "/api/queues",
        json={
            "code": "x",
            "name": "X",
            "required_skills": {"magia": 2},
            "segment_priority": {"oro": 1},
            "hours": "nada",
            "overflow": {"queue": "nada", "after_s": 5},
        },
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {
        "required_skills.magia",
        "segment_priority.oro",
        "hours",
        "overflow.queue",
    }
    assert admin.post("/api/queues", json={"code": "premium", "name": "Dup"}).status_code == 409
    resp = admin.patch("/api/queues/premium", json={"sl_target": {"threshold_s": 30, "percent": 80}})
    assert resp.json()["sl_target"]["threshold_s"] == 30
    assert admin.patch("/api/queues/premium", json={"overflow": {"queue": "premium", "after_s": 5}}).status_code == 422
    assert admin.delete("/api/queues/premium").status_code == 204
    assert admin.get("/api/queues/premium").json()["active"] is False
    events = (
        api.client("supervisor")
        .get("/api/events", params={"type": ["queue.created", "queue.updated", "queue.deleted"]})
        .json()["items"]
    )
    assert [e["type"] for e in events][-3:] == ["queue.created", "queue.updated", "queue.deleted"]


def test_queue_overload_and_order_by(api: Api) -> None:
    admin = api.client("admin")
    resp = admin.post(
        "/api/queues",
        json={
            "code": "ventas",
            "name": "Ventas",
            "agent_selection": "order_by",
            "order_by": ["agent.antiguedad desc", "agent.idiomas"],
            "overload": {"metric": "oldest_wait", "level1_s": 30, "level2_s": 90},
        },
    )
    assert resp.status_code == 201, resp.text
    q = resp.json()
    assert q["order_by"] == ["agent.antiguedad DESC", "agent.idiomas ASC"]  # normalised
    assert q["overload"] == {"metric": "oldest_wait", "level1_s": 30, "level2_s": 90}
    assert admin.get("/api/queues/atencion").json()["order_by"] == []
    assert admin.get("/api/queues/atencion").json()["overload"] is None

    def fields(resp: httpx.Response) -> dict[str, str]:
        assert resp.status_code == 422, resp.text
        return {e["field"]: e["message"] for e in resp.json()["errors"]}

    bad = admin.post(
        "/api/queues",
        json={
            "code": "x",
            "name": "X",
            "order_by": ["agent.ok ASC", "customer.valor DESC", "agent.mal SIDEWAYS"],
            "overload": {"metric": "ocupacion", "level1_s": 60, "level2_s": 60},
        },
    )
    assert fields(bad) == {
        "order_by.1": "'customer.valor DESC' is not 'agent.<attribute> ASC|DESC'",
        "order_by.2": "'agent.mal SIDEWAYS' is not 'agent.<attribute> ASC|DESC'",
        "overload.metric": "unknown overload metric 'ocupacion'; one of ewt, oldest_wait",
        "overload.level2_s": "level2_s must be greater than level1_s (60)",
    }
    bad = admin.post("/api/queues", json={"code": "x", "name": "X", "overload": {"level1_s": 0}})
    assert set(fields(bad)) == {"overload.level1_s", "overload.level2_s"}
    needed = "agent_selection order_by needs at least one order_by clause"
    assert fields(admin.post("/api/queues", json={"code": "x", "name": "X", "agent_selection": "order_by"})) == {
        "order_by": needed
    }
    # an update is checked against what the queue keeps
    assert fields(admin.patch("/api/queues/atencion", json={"agent_selection": "order_by"})) == {"order_by": needed}
    assert fields(admin.patch("/api/queues/ventas", json={"order_by": []})) == {"order_by": needed}
    assert fields(admin.patch("/api/queues/ventas", json={"order_by": None})) == {"order_by": "must not be null"}
    resp = admin.patch("/api/queues/ventas", json={"overload": None, "agent_selection": "longest_idle"})
    assert resp.status_code == 200 and resp.json()["overload"] is None
    resp = admin.patch("/api/queues/ventas", json={"order_by": []})
    assert resp.status_code == 200 and resp.json()["order_by"] == []


def test_reason_taxonomy_two_levels(api: Api) -> None:
    admin = api.client("admin")
    assert (
        admin.post(
            "/api/reason-groups", json={"code": "tarjetas", "name_es": "Tarjetas", "name_en": "Cards"}
        ).status_code
        == 201
    )
    r = admin.post(
        "/api/reasons",
        json={"code": "bloqueo_tarjeta", "group": "tarjetas", "name_es": "Bloqueo de tarjeta", "name_en": "Card block"},
    )
    assert r.status_code == 201
    sub = admin.post(
        "/api/reasons",
        json={
            "code": "robo",
            "group": "tarjetas",
            "parent": "bloqueo_tarjeta",
            "name_es": "Robo",
            "name_en": "Theft",
            "avoidable": False,
        },
    )
    assert sub.status_code == 201 and sub.json()["parent"] == "bloqueo_tarjeta"
    deeper = admin.post(
        "/api/reasons",
        json={
            "code": "robo_extranjero",
            "group": "tarjetas",
            "parent": "robo",
            "name_es": "Robo fuera",
            "name_en": "Theft abroad",
        },
    )
    assert deeper.status_code == 422 and deeper.json()["errors"][0]["field"] == "parent"
    codes = [r["code"] for r in api.client("agent").get("/api/reasons").json()]
    assert codes == ["bloqueo_tarjeta", "robo"]
    assert admin.delete("/api/reasons/robo").status_code == 204
    assert [r["code"] for r in api.client("agent").get("/api/reasons").json()] == ["bloqueo_tarjeta"]


def test_agent_profile_skills_and_capacity(api: Api) -> None:
    admin = api.client("admin")
    resp = admin.post(
        "/api/agents",
        json={
            "code": "carmen",
            "name": "Carmen Ruiz",
            "languages": ["es", "en"],
            "skills": {"banca": 5},
            "queues": [
                {"queue": "atencion", "rank": 1},
                {"queue": "cobros", "rank": 2, "delay_s": 20},
            ],
            "capacity": {"voice": 1, "chat": 3},
            "exclusive_channels": ["voice"],
            "max_occupancy": 0.85,
        },
    )
    assert resp.status_code == 201, resp.text
    agent = resp.json()
    assert agent["skills"] == {"banca": 5} and agent["state"] == "offline"
    assert [(q["queue"], q["rank"], q["delay_s"]) for q in agent["queues"]] == [("atencion", 1, 0), ("cobros", 2, 20)]
    bad = admin.post(
        "/api/agents",
        json={
            "code": "x",
            "name": "X",
            "skills": {"banca": 6, "magia": 3},
            "capacity": {"fax": 1},
            "queues": [{"queue": "nada"}],
        },
    )
    assert bad.status_code == 422
    assert {"skills", "capacity"} <= {e["field"] for e in bad.json()["errors"]}
    bad = admin.post(
        "/api/agents", json={"code": "x", "name": "X", "skills": {"magia": 3}, "queues": [{"queue": "nada"}]}
    )
    assert {e["field"] for e in bad.json()["errors"]} == {"skills.magia", "queues.0.queue"}
    resp = admin.patch("/api/agents/carmen", json={"skills": {"banca": 3}})
    assert resp.json()["skills"] == {"banca": 3} and len(resp.json()["queues"]) == 2
    assert admin.delete("/api/agents/carmen").status_code == 204
    assert admin.post("/api/agents/carmen/state", json={"state": "available"}).status_code == 409


def test_skill_in_use_cannot_be_deleted(api: Api) -> None:
    resp = api.client("admin").delete("/api/skills/banca")
    assert resp.status_code == 409 and "cobros" in resp.json()["detail"]


def test_cases_reference_lifecycle_and_visibility(api: Api) -> None:
    agent = api.client("agent")  # ana serves 'atencion'
    case = agent.post(
        "/api/cases", json={"subject": "Cambio de domicilio", "queue": "atencion", "note": "Pide cambio"}
    ).json()
    ref = case["reference"]
    assert len(ref) == 7 and ref[3] == "-" and not set(ref) & set("01IO")
    assert agent.get(f"/api/cases/{ref.lower().replace('-', '')}").json()["id"] == case["id"]
    assert agent.get("/api/cases/ABC-DEF").status_code == 422  # bad check symbol
    resp = agent.patch(f"/api/cases/{ref}", json={"status": "resolved"})
    assert resp.json()["closed_at"] is not None
    assert agent.post(f"/api/cases/{ref}/notes", json={"text": "Hecho"}).status_code == 201
    assert [n["text"] for n in agent.get(f"/api/cases/{ref}").json()["notes"]] == ["Pide cambio", "Hecho"]
    other = api.client("supervisor").post("/api/cases", json={"subject": "Deuda", "queue": "cobros"}).json()
    assert agent.get(f"/api/cases/{other['reference']}").status_code == 403
    listed = {c["reference"] for c in agent.get("/api/cases").json()["items"]}
    assert ref in listed and other["reference"] not in listed


def test_contact_search_validates_filters(api: Api) -> None:
    sup = api.client("supervisor")
    assert sup.get("/api/contacts", params={"channel": "fax"}).status_code == 422
    assert sup.get("/api/contacts", params={"queue": "nada"}).json()["errors"][0]["field"] == "queue"
    resp = sup.get("/api/contacts", params={"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"})
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "until"
    assert sup.get("/api/contacts", params={"since": "2026-01-02T00:00:00"}).status_code == 422
    assert sup.get("/api/contacts").json()["total"] == 0
