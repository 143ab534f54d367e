"""The demo contact center: configuration through the actions, customers, history with event timelines, logins,
`centralita up`'s first-start load and the `centralita demo` command; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import random
import stat
import zoneinfo
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from centralita.contacts.history import RecordedContact, RecordedOffer, do_record_contact
from centralita.contacts.queries import queue_codes
from centralita.core.errors import Conflict, InvalidInput
from centralita.demo import catalog, loader
from centralita.demo.generator import Calendar, HistoryPlanner, plan_customers
from centralita.demo.people import PeopleFactory, dni
from centralita.entrypoints.queries import find_entry_point
from centralita.knowledge.queries import search_articles
from centralita.queues.hours import hours_status
from centralita.service import Service
from centralita.store import tables as t
from tests.factories import make_world

MADRID = zoneinfo.ZoneInfo("Europe/Madrid")
SMALL = 150


def _madrid(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=MADRID).astimezone(dt.UTC)


def _count(s: Session, model: Any, tenant_id: int) -> int:
    return int(s.scalar(select(func.count()).select_from(model).where(model.tenant_id == tenant_id)) or 0)


def _login(service: Service, username: str, password: str) -> TestClient:
    from centralita.api.app import create_app

    client = TestClient(create_app(service))
    resp = client.post("/api/auth/login", json={"username": username, "password": password, "tenant": "demo"})
    assert resp.status_code == 200, resp.text
    client.headers["X-CSRF-Token"] = resp.json()["csrf_token"]
    return client


def test_demo_loads_on_first_start(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "FIRST_START_CUSTOMERS", SMALL)
    logins = loader.load_demo_if_empty(service, console=None)
    assert logins is not None
    assert loader.load_demo_if_empty(service, console=None) is None  # a tenant exists now: nothing more

    # users: one admin, one supervisor, one per agent; random passwords, saved with mode 0600
    roles = Counter(x["role"] for x in logins)
    assert roles == {"admin": 1, "supervisor": 1, "agent": len(catalog.AGENTS)}
    assert len({x["password"] for x in logins}) == len(logins)
    path = Path(service.settings.data_dir) / loader.LOGINS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = path.read_text(encoding="utf-8")
    assert all(x["username"] in saved and x["password"] in saved for x in logins)

    with service.db.read() as s:
        tenant = s.scalar(select(t.Tenant).where(t.Tenant.slug == "demo"))
        assert tenant is not None and tenant.name == "Banco Ejemplo" and tenant.timezone == "Europe/Madrid"
        tid = tenant.id
        assert _count(s, t.Customer, tid) == SMALL
        assert 18 <= _count(s, t.Agent, tid) <= 22
        assert _count(s, t.User, tid) == len(logins)
        # the phone line's IVR and the web chat's bot, published (version 1) against the demo's queues
        flows = {
            f.code: f.current_version for f in s.scalars(select(t.ContactFlow).where(t.ContactFlow.tenant_id == tid))
        }
        assert flows == {"banco_entrada": 1, "banco_chat": 1}
        # where their contacts come in: the freephone number runs the IVR, the website's widget the bot
        phone, chat = find_entry_point(s, "phone", "+34900100200"), find_entry_point(s, "chat", "demo-banco-web")
        assert phone is not None and (phone.tenant_id, phone.flow, phone.language) == (tid, "banco_entrada", "es")
        assert chat is not None and (chat.tenant_id, chat.flow, chat.name) == (
            tid,
            "banco_chat",
            "Banco Ejemplo, web chat",
        )
        queues = {q.code: q for q in s.scalars(select(t.Queue).where(t.Queue.tenant_id == tid))}
        assert set(queues) == {"ventas", "atencion", "cobros", "premium", "soporte-digital", "urgencias"}
        assert (queues["premium"].sl_threshold_s, queues["premium"].sl_percent) == (10, 90.0)
        assert (queues["atencion"].sl_threshold_s, queues["atencion"].sl_percent) == (20, 80.0)
        # every queue keeps office hours but the 24-hour card line
        assert [code for code, q in queues.items() if q.hours_id is None] == ["urgencias"]
        assert queues["premium"].overflow and queues["premium"].overflow["queue"] == "atencion"
        reasons = list(s.scalars(select(t.Reason).where(t.Reason.tenant_id == tid)))
        top = [r for r in reasons if r.parent_id is None]
        assert len(top) >= 20 and any(r.parent_id for r in reasons) and any(r.avoidable for r in top)
        assert len({r.group_id for r in top}) >= 5
        codes = {r.code for r in top}
        assert {"consulta_saldo", "bloqueo_tarjeta", "reclamacion", "alta_producto", "cambio_datos"} <= codes
        levels = [row.level for row in s.scalars(select(t.AgentSkill))]
        assert min(levels) >= 1 and max(levels) == 5
        agents = list(s.scalars(select(t.Agent).where(t.Agent.tenant_id == tid)))
        assert all(a.hourly_cost and a.languages for a in agents) and any("en" in a.languages for a in agents)
        assert _count(s, t.AwayReason, tid) >= 4
        # the knowledge base agents search (Spanish) and a script for each main reason, with placeholders
        assert _count(s, t.KbArticle, tid) == 8
        hits = search_articles(s, tid, "tarjeta ROBO")
        assert hits and hits[0].code == "bloqueo-tarjeta"
        assert [h.code for h in search_articles(s, tid, "HORARIO oficinas")] == ["horario"]
        scripts = list(s.scalars(select(t.AgentScript).where(t.AgentScript.tenant_id == tid)))
        covered = {reason for script in scripts for reason in script.reasons}
        assert {"bloqueo_tarjeta", "consulta_saldo", "transferencia", "cargo_no_reconocido", "reclamacion"} <= covered
        assert all(any("{customer.name}" in step["text"] for step in script.steps) for script in scripts)

        customers = list(s.scalars(select(t.Customer).where(t.Customer.tenant_id == tid)))
        assert {c.segment for c in customers} == {"particulares", "premium", "empresas"}
        assert {c.lifecycle_stage for c in customers} == set(catalog.LIFECYCLE_STAGES)
        assert all(c.owner_agent_id is None for c in customers if c.segment == "particulares")
        assert any(c.owner_agent_id for c in customers if c.segment == "premium")
        phones = list(s.scalars(select(t.CustomerIdentity).where(t.CustomerIdentity.kind == "phone")))
        assert all(p.value.startswith("+34") and len(p.value) == 12 for p in phones)
        assert len(phones) > len(customers)  # some customers have two

        # history: every contact within opening hours, with its timeline in the event log
        contacts = list(s.scalars(select(t.Contact).where(t.Contact.tenant_id == tid)))
        assert len(contacts) >= SMALL * 2
        hours = s.scalar(select(t.HoursCalendar).where(t.HoursCalendar.tenant_id == tid))
        assert hours is not None
        now = service.clock.now()
        assert all(
            hours_status(hours.timezone, hours.weekly, hours.overrides, c.initiation_ts) == "open" for c in contacts
        )
        assert all(now - dt.timedelta(days=61) <= c.initiation_ts < now for c in contacts)
        assert {c.channel for c in contacts} == {"voice", "chat", "email"}
        outcomes = Counter(c.queue_outcome for c in contacts)
        assert outcomes["answered"] > outcomes["abandoned"] > 0 and outcomes[None] > 0  # None: self-service
        handled = [c for c in contacts if c.agent_connected_ts is not None]
        assert all(c.cost and c.cost > 0 and c.reason_id and c.queue_id and c.agent_id for c in handled)
        assert all(c.acw_end_ts and c.disconnect_ts and c.disposition for c in handled)
        assert any(c.sub_reason_id for c in contacts) and any(c.csat for c in contacts)
        assert any(c.holds for c in contacts)

        timelines: dict[int, list[t.Event]] = defaultdict(list)
        for e in s.scalars(select(t.Event).where(t.Event.tenant_id == tid, t.Event.contact_id.is_not(None))):
            timelines[e.contact_id].append(e)  # type: ignore[index]
        for c in contacts:
            events = {e.type: e for e in timelines[c.id]}
            assert events["contact.arrived"].ts == c.initiation_ts
            assert events["contact.ended"].ts == c.disconnect_ts
            assert events["contact.recorded"].data["source"] == "demo"
            if c.queue_outcome is not None:
                assert events["contact.queued"].ts == c.enqueue_ts
                assert events["contact.dequeued"].data["outcome"] == c.queue_outcome
            if c.agent_connected_ts is not None:
                assert events["contact.connected"].ts == c.agent_connected_ts
                assert events["contact.wrapped_up"].ts == c.acw_end_ts
            assert ("contact.surveyed" in events) == (c.survey_ts is not None)
        seqs = sorted(s.scalars(select(t.Event.seq).where(t.Event.tenant_id == tid)))
        assert seqs == list(range(1, len(seqs) + 1)) and tenant.event_seq == len(seqs)

        cases = list(s.scalars(select(t.Case).where(t.Case.tenant_id == tid)))
        assert cases and {c.status for c in cases} & {"open", "pending"}
        linked = s.scalar(select(func.count()).select_from(t.CaseContact)) or 0
        assert linked >= len(cases)

        # a customer with history, to look up by phone
        some = next(c for c in contacts if c.customer_id is not None and c.channel == "voice" and c.ani)
        ani = some.ani
    assert ani is not None

    admin = _login(service, "admin", next(x["password"] for x in logins if x["username"] == "admin"))
    national = ani.removeprefix("+34")
    found = admin.get("/api/customers/lookup", params={"phone": f"{national[:3]} {national[3:6]} {national[6:]}"})
    assert found.status_code == 200, found.text
    assert found.json()["customer"]["id"] == some.customer_id and found.json()["last_contacts"]
    for when, status in (
        (_madrid(2026, 12, 25, 10), "holiday"),  # Navidad
        (_madrid(2027, 3, 26, 10), "holiday"),  # Viernes Santo 2027
        (_madrid(2026, 11, 23, 10), "open"),  # a Monday
        (_madrid(2026, 11, 22, 10), "closed"),  # a Sunday
        (_madrid(2026, 11, 21, 10), "open"),  # Saturday morning
        (_madrid(2026, 11, 21, 15), "closed"),  # Saturday afternoon
        (_madrid(2026, 11, 23, 20, 0), "closed"),  # 20:00 is closing time
    ):
        resp = admin.get(f"/api/hours/{catalog.HOURS_CODE}/status", params={"at": when.isoformat()})
        assert resp.status_code == 200, resp.text
        assert resp.json()["status"] == status, when
    agent_login = next(x for x in logins if x["role"] == "agent")
    assert _login(service, agent_login["username"], agent_login["password"]).get("/api/customers").status_code == 200

    # loading the same contact center again changes nothing
    with service.db.read() as s:
        before = s.scalar(select(t.Tenant.event_seq).where(t.Tenant.id == tid))
    with pytest.raises(Conflict):
        loader.load_demo(service, customers=5)
    with pytest.raises(InvalidInput):
        loader.load_demo(service, customers=5, tenant_slug="otra", password="corta")
    with pytest.raises(InvalidInput, match="tenant_slug"):
        loader.load_demo(service, customers=5, tenant_slug="Con Espacios")
    with service.db.read() as s:
        assert s.scalar(select(t.Tenant.event_seq).where(t.Tenant.id == tid)) == before
        assert s.scalar(select(func.count()).select_from(t.Tenant)) == 1


def test_same_seed_same_demo_plans() -> None:
    now = dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)

    def plans(seed: int) -> list[Any]:
        rng = random.Random(seed)
        customers = plan_customers(rng, PeopleFactory(rng), 60, now)
        planner = HistoryPlanner(seed, Calendar(now.date(), 60, now))
        history = [p.record for i, c in enumerate(customers) for p in planner.plan_customer(c, i + 1)]
        return [*(c.create for c in customers), *history]

    assert plans(3) == plans(3)
    assert plans(3) != plans(4)


def test_national_holidays_and_dni() -> None:
    days = dict(catalog.national_holidays(2026))
    assert days[dt.date(2026, 4, 3)] == "Viernes Santo"  # Easter Sunday 2026 is 5 April
    assert dt.date(2027, 3, 26) in dict(catalog.national_holidays(2027))
    assert len(days) == 10
    assert dni(12345678) == "12345678Z"


def test_record_contact_writes_row_and_timeline(service: Service) -> None:
    world = make_world(service, "norte")
    start = dt.datetime(2026, 1, 2, 9, 0, tzinfo=dt.UTC)
    at = start.__add__
    record = RecordedContact(
        channel="voice",
        ani="+34612000111",
        queue="atencion",
        agent="ana",
        initiation_ts=start,
        enqueue_ts=at(dt.timedelta(seconds=30)),
        dequeue_ts=at(dt.timedelta(seconds=45)),
        queue_outcome="answered",
        offers=[
            RecordedOffer(agent="ana", offered_ts=at(dt.timedelta(seconds=40)), ended_ts=at(dt.timedelta(seconds=45)))
        ],
        agent_connected_ts=at(dt.timedelta(seconds=45)),
        agent_end_ts=at(dt.timedelta(seconds=300)),
        holds=[(at(dt.timedelta(seconds=100)), at(dt.timedelta(seconds=130)))],
        acw_start_ts=at(dt.timedelta(seconds=300)),
        acw_end_ts=at(dt.timedelta(seconds=340)),
        disconnect_ts=at(dt.timedelta(seconds=300)),
        disconnect_reason="CUSTOMER_DISCONNECT",
        disposition="resuelto",
        resolved=True,
        csat=5,
        survey_ts=at(dt.timedelta(seconds=400)),
        source="test",
    )
    with service.db.write() as s:
        contact = do_record_contact(s, world.admin, record)
        contact_id = contact.id
    with service.db.read() as s:
        row = s.get_one(t.Contact, contact_id)
        assert row.initial_contact_id == contact_id and row.status == "closed"
        assert queue_codes(s, contact_id) == ["atencion"]
        events = list(s.scalars(select(t.Event).where(t.Event.contact_id == contact_id).order_by(t.Event.seq)))
    assert [e.type for e in events] == [
        "contact.arrived",
        "contact.queued",
        "contact.offered",
        "contact.offer_ended",  # a recorded offer ends like a live one
        "contact.dequeued",
        "contact.connected",
        "contact.held",
        "contact.resumed",
        "contact.ended",
        "contact.wrapped_up",
        "contact.surveyed",
        "contact.recorded",
    ]
    assert events[0].ts == start and events[-1].ts == service.clock.now()

    bad = record.model_copy(update={"queue": "nada", "agent": "nadie"})
    with service.db.write() as s, pytest.raises(InvalidInput) as err:
        do_record_contact(s, world.admin, bad)
    assert {".".join(map(str, e.loc)) for e in err.value.errors} == {"queue", "agent"}
    with pytest.raises(ValueError, match="before"):
        RecordedContact(channel="chat", initiation_ts=start, disconnect_ts=start - dt.timedelta(seconds=1))


def test_cli_demo_loads_and_refuses_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from centralita.cli import app

    for name in ("CENTRALITA_DATABASE_URL", "CENTRALITA_REDIS_URL", "CENTRALITA_CONFIG", "CENTRALITA_LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()
    args = ["--data-dir", str(tmp_path), "demo", "--customers", "40", "--seed", "5"]
    first = runner.invoke(app, [*args, "--password", "demo-demo-1"])
    assert first.exit_code == 0, first.output
    assert "demo-demo-1" in first.output and "lucia.martin" in first.output
    assert stat.S_IMODE((tmp_path / loader.LOGINS_FILE).stat().st_mode) == 0o600
    engine = create_engine(f"sqlite:///{tmp_path / 'centralita.db'}")

    def state() -> tuple[int, int]:
        with engine.connect() as conn:
            return (
                int(conn.scalar(select(func.count()).select_from(t.Customer)) or 0),
                int(conn.scalar(select(func.max(t.Tenant.event_seq))) or 0),
            )

    before = state()
    assert before[0] == 40
    again = runner.invoke(app, args)
    assert again.exit_code == 2
    assert "'demo'" in again.output and "ya existe" in again.output  # no language set: Spanish, the default
    assert state() == before
    engine.dispose()


def test_progress_reports_every_stage_and_same_seed_gives_same_customers(service: Service) -> None:
    seen: list[tuple[str, int, int]] = []
    result = loader.load_demo(
        service, customers=20, seed=9, password="clave-demo-9", progress=lambda *a: seen.append(a)
    )
    finished = [stage for stage, done, total in seen if done == total]
    assert list(dict.fromkeys(finished)) == ["config", "customers", "history"]
    assert result.counts["customers"] == 20 and result.counts["contacts"] > 0
    assert all(x["password"] == "clave-demo-9" for x in result.logins)
    again = loader.load_demo(service, customers=20, seed=9, tenant_slug="demo-2")
    with service.db.read() as s:
        names = [
            list(s.scalars(select(t.Customer.name).where(t.Customer.tenant_id == tid).order_by(t.Customer.id)))
            for tid in (result.tenant_id, again.tenant_id)
        ]
    assert names[0] == names[1] and len(names[0]) == 20
    with service.db.read() as s:  # an address belongs to one contact center: the first demo keeps the demo's
        found = find_entry_point(s, "phone", catalog.SERVICE_NUMBER)
        assert found is not None and found.tenant_id == result.tenant_id
        assert s.scalar(select(func.count()).where(t.EntryPoint.tenant_id == again.tenant_id)) == 0
