"""`centralita report NAME`: the business reports from the command line, and its errors (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from centralita.analytics.render import PNG_SIGNATURE
from centralita.cli import app

runner = CliRunner()
RANGE = ("--from", "2026-03-01", "--to", "2026-03-31")


def run(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--data-dir", str(tmp_path), "--lang", "en", *args])
    return result.exit_code, result.stdout, result.stderr


def test_unknown_report_lists_the_reports(tmp_path: Path) -> None:
    code, _, err = run(tmp_path, "report", "churn", *RANGE)
    assert code == 2 and "unknown report 'churn'" in err
    assert "cost-to-serve" in err and "value-match" in err


def test_bad_options_name_the_option(tmp_path: Path) -> None:
    code, _, err = run(tmp_path, "report", "complaints", *RANGE, "--format", "png")
    assert code == 2 and "--output" in err
    code, _, err = run(tmp_path, "report", "complaints", *RANGE, "--format", "pdf")
    assert code == 2 and "--format" in err
    code, _, err = run(tmp_path, "report", "satisfaction", *RANGE, "--by", "colour")
    assert code == 2 and "--by" in err and "channel" in err
    code, _, err = run(tmp_path, "report", "complaints", *RANGE, "--interval", "day")
    assert code == 2 and "--interval" in err
    code, _, err = run(tmp_path, "report", "complaints", *RANGE, "--format", "csv", "-o", str(tmp_path / "no/x.csv"))
    assert code == 2 and "--output" in err
    assert run(tmp_path, "tenant", "create", "banco", "--name", "Banco")[0] == 0
    code, _, err = run(tmp_path, "report", "complaints", "--from", "2026-02-30", "--to", "2026-03-31")
    assert code == 2 and "--from" in err
    code, _, err = run(tmp_path, "report", "complaints", "--from", "2026-03-31", "--to", "2026-03-01")
    assert code == 2 and "--to" in err


def test_reports_of_an_empty_history_in_each_format(tmp_path: Path) -> None:
    assert run(tmp_path, "tenant", "create", "banco", "--name", "Banco")[0] == 0
    code, out, _ = run(tmp_path, "report", "list")
    assert code == 0 and "avoidable-contacts" in out
    code, out, _ = run(tmp_path, "report", "cost-to-serve", *RANGE)
    assert code == 0 and "Cost to serve" in out
    code, out, _ = run(tmp_path, "report", "complaints", *RANGE, "--format", "csv")
    assert code == 0 and out.startswith("period,contacts,complaints,share")
    code, out, _ = run(tmp_path, "report", "value-match", *RANGE, "--format", "json")
    doc = json.loads(out)
    assert doc["report"] == "value-match" and any("muy_alto" in note for note in doc["notes"])  # the last tier
    assert [row["answered"] for row in doc["rows"]] == [0, 0]
    path = tmp_path / "pref.parquet"
    code, _, err = run(tmp_path, "report", "channel-preference", *RANGE, "--format", "parquet", "-o", str(path))
    assert code == 0 and "pref.parquet" in err
    assert pl.read_parquet(path).columns[:3] == ["period", "segment", "contacts"]
    path = tmp_path / "agents.png"
    assert run(tmp_path, "report", "agent-variability", *RANGE, "--format", "png", "-o", str(path))[0] == 0
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    path = tmp_path / "mix.html"
    assert (
        run(tmp_path, "report", "reason-mix", *RANGE, "--by", "lifecycle_stage", "--format", "html", "-o", str(path))[0]
        == 0
    )
    assert "<html" in path.read_text(encoding="utf-8")


def test_kpis_refuse_what_would_overflow(tmp_path: Path) -> None:
    assert run(tmp_path, "tenant", "create", "banco", "--name", "Banco")[0] == 0
    for args, option in (
        (("--from", "9999-12-30", "--to", "9999-12-31"), "--from"),
        (("--from", "0001-01-01", "--to", "0001-01-02"), "--from"),
        (("--from", "2026-03-01", "--to", "3000-01-01"), "--to"),
        ((*RANGE, "--threshold", "nan"), "--threshold"),
        ((*RANGE, "--interval", "fortnight"), "--interval"),
        ((*RANGE, "--by", "colour"), "--by"),
    ):
        code, out, err = run(tmp_path, "report", "kpis", *args)
        assert code == 2 and option in err, (args, out, err)
