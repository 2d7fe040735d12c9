"""The sweeper: one pass raises due alerts, compensates breaches, expires points, cancels unpaid.

Each step works in small batches, each batch in its own transaction, so a worker killed
mid-pass leaves every batch either done or untouched, and the next pass finishes the job.
Its cost follows the due rows (deadlines by `due_at`, uncompensated breaches, due lots,
unpaid orders by `(status, placed_at)`), never all orders.

Safe with several workers on PostgreSQL: work is claimed with `FOR UPDATE SKIP LOCKED`, so a
worker neither waits for nor repeats another's rows; the unique `(order, kind)` of an alert
and the compensation's `external_ref` are the backstops. Lock order is the order row first
(as when shipping or cancelling, which delete the deadlines under that lock), then the rest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from tortoise.transactions import in_transaction

from fulfilment import rules
from fulfilment.models import Alert, AlertKind, Deadline
from models.errors import IdempotencyConflict
from models.events import ALERTS, announce_many
from models.members.models import Member
from models.orders.lifecycle import release_everything
from models.orders.models import Order, OrderStatus
from models.orders.ports import PaymentStarter, ShipPlanner
from models.orders.rules import OPEN_STATUSES
from models.payments.settlement import settle_pending
from models.points import service as points
from models.points.expiry import expire_due
from models.points.models import EntryKind

BATCH = 100
log = logging.getLogger("pointsmall.sweeper")


@dataclass(frozen=True)
class SweepPolicy:
    compensation_rate: Decimal = Decimal("0.10")
    payment_timeout: timedelta = timedelta(minutes=30)
    batch: int = BATCH


@dataclass(frozen=True)
class SweepSummary:
    """What one pass did, per step."""

    at_risk: int = 0
    breached: int = 0
    compensated: int = 0
    expired_lots: int = 0
    cancelled: int = 0
    payments_settled: int = 0

    def __str__(self) -> str:
        return (
            f"alerts at risk {self.at_risk}, breached {self.breached}; "
            f"compensated {self.compensated}; expired lots {self.expired_lots}; "
            f"cancelled unpaid {self.cancelled}; payments settled {self.payments_settled}"
        )


async def sweep(
    *,
    now: datetime,
    planner: ShipPlanner,
    policy: SweepPolicy,
    gateway: PaymentStarter | None = None,
) -> SweepSummary:
    """One pass of every step at `now`; raises nothing of its own (database errors propagate).

    Cancelled unpaid orders have their PaymentIntent cancelled too; refunds and intent
    cancellations that Stripe missed earlier are retried here.
    """
    raised = await raise_alerts(now=now, batch=policy.batch)
    compensated = await compensate_breaches(
        now=now, rate=policy.compensation_rate, batch=policy.batch
    )
    expired = await expire_points(now=now, batch=policy.batch * 10)
    cancelled = await cancel_unpaid(now=now, older_than=policy.payment_timeout, planner=planner)
    settled = await settle_pending(gateway=gateway, limit=policy.batch) if gateway else 0
    return SweepSummary(
        at_risk=raised.count(AlertKind.AT_RISK),
        breached=raised.count(AlertKind.BREACHED),
        compensated=compensated,
        expired_lots=expired,
        cancelled=len(cancelled),
        payments_settled=settled,
    )


async def sweeper_lag(*, now: datetime) -> float:
    """Seconds since the oldest deadline that is due and not yet handled (0 when none)."""
    oldest = await Deadline.filter(due_at__lte=now).order_by("due_at").first()
    return max(0.0, (now - oldest.due_at).total_seconds()) if oldest else 0.0


async def raise_alerts(*, now: datetime, batch: int = BATCH) -> list[AlertKind]:
    """Raise the alerts of due deadlines, once per order and kind; returns the kinds raised."""
    raised: list[AlertKind] = []
    busy: set[int] = set()
    while True:
        handled, kinds, skipped = await _alert_batch(now=now, batch=batch, busy=busy)
        raised += kinds
        busy |= skipped
        if handled == 0:
            return raised


async def _alert_batch(
    *, now: datetime, batch: int, busy: set[int]
) -> tuple[int, list[AlertKind], set[int]]:
    """One transaction: claim orders with due deadlines; returns handled, raised, busy orders.

    The order row is the claim (`SKIP LOCKED`): whoever holds it handles all of that
    order's due deadlines, so two workers never split one order's deadlines between them.
    """
    async with in_transaction():
        candidates = Deadline.filter(due_at__lte=now)
        if busy:
            candidates = candidates.exclude(order_id__in=sorted(busy))
        wanted = sorted({d.order_id for d in await candidates.order_by("due_at").limit(batch)})
        if not wanted:
            return 0, [], set()
        orders = {
            o.id: o
            for o in await Order.select_for_update(skip_locked=True)
            .filter(id__in=wanted)
            .order_by("id")
        }
        if not orders:
            return 0, [], set(wanted)
        due = (
            await Deadline.select_for_update(skip_locked=True)
            .filter(order_id__in=sorted(orders), due_at__lte=now)
            .order_by("due_at", "id")
        )
        raised = await _raise_all(due, orders, now=now)
        await Deadline.filter(id__in=[d.id for d in due]).delete()
        return len(due), raised, set(wanted) - set(orders)


async def _raise_all(
    due: list[Deadline], orders: dict[int, Order], *, now: datetime
) -> list[AlertKind]:
    """Record and announce the alerts of the due deadlines of still-open orders, once each.

    A statement per step for the whole batch, not per alert. This transaction holds the
    orders' locks, so no other worker raises their alerts meanwhile; the unique
    `(order, kind)` stays the backstop (the batch rolls back and the next pass retries it).
    """
    wanted = {
        (d.order_id, AlertKind(d.kind))
        for d in due
        if orders[d.order_id].status in OPEN_STATUSES and orders[d.order_id].warehouse_id
    }
    if not wanted:
        return []
    order_ids = sorted({order_id for order_id, _ in wanted})
    rows = await Alert.filter(order_id__in=order_ids).values_list("order_id", "kind")
    new = sorted(wanted - {(order_id, AlertKind(kind)) for order_id, kind in rows})
    if not new:
        return []
    await Alert.bulk_create(
        [
            Alert(order_id=o, warehouse_id=orders[o].warehouse_id, kind=kind, raised_at=now)
            for o, kind in new
        ]
    )
    created = await Alert.filter(
        order_id__in=sorted({o for o, _ in new}), raised_at=now
    ).values_list("id", "order_id", "kind")
    fresh = set(new)
    ids = [str(i) for i, o, kind in created if (o, AlertKind(kind)) in fresh]
    await announce_many(ALERTS, ids)
    return [kind for _, kind in new]


async def compensate_breaches(*, now: datetime, rate: Decimal, batch: int = BATCH) -> int:
    """Credit each breached order's member once; returns the breaches compensated."""
    done = 0
    while True:
        count = await _compensation_batch(now=now, rate=rate, batch=batch)
        done += count
        if count == 0:
            return done


async def _compensation_batch(*, now: datetime, rate: Decimal, batch: int) -> int:
    async with in_transaction():
        alerts = (
            await Alert.select_for_update(skip_locked=True)
            .filter(kind=AlertKind.BREACHED, compensated_at__isnull=True)
            .order_by("id")
            .limit(batch)
        )
        if not alerts:
            return 0
        orders = {o.id: o for o in await Order.filter(id__in=[a.order_id for a in alerts])}
        members = await Member.filter(id__in=[o.member_id for o in orders.values()]).values_list(
            "id", "external_id"
        )
        external_ids = dict(members)
        # Another worker may be crediting some of these members in a batch of its own: take
        # every account lock first, in member order, so the two queue instead of deadlocking.
        await points.lock_accounts(member_ids=list(external_ids))
        for alert in alerts:
            await _compensate(orders[alert.order_id], external_ids, now=now, rate=rate)
        await Alert.filter(id__in=[a.id for a in alerts]).update(compensated_at=now)
        return len(alerts)


async def _compensate(
    order: Order, external_ids: dict[int, str], *, now: datetime, rate: Decimal
) -> None:
    ref = f"compensation:{order.number}"
    try:
        await points.award(
            member_external_id=str(external_ids[order.member_id]),
            amount=rules.compensation_points(int(order.points_total), rate),
            reason=f"Compensation: order {order.number} missed its ship-by date",
            external_ref=ref,
            now=now,
            kind=EntryKind.COMPENSATION,
            order_number=order.number,
        )
    except IdempotencyConflict:
        # Credited before under another rate: the member was compensated once, as promised.
        log.warning("%s exists with another amount; not credited again", ref)


async def expire_points(*, now: datetime, batch: int = 1000) -> int:
    """Expire every due points lot; returns the lots settled."""
    settled = 0
    while (count := await expire_due(now=now, limit=batch)) > 0:
        settled += count
    return settled


async def cancel_unpaid(
    *, now: datetime, older_than: timedelta, planner: ShipPlanner, batch: int = BATCH
) -> list[str]:
    """Cancel orders awaiting payment since before `now - older_than`; returns their numbers."""
    cutoff, cancelled, busy = now - older_than, list[str](), set[int]()
    while True:
        query = Order.filter(status=OrderStatus.AWAITING_PAYMENT, placed_at__lte=cutoff)
        if busy:
            query = query.exclude(id__in=sorted(busy))
        due = await query.order_by("placed_at", "id").limit(batch).only("id")
        if not due:
            return cancelled
        for order in due:
            number = await _cancel_one(order.id, now=now, planner=planner)
            if number is None:
                busy.add(order.id)
            else:
                cancelled.append(number)


async def _cancel_one(order_id: int, *, now: datetime, planner: ShipPlanner) -> str | None:
    """Cancel one unpaid order unless another worker holds it or it was paid meanwhile."""
    async with in_transaction():
        order = (
            await Order.select_for_update(skip_locked=True)
            .filter(id=order_id, status=OrderStatus.AWAITING_PAYMENT)
            .first()
        )
        if order is None:
            return None
        await release_everything(
            order, now=now, planner=planner, reason="payment not received in time"
        )
        return order.number
