"""Fulfilment's periodic work: raise due at-risk and breach alerts, compensate breaches.

Each step works in small batches, each batch in its own transaction, so a worker killed
mid-pass leaves every batch either done or untouched, and the next pass finishes the job.
Its cost follows the due rows (deadlines by `due_at`, uncompensated breaches), never all
orders.

Safe with several workers on PostgreSQL: work is claimed with `FOR UPDATE SKIP LOCKED`, so a
worker neither waits for nor repeats another's rows; the unique `(order, kind)` of an alert
and the compensation's `external_ref` are the backstops. Lock order is the order row first
(as when shipping or cancelling, which delete the deadlines under that lock), then the rest.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

from tortoise.transactions import in_transaction

from fulfilment import rules
from fulfilment.models import Alert, AlertKind, Deadline
from models.errors import IdempotencyConflict
from models.events import ALERTS, announce_many
from models.jobs import Job
from models.members.models import Member
from models.notifications import outbox
from models.notifications.models import NotificationKind as Kind
from models.orders.models import Order
from models.orders.rules import OPEN_STATUSES
from models.points import service as points
from models.points.models import EntryKind

BATCH = 100
log = logging.getLogger("pointsmall.sweeper")


def jobs(*, compensation_rate: Decimal, batch: int) -> list[Job]:
    """Fulfilment's jobs in the order a pass runs them: alerts first, then compensation."""

    async def alerts(*, now: datetime) -> dict[str, int]:
        raised = await raise_alerts(now=now, batch=batch)
        return {
            "at_risk": raised.count(AlertKind.AT_RISK),
            "breached": raised.count(AlertKind.BREACHED),
        }

    async def compensation(*, now: datetime) -> dict[str, int]:
        done = await compensate_breaches(now=now, rate=compensation_rate, batch=batch)
        return {"compensated": done}

    return [
        Job("alerts", {"at_risk": "alerts at risk", "breached": "breached"}, alerts),
        Job("compensation", {"compensated": "compensated"}, compensation),
    ]


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
            for o in await Order.select_for_update(skip_locked=True, no_key=True)
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
    # A member hears of the risk to their order (the breach is told with its compensation).
    at_risk = [orders[o] for o, kind in new if kind is AlertKind.AT_RISK]
    await outbox.notify_many(
        Kind.ORDER_AT_RISK,
        [
            outbox.Notice(
                o.member_id,
                outbox.order_key(o.number, Kind.ORDER_AT_RISK),
                outbox.order_data(o),
                o.id,
            )
            for o in at_risk
        ],
        now=now,
    )
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
        told = []
        for alert in alerts:
            order = orders[alert.order_id]
            paid = await _compensate(order, external_ids, now=now, rate=rate)
            key = outbox.order_key(order.number, Kind.ORDER_BREACHED)
            data = outbox.order_data(order, compensation=paid)
            told.append(outbox.Notice(order.member_id, key, data, order.id))
        await Alert.filter(id__in=[a.id for a in alerts]).update(compensated_at=now)
        await outbox.notify_many(Kind.ORDER_BREACHED, told, now=now)
        return len(alerts)


async def _compensate(
    order: Order, external_ids: dict[int, str], *, now: datetime, rate: Decimal
) -> int:
    """Credit the order's member its compensation once; the points credited."""
    ref = f"compensation:{order.number}"
    amount = rules.compensation_points(int(order.points_total), rate)
    try:
        credit = await points.award(
            member_external_id=str(external_ids[order.member_id]),
            amount=amount,
            reason=f"Compensation: order {order.number} missed its ship-by date",
            external_ref=ref,
            now=now,
            kind=EntryKind.COMPENSATION,
            order_number=order.number,
        )
    except IdempotencyConflict:
        # Credited before under another rate: the member was compensated once, as promised.
        log.warning("%s exists with another amount; not credited again", ref)
        return amount
    return int(credit.entry.delta)
