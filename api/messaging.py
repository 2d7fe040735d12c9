"""The worker's messaging: the delivery loop over the configured SMS centre, and its metrics.

The loop (`models.notifications.scheduled.DeliveryLoop`) runs beside the worker's passes;
each pass also reads the queue's depth and age for /metrics.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from prometheus_client import Counter, Gauge

from api.settings import Settings
from api.wiring import delivery_policy_of, router_policy_of, sms_centre_of
from models.notifications import reads
from models.notifications.ports import SmsCentre
from models.notifications.scheduled import DeliveryLoop, LoopCounts

DUE = Gauge("pointsmall_sms_due", "Messages due and not yet sent.")
OLDEST = Gauge("pointsmall_sms_oldest_due_seconds", "How long the oldest due message has waited.")
SMS = Counter(
    "pointsmall_sms_total",
    "What the delivery loop did: sent (taken by the SMS centre), retried, failed (for good), "
    "receipts applied, texts from handsets handled.",
    ["outcome"],
)
BOUND = Gauge("pointsmall_sms_bound", "1 while a bind to the SMS centre is open.")


class Messaging:
    """The delivery loop of one worker, started and stopped with it."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], datetime],
        centre: SmsCentre | None = None,
    ) -> None:
        self.loop = DeliveryLoop(
            centre or sms_centre_of(settings),
            policy=delivery_policy_of(settings),
            routing=router_policy_of(settings),
            clock=clock,
        )
        self._clock = clock
        self._seen = LoopCounts()
        self._task: asyncio.Task[None] | None = None

    def start(self, stop: asyncio.Event) -> None:
        self._task = asyncio.create_task(self.loop.run(stop), name="pointsmall-delivery")

    async def wait(self) -> None:
        if self._task is not None:
            await self._task

    async def measure(self) -> None:
        """Bring /metrics up to date (once a pass)."""
        queue = await reads.queue(now=self._clock())
        DUE.set(queue.due)
        OLDEST.set(queue.oldest_seconds)
        BOUND.set(1 if self.loop.centre.bound else 0)
        counts = self.loop.counts
        for outcome in ("sent", "retried", "failed", "receipts", "texts"):
            new = getattr(counts, outcome) - getattr(self._seen, outcome)
            if new:
                SMS.labels(outcome).inc(new)
            setattr(self._seen, outcome, getattr(counts, outcome))
