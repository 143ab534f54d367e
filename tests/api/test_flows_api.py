"""The contact-flow API: check, publish (201 new version, 200 unchanged, 422 with every error at its line),
read, versions, rollback; roles checked on every route; another contact center's flows are not found."""

from __future__ import annotations

from tests.conftest import Api
from tests.flows.test_flowstore import FLOW


def test_publish_read_and_roll_back(api: Api) -> None:
    admin = api.client("admin")
    resp = admin.post("/api/flows", json={"source": FLOW, "name": "entrada.yaml"})
    assert resp.status_code == 201, resp.text
    assert resp.json() == {"code": "entrada", "version": 1, "changed": True, "warnings": []}
    again = admin.post("/api/flows", json={"source": FLOW})
    assert (again.status_code, again.json()["changed"]) == (200, False)
    newer = FLOW.replace("tts:Hola", "tts:Buenas")
    assert admin.post("/api/flows", json={"source": newer}).json()["version"] == 2
    supervisor = api.client("supervisor")
    [listed] = supervisor.get("/api/flows").json()
    assert (listed["code"], listed["current_version"], listed["versions"]) == ("entrada", 2, 2)
    assert supervisor.get("/api/flows/entrada").json()["source"] == newer
    old = supervisor.get("/api/flows/entrada", params={"version": 1}).json()
    assert (old["source"], old["current"]) == (FLOW, False)
    assert [v["version"] for v in supervisor.get("/api/flows/entrada/versions").json()] == [1, 2]
    rolled = admin.post("/api/flows/entrada/rollback", json={"version": 1})
    assert rolled.status_code == 200 and rolled.json()["current_version"] == 1
    assert supervisor.get("/api/flows/entrada").json()["source"] == FLOW
    assert admin.post("/api/flows/entrada/rollback", json={"version": 9}).status_code == 404
    assert supervisor.get("/api/flows/entrada", params={"version": 9}).status_code == 404


def test_a_flow_with_errors_is_422_with_every_error_at_its_place(api: Api) -> None:
    admin = api.client("admin")
    bad = FLOW.replace("queue: atencion", "queue: nadie").replace("seconds: 30", "seconds: -1")
    resp = admin.post("/api/flows", json={"source": bad, "name": "entrada.yaml"}, headers={"Accept-Language": "en"})
    assert resp.status_code == 422
    errors = resp.json()["errors"]
    assert [(e["line"], e["message"]) for e in errors] == [
        (6, "node 'cola': no queue is called 'nadie'"),
        (7, "node 'espera': must be a number from 0 to 28800"),
    ]
    assert all(e["source"] == "entrada.yaml" and e["column"] > 1 for e in errors)
    assert api.client("supervisor").get("/api/flows").json() == []  # nothing written
    checked = admin.post("/api/flows/check", json={"source": bad}, headers={"Accept-Language": "en"}).json()
    assert checked["code"] is None and [e["line"] for e in checked["errors"]] == [6, 7]
    ok = admin.post("/api/flows/check", json={"source": FLOW}).json()
    assert ok == {"code": "entrada", "errors": [], "warnings": []}


def test_roles_and_tenants(api: Api) -> None:
    agent, supervisor = api.client("agent"), api.client("supervisor")
    assert agent.get("/api/flows").status_code == 403
    assert supervisor.post("/api/flows", json={"source": FLOW}).status_code == 403
    assert supervisor.post("/api/flows/check", json={"source": FLOW}).status_code == 403
    assert supervisor.post("/api/flows/entrada/rollback", json={"version": 1}).status_code == 403
    assert api.client("admin").post("/api/flows", json={"source": FLOW}).status_code == 201
    other = api.client("supervisor", api.b)
    assert other.get("/api/flows").json() == []
    assert other.get("/api/flows/entrada").status_code == 404
    assert api.client("admin", api.b).post("/api/flows/entrada/rollback", json={"version": 1}).status_code == 404


def test_hostile_input_is_a_4xx(api: Api) -> None:
    admin = api.client("admin")
    for body in (
        {"source": "flowlang: 1\u0000"},
        {"source": FLOW, "extra": 1},
        {"source": 5},
        {"source": FLOW, "name": ""},
        {"source": "[" * 10_000},
        {
            "source": "a: &a [x,x,x,x,x,x,x,x,x,x]\n"
            + "".join(f"b{n}: &b{n} [{', '.join(['*a' if n == 0 else f'*b{n - 1}'] * 10)}]\n" for n in range(6))
        },
    ):
        resp = admin.post("/api/flows", json=body)
        assert 400 <= resp.status_code < 500, (body if len(str(body)) < 200 else "…", resp.status_code, resp.text[:300])
    assert admin.get("/api/flows/no-valid-id!").status_code == 422
    assert admin.get("/api/flows/entrada", params={"version": 2**40}).status_code == 422
    assert admin.post("/api/flows/entrada/rollback", json={"version": 0}).status_code == 422


def test_the_graph_as_svg(api: Api) -> None:
    import xml.etree.ElementTree as ET

    assert api.client("admin").post("/api/flows", json={"source": FLOW}).status_code == 201
    supervisor = api.client("supervisor")
    resp = supervisor.get("/api/flows/entrada/graph.svg")
    assert resp.status_code == 200 and resp.headers["content-type"] == "image/svg+xml"
    svg = ET.fromstring(resp.content)
    nodes = [g for g in svg.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "node"]
    assert len(nodes) == 3
    assert supervisor.get("/api/flows/entrada/graph.svg", params={"version": 2}).status_code == 404
    assert api.client("agent").get("/api/flows/entrada/graph.svg").status_code == 403
    assert api.client("supervisor", api.b).get("/api/flows/entrada/graph.svg").status_code == 404


def test_the_graph_as_data(api: Api) -> None:
    assert api.client("admin").post("/api/flows", json={"source": FLOW}).status_code == 201
    supervisor = api.client("supervisor")
    resp = supervisor.get("/api/flows/entrada/graph")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["code"], body["version"], body["start"]) == ("entrada", 1, "hola")
    assert [(n["id"], n["type"], n["start"], n["reachable"]) for n in body["nodes"]] == [
        ("hola", "play", True, True),
        ("cola", "queue", False, True),
        ("espera", "wait", False, True),
    ]
    assert body["nodes"][0]["detail"] == '"Hola"' and body["nodes"][1]["detail"] == "atencion"
    assert [(e["source"], e["target"], e["kind"], e["labels"]) for e in body["edges"]] == [
        ("hola", "cola", "next", []),
        ("cola", "espera", "next", []),
        ("espera", "espera", "next", []),
    ]
    assert supervisor.get("/api/flows/entrada/graph", params={"version": 2}).status_code == 404
    assert api.client("agent").get("/api/flows/entrada/graph").status_code == 403
    assert api.client("supervisor", api.b).get("/api/flows/entrada/graph").status_code == 404


def test_publishing_checks_the_functions_and_prompts_a_flow_names(api: Api) -> None:
    admin = api.client("admin")
    flow = FLOW.replace('"tts:Hola"', "saludo.inicio")
    resp = admin.post("/api/flows", json={"source": flow, "name": "entrada.yaml"}, headers={"Accept-Language": "en"})
    assert resp.status_code == 422
    assert [e["message"] for e in resp.json()["errors"]] == ["node 'hola': no prompt is called 'saludo.inicio'"]
    invoking = FLOW.replace(
        "hola: {type: play",
        "llamar: {type: invoke, function: banco.nada, on: {error: hola}, next: hola}\n  hola: {type: play",
    ).replace("start: hola", "start: llamar")
    resp = admin.post("/api/flows", json={"source": invoking}, headers={"Accept-Language": "en"})
    assert resp.status_code == 422
    assert [e["message"] for e in resp.json()["errors"]] == ["node 'llamar': no function is registered as 'banco.nada'"]
    known = invoking.replace("banco.nada", "banco.saldo")  # the demo bank's, registered by default
    assert admin.post("/api/flows", json={"source": known}).status_code == 201


def test_the_prompt_library_over_the_api(api: Api) -> None:
    admin, supervisor = api.client("admin"), api.client("supervisor")
    resp = admin.put("/api/prompts/banco.hola", json={"es": "Hola.", "en": "Hello."})
    assert resp.status_code == 200, resp.text
    assert supervisor.get("/api/prompts").json() == [{"code": "banco.hola", "es": "Hola.", "en": "Hello."}]
    assert supervisor.put("/api/prompts/banco.hola", json={"es": "x"}).status_code == 403
    assert api.client("agent").get("/api/prompts").status_code == 403
    bad = admin.put("/api/prompts/banco.hola", json={})
    assert bad.status_code == 422
    assert admin.put("/api/prompts/banco.hola", json={"es": "a\x00b"}).status_code == 422
    assert admin.put("/api/prompts/banco.hola", json={"es": "x" * 2001}).status_code == 422
    assert admin.put("/api/prompts/9 mal", json={"es": "x"}).status_code in (404, 422)
    assert api.client("supervisor", api.b).get("/api/prompts").json() == []  # another contact center's
    flow = FLOW.replace('"tts:Hola"', "banco.hola")
    assert admin.post("/api/flows", json={"source": flow}).status_code == 201  # rule 8: now it exists
