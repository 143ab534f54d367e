"""Customer import from CSV: the validation report, idempotence, batches, strict and dry-run, the CLI."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import select

from centralita.crm.actions import do_create_customer
from centralita.crm.importing import ImportFileError, ImportResult, import_customers
from centralita.crm.schemas import CustomerCreate, IdentityCreate
from centralita.events.log import last_seq, read_events
from centralita.service import Service
from centralita.store import tables as t
from tests.clirun import run_cli as _cli
from tests.factories import World, make_world

HEADER = "external_id,name,kind,segment,value_tier,lifetime_value,owner,phone,phone2,email,attr.plan"
MIXED = [
    HEADER,
    "C1,María López,person,premium,alto,12500.5,ana,612 34 56 78,,Maria.Lopez@Example.es,oro",  # 2 good
    "C2,Pedro Ruiz,,particulares,,,,+34 699 000 111,,,",  # 3 good
    "C3,Mala Línea,,premium,,,,123,,,",  # 4 bad phone
    "C4,Segmento Raro,,oro,,,,699000222,,,",  # 5 unknown segment
    "C5,,,premium,,,,699000333,,,",  # 6 missing name
    "C1,Otra María,,premium,,,,699000444,,,",  # 7 external_id already on line 2
    "C6,Empresa SL,company,empresas,medio,,luis,,,info@empresa.es,plata",  # 8 good
    "C7,Tercero,,,,,,,,pedro@x.es,",  # 9 good
]


def _write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def _run(service: Service, world: World, path: Path, **options: object) -> ImportResult:
    return import_customers(service.db, world.admin, path, **options)  # type: ignore[arg-type]


def _problems(result: ImportResult) -> list[tuple[int, str]]:
    return [(p.line, p.column) for p in result.problems]


def _customers(service: Service, world: World) -> dict[str, t.Customer]:
    with service.db.read() as s:
        rows = s.scalars(select(t.Customer).where(t.Customer.tenant_id == world.tenant_id))
        return {c.name: c for c in rows}


def _identities(service: Service, customer_id: int) -> set[tuple[str, str]]:
    with service.db.read() as s:
        rows = s.execute(
            select(t.CustomerIdentity.kind, t.CustomerIdentity.value).where(
                t.CustomerIdentity.customer_id == customer_id
            )
        )
        return {(k, v) for k, v in rows}


def _seq(service: Service, world: World) -> int:
    with service.db.read() as s:
        return last_seq(s, world.tenant_id)


def _events_after(service: Service, world: World, seq: int) -> list[str]:
    with service.db.read() as s:
        return [e.type for e in read_events(s, world.tenant_id, seq)]


def test_mixed_file_reports_bad_rows_and_imports_the_good_ones(service: Service, tmp_path: Path) -> None:
    world = make_world(service, "norte")
    result = _run(service, world, _write(tmp_path / "clientes.csv", MIXED))
    assert _problems(result) == [(4, "phone"), (5, "segment"), (6, "name"), (7, "external_id")]
    messages = [p.message for p in result.problems]
    assert messages[0] == "not a possible phone number: '123'"
    assert messages[1].startswith("unknown segment 'oro'; one of particulares")
    assert messages[2] == "is required"
    assert messages[3] == "external_id 'C1' is also on line 2"
    assert result.problems[0].values["name"] == "Mala Línea"
    assert (result.rows, result.created, result.updated, result.unchanged, result.rejected) == (8, 4, 0, 0, 4)
    assert result.applied and not result.ok
    customers = _customers(service, world)
    assert set(customers) == {"María López", "Pedro Ruiz", "Empresa SL", "Tercero"}
    maria = customers["María López"]
    assert (maria.external_id, maria.segment, maria.value_tier, maria.lifetime_value) == (
        "C1",
        "premium",
        "alto",
        12500.5,
    )
    assert maria.attributes == {"plan": "oro"} and maria.owner_agent_id is not None
    assert _identities(service, maria.id) == {("phone", "+34612345678"), ("email", "maria.lopez@example.es")}
    assert customers["Empresa SL"].kind == "company"
    with service.db.read() as s:
        summary = read_events(s, world.tenant_id, 0, types=["customers.imported"])
    assert len(summary) == 1
    assert summary[0].data == {"source": "clientes.csv", "created": 4, "updated": 0, "unchanged": 0, "rejected": 4}


def test_second_run_creates_and_updates_nothing(service: Service, tmp_path: Path) -> None:
    world = make_world(service, "norte")
    path = _write(tmp_path / "clientes.csv", MIXED)
    _run(service, world, path)
    before = _seq(service, world)
    again = _run(service, world, path)
    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 4, 4)
    assert _problems(again) == [(4, "phone"), (5, "segment"), (6, "name"), (7, "external_id")]
    assert _events_after(service, world, before) == ["customers.imported"]
    assert len(_customers(service, world)) == 4


def test_changed_row_updates_and_adds_identities(service: Service, tmp_path: Path) -> None:
    world = make_world(service, "norte")
    _run(service, world, _write(tmp_path / "a.csv", MIXED))
    changed = [*MIXED]
    changed[1] = "C1,María López,person,empresas,alto,12500.5,ana,612 34 56 78,699 111 222,Maria.Lopez@Example.es,oro"
    before = _seq(service, world)
    result = _run(service, world, _write(tmp_path / "b.csv", changed))
    assert (result.created, result.updated, result.unchanged) == (0, 1, 3)
    assert _events_after(service, world, before) == [
        "customer.updated",
        "customer.identity_added",
        "customers.imported",
    ]
    maria = _customers(service, world)["María López"]
    assert maria.segment == "empresas"
    assert ("phone", "+34699111222") in _identities(service, maria.id)


def test_matches_by_identity_and_fills_external_id(service: Service, tmp_path: Path) -> None:
    world = make_world(service, "norte")
    with service.db.write() as s:
        first = do_create_customer(
            s, world.admin, CustomerCreate(name="Ana", identities=[IdentityCreate(kind="phone", value="600111222")])
        )
        do_create_customer(
            s, world.admin, CustomerCreate(name="Beto", identities=[IdentityCreate(kind="email", value="beto@x.es")])
        )
        first_id = first.id
    lines = [
        "external_id,name,phone,email",
        "K1,Ana,+34 600 111 222,ana@x.es",  # 2: matches Ana by phone: sets external_id, adds the e-mail
        "K2,Otro,+34 600 111 222,",  # 3: same customer as line 2 (and same phone)
        "K3,Mezcla,699 999 999,beto@x.es",  # 4: new phone, but the e-mail is Beto's: would update Beto
        "K4,Choque,600111222,beto@x.es",  # 5: phone is Ana's, e-mail is Beto's
    ]
    result = _run(service, world, _write(tmp_path / "m.csv", lines))
    assert _problems(result) == [(3, "phone"), (5, "email")]
    assert "also on line 2" in result.problems[0].message
    assert "belongs to customer" in result.problems[1].message
    assert (result.created, result.updated) == (0, 2)
    ana = _customers(service, world)["Ana"]
    assert ana.id == first_id and ana.external_id == "K1"
    assert ("email", "ana@x.es") in _identities(service, first_id)
    beto = _customers(service, world)["Mezcla"]  # matched by e-mail: the file renames Beto
    assert beto.external_id == "K3"


def test_identity_of_a_customer_with_another_external_id_is_rejected(service: Service, tmp_path: Path) -> None:
    world = make_world(service, "norte")
    _run(service, world, _write(tmp_path / "a.csv", ["external_id,name,phone", "A1,Ana,600111222"]))
    result = _run(service, world, _write(tmp_path / "b.csv", ["external_id,name,phone", "B1,Ana bis,600111222"]))
    assert _problems(result) == [(2, "phone")]
    assert "whose external_id is 'A1'" in result.problems[0].message
    assert len(_customers(service, world)) == 1


def test_same_phone_for_two_people_in_one_file(service: Service, tmp_path: Path) -> None:
    world = make_world(service, "norte")
    lines = ["external_id,name,phone,phone2", "P1,Uno,600111222,", "P2,Dos,611000000,600 11 12 22", "P3,Tres,,"]
    result = _run(service, world, _write(tmp_path / "p.csv", lines))
    assert _problems(result) == [(3, "phone2")]
    assert result.problems[0].message == "phone +34600111222 is also on line 2"
    assert set(_customers(service, world)) == {"Uno", "Tres"}


def test_strict_with_one_bad_row_imports_nothing(service: Service, tmp_path: Path) -> None:
    world = make_world(service, "norte")
    before = _seq(service, world)
    result = _run(service, world, _write(tmp_path / "s.csv", MIXED), strict=True)
    assert not result.applied and result.rejected == 4 and result.created == 4
    assert _customers(service, world) == {}
    assert _seq(service, world) == before
    good = [line for i, line in enumerate(MIXED) if i not in (3, 4, 5, 6)]
    result = _run(service, world, _write(tmp_path / "good.csv", good), strict=True)
    assert result.applied and result.ok and result.created == 4


def test_dry_run_changes_nothing(service: Service, tmp_path: Path) -> None:
    world = make_world(service, "norte")
    before = _seq(service, world)
    result = _run(service, world, _write(tmp_path / "d.csv", MIXED), dry_run=True)
    assert not result.applied and (result.created, result.rejected) == (4, 4)
    assert _customers(service, world) == {}
    assert _seq(service, world) == before


def test_semicolon_bom_and_decimal_comma(service: Service, tmp_path: Path) -> None:
    world = make_world(service, "norte")
    lines = [
        "External_ID;Name;Lifetime_Value;Phone;attr.Nota",
        'E1;"Gómez; Hijos";1250,75;612345678;"dice ""hola"""',
        "E2;Núñez;;+34 699 000 111;",
    ]
    path = tmp_path / "excel.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))
    result = _run(service, world, path)
    assert result.ok and result.created == 2
    gomez = _customers(service, world)["Gómez; Hijos"]
    assert gomez.lifetime_value == 1250.75 and gomez.attributes == {"Nota": 'dice "hola"'}
    assert _run(service, world, path).unchanged == 2


def test_unknown_column_is_a_file_error_and_changes_nothing(service: Service, tmp_path: Path) -> None:
    world = make_world(service, "norte")
    before = _seq(service, world)
    path = _write(tmp_path / "u.csv", ["name,telefono,phone,Colour", "Ana,600111222,,azul"])
    with pytest.raises(ImportFileError) as info:
        _run(service, world, path)
    err = info.value.errors[0]
    assert err.line == 1 and err.source == "u.csv"
    assert "unknown columns 'telefono', 'Colour'" in err.message
    assert _seq(service, world) == before and _customers(service, world) == {}


@pytest.mark.parametrize(
    ("content", "message", "line"),
    [
        (b"", "the file is empty", 1),
        (b"name\nAna\nJos\xe9\n", "not UTF-8 text (byte 0xe9)", 3),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "NUL bytes", 3),
        (b"external_id,phone\nX,600111222\n", "no name column", 1),
        (b'name,phone\n"Ana,600\n', "never closed", 2),
    ],
)
def test_file_level_errors(service: Service, tmp_path: Path, content: bytes, message: str, line: int) -> None:
    world = make_world(service, "norte")
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    with pytest.raises(ImportFileError) as info:
        _run(service, world, path)
    assert message in info.value.errors[0].message
    assert info.value.errors[0].line == line


def test_rows_are_written_in_whole_batches(service: Service, tmp_path: Path) -> None:
    world = make_world(service, "norte")
    lines = ["external_id,name,phone"] + [f"B{i},Cliente {i},6000000{i:02d}" for i in range(10)]
    path = _write(tmp_path / "b.csv", lines)

    def crash(stage: str, done: int, total: int) -> None:
        if stage == "import" and done >= 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _run(service, world, path, batch_size=4, progress=crash)
    assert len(_customers(service, world)) == 4  # the first batch, whole; nothing of the second
    result = _run(service, world, path, batch_size=4)
    assert (result.created, result.unchanged) == (6, 4)
    assert len(_customers(service, world)) == 10


def test_extra_fields_on_a_row_are_reported(service: Service, tmp_path: Path) -> None:
    world = make_world(service, "norte")
    result = _run(service, world, _write(tmp_path / "x.csv", ["name,phone", "Ana,600111222,extra", "Eva,600111333"]))
    assert _problems(result) == [(2, "")]
    assert "3 fields but the header has 2" in result.problems[0].message
    assert set(_customers(service, world)) == {"Eva"}


def test_a_row_with_fewer_fields_than_the_header_is_an_error(service: Service, tmp_path: Path) -> None:
    world = make_world(service, "norte")
    lines = ["name,phone,email,attr.plan", "Ana,600111222,ana@x.es,oro", "Eva,600111333", "Luz,600111444,,", "Sol"]
    result = _run(service, world, _write(tmp_path / "short.csv", lines))
    assert _problems(result) == [(3, ""), (5, "")]
    assert "2 fields but the header has 4 (is a ',' missing?)" in result.problems[0].message
    assert "1 fields but the header has 4" in result.problems[1].message
    assert set(_customers(service, world)) == {"Ana", "Luz"}


def test_cli_names_the_short_row(tmp_path: Path) -> None:
    assert _cli(tmp_path, "tenant", "create", "demo", "--name", "Demo")[0] == 0
    path = _write(tmp_path / "short.csv", ["name;phone;email", "Ana;600111222;ana@x.es", "Eva;600111333"])
    code, _out, err = _cli(tmp_path, "import", "customers", str(path))
    assert code == 1
    assert f"{path}:3: 2 fields but the header has 3 (is a ';' missing?)" in err


def test_cells_with_control_characters_are_row_errors(service: Service, tmp_path: Path) -> None:
    world = make_world(service, "norte")
    lines = [
        "name,phone,attr.nota",
        '"Ana\x07",600111222,x',
        'Eva,600111333,"dos\nlíneas"',  # lines 3 and 4: a note may span lines
        'Sol,600111444,"a\x1bb"',
        '"Luz\nDos",600111555,x',
    ]
    result = _run(service, world, _write(tmp_path / "ctl.csv", lines))
    assert _problems(result) == [(2, "name"), (5, "attr.nota"), (6, "name")]
    assert "control characters" in result.problems[0].message
    assert set(_customers(service, world)) == {"Eva"}


def test_owner_and_choices_are_checked(service: Service, tmp_path: Path) -> None:
    world = make_world(service, "norte")
    lines = ["name,owner,kind,language,lifecycle_stage,lifetime_value,email", "Ana,pepe,alien,fr,zombie,-3,no-at"]
    result = _run(service, world, _write(tmp_path / "o.csv", lines))
    by_column = {p.column: p.message for p in result.problems}
    assert set(by_column) == {"owner", "kind", "language", "lifecycle_stage", "lifetime_value", "email"}
    assert by_column["owner"] == "unknown owner 'pepe' (an agent code)"
    assert by_column["kind"] == "unknown kind 'alien'; one of person, company"
    assert result.rejected == 1


# --- the command line -------------------------------------------------------------------------------------------


def test_cli_import_exit_codes_and_report(tmp_path: Path) -> None:
    assert _cli(tmp_path, "tenant", "create", "demo", "--name", "Demo")[0] == 0
    mixed = [line for line in MIXED if ",ana," not in line and ",luis," not in line]  # no agents in this tenant
    path = _write(tmp_path / "clientes.csv", mixed)
    report = tmp_path / "report.csv"
    code, out, err = _cli(tmp_path, "import", "customers", str(path), "--report", str(report))
    assert code == 1, err
    assert f"{path}:3: phone: not a possible phone number: '123'" in err
    assert f"{path}:6: external_id: external_id 'C1' is also on line 2" not in err  # C1 left out with ana
    assert f"{path}:5: name: is required" in err
    with report.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["line", "column", "message", *HEADER.split(",")]
    assert [(r[0], r[1]) for r in rows[1:]] == [("3", "phone"), ("4", "segment"), ("5", "name")]
    assert rows[1][4] == "Mala Línea"
    code, out, err = _cli(tmp_path, "import", "customers", str(path))
    assert code == 1
    good = _write(tmp_path / "good.csv", [mixed[0], mixed[1]])
    code, out, err = _cli(tmp_path, "import", "customers", str(good), "--tenant", "demo")
    assert code == 0, err
    code, out, _err = _cli(tmp_path, "customers", "list", "--json")
    assert code == 0 and out.count('"name"') == 3


def test_cli_file_errors_exit_2_and_change_nothing(tmp_path: Path) -> None:
    assert _cli(tmp_path, "tenant", "create", "demo", "--name", "Demo")[0] == 0
    code, _out, err = _cli(tmp_path, "import", "customers", str(tmp_path / "missing.csv"))
    assert code == 2 and "no such file" in err
    bad = _write(tmp_path / "bad.csv", ["name,whatever", "Ana,1"])
    code, _out, err = _cli(tmp_path, "import", "customers", str(bad))
    assert code == 2 and "bad.csv:1: columns: unknown column 'whatever'" in err
    strict = _write(tmp_path / "strict.csv", ["name,phone", "Ana,600111222", "Eva,12"])
    code, out, err = _cli(tmp_path, "import", "customers", str(strict), "--strict")
    assert code == 1 and "strict.csv:3: phone" in err
    code, out, _err = _cli(tmp_path, "import", "customers", str(strict), "--dry-run")
    assert code == 1
    code, out, _err = _cli(tmp_path, "customers", "list", "--json")
    assert code == 0 and out.strip() == "[]"


def test_a_row_matching_a_customer_an_earlier_row_claimed_by_another_identity_is_rejected(
    service: Service, tmp_path: Path
) -> None:
    """Two rows of one file reach the same existing customer, one by phone and one by e-mail: the second
    is an error naming the first line (the rows would update one customer twice, the last one winning)."""
    world = make_world(service, "norte")
    _run(service, world, _write(tmp_path / "a.csv", ["name,phone,email", "Ana,600111222,ana@x.es"]))
    lines = ["name,phone,email", "Ana López,600111222,", "Ana García,,ana@x.es", "Otra,699000000,"]
    result = _run(service, world, _write(tmp_path / "b.csv", lines))
    assert _problems(result) == [(3, "email")]
    (ana,) = [c for name, c in _customers(service, world).items() if name.startswith("Ana")]
    assert result.problems[0].message == f"matches customer {ana.id}, as line 2 does"
    assert ana.name == "Ana López"  # the first row updated it; the second changed nothing
    assert set(_customers(service, world)) == {"Ana López", "Otra"}
