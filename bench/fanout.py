"""Fan-out cost: what the event loop spends to send a contact's events to 40 sockets, per way of sending.

The baseline is the way before issue 10: every event of a queue went to every agent's socket, JSON-encoded
and compressed (permessage-deflate, as uvicorn's websockets server negotiates it with a browser) per socket.
Measured side by side in the same loop (the machine is shared): encoding once per event, compression off,
and the lean fan-out (an agent's socket gets its own events only; supervisors everything). Prints each
way's time per contact and bytes on the wire, with ratios against the baseline. Not a timed test; the
last line printed is JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from typing import Any

from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.frames import Frame, Opcode

from bench._common import machine, ratio
from centralita import access
from centralita.core.actor import Actor
from centralita.events.log import EventRecord
from centralita.realtime.ws import FrameCache, _dumps

TS = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
SUMMARY = {
    "id": 0,
    "channel": "chat",
    "queue": "atencion",
    "priority": 5,
    "ani": "+34600111222",
    "customer_id": 77,
    "customer_name": "Marta Ruiz López",
    "segment": "premium",
    "value_tier": "gold",
    "lifecycle_stage": "customer",
}


def _contact_events(seq: int, contact_id: int, agent_id: int) -> list[EventRecord]:
    """About the 8 events a chat contact makes, arrival to wrap-up (payload shapes as emitted)."""
    summary = dict(SUMMARY, id=contact_id)
    items: list[tuple[str, dict[str, Any], int | None]] = [
        (
            "contact.arrived",
            {
                "channel": "chat",
                "direction": "inbound",
                "ani": "+34600111222",
                "dnis": None,
                "initiation_method": "inbound",
                "previous_contact_id": None,
            },
            None,
        ),
        (
            "contact.queued",
            {
                "queue": "atencion",
                "priority": 5,
                "for_agent": None,
                "channel": "chat",
                "memberships": [
                    {
                        "queue_id": 1,
                        "joined_at": TS.isoformat(),
                        "priority": 5,
                        "age_adjust_s": 0,
                        "for_agent_id": None,
                        "overflowed": False,
                    }
                ],
            },
            None,
        ),
        (
            "contact.offered",
            {"agent": f"a{agent_id}", "queue": "atencion", "timeout_at": TS.isoformat(), "contact": summary},
            agent_id,
        ),
        ("contact.offer_ended", {"agent": f"a{agent_id}", "result": "accepted", "offers_left": 0}, agent_id),
        ("contact.dequeued", {"outcome": "answered", "queue": "atencion", "wait_s": 0.4}, agent_id),
        ("contact.connected", {"agent": f"a{agent_id}", "queue": "atencion", "contact": summary}, agent_id),
        ("contact.ended", {"reason": None, "acw": True, "outcome": None, "channel": "chat", "acw_due": None}, agent_id),
        (
            "contact.wrapped_up",
            {
                "disposition": "ok",
                "reason": "saldo",
                "sub_reason": None,
                "resolved": True,
                "handle_s": 42.0,
                "timed_out": False,
            },
            agent_id,
        ),
    ]
    return [
        EventRecord(
            id=seq + i,
            tenant_id=1,
            seq=seq + i,
            type=kind,
            ts=TS,
            data=data,
            contact_id=contact_id,
            agent_id=agent,
            queue_id=1,
            user_id=None,
        )
        for i, (kind, data, agent) in enumerate(items)
    ]


def _deflate() -> PerMessageDeflate:
    """What a browser and uvicorn's websockets server agree on: context takeover, 15-bit windows."""
    return PerMessageDeflate(False, False, 15, 15)


def run(way: str, agents: int, supervisors: int, contacts: int) -> dict[str, float]:
    viewers = [Actor(tenant_id=1, role="agent", user_id=100 + a, agent_id=a) for a in range(1, agents + 1)]
    viewers += [Actor(tenant_id=1, role="supervisor", user_id=900 + s) for s in range(supervisors)]
    served: list[access.Served] = [frozenset({1})] * agents + [None] * supervisors
    compress = way in ("baseline", "encode once")
    lean = way == "lean, encode once, no deflate"
    deflaters = [_deflate() for _ in viewers] if compress else []
    frames = FrameCache()
    wire = sent = 0
    started = time.perf_counter()
    for c in range(contacts):
        for e in _contact_events(1 + 8 * c, 1000 + c, 1 + c % agents):
            for i, (viewer, queues) in enumerate(zip(viewers, served, strict=True)):
                if lean and not access.may_need_event(viewer, queues, e):
                    continue
                text = _dumps({"type": "event", "event": e.to_dict()}) if way == "baseline" else frames.frame(e)
                data: bytes | bytearray | memoryview = text.encode()
                if compress:
                    data = deflaters[i].encode(Frame(Opcode.TEXT, data)).data
                wire += len(data)
                sent += 1
    elapsed = time.perf_counter() - started
    return {
        "ms_per_contact": round(1000 * elapsed / contacts, 3),
        "frames_per_contact": sent / contacts,
        "bytes_per_contact": round(wire / contacts),
    }


WAYS = ["baseline", "encode once", "encode once, no deflate", "lean, encode once, no deflate"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--agents", type=int, default=40)
    parser.add_argument("--supervisors", type=int, default=2)
    parser.add_argument("--contacts", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    best: dict[str, dict[str, float]] = {}
    for _ in range(args.rounds):  # interleaved: each round runs every way, the best round counts
        for way in WAYS:
            got = run(way, args.agents, args.supervisors, args.contacts)
            if way not in best or got["ms_per_contact"] < best[way]["ms_per_contact"]:
                best[way] = got
    base = best["baseline"]
    for way in WAYS:
        r = best[way]
        print(
            f"{way:32} {r['ms_per_contact']:8.3f} ms/contact ({ratio(r['ms_per_contact'], base['ms_per_contact'])}x)"
            f"  {r['frames_per_contact']:6.1f} frames  {r['bytes_per_contact']:8d} B"
            f" ({ratio(r['bytes_per_contact'], base['bytes_per_contact'])}x)",
            flush=True,
        )
    print(json.dumps({"machine": machine(), "args": vars(args), "ways": best}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
