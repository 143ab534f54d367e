"""The `centralita` command: settings from options and environment, --json, clear errors."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from centralita.cli import app

runner = CliRunner()


def run(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--data-dir", str(tmp_path), "--lang", "en", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_tenant_user_token_and_json_reads(tmp_path: Path) -> None:
    assert run(tmp_path, "tenant", "create", "banco", "--name", "Banco")[0] == 0
    code, out, err = run(tmp_path, "tenant", "create", "banco", "--name", "Otra vez")
    assert code == 2 and "already exists" in err
    code, out, _ = run(tmp_path, "tenant", "list", "--json")
    assert [t["slug"] for t in json.loads(out)] == ["banco"]
    code, _, err = run(tmp_path, "user", "create", "jefa", "--role", "boss", "--password", "x")
    assert code == 2 and "--role" in err and "--password" in err
    assert run(tmp_path, "user", "create", "jefa", "--role", "admin", "--password", "una clave larga")[0] == 0
    code, out, _ = run(tmp_path, "token", "create", "crm", "--role", "supervisor")
    assert code == 0 and out.strip().startswith("ctk_")
    code, out, _ = run(tmp_path, "status", "--json")
    assert json.loads(out)["tenant"] == "banco"
    code, out, _ = run(tmp_path, "db", "status", "--json")
    assert json.loads(out)["up_to_date"] is True


def test_lookup_and_missing_tenant(tmp_path: Path) -> None:
    code, _, err = run(tmp_path, "customers", "list")
    assert code == 2 and "no contact center yet" in err
    run(tmp_path, "tenant", "create", "banco", "--name", "Banco")
    code, _, err = run(tmp_path, "customers", "lookup", "--phone", "600000000")
    assert code == 1 and "no customer" in err
    code, _, err = run(tmp_path, "customers", "lookup", "--phone", "abc")
    assert code == 2 and "phone" in err
    code, _, err = run(tmp_path, "customers", "list", "--tenant", "nada")
    assert code == 2 and "--tenant" in err


def test_database_url_from_environment_and_bad_settings(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    env = {"CENTRALITA_DATABASE_URL": f"sqlite:///{db}"}
    assert run(tmp_path, "tenant", "create", "x", "--name", "X", env=env)[0] == 0
    assert db.exists() and not (tmp_path / "centralita.db").exists()
    code, _, err = run(tmp_path, "status", env={"CENTRALITA_PORT": "ochenta"})
    assert code == 2 and "port" in err
    code, _, err = run(tmp_path, "status", env={"CENTRALITA_DATABASE_URL": "mysql://x"})
    assert code == 2 and "database_url" in err
    result = runner.invoke(app, ["--lang", "xx", "status"])
    assert result.exit_code == 2 and "--lang" in result.stderr


def test_token_expiry_and_list(tmp_path: Path) -> None:
    run(tmp_path, "tenant", "create", "banco", "--name", "Banco")
    code, _, err = run(tmp_path, "token", "create", "crm", "--role", "supervisor", "--expires-in-days", "0")
    assert code == 2 and "--expires-in-days: must be 1 or more" in err
    code, out, _ = run(tmp_path, "token", "create", "crm", "--role", "supervisor", "--expires-in-days", "90")
    assert code == 0 and out.strip().startswith("ctk_")
    assert run(tmp_path, "token", "create", "forever", "--role", "agent")[0] == 0
    code, out, _ = run(tmp_path, "token", "list", "--json")
    tokens = {t["name"]: t for t in json.loads(out)}
    assert tokens["crm"]["user_id"] is None and tokens["crm"]["last_used_at"] is None
    created, expires = (datetime.fromisoformat(tokens["crm"][k]) for k in ("created_at", "expires_at"))
    assert expires - created == timedelta(days=90)
    assert tokens["forever"]["expires_at"] is None
    code, out, _ = run(tmp_path, "token", "list")
    assert code == 0 and "crm" in out and "forever" in out
