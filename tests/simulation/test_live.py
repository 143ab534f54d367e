"""`simulate --live` against a real server in this process: contacts arrive, bots answer, talk, wrap up."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from centralita.contacts.queries import queue_codes
from centralita.simulation.client import Connection
from centralita.simulation.live import SimulationConfig, Simulator, Stats
from centralita.store import tables as t
from tests.clirun import run_cli
from tests.factories import PASSWORD
from tests.simulation.conftest import Server


def _taxonomy_and_customers(server: Server) -> None:
    admin = server.api.client("admin")
    assert (
        admin.post(
            "/api/reason-groups", json={"code": "cuentas", "name_es": "Cuentas", "name_en": "Accounts"}
        ).status_code
        == 201
    )
    for body in (
        {"code": "saldo", "group": "cuentas", "name_es": "Saldo", "name_en": "Balance"},
        {"code": "saldo-app", "group": "cuentas", "parent": "saldo", "name_es": "En la app", "name_en": "In the app"},
        {"code": "tarjeta", "group": "cuentas", "name_es": "Tarjeta", "name_en": "Card"},
    ):
        assert admin.post("/api/reasons", json=body).status_code == 201, body
    for n, phone in enumerate(("+34 600 111 222", "+34 600 333 444", "+34 611 555 666")):
        resp = admin.post(
            "/api/customers",
            json={
                "name": f"Cliente {n}",
                "identities": [{"kind": "phone", "value": phone}, {"kind": "chat", "value": f"chat-{n}"}],
            },
        )
        assert resp.status_code == 201, resp.text


def _connect(server: Server) -> Connection:
    world = server.api.a
    return Connection.open(server.url, username=world.usernames["supervisor"], password=PASSWORD, tenant=world.slug)


def test_simulator_drives_contacts_through_their_whole_life(server: Server) -> None:
    _taxonomy_and_customers(server)
    config = SimulationConfig(
        rate=240.0,
        profile="flat",
        agents=2,
        duration_s=600.0,
        speed=100.0,  # 6 s of wall time
        seed=42,
        channels={"voice": 2.0, "chat": 1.0},
        queues={"atencion": 3.0, "cobros": 1.0},
        known=0.7,
        reject=0.1,
        no_answer=0.0,  # the test server's clock stands still: an unanswered offer would never time out
        acw_s=10.0,
        patience_s=120.0,
        start_hour=10.0,
    )
    statuses: list[Stats] = []
    conn = _connect(server)
    try:
        stats = Simulator(conn, config, on_status=statuses.append, status_every_s=0.2).run()
    finally:
        conn.close()
    svc = server.api.service
    tenant_id = server.api.a.tenant_id
    with svc.db.read() as s:
        rows = [
            c
            for c in s.scalars(select(t.Contact).where(t.Contact.tenant_id == tenant_id))
            if (c.attributes or {}).get("simulated") is True
        ]
        events = list(s.scalars(select(t.Event).where(t.Event.tenant_id == tenant_id, t.Event.contact_id.is_not(None))))
        agents = {a.code: a.state for a in s.scalars(select(t.Agent).where(t.Agent.tenant_id == tenant_id))}
    assert stats.arrivals == len(rows) > 20, stats
    assert stats.closed_on_arrival == 0 and stats.errors == 0, stats
    # every contact ended in a final state: nothing is left waiting, talking or in wrap-up after the stop
    assert Counter(r.status for r in rows) == {"closed": len(rows)}
    with svc.db.read() as s:
        first_queues = {queue_codes(s, r.id)[0] for r in rows}
    assert first_queues == {"atencion", "cobros"}
    assert sum(1 for r in rows if r.customer_id is not None) > 0  # known customers were recognised
    assert sum(1 for r in rows if r.customer_id is None) > 0  # and some callers were unknown
    answered = [r for r in rows if r.queue_outcome == "answered"]
    assert len(answered) == stats.answered >= 3  # several whole lives (how many depends on the machine's load)
    assert all(r.disposition and r.reason_id and r.acw_end_ts and r.agent_end_ts for r in answered)
    abandoned = [r for r in rows if r.queue_outcome == "abandoned"]
    assert len(abandoned) == stats.abandoned + stats.hung_up_at_stop and stats.abandoned > 0
    by_type = Counter(e.type for e in events if e.contact_id in {r.id for r in rows})
    assert by_type["contact.arrived"] == by_type["contact.queued"] == len(rows)
    assert by_type["contact.offered"] >= by_type["contact.connected"] == len(answered)
    assert by_type["contact.wrapped_up"] == stats.wrapped_up == len(answered)
    assert by_type["contact.identified"] == sum(1 for r in rows if r.customer_id is not None)
    results = Counter(e.data.get("result") for e in events if e.type == "contact.offer_ended")
    assert results["accepted"] == len(answered) and results["rejected"] == stats.rejected > 0
    # the bots made themselves available, recovered from `missed` after their rejections, and logged out
    assert agents == {"ana": "offline", "luis": "offline"}
    assert statuses and statuses[-1].arrivals <= stats.arrivals
    assert max(s.waiting for s in statuses) > 0


def test_arrivals_go_to_the_queues_open_now(server: Server) -> None:
    """A queue outside its hours gets nothing while another is open (the demo's 24-hour card line at night);
    when none of the chosen queues is open, the server closes the contacts, counted as such."""
    _taxonomy_and_customers(server)
    admin = server.api.client("admin")
    # the test server's clock: Monday 2026-01-05 10:00 in Madrid; this calendar opens on Sundays only
    sundays = {"code": "domingos", "name": "Domingos", "weekly": [{"day": 7, "start": "09:00", "end": "14:00"}]}
    assert admin.post("/api/hours", json=sundays).status_code == 201
    assert admin.patch("/api/queues/cobros", json={"hours": "domingos"}).status_code == 200
    config = SimulationConfig(
        rate=360.0,
        profile="flat",
        agents=2,
        duration_s=300.0,
        speed=100.0,
        seed=3,
        channels={"voice": 1.0},
        queues={"atencion": 1.0, "cobros": 5.0},
        no_answer=0.0,
        start_hour=3.0,
    )
    conn = _connect(server)
    try:
        stats = Simulator(conn, config).run()
    finally:
        conn.close()
    assert stats.arrivals > 10 and stats.closed_on_arrival == 0, stats
    with server.api.service.db.read() as s:
        rows = [
            c
            for c in s.scalars(select(t.Contact).where(t.Contact.tenant_id == server.api.a.tenant_id))
            if (c.attributes or {}).get("simulated") is True
        ]
        assert {queue_codes(s, r.id)[0] for r in rows} == {"atencion"}
    # only the closed queue chosen: sent anyway, and the server closes them on arrival
    conn = _connect(server)
    try:
        closed = Simulator(conn, dataclasses.replace(config, queues={"cobros": 1.0}, duration_s=60.0)).run()
    finally:
        conn.close()
    assert closed.arrivals > 0 and closed.closed_on_arrival == closed.arrivals
    assert set(closed.closed_outcomes) == {"closed_hours"}, closed.closed_outcomes


def test_cli_runs_and_names_the_bad_option(server: Server, tmp_path: Path) -> None:
    _taxonomy_and_customers(server)
    world = server.api.a
    login = [
        "--url",
        server.url,
        "--user",
        world.usernames["supervisor"],
        "--password",
        PASSWORD,
        "--tenant",
        world.slug,
    ]
    code, out, err = run_cli(tmp_path, "simulate", "--live", *login, "--agents", "5")
    assert code == 2 and "--agents: the contact center has 2 active agents, fewer than 5" in err, err
    code, out, err = run_cli(tmp_path, "simulate", "--live", *login, "--queues", "nada=1")
    assert code == 2 and "--queues: unknown queue 'nada'; active queues: atencion, cobros" in err, err
    agent_login = [
        "--url",
        server.url,
        "--user",
        world.usernames["agent"],
        "--password",
        PASSWORD,
        "--tenant",
        world.slug,
    ]
    code, out, err = run_cli(tmp_path, "simulate", "--live", *agent_login)
    assert code == 2 and "needs a supervisor or admin" in err, err
    wrong = [*login[:-3], "wrong password", "--tenant", world.slug]
    code, out, err = run_cli(tmp_path, "simulate", "--live", *wrong)
    assert code == 2 and "wrong username or password" in err, err
    code, out, err = run_cli(
        tmp_path, "simulate", "--live", *login, "--agents", "1", "--duration", "60s", "--speed", "120",
        "--profile", "flat", "--rate", "600", "--seed", "3", "--channels", "chat=1", "--queues", "atencion=1",
    )  # fmt: skip
    assert code == 0, out + err
    assert "seed 3" in out and "Final:" in out and "0 errors" in out, out
    with server.api.service.db.read() as s:
        ana = s.scalar(select(t.Agent).where(t.Agent.tenant_id == world.tenant_id, t.Agent.code == "ana"))
        assert ana is not None and ana.state == "offline"


def test_cli_bad_arguments_before_any_connection(tmp_path: Path) -> None:
    cases = [
        ((), "--live: give --live"),
        (("--rate", "0"), "--rate: must be more than zero"),
        (("--speed", "-2"), "--speed: must be more than zero"),
        (("--agents", "0"), "--agents: must be at least 1"),
        (("--duration", "soon"), "--duration: give a number of seconds"),
        (("--channels", "fax=1"), "--channels: unknown 'fax'; use voice, chat, email"),
        (("--channels", "voice=0"), "--channels: at least one weight must be more than zero"),
        (("--queues", "atencion"), "--queues: write NAME=WEIGHT pairs"),
        (("--reject", "1.5"), "--reject: must be between 0 and 1"),
        (("--reject", "0.6", "--no-answer", "0.6"), "--no-answer: --reject plus --no-answer must not exceed 1"),
        (("--profile", "weekly"), "--profile: must be bank or flat"),
        (("--start-hour", "24"), "--start-hour: must be from 0 to 23.99"),
        (("--patience", "-1"), "--patience: must be zero or more"),
        (("--url", "ftp://x", "--token", "t"), "--url: must start with http:// or https://"),
        (("--user", "sup"), "--password: give the password of --user"),
        ((), "--token: give --token, or --user and --password (no demo login found in"),
        (("--url", "http://127.0.0.1:9", "--token", "ctk_x"), "--url: cannot reach http://127.0.0.1:9"),
    ]
    for args, message in cases:
        live = () if message.startswith("--live") else ("--live",)
        code, out, err = run_cli(tmp_path, "simulate", *live, *args)
        flat = " ".join(err.split())
        assert code == 2 and message in flat, (args, code, out, err)
    code, out, err = run_cli(tmp_path, "simulate", "--live", "--rate", "lots")
    assert code == 2 and "Invalid value for '--rate'" in err


def test_demo_logins_file_gives_the_supervisor(tmp_path: Path) -> None:
    from centralita.cli.simulate import read_demo_login

    path = tmp_path / "demo-logins.txt"
    path.write_text(
        "# Banco Ejemplo (demo): demo logins\nrole         username             password\n"
        "admin        admin                a1\nsupervisor   supervisor           s3cret\n"
        "agent        ana                  x\n",
        encoding="utf-8",
    )
    assert read_demo_login(path, None) == ("demo", "supervisor", "s3cret")
    assert read_demo_login(path, "demo") == ("demo", "supervisor", "s3cret")
    assert read_demo_login(path, "otro") is None
    assert read_demo_login(tmp_path / "missing.txt", None) is None


def test_api_token_works_for_http_and_the_websocket(server: Server) -> None:
    _taxonomy_and_customers(server)
    issued = server.api.client("admin").post("/api/tokens", json={"name": "simulador", "role": "supervisor"})
    assert issued.status_code == 201, issued.text
    conn = Connection.open(server.url, token=issued.json()["token"])
    try:
        sim = Simulator(conn, SimulationConfig(agents=2, seed=1, queues={"atencion": 1.0}))
        sim.setup()
        assert {b.code for b in sim.bots.values()} == {"ana", "luis"}
        assert sorted(sim.customers) == ["chat", "phone"] and len(sim.customers["phone"]) == 3
        assert [r for r, _ in sim.reasons] == ["saldo", "tarjeta"] and dict(sim.reasons)["saldo"] == ["saldo-app"]
        stream = conn.events()
        try:
            hello = stream.receive(5.0)
            assert hello is not None and hello["type"] == "hello"
        finally:
            stream.close()
    finally:
        conn.close()
