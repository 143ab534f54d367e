"""Write the tenant's configuration as a YAML file that `apply` reads back as a no-op.

Only active queues, reasons, agents, functions and entry points are written (a file lists what is in use);
settings equal to their defaults are left out, so the file reads like one written by hand. Functions are
written with their header values (API keys, often), so that applying the file back changes nothing: keep
an export private.
"""

from __future__ import annotations

import io
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString
from sqlalchemy.orm import Session

from centralita.configuration.document import VERSION
from centralita.configuration.state import (
    AGENT_DEFAULTS,
    DEACTIVATABLE,
    ENTRY_POINT_DEFAULTS,
    FUNCTION_DEFAULTS,
    KINDS,
    OVERFLOW_DEFAULTS,
    PROFILE_DEFAULTS,
    QUEUE_DEFAULTS,
    Current,
    read_current,
)

__all__ = ["export_config"]

_HHMM = re.compile(r"^\d{1,2}:\d{2}$")
_FLOW_WIDTH = 90


def _strip(values: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in defaults or defaults[k] != v}


def _interval(i: dict[str, Any]) -> dict[str, Any]:
    return {**({"day": i["day"]} if "day" in i else {}), "start": i["start"], "end": i["end"]}


def _override(o: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"date": o["date"]}
    if o.get("name"):
        out["name"] = o["name"]
    if not o.get("closed", True):
        out["closed"] = False
        out["intervals"] = [_interval(i) for i in o.get("intervals", [])]
    return out


def _item(kind: str, code: str, values: dict[str, Any], timezone: str) -> dict[str, Any]:
    values = {k: v for k, v in values.items() if k != "active"}
    if kind == "hours":
        if values["timezone"] == timezone:
            values.pop("timezone")
        values["weekly"] = [_interval(i) for i in values["weekly"]]
        values["overrides"] = [_override(o) for o in values["overrides"]]
        values = _strip(values, {"weekly": [], "overrides": []})
    elif kind == "queues":
        values = _strip(values, QUEUE_DEFAULTS)
        if values.get("overflow"):
            overflow = values["overflow"]
            ordered = {k: overflow[k] for k in ("queue", *OVERFLOW_DEFAULTS) if k in overflow}
            values["overflow"] = _strip(ordered, OVERFLOW_DEFAULTS)
    elif kind == "reasons":
        values = _strip(values, {"parent": None, "avoidable": False})
    elif kind == "away_reasons":
        values = _strip(values, {"productive": False})
    elif kind == "agents":
        values = _strip(values, AGENT_DEFAULTS)
        if "queues" in values:
            values["queues"] = [_strip(e, PROFILE_DEFAULTS) for e in values["queues"]]
    elif kind == "prompts":
        values = _strip(values, {"es": None, "en": None})
    elif kind == "entry_points":
        values = _strip(values, ENTRY_POINT_DEFAULTS)
    elif kind == "functions":
        values = _strip(values, FUNCTION_DEFAULTS)
    elif kind == "knowledge_base":
        values = _strip(values, {"tags": [], "reasons": [], "language": "es"})
    elif kind == "scripts":
        values = _strip(values, {"reasons": [], "language": "es"})
    return {"code": code, **values}


def export_document(current: Current) -> dict[str, Any]:
    """The configuration as plain data, in file order (reasons: parents before their sub-reasons)."""
    doc: dict[str, Any] = {"version": VERSION}
    for kind in KINDS:
        entries = current.items[kind]
        codes = [c for c in sorted(entries) if kind not in DEACTIVATABLE or entries[c]["active"]]
        if kind == "reasons":
            codes.sort(key=lambda c: (entries[c]["group"], entries[c]["parent"] is not None, c))
        if codes:
            doc[kind] = [_item(kind, c, entries[c], current.timezone) for c in codes]
    if current.metrics:
        doc["metrics"] = current.metrics
    return doc


def _short(values: list[Any]) -> bool:
    return (
        all(not isinstance(v, dict | list) and not (isinstance(v, str) and _literal(v)) for v in values)
        and len(repr(values)) <= _FLOW_WIDTH
    )


_NOT_LITERAL = re.compile(r"[\t\r]| \n")


def _literal(text: str) -> bool:
    """Whether a multi-line text (an article's Markdown) reads back the same from a `|` block: several
    lines, one final line break, no leading blank, no tab, CR or trailing space."""
    body = text.removesuffix("\n")
    return (
        text.endswith("\n")
        and "\n" in body
        and not body.endswith("\n")
        and not text.startswith((" ", "\n"))
        and _NOT_LITERAL.search(text) is None
    )


def _styled(value: Any, depth: int = 0) -> Any:
    """ruamel values: short mappings and lists of scalars in flow style; times of day quoted."""
    if isinstance(value, dict):
        m = CommentedMap((k, _styled(v, depth + 1)) for k, v in value.items())
        if depth >= 2 and _short([*value.keys(), *value.values()]):
            m.fa.set_flow_style()
        return m
    if isinstance(value, list):
        seq = CommentedSeq(_styled(v, depth + 1) for v in value)
        if _short(value):
            seq.fa.set_flow_style()
        return seq
    if isinstance(value, str) and _HHMM.match(value):
        return DoubleQuotedScalarString(value)
    if isinstance(value, str) and _literal(value):
        return LiteralScalarString(value)
    return value


def dump_yaml(doc: dict[str, Any]) -> str:
    yaml = YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 120
    out = io.StringIO()
    yaml.dump(_styled(doc), out)
    return out.getvalue()


def export_config(session: Session, tenant_id: int) -> str:
    """The tenant's configuration as YAML text (see `export_document`)."""
    text = dump_yaml(export_document(read_current(session, tenant_id)))
    return "# Centralita configuration: `centralita config apply` reads this file back.\n" + text
