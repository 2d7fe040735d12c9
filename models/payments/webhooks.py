"""Applying Stripe's events: each once, and never moving an order backwards.

Events may come twice, late or out of order. Each event id is stored in the transaction
that applies it, so a redelivery is a no-op; and an event only ever moves an order
forwards: a success for an order that was cancelled meanwhile is refunded, never revived.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.errors import PaymentUnavailable
from models.events import ORDERS, announce
from models.orders import lifecycle
from models.orders.lifecycle import release_everything
from models.orders.models import Order, OrderStatus
from models.orders.ports import PaymentStarter, ShipPlanner
from models.payments.models import Payment, PaymentStatus, WebhookEvent
from models.payments.settlement import settle_cancelled
from models.points import service as points

log = logging.getLogger("pointsmall.payments")
SUCCEEDED = "payment_intent.succeeded"
FAILED = "payment_intent.payment_failed"
CANCELED = "payment_intent.canceled"
HANDLED = frozenset({SUCCEEDED, FAILED, CANCELED})


@dataclass(frozen=True)
class Applied:
    """What an event did: `outcome` is applied, duplicate, ignored or unknown_payment."""

    outcome: str
    order_number: str | None = None


async def apply_event(
    *,
    event_id: str,
    event_type: str,
    intent_id: str,
    now: datetime,
    planner: ShipPlanner,
    gateway: PaymentStarter | None,
    ship_within: timedelta,
) -> Applied:
    """Apply one Stripe event exactly once; a success for a cancelled order is refunded."""
    if event_type not in HANDLED:
        return Applied("ignored")
    payment = await Payment.get_or_none(intent_id=intent_id)
    if payment is None:
        return Applied("unknown_payment")
    async with in_transaction():
        order = await Order.filter(id=payment.order_id).select_for_update(no_key=True).get()
        if not await _first_delivery(event_id, event_type):
            return Applied("duplicate", order.number)
        payment = await Payment.filter(id=payment.id).select_for_update().get()
        await _apply(event_type, order, payment, now=now, planner=planner, within=ship_within)
    if order.status is OrderStatus.CANCELLED and payment.status is PaymentStatus.SUCCEEDED:
        try:
            await settle_cancelled(order_number=order.number, gateway=gateway)
        except PaymentUnavailable:
            # The event is applied; the sweeper retries the refund (`settle_pending`).
            log.warning("refund of cancelled order %s deferred to the sweeper", order.number)
    return Applied("applied", order.number)


async def _first_delivery(event_id: str, event_type: str) -> bool:
    try:
        async with in_transaction():
            await WebhookEvent.create(id=event_id, type=event_type)
    except IntegrityError:
        return False
    return True


async def _apply(
    event_type: str,
    order: Order,
    payment: Payment,
    *,
    now: datetime,
    planner: ShipPlanner,
    within: timedelta,
) -> None:
    waiting = order.status is OrderStatus.AWAITING_PAYMENT
    if event_type == SUCCEEDED:
        await _mark(payment, PaymentStatus.SUCCEEDED)
        if waiting:
            await _confirm(order, now=now, planner=planner, within=within)
    elif event_type == CANCELED and waiting:
        await _mark(payment, PaymentStatus.CANCELED)
        await release_everything(order, now=now, planner=planner, reason="payment cancelled")
    # A failed attempt leaves the order waiting: the member may retry the card.


async def _confirm(order: Order, *, now: datetime, planner: ShipPlanner, within: timedelta) -> None:
    """The hold becomes a REDEEM and the order's promise starts now."""
    await points.lock_account(member_id=order.member_id)
    await points.capture_hold(order_number=order.number, now=now)
    order.ship_by = now + within
    await lifecycle.move(order, OrderStatus.CONFIRMED, at=now, also=("ship_by",))
    await planner.watch(order, now=now)
    await announce(ORDERS, order.number)


async def _mark(payment: Payment, status: PaymentStatus) -> None:
    if payment.status is PaymentStatus.REFUNDED:
        return  # final: the money went back, a late event changes nothing
    if payment.status is PaymentStatus.CANCELED and status is not PaymentStatus.SUCCEEDED:
        return  # a late failure of an intent we gave up on
    # A success is Stripe's last word: an intent we took for cancelled (our cancel came after
    # the member paid) has taken the money, and the cancelled order's refund follows.
    payment.status = status
    await payment.save(update_fields=["status", "updated_at"])
