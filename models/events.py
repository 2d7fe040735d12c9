"""Change notices: which order changed, which alert was raised.

A notice carries only an id; subscribers read the current state from the database, so a
late or repeated notice never shows stale data. The in-process bus serves one process
(SQLite); `fulfilment.notify.PostgresBus` carries notices between processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Protocol

ORDERS = "pointsmall_orders"
ALERTS = "pointsmall_alerts"


class EventBus(Protocol):
    async def publish(self, channel: str, payload: str) -> None: ...

    def subscribe(self, channel: str) -> AsyncIterator[str]: ...


class InProcessBus:
    """Fan-out to the subscribers of this process."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._queues: dict[str, set[asyncio.Queue[str]]] = {}
        self._queue_size = queue_size

    async def publish(self, channel: str, payload: str) -> None:
        self.deliver(channel, payload)

    def deliver(self, channel: str, payload: str) -> None:
        for queue in self._queues.get(channel, ()):
            if queue.full():
                # A subscriber that stopped reading loses its oldest notice, not the process.
                queue.get_nowait()
            queue.put_nowait(payload)

    async def subscribe(self, channel: str) -> AsyncIterator[str]:
        queue: asyncio.Queue[str] = asyncio.Queue(self._queue_size)
        self._queues.setdefault(channel, set()).add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues[channel].discard(queue)
