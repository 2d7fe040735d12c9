"""Settling an order's cash part: record its intent, refund or cancel it after a cancellation,
refund it after a return."""

from __future__ import annotations

import logging

from models.errors import PaymentUnavailable
from models.orders.models import Order, OrderStatus
from models.orders.ports import PaymentStarter, StartedPayment
from models.payments.models import Payment, PaymentStatus

log = logging.getLogger("pointsmall.payments")


async def record(*, order: Order, started: StartedPayment) -> Payment:
    """Remember the intent of an order awaiting payment (inside the redemption)."""
    assert order.cash_total is not None
    return await Payment.create(
        order_id=order.id,
        intent_id=started.intent_id,
        client_secret=started.client_secret,
        amount=order.cash_total,
        currency=order.currency,
        status=PaymentStatus.REQUIRES_PAYMENT,
    )


async def started_payment(order: Order) -> StartedPayment | None:
    """The payment a replayed redemption shows again, while the order awaits it."""
    payment = await Payment.get_or_none(order_id=order.id)
    if payment is None or order.status is not OrderStatus.AWAITING_PAYMENT:
        return None
    return StartedPayment(payment.intent_id, payment.client_secret, "requires_payment_method")


async def settle_cancelled(*, order_number: str, gateway: PaymentStarter | None) -> None:
    """After a cancellation: refund a paid cash part, or cancel the unpaid intent.

    Raises PaymentUnavailable when Stripe cannot be reached; the sweeper retries.
    """
    payment = await Payment.get_or_none(order__number=order_number)
    if payment is None or gateway is None:
        return
    if payment.status is PaymentStatus.SUCCEEDED:
        await _refund(payment, order_number, gateway)
    elif payment.status is PaymentStatus.REQUIRES_PAYMENT:
        await gateway.cancel(payment.intent_id, idempotency_key=f"cancel:{order_number}")
        await Payment.filter(id=payment.id, status=PaymentStatus.REQUIRES_PAYMENT).update(
            status=PaymentStatus.CANCELED
        )


async def refund_paid(*, order_number: str, gateway: PaymentStarter) -> bool:
    """Refund an order's paid cash part in full, once (a return received); whether it had
    one to refund. Raises PaymentUnavailable when Stripe cannot be reached."""
    payment = await Payment.get_or_none(order__number=order_number)
    if payment is None or payment.status is not PaymentStatus.SUCCEEDED:
        return payment is not None and payment.status is PaymentStatus.REFUNDED
    await _refund(payment, order_number, gateway)
    return True


async def paid_cash(*, order_id: int) -> bool:
    """Whether the order's cash part was paid and not refunded."""
    payment = await Payment.filter(order_id=order_id).only("id", "status").first()
    return payment is not None and payment.status is PaymentStatus.SUCCEEDED


async def _refund(payment: Payment, order_number: str, gateway: PaymentStarter) -> None:
    # One key per order: a cancellation's refund and a return's are the same one refund.
    refund_id = await gateway.refund(payment.intent_id, idempotency_key=f"refund:{order_number}")
    await Payment.filter(id=payment.id, status=PaymentStatus.SUCCEEDED).update(
        status=PaymentStatus.REFUNDED, refund_id=refund_id
    )


async def settle_pending(*, gateway: PaymentStarter | None, limit: int = 100) -> int:
    """Retry refunds and intent cancellations of cancelled orders that Stripe missed."""
    numbers = (
        await Order.filter(
            status=OrderStatus.CANCELLED,
            payment__status__in=[PaymentStatus.SUCCEEDED, PaymentStatus.REQUIRES_PAYMENT],
        )
        .limit(limit)
        .values_list("number", flat=True)
    )
    settled = 0
    for number in numbers:
        try:
            await settle_cancelled(order_number=str(number), gateway=gateway)
            settled += 1
        except PaymentUnavailable:
            log.warning("payment of cancelled order %s still not settled", number)
            break
    return settled
