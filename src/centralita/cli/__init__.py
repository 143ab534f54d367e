"""The `centralita` command (Typer + Rich). Settings: option, else environment, else config file.

Each sub-module registers its commands in `register(app)`; see docs/cli.md.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from centralita.core import i18n
from centralita.core.i18n import _

# The language is known before the help texts are built: --lang on the command line, else the environment.
for _i, _arg in enumerate(sys.argv):
    if _arg == "--lang" and _i + 1 < len(sys.argv) and sys.argv[_i + 1] in i18n.LANGUAGES:
        i18n.set_language(sys.argv[_i + 1])
    elif _arg.startswith("--lang=") and _arg[7:] in i18n.LANGUAGES:
        i18n.set_language(_arg[7:])

app = typer.Typer(
    name="centralita",
    help=_("Centralita: open-source contact center that is also the customer's record."),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)

_COMMAND_MODULES = ("serve", "admin", "read", "demo", "config", "flows", "importing", "simulate", "report")


@app.callback()
def _global(
    ctx: typer.Context,
    data_dir: Annotated[Path | None, typer.Option(help=_("Data directory (env CENTRALITA_DATA_DIR)"))] = None,
    database_url: Annotated[
        str | None, typer.Option(help=_("Database URL: sqlite:///… or postgresql://… (env CENTRALITA_DATABASE_URL)"))
    ] = None,
    redis_url: Annotated[
        str | None, typer.Option(help=_("Redis URL for event fan-out between processes (env CENTRALITA_REDIS_URL)"))
    ] = None,
    config: Annotated[Path | None, typer.Option(help=_("Config file (TOML) (env CENTRALITA_CONFIG)"))] = None,
    lang: Annotated[str | None, typer.Option(help=_("Language of messages: es or en"))] = None,
) -> None:
    from centralita.cli._common import Context

    if lang is not None:
        if lang not in i18n.LANGUAGES:
            raise typer.BadParameter(_("must be es or en"), param_hint="--lang")
        i18n.set_language(lang)
    else:  # each invocation starts from the environment's language, Spanish by default
        env_lang = os.environ.get("CENTRALITA_LANGUAGE", "es")
        i18n.set_language(env_lang if env_lang in i18n.LANGUAGES else "es")
    ctx.obj = Context(
        options={
            "data_dir": data_dir,
            "database_url": database_url,
            "redis_url": redis_url,
            "config_file": config,
            "language": lang,
        }
    )


for _name in _COMMAND_MODULES:
    importlib.import_module(f"centralita.cli.{_name}").register(app)


def main() -> None:
    app()
