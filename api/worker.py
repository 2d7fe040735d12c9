"""`pointsmall worker`: every domain's periodic jobs, a pass every interval until a signal.

The domains declare their jobs beside their rules (`fulfilment/scheduled.py`,
`models/points/scheduled.py`, `models/payments/scheduled.py`,
`models/aftersales/scheduled.py`, ...); this module only composes them (`SOURCES`, in the order a
pass runs them), runs the pass, logs it and counts each job's work for /metrics. A new
module's job is declared in that module and composed here as one more source; no other
domain's file changes.

SIGTERM or SIGINT lets the pass under way finish (each of its batches is atomic anyway) and
then stops the loop. A pass that fails (the database restarting, say) is logged and retried
at the next interval; several workers may run side by side on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime

from prometheus_client import Counter, Histogram

from api.messaging import Messaging
from api.settings import Settings
from api.wiring import SweepPolicy, charging_of, gateway_of, planner_of, policy_of
from fulfilment import scheduled as fulfilment
from models.aftersales import scheduled as aftersales
from models.jobs import Job
from models.notifications import scheduled as notifications
from models.notifications.ports import SmsCentre
from models.orders.ports import PaymentStarter, ShipPlanner
from models.payments import scheduled as payments
from models.points import scheduled as points
from models.topups import scheduled as topups
from models.topups.ports import ChargingSystem
from models.topups.scheduled import TopUpLoop
from models.vouchers import scheduled as vouchers

log = logging.getLogger("pointsmall.worker")
SWEPT = Counter("pointsmall_sweeper_actions_total", "What sweeper passes did, by step.", ["step"])
ALERTS = Counter("pointsmall_alerts_total", "Fulfilment alerts raised, by kind.", ["kind"])
PASS_SECONDS = Histogram("pointsmall_sweeper_pass_seconds", "Time of one sweeper pass.")
# The alerts keep a counter of their own, by kind, as the dashboards chart them; every other
# label a job counts is a step of `pointsmall_sweeper_actions_total`.
ALERT_KINDS = {"at_risk": "AT_RISK", "breached": "BREACHED"}


@dataclass(frozen=True)
class JobContext:
    """What the domains' jobs are built from for one pass: the adapters and the policy."""

    planner: ShipPlanner
    gateway: PaymentStarter | None
    policy: SweepPolicy
    charging: ChargingSystem | None = None  # None: no charging system is configured


JobSource = Callable[[JobContext], Sequence[Job]]


def fulfilment_jobs(context: JobContext) -> list[Job]:
    policy = context.policy
    return fulfilment.jobs(compensation_rate=policy.compensation_rate, batch=policy.batch)


def points_jobs(context: JobContext) -> list[Job]:
    return points.jobs(batch=context.policy.batch * 10)


def notifications_jobs(context: JobContext) -> list[Job]:
    return notifications.jobs()


def payments_jobs(context: JobContext) -> list[Job]:
    return payments.jobs(
        planner=context.planner,
        gateway=context.gateway,
        timeout=context.policy.payment_timeout,
        batch=context.policy.batch,
    )


def vouchers_jobs(context: JobContext) -> list[Job]:
    return vouchers.jobs(low=context.policy.voucher_low)


def topups_jobs(context: JobContext) -> list[Job]:
    return topups.jobs(charging=context.charging, batch=context.policy.batch)


def aftersales_jobs(context: JobContext) -> list[Job]:
    policy = context.policy
    return aftersales.jobs(policy=policy.service, batch=policy.batch, gateway=context.gateway)


# A pass runs alerts, compensation, expiry, unpaid cancellation, settlement: a breach is
# compensated in the pass that raises it, and an intent of an order cancelled for want of
# payment is cancelled in the same pass. After-sales takes in the texts kept, then watches
# its tickets' promises the same way.
SOURCES: tuple[JobSource, ...] = (
    fulfilment_jobs,
    points_jobs,
    payments_jobs,
    notifications_jobs,
    aftersales_jobs,
    vouchers_jobs,
    topups_jobs,
)


def compose(sources: Sequence[JobSource], context: JobContext) -> list[Job]:
    """The jobs of every source, in the sources' order."""
    return [job for source in sources for job in source(context)]


@dataclass(frozen=True)
class PassReport:
    """What one pass did: each job with its counts, in the order the jobs ran."""

    done: tuple[tuple[Job, Mapping[str, int]], ...] = ()

    def counts(self) -> dict[str, int]:
        """Every label of the pass with its count (0 for work a job found none of)."""
        total = {label: 0 for job, _ in self.done for label in job.counts}
        for _, counts in self.done:
            for label, count in counts.items():
                total[label] = total.get(label, 0) + count
        return total

    def __str__(self) -> str:
        return "; ".join(
            ", ".join(f"{words} {counts.get(label, 0)}" for label, words in job.counts.items())
            for job, counts in self.done
        )


async def run_pass(jobs: Sequence[Job], *, now: datetime) -> PassReport:
    """Run each job once at `now`, in order; a job's failure ends the pass (re-raised)."""
    done: list[tuple[Job, Mapping[str, int]]] = []
    for job in jobs:
        try:
            counts = await job.run(now=now)
        except Exception as exc:
            exc.add_note(f"in the worker's job {job.name!r}")
            raise
        log.debug("job %s: %s", job.name, counts)
        done.append((job, counts))
    return PassReport(tuple(done))


def record(report: PassReport) -> None:
    """Count a pass's work for /metrics."""
    for label, count in report.counts().items():
        if label in ALERT_KINDS:
            ALERTS.labels(ALERT_KINDS[label]).inc(count)
        else:
            SWEPT.labels(label).inc(count)


@dataclass(frozen=True)
class SweepSummary:
    """What a pass of the domains' jobs did, as fields (`sweep`'s answer)."""

    at_risk: int = 0
    breached: int = 0
    compensated: int = 0
    expired_lots: int = 0
    cancelled: int = 0
    payments_settled: int = 0

    @classmethod
    def of(cls, report: PassReport) -> SweepSummary:
        counts = report.counts()
        return cls(**{f.name: counts.get(f.name, 0) for f in fields(cls)})


async def sweep(
    *,
    now: datetime,
    planner: ShipPlanner,
    policy: SweepPolicy,
    gateway: PaymentStarter | None = None,
) -> SweepSummary:
    """One pass of every domain's jobs at `now`; raises nothing of its own (database errors
    propagate). Without a gateway no payment is settled."""
    jobs = compose(SOURCES, JobContext(planner=planner, gateway=gateway, policy=policy))
    return SweepSummary.of(await run_pass(jobs, now=now))


async def run_once(
    settings: Settings, *, now: datetime, sources: Sequence[JobSource] = SOURCES
) -> PassReport:
    """One pass of the sources' jobs at `now` (Tortoise must be connected)."""
    gateway = gateway_of(settings)
    charging = charging_of(settings)
    try:
        context = JobContext(planner_of(settings), gateway, policy_of(settings), charging)
        return await run_pass(compose(sources, context), now=now)
    finally:
        await gateway.close()
        if charging is not None:
            await charging.close()


async def run_forever(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    stop: asyncio.Event | None = None,
    sources: Sequence[JobSource] = SOURCES,
    centre: SmsCentre | None = None,
) -> int:
    """A pass every `sweep_interval_seconds`, and the outbox delivered through the SMS centre
    (`centre`, else the configured one) all along, until `stop` is set or a signal arrives."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # Delivery keeps real time (`clock` is the passes' own, which a test or `--now` may set);
    # it starts once the first pass has run, so a worker that comes up sweeps first.
    messaging = Messaging(settings, clock=lambda: datetime.now(UTC), centre=centre)
    charging = charging_of(settings)
    top_ups = None if charging is None else TopUpLoop(charging, clock=lambda: datetime.now(UTC))
    loops: list[asyncio.Task[None]] = []
    passes = 0
    try:
        while not stop.is_set():
            try:
                now = clock()
                with PASS_SECONDS.time():
                    report = await run_once(settings, now=now, sources=sources)
                record(report)
                await messaging.measure()
                log.info("sweeper pass: %s", report)
            except Exception:  # the next pass retries; a crash loop would do no better
                log.exception("sweeper pass failed")
            passes += 1
            if passes == 1:
                messaging.start(stop)
                if top_ups is not None:
                    loops.append(asyncio.create_task(top_ups.run(stop), name="pointsmall-topups"))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), settings.sweep_interval_seconds)
    finally:
        stop.set()
        await messaging.wait()
        await asyncio.gather(*loops)
        if top_ups is not None and not loops:
            await top_ups.charging.close()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    log.info("worker stopped after %d passes", passes)
    return passes
