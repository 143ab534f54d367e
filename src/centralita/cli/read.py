"""Read commands: customers, agents, queues, reasons, cases, contacts, events. All take --json."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from centralita.agents.queries import agent_public, list_agents
from centralita.cli._common import JsonOption, TenantOption, ctx_obj, emit, err_console, fail_on_error, resolve_tenant
from centralita.contacts import queries as cq
from centralita.contacts.schemas import ContactPublic
from centralita.core.i18n import _
from centralita.crm import queries as crm
from centralita.events.log import read_events
from centralita.queues import queries as qq
from centralita.queues.schemas import HoursPublic
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
    emit(
        items,
        as_json,
        ["id", "name", "segment", "value_tier", "lifecycle_stage", "lifetime_value"],
        title=_("{shown} of {total} customers", shown=len(items), total=total),
    )


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
    emit(
        item,
        as_json,
        ["id", "name", "kind", "segment", "value_tier", "lifecycle_stage", "lifetime_value", "identities"],
    )


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
    if found is None:
        err_console.print(crm.no_customer_with(kind, value))
        raise typer.Exit(1)
    if as_json:
        emit(found, True)
        return
    emit(
        found.customer,
        False,
        ["id", "name", "segment", "value_tier", "lifecycle_stage", "lifetime_value"],
        title=_("Customer"),
    )
    emit(found.open_cases, False, ["reference", "subject", "status", "created_at"], title=_("Open cases"))
    emit(found.last_contacts, False, ["id", "channel", "initiation_ts", "disposition"], title=_("Last contacts"))


def agents_cmd(ctx: typer.Context, as_json: bool = JsonOption, tenant: str | None = TenantOption) -> None:
    with ctx_obj(ctx).service() as svc:
        row_tenant = resolve_tenant(svc, tenant)
        with svc.db.read() as s:
            items = [agent_public(s, a) for a in list_agents(s, row_tenant.id)]
    if as_json:
        emit(items, True)
        return
    rows = [{**a.model_dump(), "queues": [q.queue for q in a.queues]} for a in items]
    emit(rows, False, ["code", "name", "languages", "skills", "queues", "capacity", "state"])


def queues_cmd(ctx: typer.Context, as_json: bool = JsonOption, tenant: str | None = TenantOption) -> None:
    with ctx_obj(ctx).service() as svc:
        row_tenant = resolve_tenant(svc, tenant)
        with svc.db.read() as s:
            items = [qq.queue_public(s, q) for q in rows_by_code.list_by_code(s, t.Queue, row_tenant.id)]
    if as_json:
        emit(items, True)
        return
    rows = []
    for q in items:
        row = q.model_dump()
        sl = row.get("sl_target") or {}
        if sl:
            row["sl_target"] = f"{sl['percent']:g} % ≤ {sl['threshold_s']} s"
        rows.append({**row, "overflow": _overflow_cell(row.get("overflow"))})
    columns = ["code", "name", "channels", "required_skills", "agent_selection", "segment_priority", "sl_target"]
    emit(rows, False, [*columns, "overflow", "hours"])


def _overflow_cell(overflow: dict[str, Any] | None) -> str | None:
    """`atencion · 60 s · add · when unstaffed`: where to, after how long, how, and if also when unstaffed."""
    if not overflow:
        return None
    parts = [str(overflow["queue"])]
    if overflow.get("after_s") is not None:
        parts.append(f"{overflow['after_s']} s")
    parts.append(str(overflow.get("mode") or "add"))
    if overflow.get("when_unstaffed"):
        parts.append(_("when unstaffed"))
    return " · ".join(parts)


def reasons_cmd(ctx: typer.Context, as_json: bool = JsonOption, tenant: str | None = TenantOption) -> None:
    with ctx_obj(ctx).service() as svc:
        row_tenant = resolve_tenant(svc, tenant)
        with svc.db.read() as s:
            items = [qq.reason_public(s, r) for r in qq.list_reasons(s, row_tenant.id)]
    emit(items, as_json, ["group", "code", "parent", "name_es", "name_en", "avoidable"])


def hours_cmd(ctx: typer.Context, as_json: bool = JsonOption, tenant: str | None = TenantOption) -> None:
    with ctx_obj(ctx).service() as svc:
        row_tenant = resolve_tenant(svc, tenant)
        with svc.db.read() as s:
            now = svc.clock.now()
            items = [
                {**HoursPublic.model_validate(h).model_dump(mode="json"), "now": qq.hours_status_of(h, now)}
                for h in rows_by_code.list_by_code(s, t.HoursCalendar, row_tenant.id)
            ]
    emit(items, as_json, ["code", "name", "timezone", "now"])


def cases_cmd(
    ctx: typer.Context,
    status: str | None = None,
    limit: Annotated[int, typer.Option(min=1)] = 20,
    as_json: bool = JsonOption,
    tenant: str | None = TenantOption,
) -> None:
    with ctx_obj(ctx).service() as svc:
        row_tenant = resolve_tenant(svc, tenant)
        with svc.db.read() as s:
            rows, _total = crm.list_cases(s, row_tenant.id, status=status, limit=limit)
            items = [crm.case_public(s, c) for c in rows]
    emit(items, as_json, ["reference", "subject", "status", "customer_id", "created_at"])


def contacts_cmd(
    ctx: typer.Context,
    channel: str | None = None,
    queue: str | None = None,
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
            rows, _total = cq.search_contacts(s, row_tenant.id, channel=channel, queue_id=queue_id, limit=limit)
            items = [ContactPublic.model_validate(r) for r in rows]
    emit(items, as_json, ["id", "channel", "direction", "initiation_ts", "customer_id", "segment", "disposition"])


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
    emit(items, as_json, ["seq", "type", "ts", "contact_id", "agent_id", "customer_id", "data"])


def status_cmd(ctx: typer.Context, as_json: bool = JsonOption, tenant: str | None = TenantOption) -> None:
    with ctx_obj(ctx).service() as svc:
        row_tenant = resolve_tenant(svc, tenant)
        with svc.db.read() as s:
            row = {"tenant": row_tenant.slug, **cq.counts(s, row_tenant.id)}
    emit(row, as_json, list(row.keys()))
