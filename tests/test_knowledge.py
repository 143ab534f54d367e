"""The knowledge base and the agent scripts: actions and their events, search (ranking, accents), a
contact's script with its placeholders filled in, access, hostile input, configuration as code."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pytest
from sqlalchemy import select

from centralita.configuration.document import check
from centralita.configuration.export import export_config
from centralita.configuration.plan import do_apply_config
from centralita.contacts.history import RecordedContact, do_record_contacts
from centralita.core.errors import Conflict, InvalidInput
from centralita.events.log import read_events
from centralita.knowledge import queries
from centralita.knowledge.actions import do_delete_article, do_put_article, do_put_script
from centralita.knowledge.schemas import ArticleCreate, ScriptCreate
from centralita.queues.actions import do_create_reason, do_create_reason_group
from centralita.queues.schemas import ReasonCreate, ReasonGroupCreate
from centralita.service import Service
from centralita.store import tables as t
from tests.conftest import Api
from tests.factories import World, make_world

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)

ARTICLES: list[dict[str, Any]] = [
    {
        "code": "bloqueo",
        "title": "Bloqueo de tarjeta",
        "body": "Para **bloquear** una tarjeta robada, verifique la identidad del cliente y pulse Bloquear.",
        "tags": ["tarjetas", "seguridad"],
        "reasons": ["bloqueo_tarjeta"],
    },
    {
        "code": "pin",
        "title": "Recordatorio del PIN",
        "body": "El PIN nunca se dice por teléfono. Si la tarjeta está bloqueada por PIN, se desbloquea en el cajero.",
        "tags": ["tarjetas"],
        "reasons": ["pin"],
    },
    {
        "code": "horario",
        "title": "Horario de atención",
        "body": "Atendemos de lunes a viernes de 8:00 a 20:00. " + "Texto de relleno. " * 40 + "Los sábados, cerrado.",
        "tags": ["general"],
    },
]
SCRIPT: dict[str, Any] = {
    "code": "guion_bloqueo",
    "name": "Bloqueo de tarjeta",
    "reasons": ["bloqueo_tarjeta"],
    "steps": [
        {"title": "Saludo", "text": "Buenos días, {customer.name}. Le atiendo por {contact.reason}."},
        {
            "title": "Datos",
            "text": "Cliente {customer.segment} ({customer.value_tier}); caso {collected.case_ref}; "
            "{contact.sub_reason}.",
        },
    ],
}


def _reasons(service: Service, world: World) -> None:
    with service.db.write() as s:
        do_create_reason_group(s, world.admin, ReasonGroupCreate(code="tarjetas", name_es="Tarjetas", name_en="Cards"))
        for code, name, english in (
            ("bloqueo_tarjeta", "Bloqueo de tarjeta", "Card block"),
            ("pin", "Recordatorio de PIN", "PIN reminder"),
        ):
            do_create_reason(s, world.admin, ReasonCreate(code=code, group="tarjetas", name_es=name, name_en=english))
        do_create_reason(
            s,
            world.admin,
            ReasonCreate(code="bloqueo_tarjeta.robo", group="tarjetas", parent="bloqueo_tarjeta", name_es="Robo",
                         name_en="Theft"),
        )  # fmt: skip


def _load(service: Service, world: World) -> None:
    _reasons(service, world)
    with service.db.write() as s:
        for article in ARTICLES:
            do_put_article(s, world.admin, ArticleCreate.model_validate(article))
        do_put_script(s, world.admin, ScriptCreate.model_validate(SCRIPT))


def _contact(service: Service, world: World, agent: str, queue: str, **kw: Any) -> int:
    with service.db.write() as s:
        (row,) = do_record_contacts(
            s,
            world.admin,
            [
                RecordedContact(
                    channel="voice", queue=queue, queues=[queue], agent=agent, initiation_ts=T0,
                    agent_connected_ts=T0 + dt.timedelta(seconds=20), agent_end_ts=T0 + dt.timedelta(seconds=190),
                    disconnect_ts=T0 + dt.timedelta(seconds=200), queue_outcome="answered", enqueue_ts=T0,
                    dequeue_ts=T0 + dt.timedelta(seconds=20),
                    **kw,
                )
            ],
        )  # fmt: skip
        return row.id


# --- actions ----------------------------------------------------------------------------------------------


def test_put_and_delete_write_one_event_each_and_the_same_put_none(service: Service, api: Api) -> None:
    _reasons(service, api.a)
    data = ArticleCreate.model_validate(ARTICLES[0])
    with service.db.write() as s:
        do_put_article(s, api.a.admin, data)
    with service.db.write() as s:
        do_put_article(s, api.a.admin, data)  # unchanged: no event
    with service.db.write() as s:
        do_put_article(s, api.a.admin, data.model_copy(update={"title": "Bloquear una tarjeta"}))
    with service.db.write() as s:
        row = s.scalar(select(t.KbArticle).where(t.KbArticle.tenant_id == api.a.tenant_id))
        assert row is not None and row.title == "Bloquear una tarjeta"
        do_delete_article(s, api.a.admin, row)
    with service.db.read() as s:
        events = [(e.type, e.data) for e in read_events(s, api.a.tenant_id) if e.type.startswith("kb_article")]
    assert events == [
        ("kb_article.saved", {"code": "bloqueo", "created": True, "active": True, "reasons": ["bloqueo_tarjeta"]}),
        ("kb_article.saved", {"code": "bloqueo", "created": False, "active": True, "reasons": ["bloqueo_tarjeta"]}),
        ("kb_article.deleted", {"code": "bloqueo"}),
    ]


def test_unknown_reason_and_placeholder_name_their_field(api: Api) -> None:
    _reasons(api.service, api.a)
    admin = api.client("admin")
    resp = admin.put("/api/kb/articles/x", json={"title": "X", "body": "x", "reasons": ["nada"]})
    assert resp.status_code == 422
    assert [e["field"] for e in resp.json()["errors"]] == ["reasons.0"]
    bad = {**SCRIPT, "steps": [SCRIPT["steps"][0], {"title": "Mal", "text": "Hola {customer.password}"}]}
    del bad["code"]
    resp = admin.put("/api/scripts/x", json=bad)
    assert resp.status_code == 422
    assert [e["field"] for e in resp.json()["errors"]] == ["steps.1.text"]
    assert "customer.password" in resp.json()["errors"][0]["message"]
    # a reason shows one active script
    ok = {k: v for k, v in SCRIPT.items() if k != "code"}
    assert admin.put("/api/scripts/uno", json=ok).status_code == 200
    resp = admin.put("/api/scripts/dos", json=ok)
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "reasons.0"
    assert admin.put("/api/scripts/dos", json={**ok, "active": False}).status_code == 200
    # another tenant's reasons are unknown here
    assert api.client("admin", api.b).put("/api/scripts/uno", json=ok).status_code == 422


# --- search -----------------------------------------------------------------------------------------------


def test_search_ignores_case_and_accents_and_ranks_title_hits_first(service: Service, api: Api) -> None:
    _load(service, api.a)
    agent = api.client("agent")
    hits = agent.get("/api/kb/articles", params={"q": "BLOQUE"}).json()
    assert [h["code"] for h in hits] == ["bloqueo", "pin"]  # title first, then the body's "bloqueada"
    hits = agent.get("/api/kb/articles", params={"q": "telefono"}).json()  # "teléfono" in the body
    assert [h["code"] for h in hits] == ["pin"]
    assert "teléfono" in hits[0]["excerpt"]
    assert [h["code"] for h in agent.get("/api/kb/articles", params={"q": "TELÉFONO"}).json()] == ["pin"]
    assert set(hits[0]) == {"code", "title", "excerpt", "tags", "reasons", "updated_at"}
    hits = agent.get("/api/kb/articles", params={"q": "atención sábados"}).json()  # every word, anywhere
    assert [h["code"] for h in hits] == ["horario"]
    excerpt = hits[0]["excerpt"]
    assert "sábados" in excerpt and excerpt.startswith("…") and len(excerpt) <= 210
    assert agent.get("/api/kb/articles", params={"q": "hipoteca"}).json() == []
    assert [h["code"] for h in agent.get("/api/kb/articles", params={"q": "tarjetas"}).json()] == ["bloqueo", "pin"]
    # by reason (a sub-reason finds its reason's articles), and all of them without q
    by_reason = agent.get("/api/kb/articles", params={"reason": "bloqueo_tarjeta.robo"}).json()
    assert [h["code"] for h in by_reason] == ["bloqueo"]
    assert len(agent.get("/api/kb/articles", params={"limit": 2}).json()) == 2
    full = agent.get("/api/kb/articles/bloqueo").json()
    assert full["body"] == ARTICLES[0]["body"] and "**" not in hits[0]["excerpt"]
    assert queries.normalize("¿Qué PASÓ, Ñandú?") == "¿que paso, nandu?"


def test_inactive_articles_are_hidden_from_agents(service: Service, api: Api) -> None:
    _load(service, api.a)
    sup = api.client("supervisor")
    body = {k: v for k, v in ARTICLES[1].items() if k != "code"}
    assert sup.put("/api/kb/articles/pin", json={**body, "active": False}).json()["active"] is False
    agent = api.client("agent")
    assert agent.get("/api/kb/articles/pin").status_code == 404
    assert [h["code"] for h in agent.get("/api/kb/articles", params={"q": "pin"}).json()] == []
    assert sup.get("/api/kb/articles/pin").status_code == 200
    assert sup.delete("/api/kb/articles/pin").status_code == 204
    assert sup.get("/api/kb/articles/pin").status_code == 404


# --- a contact's script -----------------------------------------------------------------------------------


def test_contact_script_fills_in_the_customer_and_hides_it_from_other_agents(service: Service, api: Api) -> None:
    _load(service, api.a)
    customer = api.client("supervisor").post(
        "/api/customers", json={"name": "María <b>López</b> {contact.id}", "segment": "premium"}
    )
    assert customer.status_code == 201, customer.text
    contact = _contact(
        service, api.a, "ana", "atencion", reason="bloqueo_tarjeta", sub_reason="bloqueo_tarjeta.robo",
        customer_id=customer.json()["id"],
    )  # fmt: skip
    resp = api.client("agent").get(f"/api/contacts/{contact}/script")
    assert resp.status_code == 200, resp.text
    assert resp.json() == {
        "script": {"code": "guion_bloqueo", "name": "Bloqueo de tarjeta"},
        "steps": [
            # plain text as stored: the customer's data is never markup nor a placeholder
            {
                "title": "Saludo",
                "text": "Buenos días, María <b>López</b> {contact.id}. Le atiendo por Bloqueo de tarjeta.",
            },
            {"title": "Datos", "text": "Cliente premium (—); caso —; Robo."},
        ],
    }
    articles = api.client("agent").get(f"/api/contacts/{contact}/articles").json()
    assert [a["code"] for a in articles] == ["bloqueo"]
    # luis serves another queue and never had it; another tenant does not find it
    assert api.client("agent2").get(f"/api/contacts/{contact}/script").status_code == 403
    assert api.client("agent2").get(f"/api/contacts/{contact}/articles").status_code == 403
    assert api.client("admin", api.b).get(f"/api/contacts/{contact}/script").status_code == 404


def test_contact_without_reason_uses_what_its_flow_collected(service: Service, api: Api) -> None:
    _load(service, api.a)
    contact = _contact(service, api.a, "ana", "atencion", segment="pyme")
    agent = api.client("agent")
    assert agent.get(f"/api/contacts/{contact}/script").json() == {"script": None, "steps": []}
    assert agent.get(f"/api/contacts/{contact}/articles").json() == []
    with service.db.write() as s:
        row = s.get(t.Contact, contact)
        assert row is not None
        row.collected = {"reason": "bloqueo_tarjeta", "case": {"id": 1, "reference": "C-2026-000123"}}
    steps = agent.get(f"/api/contacts/{contact}/script").json()["steps"]
    assert steps[0]["text"] == "Buenos días, —. Le atiendo por Bloqueo de tarjeta."
    assert steps[1]["text"] == "Cliente pyme (—); caso C-2026-000123; —."


def test_fill_is_one_pass() -> None:
    values = {"customer.name": "{contact.id}", "contact.id": "7"}
    assert queries.fill("{customer.name} {contact.id} {collected.x} {}", values) == "{contact.id} 7 — {}"


# --- access and hostile input -----------------------------------------------------------------------------


def test_roles(service: Service, api: Api) -> None:
    _load(service, api.a)
    article = {k: v for k, v in ARTICLES[2].items() if k != "code"}
    script = {k: v for k, v in SCRIPT.items() if k != "code"}
    agent, sup = api.client("agent"), api.client("supervisor")
    assert agent.put("/api/kb/articles/nuevo", json=article).status_code == 403
    assert agent.delete("/api/kb/articles/horario").status_code == 403
    assert agent.get("/api/scripts").status_code == 403
    assert sup.put("/api/kb/articles/nuevo", json=article).status_code == 200
    assert sup.put("/api/scripts/guion_bloqueo", json=script).status_code == 403
    assert sup.get("/api/scripts").json()[0]["code"] == "guion_bloqueo"
    assert api.client("admin").delete("/api/scripts/guion_bloqueo").status_code == 204
    # another tenant's codes are not found
    other = api.client("admin", api.b)
    assert other.get("/api/kb/articles/horario").status_code == 404
    assert other.delete("/api/kb/articles/horario").status_code == 404
    assert other.get("/api/kb/articles", params={"q": "horario"}).json() == []


@pytest.mark.parametrize(
    "body",
    [
        {"title": "Nul\x00", "body": "x"},
        {"title": "X", "body": "a\x00b"},
        {"title": "X", "body": "x" * 20_001},
        {"title": "X", "body": "x", "tags": [[[["deep"]]]]},
        {"title": "X", "body": "x", "tags": {"a": {"b": {"c": 1}}}},
        {"title": "X", "body": "x", "language": "fr"},
        {"title": "X", "body": "x", "extra": 1},
        {"title": "X", "body": "x", "reasons": ["Mayúsculas"]},
    ],
)
def test_hostile_article_bodies_are_refused(api: Api, body: dict[str, Any]) -> None:
    resp = api.client("admin").put("/api/kb/articles/x", json=body)
    assert resp.status_code == 422, resp.text
    assert api.client("admin").get("/api/kb/articles/x").status_code == 404


def test_hostile_queries_and_paths(api: Api) -> None:
    admin = api.client("admin")
    assert admin.get("/api/kb/articles", params={"q": "a\x00"}).status_code == 422
    assert admin.get("/api/kb/articles", params={"q": "x" * 201}).status_code == 422
    assert admin.get("/api/kb/articles", params={"limit": 0}).status_code == 422
    assert admin.get("/api/kb/articles/..%2Fetc").status_code in (404, 422)
    assert admin.put("/api/scripts/x", json={"name": "X", "steps": []}).status_code == 422
    deep: Any = "x"
    for _i in range(200):
        deep = [deep]
    assert admin.put("/api/scripts/x", json={"name": "X", "steps": deep}).status_code == 422


# --- configuration as code --------------------------------------------------------------------------------

CONFIG = """\
version: 1
reason_groups:
  - {code: tarjetas, name_es: Tarjetas, name_en: Cards}
reasons:
  - {code: bloqueo_tarjeta, group: tarjetas, name_es: Bloqueo de tarjeta, name_en: Card block}
knowledge_base:
  - code: bloqueo
    title: Bloqueo de tarjeta
    body: |
      # Bloqueo
      Verifique la identidad y bloquee la tarjeta.
    tags: [tarjetas]
    reasons: [bloqueo_tarjeta]
  - {code: horario, title: Horario, body: De 8 a 20.}
scripts:
  - code: guion_bloqueo
    name: Bloqueo
    reasons: [bloqueo_tarjeta]
    steps:
      - {title: Saludo, text: "Hola, {customer.name}."}
"""


def test_config_round_trip_and_prune(service: Service, api: Api) -> None:
    world = api.a
    with service.db.write() as s:
        plan = do_apply_config(s, world.admin, CONFIG, "kb.yaml")
    assert plan.summary()["knowledge_base"]["create"] == 2 and plan.summary()["scripts"]["create"] == 1
    with service.db.read() as s:
        exported = export_config(s, world.tenant_id)
    assert "knowledge_base:" in exported and "{customer.name}" in exported
    assert "    body: |\n      # Bloqueo\n      Verifique" in exported  # Markdown stays readable
    with service.db.write() as s:
        again = do_apply_config(s, world.admin, exported, "export.yaml")
        assert not again.changed
        assert not do_apply_config(s, world.admin, CONFIG, "kb.yaml").changed
    pruned = CONFIG.split("  - {code: horario")[0] + "scripts: []\n"
    with service.db.write() as s:
        plan = do_apply_config(s, world.admin, pruned, "kb.yaml", prune=True)
    assert {
        (st.kind, st.code)
        for st in plan.steps
        if st.action == "deactivate" and st.kind in ("knowledge_base", "scripts")
    } == {
        ("knowledge_base", "horario"),
        ("scripts", "guion_bloqueo"),
    }
    with service.db.read() as s:
        row = s.scalar(
            select(t.KbArticle).where(t.KbArticle.tenant_id == world.tenant_id, t.KbArticle.code == "horario")
        )
        assert row is not None and not row.active


def test_config_check_names_lines() -> None:
    text = CONFIG.replace("reasons: [bloqueo_tarjeta]\n    steps", "reasons: [nada]\n    steps").replace(
        "Hola, {customer.name}.", "Hola, {cliente.nombre}."
    )
    checked = check(text, "kb.yaml")
    found = {(".".join(map(str, e.loc)), e.line) for e in checked.errors}
    assert ("scripts.0.reasons.0", 18) in found
    assert ("scripts.0.steps.0.text", 20) in found


def test_config_apply_refuses_a_second_script_for_a_reason(service: Service, api: Api) -> None:
    text = CONFIG + "  - code: otro\n    name: Otro\n    reasons: [bloqueo_tarjeta]\n    steps: [{title: A, text: B}]\n"
    with service.db.write() as s, pytest.raises(InvalidInput) as err:
        do_apply_config(s, api.a.admin, text, "kb.yaml")
    assert [(".".join(map(str, e.loc)), e.line) for e in err.value.errors] == [("scripts.1.reasons.0", 23)]


def test_openapi_declares_the_problems(api: Api) -> None:
    paths = api.client("admin").get("/openapi.json").json()["paths"]
    put = paths["/api/kb/articles/{code}"]["put"]["responses"]
    assert {"403", "404", "409", "422"} <= set(put)
    script = paths["/api/contacts/{contact_id}/script"]["get"]["responses"]
    assert {"403", "404", "422"} <= set(script)
    assert set(script["200"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1:]) == {"ContactScript"}
    assert {"/api/kb/articles", "/api/scripts", "/api/scripts/{code}", "/api/contacts/{contact_id}/articles"} <= set(
        paths
    )


def test_an_english_script_says_the_reason_in_english(service: Service, api: Api) -> None:
    _reasons(service, api.a)
    english = {**SCRIPT, "code": "card_block", "language": "en", "steps": [{"title": "Hi", "text": "{contact.reason}"}]}
    with service.db.write() as s:
        do_put_script(s, api.a.admin, ScriptCreate.model_validate(english))
    contact = _contact(service, api.a, "ana", "atencion", reason="bloqueo_tarjeta")
    assert api.client("agent").get(f"/api/contacts/{contact}/script").json()["steps"] == [
        {"title": "Hi", "text": "Card block"}
    ]


def test_two_puts_creating_one_code_at_once_are_a_conflict(pg_service: Service) -> None:
    world = make_world(pg_service, "norte")
    data = ArticleCreate(code="doble", title="Doble", body="x")
    outcome: list[BaseException | None] = []

    def second() -> None:
        try:
            with pg_service.db.write() as s:
                do_put_article(s, world.admin, data)
            outcome.append(None)
        except Conflict as exc:
            outcome.append(exc)

    with pg_service.db.write() as s:
        do_put_article(s, world.admin, data)
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)  # the second waits on the first's new row
    thread.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], Conflict)


def test_excerpts_are_plain_text() -> None:
    body = "# Título\n\nVer [la guía](https://x.example/a_b) y **más** _cosas_: 3*4 snake_case `code`\n- uno\n1. dos"
    assert queries.excerpt(body, ["guia"]) == "Título Ver la guía y más cosas: 3*4 snake_case code uno dos"
    long = "Inicio. " + "relleno " * 60 + "la palabra clave está aquí " + "final " * 60
    cut = queries.excerpt(long, ["clave"])
    assert cut.startswith("…") and cut.endswith("…") and "clave" in cut and len(cut) <= 202
    assert queries.excerpt(long, ["nada"]).startswith("Inicio. relleno")
