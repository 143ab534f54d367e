"""Seeded generation of the demo's customers and contact history. Pure: plans in, nothing written.

The loader turns each plan into `do_*` calls. Each customer's history draws from its own random stream
(seed + customer number), so the same seed gives the same history whatever the batch size.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
import random
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from centralita.contacts.history import RecordedContact, RecordedOffer
from centralita.crm.schemas import CustomerCreate, IdentityCreate
from centralita.demo import catalog as c
from centralita.demo.people import PeopleFactory, Person

SOURCE = "demo"

_LIFECYCLE = {
    "particulares": (0.06, 0.09, 0.65, 0.11, 0.09),
    "premium": (0.02, 0.06, 0.80, 0.09, 0.03),
    "empresas": (0.05, 0.08, 0.70, 0.10, 0.07),
}
_TIERS = {
    "particulares": (0.45, 0.38, 0.15, 0.02),
    "premium": (0.0, 0.0, 0.55, 0.45),
    "empresas": (0.0, 0.30, 0.45, 0.25),
}
_LTV = {"bajo": (150, 1_500), "medio": (1_500, 6_000), "alto": (6_000, 25_000), "muy_alto": (25_000, 150_000)}
_CONTACTS_PER_CUSTOMER = {"prospect": 1.0, "new": 3.2, "active": 3.0, "at_risk": 4.8, "lapsed": 0.8}
_SEGMENT_CONTACT_FACTOR = {"particulares": 1.0, "premium": 1.2, "empresas": 1.4}
_CHANNEL_OPTIONS = ("voice", "chat", "email")
_CHANNEL_WEIGHTS = {"particulares": (0.62, 0.28, 0.10), "premium": (0.78, 0.12, 0.10), "empresas": (0.65, 0.10, 0.25)}
_PRODUCTS = {
    "particulares": (
        "cuenta_nomina",
        "tarjeta_debito",
        "tarjeta_credito",
        "hipoteca",
        "prestamo_personal",
        "seguro_hogar",
        "plan_pensiones",
    ),
    "premium": (
        "cuenta_premium",
        "tarjeta_oro",
        "fondo_inversion",
        "cartera_gestionada",
        "hipoteca",
        "plan_pensiones",
        "seguro_vida",
    ),
    "empresas": ("cuenta_negocios", "tpv", "linea_credito", "confirming", "leasing", "tarjeta_empresa"),
}
# Mean wait in queue (exponential) at quiet times: about each queue's service level (e.g. 80 % in 20 s).
_WAIT_MEAN_S = {"atencion": 13.0, "ventas": 11.0, "cobros": 18.0, "premium": 4.0, "soporte-digital": 17.0}
# Relative volume by local hour of the day and by ISO weekday.
_HOUR_WEIGHT = {
    8: 0.5,
    9: 1.0,
    10: 1.4,
    11: 1.5,
    12: 1.3,
    13: 1.0,
    14: 0.8,
    15: 0.9,
    16: 1.1,
    17: 1.1,
    18: 0.8,
    19: 0.5,
}
_DAY_WEIGHT = {1: 1.25, 2: 1.1, 3: 1.0, 4: 1.0, 5: 0.95, 6: 0.45, 7: 0.0}
_CASE_SHARE = 0.25  # scales each reason's case_p: a few hundred cases per 2,000 customers
_NOTES = (
    "Se verifica la identidad del cliente y se atiende la consulta.",
    "Cliente informado; se le envía confirmación por correo electrónico.",
    "Se explica el procedimiento y se indica el plazo de resolución.",
    "El cliente solicita que se le llame por la tarde.",
    "Se revisan los últimos movimientos con el cliente.",
    "Se deriva a la oficina para firmar la documentación.",
    "Cliente satisfecho con la solución propuesta.",
    "Se recuerda al cliente que puede hacerlo desde la app.",
)


@dataclass
class CustomerPlan:
    number: int  # 0-based position in the load
    create: CustomerCreate
    since: dt.datetime  # when the customer joined (the customer row's created_at)


@dataclass
class CasePlan:
    subject: str
    reason: str
    owner: str | None
    queue: str | None
    priority: int
    note: str
    closes: list[tuple[dt.datetime, str]] = field(default_factory=list)  # (when, new status)


@dataclass
class ContactPlan:
    record: RecordedContact
    case: CasePlan | None = None
    follows: int | None = None  # index (in the same customer's plans) of the contact whose case this one joins


@dataclass(frozen=True)
class _Slot:
    start: dt.datetime  # UTC start of a local opening hour (or the part of it that is open)
    seconds: int


class Calendar:
    """The open hours of the history window, weighted by typical volume, for drawing contact times."""

    def __init__(self, today: dt.date, days: int, now: dt.datetime) -> None:
        tz = zoneinfo.ZoneInfo(c.TIMEZONE)
        holidays = {d for year in range(today.year - 1, today.year + 1) for d, _ in c.national_holidays(year)}
        weekly = {day: (start, end) for day, start, end in c.WEEKLY_HOURS}
        self.slots: list[_Slot] = []
        cumulative: list[float] = []
        total = 0.0
        for offset in range(days, 0, -1):
            day = today - dt.timedelta(days=offset)
            hours = weekly.get(day.isoweekday())
            if hours is None or day in holidays:
                continue
            first, last = int(hours[0][:2]), int(hours[1][:2])
            for hour in range(first, last):
                start = dt.datetime.combine(day, dt.time(hour), tz).astimezone(dt.UTC)
                if start + dt.timedelta(hours=1) > now:
                    continue
                total += _HOUR_WEIGHT.get(hour, 0.5) * _DAY_WEIGHT[day.isoweekday()]
                cumulative.append(total)
                self.slots.append(_Slot(start, 3600))
        self._cumulative = cumulative
        self._starts = [s.start for s in self.slots]
        self.total = total
        self.end = now

    def draw(self, rng: random.Random, after: dt.datetime | None = None) -> dt.datetime | None:
        """A random instant in an open hour (after `after` when given), weighted by volume."""
        if not self.slots:
            return None
        low = 0.0
        if after is not None:
            i = bisect.bisect_left(self._starts, after)
            if i >= len(self.slots):
                return None
            low = self._cumulative[i - 1] if i > 0 else 0.0
        x = rng.uniform(low, self.total)
        slot = self.slots[min(bisect.bisect_left(self._cumulative, x), len(self.slots) - 1)]
        return slot.start + dt.timedelta(seconds=rng.uniform(0, slot.seconds - 1))

    def next_open(self, rng: random.Random, when: dt.datetime) -> dt.datetime | None:
        """A random instant in the first open day on or after `when`'s day."""
        i = bisect.bisect_left(self._starts, when)
        if i >= len(self.slots):
            return None
        day = self.slots[i].start.date()
        same_day = [s for s in self.slots[i:] if s.start.date() == day] or [self.slots[i]]
        slot = rng.choice(same_day)
        return slot.start + dt.timedelta(seconds=rng.uniform(0, slot.seconds - 1))


def _pick(rng: random.Random, options: tuple[str, ...], weights: tuple[float, ...]) -> str:
    return rng.choices(options, weights)[0]


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def plan_customers(rng: random.Random, people: PeopleFactory, count: int, now: dt.datetime) -> list[CustomerPlan]:
    owners = {
        segment: [a.code for a in c.AGENTS if segment in a.owns] for segment in c.SEGMENTS if segment != "particulares"
    }
    owner_cycle = {segment: itertools.cycle(codes) for segment, codes in owners.items()}
    plans = []
    for number in range(count):
        segment = _pick(rng, c.SEGMENTS, (0.78, 0.12, 0.10))
        stage = _pick(rng, c.LIFECYCLE_STAGES, _LIFECYCLE[segment])
        tier = _pick(rng, c.VALUE_TIERS, _TIERS[segment])
        two_phones = rng.random() < 0.15
        person: Person = (
            people.company(two_phones) if segment == "empresas" else people.person(rng.random() < 0.05, two_phones)
        )
        low, high = _LTV[tier]
        ltv = 0.0 if stage == "prospect" else round(rng.uniform(low, high) * (3 if segment == "empresas" else 1), 2)
        if stage == "prospect":
            since = now - dt.timedelta(days=rng.uniform(20, 180))
        elif stage == "new":
            since = now - dt.timedelta(days=rng.uniform(30, 120))
        else:
            since = now - dt.timedelta(days=rng.uniform(365, 365 * 25))
        identities = [IdentityCreate(kind="phone", value=p, verified=i == 0) for i, p in enumerate(person.phones)]
        identities.append(IdentityCreate(kind="email", value=person.email, verified=stage != "prospect"))
        if person.national_id is not None:
            identities.append(IdentityCreate(kind="national_id", value=person.national_id, verified=True))
        products = [] if stage == "prospect" else rng.sample(_PRODUCTS[segment], rng.randint(1, 4))
        attributes: dict[str, Any] = {
            "provincia": person.province,
            "cliente_desde": since.date().isoformat(),
            "productos": sorted(products),
            "oficina": f"{rng.randrange(1, 1200):04d}",
        }
        owner = next(owner_cycle[segment]) if segment in owner_cycle and rng.random() < 0.9 else None
        create = CustomerCreate(
            name=person.name,
            kind=person.kind,
            external_id=f"BE{number + 1:07d}",
            segment=segment,
            value_tier=tier,
            lifecycle_stage=stage,
            lifetime_value=ltv,
            owner=owner,
            language=person.language,
            attributes=attributes,
            identities=identities,
        )
        plans.append(CustomerPlan(number=number, create=create, since=since))
    return plans


@dataclass(frozen=True)
class _Served:
    code: str
    weight: float
    level: int
    english: bool
    hourly_cost: float


class HistoryPlanner:
    """Draws each customer's contacts: time, channel, reason, queue, wait, agent, handling, survey, cost."""

    def __init__(self, seed: int, calendar: Calendar) -> None:
        self.seed = seed
        self.calendar = calendar
        self.reasons = {r.code: r for r in c.REASONS}
        self.queues = {q.code: q for q in c.QUEUES}
        self.agents = {a.code: a for a in c.AGENTS}
        self.served: dict[str, list[_Served]] = {}
        for queue in c.QUEUES:
            skill = next(iter(queue.required_skills))
            rows = []
            for agent in c.AGENTS:
                for code, rank, _delay, reserve in agent.queues:
                    if code == queue.code:
                        weight = 0.3 if reserve else (3.0 if rank == 1 else 1.0)
                        rows.append(
                            _Served(
                                agent.code,
                                weight,
                                agent.skills.get(skill, 1),
                                "en" in agent.languages,
                                agent.hourly_cost,
                            )
                        )
            self.served[queue.code] = rows
        self._reason_weights: dict[tuple[str, str, str], list[float]] = {}

    def _weights(self, channel: str, stage: str, segment: str) -> list[float]:
        key = (channel, stage, segment)
        if key not in self._reason_weights:
            out = []
            for r in c.REASONS:
                w = r.weight
                if stage == "prospect":
                    w *= 4.0 if r.group == "productos" and r.code != "baja_producto" else 0.25
                elif stage == "at_risk":
                    w *= 3.0 if r.code in ("reclamacion", "baja_producto") else 2.0 if r.group == "cobros" else 1.0
                elif stage == "lapsed":
                    w *= 2.0 if r.code == "baja_producto" or r.group == "cobros" else 1.0
                if channel == "chat":
                    w *= 2.5 if r.group == "digital" else 0.2 if r.group == "cobros" else 1.0
                elif channel == "email":
                    w *= 3.0 if r.code in ("documentacion", "certificado") else 2.0 if r.code == "reclamacion" else 1.0
                if segment == "empresas":
                    w *= 1.8 if r.group == "cobros" or r.code in ("prestamo", "transferencia") else 1.0
                out.append(w)
            self._reason_weights[key] = out
        return self._reason_weights[key]

    def plan_customer(self, customer: CustomerPlan, customer_id: int) -> list[ContactPlan]:
        rng = random.Random(f"{self.seed}:{customer.number}")
        create = customer.create
        segment = create.segment or "particulares"
        stage = create.lifecycle_stage or "active"
        count = _poisson(rng, _CONTACTS_PER_CUSTOMER[stage] * _SEGMENT_CONTACT_FACTOR[segment])
        starts = sorted(
            t for t in (self.calendar.draw(rng, after=customer.since) for _ in range(count)) if t is not None
        )
        phones = [i.value for i in create.identities if i.kind == "phone"]
        email = next((i.value for i in create.identities if i.kind == "email"), None)
        plans: list[ContactPlan] = []
        for start in starts:
            channel = _pick(rng, _CHANNEL_OPTIONS, _CHANNEL_WEIGHTS[segment])
            plan = self._contact(rng, start, channel, customer_id, create, phones, email)
            plans.append(plan)
            if plan.case is not None and rng.random() < 0.35:
                follow_at = self.calendar.next_open(rng, start + dt.timedelta(days=rng.uniform(1, 6)))
                if follow_at is not None:
                    follow_channel = "email" if channel == "email" else "voice"
                    follow = self._contact(
                        rng, follow_at, follow_channel, customer_id, create, phones, email, reason="seguimiento_gestion"
                    )
                    follow.follows = len(plans) - 1
                    plans.append(follow)
        for index, plan in enumerate(plans):
            if plan.case is not None:
                self._close_case(rng, plan, [p for p in plans[index + 1 :] if p.follows == index])
        return plans

    def plan_anonymous(self, number: int, ani: str) -> ContactPlan | None:
        """A call from a number the bank does not know: mostly prospects asking about products."""
        rng = random.Random(f"{self.seed}:anon:{number}")
        start = self.calendar.draw(rng)
        if start is None:
            return None
        reason = rng.choice(("alta_producto", "hipoteca", "prestamo", "consulta_saldo", "bloqueo_tarjeta"))
        return self._contact(rng, start, "voice", None, None, [ani], None, reason=reason)

    def _close_case(self, rng: random.Random, plan: ContactPlan, follow_ups: list[ContactPlan]) -> None:
        assert plan.case is not None
        last = max([plan.record.disconnect_ts] + [f.record.disconnect_ts for f in follow_ups])
        age_days = (self.calendar.end - last).total_seconds() / 86400
        if age_days < 2 or rng.random() < 0.25:
            if rng.random() < 0.3:
                when = last + dt.timedelta(hours=rng.uniform(1, 24 * min(age_days, 2)))
                plan.case.closes.append((min(when, self.calendar.end), "pending"))
            return
        when = last + dt.timedelta(days=rng.uniform(0.2, min(age_days, 12)))
        plan.case.closes.append((when, "resolved"))
        if rng.random() < 0.6 and when + dt.timedelta(days=2) < self.calendar.end:
            plan.case.closes.append((when + dt.timedelta(days=2), "closed"))

    def _contact(
        self,
        rng: random.Random,
        start: dt.datetime,
        channel: str,
        customer_id: int | None,
        create: CustomerCreate | None,
        phones: list[str],
        email: str | None,
        reason: str | None = None,
    ) -> ContactPlan:
        segment = create.segment if create and create.segment else "particulares"
        stage = create.lifecycle_stage if create and create.lifecycle_stage else "prospect"
        english = create is not None and create.language == "en"
        if reason is None:
            r = rng.choices(c.REASONS, self._weights(channel, stage, segment))[0]
        else:
            r = self.reasons[reason]
        queue_code = "premium" if segment == "premium" and r.queue != "cobros" else r.queue
        queue = self.queues[queue_code]
        if channel not in queue.channels:
            channel = "voice"
        sub = f"{r.code}.{rng.choice(r.subs)[0]}" if r.subs and rng.random() < 0.8 else None
        if channel == "voice":
            ani: str | None = rng.choice(phones) if phones else None
            dnis = c.SERVICE_NUMBER
        elif channel == "email":
            ani, dnis = email, c.EMAIL_ADDRESS
        else:
            ani, dnis = (f"web:{customer_id}" if customer_id else None), c.CHAT_ENTRY
        base: dict[str, Any] = {
            "channel": channel,
            "ani": ani,
            "dnis": dnis,
            "language": "en" if english else "es",
            "customer_id": customer_id,
            "reason": r.code,
            "sub_reason": sub,
            "initiation_ts": start,
            "source": SOURCE,
        }
        local_hour = start.astimezone(zoneinfo.ZoneInfo(c.TIMEZONE)).hour
        # Self-service: the IVR answers and the caller hangs up content.
        if channel == "voice" and rng.random() < r.self_service_p:
            end = start + dt.timedelta(seconds=rng.uniform(40, 150))
            record = RecordedContact(
                **base,
                self_service=True,
                resolved=True,
                disconnect_ts=end,
                disconnect_reason="CUSTOMER_DISCONNECT",
                cost=_telephony(start, end),
            )
            return ContactPlan(record)

        flow_s = {"voice": rng.uniform(20, 75), "chat": rng.uniform(5, 30)}.get(channel, rng.uniform(0, 2))
        enqueue = start + dt.timedelta(seconds=flow_s)
        busy = (1.5 if local_hour in (10, 11, 12) else 1.0) * (1.3 if start.isoweekday() == 1 else 1.0)
        if channel == "email":  # answered within the working day, and well before now
            room = (self.calendar.end - enqueue).total_seconds() - 7200
            wait = max(60.0, min(rng.expovariate(1 / 9000), 8 * 3600, room))
            patience = math.inf
        else:
            wait = rng.expovariate(1 / (_WAIT_MEAN_S[queue_code] * busy * (1.5 if channel == "chat" else 1.0)))
            patience = rng.expovariate(1 / (240.0 if queue_code == "premium" else 180.0))
        priority = queue.segment_priority.get(segment, 0)
        if patience < wait:  # abandoned while queued
            dequeue = enqueue + dt.timedelta(seconds=patience)
            record = RecordedContact(
                **base,
                queue=queue_code,
                priority=priority,
                enqueue_ts=enqueue,
                dequeue_ts=dequeue,
                queue_outcome="abandoned",
                disconnect_ts=dequeue,
                disconnect_reason="CUSTOMER_DISCONNECT",
                cost=_telephony(start, dequeue) if channel == "voice" else 0.0,
            )
            return ContactPlan(record)

        agent = self._agent(rng, queue_code, create, english)
        dequeue = enqueue + dt.timedelta(seconds=wait)
        ring = min(wait, rng.uniform(2, 8) if channel == "voice" else rng.uniform(1, 5) if channel == "chat" else 0)
        offers = []
        if channel == "voice" and wait > ring + 25 and rng.random() < 0.15:
            other = self._agent(rng, queue_code, None, english)
            if other.code != agent.code:
                missed = enqueue + dt.timedelta(seconds=rng.uniform(0, wait - ring - 22))
                offers.append(
                    RecordedOffer(
                        agent=other.code,
                        offered_ts=missed,
                        ended_ts=missed + dt.timedelta(seconds=20),
                        result="timeout",
                    )
                )
        offers.append(
            RecordedOffer(agent=agent.code, offered_ts=dequeue - dt.timedelta(seconds=ring), ended_ts=dequeue)
        )
        proficiency = {1: 1.25, 2: 1.1, 3: 1.0, 4: 0.92, 5: 0.85}[agent.level]
        channel_factor = {"voice": 1.0, "chat": 1.6, "email": 0.6}[channel]
        talk = max(30.0, _lognormal(rng, r.talk_s * proficiency * channel_factor, 0.5))
        holds: list[tuple[dt.datetime, dt.datetime]] = []
        hold_s = 0.0
        if channel == "voice" and rng.random() < 0.18:
            hold_s = rng.uniform(15, 150)
            hold_start = dequeue + dt.timedelta(seconds=talk * rng.uniform(0.2, 0.7))
            holds.append((hold_start, hold_start + dt.timedelta(seconds=hold_s)))
        agent_end = dequeue + dt.timedelta(seconds=talk + hold_s)
        acw = max(5.0, _lognormal(rng, 90.0 if channel == "email" else 45.0, 0.6))
        acw_end = agent_end + dt.timedelta(seconds=acw)
        resolve_p = r.resolve_p + {1: -0.10, 2: -0.04, 3: 0.0, 4: 0.03, 5: 0.05}[agent.level]
        resolved = rng.random() < min(0.99, resolve_p)
        opens_case = rng.random() < r.case_p * _CASE_SHARE
        disposition = _disposition(rng, r, queue_code, resolved, opens_case)
        survey: dict[str, Any] = {}
        if rng.random() < (0.15 if channel == "email" else 0.30) and customer_id is not None:
            survey = _survey(rng, resolved, wait, segment, channel, agent_end)
            if survey["survey_ts"] > self.calendar.end:
                survey = {}
        cost = round(agent.hourly_cost * (talk + hold_s + acw) / 3600, 4)
        if channel == "voice":
            cost = round(cost + _telephony(start, agent_end), 4)
        record = RecordedContact(
            **base,
            resolved=resolved,
            queue=queue_code,
            priority=priority,
            agent=agent.code,
            enqueue_ts=enqueue,
            dequeue_ts=dequeue,
            queue_outcome="answered",
            offers=offers,
            agent_connected_ts=dequeue,
            agent_end_ts=agent_end,
            holds=holds,
            acw_start_ts=agent_end,
            acw_end_ts=acw_end,
            disconnect_ts=agent_end,
            disconnect_reason=(
                "AGENT_DISCONNECT" if channel == "email" or rng.random() < 0.35 else "CUSTOMER_DISCONNECT"
            ),
            disposition=disposition,
            notes=rng.choice(_NOTES) if rng.random() < 0.35 else None,
            cost=cost,
            **survey,
        )
        case = None
        if opens_case and customer_id is not None:
            sub_name = next((name for code, name, _en in r.subs if sub == f"{r.code}.{code}"), None)
            case = CasePlan(
                subject=r.case_subject + (f": {sub_name.lower()}" if sub_name else ""),
                reason=r.code,
                owner=agent.code,
                queue=queue_code,
                priority={"cargo_no_reconocido": 3, "reclamacion": 2}.get(r.code, 1),
                note=rng.choice(_NOTES),
            )
        return ContactPlan(record, case)

    def _agent(self, rng: random.Random, queue: str, create: CustomerCreate | None, english: bool) -> _Served:
        rows = self.served[queue]
        if create is not None and create.owner is not None and rng.random() < 0.5:
            for row in rows:
                if row.code == create.owner:
                    return row
        if english:
            rows = [r for r in rows if r.english] or rows
        return rng.choices(rows, [r.weight for r in rows])[0]


def _lognormal(rng: random.Random, mean: float, sigma: float) -> float:
    return rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma)


def _telephony(start: dt.datetime, end: dt.datetime) -> float:
    return round((end - start).total_seconds() / 60 * c.TELEPHONY_EUR_PER_MINUTE, 4)


def _disposition(rng: random.Random, r: c.ReasonDef, queue: str, resolved: bool, opens_case: bool) -> str:
    if opens_case:
        return "caso_abierto"
    if r.sales:
        return ("venta" if rng.random() < 0.55 else "informado") if resolved else "sin_venta"
    if queue == "cobros":
        return ("promesa_pago" if rng.random() < 0.6 else "pago_realizado") if resolved else "sin_acuerdo"
    if resolved:
        return "resuelto"
    return rng.choice(("pendiente_cliente", "derivado_oficina", "escalado"))


def _survey(
    rng: random.Random, resolved: bool, wait: float, segment: str, channel: str, ended: dt.datetime
) -> dict[str, Any]:
    mood = (0.8 if resolved else -0.9) - (0.6 if wait > 60 and channel != "email" else 0.0) + rng.gauss(0, 0.8)
    csat = int(min(5, max(1, round(4.0 + mood))))
    out: dict[str, Any] = {"csat": csat}
    if rng.random() < 0.7:
        out["ces"] = int(min(7, max(1, round(5.0 + 1.3 * mood))))
    if rng.random() < 0.6:
        out["nps"] = int(min(10, max(0, round(7.5 + 1.8 * mood + (0.4 if segment == "premium" else 0.0)))))
    delay = rng.uniform(3600, 20 * 3600) if channel == "email" else rng.uniform(20, 300)
    out["survey_ts"] = ended + dt.timedelta(seconds=delay)
    return out
