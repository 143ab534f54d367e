"""The configuration file: its schema (the existing Create schemas, one list per kind) and `check`.

`check` reports every problem at once, each as a FieldError with file, line, column and field path:
YAML syntax, duplicate keys, schema errors, and references that resolve neither in the file nor in
the tenant's current configuration (skills, hours, queues, overflow targets, reason groups, parents),
and an entry point's flow among the flows published in the contact center.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from centralita.agents.schemas import AgentCreate, AwayReasonCreate, SkillCreate
from centralita.configuration.state import KINDS, SCHEMAS, Current
from centralita.core.errors import FieldError, field_message
from centralita.core.i18n import _
from centralita.core.located_yaml import Located, Path, load_yaml
from centralita.core.metrics_settings import MetricsSettings
from centralita.entrypoints.schemas import EntryPointCreate, FunctionCreate, normalize_address
from centralita.knowledge.schemas import ArticleCreate, ScriptCreate
from centralita.prompts.library import PromptCreate
from centralita.queues.schemas import HoursCreate, QueueCreate, ReasonCreate, ReasonGroupCreate

__all__ = ["check"]

VERSION = 1
SECTIONS = (*KINDS, "metrics")


class ConfigDocument(BaseModel):
    """A whole configuration file. Every section is optional; items are identified by `code`."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    skills: list[SkillCreate] = Field(default_factory=list)
    away_reasons: list[AwayReasonCreate] = Field(default_factory=list)
    hours: list[HoursCreate] = Field(default_factory=list)
    queues: list[QueueCreate] = Field(default_factory=list)
    reason_groups: list[ReasonGroupCreate] = Field(default_factory=list)
    reasons: list[ReasonCreate] = Field(default_factory=list)
    agents: list[AgentCreate] = Field(default_factory=list)
    prompts: list[PromptCreate] = Field(default_factory=list)
    functions: list[FunctionCreate] = Field(default_factory=list)
    entry_points: list[EntryPointCreate] = Field(default_factory=list)
    knowledge_base: list[ArticleCreate] = Field(default_factory=list)
    scripts: list[ScriptCreate] = Field(default_factory=list)
    metrics: MetricsSettings | None = None


@dataclass
class Item:
    """One valid item of the file: its section, its index in that section, and the validated schema."""

    kind: str
    index: int
    model: Any

    @property
    def code(self) -> str:
        code: str = self.model.code
        return code

    @property
    def path(self) -> Path:
        return (self.kind, self.index)


@dataclass
class Checked:
    """The outcome of `check`: the valid items in file order, and every problem found."""

    located: Located
    items: dict[str, list[Item]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    errors: list[FieldError] = field(default_factory=list)
    file_codes: dict[str, dict[str, int]] = field(default_factory=lambda: {kind: {} for kind in KINDS})
    raw: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    metrics: MetricsSettings | None = None  # the `metrics:` mapping, when the file has one

    @property
    def source(self) -> str:
        return self.located.source

    @property
    def ok(self) -> bool:
        return not self.errors

    def document(self) -> ConfigDocument:
        """The valid items as one document (meaningful when `ok`)."""
        return ConfigDocument.model_validate(
            {**{kind: [i.model for i in self.items[kind]] for kind in KINDS}, "metrics": self.metrics}
        )

    def error(self, path: Path, message: str, at_key: bool = False) -> None:
        self.errors.append(self.located.error(path, message, at_key))


def _message(err: Any) -> str:
    return field_message(err)


def _parse(checked: Checked) -> None:
    located = checked.located
    data = located.data
    if data is None:
        return
    if not isinstance(data, dict):
        checked.error((), _("the file must be a mapping with sections: {sections}", sections=", ".join(SECTIONS)))
        return
    for key, value in data.items():
        if key == "version":
            if value != VERSION:
                checked.error(
                    ("version",),
                    _(
                        "unsupported version {value!r}; this Centralita reads version {version}",
                        value=value,
                        version=VERSION,
                    ),
                )
            continue
        if key == "metrics":
            _parse_metrics(checked, value)
            continue
        if key not in SCHEMAS:
            checked.error(
                (key,),
                _("unknown section {key!r}; one of version, {sections}", key=key, sections=", ".join(SECTIONS)),
                at_key=True,
            )
            continue
        if value is None:
            continue
        if not isinstance(value, list):
            checked.error((key,), _("{key} must be a list of items, each with a code", key=key))
            continue
        schema = SCHEMAS[key]
        for index, raw in enumerate(value):
            if isinstance(raw, dict) and isinstance(raw.get("code"), str):
                code = raw["code"]
                first = checked.file_codes[key].get(code)
                if first is not None:
                    line = located.position((key, first, "code"))[0]
                    checked.error(
                        (key, index, "code"),
                        _("{code!r} is defined twice (first at line {line})", code=code, line=line),
                    )
                    continue
                checked.file_codes[key][code] = index
                checked.raw[key].append((index, raw))
            try:
                model = schema.model_validate(raw)
            except ValidationError as exc:
                for err in exc.errors():
                    path: Path = (key, index, *err["loc"])
                    checked.error(path, _message(err), at_key=err["type"] == "extra_forbidden")
                continue
            checked.items[key].append(Item(key, index, model))


def _parse_metrics(checked: Checked, value: Any) -> None:
    """The `metrics:` mapping: the KPI variants and the cost model (one mapping, not a list of items)."""
    if value is None:
        return
    if not isinstance(value, dict):
        checked.error(("metrics",), _("metrics must be a mapping of settings"))
        return
    try:
        checked.metrics = MetricsSettings.model_validate(value)
    except ValidationError as exc:
        for err in exc.errors():
            checked.error(("metrics", *err["loc"]), _message(err), at_key=err["type"] == "extra_forbidden")


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _keys(value: Any) -> list[str]:
    return [k for k in value if isinstance(k, str)] if isinstance(value, dict) else []


def _check_references(checked: Checked, current: Current | None) -> None:
    """References between items, checked on every item that has a code (valid or not), so one run reports
    a bad level and an unknown queue of the same agent together."""

    def known(kind: str) -> set[str]:
        return set(checked.file_codes[kind]) | (current.codes(kind) if current else set())

    skills, hours, queues = known("skills"), known("hours"), known("queues")
    groups, reasons = known("reason_groups"), known("reasons")
    segments = current.segments if current else None

    for index, q in checked.raw["queues"]:
        path: Path = ("queues", index)
        for skill in _keys(q.get("required_skills")):
            if skill not in skills:
                checked.error((*path, "required_skills", skill), _("unknown skill {code!r}", code=skill), at_key=True)
        for segment in _keys(q.get("segment_priority")):
            if segments and segment not in segments:
                checked.error(
                    (*path, "segment_priority", segment), _("unknown segment {code!r}", code=segment), at_key=True
                )
        calendar = _str(q.get("hours"))
        if calendar is not None and calendar not in hours:
            checked.error((*path, "hours"), _("unknown hours calendar {code!r}", code=calendar))
        overflow = q.get("overflow")
        if isinstance(overflow, dict):
            target = _str(overflow.get("queue"))
            if target is not None and target == q.get("code"):
                checked.error((*path, "overflow", "queue"), _("a queue cannot overflow to itself"))
            elif target is not None and target not in queues:
                checked.error((*path, "overflow", "queue"), _("unknown queue {code!r}", code=target))
            if overflow.get("after_s") is None and not overflow.get("when_unstaffed"):
                checked.error((*path, "overflow"), _("set after_s, when_unstaffed, or both"), at_key=True)

    for index, a in checked.raw["agents"]:
        path = ("agents", index)
        for skill in _keys(a.get("skills")):
            if skill not in skills:
                checked.error((*path, "skills", skill), _("unknown skill {code!r}", code=skill), at_key=True)
        profile = a.get("queues")
        seen: set[str] = set()
        for j, entry in enumerate(profile if isinstance(profile, list) else []):
            queue = _str(entry.get("queue")) if isinstance(entry, dict) else None
            if queue is None:
                continue
            where = (*path, "queues", j, "queue")
            if queue in seen:
                checked.error(where, _("queue {code!r} is listed twice", code=queue))
            elif queue not in queues:
                checked.error(where, _("unknown queue {code!r}", code=queue))
            seen.add(queue)

    # reasons: two levels, a sub-reason in its parent's group; an existing reason keeps its place
    file_reasons = {r["code"]: r for _i, r in checked.raw["reasons"]}
    stored = current.items["reasons"] if current else {}
    for index, r in checked.raw["reasons"]:
        path = ("reasons", index)
        code, group, parent = r["code"], _str(r.get("group")), _str(r.get("parent"))
        if group is not None and group not in groups:
            checked.error((*path, "group"), _("unknown reason group {code!r}", code=group))
        if parent is not None:
            parent_group: str | None = None
            parent_parent: str | None = None
            if parent == code:
                checked.error((*path, "parent"), _("a reason cannot be its own parent"))
            elif parent in file_reasons:
                parent_group, parent_parent = (
                    _str(file_reasons[parent].get("group")),
                    file_reasons[parent].get("parent"),
                )
            elif parent in stored:
                parent_group, parent_parent = stored[parent]["group"], stored[parent]["parent"]
            elif parent not in reasons:
                checked.error((*path, "parent"), _("unknown reason {code!r}", code=parent))
            if parent_parent is not None:
                checked.error(
                    (*path, "parent"), _("{code!r} is itself a sub-reason; the taxonomy has two levels", code=parent)
                )
            elif group is not None and parent_group is not None and parent_group != group:
                checked.error(
                    (*path, "group"), _("a sub-reason must be in its parent's group {group!r}", group=parent_group)
                )
        before = stored.get(code)
        if before is not None:
            for key, value in (("group", group), ("parent", parent)):
                if (key == "parent" or value is not None) and before[key] != value:
                    checked.error(
                        (*path, key),
                        _(
                            "reason {code!r} has {key} {value!r}; an existing reason cannot move "
                            "(create a new code and deactivate this one)",
                            code=code,
                            key=key,
                            value=before[key],
                        ),
                    )

    for kind in ("knowledge_base", "scripts"):
        for index, item in checked.raw[kind]:
            listed = item.get("reasons")
            for j, reason in enumerate(listed if isinstance(listed, list) else []):
                if isinstance(reason, str) and reason not in reasons:
                    checked.error((kind, index, "reasons", j), _("unknown reason {code!r}", code=reason))

    _check_entry_points(checked, current)


def _check_entry_points(checked: Checked, current: Current | None) -> None:
    """Entry points: the flow published in the contact center (only with `current`: the file cannot hold
    flows), and each address used once, in the file and among the other contact centers."""
    seen: dict[tuple[str, str], int] = {}
    for index, e in checked.raw["entry_points"]:
        path: Path = ("entry_points", index)
        flow = _str(e.get("flow"))
        if current is not None and flow is not None and flow not in current.flows:
            checked.error(
                (*path, "flow"),
                _(
                    "no published flow {code!r} in this contact center; publish it first (centralita flow publish)",
                    code=flow,
                ),
            )
        kind, raw = _str(e.get("kind")), _str(e.get("address"))
        if kind is None or raw is None:
            continue
        try:
            address = normalize_address(kind, raw, current.country if current else None)
        except ValueError as exc:
            if current is not None and kind == "phone":  # the schema checked the shape; this, the number
                checked.error((*path, "address"), str(exc))
            continue
        first = seen.get((kind, address))
        if first is not None:
            line = checked.located.position(("entry_points", first, "address"))[0]
            checked.error(
                (*path, "address"),
                _("address {address!r} is used twice (first at line {line})", address=address, line=line),
            )
            continue
        seen[(kind, address)] = index
        if current is not None and (kind, address) in current.taken:
            checked.error((*path, "address"), _("that address is already an entry point of a contact center"))


def check(text: str, source: str, current: Current | None = None) -> Checked:
    """Every problem of a configuration file; with `current`, references may also name stored items."""
    checked = Checked(located=load_yaml(text, source))
    checked.errors.extend(checked.located.errors)
    _parse(checked)
    _check_references(checked, current)
    checked.errors.sort(key=lambda e: (e.line or 0, e.column or 0))
    return checked
