"""Change notices: which order changed, which alert was raised.

A notice carries only an id; subscribers read the current state from the database, so a
late or repeated notice never shows stale data.

`announce` is called inside the transaction that makes the change. On PostgreSQL it is a
`pg_notify`, which PostgreSQL delivers at commit (and drops on rollback) to every process
listening, so subscribers on every API replica hear of it; `fulfilment.notify` listens and
feeds `LOCAL`. On SQLite, where one process serialises all transactions, the notice goes
straight to this process's subscribers, who read after the writer's commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from tortoise import connections

ORDERS = "pointsmall_orders"
ALERTS = "pointsmall_alerts"


class InProcessBus:
    """Fan-out of notices to the subscribers of this process."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._queues: dict[str, set[asyncio.Queue[str]]] = {}
        self._queue_size = queue_size

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

    def subscribers(self, channel: str) -> int:
        return len(self._queues.get(channel, ()))


LOCAL = InProcessBus()


async def announce(channel: str, payload: str) -> None:
    """Tell subscribers (on every replica, on PostgreSQL) that `payload` changed."""
    connection = connections.get("default")
    if connection.capabilities.dialect == "postgres":
        await connection.execute_query("SELECT pg_notify($1, $2)", [channel, payload])
    else:
        LOCAL.deliver(channel, payload)
