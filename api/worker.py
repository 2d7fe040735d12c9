"""`pointsmall worker`: the sweeper, a pass every interval until SIGTERM or SIGINT.

A signal lets the pass under way finish (each of its batches is atomic anyway) and then
stops the loop. A pass that fails (the database restarting, say) is logged and retried at
the next interval; several workers may run side by side on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from datetime import UTC, datetime

from prometheus_client import Counter, Histogram

from api.settings import Settings
from api.wiring import gateway_of, planner_of, policy_of
from fulfilment.sweeper import SweepSummary, sweep

log = logging.getLogger("pointsmall.worker")
SWEPT = Counter("pointsmall_sweeper_actions_total", "What sweeper passes did, by step.", ["step"])
ALERTS = Counter("pointsmall_alerts_total", "Fulfilment alerts raised, by kind.", ["kind"])
PASS_SECONDS = Histogram("pointsmall_sweeper_pass_seconds", "Time of one sweeper pass.")


def record(summary: SweepSummary) -> None:
    """Count a pass's work for /metrics."""
    ALERTS.labels("AT_RISK").inc(summary.at_risk)
    ALERTS.labels("BREACHED").inc(summary.breached)
    for step in ("compensated", "expired_lots", "cancelled", "payments_settled"):
        SWEPT.labels(step).inc(getattr(summary, step))


async def run_once(settings: Settings, *, now: datetime) -> SweepSummary:
    """One sweeper pass at `now` (Tortoise must be connected)."""
    gateway = gateway_of(settings)
    try:
        return await sweep(
            now=now, planner=planner_of(settings), policy=policy_of(settings), gateway=gateway
        )
    finally:
        await gateway.close()


async def run_forever(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    stop: asyncio.Event | None = None,
) -> int:
    """Sweep every `sweep_interval_seconds` until `stop` is set or a signal arrives."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    passes = 0
    try:
        while not stop.is_set():
            try:
                now = clock()
                with PASS_SECONDS.time():
                    summary = await run_once(settings, now=now)
                record(summary)
                log.info("sweeper pass: %s", summary)
            except Exception:  # the next pass retries; a crash loop would do no better
                log.exception("sweeper pass failed")
            passes += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), settings.sweep_interval_seconds)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    log.info("worker stopped after %d passes", passes)
    return passes
