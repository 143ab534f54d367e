"""Actions for hours calendars, queues and contact reasons: the only writers of those tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from centralita.core.actor import Actor
from centralita.core.diff import apply_changes
from centralita.core.errors import Conflict, ErrorList, InvalidInput
from centralita.core.i18n import _
from centralita.events.log import append_event
from centralita.queues.schemas import (
    HoursCreate,
    HoursUpdate,
    QueueCreate,
    QueueFields,
    QueueUpdate,
    ReasonCreate,
    ReasonGroupCreate,
    ReasonUpdate,
    order_by_needed,
)
from centralita.store import tables as t
from centralita.store.lookup import resolve_code

__all__ = [
    "do_create_hours",
    "do_create_queue",
    "do_create_reason",
    "do_create_reason_group",
    "do_delete_queue",
    "do_delete_reason",
    "do_update_hours",
    "do_update_queue",
    "do_update_reason",
    "do_update_reason_group",
]


def _ensure_new_code(session: Session, actor: Actor, model: Any, code: str, what: str) -> None:
    if session.scalar(select(model.id).where(model.tenant_id == actor.tenant_id, model.code == code)) is not None:
        raise Conflict(_already_exists(what, code), [])


def _already_exists(what: str, code: str) -> str:
    messages = {
        "hours calendar": lambda: _("hours calendar {code!r} already exists", code=code),
        "queue": lambda: _("queue {code!r} already exists", code=code),
        "reason group": lambda: _("reason group {code!r} already exists", code=code),
        "reason": lambda: _("reason {code!r} already exists", code=code),
    }
    return messages[what]()


# hours ---------------------------------------------------------------------------------------------


def do_create_hours(session: Session, actor: Actor, data: HoursCreate) -> t.HoursCalendar:
    _ensure_new_code(session, actor, t.HoursCalendar, data.code, "hours calendar")
    tenant = session.get(t.Tenant, actor.tenant_id)
    assert tenant is not None
    dumped = data.model_dump(mode="json")
    row = t.HoursCalendar(
        tenant_id=actor.tenant_id,
        code=data.code,
        name=data.name,
        timezone=data.timezone or tenant.timezone,
        weekly=dumped["weekly"],
        overrides=dumped["overrides"],
    )
    session.add(row)
    session.flush()
    append_event(session, actor.tenant_id, "hours.created", actor.now(), {"code": row.code}, user_id=actor.user_id)
    return row


def do_update_hours(session: Session, actor: Actor, row: t.HoursCalendar, data: HoursUpdate) -> t.HoursCalendar:
    values = data.model_dump(mode="json", exclude_unset=True)
    for key in ("name", "timezone", "weekly", "overrides"):
        if key in values and values[key] is None:
            raise InvalidInput.field(key, _("must not be null"))
    changes = apply_changes(row, values)
    if changes:
        append_event(
            session,
            actor.tenant_id,
            "hours.updated",
            actor.now(),
            {"code": row.code, "changes": changes},
            user_id=actor.user_id,
        )
    return row


def do_delete_hours(session: Session, actor: Actor, row: t.HoursCalendar) -> None:
    users = list(session.scalars(select(t.Queue.code).where(t.Queue.hours_id == row.id)))
    if users:
        raise Conflict(
            _("hours calendar {code!r} is used by queue(s) {queues}", code=row.code, queues=", ".join(users))
        )
    session.delete(row)
    append_event(session, actor.tenant_id, "hours.deleted", actor.now(), {"code": row.code}, user_id=actor.user_id)


# queues --------------------------------------------------------------------------------------------


def _queue_values(session: Session, actor: Actor, data: QueueFields, fields: set[str]) -> dict[str, Any]:
    errors = ErrorList()
    raw = data.model_dump(include=fields)
    values: dict[str, Any] = {}
    for key in (
        "channels",
        "required_skills",
        "segment_priority",
        "max_contacts",
        "priority_mode",
        "aging_s_per_point",
        "agent_selection",
        "order_by",
        "overload",
        "offer_timeout_s",
        "default_aht_s",
        "name",
        "active",
    ):
        if key in raw:
            values[key] = raw[key]
    for key in (
        "channels",
        "required_skills",
        "segment_priority",
        "priority_mode",
        "aging_s_per_point",
        "agent_selection",
        "order_by",
        "offer_timeout_s",
        "default_aht_s",
        "name",
        "active",
    ):
        if key in values and values[key] is None:
            errors.add([key], _("must not be null"))
    if "sl_target" in raw:
        if raw["sl_target"] is None:
            errors.add(["sl_target"], _("must not be null"))
        else:
            values["sl_threshold_s"] = raw["sl_target"]["threshold_s"]
            values["sl_percent"] = raw["sl_target"]["percent"]
    for skill in raw.get("required_skills") or {}:
        if (
            session.scalar(select(t.Skill.id).where(t.Skill.tenant_id == actor.tenant_id, t.Skill.code == skill))
            is None
        ):
            errors.add(["required_skills", skill], _("unknown skill {code!r}", code=skill))
    tenant = session.get(t.Tenant, actor.tenant_id)
    allowed_segments = (tenant.settings or {}).get("segments") if tenant else None
    for segment in raw.get("segment_priority") or {}:
        if allowed_segments and segment not in allowed_segments:
            errors.add(["segment_priority", segment], _("unknown segment {code!r}", code=segment))
    if "hours" in raw:
        try:
            values["hours_id"] = resolve_code(session, actor, t.HoursCalendar, raw["hours"], "hours")
        except InvalidInput as exc:
            errors.errors.extend(exc.errors)
    if "overflow" in raw:
        overflow = raw["overflow"]
        if overflow is not None:
            target = session.scalar(
                select(t.Queue.id).where(t.Queue.tenant_id == actor.tenant_id, t.Queue.code == overflow["queue"])
            )
            if target is None and overflow["queue"] != getattr(data, "code", None):
                errors.add(["overflow", "queue"], _("unknown queue {code!r}", code=overflow["queue"]))
            if overflow["queue"] == getattr(data, "code", None):
                errors.add(["overflow", "queue"], _("a queue cannot overflow to itself"))
            if overflow["after_s"] is None and not overflow["when_unstaffed"]:
                errors.add(["overflow", "after_s"], _("set after_s, when_unstaffed, or both"))
        values["overflow"] = overflow
    errors.raise_if_any(_("the queue is not valid"))
    return values


def do_create_queue(session: Session, actor: Actor, data: QueueCreate) -> t.Queue:
    _ensure_new_code(session, actor, t.Queue, data.code, "queue")
    values = _queue_values(session, actor, data, data.model_fields_set | {"name"})
    row = t.Queue(tenant_id=actor.tenant_id, code=data.code, **values)
    if not row.channels:
        row.channels = ["voice", "chat", "email"]
    session.add(row)
    session.flush()
    append_event(
        session,
        actor.tenant_id,
        "queue.created",
        actor.now(),
        {"code": row.code, "name": row.name},
        queue_id=row.id,
        user_id=actor.user_id,
    )
    return row


def do_update_queue(session: Session, actor: Actor, row: t.Queue, data: QueueUpdate) -> t.Queue:
    values = _queue_values(session, actor, data, data.model_fields_set)
    if values.get("overflow") and values["overflow"]["queue"] == row.code:
        raise InvalidInput.field(["overflow", "queue"], _("a queue cannot overflow to itself"))
    if values.get("agent_selection", row.agent_selection) == "order_by" and not values.get("order_by", row.order_by):
        raise InvalidInput.field(["order_by"], order_by_needed())
    changes = apply_changes(row, values)
    if changes:
        append_event(
            session,
            actor.tenant_id,
            "queue.updated",
            actor.now(),
            {"code": row.code, "changes": changes},
            queue_id=row.id,
            user_id=actor.user_id,
        )
    return row


def do_delete_queue(session: Session, actor: Actor, row: t.Queue) -> None:
    """Queues are deactivated, never removed: contacts and reports keep pointing at them."""
    if row.active:
        row.active = False
        append_event(
            session,
            actor.tenant_id,
            "queue.deleted",
            actor.now(),
            {"code": row.code},
            queue_id=row.id,
            user_id=actor.user_id,
        )


# reasons -------------------------------------------------------------------------------------------


def do_create_reason_group(session: Session, actor: Actor, data: ReasonGroupCreate) -> t.ReasonGroup:
    _ensure_new_code(session, actor, t.ReasonGroup, data.code, "reason group")
    row = t.ReasonGroup(tenant_id=actor.tenant_id, **data.model_dump())
    session.add(row)
    session.flush()
    append_event(
        session,
        actor.tenant_id,
        "reason.created",
        actor.now(),
        {"code": row.code, "kind": "group"},
        user_id=actor.user_id,
    )
    return row


def do_update_reason_group(
    session: Session, actor: Actor, row: t.ReasonGroup, data: ReasonGroupCreate
) -> t.ReasonGroup:
    """Replace a reason group's names (its code stays)."""
    if data.code != row.code:
        raise InvalidInput.field("code", _("the code of a reason group cannot change"))
    changes = apply_changes(row, data.model_dump(exclude={"code"}))
    if changes:
        append_event(
            session,
            actor.tenant_id,
            "reason.updated",
            actor.now(),
            {"code": row.code, "kind": "group", "changes": changes},
            user_id=actor.user_id,
        )
    return row


def do_create_reason(session: Session, actor: Actor, data: ReasonCreate) -> t.Reason:
    _ensure_new_code(session, actor, t.Reason, data.code, "reason")
    errors = ErrorList()
    group_id = None
    parent_id = None
    try:
        group_id = resolve_code(session, actor, t.ReasonGroup, data.group, "group")
    except InvalidInput as exc:
        errors.errors.extend(exc.errors)
    if data.parent is not None:
        parent = session.scalar(
            select(t.Reason).where(t.Reason.tenant_id == actor.tenant_id, t.Reason.code == data.parent)
        )
        if parent is None:
            errors.add(["parent"], _("unknown reason {code!r}", code=data.parent))
        elif parent.parent_id is not None:
            errors.add(["parent"], _("{code!r} is itself a sub-reason; the taxonomy has two levels", code=data.parent))
        else:
            parent_id = parent.id
            if group_id is not None and parent.group_id != group_id:
                errors.add(["group"], _("a sub-reason must be in its parent's group"))
    errors.raise_if_any(_("the reason is not valid"))
    assert group_id is not None
    row = t.Reason(
        tenant_id=actor.tenant_id,
        code=data.code,
        group_id=group_id,
        parent_id=parent_id,
        name_es=data.name_es,
        name_en=data.name_en,
        avoidable=data.avoidable,
        active=True,
    )
    session.add(row)
    session.flush()
    kind = "sub_reason" if parent_id else "reason"
    append_event(
        session,
        actor.tenant_id,
        "reason.created",
        actor.now(),
        {"code": row.code, "kind": kind},
        user_id=actor.user_id,
    )
    return row


def do_update_reason(session: Session, actor: Actor, row: t.Reason, data: ReasonUpdate) -> t.Reason:
    values = data.model_dump(exclude_unset=True)
    for key, value in values.items():
        if value is None:
            raise InvalidInput.field(key, _("must not be null"))
    changes = apply_changes(row, values)
    if changes:
        kind = "sub_reason" if row.parent_id else "reason"
        append_event(
            session,
            actor.tenant_id,
            "reason.updated",
            actor.now(),
            {"code": row.code, "kind": kind, "changes": changes},
            user_id=actor.user_id,
        )
    return row


def do_delete_reason(session: Session, actor: Actor, row: t.Reason) -> None:
    """Reasons are deactivated, never removed: past contacts keep their reason."""
    if row.active:
        row.active = False
        append_event(session, actor.tenant_id, "reason.deleted", actor.now(), {"code": row.code}, user_id=actor.user_id)
