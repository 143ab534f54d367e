"""`centralita demo`: load the demo contact center (Banco Ejemplo) with customers and ~60 days of history."""

from __future__ import annotations

from typing import Annotated

import typer

from centralita.cli._common import console, ctx_obj, emit, fail_on_error
from centralita.core.i18n import _


def register(app: typer.Typer) -> None:
    app.command(
        "demo",
        help=_(
            "Load the demo contact center: a Spanish retail bank with agents, queues, reasons, customers and "
            "about 60 days of contact history."
        ),
    )(demo)


def demo(
    ctx: typer.Context,
    customers: Annotated[int, typer.Option(help=_("Number of customers"), min=0, max=200_000)] = 2000,
    seed: Annotated[int, typer.Option(help=_("Random seed: the same seed gives the same data"))] = 1,
    password: Annotated[
        str | None, typer.Option(help=_("One password for every demo user (default: a random one per user)"))
    ] = None,
    tenant_slug: Annotated[str, typer.Option(help=_("Slug of the demo contact center"))] = "demo",
) -> None:
    from centralita.demo.loader import load_demo

    with ctx_obj(ctx).service() as svc, fail_on_error():
        result = load_demo(
            svc, customers=customers, seed=seed, password=password, tenant_slug=tenant_slug, console=console
        )
        console.print(
            _("Loaded the demo contact center {slug} in {seconds:.1f} s", slug=result.slug, seconds=result.seconds)
        )
        emit(result.counts, False, list(result.counts))
        emit(result.logins, False, ["role", "username", "password"], title=_("Demo logins"), kinds={"role": "role"})
        console.print(_("Logins saved in {path} (readable only by you)", path=result.logins_path), highlight=False)
