"""The configuration as comparable values: what a file asks for, and what the tenant has now.

Each item is reduced to a full dict of its settings (code excluded), with every default the create
actions would fill in made explicit. A file item and a stored row are the same configuration exactly
when their dicts are equal; that is what makes `apply` idempotent and `export` → `apply` a no-op.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from centralita.agents.actions import DEFAULT_CAPACITY
from centralita.agents.queries import agent_public
from centralita.agents.schemas import AgentCreate, AwayReasonCreate, SkillCreate
from centralita.entrypoints.queries import list_entry_points, list_functions
from centralita.entrypoints.schemas import EntryPointCreate, FunctionCreate, normalize_address
from centralita.knowledge.schemas import ArticleCreate, ScriptCreate
from centralita.prompts.library import PromptCreate
from centralita.queues.schemas import (
    HoursCreate,
    QueueCreate,
    ReasonCreate,
    ReasonGroupCreate,
)
from centralita.store import tables as t
from centralita.store.lookup import list_by_code

__all__ = ["read_current"]

# In apply order: what an item refers to comes first (reasons sort parents before sub-reasons). Entry
# points name published flows, which the file cannot hold (`centralita flow publish`); functions are
# what those flows invoke.
KINDS = (
    "skills",
    "away_reasons",
    "hours",
    "queues",
    "reason_groups",
    "reasons",
    "agents",
    "prompts",
    "functions",
    "entry_points",
    "knowledge_base",
    "scripts",
)
DEACTIVATABLE = ("queues", "reasons", "agents", "functions", "entry_points", "knowledge_base", "scripts")
SCHEMAS: dict[str, type[BaseModel]] = {
    "skills": SkillCreate,
    "away_reasons": AwayReasonCreate,
    "hours": HoursCreate,
    "queues": QueueCreate,
    "reason_groups": ReasonGroupCreate,
    "reasons": ReasonCreate,
    "agents": AgentCreate,
    "prompts": PromptCreate,
    "functions": FunctionCreate,
    "entry_points": EntryPointCreate,
    "knowledge_base": ArticleCreate,
    "scripts": ScriptCreate,
}

DEFAULT_CHANNELS = ["voice", "chat", "email"]  # do_create_queue's default
DEFAULT_LANGUAGES = ["es"]  # do_create_agent's default
ENTRY_POINT_DEFAULTS: dict[str, Any] = {"language": "es"}
FUNCTION_DEFAULTS: dict[str, Any] = {"headers": {}}

# The value each setting has when a file leaves it out (the create actions' and tables' defaults).
QUEUE_DEFAULTS: dict[str, Any] = {
    "channels": DEFAULT_CHANNELS,
    "required_skills": {},
    "segment_priority": {},
    "sl_target": {"threshold_s": 20, "percent": 80.0},
    "hours": None,
    "overflow": None,
    "max_contacts": None,
    "priority_mode": "strict",
    "aging_s_per_point": 60,
    "agent_selection": "longest_idle",
    "order_by": [],
    "overload": None,
    "offer_timeout_s": 20,
    "default_aht_s": 300,
}
AGENT_DEFAULTS: dict[str, Any] = {
    "email": None,
    "languages": DEFAULT_LANGUAGES,
    "skills": {},
    "queues": [],
    "capacity": DEFAULT_CAPACITY,
    "exclusive_channels": [],
    "max_occupancy": None,
    "acw_timeout_s": 0,
    "acw_counts_as_idle": False,
    "max_missed_offers": 1,
    "call_selection": "queue_rank",
    "hourly_cost": None,
    "attributes": {},
}
OVERFLOW_DEFAULTS: dict[str, Any] = {"after_s": None, "when_unstaffed": False, "mode": "add"}
PROFILE_DEFAULTS: dict[str, Any] = {"rank": 1, "delay_s": 0, "reserve": None}


@dataclass
class Current:
    """The tenant's configuration now: per kind, code → full values; plus the rows, for updates."""

    timezone: str
    segments: list[str] | None
    country: str = "ES"
    flows: set[str] = field(default_factory=set)  # the codes of the published flows
    taken: set[tuple[str, str]] = field(default_factory=set)  # (kind, address) of other contact centers
    items: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)  # the stored `metrics:` settings (defaults left out)

    def codes(self, kind: str) -> set[str]:
        return set(self.items.get(kind, {}))


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value


def _sorted_profile(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(entries, key=lambda e: (e["rank"], e["queue"]))


def desired(kind: str, model: BaseModel, timezone: str, country: str = "ES") -> dict[str, Any]:
    """The full values a file item asks for (without its code); an entry point's address as it is stored
    (a national phone number in the contact center's `country`)."""
    d = model.model_dump(mode="json")
    d.pop("code", None)
    if kind == "prompts":
        return {"es": d.get("es"), "en": d.get("en")}
    if kind == "entry_points":
        with contextlib.suppress(ValueError):  # `check` reports it; the action refuses it
            d["address"] = normalize_address(d["kind"], d["address"], country)
        d["active"] = True
    elif kind == "functions":
        d["active"] = True
    if kind == "hours":
        d["timezone"] = d["timezone"] or timezone
    elif kind == "queues":
        d["channels"] = d["channels"] or list(DEFAULT_CHANNELS)  # an empty list also gets the default
        for key, default in QUEUE_DEFAULTS.items():
            if key != "channels":
                d[key] = _or(d[key], default)
        d["active"] = True
    elif kind == "reasons":
        d["active"] = True
    elif kind == "agents":
        for key, default in AGENT_DEFAULTS.items():
            d[key] = _or(d[key], default)
        d["queues"] = _sorted_profile(d["queues"])
        d["active"] = True
    return d


def read_current(session: Session, tenant_id: int) -> Current:
    tenant = session.get(t.Tenant, tenant_id)
    assert tenant is not None
    segments = (tenant.settings or {}).get("segments")
    current = Current(
        timezone=tenant.timezone,
        segments=list(segments) if segments else None,
        country=tenant.country or "ES",
        metrics=dict((tenant.settings or {}).get("metrics") or {}),
    )
    current.flows = set(
        session.scalars(
            select(t.ContactFlow.code).where(t.ContactFlow.tenant_id == tenant_id, t.ContactFlow.current_version > 0)
        )
    )
    current.taken = {
        (kind, address)
        for kind, address in session.execute(
            select(t.EntryPoint.kind, t.EntryPoint.address).where(t.EntryPoint.tenant_id != tenant_id)
        )
    }
    items: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in KINDS}
    rows: dict[str, dict[str, Any]] = {kind: {} for kind in KINDS}

    for skill in list_by_code(session, t.Skill, tenant_id):
        items["skills"][skill.code] = {"name": skill.name}
        rows["skills"][skill.code] = skill
    for away in list_by_code(session, t.AwayReason, tenant_id):
        items["away_reasons"][away.code] = {
            "name_es": away.name_es,
            "name_en": away.name_en,
            "productive": away.productive,
        }
        rows["away_reasons"][away.code] = away
    hours_codes: dict[int, str] = {}
    for cal in list_by_code(session, t.HoursCalendar, tenant_id):
        hours_codes[cal.id] = cal.code
        items["hours"][cal.code] = {
            "name": cal.name,
            "timezone": cal.timezone,
            "weekly": [dict(i) for i in cal.weekly],
            "overrides": [dict(o) for o in cal.overrides],
        }
        rows["hours"][cal.code] = cal
    for q in list_by_code(session, t.Queue, tenant_id):
        items["queues"][q.code] = {
            "name": q.name,
            "channels": list(q.channels),
            "required_skills": dict(q.required_skills),
            "segment_priority": dict(q.segment_priority),
            "sl_target": {"threshold_s": q.sl_threshold_s, "percent": q.sl_percent},
            "hours": hours_codes.get(q.hours_id) if q.hours_id is not None else None,
            "overflow": dict(q.overflow) if q.overflow else None,
            "max_contacts": q.max_contacts,
            "priority_mode": q.priority_mode,
            "aging_s_per_point": q.aging_s_per_point,
            "agent_selection": q.agent_selection,
            "order_by": list(q.order_by or []),
            "overload": {k: q.overload[k] for k in ("metric", "level1_s", "level2_s")} if q.overload else None,
            "offer_timeout_s": q.offer_timeout_s,
            "default_aht_s": q.default_aht_s,
            "active": q.active,
        }
        rows["queues"][q.code] = q
    group_codes: dict[int, str] = {}
    for g in list_by_code(session, t.ReasonGroup, tenant_id):
        group_codes[g.id] = g.code
        items["reason_groups"][g.code] = {"name_es": g.name_es, "name_en": g.name_en}
        rows["reason_groups"][g.code] = g
    reasons = list_by_code(session, t.Reason, tenant_id)
    reason_codes = {r.id: r.code for r in reasons}
    for r in reasons:
        items["reasons"][r.code] = {
            "group": group_codes.get(r.group_id, ""),
            "parent": reason_codes.get(r.parent_id) if r.parent_id is not None else None,
            "name_es": r.name_es,
            "name_en": r.name_en,
            "avoidable": r.avoidable,
            "active": r.active,
        }
        rows["reasons"][r.code] = r
    for agent in session.scalars(select(t.Agent).where(t.Agent.tenant_id == tenant_id).order_by(t.Agent.code)):
        pub = agent_public(session, agent)
        items["agents"][agent.code] = {
            "name": pub.name,
            "email": pub.email,
            "languages": pub.languages,
            "skills": pub.skills,
            "queues": _sorted_profile([e.model_dump() for e in pub.queues]),
            "capacity": pub.capacity,
            "exclusive_channels": pub.exclusive_channels,
            "max_occupancy": pub.max_occupancy,
            "acw_timeout_s": pub.acw_timeout_s,
            "acw_counts_as_idle": pub.acw_counts_as_idle,
            "max_missed_offers": pub.max_missed_offers,
            "call_selection": pub.call_selection,
            "hourly_cost": pub.hourly_cost,
            "attributes": pub.attributes,
            "active": pub.active,
        }
        rows["agents"][agent.code] = agent
    for prompt in session.scalars(select(t.Prompt).where(t.Prompt.tenant_id == tenant_id)):
        texts = dict(prompt.texts or {})
        items["prompts"][prompt.code] = {"es": texts.get("es"), "en": texts.get("en")}
        rows["prompts"][prompt.code] = prompt
    for fn in list_functions(session, tenant_id):
        items["functions"][fn.code] = {"url": fn.url, "headers": dict(fn.headers or {}), "active": fn.active}
        rows["functions"][fn.code] = fn
    for ep in list_entry_points(session, tenant_id):
        items["entry_points"][ep.code] = {
            "name": ep.name,
            "kind": ep.kind,
            "address": ep.address,
            "flow": ep.flow,
            "language": ep.language,
            "active": ep.active,
        }
        rows["entry_points"][ep.code] = ep
    for article in session.scalars(select(t.KbArticle).where(t.KbArticle.tenant_id == tenant_id)):
        items["knowledge_base"][article.code] = {
            "title": article.title,
            "body": article.body,
            "tags": list(article.tags or []),
            "reasons": list(article.reasons or []),
            "language": article.language,
            "active": article.active,
        }
        rows["knowledge_base"][article.code] = article
    for script in session.scalars(select(t.AgentScript).where(t.AgentScript.tenant_id == tenant_id)):
        items["scripts"][script.code] = {
            "name": script.name,
            "reasons": list(script.reasons or []),
            "language": script.language,
            "steps": [{"title": step["title"], "text": step["text"]} for step in script.steps or []],
            "active": script.active,
        }
        rows["scripts"][script.code] = script
    current.items = items
    current.rows = rows
    return current
