"""`centralita simulate --live`: synthetic customers and bot agents against a running server (simulation/live.py)."""

from __future__ import annotations

import os
import random
import signal
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer
from rich.live import Live

from centralita.cli._common import console, ctx_obj, err_console
from centralita.cli.labels import label
from centralita.core.i18n import _, ngettext

if TYPE_CHECKING:
    from centralita.simulation.live import Simulator, Stats

DEMO_LOGINS = "demo-logins.txt"


def register(app: typer.Typer) -> None:
    app.command(
        "simulate",
        help=_(
            "Drive a running server with synthetic traffic: customers arriving by hour of day (Poisson) and bot "
            "agents that accept, talk, wrap up and take the next one, so the wallboard shows real movement."
        ),
    )(simulate)


def _fail(message: str, option: str | None = None) -> typer.Exit:
    prefix = f"{option}: " if option else ""
    err_console.print(f"[bold red]{_('error')}:[/] {prefix}{message}", highlight=False)
    return typer.Exit(2)


def read_demo_login(path: Path, tenant: str | None) -> tuple[str, str, str] | None:
    """(tenant slug, username, password) of the supervisor in `centralita up`'s demo-logins.txt, if any."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    slug = None
    for line in lines:
        if line.startswith("#") and "(" in line and ")" in line:
            slug = line[line.rindex("(") + 1 : line.rindex(")")]
            continue
        parts = line.split()
        if len(parts) == 3 and parts[0] == "supervisor" and slug is not None and tenant in (None, slug):
            return slug, parts[1], parts[2]
    return None


def _summary_line(s: Stats) -> str:
    return _(
        "{clock}  arrivals {arrivals} · answered {answered} · abandoned {abandoned} · waiting {waiting} · "
        "talking {talking} · wrap-up {wrap_up}",
        clock=s.sim_clock,
        arrivals=s.arrivals,
        answered=s.answered,
        abandoned=s.abandoned,
        waiting=s.waiting,
        talking=s.talking,
        wrap_up=s.wrap_up,
    )


def simulate(
    ctx: typer.Context,
    live: Annotated[bool, typer.Option("--live", help=_("Drive a running server (the only mode so far)"))] = False,
    url: Annotated[str | None, typer.Option(help=_("Server URL (default: the local `centralita up` server)"))] = None,
    token: Annotated[
        str | None,
        typer.Option(help=_("API token of a supervisor or admin (env CENTRALITA_TOKEN)"), envvar="CENTRALITA_TOKEN"),
    ] = None,
    user: Annotated[str | None, typer.Option(help=_("Supervisor or admin username (instead of --token)"))] = None,
    password: Annotated[
        str | None, typer.Option(help=_("Password of --user (env CENTRALITA_PASSWORD)"), envvar="CENTRALITA_PASSWORD")
    ] = None,
    tenant: Annotated[str | None, typer.Option(help=_("Contact center slug (for --user)"))] = None,
    rate: Annotated[float, typer.Option(help=_("Arrivals per hour at the busiest hour of the profile"))] = 120.0,
    profile: Annotated[
        str, typer.Option(help=_("Arrivals by hour of day: bank (Anonymous Bank 1999 shape) or flat"))
    ] = "bank",
    agents: Annotated[int, typer.Option(help=_("How many agents the bots play"))] = 6,
    duration: Annotated[
        str | None, typer.Option(help=_("Simulated time to run, e.g. 90s, 15m, 2h (default: until Ctrl-C)"))
    ] = None,
    speed: Annotated[float, typer.Option(help=_("Time compression: 60 runs one simulated minute per second"))] = 1.0,
    seed: Annotated[int | None, typer.Option(help=_("Random seed (default: a new one, printed)"))] = None,
    channels: Annotated[
        str, typer.Option(help=_("Channel mix as NAME=WEIGHT: voice (simulated calls), chat, email"))
    ] = "voice=70,chat=20,email=10",
    queues: Annotated[
        str | None, typer.Option(help=_("Queue mix as CODE=WEIGHT (default: every active queue)"))
    ] = None,
    known: Annotated[float, typer.Option(help=_("Share of arrivals from known customers (0–1)"))] = 0.8,
    reject: Annotated[float, typer.Option(help=_("Probability that a bot rejects an offer (0–1)"))] = 0.03,
    no_answer: Annotated[
        float, typer.Option("--no-answer", help=_("Probability that a bot lets an offer ring out (0–1)"))
    ] = 0.02,
    acw: Annotated[float, typer.Option(help=_("Mean after-contact work, seconds"))] = 15.0,
    patience: Annotated[
        float, typer.Option(help=_("Mean patience of waiting customers, seconds (0: nobody abandons)"))
    ] = 387.0,
    start_hour: Annotated[
        float | None, typer.Option(help=_("Simulated time of day at the start, in hours (default: now)"))
    ] = None,
    floor: Annotated[
        float, typer.Option(help=_("Least arrival rate at any hour, as a share of --rate (0–1; 0: the profile alone)"))
    ] = 0.2,
) -> None:
    from centralita.simulation.client import ApiError, Connection
    from centralita.simulation.live import SimulationConfig, SimulationError, Simulator
    from centralita.simulation.traffic import OptionError, parse_duration, parse_weights

    if not live:
        raise _fail(_("give --live: only live simulation against a running server exists so far"), "--live")
    try:
        config = SimulationConfig(
            rate=rate,
            profile=profile,
            agents=agents,
            duration_s=parse_duration(duration) if duration is not None else None,
            speed=speed,
            seed=seed if seed is not None else random.SystemRandom().randrange(1, 1_000_000),
            channels=parse_weights(channels, "--channels", ("voice", "chat", "email")),
            queues=parse_weights(queues, "--queues") if queues is not None else None,
            known=known,
            reject=reject,
            no_answer=no_answer,
            acw_s=acw,
            patience_s=patience,
            start_hour=start_hour,
            floor=floor,
        )
        config.check()
    except OptionError as exc:
        raise _fail(exc.message, exc.option) from None
    if token is None and user is None:
        settings = ctx_obj(ctx).settings()
        found = read_demo_login(settings.data_dir / DEMO_LOGINS, tenant)
        if found is None:
            raise _fail(
                _(
                    "give --token, or --user and --password (no demo login found in {path})",
                    path=settings.data_dir / DEMO_LOGINS,
                ),
                "--token",
            )
        tenant, user, password = found
    elif token is None and not password:
        raise _fail(_("give the password of --user (or set CENTRALITA_PASSWORD)"), "--password")
    if url is None:
        settings = ctx_obj(ctx).settings()
        host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
        url = f"http://{host}:{settings.port}"
    elif not url.startswith(("http://", "https://")):
        raise _fail(_("must start with http:// or https://"), "--url")

    try:
        conn = Connection.open(url, token=token, username=user, password=password, tenant=tenant)
    except ApiError as exc:
        raise _fail(exc.detail, "--url" if exc.status == 0 else "--user/--token") from None
    try:
        sim = Simulator(conn, config)
        try:
            sim.setup()
        except SimulationError as exc:
            raise _fail(exc.message, exc.option) from None
        console.print(
            _(
                "Simulating on {url}: {agents} ({codes}), {rate}/h at the peak, speed ×{speed}, "
                "seed {seed}. Ctrl-C stops (the bots log out).",
                url=url,
                agents=ngettext("{n} bot agent", "{n} bot agents", len(sim.bots)),
                codes=", ".join(b.code for b in sim.bots.values()),
                rate=f"{config.rate:g}",
                speed=f"{config.speed:g}",
                seed=config.seed,
            )
        )
        stats = _run(sim)
    finally:
        conn.close()
    _final(stats)
    if stats.last_error:
        err_console.print(_("last error: {error}", error=stats.last_error), highlight=False)


def _run(sim: Simulator) -> Stats:
    from centralita.simulation.live import SimulationError

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if sim.stopping:
            raise KeyboardInterrupt
        sim.request_stop()
        err_console.print(_("Stopping: customers hang up, bots wrap up and log out… (Ctrl-C again to quit now)"))

    previous = signal.signal(signal.SIGINT, on_signal)
    try:
        if console.is_terminal and not os.environ.get("CENTRALITA_PLAIN"):
            with Live(console=console, auto_refresh=False, transient=False) as line:
                sim.on_status = lambda s: line.update(_summary_line(s), refresh=True)
                return sim.run()
        ticks = [0]

        def plain(s: Stats) -> None:
            if ticks[0] % 5 == 0:
                console.print(_summary_line(s), highlight=False)
            ticks[0] += 1

        sim.on_status = plain
        return sim.run()
    except SimulationError as exc:
        err_console.print(f"[bold red]{_('error')}:[/] {exc.message}", highlight=False)
        raise typer.Exit(1) from None
    finally:
        signal.signal(signal.SIGINT, previous)


def final_summary(stats: Stats) -> list[str]:
    """The closing lines: every count with the word in its right number (`1 abandono`, `2 abandonos`)."""
    lines = [
        _(
            "Final: {arrivals}, {answered}, {abandoned}, {wrapped}; {offered} to bots ({rejected}, {no_answer}); "
            "{closed}; {hung_up}; {errors}.",
            arrivals=ngettext("{n} arrival", "{n} arrivals", stats.arrivals),
            answered=ngettext("{n} answered", "{n} answered", stats.answered),
            abandoned=ngettext("{n} abandoned", "{n} abandoned", stats.abandoned),
            wrapped=ngettext("{n} wrapped up", "{n} wrapped up", stats.wrapped_up),
            offered=ngettext("{n} offer", "{n} offers", stats.offered),
            rejected=ngettext("{n} rejected", "{n} rejected", stats.rejected),
            no_answer=ngettext("{n} rang out", "{n} rang out", stats.no_answer),
            closed=ngettext("{n} closed on arrival", "{n} closed on arrival", stats.closed_on_arrival),
            hung_up=ngettext(
                "{n} still waiting at the end (hung up)",
                "{n} still waiting at the end (hung up)",
                stats.hung_up_at_stop,
            ),
            errors=ngettext("{n} error", "{n} errors", stats.errors),
        )
    ]
    if stats.closed_outcomes:
        outcomes = ", ".join(f"{label('queue_outcome', k)} {v}" for k, v in sorted(stats.closed_outcomes.items()))
        lines.append(_("Closed on arrival, by cause: {outcomes}", outcomes=outcomes))
    return lines


def _final(stats: Stats) -> None:
    console.print(_summary_line(stats), highlight=False)
    for line in final_summary(stats):
        console.print(line, highlight=False)
