"""The worker's messaging: the delivery loop over the configured SMS centre, the push loop
when a push platform is configured, and their metrics.

The loops (`models.notifications.scheduled.DeliveryLoop`, `PushLoop`) run beside the
worker's passes; each pass also reads the queue's depth and age for /metrics. On
PostgreSQL the worker listens for the notice every message's writer sends at commit (a
member's inbox changed) and starts a round at once; without it (SQLite) a loop with nothing
to do looks again after a moment.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from prometheus_client import Counter, Gauge

from api.db import is_postgres
from api.settings import Settings
from api.wiring import (
    delivery_policy_of,
    push_platform_of,
    push_policy_of,
    router_policy_of,
    sms_centre_of,
)
from models.events import LOCAL, NOTIFICATIONS
from models.events.listener import NotificationListener
from models.notifications import reads
from models.notifications.ports import PushPlatform, SmsCentre
from models.notifications.scheduled import DeliveryLoop, LoopCounts, PushLoop

DUE = Gauge("pointsmall_sms_due", "Messages due and not yet sent.")
OLDEST = Gauge("pointsmall_sms_oldest_due_seconds", "How long the oldest due message has waited.")
SMS = Counter(
    "pointsmall_sms_total",
    "What the delivery loop did: sent (taken by the SMS centre), retried, failed (for good), "
    "receipts applied, texts from handsets handled.",
    ["outcome"],
)
BOUND = Gauge("pointsmall_sms_bound", "1 while a bind to the SMS centre is open.")
PUSH = Counter(
    "pointsmall_push_total",
    "What the push loop did: sent (taken by the push platform), retried, failed (for good).",
    ["outcome"],
)


class Messaging:
    """The delivery loop of one worker, started and stopped with it."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], datetime],
        centre: SmsCentre | None = None,
        push: PushPlatform | None = None,
    ) -> None:
        platform = push or push_platform_of(settings)
        self.push = (
            None
            if platform is None
            else PushLoop(platform, policy=push_policy_of(settings), clock=clock)
        )
        self.loop = DeliveryLoop(
            centre or sms_centre_of(settings),
            policy=delivery_policy_of(settings),
            routing=router_policy_of(settings),
            clock=clock,
        )
        self._clock = clock
        self._seen = LoopCounts()
        self._pushed = LoopCounts()
        self._tasks: list[asyncio.Task[None]] = []
        self._database_url = settings.database_url

    def start(self, stop: asyncio.Event) -> None:
        self._tasks.append(asyncio.create_task(self.loop.run(stop), name="pointsmall-delivery"))
        if self.push is not None:
            self._tasks.append(asyncio.create_task(self.push.run(stop), name="pointsmall-push"))
        if is_postgres(self._database_url):
            LOCAL.watch(NOTIFICATIONS, self._written)
            self._tasks.append(asyncio.create_task(self._listen(stop), name="pointsmall-told"))

    def _written(self, channel: str, payload: str) -> None:
        self.loop.nudge()
        if self.push is not None:
            self.push.nudge()

    async def _listen(self, stop: asyncio.Event) -> None:
        listener = NotificationListener(self._database_url, channels=(NOTIFICATIONS,))
        await listener.start()
        try:
            await stop.wait()
        finally:
            await listener.stop()

    async def wait(self) -> None:
        """Until the loops stopped (each closes its edge; a loop never started is closed
        here)."""
        if not self._tasks and self.push is not None:
            await self.push.platform.close()
        await asyncio.gather(*self._tasks)

    async def measure(self) -> None:
        """Bring /metrics up to date (once a pass)."""
        queue = await reads.queue(now=self._clock())
        DUE.set(queue.due)
        OLDEST.set(queue.oldest_seconds)
        BOUND.set(1 if self.loop.centre.bound else 0)
        _count(
            SMS, self.loop.counts, self._seen, ("sent", "retried", "failed", "receipts", "texts")
        )
        if self.push is not None:
            _count(PUSH, self.push.counts, self._pushed, ("sent", "retried", "failed"))


def _count(
    counter: Counter, counts: LoopCounts, seen: LoopCounts, outcomes: tuple[str, ...]
) -> None:
    """Add what a loop did since the last time to its counter."""
    for outcome in outcomes:
        new = getattr(counts, outcome) - getattr(seen, outcome)
        if new:
            counter.labels(outcome).inc(new)
        setattr(seen, outcome, getattr(counts, outcome))
