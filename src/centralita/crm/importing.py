"""Customer import from a CSV file: every row validated, bad rows reported by line and column, the rest imported.

The file is UTF-8 (with or without a BOM), delimited by `,` or `;` (detected from the header, which is line 1).
Columns: `external_id, name, kind, segment, value_tier, lifecycle_stage, lifetime_value, owner, language,
phone, phone2, email, chat, national_id` and any `attr.<key>` (into the customer's attributes); `name` is
required. Any other column is a file-level error and nothing is imported.

An empty cell means "not given": a new customer takes the default, a matched customer keeps what it has.

Idempotence: a row matches an existing customer by `external_id`, else by any of its identities (phone,
e-mail, chat id, national id) already in the contact center. A matched customer is updated only when the row
differs (`do_update_customer`, `do_add_identity` for identities it lacks); an unmatched row creates one
(`do_create_customer`). A row with neither an external_id nor an identity could never be matched again, so it
is rejected. Within a file, an external_id, an identity or a matched customer belongs to one row: a later row
claiming it again is rejected, naming the earlier line. Importing the same file twice changes nothing the
second time except the `customers.imported` summary event.

Rows are checked first (all of them, against the database as it is), then written in batches of `batch_size`
rows, one transaction each: a crash leaves whole batches only, and running the import again finishes the job.
`strict` writes nothing if any row is bad (and writes everything in one transaction); `dry_run` only checks.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from centralita.core.actor import Actor
from centralita.core.errors import CentralitaError, ErrorList, FieldError, InvalidInput, NotFound, field_message
from centralita.core.i18n import _
from centralita.core.phones import normalize_identity
from centralita.crm.actions import _check_classification, do_add_identity, do_create_customer, do_update_customer
from centralita.crm.schemas import LIFECYCLE, CustomerCreate, CustomerUpdate, IdentityCreate
from centralita.events.log import Appended, append_event
from centralita.store import tables as t
from centralita.store.db import Database

__all__ = ["ImportFileError", "ImportResult", "import_customers", "problem_rows"]

PROFILE_COLUMNS = (
    "external_id",
    "name",
    "kind",
    "segment",
    "value_tier",
    "lifecycle_stage",
    "lifetime_value",
    "owner",
    "language",
)
IDENTITY_COLUMNS: dict[str, str] = {
    "phone": "phone",
    "phone2": "phone",
    "email": "email",
    "chat": "chat",
    "national_id": "national_id",
}
COLUMNS = PROFILE_COLUMNS + tuple(IDENTITY_COLUMNS)
ATTR_PREFIX = "attr."
BATCH_SIZE = 500
LOOKUP_CHUNK = 500
_CHOICES: dict[str, tuple[str, ...]] = {
    "kind": ("person", "company"),
    "lifecycle_stage": tuple(LIFECYCLE.strip("^$()").split("|")),
    "language": ("es", "en"),
}
_COMPARED = ("name", "kind", "segment", "value_tier", "lifecycle_stage", "lifetime_value", "language")

# (stage, rows done, rows in the stage); stage is "check" or "import"
ProgressCallback = Callable[[str, int, int], None]


class ImportFileError(InvalidInput):
    """The file as a whole cannot be imported (missing, not UTF-8 CSV, unknown columns): nothing was changed."""


@dataclass(frozen=True)
class RowProblem:
    """Why one row was rejected: its line (header = line 1), the column (empty: the whole row), the message."""

    line: int
    column: str
    message: str
    values: dict[str, str] = field(default_factory=dict, compare=False)

    def __str__(self) -> str:
        return f"{self.line}: {self.column}: {self.message}" if self.column else f"{self.line}: {self.message}"


@dataclass
class ImportResult:
    """What an import did; when `applied` is false (dry run, or strict with bad rows) what it would have done."""

    source: str
    columns: list[str] = field(default_factory=list)
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    dry_run: bool = False
    strict: bool = False
    applied: bool = False

    @property
    def rejected(self) -> int:
        """Number of rejected rows (a row may have several problems)."""
        return len({p.line for p in self.problems})

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class CsvFile:
    source: str
    delimiter: str
    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]
    problems: list[RowProblem]


@dataclass(frozen=True)
class _Identity:
    column: str
    kind: str
    value: str


@dataclass
class _Plan:
    line: int
    values: dict[str, str]
    action: Literal["create", "update", "unchanged"]
    identities: list[_Identity]
    create: CustomerCreate | None = None
    customer_id: int | None = None
    update: CustomerUpdate | None = None
    new_identities: list[_Identity] = field(default_factory=list)


@dataclass
class _Checked:
    line: int
    values: dict[str, str]
    data: CustomerCreate
    owner_id: int | None
    identities: list[_Identity]


@dataclass
class _Known:
    """A stored customer as the import compares it."""

    id: int
    external_id: str | None
    fields: dict[str, Any]
    owner_agent_id: int | None
    attributes: dict[str, Any]
    identities: set[tuple[str, str]]


# --- reading the file -------------------------------------------------------------------------------------------


def _file_error(source: str, message: str, line: int | None = None, column: str | None = None) -> ImportFileError:
    err = FieldError([column] if column else [], message, line=line, source=source)
    return ImportFileError(str(err), [err])


def read_customer_csv(path: Path) -> CsvFile:
    """Read and parse `path`; raises ImportFileError for anything that makes the whole file unusable."""
    source = path.name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise _file_error(str(path), _("no such file")) from None
    except IsADirectoryError:
        raise _file_error(str(path), _("is a directory, not a CSV file")) from None
    except OSError as exc:
        raise _file_error(str(path), _("cannot be read: {reason}", reason=exc.strerror or exc)) from None
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise _file_error(source, _("not a CSV text file (it contains NUL bytes)"), line=line)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _file_error(
            source, _("not UTF-8 text (byte 0x{byte:02x}); save the file as UTF-8", byte=data[exc.start]), line
        ) from None
    return parse_customer_csv(text, source)


def _detect_delimiter(header_line: str) -> str:
    return ";" if header_line.count(";") > header_line.count(",") else ","


def _header(raw: list[str], source: str) -> list[str]:
    columns: list[str] = []
    unknown: list[str] = []
    errors: list[FieldError] = []
    for position, name in enumerate(raw, start=1):
        text = name.strip()
        lowered = text.lower()
        if lowered.startswith(ATTR_PREFIX):
            key = text[len(ATTR_PREFIX) :].strip()
            if not key:
                message = _("an attr. column needs a key, e.g. attr.plan")
                errors.append(FieldError([text], message, line=1, source=source))
            column = ATTR_PREFIX + key
        elif lowered in COLUMNS:
            column = lowered
        else:
            unknown.append(text or _("(empty, position {position})", position=position))
            column = text
        if column in columns:
            errors.append(FieldError([column], _("this column appears twice"), line=1, source=source))
        columns.append(column)
    if unknown:
        names = ", ".join(repr(u) for u in unknown)
        known = ", ".join(COLUMNS)
        if len(unknown) > 1:
            message = _("unknown columns {names}; known: {known}, attr.<key>", names=names, known=known)
        else:
            message = _("unknown column {names}; known: {known}, attr.<key>", names=names, known=known)
        errors.insert(0, FieldError(["columns"], message, line=1, source=source))
    if "name" not in columns and not unknown:
        message = _("the header has no name column (it is required)")
        errors.append(FieldError(["columns"], message, line=1, source=source))
    if errors:
        raise ImportFileError(str(errors[0]), errors)
    return columns


def parse_customer_csv(text: str, source: str) -> CsvFile:
    """Parse CSV text whose first line is the header; rows keep their 1-based starting line number."""
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise _file_error(source, _("the file is empty; the first line must be the header"), line=1)
    delimiter = _detect_delimiter(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[tuple[int, dict[str, str]]] = []
    problems: list[RowProblem] = []
    columns: list[str] | None = None
    end = 0
    try:
        for record in reader:
            start, end = end + 1, reader.line_num
            if columns is None:
                if not any(cell.strip() for cell in record):
                    raise _file_error(source, _("the first line must be the header"), line=1)
                columns = _header(record, source)
                continue
            if not any(cell.strip() for cell in record):
                continue
            values = {col: (record[i].strip() if i < len(record) else "") for i, col in enumerate(columns)}
            if len(record) < len(columns):  # a row that lost a delimiter (or its last columns): never guessed
                message = _(
                    "{fields} fields but the header has {columns} (is a '{delimiter}' missing?)",
                    fields=len(record),
                    columns=len(columns),
                    delimiter=delimiter,
                )
                problems.append(RowProblem(start, "", message, values))
                continue
            if len(record) > len(columns):
                extra = record[len(columns) :]
                if any(cell.strip() for cell in extra):
                    problems.append(
                        RowProblem(
                            start,
                            "",
                            _(
                                "{fields} fields but the header has {columns} (is a '{delimiter}' unquoted?)",
                                fields=len(record),
                                columns=len(columns),
                                delimiter=delimiter,
                            ),
                            values,
                        )
                    )
                    continue
            rows.append((start, values))
    except csv.Error as exc:
        if "end of data" in str(exc):
            message = _("not valid CSV in the row starting here: {error} (a quoted field is never closed?)", error=exc)
        else:
            message = _("not valid CSV in the row starting here: {error}", error=exc)
        raise _file_error(source, message, line=end + 1) from None
    if columns is None:  # pragma: no cover - text.strip() was not empty, so there was a first record
        raise _file_error(source, _("the first line must be the header"), line=1)
    return CsvFile(source=source, delimiter=delimiter, columns=columns, rows=rows, problems=problems)


# --- checking rows ----------------------------------------------------------------------------------------------


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _number(text: str) -> str:
    """Accept a decimal comma ("1250,5") as well as a decimal point."""
    compact = text.replace(" ", "").replace("\u00a0", "")
    if "," in compact and "." not in compact:
        return compact.replace(",", ".")
    return compact


def _schema_problems(exc: ValidationError, values: dict[str, str]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for err in exc.errors():
        loc = err.get("loc") or ()
        name = str(loc[0]) if loc else ""
        column = ATTR_PREFIX + str(loc[1]) if name == "attributes" and len(loc) > 1 else name
        if err["type"] == "missing":
            message = _("is required")
        elif err["type"] == "string_pattern_mismatch" and name in _CHOICES:
            message = _unknown_choice(name, values.get(name, ""))
        else:
            message = field_message(err)
        out.append((column, message))
    return out


def _unknown_choice(name: str, value: str) -> str:
    choices = ", ".join(_CHOICES[name])
    messages = {
        "kind": lambda: _("unknown kind {value!r}; one of {choices}", value=value, choices=choices),
        "lifecycle_stage": lambda: _(
            "unknown lifecycle_stage {value!r}; one of {choices}", value=value, choices=choices
        ),
        "language": lambda: _("unknown language {value!r}; one of {choices}", value=value, choices=choices),
    }
    message = messages.get(name)
    if message is not None:
        return message()
    return _("unknown {field} {value!r}; one of {choices}", field=name, value=value, choices=choices)


def _check_row(
    line: int,
    values: dict[str, str],
    tenant: t.Tenant,
    owners: dict[str, int],
) -> tuple[_Checked | None, list[RowProblem]]:
    """Validate one row on its own (schema, classification, owner, identities); no matching yet."""
    problems: list[RowProblem] = []

    def bad(column: str, message: str) -> None:
        problems.append(RowProblem(line, column, message, values))

    given: dict[str, Any] = {k: values[k] for k in PROFILE_COLUMNS if values.get(k)}
    if "lifetime_value" in given:
        given["lifetime_value"] = _number(given["lifetime_value"])
    attributes = {
        col[len(ATTR_PREFIX) :]: value for col, value in values.items() if col.startswith(ATTR_PREFIX) and value
    }
    if attributes:
        given["attributes"] = attributes
    data: CustomerCreate | None = None
    try:
        data = CustomerCreate(**given)
    except ValidationError as exc:
        for column, message in _schema_problems(exc, values):
            bad(column, message)
    errors = ErrorList()
    _check_classification(tenant, given, errors)
    for err in errors.errors:
        bad(str(err.loc[0]), err.message)
    owner_id: int | None = None
    if given.get("owner"):
        owner_id = owners.get(given["owner"])
        if owner_id is None:
            bad("owner", _("unknown owner {code!r} (an agent code)", code=given["owner"]))
    identities: list[_Identity] = []
    seen: dict[tuple[str, str], str] = {}
    for column, kind in IDENTITY_COLUMNS.items():
        raw = values.get(column, "")
        if not raw:
            continue
        try:
            IdentityCreate(kind=kind, value=raw)
            value = normalize_identity(kind, raw, tenant.country)
        except ValidationError as exc:
            bad(column, field_message(exc.errors()[0]))
            continue
        except InvalidInput as exc:
            bad(column, exc.errors[0].message if exc.errors else exc.detail)
            continue
        if (kind, value) in seen:
            bad(
                column,
                _("{kind} {value} is already in column {column}", kind=kind, value=value, column=seen[kind, value]),
            )
            continue
        seen[kind, value] = column
        identities.append(_Identity(column, kind, value))
    if not problems and not values.get("external_id") and not identities:
        bad(
            "external_id",
            _(
                "needs an external_id or an identity (phone, phone2, email, chat, national_id) "
                "so that importing the file again finds this customer"
            ),
        )
    if problems or data is None:
        return None, problems
    return _Checked(line, values, data, owner_id, identities), []


def _lookups(
    session: Session, tenant_id: int, checked: list[_Checked]
) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """Stored customers by external_id, and identity holders, for everything the file mentions."""
    ext_ids = sorted({c.data.external_id for c in checked if c.data.external_id})
    by_ext: dict[str, int] = {}
    for chunk in _chunks(ext_ids, LOOKUP_CHUNK):
        stmt = select(t.Customer.external_id, t.Customer.id).where(
            t.Customer.tenant_id == tenant_id, t.Customer.external_id.in_(chunk)
        )
        for ext, cid in session.execute(stmt):
            by_ext[str(ext)] = int(cid)
    by_kind: dict[str, set[str]] = {}
    for c in checked:
        for ident in c.identities:
            by_kind.setdefault(ident.kind, set()).add(ident.value)
    holders: dict[tuple[str, str], int] = {}
    for kind, kind_values in by_kind.items():
        for chunk in _chunks(sorted(kind_values), LOOKUP_CHUNK):
            stmt2 = select(t.CustomerIdentity.value, t.CustomerIdentity.customer_id).where(
                t.CustomerIdentity.tenant_id == tenant_id,
                t.CustomerIdentity.kind == kind,
                t.CustomerIdentity.value.in_(chunk),
            )
            for value, cid in session.execute(stmt2):
                holders[kind, str(value)] = int(cid)
    return by_ext, holders


def _load_known(session: Session, tenant_id: int, ids: set[int]) -> dict[int, _Known]:
    known: dict[int, _Known] = {}
    for chunk in _chunks(sorted(ids), LOOKUP_CHUNK):
        for c in session.scalars(select(t.Customer).where(t.Customer.tenant_id == tenant_id, t.Customer.id.in_(chunk))):
            known[c.id] = _Known(
                id=c.id,
                external_id=c.external_id,
                fields={k: getattr(c, k) for k in _COMPARED},
                owner_agent_id=c.owner_agent_id,
                attributes=dict(c.attributes or {}),
                identities=set(),
            )
        stmt = select(t.CustomerIdentity.customer_id, t.CustomerIdentity.kind, t.CustomerIdentity.value).where(
            t.CustomerIdentity.tenant_id == tenant_id, t.CustomerIdentity.customer_id.in_(chunk)
        )
        for cid, kind, value in session.execute(stmt):
            known[int(cid)].identities.add((str(kind), str(value)))
    return known


def _match(
    row: _Checked, by_ext: dict[str, int], holders: dict[tuple[str, str], int], known: dict[int, _Known]
) -> tuple[int | None, str, list[RowProblem]]:
    """The stored customer this row is about (or None), the column that matched, and any conflict."""
    problems: list[RowProblem] = []
    ext = row.data.external_id
    target: int | None = by_ext.get(ext) if ext else None
    matched_by = "external_id"
    for ident in row.identities:
        holder = holders.get((ident.kind, ident.value))
        if holder is None:
            continue
        if target is None:
            target, matched_by = holder, ident.column
        elif holder != target:
            problems.append(
                RowProblem(
                    row.line,
                    ident.column,
                    _(
                        "{kind} {value} belongs to customer {holder}, but external_id matches customer {target}",
                        kind=ident.kind,
                        value=ident.value,
                        holder=holder,
                        target=target,
                    )
                    if matched_by == "external_id"
                    else _(
                        "{kind} {value} belongs to customer {holder}, but {column} belongs to customer {target}",
                        kind=ident.kind,
                        value=ident.value,
                        holder=holder,
                        column=matched_by,
                        target=target,
                    ),
                    row.values,
                )
            )
    if target is not None and ext and matched_by != "external_id":
        stored_ext = known[target].external_id if target in known else None
        if stored_ext is not None and stored_ext != ext:
            problems.append(
                RowProblem(
                    row.line,
                    matched_by,
                    _(
                        "{value} belongs to customer {target}, whose external_id is {external_id!r}",
                        value=row.values[matched_by],
                        target=target,
                        external_id=stored_ext,
                    ),
                    row.values,
                )
            )
    return target, matched_by, problems


def _diff(row: _Checked, customer: _Known) -> tuple[CustomerUpdate | None, list[_Identity]]:
    given = row.data.model_dump(include=row.data.model_fields_set)
    changes: dict[str, Any] = {}
    for key in _COMPARED:
        if key in given and given[key] != customer.fields[key]:
            changes[key] = given[key]
    if row.owner_id is not None and row.owner_id != customer.owner_agent_id:
        changes["owner"] = row.data.owner
    if row.data.external_id and row.data.external_id != customer.external_id:
        changes["external_id"] = row.data.external_id
    attributes = given.get("attributes") or {}
    if any(customer.attributes.get(k) != v for k, v in attributes.items()):
        changes["attributes"] = {**customer.attributes, **attributes}
    new_identities = [i for i in row.identities if (i.kind, i.value) not in customer.identities]
    return (CustomerUpdate(**changes) if changes else None), new_identities


def _plan(
    session: Session,
    tenant: t.Tenant,
    rows: list[tuple[int, dict[str, str]]],
    problems: list[RowProblem],
    progress: ProgressCallback | None,
) -> list[_Plan]:
    owners = {
        str(code): int(aid)
        for code, aid in session.execute(select(t.Agent.code, t.Agent.id).where(t.Agent.tenant_id == tenant.id))
    }
    checked: list[_Checked] = []
    for done, (line, values) in enumerate(rows, start=1):
        row, row_problems = _check_row(line, values, tenant, owners)
        problems.extend(row_problems)
        if row is not None:
            checked.append(row)
        if progress is not None and (done % 1000 == 0 or done == len(rows)):
            progress("check", done, len(rows))
    by_ext, holders = _lookups(session, tenant.id, checked)
    known = _load_known(session, tenant.id, set(by_ext.values()) | set(holders.values()))
    claims: dict[tuple[str, ...], int] = {}
    plans: list[_Plan] = []
    for row in checked:
        target, matched_by, row_problems = _match(row, by_ext, holders, known)
        if not row_problems:
            row_problems = _claim_problems(row, target, matched_by, claims)
        if row_problems:
            problems.extend(row_problems)
            continue
        keys = _claim_keys(row, target)
        for key in keys:
            claims[key] = row.line
        if target is None:
            data = row.data.model_copy(
                update={"identities": [IdentityCreate(kind=i.kind, value=i.value) for i in row.identities]}
            )
            plans.append(_Plan(row.line, row.values, "create", row.identities, create=data))
            continue
        update, new_identities = _diff(row, known[target])
        action: Literal["update", "unchanged"] = "update" if update is not None or new_identities else "unchanged"
        plans.append(
            _Plan(
                row.line,
                row.values,
                action,
                row.identities,
                customer_id=target,
                update=update,
                new_identities=new_identities,
            )
        )
    problems.sort(key=lambda p: p.line)
    return plans


def _claim_keys(row: _Checked, target: int | None) -> list[tuple[str, ...]]:
    keys: list[tuple[str, ...]] = []
    if row.data.external_id:
        keys.append(("external_id", row.data.external_id))
    keys.extend(("identity", i.kind, i.value) for i in row.identities)
    if target is not None:
        keys.append(("customer", str(target)))
    return keys


def _claim_problems(
    row: _Checked, target: int | None, matched_by: str, claims: dict[tuple[str, ...], int]
) -> list[RowProblem]:
    problems: list[RowProblem] = []
    ext = row.data.external_id
    if ext and ("external_id", ext) in claims:
        problems.append(
            RowProblem(
                row.line,
                "external_id",
                _(
                    "external_id {external_id!r} is also on line {line}",
                    external_id=ext,
                    line=claims["external_id", ext],
                ),
                row.values,
            )
        )
    for ident in row.identities:
        earlier = claims.get(("identity", ident.kind, ident.value))
        if earlier is not None:
            problems.append(
                RowProblem(
                    row.line,
                    ident.column,
                    _("{kind} {value} is also on line {line}", kind=ident.kind, value=ident.value, line=earlier),
                    row.values,
                )
            )
    if not problems and target is not None and ("customer", str(target)) in claims:
        earlier = claims["customer", str(target)]
        problems.append(
            RowProblem(
                row.line,
                matched_by,
                _("matches customer {customer}, as line {line} does", customer=target, line=earlier),
                row.values,
            )
        )
    return problems


# --- writing ----------------------------------------------------------------------------------------------------


def _apply(session: Session, actor: Actor, plan: _Plan) -> None:
    if plan.action == "create":
        assert plan.create is not None
        do_create_customer(session, actor, plan.create)
    else:
        customer = session.get(t.Customer, plan.customer_id)
        if customer is None or customer.tenant_id != actor.tenant_id:
            raise NotFound(_("customer {customer} was removed while importing", customer=plan.customer_id))
        if plan.update is not None:
            do_update_customer(session, actor, customer, plan.update)
        for ident in plan.new_identities:
            do_add_identity(session, actor, customer, IdentityCreate(kind=ident.kind, value=ident.value))
    session.flush()


def _problems_from_error(plan: _Plan, exc: Exception) -> list[RowProblem]:
    """An action refused a row that passed the checks (someone changed the data meanwhile): name the column."""
    if isinstance(exc, CentralitaError) and exc.errors:
        out = []
        for err in exc.errors:
            column = str(err.loc[0]) if err.loc else ""
            if column == "identities" and len(err.loc) > 1 and isinstance(err.loc[1], int):
                column = plan.identities[err.loc[1]].column
            elif column == "value" and plan.new_identities:
                column = plan.new_identities[0].column
            out.append(RowProblem(plan.line, column, err.message, plan.values))
        return out
    message = (
        exc.detail
        if isinstance(exc, CentralitaError)
        else _("conflicts with a concurrent change ({error})", error=exc.__class__.__name__)
    )
    return [RowProblem(plan.line, "", message, plan.values)]


def do_record_customer_import(session: Session, actor: Actor, result: ImportResult) -> Appended:
    """Append the `customers.imported` summary event."""
    return append_event(
        session,
        actor.tenant_id,
        "customers.imported",
        actor.now(),
        {
            "source": result.source,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "rejected": result.rejected,
        },
        user_id=actor.user_id,
    )


def _write(
    db: Database,
    actor: Actor,
    plans: list[_Plan],
    batch_size: int,
    problems: list[RowProblem],
    progress: ProgressCallback | None,
    total: int,
    all_or_nothing: bool,
) -> list[_Plan]:
    """Apply the plans batch by batch; a row an action refuses is reported and its batch retried without it."""
    applied: list[_Plan] = []
    done = total - len(plans)
    for batch in _chunks(plans, max(1, len(plans)) if all_or_nothing else batch_size):
        pending = list(batch)
        while pending:
            current: _Plan | None = None
            try:
                with db.write() as s:
                    for plan in pending:
                        current = plan
                        _apply(s, actor, plan)
                    current = None
                applied.extend(pending)
                break
            except (CentralitaError, IntegrityError) as exc:
                if current is None:
                    raise
                problems.extend(_problems_from_error(current, exc))
                pending.remove(current)
                if all_or_nothing:
                    return []
        done += len(batch)
        if progress is not None:
            progress("import", done, total)
    problems.sort(key=lambda p: p.line)
    return applied


def import_customers(
    db: Database,
    actor: Actor,
    path: Path,
    *,
    strict: bool = False,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: ProgressCallback | None = None,
) -> ImportResult:
    """Import a customer CSV into the actor's contact center; see the module documentation for the rules.

    Raises ImportFileError when the file cannot be imported at all (and then nothing is changed).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    parsed = read_customer_csv(path)
    result = ImportResult(
        source=parsed.source,
        columns=parsed.columns,
        rows=len(parsed.rows) + len(parsed.problems),
        dry_run=dry_run,
        strict=strict,
    )
    problems = list(parsed.problems)
    with db.read() as s:
        tenant = s.get(t.Tenant, actor.tenant_id)
        if tenant is None:
            raise NotFound(_("unknown contact center"))
        plans = _plan(s, tenant, parsed.rows, problems, progress)
    result.problems = problems
    result.unchanged = sum(1 for p in plans if p.action == "unchanged")
    writes = [p for p in plans if p.action != "unchanged"]
    if dry_run or (strict and problems):
        result.created = sum(1 for p in writes if p.action == "create")
        result.updated = len(writes) - result.created
        return result
    applied = _write(db, actor, writes, batch_size, problems, progress, result.rows, all_or_nothing=strict)
    if strict and problems:  # an action refused a row: the single transaction was rolled back
        result.created = sum(1 for p in writes if p.action == "create")
        result.updated = len(writes) - result.created
        return result
    result.created = sum(1 for p in applied if p.action == "create")
    result.updated = len(applied) - result.created
    with db.write() as s:
        do_record_customer_import(s, actor, result)
    result.applied = True
    return result


def problem_rows(result: ImportResult) -> Iterable[list[str]]:
    """The validation report as CSV rows: line, column, message, then the row's values as read."""
    yield ["line", "column", "message", *result.columns]
    for p in result.problems:
        yield [str(p.line), p.column, p.message, *(p.values.get(c, "") for c in result.columns)]
