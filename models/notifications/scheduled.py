"""The notifications' work in the worker: the delivery loops (SMS, and push where a push
platform is configured), and the monthly word on points about to expire.

The delivery loop runs beside the worker's passes, not in them: a message should reach the
handset within seconds of its change, not at the next pass. It holds the SMS centre's bind,
claims and sends what is due, and between rounds with nothing to send waits a moment.
Receipts are collected as they arrive and written in batches; texts from handsets are
answered one by one as they come (`router`).

A message that fails for good raises an alert: one ERROR line per message, naming its id,
kind, channel and error (never the number it was for), and the loop's `failed` count, which
the worker's /metrics shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from models import sql
from models.jobs import Job
from models.notifications import delivery, outbox, push, router
from models.notifications.delivery import DeliveryPolicy, Failure, Recorded
from models.notifications.models import NotificationKind
from models.notifications.ports import InboundSms, PushPlatform, Receipt, SmsCentre
from models.notifications.push import PushPolicy

log = logging.getLogger("pointsmall.sms")
push_log = logging.getLogger("pointsmall.push")
FAILED_ALERT = "NOTIFICATION_FAILED"


def alert(failures: tuple[Failure, ...], *, channel: str, logger: logging.Logger) -> None:
    """One ERROR line for each message that failed for good on `channel`."""
    for failure in failures:
        logger.error(
            "notification %d (%s) failed for good by %s after %d tries: %s",
            failure.id,
            failure.kind.value,
            channel,
            failure.attempts,
            failure.error,
            extra={
                "alert": FAILED_ALERT,
                "channel": channel,
                "notification_id": failure.id,
                "kind": failure.kind.value,
                "attempts": failure.attempts,
                "error": failure.error,
            },
        )


@dataclass
class LoopCounts:
    """What the delivery loop did since it started (for /metrics)."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    receipts: int = 0
    texts: int = 0


class Rests:
    """A loop's pauses: after a round that found nothing to do it waits `idle` seconds, or
    less when nudged (a change wrote a message) or stopped. A nudge during a round is kept,
    so the message it tells of is never left for the next pause to end.

    A nudged round that finds nothing looks once more after `recheck`: the message it was
    told of may have been locked for that instant by another claim of the same row (the
    other channel's loop, or another worker), which `SKIP LOCKED` passes over."""

    recheck: float = 0.05

    def __init__(self, idle: float) -> None:
        self.idle = idle
        self._wake = asyncio.Event()

    def nudge(self) -> None:
        self._wake.set()

    async def rounds(self, stop: asyncio.Event, round_: Callable[[], Awaitable[Recorded]]) -> None:
        """Run `round_` until `stop` is set, pausing after each that did nothing."""
        waker = asyncio.create_task(self._wake_on(stop))
        try:
            while not stop.is_set():
                nudged = self._wake.is_set()
                self._wake.clear()
                done = await round_()
                if done.accepted + done.retried + done.failed == 0:
                    pause = min(self.recheck, self.idle) if nudged else self.idle
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), pause)
        finally:
            waker.cancel()

    async def _wake_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._wake.set()


@dataclass
class DeliveryLoop:
    """Delivers the outbox through `centre` until `stop` is set."""

    centre: SmsCentre
    policy: DeliveryPolicy = field(default_factory=DeliveryPolicy)
    routing: router.RouterPolicy = field(default_factory=router.RouterPolicy)
    clock: Callable[[], datetime] = field(default_factory=lambda: _utc_now)
    idle: float = 0.25  # seconds between rounds that found nothing due
    counts: LoopCounts = field(default_factory=LoopCounts)
    rests: Rests = field(init=False)
    _receipts: list[Receipt] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rests = Rests(self.idle)

    def nudge(self) -> None:
        """A change wrote a message: the next round starts now, not after `idle`."""
        self.rests.nudge()

    async def run(self, stop: asyncio.Event) -> None:
        await self.centre.start(receipts=self._receipt, inbound=self._text)
        flusher = asyncio.create_task(self._flush_receipts(stop), name="pointsmall-receipts")
        try:
            await self.rests.rounds(stop, self._round)
        finally:
            await self.centre.stop()
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            await self._write_receipts()

    async def _round(self) -> Recorded:
        try:
            done = await delivery.deliver_once(self.centre, now=self.clock(), policy=self.policy)
        except Exception:  # the database away, say: the next round retries
            log.exception("delivery round failed")
            return Recorded()
        self.counts.sent += done.accepted
        self.counts.retried += done.retried
        self.counts.failed += done.failed
        alert(done.failures, channel="sms", logger=log)
        return done

    async def _receipt(self, receipt: Receipt) -> None:
        self._receipts.append(receipt)

    async def _flush_receipts(self, stop: asyncio.Event) -> None:
        rounds = 0
        while not stop.is_set():
            await asyncio.sleep(0.1)
            await self._write_receipts()
            rounds += 1
            if rounds % 10 == 0:
                await self._reconcile()

    async def _reconcile(self) -> None:
        try:
            await delivery.reconcile(now=datetime.now(UTC))  # receipts carry real times
        except Exception:
            log.exception("receipts not reconciled yet")

    async def _write_receipts(self) -> None:
        batch, self._receipts = self._receipts, []
        if not batch:
            return
        try:
            async with in_transaction():
                await delivery.settle(batch)
            self.counts.receipts += len(batch)
        except Exception:
            log.exception("receipts not written yet; kept for the next try")
            self._receipts = batch + self._receipts

    async def _text(self, text: InboundSms) -> None:
        try:
            await router.route(text, now=self.clock(), policy=self.routing)
            self.counts.texts += 1
        except Exception:  # one text must not stop the bind; the centre may send it again
            log.exception("a text from a handset could not be handled")


@dataclass
class PushLoop:
    """Pushes the outbox to `platform` until `stop` is set, then closes it.

    A loop of its own beside the SMS's, not a step of it: the two edges fail and slow down
    apart (a push platform timing out must not hold back the SMS window, nor a throttling
    SMS centre the pushes), each message keeps a state per channel, and the SMS's order per
    number is no rule of the push's.
    """

    platform: PushPlatform
    policy: PushPolicy = field(default_factory=PushPolicy)
    clock: Callable[[], datetime] = field(default_factory=lambda: _utc_now)
    idle: float = 0.25
    counts: LoopCounts = field(default_factory=LoopCounts)
    rests: Rests = field(init=False)

    def __post_init__(self) -> None:
        self.rests = Rests(self.idle)

    def nudge(self) -> None:
        """A change wrote a message: the next round starts now, not after `idle`."""
        self.rests.nudge()

    async def run(self, stop: asyncio.Event) -> None:
        try:
            await self.rests.rounds(stop, self._round)
        finally:
            await self.platform.close()

    async def _round(self) -> Recorded:
        try:
            done = await push.push_once(self.platform, now=self.clock(), policy=self.policy)
        except Exception:  # the database away, say: the next round retries
            push_log.exception("push round failed")
            return Recorded()
        self.counts.sent += done.accepted
        self.counts.retried += done.retried
        self.counts.failed += done.failed
        alert(done.failures, channel="push", logger=push_log)
        return done


def _utc_now() -> datetime:
    return datetime.now(UTC)


# Points about to expire: one message a member a month, naming the points and the first date.
EXPIRING_WITHIN = timedelta(days=30)
EXPIRING_DATA = {
    True: "jsonb_build_object('points', e.points, 'expires_on', to_char(e.first AT TIME ZONE 'UTC', 'YYYY-MM-DD'))",  # noqa: E501
    False: "json_object('points', e.points, 'expires_on', substr(e.first, 1, 10))",
}


def _expiring_text(p: sql.Params, *, now: datetime, month: str) -> str:
    at = p(now, "timestamptz")
    expiring = f"""(SELECT member_id, sum(remaining - held) AS points, min(expires_at) AS first
        FROM points_lot
        WHERE NOT settled AND expires_at > {at} AND remaining > held
          AND expires_at <= {p(now + EXPIRING_WITHIN, "timestamptz")}
        GROUP BY member_id) AS e"""  # noqa: S608 (placeholders)
    return outbox.notice_text(
        p,
        kind=NotificationKind.POINTS_EXPIRING,
        member_id="e.member_id",
        order_id="NULL",
        dedupe_key=f"{p('expiring:' + month + ':', 'text')} || CAST(e.member_id AS text)",
        data=EXPIRING_DATA[sql.on_postgres()],
        now=now,
        source=expiring,
    )


async def tell_expiring(*, now: datetime) -> int:
    """Tell every member with points expiring within 30 days, once a month; how many."""
    p = sql.Params()
    async with in_transaction():
        return await sql.execute(_expiring_text(p, now=now, month=f"{now:%Y-%m}"), *p.values)


def jobs(*, every: timedelta = timedelta(hours=1)) -> list[Job]:
    """The notifications' periodic jobs: the word on expiring points, at most every `every`."""
    last: list[datetime] = []

    async def expiring(*, now: datetime) -> dict[str, int]:
        if last and now - last[0] < every:
            return {"expiry_notices": 0}
        last[:] = [now]
        return {"expiry_notices": await tell_expiring(now=now)}

    return [Job("points expiry notices", {"expiry_notices": "expiry notices"}, expiring)]
