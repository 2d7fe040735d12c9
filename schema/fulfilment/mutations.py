"""Staff mutations: pick, pack and ship an order; record a carrier scan."""

from __future__ import annotations

import strawberry

from fulfilment import rules, shipments, tracking
from models.actors import Role
from models.orders import lifecycle
from models.orders.models import OrderStatus
from schema.caller_dependence import DEPENDS_ON_CALLER
from schema.context import Info
from schema.errors import UserError, attempt
from schema.fulfilment.types import (
    MarkPackedPayload,
    OrderActionInput,
    RecordTrackingEventPayload,
    ShipOrderInput,
    ShipOrderPayload,
    StartPickingPayload,
    TrackingEventInput,
)
from schema.orders.types import OrderType, ShipmentType
from schema.permissions import IsStaff, require_role


@strawberry.type
class FulfilmentMutations:
    @strawberry.mutation(
        permission_classes=[IsStaff],
        directives=[DEPENDS_ON_CALLER],
        description="CONFIRMED -> PICKING.",
    )
    async def start_picking(self, info: Info, input: OrderActionInput) -> StartPickingPayload:
        order, errors = await _advance(info, input.order_number, OrderStatus.PICKING)
        return StartPickingPayload(order=order, errors=errors)

    @strawberry.mutation(
        permission_classes=[IsStaff],
        directives=[DEPENDS_ON_CALLER],
        description="PICKING -> PACKED.",
    )
    async def mark_packed(self, info: Info, input: OrderActionInput) -> MarkPackedPayload:
        order, errors = await _advance(info, input.order_number, OrderStatus.PACKED)
        return MarkPackedPayload(order=order, errors=errors)

    @strawberry.mutation(
        permission_classes=[IsStaff],
        directives=[DEPENDS_ON_CALLER],
        description="PACKED -> SHIPPED.",
    )
    async def ship_order(self, info: Info, input: ShipOrderInput) -> ShipOrderPayload:
        outcome = await attempt(
            shipments.ship(
                number=input.order_number,
                carrier=input.carrier,
                tracking_number=input.tracking_number,
                actor=require_role(info, Role.WAREHOUSE, Role.ADMIN),
                now=info.context.now(),
                planner=info.context.services.planner,
            )
        )
        order = OrderType.from_row(outcome.value) if outcome.value else None
        return ShipOrderPayload(order=order, errors=outcome.errors)

    @strawberry.mutation(
        permission_classes=[IsStaff],
        directives=[DEPENDS_ON_CALLER],
        description="Store a scan once.",
    )
    async def record_tracking_event(
        self, info: Info, input: TrackingEventInput
    ) -> RecordTrackingEventPayload:
        scan = rules.Scan(
            carrier=input.carrier,
            tracking_number=input.tracking_number,
            status=input.status.value,
            location=input.location or "",
            description=input.description or "",
            occurred_at=input.occurred_at,
        )
        outcome = await attempt(
            tracking.record(
                scan=scan,
                actor=require_role(info, Role.WAREHOUSE, Role.ADMIN),
                now=info.context.now(),
            )
        )
        shipment = ShipmentType.from_row(outcome.value.shipment) if outcome.value else None
        return RecordTrackingEventPayload(shipment=shipment, errors=outcome.errors)


async def _advance(
    info: Info, number: str, to: OrderStatus
) -> tuple[OrderType | None, list[UserError]]:
    """Move an order one step along the warehouse's work; the payload's order and errors."""
    outcome = await attempt(
        lifecycle.advance(
            number=number,
            to=to,
            actor=require_role(info, Role.WAREHOUSE, Role.ADMIN),
            now=info.context.now(),
        )
    )
    return (OrderType.from_row(outcome.value) if outcome.value else None), outcome.errors
