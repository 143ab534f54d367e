"""`centralita import calls --format anonymous-bank FILE...`: a small excerpt written from literal rows (never the
real files), bad rows by file and line, the report, exit codes, a second run."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.clirun import run_cli as _run_cli
from tests.contacts.test_bulk_import import ROWS, write_calls


def run_cli(tmp_path: Path, *args: str, lang: str = "en") -> tuple[int, str, str]:
    """The command's (exit code, stdout, stderr), stderr with its lines joined (the terminal may wrap them)."""
    code, out, err = _run_cli(tmp_path, *args, lang=lang)
    return code, out, " ".join(err.split())


def _contact_count(tmp_path: Path) -> int:
    code, out, _err = run_cli(tmp_path, "contacts", "--tenant", "anonymous-bank", "--json")
    assert code == 0, out
    return len(json.loads(out))


def test_import_reports_bad_rows_and_a_second_run_adds_nothing(tmp_path: Path) -> None:
    first = write_calls(tmp_path / "1999-01.tsv.gz", ROWS)
    second = write_calls(tmp_path / "1999-02.tsv.gz", ROWS[:3])  # the same calls again: already there
    report = tmp_path / "report.csv"
    code, out, err = run_cli(
        tmp_path, "import", "calls", "--format", "anonymous-bank", str(first), str(second), "--report", str(report)
    )
    assert code == 1, (out, err)  # bad rows rejected, the rest imported
    assert "Contact center 'anonymous-bank' created (Asia/Jerusalem)" in err
    assert "1999-01.tsv.gz:7: date: not a date (YYMMDD): '9901O1'" in err
    assert "1999-01.tsv.gz:9: outcome: unknown outcome 'BUSY'; one of AGENT, HANG, PHANTOM" in err
    assert "1999-01.tsv.gz:10: 12 columns instead of 17" in err
    lines = [line.split() for line in out.splitlines()]
    assert ["1999-01.tsv.gz", "10", "6", "0", "1", "3", "2", "3"] in lines
    assert ["1999-02.tsv.gz", "3", "0", "3", "0", "0", "0", "0"] in lines
    with report.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["file", "line", "column", "message", "row"]
    assert [(r[0], r[1], r[2]) for r in rows[1:]] == [
        ("1999-01.tsv.gz", "7", "date"),
        ("1999-01.tsv.gz", "9", "outcome"),
        ("1999-01.tsv.gz", "10", ""),
    ]
    assert rows[1][4] == ROWS[5].replace(" ", "\t")
    assert _contact_count(tmp_path) == 6

    code, out, _err = run_cli(tmp_path, "import", "calls", "--format", "anonymous-bank", str(first), "--json")
    assert code == 1
    summary = json.loads(out)
    assert (summary["tenant"], summary["tenant_created"]) == ("anonymous-bank", False)
    (f,) = summary["files"]
    assert (f["file"], f["rows"], f["imported"], f["skipped"], f["phantom"], f["rejected"]) == (
        "1999-01.tsv.gz",
        10,
        0,
        6,
        1,
        3,
    )
    assert [(p["line"], p["column"]) for p in summary["problems"]] == [(7, "date"), (9, "outcome"), (10, "")]
    assert _contact_count(tmp_path) == 6


def test_a_clean_file_exits_0_in_spanish_too(tmp_path: Path) -> None:
    path = write_calls(tmp_path / "calls.tsv.gz", ROWS[:5])
    code, out, err = run_cli(tmp_path, "import", "calls", "--format", "anonymous-bank", str(path), lang="es")
    assert code == 0, (out, err)
    assert "Llamadas importadas en anonymous-bank" in out
    assert "Centro de contacto 'anonymous-bank' creado (Asia/Jerusalem)" in err


def test_nothing_is_imported_when_a_file_cannot_be(tmp_path: Path) -> None:
    good = write_calls(tmp_path / "good.tsv.gz", ROWS)
    code, _out, err = run_cli(
        tmp_path, "import", "calls", "--format", "anonymous-bank", str(good), str(tmp_path / "missing.tsv.gz")
    )
    assert code == 2
    assert "missing.tsv.gz: no such file" in err and "Nothing was imported." in err
    code, out, _err = run_cli(tmp_path, "tenant", "list", "--json")
    assert code == 0 and json.loads(out) == []  # not even the contact center

    other = tmp_path / "other.tsv"
    other.write_text("a\tb\n1\t2\n", encoding="utf-8")
    code, _out, err = run_cli(tmp_path, "import", "calls", "--format", "anonymous-bank", str(other))
    assert code == 2 and "the header is not the Anonymous Bank header" in err

    code, _out, err = run_cli(tmp_path, "import", "calls", "--format", "genesys", str(good))
    assert code == 2 and "--format: unknown format 'genesys'; one of anonymous-bank" in err


def test_the_contact_center_must_keep_the_banks_time_zone(tmp_path: Path) -> None:
    path = write_calls(tmp_path / "calls.tsv.gz", ROWS[:2])
    assert run_cli(tmp_path, "tenant", "create", "madrid", "--name", "Madrid")[0] == 0
    code, _out, err = run_cli(
        tmp_path, "import", "calls", "--format", "anonymous-bank", "--tenant", "madrid", str(path)
    )
    assert code == 2 and "is in Europe/Madrid" in err
    code, _out, err = run_cli(
        tmp_path, "import", "calls", "--format", "anonymous-bank", "--tenant", "nowhere", str(path)
    )
    assert code == 2 and "no contact center 'nowhere'" in err
    assert run_cli(tmp_path, "tenant", "create", "tlv", "--name", "TLV", "--timezone", "Asia/Jerusalem")[0] == 0
    code, out, err = run_cli(tmp_path, "import", "calls", "--format", "anonymous-bank", "--tenant", "tlv", str(path))
    assert code == 0, (out, err)
    assert "Calls imported into tlv" in out
