"""The payments' periodic work: cancel orders left unpaid, retry what Stripe missed.

An order awaiting payment past the timeout is cancelled, each in its own transaction, which
gives back its points, stock and ship slot (`models.orders.lifecycle.release_everything`);
the same pass then cancels its PaymentIntent, and retries the refunds and intent
cancellations Stripe could not take earlier (`settlement.settle_pending`).

Safe with several workers on PostgreSQL: an unpaid order is claimed with `FOR UPDATE SKIP
LOCKED`, so a worker neither waits for nor repeats another's; an order paid meanwhile is
left alone (its status is read again under the lock).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from models.jobs import Job
from models.orders.lifecycle import release_everything
from models.orders.models import Order, OrderStatus
from models.orders.ports import PaymentStarter, ShipPlanner
from models.payments.settlement import settle_pending


def jobs(
    *, planner: ShipPlanner, gateway: PaymentStarter | None, timeout: timedelta, batch: int
) -> list[Job]:
    """The payments' jobs in pass order: cancel unpaid orders, then settle with Stripe.

    Without a gateway nothing is settled (the settlement job counts 0).
    """

    async def unpaid(*, now: datetime) -> dict[str, int]:
        cancelled = await cancel_unpaid(now=now, older_than=timeout, planner=planner, batch=batch)
        return {"cancelled": len(cancelled)}

    async def settlement(*, now: datetime) -> dict[str, int]:
        settled = await settle_pending(gateway=gateway, limit=batch) if gateway else 0
        return {"payments_settled": settled}

    return [
        Job("unpaid orders", {"cancelled": "cancelled unpaid"}, unpaid),
        Job("payment settlement", {"payments_settled": "payments settled"}, settlement),
    ]


async def cancel_unpaid(
    *, now: datetime, older_than: timedelta, planner: ShipPlanner, batch: int = 100
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
            await Order.select_for_update(skip_locked=True, no_key=True)
            .filter(id=order_id, status=OrderStatus.AWAITING_PAYMENT)
            .first()
        )
        if order is None:
            return None
        await release_everything(
            order, now=now, planner=planner, reason="payment not received in time"
        )
        return order.number
