"""Fulfilment's periodic work: raise due at-risk and breach alerts, compensate breaches.

An order's ship-by is watched as every promise with a deadline is (`models.promises.sweep`:
batches in their own transactions, cost following the due rows, claims with `FOR UPDATE
SKIP LOCKED`, each alert raised and each breach compensated once). This module is the
order's side of it: its deadline and alert tables (`OrderPromises`), which orders still owe
their promise (the open statuses), and what members hear. The unique `(order, kind)` of an
alert and the compensation's `external_ref` are the backstops. Lock order is the order row
first (as when shipping or cancelling, which delete the deadlines under that lock), then
the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from fulfilment import rules
from fulfilment.models import Alert, AlertKind, Deadline
from models.events import ALERTS
from models.jobs import Job
from models.notifications import outbox
from models.notifications.models import NotificationKind as Kind
from models.orders.models import Order
from models.orders.rules import OPEN_STATUSES
from models.promises import sweep
from models.promises.sweep import DueDeadline, NewAlert, Owed

BATCH = 100


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
    return [AlertKind(kind) for kind in await sweep.raise_due(ORDER_PROMISES, now=now, batch=batch)]


async def compensate_breaches(*, now: datetime, rate: Decimal, batch: int = BATCH) -> int:
    """Credit each breached order's member once; returns the breaches compensated."""
    return await sweep.compensate_once(OrderCompensations(rate), now=now, batch=batch)


class OrderPromises:
    """The orders' deadlines and alerts, as the watch of promises reads and writes them."""

    channel = ALERTS

    async def due_owners(self, *, now: datetime, batch: int, busy: set[int]) -> list[int]:
        candidates = Deadline.filter(due_at__lte=now)
        if busy:
            candidates = candidates.exclude(order_id__in=sorted(busy))
        return sorted({d.order_id for d in await candidates.order_by("due_at").limit(batch)})

    async def lock_owners(self, ids: list[int]) -> dict[int, Order]:
        locked = (
            Order.select_for_update(skip_locked=True, no_key=True).filter(id__in=ids).order_by("id")
        )
        return {o.id: o for o in await locked}

    async def lock_due(self, owner_ids: list[int], *, now: datetime) -> list[DueDeadline]:
        due = (
            await Deadline.select_for_update(skip_locked=True)
            .filter(order_id__in=owner_ids, due_at__lte=now)
            .order_by("due_at", "id")
        )
        return [DueDeadline(d.id, d.order_id, str(d.kind)) for d in due]

    def owed(self, owner: Order, deadline: DueDeadline) -> bool:
        return owner.status in OPEN_STATUSES and owner.warehouse_id is not None

    async def raised(self, owner_ids: list[int]) -> set[NewAlert]:
        rows = await Alert.filter(order_id__in=owner_ids).values_list("order_id", "kind")
        return {NewAlert(order_id, str(kind)) for order_id, kind in rows}

    async def record(
        self, new: Sequence[NewAlert], owners: dict[int, Order], *, now: datetime
    ) -> list[int]:
        await Alert.bulk_create(
            [
                Alert(
                    order_id=a.owner_id,
                    warehouse_id=owners[a.owner_id].warehouse_id,
                    kind=AlertKind(a.kind),
                    raised_at=now,
                )
                for a in new
            ]
        )
        created = await Alert.filter(
            order_id__in=sorted({a.owner_id for a in new}), raised_at=now
        ).values_list("id", "order_id", "kind")
        fresh = {(a.owner_id, a.kind) for a in new}
        return [i for i, o, kind in created if (o, str(kind)) in fresh]

    async def tell(
        self, new: Sequence[NewAlert], owners: dict[int, Order], *, now: datetime
    ) -> None:
        # A member hears of the risk to their order (the breach is told with its compensation).
        at_risk = [owners[a.owner_id] for a in new if a.kind == AlertKind.AT_RISK]
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

    async def drop(self, deadline_ids: list[int]) -> None:
        await Deadline.filter(id__in=deadline_ids).delete()


ORDER_PROMISES = OrderPromises()


@dataclass(frozen=True)
class OrderCompensations:
    """Breached orders owe `rate` of their points, credited once per order."""

    rate: Decimal

    async def claim(self, *, batch: int) -> list[Alert]:
        return list(
            await Alert.select_for_update(skip_locked=True)
            .filter(kind=AlertKind.BREACHED, compensated_at__isnull=True)
            .order_by("id")
            .limit(batch)
        )

    async def owed(self, alerts: Sequence[Alert]) -> list[Owed]:
        orders = {o.id: o for o in await Order.filter(id__in=[a.order_id for a in alerts])}
        return [self._owed(alert, orders[alert.order_id]) for alert in alerts]

    def _owed(self, alert: Alert, order: Order) -> Owed:
        return Owed(
            alert_id=alert.id,
            member_id=order.member_id,
            amount=rules.compensation_points(int(order.points_total), self.rate),
            external_ref=f"compensation:{order.number}",
            reason=f"Compensation: order {order.number} missed its ship-by date",
            order_number=order.number,
            owner=order,
        )

    async def settle(self, owed: Sequence[Owed], paid: dict[int, int], *, now: datetime) -> None:
        await Alert.filter(id__in=[o.alert_id for o in owed]).update(compensated_at=now)
        told = []
        for item in owed:
            order: Order = item.owner
            key = outbox.order_key(order.number, Kind.ORDER_BREACHED)
            data = outbox.order_data(order, compensation=paid[item.alert_id])
            told.append(outbox.Notice(order.member_id, key, data, order.id))
        await outbox.notify_many(Kind.ORDER_BREACHED, told, now=now)
