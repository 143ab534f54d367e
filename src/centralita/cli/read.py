"""Read commands: customers, agents, queues, reasons, cases, contacts, events. All take --json.

Tables show what a person reads (labels in the current language, local times, `phone +34…`) and keep to
the terminal's width (cli/tables.py); `--json` prints the records as the API gives them, codes and all.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from centralita.agents.queries import agent_public, list_agents
from centralita.agents.schemas import AgentPublic
from centralita.cli._common import (
    JsonOption,
    TenantOption,
    cell,
    column_label,
    console,
    ctx_obj,
    err_console,
    fail_on_error,
    print_json,
    print_record,
    print_table,
    resolve_tenant,
)
from centralita.cli.labels import Kind, choices, code_of, label, yes_no
from centralita.cli.tables import Col, keep
from centralita.contacts import queries as cq
from centralita.contacts.schemas import ContactPublic
from centralita.core.i18n import _, language
from centralita.crm import queries as crm
from centralita.crm.schemas import CasePublic, ContactSummary, CustomerPublic, IdentityPublic
from centralita.events.log import read_events
from centralita.queues import queries as qq
from centralita.queues.schemas import HoursPublic, QueuePublic
from centralita.store import lookup as rows_by_code
from centralita.store import tables as t


def register(app: typer.Typer) -> None:
    customers = typer.Typer(help=_("Customers and the customer 360."), no_args_is_help=True)
    customers.command("list", help=_("List customers (filters: --q, --segment)."))(customers_list)
    customers.command("show", help=_("Show one customer with identities."))(customers_show)
    customers.command("lookup", help=_("Screen pop: find a customer by phone, e-mail or other identity."))(lookup)
    app.add_typer(customers, name="customers")
    for name, fn, text in (
        ("agents", agents_cmd, _("List agents with skills, queues and state.")),
        ("queues", queues_cmd, _("List queues.")),
        ("reasons", reasons_cmd, _("List the contact-reason taxonomy.")),
        ("hours", hours_cmd, _("List hours calendars and whether each is open now.")),
        ("cases", cases_cmd, _("List cases (filter: --status).")),
        ("contacts", contacts_cmd, _("List recent contacts (filters: --channel, --queue).")),
        ("events", events_cmd, _("Show the event log after a sequence number.")),
        ("status", status_cmd, _("Counts of what the contact center holds.")),
    ):
        app.command(name, help=text)(fn)


# ---- display helpers ---------------------------------------------------------------------------------------


def col(key: str, drop: int = 0, *, wrap: bool = True, right: bool = False, detail: bool = False) -> Col:
    """A column headed by the field's label in the current language."""
    return Col(key, column_label(key), drop=drop, wrap=wrap, right=right, detail=detail)


def local_time(value: dt.datetime | str | None, zone: str, seconds: bool = False) -> str | None:
    """`2026-12-05 12:55` in the contact center's time zone (the JSON keeps UTC)."""
    if value is None:
        return None
    when = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def times_note(zone: str) -> str:
    return _("Times in {zone}.", zone=zone)


def term(kind: Kind, code: str | None) -> str | None:
    """A code's label as one unbreakable piece (`ofertas perdidas`, `en cola`): a short term, never split."""
    words = label(kind, code)
    return None if words is None else keep(words)


def labelled(kind: Kind, codes: Iterable[str]) -> str:
    """`voz, chat, correo`: each code's label, joined."""
    return ", ".join(term(kind, c) or c for c in codes)


def levels(values: Mapping[str, Any]) -> str | None:
    """`atencion 4, ventas 2` (skill levels, capacities, priorities): each pair unbroken."""
    return ", ".join(keep(f"{k} {v}") for k, v in values.items()) or None


def identity(i: IdentityPublic) -> str:
    """`phone +34600000000`: the kind in words, then the value; `(unverified)` when it is not."""
    text = f"{label('identity_kind', i.kind)} {i.value}"
    return text if i.verified else f"{text} {_('(unverified)')}"


def option_code(kind: Kind, value: str | None, option: str) -> str | None:
    """A filter's value as a code: the code or its words (`--status pendiente` is `pending`); else exit 2."""
    if value is None:
        return None
    code = code_of(kind, value)
    if code is None:
        message = _("{value!r} is not one of: {choices}", value=value, choices=choices(kind))
        raise typer.BadParameter(message, param_hint=option)
    return code


def codes_by_id(session: Session, model: Any, tenant_id: int) -> dict[int, str]:
    rows = session.execute(select(model.id, model.code).where(model.tenant_id == tenant_id))
    return {row.id: row.code for row in rows}


def money(value: float | None) -> str | None:
    return None if value is None else f"{value:.2f}"


# ---- customers ---------------------------------------------------------------------------------------------


def customers_list(
    ctx: typer.Context,
    q: str | None = None,
    segment: str | None = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    as_json: bool = JsonOption,
    tenant: str | None = TenantOption,
) -> None:
    with ctx_obj(ctx).service() as svc:
        row_tenant = resolve_tenant(svc, tenant)
        with svc.db.read() as s:
            rows, total = crm.list_customers(s, row_tenant.id, q=q, segment=segment, limit=limit)
            items = [crm.customer_public(s, c) for c in rows]
    if as_json:
        print_json(items)
        return
    print_table(
        [
            col("id", wrap=False, right=True),
            col("name"),
            col("segment", 2),
            col("value_tier", 1),
            col("lifecycle_stage", 3),
            col("lifetime_value", 4, wrap=False, right=True),
        ],
        [
            {
                "id": str(c.id),
                "name": c.name,
                "segment": c.segment,
                "value_tier": c.value_tier,
                "lifecycle_stage": term("lifecycle_stage", c.lifecycle_stage),
                "lifetime_value": money(c.lifetime_value),
            }
            for c in items
        ],
        title=_("{shown} of {total} customers", shown=len(items), total=total),
    )


def customer_record(c: CustomerPublic, zone: str) -> list[tuple[str, str | None]]:
    """A customer as `label  value` lines: profile, identities one a line, attributes."""
    attributes = "\n".join(f"{k}: {cell(v)}" for k, v in c.attributes.items()) or None
    return [
        (column_label("id"), str(c.id)),
        (column_label("name"), c.name),
        (column_label("kind"), term("customer_kind", c.kind)),
        (column_label("external_id"), c.external_id),
        (column_label("segment"), c.segment),
        (column_label("value_tier"), c.value_tier),
        (column_label("lifecycle_stage"), term("lifecycle_stage", c.lifecycle_stage)),
        (column_label("lifetime_value"), money(c.lifetime_value)),
        (column_label("language"), c.language),
        (column_label("identities"), "\n".join(identity(i) for i in c.identities) or None),
        (column_label("attributes"), attributes),
        (column_label("created_at"), local_time(c.created_at, zone)),
    ]


def customers_show(
    ctx: typer.Context, customer_id: int, as_json: bool = JsonOption, tenant: str | None = TenantOption
) -> None:
    with ctx_obj(ctx).service() as svc:
        row_tenant = resolve_tenant(svc, tenant)
        with svc.db.read() as s:
            c = crm.get_customer(s, row_tenant.id, customer_id)
            if c is None:
                err_console.print(_("no customer {id}", id=customer_id))
                raise typer.Exit(1)
            item = crm.customer_public(s, c)
    if as_json:
        print_json(item)
        return
    print_record(customer_record(item, row_tenant.timezone), note=times_note(row_tenant.timezone))


def lookup(
    ctx: typer.Context,
    phone: str | None = None,
    email: str | None = None,
    chat: str | None = None,
    external: str | None = None,
    national_id: str | None = None,
    as_json: bool = JsonOption,
    tenant: str | None = TenantOption,
) -> None:
    given = {
        k: v
        for k, v in {
            "phone": phone,
            "email": email,
            "chat": chat,
            "external": external,
            "national_id": national_id,
        }.items()
        if v
    }
    if len(given) != 1:
        raise typer.BadParameter(_("give exactly one of --phone, --email, --chat, --external, --national-id"))
    ((kind, value),) = given.items()
    with ctx_obj(ctx).service() as svc, fail_on_error():
        row_tenant = resolve_tenant(svc, tenant)
        with svc.db.read() as s:
            found = crm.customer_360(s, row_tenant.id, row_tenant.country, kind, value)
            queues = codes_by_id(s, t.Queue, row_tenant.id)
    if found is None:
        err_console.print(crm.no_customer_with(kind, value))
        raise typer.Exit(1)
    if as_json:
        print_json(found)
        return
    zone = row_tenant.timezone
    title = _("Customer (found by {identity})", identity=identity(found.matched_by))
    print_record(customer_record(found.customer, zone), title=title)
    console.print()
    print_table(case_columns(with_customer=False), [case_row(c, zone) for c in found.open_cases], title=_("Open cases"))
    console.print()
    print_table(
        [
            col("id", wrap=False, right=True),
            col("initiation_ts"),
            col("channel"),
            col("status", 2),
            col("queue", 1),
            col("disposition"),
        ],
        [contact_row(c, zone, queues, {}) for c in found.last_contacts],
        title=_("Last contacts"),
        note=times_note(zone),
    )


# ---- agents, queues, reasons, hours ------------------------------------------------------------------------


def agent_state(a: AgentPublic, away_reasons: Mapping[str, str]) -> str | None:
    """`away (Lunch)`: the state in words, with the away reason's name."""
    state = term("agent_state", a.state)
    if a.state == "away" and a.away_reason:
        return f"{state} {keep('(' + away_reasons.get(a.away_reason, a.away_reason) + ')')}"
    return state


def agent_queues(a: AgentPublic) -> str | None:
    """`atencion, ventas (reserve 1)`."""
    parts = [
        keep(_("{queue} (reserve {level})", queue=q.queue, level=q.reserve)) if q.reserve else q.queue for q in a.queues
    ]
    return ", ".join(parts) or None


def agents_cmd(ctx: typer.Context, as_json: bool = JsonOption, tenant: str | None = TenantOption) -> None:
    with ctx_obj(ctx).service() as svc:
        row_tenant = resolve_tenant(svc, tenant)
        with svc.db.read() as s:
            items = [agent_public(s, a) for a in list_agents(s, row_tenant.id)]
            name = t.AwayReason.name_en if language() == "en" else t.AwayReason.name_es
            rows = s.execute(select(t.AwayReason.code, name).where(t.AwayReason.tenant_id == row_tenant.id))
            away_reasons = {code: text for code, text in rows}
    if as_json:
        print_json(items)
        return
    print_table(
        [
            col("code", wrap=False),
            col("name", 2),
            col("state"),
            col("queues", 1),
            col("skills", 3),
            col("capacity", 4),
            col("languages", 5),
        ],
        [
            {
                "code": a.code,
                "name": a.name,
                "state": agent_state(a, away_reasons),
                "queues": agent_queues(a),
                "skills": levels(a.skills),
                "capacity": levels({term("channel", k) or k: v for k, v in a.capacity.items()}),
                "languages": ", ".join(a.languages) or None,
            }
            for a in items
        ],
    )


def overflow_cell(overflow: Mapping[str, Any] | None) -> str | None:
    """`atencion · 60 s · add · when unstaffed`: where to, after how long, how, and if also when unstaffed."""
    if not overflow:
        return None
    parts = [str(overflow["queue"])]
    if overflow.get("after_s") is not None:
        parts.append(keep(f"{overflow['after_s']} s"))
    parts.append(term("overflow_mode", str(overflow.get("mode") or "add")) or "")
    if overflow.get("when_unstaffed"):
        parts.append(keep(_("when unstaffed")))
    return " ".join(keep(f"{p} ·") for p in parts[:-1]) + " " + parts[-1] if len(parts) > 1 else parts[0]


def sl_cell(q: QueuePublic) -> str:
    """`80 % ≤ 20 s`: the share of contacts to answer within the threshold."""
    return keep(f"{q.sl_target.percent:g} % ≤ {q.sl_target.threshold_s} s")


def selection_cell(q: QueuePublic) -> str | None:
    """The agent selection in words; with `order_by`, its clauses."""
    words = label("agent_selection", q.agent_selection)
    if q.agent_selection == "order_by" and q.order_by:
        return f"{words}: {', '.join(keep(c) for c in q.order_by)}"
    return words


def queues_cmd(ctx: typer.Context, as_json: bool = JsonOption, tenant: str | None = TenantOption) -> None:
    with ctx_obj(ctx).service() as svc:
        row_tenant = resolve_tenant(svc, tenant)
        with svc.db.read() as s:
            items = [qq.queue_public(s, q) for q in rows_by_code.list_by_code(s, t.Queue, row_tenant.id)]
    if as_json:
        print_json(items)
        return
    print_table(
        [
            col("code", wrap=False),
            col("name", 2),
            col("channels", 3),
            col("agent_selection"),
            col("sl_target", wrap=False),
            col("overflow"),
            col("priority_mode", 5),
            col("required_skills", 4),
            col("segment_priority", 6),
            col("hours", 7),
        ],
        [
            {
                "code": q.code,
                "name": q.name,
                "channels": labelled("channel", q.channels),
                "agent_selection": selection_cell(q),
                "sl_target": sl_cell(q),
                "overflow": overflow_cell(q.overflow),
                "priority_mode": term("priority_mode", q.priority_mode),
                "required_skills": levels(q.required_skills),
                "segment_priority": levels(q.segment_priority),
                "hours": q.hours,
            }
            for q in items
        ],
    )


def reasons_cmd(ctx: typer.Context, as_json: bool = JsonOption, tenant: str | None = TenantOption) -> None:
    with ctx_obj(ctx).service() as svc:
        row_tenant = resolve_tenant(svc, tenant)
        with svc.db.read() as s:
            items = [qq.reason_public(s, r) for r in qq.list_reasons(s, row_tenant.id)]
    if as_json:
        print_json(items)
        return
    # each reason followed by its sub-reasons, indented; the name in the current language, the other when it fits
    children: dict[str | None, list[Any]] = {}
    for r in items:
        children.setdefault(r.parent, []).append(r)
    ordered = [(x, x is not r) for r in children.get(None, []) for x in (r, *children.pop(r.code, []))]
    ordered += [(r, True) for parent, rows in children.items() if parent is not None for r in rows]  # orphans last
    mine, other = ("name_en", "name_es") if language() == "en" else ("name_es", "name_en")
    print_table(
        [
            col("code", wrap=False),
            Col("name", column_label("name")),
            col("group", 1, wrap=False),
            col("avoidable", 2),
            col("parent", 3, wrap=False),
            col(other, 4),
        ],
        [
            {
                "code": keep("  ") + r.code if sub else r.code,
                "name": getattr(r, mine),
                "parent": r.parent,
                "group": r.group,
                "avoidable": yes_no(r.avoidable),
                other: getattr(r, other),
            }
            for r, sub in ordered
        ],
    )


def hours_cmd(ctx: typer.Context, as_json: bool = JsonOption, tenant: str | None = TenantOption) -> None:
    with ctx_obj(ctx).service() as svc:
        row_tenant = resolve_tenant(svc, tenant)
        with svc.db.read() as s:
            now = svc.clock.now()
            items = [
                {**HoursPublic.model_validate(h).model_dump(mode="json"), "now": qq.hours_status_of(h, now)}
                for h in rows_by_code.list_by_code(s, t.HoursCalendar, row_tenant.id)
            ]
    if as_json:
        print_json(items)
        return
    print_table(
        [col("code", wrap=False), col("name"), col("timezone", 1, wrap=False), col("now")],
        [{**{k: h[k] for k in ("code", "name", "timezone")}, "now": term("hours_status", h["now"])} for h in items],
    )


# ---- cases, contacts, events, counts -----------------------------------------------------------------------


def case_columns(with_customer: bool = True) -> list[Col]:
    customer = [col("customer_id", 2, wrap=False, right=True)] if with_customer else []
    return [col("reference", wrap=False), col("subject"), col("status"), *customer, col("created_at", 1)]


def case_row(c: CasePublic, zone: str) -> dict[str, str | None]:
    return {
        "reference": c.reference,
        "subject": c.subject,
        "status": term("case_status", c.status),
        "customer_id": None if c.customer_id is None else str(c.customer_id),
        "created_at": local_time(c.created_at, zone),
    }


def cases_cmd(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option(help=_("Only cases in this status: open, pending, resolved, closed (or its words)"))
    ] = None,
    limit: Annotated[int, typer.Option(min=1)] = 20,
    as_json: bool = JsonOption,
    tenant: str | None = TenantOption,
) -> None:
    with ctx_obj(ctx).service() as svc:
        row_tenant = resolve_tenant(svc, tenant)
        with svc.db.read() as s:
            code = option_code("case_status", status, "--status")
            rows, _total = crm.list_cases(s, row_tenant.id, status=code, limit=limit)
            items = [crm.case_public(s, c) for c in rows]
    if as_json:
        print_json(items)
        return
    zone = row_tenant.timezone
    print_table(case_columns(), [case_row(c, zone) for c in items], note=times_note(zone))


def contact_row(
    c: ContactPublic | ContactSummary, zone: str, queues: Mapping[int, str], agents: Mapping[int, str]
) -> dict[str, str | None]:
    return {
        "id": str(c.id),
        "initiation_ts": local_time(c.initiation_ts, zone),
        "channel": term("channel", c.channel),
        "direction": term("direction", c.direction),
        "status": term("contact_status", c.status),
        "queue": None if c.queue_id is None else queues.get(c.queue_id, str(c.queue_id)),
        "agent": None if c.agent_id is None else agents.get(c.agent_id, str(c.agent_id)),
        "customer_id": str(c.customer_id) if isinstance(c, ContactPublic) and c.customer_id is not None else None,
        "segment": c.segment if isinstance(c, ContactPublic) else None,
        "disposition": c.disposition,
    }


def contacts_cmd(
    ctx: typer.Context,
    channel: Annotated[
        str | None, typer.Option(help=_("Only contacts of this channel: voice, chat, email, … (or its words)"))
    ] = None,
    queue: Annotated[str | None, typer.Option(help=_("Only contacts of this queue (its code)"))] = None,
    limit: Annotated[int, typer.Option(min=1)] = 20,
    as_json: bool = JsonOption,
    tenant: str | None = TenantOption,
) -> None:
    with ctx_obj(ctx).service() as svc:
        row_tenant = resolve_tenant(svc, tenant)
        with svc.db.read() as s:
            queue_id = None
            if queue:
                row = rows_by_code.get_by_code(s, t.Queue, row_tenant.id, queue)
                if row is None:
                    raise typer.BadParameter(_("unknown queue {code!r}", code=queue), param_hint="--queue")
                queue_id = row.id
            code = option_code("channel", channel, "--channel")
            rows, _total = cq.search_contacts(s, row_tenant.id, channel=code, queue_id=queue_id, limit=limit)
            items = [ContactPublic.model_validate(r) for r in rows]
            queues = codes_by_id(s, t.Queue, row_tenant.id)
            agents = codes_by_id(s, t.Agent, row_tenant.id)
    if as_json:
        print_json(items)
        return
    zone = row_tenant.timezone
    print_table(
        [
            col("id", wrap=False, right=True),
            col("initiation_ts"),
            col("channel"),
            col("status"),
            col("queue", 1, wrap=False),
            col("agent", 3, wrap=False),
            col("customer_id", 4, wrap=False, right=True),
            col("disposition", 2),
            col("segment", 5),
            col("direction", 6),
        ],
        [contact_row(c, zone, queues, agents) for c in items],
        note=times_note(zone),
    )


_EVENT_SUBJECTS = ("contact_id", "agent_id", "customer_id", "case_id", "queue_id", "user_id")


def event_about(event: Mapping[str, Any], codes: Mapping[str, Mapping[int, str]]) -> str | None:
    """`contact 4991` / `agent laura.moreno`: what the event is about, one a line (agents and queues by code)."""
    names = {
        "contact_id": _("contact {id}"),
        "agent_id": _("agent {id}"),
        "customer_id": _("customer {id}"),
        "case_id": _("case {id}"),
        "queue_id": _("queue {id}"),
        "user_id": _("user {id}"),
    }
    lines = [
        names[k].format(id=codes.get(k, {}).get(event[k], event[k]))
        for k in _EVENT_SUBJECTS
        if event.get(k) is not None
    ]
    return "\n".join(lines) or None


def event_data(data: Mapping[str, Any]) -> str | None:
    """`key: value, key: value` (nested values as JSON)."""
    return ", ".join(f"{k}: {_compact(v)}" for k, v in data.items()) or None


def _compact(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return "null" if value is None else str(value)


def events_cmd(
    ctx: typer.Context,
    after: Annotated[int, typer.Option(min=0)] = 0,
    limit: Annotated[int, typer.Option(min=1)] = 50,
    as_json: bool = JsonOption,
    tenant: str | None = TenantOption,
) -> None:
    with ctx_obj(ctx).service() as svc:
        row_tenant = resolve_tenant(svc, tenant)
        with svc.db.read() as s:
            items = [e.to_dict() for e in read_events(s, row_tenant.id, after_seq=after, limit=limit)]
            agents, queues = codes_by_id(s, t.Agent, row_tenant.id), codes_by_id(s, t.Queue, row_tenant.id)
    codes = {"agent_id": agents, "queue_id": queues}
    if as_json:
        print_json(items)
        return
    zone = row_tenant.timezone
    print_table(
        [
            col("seq", wrap=False, right=True),
            col("ts"),
            col("type", wrap=False),
            col("about", 1),
            col("data", detail=True),
        ],
        [
            {
                "seq": str(e["seq"]),
                "ts": local_time(e["ts"], zone, seconds=True),
                "type": e["type"],
                "about": event_about(e, codes),
                "data": event_data(e.get("data") or {}),
            }
            for e in items
        ],
        note=times_note(zone),
    )


def status_cmd(ctx: typer.Context, as_json: bool = JsonOption, tenant: str | None = TenantOption) -> None:
    with ctx_obj(ctx).service() as svc:
        row_tenant = resolve_tenant(svc, tenant)
        with svc.db.read() as s:
            row = {"tenant": row_tenant.slug, **cq.counts(s, row_tenant.id)}
    if as_json:
        print_json(row)
        return
    print_record([(column_label(k), cell(v)) for k, v in row.items()])
