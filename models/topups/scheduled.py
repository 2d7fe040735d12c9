"""The top-ups' periodic work: each worker pass sends what is due (and refunds what its
promise ended for), and between passes `TopUpLoop` does the same every moment, so a
top-up redeemed now is sent now, not at the next pass.

Several workers, or a pass and the loop, may run rounds at once: a round claims its lines
before calling (`delivery.claim`), so no two send the same line at the same moment, and a
line sent twice is credited once anyway (its idempotency key).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from models.jobs import Job
from models.topups import delivery
from models.topups.ports import ChargingSystem, NoChargingSystem

log = logging.getLogger("pointsmall.topups")

COUNTS = {
    "topups_delivered": "top-ups delivered",
    "topups_refunded": "top-ups refunded",
    "topups_waiting": "top-ups waiting for an answer",
    "topups_at_risk": "top-ups at risk",
}


def jobs(*, charging: ChargingSystem | None, batch: int = delivery.ROUND) -> list[Job]:
    """The top-ups' job: a round through `charging` (None: none is configured)."""
    system = NoChargingSystem() if charging is None else charging

    async def top_ups(*, now: datetime) -> dict[str, int]:
        report = await delivery.deliver_round(system, now=now, limit=batch)
        return report.counts()

    return [Job("top-ups", COUNTS, top_ups)]


class TopUpLoop:
    """Rounds of `delivery.deliver_round` until stopped: the next at once after a round that
    claimed a full batch, else after `idle` seconds. A round that fails (the database
    restarting, say) is logged and retried. Closes the charging client when it stops."""

    def __init__(
        self,
        charging: ChargingSystem,
        *,
        clock: Callable[[], datetime],
        idle: float = 0.5,
        batch: int = delivery.ROUND,
    ) -> None:
        self.charging = charging
        self.clock = clock
        self.idle = idle
        self.batch = batch
        self.totals: dict[str, int] = dict.fromkeys(COUNTS, 0)

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                full = False
                try:
                    report = await delivery.deliver_round(
                        self.charging, now=self.clock(), limit=self.batch
                    )
                    for label, count in report.counts().items():
                        self.totals[label] += count
                    full = report.tried >= self.batch
                except Exception:  # the next round retries
                    log.exception("top-up round failed")
                if not full:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.idle)
        finally:
            await self.charging.close()
