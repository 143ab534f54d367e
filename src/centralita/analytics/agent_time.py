"""An agent's time by interval (metrics.md §1.1, §3.2, §3.5), pure: its state log and its busy intervals in,
per interval the online, handling, available idle and not-productive time out, split by overlap.

- **online**: any state but offline;
- **handling**: wall clock with at least one contact connected, on hold or in after-contact work, whatever
  the concurrency and whatever the state;
- **available idle**: available with no contact (ringing counts here);
- **NPT**: in a custom status (away with a reason, or `missed` after unanswered offers).

Occupancy = handling / (handling + available idle): breaks and other custom statuses are in neither term.
Times are whole microseconds since the epoch, like the fact table's.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["AgentTime", "agent_time"]


@dataclass
class AgentTime:
    online_us: int = 0
    handling_us: int = 0
    available_idle_us: int = 0
    npt_us: int = 0


def _union(busy: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(b for b in busy if b[1] > b[0]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def agent_time(
    states: Sequence[tuple[int, str]], busy: Sequence[tuple[int, int]], cuts: Sequence[int]
) -> list[AgentTime]:
    """Per interval `[cuts[i], cuts[i + 1])`: the agent's times. `states`: its state changes `(at, state)`
    sorted by time, the first at or before `cuts[0]` giving the state then (none: offline); states are
    `offline`, `available`, or anything else for a custom status. `busy`: its contacts' `(connected, end
    of after-contact work)` intervals, in any order, overlapping or not."""
    n = len(cuts) - 1
    out = [AgentTime() for _ in range(max(n, 0))]
    if n <= 0:
        return out
    lo, hi = cuts[0], cuts[-1]
    merged = _union([(max(a, lo), min(b, hi)) for a, b in busy])
    points = {lo, hi, *cuts}
    points.update(at for at, _ in states if lo < at < hi)
    for a, b in merged:
        points.update((a, b))
    ordered = sorted(p for p in points if lo <= p <= hi)
    state, s_i = "offline", 0
    while s_i < len(states) and states[s_i][0] <= lo:
        state = states[s_i][1]
        s_i += 1
    b_i, c_i = 0, 0
    for left, right in itertools.pairwise(ordered):
        while s_i < len(states) and states[s_i][0] <= left:
            state = states[s_i][1]
            s_i += 1
        while b_i < len(merged) and merged[b_i][1] <= left:
            b_i += 1
        while c_i + 1 < n and cuts[c_i + 1] <= left:
            c_i += 1
        length = right - left
        is_busy = b_i < len(merged) and merged[b_i][0] <= left
        slot = out[c_i]
        if state != "offline":
            slot.online_us += length
        if is_busy:
            slot.handling_us += length
        elif state == "available":
            slot.available_idle_us += length
        if state not in ("offline", "available"):
            slot.npt_us += length
    return out
