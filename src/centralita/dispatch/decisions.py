"""Decisions → actions: one routing round of a tenant written in one transaction, and the router corrected
by what the store refused.

A round is what the router decided since the last one (`step(now)`, `take_overflows()`), the agents that
missed too many offers, and after-contact work past its deadline. Offers made and ended within the same
round (an agent that went away before the offer could be written) are left out on both sides. The store
has the last word: an offer it refuses puts the contact back as its events describe it (or, when the
store has an offer the router does not know, rebuilds the tenant); a timeout it refuses (the agent
accepted first) is left to the accept's events, which the router adopts.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field

from centralita.contacts.live import RoundResult, do_route_round
from centralita.core.actor import Actor
from centralita.dispatch.feed import TenantRouting, ensure_waiting
from centralita.routing.lifecycle import Overflowed
from centralita.routing.model import Offer, OfferEnded
from centralita.store.db import Database

__all__ = ["Round", "collect_round", "write_round"]

log = logging.getLogger(__name__)


@dataclass
class Round:
    """What one routing round writes, in this order."""

    ended: list[OfferEnded] = field(default_factory=list)
    missed: list[int] = field(default_factory=list)
    overflows: list[Overflowed] = field(default_factory=list)
    offers: list[Offer] = field(default_factory=list)
    acw_due: list[tuple[int, dt.datetime]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.ended or self.missed or self.overflows or self.offers or self.acw_due)


def collect_round(tr: TenantRouting, now: float) -> Round:
    """The router's decisions due by `now`, netted: an offer made and ended since the last round was never
    written, so neither is its end."""
    offers, ended = tr.router.step(now)
    transient = Counter(offers) & Counter(e.offer for e in ended)
    if transient:
        made, gone = Counter(transient), Counter(transient)
        kept_offers = []
        for offer in offers:
            if made[offer]:
                made[offer] -= 1
            else:
                kept_offers.append(offer)
        kept_ended = []
        for end in ended:
            if gone[end.offer]:
                gone[end.offer] -= 1
            else:
                kept_ended.append(end)
        offers, ended = kept_offers, kept_ended
    candidates = {e.offer.agent_id for e in ended if e.result == "timeout"} | tr.check_missed
    tr.check_missed = set()
    missed = sorted(a for a in candidates if (agent := tr.router.agents.get(a)) is not None and agent.missed)
    due = sorted((at, cid) for cid, at in tr.acw_due.items() if at <= now)
    for _at, cid in due:
        del tr.acw_due[cid]
    return Round(
        ended=list(ended),
        missed=missed,
        overflows=tr.router.take_overflows(),
        offers=list(offers),
        acw_due=[(cid, dt.datetime.fromtimestamp(at, dt.UTC)) for at, cid in due],
    )


def write_round(db: Database, actor: Actor, tr: TenantRouting, decided: Round, now: float) -> RoundResult:
    """Write the round in one transaction (urgent: before new contacts waiting to write, when routing shares
    its process with the API), then correct the router by what the store refused."""
    with db.write(urgent=True) as s:
        result = do_route_round(
            s,
            actor,
            ended=decided.ended,
            missed=decided.missed,
            overflows=decided.overflows,
            offers=decided.offers,
            acw_due=decided.acw_due,
        )
    for end, detail in result.ends_refused:
        # Answered in the store before the timeout or the withdrawal got there: its events follow, and the
        # router takes them as the store has them (an accept it had let go is adopted: feed._connected).
        log.info("end (%s) of contact %s's offer not recorded: %s", end.result, end.offer.contact_id, detail)
    for overflow, detail in result.overflows_refused:
        # answered or abandoned meanwhile: the events that remove it from the router are on their way
        log.info("overflow of contact %s not recorded: %s", overflow.contact_id, detail)
    written = {o.contact_id for o in result.offers_made}
    for offer, kind, detail in result.offers_refused:
        log.info("offer of contact %s to agent %s not made: %s", offer.contact_id, offer.agent_id, detail)
        if kind == "already_offered":
            tr.resync = True  # the store rings an agent the router does not know of
        elif offer.contact_id not in written:
            # No offer of the round written: put the contact back as its events describe it (or not at all:
            # the events that explain it are on their way). With others written (ring_all), this agent's
            # offer stays in the router until the agent's own event withdraws it.
            tr.router.remove(offer.contact_id, now)
            ensure_waiting(tr, offer.contact_id, now)
            written.add(offer.contact_id)  # once per contact
    return result
