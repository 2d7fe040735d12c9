"""PostgreSQL LISTEN/NOTIFY into this process's bus, so every replica hears every change.

One dedicated asyncpg connection per process listens on every channel (orders, alerts,
catalog, inboxes, tickets, service alerts) and hands each notice to `LOCAL.deliver`. If the
connection drops (a restart, a failover, an idle timeout) the listener reconnects with
exponential backoff; a periodic ping notices a connection that died silently. PostgreSQL
keeps no notices for absent listeners, so each time it is listening again the listener
delivers `RESYNC` on every channel: subscribers read what they follow again and send what
changed meanwhile, caches drop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from models.events import (
    ALERTS,
    CATALOG,
    LOCAL,
    NOTIFICATIONS,
    ORDERS,
    RESYNC,
    SERVICE_ALERTS,
    TICKETS,
    InProcessBus,
)

log = logging.getLogger("pointsmall.notify")


def asyncpg_dsn(database_url: str) -> str:
    """The asyncpg DSN of a Tortoise PostgreSQL URL (without Tortoise's pool parameters)."""
    return "postgresql://" + database_url.split("://", 1)[1].split("?", 1)[0]


class NotificationListener:
    """Keeps one LISTEN connection open and feeds `bus` until stopped."""

    def __init__(
        self,
        database_url: str,
        *,
        bus: InProcessBus = LOCAL,
        channels: Sequence[str] = (ORDERS, ALERTS, CATALOG, NOTIFICATIONS, TICKETS, SERVICE_ALERTS),
        max_backoff: float = 5.0,
        ping_interval: float = 10.0,
    ) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._bus = bus
        self._channels = tuple(channels)
        self._max_backoff = max_backoff
        self._ping_interval = ping_interval
        self._connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.connections = 0
        self.server_pid: int | None = None

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def start(self, *, wait: float = 10.0) -> None:
        """Start listening; wait up to `wait` seconds for the first connection."""
        self._task = asyncio.create_task(self._run(), name="pointsmall-listener")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), wait)
        if not self.connected:
            log.warning("not yet listening for notifications: still trying to connect")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def wait_connected(self, seconds: float) -> None:
        await asyncio.wait_for(self._connected.wait(), seconds)

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            try:
                await self._listen_once()
                backoff = 0.1
            except Exception as exc:  # whatever broke the connection, the listener carries on
                log.warning("notification listener lost its connection: %r", exc)
            self._connected.clear()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self._max_backoff)

    async def _listen_once(self) -> None:
        """Listen on one connection until it drops (returns or raises)."""
        connection = await asyncpg.connect(self._dsn, timeout=10)
        try:
            lost = asyncio.Event()
            connection.add_termination_listener(lambda _: lost.set())
            for channel in self._channels:
                await connection.add_listener(channel, self._deliver)
            self.connections += 1
            self.server_pid = connection.get_server_pid()
            self._connected.set()
            for channel in self._channels:  # what happened while nobody listened
                self._bus.deliver(channel, RESYNC)
            while not connection.is_closed():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), self._ping_interval)
                if lost.is_set():
                    return
                await connection.fetchval("SELECT 1", timeout=5)
        finally:
            if not connection.is_closed():
                connection.terminate()

    def _deliver(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        self._bus.deliver(channel, payload)


@asynccontextmanager
async def listening(
    database_url: str, *, bus: InProcessBus = LOCAL
) -> AsyncIterator[NotificationListener]:
    """A running listener for the duration of the block (app lifespan, tests)."""
    listener = NotificationListener(database_url, bus=bus)
    await listener.start()
    try:
        yield listener
    finally:
        await listener.stop()
