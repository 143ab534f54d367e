"""Plan and apply a configuration file: create, update or leave each item by code, in one transaction.

`do_apply_config` is the action: it checks the file against the tenant's current configuration, plans
the difference, and runs it through the existing `do_*` actions inside the caller's write transaction,
so any failure changes nothing. Applying the same file again plans nothing and writes no event.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.orm import Session

from centralita.accounts.actions import do_update_tenant_settings
from centralita.accounts.schemas import TenantSettingsUpdate
from centralita.agents.actions import (
    do_create_agent,
    do_create_away_reason,
    do_create_skill,
    do_delete_agent,
    do_update_agent,
    do_update_away_reason,
    do_update_skill,
)
from centralita.agents.schemas import AgentCreate, AgentUpdate, AwayReasonCreate, SkillCreate, SkillUpdate
from centralita.configuration.document import Checked, Item, check
from centralita.configuration.state import DEACTIVATABLE, KINDS, Current, desired, read_current
from centralita.core.actor import Actor
from centralita.core.errors import CentralitaError, FieldError, InvalidInput
from centralita.core.i18n import _
from centralita.core.located_yaml import Path
from centralita.entrypoints.actions import (
    do_create_entry_point,
    do_create_function,
    do_update_entry_point,
    do_update_function,
)
from centralita.entrypoints.schemas import EntryPointCreate, EntryPointUpdate, FunctionCreate, FunctionUpdate
from centralita.events.log import append_event
from centralita.knowledge.actions import do_put_article, do_put_script
from centralita.knowledge.schemas import ArticleCreate, ScriptCreate
from centralita.prompts.library import PromptCreate, do_save_prompt
from centralita.queues.actions import (
    do_create_hours,
    do_create_queue,
    do_create_reason,
    do_create_reason_group,
    do_delete_queue,
    do_delete_reason,
    do_update_hours,
    do_update_queue,
    do_update_reason,
    do_update_reason_group,
)
from centralita.queues.schemas import (
    HoursCreate,
    HoursUpdate,
    QueueCreate,
    QueueUpdate,
    ReasonCreate,
    ReasonGroupCreate,
    ReasonUpdate,
)
from centralita.store import tables as t
from centralita.store.lookup import get_by_code

__all__ = ["UNCHANGED", "Plan", "do_apply_config", "invalid"]

CREATE, UPDATE, UNCHANGED, DEACTIVATE = "create", "update", "unchanged", "deactivate"
ACTIONS = (CREATE, UPDATE, DEACTIVATE, UNCHANGED)


@dataclass
class Step:
    """What applying the file does to one item."""

    kind: str
    code: str
    action: str
    fields: list[str] = field(default_factory=list)
    item: Item | None = None
    values: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "code": self.code, "action": self.action, "fields": self.fields}


@dataclass
class Plan:
    source: str
    steps: list[Step] = field(default_factory=list)
    applied: bool = False

    @property
    def changed(self) -> bool:
        return any(s.action != UNCHANGED for s in self.steps)

    def counts(self) -> dict[str, int]:
        counter = Counter(s.action for s in self.steps)
        return {action: counter.get(action, 0) for action in ACTIONS}

    def summary(self) -> dict[str, dict[str, int]]:
        """Per kind, how many items are created, updated, deactivated and unchanged (kinds in the plan only)."""
        out: dict[str, dict[str, int]] = {}
        for step in self.steps:
            per = out.setdefault(step.kind, dict.fromkeys(ACTIONS, 0))
            per[step.action] += 1
        return out


def make_plan(checked: Checked, current: Current, prune: bool = False) -> Plan:
    plan = Plan(source=checked.source)
    for kind in KINDS:
        items = checked.items[kind]
        if kind == "reasons":
            items = sorted(items, key=lambda i: i.model.parent is not None)  # parents first
        for item in items:
            want = desired(kind, item.model, current.timezone, current.country)
            have = current.items[kind].get(item.code)
            if have is None:
                plan.steps.append(Step(kind, item.code, CREATE, [], item, want))
                continue
            fields = [key for key, value in want.items() if have.get(key) != value]
            action = UPDATE if fields else UNCHANGED
            plan.steps.append(Step(kind, item.code, action, fields, item, {k: want[k] for k in fields}))
    if checked.metrics is not None:
        want_metrics = checked.metrics.model_dump(mode="json", exclude_defaults=True)
        changed = sorted(
            k for k in want_metrics.keys() | current.metrics.keys() if want_metrics.get(k) != current.metrics.get(k)
        )
        action = UNCHANGED if not changed else UPDATE if current.metrics else CREATE
        plan.steps.append(Step("metrics", "metrics", action, changed))
    if prune:
        for kind in DEACTIVATABLE:
            in_file = set(checked.file_codes[kind])
            for code, have in current.items[kind].items():
                if have.get("active") and code not in in_file:
                    plan.steps.append(Step(kind, code, DEACTIVATE))
    return plan


def _located_errors(checked: Checked, path: Path, exc: CentralitaError) -> list[FieldError]:
    """An action's error, placed in the file: its field paths are relative to the item at `path`."""
    if not exc.errors:
        return [checked.located.error(path, exc.detail)]
    return [checked.located.error((*path, *e.loc), e.message) for e in exc.errors]


def _queue_order(steps: list[Step]) -> list[Step]:
    """Queues whose overflow target is also being written come after that target (cycles: file order)."""
    by_code = {s.code: s for s in steps}
    order: list[Step] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(step: Step) -> None:
        if state.get(step.code):
            return
        state[step.code] = 1
        overflow = step.values.get("overflow")
        target = by_code.get(overflow["queue"]) if overflow else None
        if target is not None:
            visit(target)
        state[step.code] = 2
        order.append(step)

    for step in steps:
        visit(step)
    return order


@contextmanager
def _placed(checked: Checked, step: Step) -> Iterator[None]:
    """An action's error, placed at the item in the file (the transaction then rolls everything back)."""
    try:
        yield
    except CentralitaError as exc:
        path: Path = step.item.path if step.item else (step.kind,)
        raise InvalidInput(
            _(
                "{source}: {kind} {code!r} could not be applied: {detail}",
                source=checked.source,
                kind=step.kind,
                code=step.code,
                detail=exc.detail,
            ),
            _located_errors(checked, path, exc),
        ) from exc


def _no_active(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k != "active"}


def _write(session: Session, actor: Actor, step: Step, current: Current) -> None:
    """Create or update one item through its action. `step.values`: all settings, or only the changed ones."""
    code, values = step.code, step.values
    row: Any = current.rows[step.kind].get(step.code)
    create = step.action == CREATE
    full = desired(step.kind, step.item.model, current.timezone, current.country) if step.item else {}
    if step.kind == "skills":
        if create:
            do_create_skill(session, actor, SkillCreate(code=code, **values))
        else:
            do_update_skill(session, actor, row, SkillUpdate(**values))
    elif step.kind == "away_reasons":
        away = AwayReasonCreate(code=code, **full)
        if create:
            do_create_away_reason(session, actor, away)
        else:
            do_update_away_reason(session, actor, row, away)
    elif step.kind == "hours":
        if create:
            do_create_hours(session, actor, HoursCreate(code=code, **values))
        else:
            do_update_hours(session, actor, row, HoursUpdate(**values))
    elif step.kind == "queues":
        if create:
            do_create_queue(session, actor, QueueCreate(code=code, **_no_active(values)))
        else:
            do_update_queue(session, actor, row, QueueUpdate(**values))
    elif step.kind == "reason_groups":
        group = ReasonGroupCreate(code=code, **full)
        if create:
            do_create_reason_group(session, actor, group)
        else:
            do_update_reason_group(session, actor, row, group)
    elif step.kind == "reasons":
        if create:
            do_create_reason(session, actor, ReasonCreate(code=code, **_no_active(values)))
        else:
            do_update_reason(session, actor, row, ReasonUpdate(**values))
    elif step.kind == "agents":
        if create:
            do_create_agent(session, actor, AgentCreate(code=code, **_no_active(values)))
        else:
            do_update_agent(session, actor, row, AgentUpdate(**values))
    elif step.kind == "prompts":
        do_save_prompt(session, actor, PromptCreate(code=code, **full))
    elif step.kind == "functions":
        if create:
            do_create_function(session, actor, FunctionCreate(code=code, **_no_active(values)))
        else:
            do_update_function(session, actor, row, FunctionUpdate(**values))
    elif step.kind == "entry_points":
        if create:
            do_create_entry_point(session, actor, EntryPointCreate(code=code, **_no_active(values)))
        else:
            do_update_entry_point(session, actor, row, EntryPointUpdate(**values))
    elif step.kind == "knowledge_base":
        do_put_article(session, actor, ArticleCreate(code=code, **full))
    elif step.kind == "scripts":
        do_put_script(session, actor, ScriptCreate(code=code, **full))


def _run(session: Session, actor: Actor, checked: Checked, current: Current, plan: Plan) -> None:
    writes = [s for s in plan.steps if s.action in (CREATE, UPDATE) and s.kind != "metrics"]
    ordered: list[Step] = []
    for kind in KINDS:
        of_kind = [s for s in writes if s.kind == kind]
        ordered.extend(_queue_order(of_kind) if kind == "queues" else of_kind)

    queues = current.codes("queues")
    deferred: list[Step] = []
    for step in ordered:
        if step.kind == "queues":
            overflow = step.values.get("overflow")
            if overflow and overflow["queue"] not in queues:  # a cycle: set it once its target exists
                deferred.append(replace(step, action=UPDATE, values={"overflow": overflow}))
                step = replace(step, values={**step.values, "overflow": None})
            queues.add(step.code)
        with _placed(checked, step):
            _write(session, actor, step, current)

    for step in deferred:
        row = get_by_code(session, t.Queue, actor.tenant_id, step.code)
        with _placed(checked, step):
            do_update_queue(session, actor, row, QueueUpdate(**step.values))  # type: ignore[arg-type]

    if checked.metrics is not None and any(s.kind == "metrics" and s.action != UNCHANGED for s in plan.steps):
        do_update_tenant_settings(session, actor, TenantSettingsUpdate(metrics=checked.metrics))

    for step in plan.steps:
        if step.action != DEACTIVATE:
            continue
        row = current.rows[step.kind][step.code]
        with _placed(checked, step):
            if step.kind == "queues":
                do_delete_queue(session, actor, row)
            elif step.kind == "reasons":
                do_delete_reason(session, actor, row)
            elif step.kind == "agents":
                do_delete_agent(session, actor, row)
            elif step.kind == "functions":
                do_update_function(session, actor, row, FunctionUpdate(active=False))
            elif step.kind == "entry_points":
                do_update_entry_point(session, actor, row, EntryPointUpdate(active=False))
            elif step.kind == "knowledge_base":
                have = {**current.items[step.kind][step.code], "active": False}
                do_put_article(session, actor, ArticleCreate(code=step.code, **have))
            elif step.kind == "scripts":
                have = {**current.items[step.kind][step.code], "active": False}
                do_put_script(session, actor, ScriptCreate(code=step.code, **have))


def invalid(checked: Checked) -> InvalidInput:
    n = len(checked.errors)
    if n == 1:
        detail = _("{source}: 1 problem; nothing was changed", source=checked.source)
    else:
        detail = _("{source}: {n} problems; nothing was changed", source=checked.source, n=n)
    return InvalidInput(detail, list(checked.errors))


def do_apply_config(
    session: Session, actor: Actor, text: str, source: str, *, prune: bool = False, dry_run: bool = False
) -> Plan:
    """Check the file, plan it and (unless `dry_run`) apply it in the caller's transaction.

    Raises InvalidInput with every problem (each with file, line and column) before writing anything.
    Writes one `config.applied` event after the items' own events, only when something changed.
    """
    current = read_current(session, actor.tenant_id)
    checked = check(text, source, current)
    if not checked.ok:
        raise invalid(checked)
    plan = make_plan(checked, current, prune)
    if dry_run or not plan.changed:
        return plan
    _run(session, actor, checked, current, plan)
    append_event(
        session,
        actor.tenant_id,
        "config.applied",
        actor.now(),
        {"source": source, "summary": plan.summary(), "prune": prune},
        user_id=actor.user_id,
    )
    plan.applied = True
    return plan
