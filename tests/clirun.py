"""Running the `centralita` command in-process against a fresh SQLite database, in English."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from centralita.cli import _common, app


def run_cli(
    tmp_path: Path, *args: str, lang: str = "en", width: int = 200, stdin: str | None = None
) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `centralita --lang LANG --data-dir … --database-url … ARGS` in a terminal
    `width` columns wide."""
    _common.console.width = width  # made at import, maybe before COLUMNS was set: as wide as the env says
    result = CliRunner().invoke(
        app,
        [
            "--lang",
            lang,
            "--data-dir",
            str(tmp_path / "data"),
            "--database-url",
            f"sqlite:///{tmp_path / 'cli.db'}",
            *args,
        ],
        env={"CENTRALITA_REDIS_URL": "", "COLUMNS": str(width)},
        input=stdin,
    )
    return result.exit_code, result.stdout, result.stderr
