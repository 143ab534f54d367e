"""`--lang` picks the language of CLI messages and help texts (Spanish first, English too)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from centralita.cli import app
from centralita.core import i18n

runner = CliRunner()


@pytest.fixture(autouse=True)
def _restore_language() -> Iterator[None]:
    """--lang sets a process-wide language; put it back so other tests are unaffected."""
    before = i18n.language()
    yield
    i18n.set_language(before)


def create_tenant(data_dir: Path, lang: str) -> Result:
    return runner.invoke(app, ["--data-dir", str(data_dir), "--lang", lang, "tenant", "create", "b", "--name", "B"])


def test_messages_follow_lang(tmp_path: Path) -> None:
    es = create_tenant(tmp_path / "es", "es")
    assert es.exit_code == 0, es.output
    assert "Centro de contacto b creado" in es.stdout

    en = create_tenant(tmp_path / "en", "en")
    assert en.exit_code == 0, en.output
    assert "Created contact center b" in en.stdout


def test_help_in_spanish() -> None:
    # Help texts are built at import time, so run a fresh interpreter.
    result = subprocess.run(
        [sys.executable, "-m", "centralita", "--lang", "es", "--help"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**os.environ, "COLUMNS": "200"},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "centro de contacto de código abierto" in result.stdout
    assert "Idioma de los mensajes" in result.stdout
