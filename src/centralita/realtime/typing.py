"""Typing indicators of a chat with an agent: ephemeral, never events, never stored.

Both sides travel as bus notes (`{"kind": "chat_typing", ...}`), which reach every process of the service
(`centralita up`'s workers through its relay, or Redis; a single process in-process):

- the visitor is typing: each process hands `{"type": "typing", "contact_id": N, "who": "customer"}` to
  the realtime sockets of the contact's agent it holds (`subscribe`);
- the agent is typing: each process remembers until when (`TYPING_S` after the agent's last call), so the
  visitor's conversation read says `agent_typing` whichever worker answers it. A message from the agent
  ends it at once.

`centralita.api.app.create_app` makes one `ChatTyping` per app (`app.state.chat_typing`), listening on the
service's bus from the start, so no process misses a note.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

from centralita.events.bus import LocalBus

__all__ = ["TYPING_S", "ChatTyping"]

TYPING_S = 5.0  # how long the agent's typing shows after its last call
MAX_PENDING = 16
MAX_REMEMBERED = 10_000


class ChatTyping:
    """The typing state of this process's chats, kept in step with the other processes by bus notes."""

    def __init__(self, bus: LocalBus) -> None:
        self.bus = bus
        self._lock = threading.Lock()
        self._agent_until: dict[tuple[int, int], float] = {}
        self._subs: list[tuple[int, int, asyncio.AbstractEventLoop, asyncio.Queue[dict[str, Any]]]] = []
        bus.on_note(self._on_note)

    # the senders -------------------------------------------------------------------------------------

    def customer_typing(self, tenant_id: int, contact_id: int, agent_id: int) -> None:
        """The visitor of `contact_id` is typing: tell its agent's sockets, in every process."""
        self.bus.note(
            {"kind": "chat_typing", "who": "customer", "tenant_id": tenant_id, "contact_id": contact_id,
             "agent_id": agent_id}
        )  # fmt: skip

    def agent_typing(self, tenant_id: int, contact_id: int, until: float) -> None:
        """The agent of `contact_id` is typing until `until` (epoch seconds; 0: it stopped)."""
        self.bus.note(
            {"kind": "chat_typing", "who": "agent", "tenant_id": tenant_id, "contact_id": contact_id,
             "until": until}
        )  # fmt: skip

    # the readers -------------------------------------------------------------------------------------

    def agent_is_typing(self, tenant_id: int, contact_id: int, now: float) -> bool:
        with self._lock:
            return self._agent_until.get((tenant_id, contact_id), 0.0) > now

    def subscribe(
        self, tenant_id: int, agent_id: int, loop: asyncio.AbstractEventLoop
    ) -> asyncio.Queue[dict[str, Any]]:
        """The typing frames for an agent's socket (a slow socket loses the oldest: they are ephemeral)."""
        q: asyncio.Queue[dict[str, Any]] = asyncio.Queue(MAX_PENDING)
        with self._lock:
            self._subs.append((tenant_id, agent_id, loop, q))
        return q

    def unsubscribe(self, q: asyncio.Queue[dict[str, Any]]) -> None:
        with self._lock:
            self._subs = [s for s in self._subs if s[3] is not q]

    # the bus -----------------------------------------------------------------------------------------

    def _on_note(self, note: dict[str, Any]) -> None:
        if note.get("kind") != "chat_typing":
            return
        tenant_id, contact_id = int(note["tenant_id"]), int(note["contact_id"])
        if note.get("who") == "agent":
            until = float(note["until"])
            with self._lock:
                if until > 0:
                    self._agent_until[(tenant_id, contact_id)] = until
                else:
                    self._agent_until.pop((tenant_id, contact_id), None)
                if len(self._agent_until) > MAX_REMEMBERED:  # forget the oldest (memory stays bounded)
                    for key in sorted(self._agent_until, key=self._agent_until.__getitem__)[: MAX_REMEMBERED // 2]:
                        del self._agent_until[key]
            return
        agent_id = int(note["agent_id"])
        frame = {"type": "typing", "contact_id": contact_id, "who": "customer"}
        with self._lock:
            subs = [s for s in self._subs if s[0] == tenant_id and s[1] == agent_id]
        for _tenant, _agent, loop, q in subs:
            with contextlib.suppress(RuntimeError):  # the loop closed with its socket
                loop.call_soon_threadsafe(_put, q, frame)


def _put(q: asyncio.Queue[dict[str, Any]], frame: dict[str, Any]) -> None:
    if q.full():
        with contextlib.suppress(asyncio.QueueEmpty):
            q.get_nowait()
    q.put_nowait(frame)
