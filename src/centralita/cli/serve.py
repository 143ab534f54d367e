"""`centralita up` (migrate, load the demo on first start, serve) and `centralita db …`."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import func, select

from centralita.cli._common import JsonOption, console, ctx_obj, emit, err_console
from centralita.core.errors import Conflict
from centralita.core.i18n import _
from centralita.core.settings import Settings
from centralita.store import migrate
from centralita.store import tables as t
from centralita.store.server_lock import ServerLock


def register(app: typer.Typer) -> None:
    app.command("up", help=_("Start Centralita: migrate the database, load the demo on first start, serve the API."))(
        up
    )
    db = typer.Typer(help=_("Database schema: upgrade and status."), no_args_is_help=True)
    db.command("upgrade", help=_("Apply pending migrations."))(db_upgrade)
    db.command("status", help=_("Show the schema revision and row counts."))(db_status)
    app.add_typer(db, name="db")


def up(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help=_("Address to listen on (env CENTRALITA_HOST)"))] = None,
    port: Annotated[int | None, typer.Option(help=_("Port (env CENTRALITA_PORT)"), min=1, max=65535)] = None,
    demo: Annotated[bool, typer.Option(help=_("Load the demo contact center when the database is empty"))] = True,
    max_body_bytes: Annotated[
        int | None, typer.Option(help=_("Largest request body in bytes (env CENTRALITA_MAX_BODY_BYTES)"), min=1)
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help=_("Worker processes (env CENTRALITA_WORKERS; default: one per core, at most 8)"), min=1, max=8
        ),
    ] = None,
) -> None:
    from centralita.api import access_log
    from centralita.api.app import create_app
    from centralita.api.server import serve
    from centralita.api.workers import serve_workers
    from centralita.demo.loader import load_demo_if_empty
    from centralita.service import Service

    c = ctx_obj(ctx)
    if host is not None:
        c.options["host"] = host
    if port is not None:
        c.options["port"] = port
    if max_body_bytes is not None:
        c.options["max_body_bytes"] = max_body_bytes
    if workers is not None:
        c.options["workers"] = workers
    settings = c.settings()
    processes = settings.worker_count
    from centralita.cli._common import fail_on_error

    with fail_on_error():
        settings.secure_files()  # data directory 0700; database, key, logins 0600
        lock = ServerLock(settings)
        if not lock.acquire():
            raise Conflict(_refusal(settings, lock))
        svc = Service.start(settings, routing=processes == 1)  # with workers, they route
    settings.ensure_secret_key()  # generated on first start into <data dir>/secret_key
    logins = load_demo_if_empty(svc, console=console) if demo else None
    url = f"http://{settings.host}:{settings.port}"
    console.print(f"[bold green]Centralita[/] {_('is running at')} [link={url}]{url}[/link]  (API: {url}/docs)")
    console.print(f"{_('Database')}: {svc.db.engine.url.render_as_string(hide_password=True)}")
    if processes > 1:
        fanout = _("Redis") if settings.redis_url else _("the built-in relay")
        console.print(_("{n} worker processes; events between them through {fanout}", n=processes, fanout=fanout))
    if logins:
        emit(logins, False, ["role", "username", "password"], title=_("Demo logins"), kinds={"role": "role"})
    elif demo:
        console.print(
            _("Demo logins were printed on first start and saved in {path}", path=settings.data_dir / "demo-logins.txt")
        )
    try:
        if processes > 1:
            svc.close()  # the workers open their own
            with fail_on_error():
                serve_workers(settings, processes)
        else:
            access_log.configure(settings.access_log)
            serve(create_app(svc, close_on_shutdown=True, access_log=settings.access_log), settings)
    finally:
        lock.release()


def _refusal(settings: Settings, lock: ServerLock) -> str:
    where = f" ({lock.holder})" if lock.holder else ""
    if settings.redis_url:
        return _(
            "another Centralita server{where} runs on this database without Redis: servers beside it would not"
            " see its events. Give every server the same CENTRALITA_REDIS_URL, or stop that one first.",
            where=where,
        )
    return _(
        "another Centralita server{where} already runs on this database. Without Redis each server only sees"
        " the events it writes itself: a contact one of them takes in would not be routed by the other, nor"
        " pushed to its WebSockets. To run several servers on one database, give every one the same"
        " CENTRALITA_REDIS_URL (on SQLite, all on this machine); else stop the other one first."
        " CLI commands work while it runs.",
        where=where,
    )


def db_upgrade(ctx: typer.Context) -> None:
    with ctx_obj(ctx).service(upgrade=False) as svc:
        migrate.upgrade(svc.db.engine)
        console.print(_("Schema at revision {rev}", rev=migrate.current_revision(svc.db.engine)))


def db_status(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    with ctx_obj(ctx).service(upgrade=False) as svc:
        current = migrate.current_revision(svc.db.engine)
        head = migrate.head_revision()
        counts: dict[str, int] = {}
        if current is not None:
            with svc.db.read() as s:
                for name, model in (
                    ("tenants", t.Tenant),
                    ("customers", t.Customer),
                    ("agents", t.Agent),
                    ("contacts", t.Contact),
                    ("cases", t.Case),
                    ("events", t.Event),
                ):
                    counts[name] = s.scalar(select(func.count()).select_from(model)) or 0
        row = {
            "database": svc.db.engine.url.render_as_string(hide_password=True),
            "revision": current,
            "head": head,
            "up_to_date": current == head,
            **counts,
        }
        emit(row, as_json, list(row.keys()))
        if current != head:
            err_console.print(_("The schema is behind: run `centralita db upgrade`."))
