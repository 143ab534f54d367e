"""R7 estimators and the queue figures flows read (behaviour 12 of flows-and-routing §7)."""

from __future__ import annotations

import math

from centralita.routing.engine import Router
from centralita.routing.estimators import (
    QueueEstimates,
    agents_available,
    agents_staffed,
    ewt,
    oldest_wait,
    queue_size,
)
from centralita.routing.model import AgentState, Membership, ProfileEntry, QueueConfig, WaitingContact

QUEUES = {1: QueueConfig(id=1)}


def test_ewt_is_inf_without_staff_and_zero_with_a_free_agent() -> None:
    r = Router(QUEUES)
    est = QueueEstimates(aht_s=300)
    assert ewt(r, 1, est, 0.0) == math.inf
    r.set_agent(AgentState(7, profile={1: ProfileEntry()}))
    assert ewt(r, 1, est, 0.0) == 0.0
    assert (agents_staffed(r, 1), agents_available(r, 1, 0.0)) == (1, 1)


def test_ewt_counts_contacts_ahead_and_busy_staff() -> None:
    r = Router(QUEUES)
    r.set_agent(AgentState(7, profile={1: ProfileEntry()}, active={"voice": 1}))  # busy, still staffed
    r.set_agent(AgentState(8, profile={1: ProfileEntry()}, active={"voice": 1}))
    for cid, (t, p) in enumerate([(0.0, 0), (5.0, 0), (6.0, 2)], start=1):
        r.enqueue(WaitingContact(cid, "voice", cid, [Membership(1, t, p)]))
    est = QueueEstimates(aht_s=300)
    assert ewt(r, 1, est, 10.0, priority=0) == (3 + 1) * 300 / 2
    assert ewt(r, 1, est, 10.0, priority=2) == (1 + 1) * 300 / 2  # only the other priority-2 is ahead
    assert queue_size(r, 1) == 3 and queue_size(r, 1, min_priority=1) == 1
    assert oldest_wait(r, 1, 10.0) == 10.0
    assert agents_available(r, 1, 10.0) == 0


def test_rolling_asa_and_aht_are_exponential_averages() -> None:
    est = QueueEstimates(aht_s=300)
    assert est.rolling_asa_s is None
    est.on_answered(40.0)
    assert est.rolling_asa_s == 40.0  # the first answer sets it
    est.on_answered(0.0)
    assert est.rolling_asa_s == 30.0
    est.on_completed(100.0)
    assert est.aht_s == 250.0
