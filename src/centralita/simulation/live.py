"""`centralita simulate --live`: synthetic customers and bot agents driving a running server.

One thread, one loop. Simulated time runs `speed` times faster than the wall clock; every planned step (an
arrival, a bot answering, a call ending, a customer hanging up) sits in a heap keyed by simulated time, and
between steps the loop listens to the realtime WebSocket (offers arrive there).

- **Customers** arrive as a Poisson process whose rate follows the hour of the day (`traffic.ArrivalProfile`,
  the Anonymous Bank's Sunday–Thursday shape by default). Most are the contact center's own customers
  (their phone, e-mail or chat id, so the server recognises them); the rest are unknown numbers and
  addresses. Each waits up to an exponential patience and then hangs up (`customer-disconnect`: an
  abandon). Contacts carry the attribute `simulated: true`.
- **Bots** play `agents` of the contact center's agents (those offline first, so people at work keep
  theirs): they make themselves available, and on each offer (`contact.offered` for them) they accept after
  a ring of a few seconds — or reject it, or let it ring out — talk for a log-normal handle time, end, wrap
  up after the after-contact work time with a disposition and a reason of the tenant's taxonomy, and take
  the next one. A bot that routing marked `missed` makes itself available again a few seconds later.
- **Stop** (the duration is over, or Ctrl-C): waiting customers hang up, the bots end and wrap up what
  they hold, then go offline. Contacts answered by people (not bots) are ended by their customer after a
  handle time like any other, so a person can play along from the agent desktop.

The server keeps its own (real) time: at `speed` > 1 the recorded waits and handle times are shorter than
the simulated ones by that factor.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
import itertools
import math
import random
import time
import zoneinfo
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from centralita.core.i18n import _
from centralita.simulation import traffic
from centralita.simulation.client import ApiError, Connection, EventStream, StreamClosed
from centralita.simulation.traffic import OptionError

__all__ = ["SimulationConfig", "SimulationError", "Simulator", "Stats"]

IDENTITY_KIND = {"voice": "phone", "chat": "chat", "email": "email"}
DISPOSITIONS = {"resuelto": 0.6, "informado": 0.2, "pendiente_cliente": 0.1, "escalado": 0.1}
RESOLVED = {"resuelto", "informado"}
DEMO_QUEUE_WEIGHTS = {
    "atencion": 6.0,
    "ventas": 2.0,
    "cobros": 1.0,
    "premium": 1.0,
    "soporte-digital": 1.5,
    "urgencias": 1.0,
}
HOURS_RECHECK_S = 60.0  # how often (wall clock) a queue's hours calendar is asked whether it is open
CUSTOMER_POOL = 500
MISSED_RECOVERY_S = (3.0, 10.0)


class SimulationError(Exception):
    """The simulation cannot start or go on (a bad option, a missing permission, the server is gone)."""

    def __init__(self, message: str, option: str | None = None) -> None:
        super().__init__(f"{option}: {message}" if option else message)
        self.option = option
        self.message = message


@dataclass
class SimulationConfig:
    rate: float = 120.0  # arrivals per hour at the profile's peak hour
    profile: str = "bank"  # bank (Anonymous Bank 1999 hour-of-day shape) or flat
    agents: int = 6
    duration_s: float | None = None  # simulated seconds; None: until stopped
    speed: float = 1.0
    seed: int = 0
    channels: dict[str, float] = field(default_factory=lambda: {"voice": 70.0, "chat": 20.0, "email": 10.0})
    queues: dict[str, float] | None = None  # queue code → weight; None: every active queue
    known: float = 0.8  # share of arrivals from known customers
    reject: float = 0.03
    no_answer: float = 0.02
    acw_s: float = 15.0
    patience_s: float = traffic.BANK_PATIENCE_S
    start_hour: float | None = None  # simulated local time of day at the start (hours); None: now
    floor: float = 0.2  # arrivals per hour never below floor × rate (the bank's nights are near zero)

    def check(self) -> None:
        """Raise OptionError naming the first bad option."""
        if not (self.rate > 0 and math.isfinite(self.rate)):
            raise OptionError("--rate", _("must be more than zero"))
        if self.profile not in ("bank", "flat"):
            raise OptionError("--profile", _("must be bank or flat"))
        if self.agents < 1:
            raise OptionError("--agents", _("must be at least 1"))
        if not (self.speed > 0 and math.isfinite(self.speed)):
            raise OptionError("--speed", _("must be more than zero"))
        if self.duration_s is not None and not self.duration_s > 0:
            raise OptionError("--duration", _("must be more than zero"))
        for name in self.channels:
            if name not in traffic.CHANNELS:
                raise OptionError(
                    "--channels", _("unknown {name!r}; use {allowed}", name=name, allowed="voice, chat, email")
                )
        traffic.check_probability(self.known, "--known")
        traffic.check_probability(self.reject, "--reject")
        traffic.check_probability(self.no_answer, "--no-answer")
        if self.reject + self.no_answer > 1:
            raise OptionError("--no-answer", _("--reject plus --no-answer must not exceed 1"))
        if not (self.acw_s >= 0 and math.isfinite(self.acw_s)):
            raise OptionError("--acw", _("must be zero or more"))
        if not (self.patience_s >= 0 and math.isfinite(self.patience_s)):
            raise OptionError("--patience", _("must be zero or more"))
        if not 0 <= self.floor <= 1:
            raise OptionError("--floor", _("must be between 0 and 1"))
        if self.start_hour is not None and not 0 <= self.start_hour < 24:
            raise OptionError("--start-hour", _("must be from 0 to 23.99"))


@dataclass
class Stats:
    """What the summary line shows. `waiting`, `talking` and `wrap_up` are the simulator's own contacts now."""

    sim_clock: str = ""
    elapsed_s: float = 0.0
    arrivals: int = 0
    closed_on_arrival: int = 0
    offered: int = 0
    answered: int = 0
    rejected: int = 0
    no_answer: int = 0
    abandoned: int = 0
    wrapped_up: int = 0
    waiting: int = 0
    talking: int = 0
    wrap_up: int = 0
    errors: int = 0
    hung_up_at_stop: int = 0
    lag_s: float = 0.0  # how far (simulated seconds) the loop is behind its plan: the server cannot keep up
    closed_outcomes: dict[str, int] = field(default_factory=dict)
    last_error: str | None = None


@dataclass
class SimContact:
    id: int
    channel: str
    status: str  # queued, connected, held, acw, closed
    ours: bool  # created by this run (else: offered to a bot, from elsewhere)
    agent_id: int | None = None


@dataclass
class Bot:
    id: int
    code: str
    contacts: set[int] = field(default_factory=set)


@dataclass
class Customer:
    label: str
    identities: dict[str, list[str]]  # kind → values


class Simulator:
    """Plays customers and bots against one connection. `run()` blocks until the duration is over or
    `request_stop()` is called (e.g. from a signal handler), then cleans up."""

    def __init__(
        self,
        conn: Connection,
        config: SimulationConfig,
        on_status: Callable[[Stats], None] | None = None,
        status_every_s: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        config.check()
        self.conn = conn
        self.config = config
        self.rng = random.Random(config.seed)
        self.on_status = on_status
        self.status_every_s = status_every_s
        self.monotonic = monotonic
        self.stats = Stats()
        self.contacts: dict[int, SimContact] = {}
        self.bots: dict[int, Bot] = {}
        self.offers: dict[int, int] = {}  # contact id → bot agent id, while offered
        self.queues: dict[str, dict[str, Any]] = {}
        self.reasons: list[tuple[str, list[str]]] = []  # (reason, its sub-reasons)
        self.customers: dict[str, list[Customer]] = {}  # identity kind → customers that have one
        self.offer_timeout_s: dict[str, float] = {}
        self._open: dict[str, tuple[float, bool]] = {}  # hours calendar → (when asked, open then)
        self._heap: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self._n = itertools.count()
        self._stop = False
        self._stream: EventStream | None = None
        self._last_seq: int | None = None
        self._wall0 = 0.0
        self._day_offset_s = 0.0
        self._arrivals: Iterator[float] = iter(())
        self._next_arrival = math.inf
        self._unknown = itertools.count(1)

    # --- time ----------------------------------------------------------------------------------------

    def now(self) -> float:
        """Simulated seconds since the start."""
        return (self.monotonic() - self._wall0) * self.config.speed

    def _at(self, sim_t: float, fn: Callable[..., None], *args: Any) -> None:
        heapq.heappush(self._heap, (sim_t, next(self._n), fn, args))

    def _after(self, sim_s: float, fn: Callable[..., None], *args: Any) -> None:
        self._at(self.now() + sim_s, fn, *args)

    def _clock_label(self, sim_t: float) -> str:
        seconds = int(self._day_offset_s + sim_t)
        day, rest = divmod(seconds, 86400)
        label = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
        return f"+{day}d {label}" if day else label

    # --- set-up --------------------------------------------------------------------------------------

    def setup(self) -> None:
        """Read what the bots and customers need; raise SimulationError when something is missing."""
        me = self._get("/api/auth/me")
        if me["role"] not in ("supervisor", "admin"):
            raise SimulationError(_("the simulator needs a supervisor or admin login or token"), "--user/--token")
        tz = zoneinfo.ZoneInfo(str(me["tenant"].get("timezone") or "UTC"))
        if self.config.start_hour is None:
            local = dt.datetime.now(tz)
            self._day_offset_s = local.hour * 3600 + local.minute * 60 + local.second
        else:
            self._day_offset_s = self.config.start_hour * 3600
        self._load_queues()
        self._load_reasons()
        self._load_agents()
        self._load_customers()

    def _load_queues(self) -> None:
        active = {q["code"]: q for q in self._get("/api/queues") if q["active"]}
        if not active:
            raise SimulationError(_("the contact center has no active queue"))
        if self.config.queues is not None:
            for code in self.config.queues:
                if code not in active:
                    raise SimulationError(
                        _("unknown queue {code!r}; active queues: {codes}", code=code, codes=", ".join(sorted(active))),
                        "--queues",
                    )
            weights = {c: w for c, w in self.config.queues.items() if w > 0}
        else:
            weights = {code: DEMO_QUEUE_WEIGHTS.get(code, 1.0) for code in active}
        self.queues = {code: dict(active[code], weight=w) for code, w in weights.items()}
        for channel, weight in self.config.channels.items():
            if weight > 0 and not self._queues_for(channel):
                raise SimulationError(_("no chosen queue takes {channel} contacts", channel=channel), "--channels")
        self.offer_timeout_s = {code: float(q.get("offer_timeout_s") or 20) for code, q in self.queues.items()}

    def _queues_for(self, channel: str) -> dict[str, float]:
        return {c: float(q["weight"]) for c, q in self.queues.items() if not q["channels"] or channel in q["channels"]}

    def _is_open(self, code: str) -> bool:
        """Whether the queue takes contacts now (its hours calendar, by the server's clock; asked at most
        once a minute per calendar). A queue without a calendar is always open."""
        hours = self.queues[code].get("hours")
        if not hours:
            return True
        asked = self._open.get(hours)
        if asked is None or self.monotonic() - asked[0] >= HOURS_RECHECK_S:
            try:
                status = self._get(f"/api/hours/{hours}/status")["status"]
            except ApiError:
                status = "open"  # cannot tell: send it, the server decides
            asked = (self.monotonic(), status == "open")
            self._open[hours] = asked
        return asked[1]

    def _choose_queue(self, channel: str) -> str:
        """A queue for the channel by weight, among those open now; when none is open, among all (the
        server then closes the contact on arrival, counted as such)."""
        weights = self._queues_for(channel)
        open_now = {code: w for code, w in weights.items() if self._is_open(code)}
        return traffic.weighted_choice(self.rng, open_now or weights)

    def _load_reasons(self) -> None:
        reasons = [r for r in self._get("/api/reasons") if r["active"]]
        subs: dict[str, list[str]] = {}
        for r in reasons:
            if r["parent"] is not None:
                subs.setdefault(r["parent"], []).append(r["code"])
        self.reasons = [(r["code"], subs.get(r["code"], [])) for r in reasons if r["parent"] is None]
        if not self.reasons:
            raise SimulationError(_("the contact center has no contact reasons: the bots could not wrap up"))

    def _load_agents(self) -> None:
        agents = [a for a in self._get("/api/agents") if a["active"]]
        if self.config.agents > len(agents):
            raise SimulationError(
                _(
                    "the contact center has {count} active agents, fewer than {wanted}",
                    count=len(agents),
                    wanted=self.config.agents,
                ),
                "--agents",
            )
        agents.sort(key=lambda a: a["state"] != "offline")  # stable: the listing's order within each group
        for a in agents[: self.config.agents]:
            self.bots[int(a["id"])] = Bot(id=int(a["id"]), code=str(a["code"]))

    def _load_customers(self) -> None:
        first = self._get("/api/customers", params={"limit": 1})
        total = int(first["total"])
        offset = self.rng.randrange(total - CUSTOMER_POOL + 1) if total > CUSTOMER_POOL else 0
        page = (
            self._get("/api/customers", params={"limit": CUSTOMER_POOL, "offset": offset}) if total else {"items": []}
        )
        for item in page["items"]:
            ids: dict[str, list[str]] = {}
            for identity in item.get("identities") or []:
                ids.setdefault(str(identity["kind"]), []).append(str(identity["value"]))
            customer = Customer(label=str(item["name"]), identities=ids)
            for kind in ids:
                self.customers.setdefault(kind, []).append(customer)

    # --- the loop ------------------------------------------------------------------------------------

    def request_stop(self) -> None:
        self._stop = True

    @property
    def stopping(self) -> bool:
        return self._stop

    def run(self) -> Stats:
        """Set up (unless done), make the bots available, drive traffic until stopped, clean up."""
        if not self.bots:
            self.setup()
        self._wall0 = self.monotonic()
        profile = traffic.ArrivalProfile(
            self.config.rate,
            traffic.BANK_HOURLY if self.config.profile == "bank" else traffic.FLAT_HOURLY,
            floor=self.config.floor,
        )
        end = self._day_offset_s + (self.config.duration_s if self.config.duration_s is not None else math.inf)
        self._arrivals = (t - self._day_offset_s for t in profile.arrivals(self.rng, self._day_offset_s, end))
        self._next_arrival = next(self._arrivals, math.inf)
        self._stream = self.conn.events()
        try:
            for bot in self.bots.values():
                self._set_state(bot, "available")
            self._loop()
        finally:
            self._shutdown()
        return self.snapshot()

    def _loop(self) -> None:
        next_status = 0.0 if self.on_status is not None else math.inf
        while not self._stop:
            now = self.now()
            if self.config.duration_s is not None and now >= self.config.duration_s:
                break
            wall = self.monotonic()
            if self.on_status is not None and wall >= next_status:
                self.on_status(self.snapshot())
                next_status = wall + self.status_every_s
            planned = self._heap[0][0] if self._heap else math.inf
            if min(self._next_arrival, planned) <= now:  # the earliest first: nothing starves when behind
                self.stats.lag_s = now - min(self._next_arrival, planned)
                if self._next_arrival <= planned:
                    self._arrive()
                    self._next_arrival = next(self._arrivals, math.inf)
                else:
                    _, _, fn, args = heapq.heappop(self._heap)
                    fn(*args)
                continue
            self.stats.lag_s = 0.0
            due = min(self._next_arrival, self._heap[0][0] if self._heap else math.inf)
            if self.config.duration_s is not None:
                due = min(due, self.config.duration_s)
            wait = min(0.25, max(0.0, (due - now) / self.config.speed), max(0.0, next_status - wall))
            self._receive(wait)

    def _receive(self, timeout: float) -> None:
        assert self._stream is not None
        try:
            message = self._stream.receive(timeout)
        except StreamClosed:
            self._stream = self._reconnect()
            return
        while message is not None:
            if message.get("type") == "event":
                self._on_event(message["event"])
            elif message.get("type") == "hello" and self._last_seq is None:
                self._last_seq = int(message.get("last_seq") or 0)
            try:
                message = self._stream.receive(0)
            except StreamClosed:
                self._stream = self._reconnect()
                return

    def _reconnect(self) -> EventStream:
        for _attempt in range(10):
            try:
                return self.conn.events(after=self._last_seq)
            except ApiError:
                time.sleep(1.0)
        raise SimulationError(_("lost the realtime connection to the server"))

    def snapshot(self) -> Stats:
        s = self.stats
        s.elapsed_s = self.now() if self._wall0 else 0.0
        s.sim_clock = self._clock_label(s.elapsed_s)
        live = Counter(c.status for c in self.contacts.values() if c.ours)
        s.waiting = live["queued"]
        s.talking = live["connected"] + live["held"]
        s.wrap_up = live["acw"]
        return dataclasses.replace(s, closed_outcomes=dict(s.closed_outcomes))

    # --- server calls --------------------------------------------------------------------------------

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        try:
            return self.conn.call("GET", path, params=params)
        except ApiError as exc:
            option = "--url" if exc.status == 0 else "--user/--token" if exc.status in (401, 403) else None
            raise SimulationError(exc.detail, option) from None

    def _post(self, path: str, body: Any = None) -> dict[str, Any] | None:
        """POST; None on a conflict or refusal the race explains (the contact moved on), counted otherwise."""
        try:
            result: dict[str, Any] = self.conn.call("POST", path, body)
            return result
        except ApiError as exc:
            if exc.status == 0:
                raise SimulationError(exc.detail) from None
            if exc.status in (401,):
                raise SimulationError(_("the server refused the credentials: {detail}", detail=exc.detail)) from None
            if exc.status not in (403, 404, 409):
                self.stats.errors += 1
                self.stats.last_error = f"{path}: {exc.detail}"
            return None

    def _set_state(self, bot: Bot, state: str) -> None:
        self._post(f"/api/agents/{bot.code}/state", {"state": state})

    # --- customers -----------------------------------------------------------------------------------

    def _caller(self, channel: str) -> str:
        kind = IDENTITY_KIND[channel]
        pool = self.customers.get(kind)
        if pool and self.rng.random() < self.config.known:
            return self.rng.choice(self.rng.choice(pool).identities[kind])
        n = next(self._unknown)
        if channel == "voice":
            return f"+346{self.rng.randrange(10**7, 10**8):08d}"
        if channel == "email":
            return f"sim{n}.{self.rng.randrange(10**6):06d}@correo.example"
        return f"web-{self.rng.getrandbits(48):012x}"

    def _arrive(self) -> None:
        channel = traffic.weighted_choice(self.rng, self.config.channels)
        queue = self._choose_queue(channel)
        body = {"channel": channel, "from": self._caller(channel), "queue": queue, "attributes": {"simulated": True}}
        patience = traffic.patience(self.rng, channel, self.config.patience_s)
        result = self._post("/api/contacts", body)
        if result is None:
            return
        self.stats.arrivals += 1
        contact = SimContact(id=int(result["id"]), channel=channel, status=str(result["status"]), ours=True)
        if contact.status == "closed":
            self.stats.closed_on_arrival += 1
            outcome = str(result.get("outcome") or "closed")
            self.stats.closed_outcomes[outcome] = self.stats.closed_outcomes.get(outcome, 0) + 1
            return
        self.contacts[contact.id] = contact
        if math.isfinite(patience):
            self._after(patience, self._customer_gives_up, contact.id)

    def _customer_gives_up(self, contact_id: int) -> None:
        contact = self.contacts.get(contact_id)
        if contact is None or contact.status != "queued":
            return
        self._hang_up(contact)
        if contact.status == "closed":
            self.stats.abandoned += 1

    def _hang_up(self, contact: SimContact) -> None:
        result = self._post(f"/api/contacts/{contact.id}/customer-disconnect")
        if result is not None:
            self._update(contact, result)
        self.offers.pop(contact.id, None)

    def _update(self, contact: SimContact, result: dict[str, Any]) -> None:
        contact.status = str(result["status"])
        if result.get("agent_id") is not None:
            contact.agent_id = int(result["agent_id"])
        if contact.status == "closed":
            self._forget(contact)

    def _forget(self, contact: SimContact) -> None:
        contact.status = "closed"
        bot = self.bots.get(contact.agent_id or -1)
        if bot is not None:
            bot.contacts.discard(contact.id)
        self.contacts.pop(contact.id, None)

    # --- events --------------------------------------------------------------------------------------

    def _on_event(self, event: dict[str, Any]) -> None:
        seq = event.get("seq")
        if isinstance(seq, int):
            self._last_seq = max(self._last_seq or 0, seq)
        kind = event.get("type")
        cid, aid = event.get("contact_id"), event.get("agent_id")
        data = event.get("data") or {}
        if kind == "contact.offered" and aid in self.bots and cid is not None:
            self._offered(int(cid), int(aid), str(data.get("queue") or ""))
        elif kind == "contact.offer_ended" and cid is not None and data.get("result") != "accepted":
            self.offers.pop(int(cid), None)
        elif kind == "agent.state_changed" and aid in self.bots and data.get("to") == "missed" and not self._stop:
            self._after(self.rng.uniform(*MISSED_RECOVERY_S), self._recover, int(aid))
        elif cid is None or int(cid) not in self.contacts:
            return
        elif kind == "contact.connected" and aid is not None and aid not in self.bots:
            contact = self.contacts[int(cid)]
            if contact.status == "queued":  # a person answered: the customer hangs up after a handle time
                contact.status, contact.agent_id = "connected", int(aid)
                self.stats.answered += 1
                if contact.channel != "email":
                    self._after(traffic.handle_time(self.rng, contact.channel), self._customer_ends, contact.id)
        elif (kind == "contact.ended" and not data.get("acw")) or kind == "contact.wrapped_up":
            self._forget(self.contacts[int(cid)])

    def _offered(self, contact_id: int, agent_id: int, queue: str) -> None:
        if self._stop:
            return
        self.offers[contact_id] = agent_id
        self.stats.offered += 1
        if contact_id not in self.contacts:  # not one of ours (a person created it, or a previous run)
            self.contacts[contact_id] = SimContact(id=contact_id, channel="voice", status="queued", ours=False)
        draw = self.rng.random()
        ring = traffic.ring_time(self.rng, self.offer_timeout_s.get(queue, 20.0) * self.config.speed)
        if draw < self.config.reject:
            self._after(ring, self._reject, contact_id, agent_id)
        elif draw < self.config.reject + self.config.no_answer:
            self.stats.no_answer += 1  # let it ring out: routing times the offer out and marks the bot missed
        else:
            self._after(ring, self._accept, contact_id, agent_id)

    def _recover(self, agent_id: int) -> None:
        if not self._stop:
            self._set_state(self.bots[agent_id], "available")

    # --- bots ----------------------------------------------------------------------------------------

    def _accept(self, contact_id: int, agent_id: int) -> None:
        if self.offers.get(contact_id) != agent_id:
            return  # withdrawn meanwhile (the customer hung up)
        del self.offers[contact_id]
        result = self._post(f"/api/contacts/{contact_id}/accept?agent={self.bots[agent_id].code}")
        contact = self.contacts.get(contact_id)
        if result is None or contact is None:
            return
        contact.channel = str(result["channel"])
        self._update(contact, result)
        if contact.status != "connected":
            return
        self.stats.answered += 1
        self.bots[agent_id].contacts.add(contact_id)
        self._after(traffic.handle_time(self.rng, contact.channel), self._end, contact_id)

    def _reject(self, contact_id: int, agent_id: int) -> None:
        if self.offers.get(contact_id) != agent_id:
            return
        del self.offers[contact_id]
        if self._post(f"/api/contacts/{contact_id}/reject?agent={self.bots[agent_id].code}") is not None:
            self.stats.rejected += 1

    def _end(self, contact_id: int) -> None:
        contact = self.contacts.get(contact_id)
        if contact is None or contact.status not in ("connected", "held"):
            return
        result = self._post(f"/api/contacts/{contact_id}/end")
        if result is not None:
            self._update(contact, result)
        if contact.status == "acw" and not self._stop:
            self._after(traffic.acw_time(self.rng, self.config.acw_s), self._wrap_up, contact_id)

    def _wrap_up(self, contact_id: int) -> None:
        contact = self.contacts.get(contact_id)
        if contact is None or contact.status != "acw":
            return
        reason, subs = self.rng.choice(self.reasons)
        disposition = traffic.weighted_choice(self.rng, DISPOSITIONS)
        body: dict[str, Any] = {"disposition": disposition, "reason": reason, "resolved": disposition in RESOLVED}
        if subs and self.rng.random() < 0.5:
            body["sub_reason"] = self.rng.choice(subs)
        result = self._post(f"/api/contacts/{contact_id}/wrap-up", body)
        if result is not None:
            self.stats.wrapped_up += 1
            self._update(contact, result)

    def _customer_ends(self, contact_id: int) -> None:
        contact = self.contacts.get(contact_id)
        if contact is not None and contact.status in ("connected", "held"):
            self._hang_up(contact)

    # --- stop ----------------------------------------------------------------------------------------

    def _shutdown(self) -> None:
        """Waiting customers hang up, bots finish what they hold and go offline; the socket closes."""
        self._stop = True
        self._heap.clear()
        try:
            for contact in list(self.contacts.values()):
                if contact.ours and contact.status == "queued":
                    self._hang_up(contact)
                    self.stats.hung_up_at_stop += 1
                elif contact.ours and contact.agent_id not in self.bots and contact.status in ("connected", "held"):
                    self._hang_up(contact)
            for bot in self.bots.values():
                for contact_id in sorted(bot.contacts):
                    self._end(contact_id)
                    self._wrap_up(contact_id)
            for bot in self.bots.values():
                self._set_state(bot, "offline")
        finally:
            if self._stream is not None:
                self._stream.close()
                self._stream = None
