"""A web chat's typing indicators between processes (realtime/typing.py over a Redis bus): the visitor's
typing reaches the socket of its agent in another process, and the agent's is known to every process."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

from centralita.events.bus import LocalBus, RedisBus
from centralita.realtime.typing import ChatTyping
from tests.conftest import REDIS_URL


def _until(check: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    return False


def test_typing_crosses_processes_through_redis() -> None:
    space = uuid.uuid4().hex[:16]
    bus_a, bus_b = RedisBus(REDIS_URL, space), RedisBus(REDIS_URL, space)
    try:
        worker_a, worker_b = ChatTyping(bus_a), ChatTyping(bus_b)
        # the agent types on worker A; the visitor's read on worker B knows it, until it stops
        worker_a.agent_typing(1, 42, time.time() + 5)
        assert _until(lambda: worker_b.agent_is_typing(1, 42, time.time()))
        assert not worker_b.agent_is_typing(2, 42, time.time())  # another tenant's contact 42
        assert not worker_b.agent_is_typing(1, 42, time.time() + 6)  # five seconds on, no more
        worker_a.agent_typing(1, 42, 0.0)
        assert _until(lambda: not worker_b.agent_is_typing(1, 42, time.time()))

        # the visitor types on worker A; the agent's socket on worker B gets the frame, no other agent's
        async def socket_side() -> tuple[dict[str, object], bool]:
            loop = asyncio.get_running_loop()
            mine = worker_b.subscribe(1, 7, loop)
            other = worker_b.subscribe(1, 8, loop)
            await asyncio.to_thread(worker_a.customer_typing, 1, 42, 7)
            frame = await asyncio.wait_for(mine.get(), 5)
            await asyncio.sleep(0.2)
            worker_b.unsubscribe(mine)
            worker_b.unsubscribe(other)
            return frame, other.empty()

        frame, others_empty = asyncio.run(socket_side())
        assert frame == {"type": "typing", "contact_id": 42, "who": "customer"}
        assert others_empty
    finally:
        bus_a.close()
        bus_b.close()


def test_typing_in_one_process_and_other_notes_are_ignored() -> None:
    bus = LocalBus()
    typing = ChatTyping(bus)
    bus.note({"kind": "queue_stats", "tenant_id": 1, "message": {}})
    typing.agent_typing(1, 5, 100.0)
    assert typing.agent_is_typing(1, 5, 99.0) and not typing.agent_is_typing(1, 5, 100.0)
