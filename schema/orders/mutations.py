"""Member order mutations: redeem and cancel."""

from __future__ import annotations

from datetime import timedelta

import strawberry

from fulfilment.tracking_reads import shipments_by_order_ids
from models.actors import Role
from models.orders import lifecycle, reads, redemption
from models.orders.redemption import RedeemRequest, RedemptionResult
from models.orders.rules import Address, LineRequest
from schema.caller_dependence import DEPENDS_ON_CALLER
from schema.context import Info
from schema.errors import UserError, attempt
from schema.metrics import REDEMPTIONS
from schema.orders.types import OrderType
from schema.permissions import IsMember, IsMemberOrAdmin, require_actor, require_role
from schema.ratelimit import WithinRateLimit
from schema.scalars import Money


@strawberry.input
class RedeemLineInput:
    sku: str
    quantity: int


@strawberry.input
class ShippingAddressInput:
    recipient: str
    phone: str
    province: str
    city: str
    line1: str
    district: str | None = strawberry.field(default=None, description="Null or absent: none.")
    line2: str | None = strawberry.field(default=None, description="Null or absent: none.")
    postal_code: str | None = strawberry.field(default=None, description="Null or absent: none.")


@strawberry.input
class RedeemInput:
    idempotency_key: str = strawberry.field(
        description="A retry with the same key and lines returns the same order."
    )
    lines: list[RedeemLineInput]
    shipping_address: ShippingAddressInput


@strawberry.type(name="Payment")
class PaymentType:
    client_secret: str
    status: str
    amount: Money


@strawberry.type
class RedeemPayload:
    order: OrderType | None
    payment: PaymentType | None
    errors: list[UserError]


@strawberry.input
class CancelOrderInput:
    order_number: str
    reason: str | None = strawberry.field(default=None, description="Null or absent: none.")


@strawberry.type
class CancelOrderPayload:
    order: OrderType | None
    errors: list[UserError]


def _request(input: RedeemInput) -> RedeemRequest:
    address = input.shipping_address
    return RedeemRequest(
        idempotency_key=input.idempotency_key,
        lines=[LineRequest(sku=line.sku, quantity=line.quantity) for line in input.lines],
        address=Address(
            recipient=address.recipient,
            phone=address.phone,
            province=address.province,
            city=address.city,
            district=address.district or "",
            line1=address.line1,
            line2=address.line2 or "",
            postal_code=address.postal_code or "",
        ),
    )


def _payment(placed: RedemptionResult) -> PaymentType | None:
    order, started = placed.order, placed.payment
    if started is None or order.cash_total is None:
        return None
    amount = Money(amount=order.cash_total, currency=order.currency)
    return PaymentType(client_secret=started.client_secret, status=started.status, amount=amount)


def _prime(info: Info, placed: RedemptionResult) -> None:
    """A new order's lines are known and it has no shipment: spare the loaders' queries."""
    if placed.replayed or not placed.lines:
        return
    loaders = info.context.loaders
    loaders.of(reads.lines_by_order_ids).prime(placed.order.id, list(placed.lines))
    loaders.of(shipments_by_order_ids).prime(placed.order.id, None)


@strawberry.type
class OrderMutations:
    @strawberry.mutation(
        permission_classes=[IsMember, WithinRateLimit], directives=[DEPENDS_ON_CALLER]
    )
    async def redeem(self, info: Info, input: RedeemInput) -> RedeemPayload:
        actor = require_role(info, Role.MEMBER)
        services = info.context.services
        outcome = await attempt(
            redemption.redeem(
                member_external_id=actor.subject,
                request=_request(input),
                now=info.context.now(),
                planner=services.planner,
                payments=services.payments,
                currency=services.currency,
                effects=services.order_effects,
                digital_within=timedelta(minutes=services.digital_delivery_minutes),
            )
        )
        placed = outcome.value
        REDEMPTIONS.labels(
            "refused" if placed is None else "replayed" if placed.replayed else "placed"
        ).inc()
        if placed is None:
            return RedeemPayload(order=None, payment=None, errors=outcome.errors)
        _prime(info, placed)
        order = OrderType.from_row(placed.order)
        return RedeemPayload(order=order, payment=_payment(placed), errors=[])

    @strawberry.mutation(
        permission_classes=[IsMemberOrAdmin, WithinRateLimit], directives=[DEPENDS_ON_CALLER]
    )
    async def cancel_order(self, info: Info, input: CancelOrderInput) -> CancelOrderPayload:
        outcome = await attempt(
            lifecycle.cancel(
                number=input.order_number,
                actor=require_actor(info),
                now=info.context.now(),
                planner=info.context.services.planner,
                gateway=info.context.services.payments,
                reason=input.reason or "",
            )
        )
        order = OrderType.from_row(outcome.value) if outcome.value else None
        return CancelOrderPayload(order=order, errors=outcome.errors)
