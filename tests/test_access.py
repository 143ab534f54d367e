"""Every rule of `centralita.access`, each on its own, and through the API where a route asks it.

These tests are what a change to a rule must break: each case names the actor, the row and the answer.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from centralita import access
from centralita.core.actor import Actor
from centralita.core.errors import Forbidden, NotFound
from centralita.events.log import EventRecord
from centralita.service import Service
from centralita.store import tables as t
from tests.conftest import Api

NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


def _actor(
    role: str, tenant: int = 1, agent: int | None = None, user: int | None = 10, token: int | None = None
) -> Actor:
    return Actor(tenant_id=tenant, role=role, user_id=user, agent_id=agent, token_id=token)


# --- pure rules ---------------------------------------------------------------------------------------


def test_roles_and_integrations() -> None:
    assert access.can_act_on_contact(_actor("supervisor"), 5)
    assert access.can_act_on_contact(_actor("agent", agent=5), 5)
    assert not access.can_act_on_contact(_actor("agent", agent=5), 6)
    assert not access.can_act_on_contact(_actor("agent", agent=None), None)  # no agent: nothing is its own
    assert access.can_answer_offer(_actor("agent", agent=5), 5) and not access.can_answer_offer(
        _actor("agent", agent=5), 6
    )
    with pytest.raises(Forbidden):
        access.check_acts_on_contact(_actor("agent", agent=5), 6)
    access.check_brings_contacts(_actor("supervisor"))
    access.check_brings_contacts(_actor("agent", user=None, token=3))  # an integration token
    for refused in (
        _actor("agent", agent=5),  # an agent's session
        _actor("agent", agent=5, token=3),  # a token acting for an agent is no integration
        _actor("agent", user=None),  # the CLI or the system acting as an agent
    ):
        with pytest.raises(Forbidden):
            access.check_brings_contacts(refused)
    assert _actor("agent", token=3).integration and not _actor("agent", agent=5, token=3).integration


def test_queues_and_agents() -> None:
    agent = _actor("agent", agent=5)
    assert access.can_see_queue(agent, frozenset({1, 2}), 2) and not access.can_see_queue(agent, frozenset({1}), 2)
    assert access.can_see_queue(_actor("supervisor"), None, 99)
    assert access.can_see_agent(agent, 5) and not access.can_see_agent(agent, 6)
    assert access.can_see_agent(_actor("supervisor"), 6) and access.can_change_agent_state(_actor("admin"), 6)
    assert not access.can_change_agent_state(agent, 6)
    with pytest.raises(Forbidden):
        access.check_sees_agent(agent, 6)
    assert access.acts_for_any_agent(_actor("supervisor")) and access.acts_for_any_agent(_actor("admin"))
    assert not access.acts_for_any_agent(agent)
    sql = str(access.own_agent_rows(agent, t.Agent.id).compile(compile_kwargs={"literal_binds": True}))
    assert sql == "agents.id = 5"
    assert str(access.own_agent_rows(_actor("agent"), t.Agent.id).compile(compile_kwargs={"literal_binds": True})) == (
        "agents.id = -1"  # an agent-role user that is no agent sees no agent's rows
    )
    assert str(access.own_agent_rows(_actor("supervisor"), t.Agent.id).compile()) == "true"


def test_only_a_chats_own_agent_writes_to_its_customer() -> None:
    assert access.can_write_to_customer(_actor("agent", agent=5), 5)
    assert not access.can_write_to_customer(_actor("agent", agent=6), 5)
    assert not access.can_write_to_customer(_actor("agent", agent=None), None)
    assert not access.can_write_to_customer(_actor("supervisor"), 5)  # may act for the agent, not speak for it
    assert not access.can_write_to_customer(_actor("admin"), 5)
    assert access.can_write_to_customer(_actor("supervisor", agent=5), 5)  # a supervisor who is the agent
    with pytest.raises(Forbidden):
        access.check_writes_to_customer(_actor("admin"), 1, 5)


def test_cases() -> None:
    def case(owner: int | None, queue: int | None, tenant: int = 1) -> t.Case:
        return t.Case(tenant_id=tenant, reference="K7M-42Q", owner_agent_id=owner, queue_id=queue)

    agent = _actor("agent", agent=5)
    served = frozenset({1})
    assert access.can_see_case(agent, served, case(5, 2))  # its own
    assert access.can_see_case(agent, served, case(6, 1))  # its queue's
    assert access.can_see_case(agent, served, case(None, None))  # unassigned
    assert not access.can_see_case(agent, served, case(6, 2))  # another agent's, another queue
    assert not access.can_see_case(agent, served, case(None, 2))
    assert not access.can_see_case(_actor("admin"), None, case(5, 1, tenant=2))  # another tenant's
    with pytest.raises(NotFound):
        access.access_case(_actor("admin"), None, case(5, 1, tenant=2), "K7M-42Q")
    with pytest.raises(Forbidden):
        access.access_case(agent, served, case(6, 2), "K7M-42Q")


def test_events() -> None:
    def event(
        tenant: int = 1, agent: int | None = None, queue: int | None = None, user: int | None = None
    ) -> EventRecord:
        return EventRecord(
            id=1, tenant_id=tenant, seq=1, type="contact.held", ts=NOW, agent_id=agent, queue_id=queue, user_id=user
        )

    agent = _actor("agent", agent=5, user=10)
    served = frozenset({1})
    assert access.can_see_event(agent, served, event(agent=5))
    assert access.can_see_event(agent, served, event(queue=1))
    assert access.can_see_event(agent, served, event(user=10))
    assert not access.can_see_event(agent, served, event(agent=6, queue=2, user=11))
    assert not access.can_see_event(agent, served, event(tenant=2, agent=5))
    assert access.can_see_event(_actor("supervisor"), None, event(agent=6))
    assert not access.can_see_event(_actor("supervisor"), None, event(tenant=2))


def test_lean_fan_out_sends_an_agent_its_own_events_and_its_queues_changes() -> None:
    def event(
        type_: str = "contact.queued",
        tenant: int = 1,
        agent: int | None = None,
        queue: int | None = None,
        user: int | None = None,
    ) -> EventRecord:
        return EventRecord(
            id=1, tenant_id=tenant, seq=1, type=type_, ts=NOW, agent_id=agent, queue_id=queue, user_id=user
        )

    agent = _actor("agent", agent=5, user=10)
    served = frozenset({1})
    assert access.may_need_event(agent, served, event("contact.offered", agent=5, queue=1))
    assert access.may_need_event(agent, served, event("customer.updated", user=10))
    assert access.may_need_event(agent, served, event("queue.updated", queue=1))
    # its queue's traffic and other agents' work: visible, not needed (figures come as queue_stats)
    assert access.can_see_event(agent, served, event("contact.queued", queue=1))
    assert not access.may_need_event(agent, served, event("contact.queued", queue=1))
    assert not access.may_need_event(agent, served, event("contact.offered", agent=6, queue=1))
    assert not access.may_need_event(agent, served, event("queue.updated", queue=2))
    assert not access.may_need_event(agent, served, event("contact.offered", tenant=2, agent=5))
    supervisor = _actor("supervisor")
    assert access.may_need_event(supervisor, None, event("contact.offered", agent=6, queue=1))
    assert not access.may_need_event(supervisor, None, event(tenant=2))


def test_customer_fields() -> None:
    agent, supervisor = _actor("agent", agent=5), _actor("supervisor")
    access.check_customer_fields(agent, {}, {"name", "notes", "language", "attributes"})
    for field in ("segment", "value_tier", "lifetime_value", "owner"):
        with pytest.raises(Forbidden) as err:
            access.check_customer_fields(agent, {}, {"name", field})
        assert [e.loc for e in err.value.errors] == [[field]]
        access.check_customer_fields(supervisor, {}, {field})
    custom = {"supervisor_only_customer_fields": ["name"]}  # a tenant that decides otherwise
    access.check_customer_fields(agent, custom, {"segment"})
    with pytest.raises(Forbidden):
        access.check_customer_fields(agent, custom, {"name"})
    assert set(access.CUSTOMER_FIELDS) >= set(access.SUPERVISOR_ONLY_CUSTOMER_FIELDS)


def test_the_settings_choices_are_the_customer_fields() -> None:
    from typing import get_args

    from centralita.accounts.schemas import CustomerField

    assert set(get_args(CustomerField)) == set(access.CUSTOMER_FIELDS)


# --- rules that read the store --------------------------------------------------------------------------


def _contact(api: Api, queue: str = "atencion", agent: str | None = None) -> int:
    """A contact waiting in `queue` (nobody is available), or connected to `agent` through the store."""
    resp = api.client("supervisor").post("/api/contacts", json={"channel": "chat", "from": "chat-1", "queue": queue})
    assert resp.status_code == 201, resp.text
    return int(resp.json()["id"])


def _ids(service: Service, tenant_id: int) -> dict[str, int]:
    with service.db.read() as s:
        rows = s.execute(select(t.Agent.code, t.Agent.id).where(t.Agent.tenant_id == tenant_id)).all()
        queues = s.execute(select(t.Queue.code, t.Queue.id).where(t.Queue.tenant_id == tenant_id)).all()
    return {str(code): int(i) for code, i in [*rows, *queues]}


def test_served_queues_and_contact_visibility(api: Api) -> None:
    ids = _ids(api.service, api.a.tenant_id)
    waiting = _contact(api, "atencion")  # ana serves atencion, luis cobros
    ana = Actor(tenant_id=api.a.tenant_id, role="agent", agent_id=ids["ana"])
    luis = Actor(tenant_id=api.a.tenant_id, role="agent", agent_id=ids["luis"])
    nobody = Actor(tenant_id=api.a.tenant_id, role="agent")
    with api.service.db.read() as s:
        assert access.served_queues(s, ana) == frozenset({ids["atencion"]})
        assert access.served_queues(s, nobody) == frozenset()
        assert access.served_queues(s, Actor(tenant_id=api.a.tenant_id, role="supervisor")) is None
        row = s.get_one(t.Contact, waiting)
        assert access.can_see_contact(s, ana, access.served_queues(s, ana), row)
        assert not access.can_see_contact(s, luis, access.served_queues(s, luis), row)
        assert access.access_contact(s, ana, waiting).id == waiting
        with pytest.raises(Forbidden):
            access.access_contact(s, luis, waiting)
        other_tenant = Actor(tenant_id=api.b.tenant_id, role="admin")
        with pytest.raises(NotFound):  # another tenant's contact is not found, even for its admin
            access.access_contact(s, other_tenant, waiting)
        visible = s.scalars(select(t.Contact.id).where(access.contacts_visible(ana, access.served_queues(s, ana))))
        assert list(visible) == [waiting]
        hidden = s.scalars(select(t.Contact.id).where(access.contacts_visible(luis, access.served_queues(s, luis))))
        assert list(hidden) == []


# --- through the API: the mutations the suite once let pass ---------------------------------------------


def test_csrf_header_present_but_wrong_is_refused(api: Api) -> None:
    client = api.client("supervisor")
    good = client.headers["X-CSRF-Token"]
    body = {"channel": "chat", "from": "chat-9", "queue": "atencion"}
    resp = client.post(
        "/api/contacts", json=body, headers={"X-CSRF-Token": good[:-1] + ("0" if good[-1] != "0" else "1")}
    )
    assert resp.status_code == 403, resp.text
    assert client.post("/api/contacts", json=body, headers={"X-CSRF-Token": ""}).status_code == 403
    assert client.post("/api/contacts", json=body).status_code == 201  # the right one passes


def test_another_tenants_contact_by_id_is_not_found(api: Api) -> None:
    cid = _contact(api)
    for role in ("admin", "supervisor", "agent"):
        resp = api.client(role, api.b).get(f"/api/contacts/{cid}")
        assert resp.status_code == 404, (role, resp.text)
        assert api.client(role, api.b).post(f"/api/contacts/{cid}/accept").status_code == 404
    assert api.client("supervisor", api.b).get("/api/contacts").json()["total"] == 0


def test_an_agent_sees_the_contacts_of_its_queue_and_not_others(api: Api) -> None:
    cid = _contact(api, "atencion")
    assert api.client("agent").get(f"/api/contacts/{cid}").status_code == 200  # ana serves atencion
    assert [c["id"] for c in api.client("agent").get("/api/contacts").json()["items"]] == [cid]
    assert api.client("agent2").get(f"/api/contacts/{cid}").status_code == 403  # luis serves cobros
    assert api.client("agent2").get("/api/contacts").json()["total"] == 0


def test_a_token_bound_to_an_agent_is_no_integration(api: Api) -> None:
    body = {"channel": "chat", "from": "chat-9", "queue": "atencion"}
    admin = api.client("admin")
    integration = admin.post("/api/tokens", json={"name": "crm", "role": "agent"})
    assert integration.status_code == 201, integration.text
    # a token issued by the admin acts as the admin's user: give the agent its own token via its session
    with api.service.db.write() as s:
        from centralita.accounts.actions import do_create_api_token
        from centralita.accounts.schemas import ApiTokenCreate

        user = s.scalars(select(t.User).where(t.User.username == api.a.usernames["agent"])).one()
        agent_actor = Actor(tenant_id=api.a.tenant_id, role="agent", user_id=user.id, agent_id=user.agent_id)
        agent_token, _row = do_create_api_token(s, agent_actor, ApiTokenCreate(name="ana-phone", role="agent"))
        cli_token, _row = do_create_api_token(
            s, Actor(tenant_id=api.a.tenant_id, role="admin"), ApiTokenCreate(name="connector", role="agent")
        )
    anon = api.anonymous()
    as_agent = anon.post("/api/contacts", json=body, headers={"Authorization": f"Bearer {agent_token}"})
    assert as_agent.status_code == 403, as_agent.text
    as_connector = anon.post("/api/contacts", json=body, headers={"Authorization": f"Bearer {cli_token}"})
    assert as_connector.status_code == 201, as_connector.text


def test_field_level_permissions_on_customers(api: Api) -> None:
    sup, agent = api.client("supervisor"), api.client("agent")
    created = sup.post("/api/customers", json={"name": "Marta", "segment": "premium", "value_tier": "alto"})
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    ok = agent.patch(f"/api/customers/{cid}", json={"name": "Marta Ruiz", "notes": "prefiere e-mail", "language": "en"})
    assert ok.status_code == 200 and ok.json()["notes"] == "prefiere e-mail", ok.text
    for field, value in (("segment", "empresas"), ("value_tier", "bajo"), ("lifetime_value", 9.0), ("owner", "ana")):
        resp = agent.patch(f"/api/customers/{cid}", json={field: value, "name": "X"})
        assert resp.status_code == 403, (field, resp.text)
        assert [e["field"] for e in resp.json()["errors"]] == [field]
    after = sup.get(f"/api/customers/{cid}").json()
    assert (after["name"], after["segment"], after["value_tier"]) == ("Marta Ruiz", "premium", "alto")  # unchanged
    assert agent.post("/api/customers", json={"name": "Nuevo", "segment": "premium"}).status_code == 403
    assert agent.post("/api/customers", json={"name": "Nuevo"}).status_code == 201
    assert sup.patch(f"/api/customers/{cid}", json={"segment": "empresas"}).status_code == 200
    # configurable per tenant: the admin reserves the name too and frees the segment
    settings = {"supervisor_only_customer_fields": ["name", "owner"]}
    assert api.client("supervisor").patch("/api/tenant/settings", json=settings).status_code == 403
    resp = api.client("admin").patch("/api/tenant/settings", json=settings)
    assert resp.status_code == 200 and resp.json()["supervisor_only_customer_fields"] == ["name", "owner"], resp.text
    assert agent.patch(f"/api/customers/{cid}", json={"segment": "particulares"}).status_code == 200
    assert agent.patch(f"/api/customers/{cid}", json={"name": "Otra"}).status_code == 403
    assert api.client("admin", api.b).get("/api/tenant/settings").json()["supervisor_only_customer_fields"] == [
        "lifetime_value",
        "owner",
        "segment",
        "value_tier",
    ]  # the other tenant keeps the default
    bad = api.client("admin").patch("/api/tenant/settings", json={"supervisor_only_customer_fields": ["shoe_size"]})
    assert bad.status_code == 422


def test_an_agent_cannot_tie_a_case_to_a_contact_it_may_not_see(api: Api) -> None:
    """Opening a case on a contact, or linking one, is seeing it: a contact of another agent's queue is as
    one that does not exist (422 'no contact', the same answer as a free id: nothing learnt)."""
    hidden = _contact(api, "atencion")  # luis serves cobros only
    luis = api.client("agent2")
    for resp in (
        luis.post("/api/cases", json={"subject": "x", "contact_id": hidden}),
        luis.post("/api/cases", json={"subject": "x", "contact_id": 999_999}),
    ):
        assert resp.status_code == 422 and resp.json()["errors"][0]["message"].startswith("no contact"), resp.text
    case = luis.post("/api/cases", json={"subject": "mine"}).json()["reference"]
    linked = luis.post(f"/api/cases/{case}/contacts", json={"contact_id": hidden})
    assert linked.status_code == 422, linked.text
    assert api.client("agent").post("/api/cases", json={"subject": "y", "contact_id": hidden}).status_code == 201
