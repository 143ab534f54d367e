"""Contact flows (flowlang 1): check a text, publish it as the next version, read, list, roll back, draw.

Reading needs a supervisor; checking, publishing and rolling back an admin. A flow with errors is refused
whole (422, each error with its line and column) and nothing is written.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from centralita.api.auth import AdminActor, ServiceDep, SupervisorActor
from centralita.api.openapi import problem_response
from centralita.core.errors import NotFound, Unavailable
from centralita.core.i18n import _
from centralita.core.vocabulary import Strict, Text
from centralita.flowrun.functions import python_functions
from centralita.flows.document import Checked, check_flow
from centralita.flows.graph import Arrow, Box, layout_parts, to_dot
from centralita.flowstore import actions, queries
from centralita.flowstore.actions import MAX_SOURCE_BYTES
from centralita.flowstore.drawing import DrawingError, render_svg
from centralita.prompts import library

router = APIRouter(tags=["contact flows"])
FLOW_ID = r"^[A-Za-z_][A-Za-z0-9_]{0,49}$"
VERSION_MAX = 2**31 - 1


class FlowSource(Strict):
    source: Annotated[Text, Field(max_length=MAX_SOURCE_BYTES)]
    name: Annotated[str, Field(min_length=1, max_length=200)] = "flow.yaml"


class FlowProblem(BaseModel):
    line: int
    column: int
    severity: str
    node: str | None
    message: str


class FlowCheck(BaseModel):
    code: str | None
    errors: list[FlowProblem]
    warnings: list[FlowProblem]


class FlowPublished(BaseModel):
    code: str
    version: int
    changed: bool
    warnings: list[FlowProblem]


class FlowGraph(BaseModel):
    code: str
    version: int
    start: str
    nodes: list[Box]
    edges: list[Arrow]


class FlowRollback(Strict):
    version: Annotated[int, Field(ge=1, le=VERSION_MAX)]


def _problems(checked: Checked, severity: str) -> list[FlowProblem]:
    return [
        FlowProblem(line=d.line, column=d.column, severity=d.severity, node=d.node, message=d.message)
        for d in checked.diagnostics
        if d.severity == severity
    ]


@router.post("/flows/check")
def check(body: FlowSource, actor: AdminActor, svc: ServiceDep) -> FlowCheck:
    """Every problem of a flow's text against this contact center (its queues, schedules, flows, prompts
    and functions), all at once; nothing is written."""
    with svc.db.read() as s:
        functions = python_functions(svc.settings.function_modules)
        checked = actions.check_for_tenant(s, actor.tenant_id, body.source, body.name, functions)
    code = checked.flow.id if checked.flow is not None else None
    return FlowCheck(code=code, errors=_problems(checked, "error"), warnings=_problems(checked, "warning"))


@router.post("/flows", status_code=201, responses={200: {"description": "That text was already current"}})
def publish(body: FlowSource, actor: AdminActor, svc: ServiceDep, response: Response) -> FlowPublished:
    """Publish a flow's text as its next version (201); the same text as the current version changes
    nothing (200). New contacts run the current version; contacts in progress keep theirs."""
    with svc.db.write() as s:
        functions = python_functions(svc.settings.function_modules)
        published = actions.do_publish_flow(s, actor, body.source, body.name, functions)
    if not published.changed:
        response.status_code = 200
    return FlowPublished(
        code=published.code,
        version=published.version,
        changed=published.changed,
        warnings=_problems(published.checked, "warning"),
    )


@router.get("/flows")
def list_flows(actor: SupervisorActor, svc: ServiceDep) -> list[queries.FlowSummary]:
    with svc.db.read() as s:
        return queries.list_flows(s, actor.tenant_id)


@router.get("/flows/{code}", responses={404: problem_response("No flow by that id, or not at that version")})
def show(
    code: Annotated[str, Path(pattern=FLOW_ID)],
    actor: SupervisorActor,
    svc: ServiceDep,
    version: Annotated[int | None, Query(ge=1, le=VERSION_MAX)] = None,
) -> queries.FlowText:
    with svc.db.read() as s:
        found = queries.flow_text(s, actor.tenant_id, code, version)
    if found is None:
        raise NotFound(_("no flow {code!r} at that version", code=code))
    return found


@router.get("/flows/{code}/versions", responses={404: problem_response("No flow by that id")})
def versions(
    code: Annotated[str, Path(pattern=FLOW_ID)], actor: SupervisorActor, svc: ServiceDep
) -> list[queries.VersionInfo]:
    with svc.db.read() as s:
        found = queries.versions_of(s, actor.tenant_id, code)
    if not found:
        raise NotFound(_("no flow is called {id!r}", id=code))
    return found


@router.post("/flows/{code}/rollback", responses={404: problem_response("No flow or version")})
def rollback(
    code: Annotated[str, Path(pattern=FLOW_ID)], body: FlowRollback, actor: AdminActor, svc: ServiceDep
) -> queries.FlowSummary:
    """Make another published version current again; new contacts run it."""
    with svc.db.write() as s:
        actions.do_rollback_flow(s, actor, code, body.version)
    with svc.db.read() as s:
        [summary] = [f for f in queries.list_flows(s, actor.tenant_id) if f.code == code]
    return summary


@router.get(
    "/flows/{code}/graph.svg",
    response_class=Response,
    responses={
        200: {"content": {"image/svg+xml": {}}, "description": "The flow drawn by Graphviz"},
        404: problem_response("No flow by that id, or not at that version"),
        503: problem_response("Graphviz is not installed on the server, or failed"),
    },
)
def graph(
    code: Annotated[str, Path(pattern=FLOW_ID)],
    actor: SupervisorActor,
    svc: ServiceDep,
    version: Annotated[int | None, Query(ge=1, le=VERSION_MAX)] = None,
) -> Response:
    """The flow as the admin screens show it: nodes, outcomes as labelled arrows, unreachable nodes marked."""
    with svc.db.read() as s:
        found = queries.flow_text(s, actor.tenant_id, code, version)
    flow = check_flow(found.source, code).flow if found is not None else None
    if flow is None:
        raise NotFound(_("no flow {code!r} at that version", code=code))
    try:
        svg = render_svg(to_dot(flow, title=f"{code} v{found.version}" if found else code), timeout_s=20)
    except DrawingError as exc:
        raise Unavailable(exc.message) from None
    return Response(svg, media_type="image/svg+xml")


@router.get("/flows/{code}/graph", responses={404: problem_response("No flow by that id, or not at that version")})
def graph_parts(
    code: Annotated[str, Path(pattern=FLOW_ID)],
    actor: SupervisorActor,
    svc: ServiceDep,
    version: Annotated[int | None, Query(ge=1, le=VERSION_MAX)] = None,
) -> FlowGraph:
    """The flow's nodes and arrows as data (what `graph.svg` draws), for a page to draw itself: each node
    with its type, a one-line detail, start/terminal/reachable; each arrow with its labels and kind."""
    with svc.db.read() as s:
        found = queries.flow_text(s, actor.tenant_id, code, version)
    flow = check_flow(found.source, code).flow if found is not None else None
    if found is None or flow is None:
        raise NotFound(_("no flow {code!r} at that version", code=code))
    boxes, arrows = layout_parts(flow)
    return FlowGraph(code=code, version=found.version, start=flow.start, nodes=boxes, edges=arrows)


# --- the prompt library ---------------------------------------------------------------------------------


class PromptPublic(BaseModel):
    code: str
    es: str | None = None
    en: str | None = None


@router.get("/prompts")
def list_prompts(actor: SupervisorActor, svc: ServiceDep) -> list[PromptPublic]:
    """The prompt library: each prompt's text in Spanish and English."""
    with svc.db.read() as s:
        return [PromptPublic(code=p.code, **p.texts) for p in library.list_prompts(s, actor.tenant_id)]


@router.put("/prompts/{code}")
def save_prompt(
    code: Annotated[str, Path(pattern=library.PROMPT_ID)], body: library.PromptTexts, actor: AdminActor, svc: ServiceDep
) -> PromptPublic:
    """Create or change a library prompt (at least one language); the same texts change nothing."""
    data = library.PromptCreate(code=code, es=body.es, en=body.en)
    with svc.db.write() as s:
        row = library.do_save_prompt(s, actor, data)
        return PromptPublic(code=row.code, **row.texts)
