"""Loading the demo contact center (Banco Ejemplo): configuration, users, customers and ~60 days of history.

Every row goes through the `do_*` actions, in batched transactions. `centralita demo` calls `load_demo`;
`centralita up` calls `load_demo_if_empty` on first start. Logins are random per load unless a password
is given, and are saved to `<data_dir>/demo-logins.txt` (mode 0600) as soon as the users exist.

The same seed on the same day gives the same data (history is laid out backwards from the clock's today).
A load that stops half way (Ctrl-C, a crash) leaves a partial contact center: load again with another
`tenant_slug`, or start from an empty database.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import secrets
import string
import time
import zoneinfo
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from centralita.accounts.actions import do_create_tenant, do_create_user
from centralita.accounts.passwords import MIN_PASSWORD_LENGTH
from centralita.accounts.schemas import TenantCreate, UserCreate
from centralita.agents.actions import do_create_agent, do_create_away_reason, do_create_skill
from centralita.agents.schemas import AgentCreate, AwayReasonCreate, ProfileEntry, SkillCreate
from centralita.contacts.history import do_record_contacts
from centralita.core.actor import Actor
from centralita.core.clock import FakeClock
from centralita.core.errors import Conflict, InvalidInput
from centralita.core.files import private_dir
from centralita.core.i18n import _
from centralita.core.located_yaml import load_yaml
from centralita.core.settings import DEMO_LOGINS_FILE
from centralita.crm.actions import do_create_customer, do_link_case_contact, do_open_case, do_update_case
from centralita.crm.pins import do_set_pin
from centralita.crm.schemas import CaseCreate, CaseUpdate
from centralita.demo import catalog as c
from centralita.demo.accounts import plan_account, with_account
from centralita.demo.generator import Calendar, ContactPlan, CustomerPlan, HistoryPlanner, plan_customers
from centralita.demo.people import PeopleFactory
from centralita.entrypoints.actions import do_create_entry_point
from centralita.entrypoints.schemas import EntryPointCreate
from centralita.flowstore.actions import do_publish_flow
from centralita.knowledge.actions import do_put_article, do_put_script
from centralita.knowledge.schemas import ArticleCreate, ScriptCreate
from centralita.prompts.library import PromptCreate, do_save_prompt
from centralita.queues.actions import do_create_hours, do_create_queue, do_create_reason, do_create_reason_group
from centralita.queues.schemas import (
    HoursCreate,
    HoursOverride,
    Overflow,
    QueueCreate,
    ReasonCreate,
    ReasonGroupCreate,
    SlTarget,
    WeeklyInterval,
)
from centralita.service import Service
from centralita.store import tables as t

__all__ = ["load_demo", "load_demo_if_empty"]

DEFAULT_CUSTOMERS = 2000
FIRST_START_CUSTOMERS = DEFAULT_CUSTOMERS  # what `centralita up` loads into an empty database
DEFAULT_SEED = 1
HISTORY_DAYS = 60
CUSTOMERS_PER_TRANSACTION = 200
HISTORY_CUSTOMERS_PER_TRANSACTION = 100
LOGINS_FILE = DEMO_LOGINS_FILE
MAX_CUSTOMERS = 200_000

ProgressCallback = Callable[[str, int, int], None]
"""Called as (stage, done, total); stages: `config`, `customers`, `history`."""

_T = TypeVar("_T")


@dataclass
class DemoResult:
    tenant_id: int
    slug: str
    logins: list[dict[str, str]]
    logins_path: Path
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _at(actor: Actor, when: dt.datetime) -> Actor:
    """The same actor on a clock stopped at `when`: actions stamp rows and events with that time."""
    return Actor(tenant_id=actor.tenant_id, role=actor.role, username=actor.username, clock=FakeClock(when))


@contextmanager
def _progress(console: Console | None, callback: ProgressCallback | None) -> Iterator[ProgressCallback]:
    if console is None:
        yield callback or (lambda stage, done, total: None)
        return
    labels = {
        "config": _("Configuration"),
        "customers": _("Customers"),
        "history": _("Contact history"),
    }
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        tasks: dict[str, int] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = int(bar.add_task(labels.get(stage, stage), total=total))
            bar.update(tasks[stage], completed=done, total=total)  # type: ignore[arg-type]
            if callback is not None:
                callback(stage, done, total)

        yield report


FLOWS_DIR = Path(__file__).resolve().parent / "flows"


def _configure(session: Session, svc: Service, data: TenantCreate) -> tuple[t.Tenant, Actor]:
    tenant = do_create_tenant(session, data, svc.clock)
    actor = Actor(tenant_id=tenant.id, role="admin", username="demo", clock=svc.clock)
    today = svc.clock.now().astimezone(zoneinfo.ZoneInfo(c.TIMEZONE)).date()
    years = range(min(2026, today.year - 1), max(2027, today.year + 1) + 1)
    do_create_hours(
        session,
        actor,
        HoursCreate(
            code=c.HOURS_CODE,
            name="Horario general",
            timezone=c.TIMEZONE,
            weekly=[WeeklyInterval(day=d, start=s, end=e) for d, s, e in c.WEEKLY_HOURS],
            overrides=[
                HoursOverride(date=day, name=holiday, closed=True)
                for year in years
                for day, holiday in c.national_holidays(year)
            ],
        ),
    )
    for skill in c.SKILLS:
        do_create_skill(session, actor, SkillCreate(code=skill.code, name=skill.name))
    for away in c.AWAY_REASONS:
        do_create_away_reason(
            session,
            actor,
            AwayReasonCreate(code=away.code, name_es=away.name_es, name_en=away.name_en, productive=away.productive),
        )
    for q in c.QUEUES:
        do_create_queue(
            session,
            actor,
            QueueCreate(
                code=q.code,
                name=q.name,
                channels=list(q.channels),
                required_skills=q.required_skills,
                segment_priority=q.segment_priority,
                sl_target=SlTarget(threshold_s=q.sl_threshold_s, percent=q.sl_percent),
                hours=None if q.always_open else c.HOURS_CODE,
                overflow=Overflow.model_validate(q.overflow) if q.overflow else None,
                agent_selection=q.agent_selection,
                priority_mode=q.priority_mode,
                default_aht_s=q.default_aht_s,
            ),
        )
    for g in c.REASON_GROUPS:
        do_create_reason_group(session, actor, ReasonGroupCreate(code=g.code, name_es=g.name_es, name_en=g.name_en))
    for r in c.REASONS:
        do_create_reason(
            session,
            actor,
            ReasonCreate(code=r.code, group=r.group, name_es=r.name_es, name_en=r.name_en, avoidable=r.avoidable),
        )
        for suffix, name_es, name_en in r.subs:
            do_create_reason(
                session,
                actor,
                ReasonCreate(
                    code=f"{r.code}.{suffix}",
                    group=r.group,
                    parent=r.code,
                    name_es=name_es,
                    name_en=name_en,
                    avoidable=r.avoidable,
                ),
            )
    for a in c.AGENTS:
        do_create_agent(
            session,
            actor,
            AgentCreate(
                code=a.code,
                name=a.name,
                email=f"{a.code}@bancoejemplo.example",
                languages=list(a.languages),
                skills=a.skills,
                queues=[
                    ProfileEntry(queue=q, rank=rank, delay_s=delay, reserve=res) for q, rank, delay, res in a.queues
                ],
                capacity=a.capacity,
                acw_timeout_s=120,
                hourly_cost=a.hourly_cost,
                attributes={"equipo": a.team},
            ),
        )
    library = load_yaml((FLOWS_DIR / "prompts.yaml").read_text(encoding="utf-8"), "demo/prompts.yaml").data
    for item in library["prompts"]:  # the phone line's prompts, in Spanish and English
        do_save_prompt(session, actor, PromptCreate.model_validate(item))
    knowledge = load_yaml((FLOWS_DIR / "knowledge.yaml").read_text(encoding="utf-8"), "demo/knowledge.yaml").data
    for item in knowledge["knowledge_base"]:  # what agents search, and the scripts for the main reasons
        do_put_article(session, actor, ArticleCreate.model_validate(item))
    for item in knowledge["scripts"]:
        do_put_script(session, actor, ScriptCreate.model_validate(item))
    for path in sorted(FLOWS_DIR.glob("banco_*.yaml")):  # the phone line's IVR and the web chat's bot
        do_publish_flow(session, actor, path.read_text(encoding="utf-8"), f"demo/{path.name}")
    for entry in c.ENTRY_POINTS:  # where the demo's contacts come in, and the flow each runs
        with suppress(Conflict):  # a second demo contact center: an address belongs to one, the first keeps it
            do_create_entry_point(session, actor, EntryPointCreate(**entry))
    return tenant, actor


def _random_password(length: int = 14) -> str:
    """Letters and digits only, easy to copy; 14 of 62 symbols ≈ 83 bits."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _create_users(session: Session, actor: Actor, password: str | None) -> list[dict[str, str]]:
    logins = []
    people: list[tuple[str, str, str, str | None]] = [
        ("admin", c.ADMIN[0], c.ADMIN[1], None),
        ("supervisor", c.SUPERVISOR[0], c.SUPERVISOR[1], None),
    ]
    people += [("agent", a.code, a.name, a.code) for a in c.AGENTS]
    for role, username, display, agent in people:
        secret = password or _random_password()
        do_create_user(
            session,
            actor,
            UserCreate(username=username, password=secret, role=role, display_name=display, agent=agent),
        )
        logins.append({"role": role, "username": username, "password": secret})
    return logins


def _write_logins(path: Path, slug: str, name: str, logins: list[dict[str, str]]) -> None:
    private_dir(path.parent)
    lines = [
        f"# {name} ({slug}): {_('demo logins')}",
        f"{'role':<12} {'username':<20} password",
        *(f"{x['role']:<12} {x['username']:<20} {x['password']}" for x in logins),
    ]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)  # an older file keeps its mode on open: tighten it


def _record_cases(session: Session, actor: Actor, plans: list[ContactPlan], contacts: list[t.Contact]) -> int:
    """Open the cases one customer's contacts raised, link the follow-ups, then move them on as planned."""
    cases: dict[int, t.Case] = {}
    for index, (plan, contact) in enumerate(zip(plans, contacts, strict=True)):
        ended = plan.record.disconnect_ts
        if plan.case is not None:
            cp = plan.case
            cases[index] = do_open_case(
                session,
                _at(actor, ended),
                CaseCreate(
                    subject=cp.subject,
                    customer_id=plan.record.customer_id,
                    reason=cp.reason,
                    priority=cp.priority,
                    owner=cp.owner,
                    queue=cp.queue,
                    contact_id=contact.id,
                    note=cp.note,
                ),
            )
        if plan.follows is not None and plan.follows in cases:
            do_link_case_contact(session, _at(actor, ended), cases[plan.follows], contact.id)
    for index, case in cases.items():
        case_plan = plans[index].case
        assert case_plan is not None
        for when, status in case_plan.closes:
            do_update_case(session, _at(actor, when), case, CaseUpdate(status=status))
    return len(cases)


def load_demo(
    svc: Service,
    *,
    customers: int = DEFAULT_CUSTOMERS,
    seed: int = DEFAULT_SEED,
    password: str | None = None,
    tenant_slug: str = c.TENANT_SLUG,
    tenant_name: str = c.TENANT_NAME,
    days: int = HISTORY_DAYS,
    console: Console | None = None,
    progress: ProgressCallback | None = None,
) -> DemoResult:
    """Create the demo contact center `tenant_slug`. Raises Conflict (nothing changed) when it exists."""
    started = time.perf_counter()
    if not 0 <= customers <= MAX_CUSTOMERS:
        raise InvalidInput.field("customers", _("must be 0..{max}", max=MAX_CUSTOMERS))
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput.field("password", _("must have at least {n} characters", n=MIN_PASSWORD_LENGTH))
    if not 1 <= days <= 366:
        raise InvalidInput.field("days", _("must be 1..366"))
    try:
        tenant_data = TenantCreate(slug=tenant_slug, name=tenant_name, timezone=c.TIMEZONE)
    except ValidationError:
        raise InvalidInput.field(
            "tenant_slug", _("use 1 to 50 lower-case letters, digits, '-' or '_', starting with a letter or digit")
        ) from None
    with svc.db.read() as s:
        if s.scalar(select(t.Tenant.id).where(t.Tenant.slug == tenant_slug)) is not None:
            raise Conflict(_("contact center {slug!r} already exists; nothing was changed", slug=tenant_slug))

    now = svc.clock.now()
    rng = random.Random(seed)
    people = PeopleFactory(rng)
    customer_plans = plan_customers(rng, people, customers, now)
    anonymous = [people.mobile() for _n in range(customers // 25)]
    today = now.astimezone(zoneinfo.ZoneInfo(c.TIMEZONE)).date()
    planner = HistoryPlanner(seed, Calendar(today, days, now))

    with _progress(console, progress) as report:
        report("config", 0, 1)
        with svc.db.write() as s:
            tenant, actor = _configure(s, svc, tenant_data)
            logins = _create_users(s, actor, password)
        tenant_id = tenant.id
        path = svc.settings.data_dir / LOGINS_FILE
        _write_logins(path, tenant_slug, tenant_name, logins)  # at once: the users exist from here on
        report("config", 1, 1)

        ids: list[int] = []
        report("customers", 0, customers)
        for batch in _chunks(customer_plans, CUSTOMERS_PER_TRANSACTION):
            with svc.db.write() as s:
                held_tenant = s.get(t.Tenant, tenant_id)  # kept in the session for every action's lookup
                for plan in batch:
                    phone = next((i.value for i in plan.create.identities if i.kind == "phone"), "")
                    account = plan_account(seed, plan.number, phone)
                    at = _at(actor, plan.since)
                    customer = do_create_customer(s, at, with_account(plan.create, account))
                    do_set_pin(s, at, customer, account.pin)
                    ids.append(customer.id)
                del held_tenant
            report("customers", len(ids), customers)

        n_contacts = n_cases = 0
        report("history", 0, customers + len(anonymous))
        pairs: list[tuple[CustomerPlan, int]] = list(zip(customer_plans, ids, strict=True))
        done = 0
        for chunk in _chunks(pairs, HISTORY_CUSTOMERS_PER_TRANSACTION):
            per_customer = [planner.plan_customer(plan, cid) for plan, cid in chunk]
            with svc.db.write() as s:
                contacts = do_record_contacts(s, actor, [p.record for plans in per_customer for p in plans])
                n_contacts += len(contacts)
                start = 0
                for plans in per_customer:
                    n_cases += _record_cases(s, actor, plans, contacts[start : start + len(plans)])
                    start += len(plans)
            done += len(chunk)
            report("history", done, customers + len(anonymous))
        anon_plans = [planner.plan_anonymous(number, ani) for number, ani in enumerate(anonymous)]
        with svc.db.write() as s:
            n_contacts += len(do_record_contacts(s, actor, [p.record for p in anon_plans if p is not None]))
        report("history", customers + len(anonymous), customers + len(anonymous))

    with svc.db.read() as s:
        events = s.scalar(select(func.count()).select_from(t.Event).where(t.Event.tenant_id == tenant_id)) or 0
    counts = {
        "agents": len(c.AGENTS),
        "users": len(logins),
        "queues": len(c.QUEUES),
        "customers": len(ids),
        "contacts": n_contacts,
        "cases": n_cases,
        "events": int(events),
    }
    return DemoResult(
        tenant_id=tenant_id,
        slug=tenant_slug,
        logins=logins,
        logins_path=path,
        counts=counts,
        seconds=time.perf_counter() - started,
    )


def load_demo_if_empty(svc: Service, console: Console | None = None) -> list[dict[str, str]] | None:
    """On first start (no contact center yet) load the demo and return its logins; otherwise None."""
    with svc.db.read() as s:
        if s.scalar(select(t.Tenant.id).limit(1)) is not None:
            return None
    if console is not None:
        console.print(_("First start: loading the demo contact center (Banco Ejemplo)…"))
    try:
        result = load_demo(svc, customers=FIRST_START_CUSTOMERS, console=console)
    except (Conflict, IntegrityError):  # another process started at the same time and loaded it first
        return None
    return result.logins
