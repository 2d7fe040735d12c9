"""Change notices: which order changed, which alert was raised.

A notice carries only an id; subscribers read the current state from the database, so a
late or repeated notice never shows stale data.

`announce` is called inside the transaction that makes the change. On PostgreSQL it is a
`pg_notify`, which PostgreSQL delivers at commit (and drops on rollback) to every process
listening, so subscribers on every API replica hear of it; `models.events.listener` listens
and feeds `LOCAL`. On SQLite, where one process serialises all transactions, the notice goes
straight to this process's subscribers, who read after the writer's commit.

A package because both sides of a notice serve every channel (orders, alerts, catalog), not
one domain: this module holds the channels, the in-process bus and the sending side
(`announce`); `listener` holds PostgreSQL's receiving side (LISTEN), which feeds the bus.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from models import sql
from models.orders.models import Order
from models.orders.ports import PLACED, OrderEffect

ORDERS = "pointsmall_orders"
ALERTS = "pointsmall_alerts"
CATALOG = "pointsmall_catalog"
NOTIFICATIONS = "pointsmall_notifications"  # a member's inbox changed (the member's id)
TICKETS = "pointsmall_tickets"  # a ticket changed (its number)
SERVICE_ALERTS = "pointsmall_service_alerts"  # a ticket's alert was raised (the alert's id)
# Delivered on every channel when notices may have been lost (the LISTEN connection came
# back after a drop): subscribers read again whatever they follow, caches drop.
RESYNC = "*"

Watcher = Callable[[str, str], None]


class InProcessBus:
    """Fan-out of notices to the subscribers of this process."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._queues: dict[str, set[asyncio.Queue[str]]] = {}
        self._watchers: dict[str, list[weakref.WeakMethod[Watcher]]] = {}
        self._queue_size = queue_size

    def watch(self, channel: str, callback: Watcher) -> None:
        """Call the bound method `callback` on every notice, until its object is gone."""
        self._watchers.setdefault(channel, []).append(weakref.WeakMethod(callback))

    def touch(self, channel: str, payload: str) -> None:
        """Tell the watchers only (caches to drop), not the subscribers."""
        watchers = self._watchers.get(channel, [])
        alive = [(ref, ref()) for ref in watchers]
        self._watchers[channel] = [ref for ref, callback in alive if callback is not None]
        for _, callback in alive:
            if callback is not None:
                callback(channel, payload)

    def deliver(self, channel: str, payload: str) -> None:
        self.touch(channel, payload)
        for queue in self._queues.get(channel, ()):
            if queue.full():
                # A subscriber that stopped reading loses its oldest notice, not the process.
                queue.get_nowait()
            queue.put_nowait(payload)

    async def subscribe(self, channel: str) -> AsyncIterator[str]:
        with self.listen(channel) as notices:
            async for payload in notices:
                yield payload

    @contextmanager
    def listen(self, channel: str) -> Iterator[AsyncIterator[str]]:
        """Notices of `channel` from the moment of the call (not of the first read)."""
        queue: asyncio.Queue[str] = asyncio.Queue(self._queue_size)
        self._queues.setdefault(channel, set()).add(queue)
        try:
            yield _drain(queue)
        finally:
            self._queues[channel].discard(queue)

    def subscribers(self, channel: str) -> int:
        return len(self._queues.get(channel, ()))


async def _drain(queue: asyncio.Queue[str]) -> AsyncIterator[str]:
    while True:
        yield await queue.get()


LOCAL = InProcessBus()


def notify_text(p: sql.Params, channel: str, payload: str) -> str:
    """PostgreSQL's notice of `payload` (an SQL expression) on `channel`, sent at commit."""
    return f"SELECT pg_notify({p(channel)}, {payload})"


async def announce(channel: str, payload: str) -> None:
    """Tell subscribers (on every replica, on PostgreSQL) that `payload` changed."""
    if sql.on_postgres():
        p = sql.Params()
        await sql.fetch(notify_text(p, channel, p(payload)), *p.values)
    touched(channel, payload)


def touched(channel: str, payload: str) -> None:
    """What this process does once a notice is sent: on PostgreSQL its caches drop now (the
    notice at commit drops them again, everywhere); on SQLite, whose one process serialises
    every transaction, its subscribers hear of it now and read after the writer's commit."""
    if sql.on_postgres():
        LOCAL.touch(channel, payload)
    else:
        LOCAL.deliver(channel, payload)


@dataclass(frozen=True)
class OrderNotice(OrderEffect):
    """A new order's change notice on `ORDERS`: sent in the order's own statement."""

    def step(self, p: sql.Params, order: Order, *, postgres: bool) -> str | None:
        return f"{notify_text(p, ORDERS, f'{PLACED}.number')} FROM {PLACED}" if postgres else None

    def written(self, order: Order, *, postgres: bool) -> None:
        touched(ORDERS, order.number)


ORDER_NOTICE = OrderNotice()


async def announce_many(channel: str, payloads: Sequence[str]) -> None:
    """`announce` each payload, in one statement on PostgreSQL."""
    if not payloads:
        return
    if sql.on_postgres():
        p = sql.Params()
        each = f"unnest({p(list(payloads), 'text[]')}) AS payload"
        await sql.fetch(f"{notify_text(p, channel, 'payload')} FROM {each}", *p.values)
    for payload in payloads:
        touched(channel, payload)
