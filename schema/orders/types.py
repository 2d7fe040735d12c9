"""Order types, built from rows; lines and shipments come through per-request loaders."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import strawberry
from strawberry import relay

from fulfilment import rules
from fulfilment.models import Shipment, ShipmentStatus, TrackingEvent
from fulfilment.tracking_reads import events_by_shipment_ids, shipments_by_order_ids
from models.catalog.reads import kinds_by_gift_ids
from models.orders import reads
from models.orders.models import Order, OrderLine, OrderStatus
from models.promises.rules import Urgency
from schema.caller_dependence import DEPENDS_ON_CALLER
from schema.catalog.types import GiftKindEnum
from schema.context import Info
from schema.node import row_ids
from schema.scalars import Money, money
from schema.topups.types import TopUpType, top_up_of_line
from schema.vouchers.types import VoucherType, voucher_of_line

OrderStatusEnum = strawberry.enum(OrderStatus, name="OrderStatus")
ShipmentStatusEnum = strawberry.enum(ShipmentStatus, name="ShipmentStatus")


@strawberry.type
class OrderLineType:
    id: strawberry.Private[int]
    gift_id: strawberry.Private[int]
    sku: str
    name: str
    quantity: int
    points_each: int
    cash_each: Money | None

    @classmethod
    def from_row(cls, row: OrderLine, currency: str) -> OrderLineType:
        return cls(
            id=row.id,
            gift_id=row.gift_id,
            sku=row.sku,
            name=row.name,
            quantity=row.quantity,
            points_each=int(row.points_each),
            cash_each=money(row.cash_each, currency),
        )

    @strawberry.field(
        description="How the line reaches the member: only PHYSICAL lines are picked and shipped."
    )
    async def kind(self, info: Info) -> GiftKindEnum:  # type: ignore[valid-type]
        return await info.context.loaders.of(kinds_by_gift_ids).load(self.gift_id)

    @strawberry.field(
        description="An e-voucher line's code, shown to the order's member only, each showing "
        "logged (other roles: FORBIDDEN); null for other lines.",
        directives=[DEPENDS_ON_CALLER],
    )
    async def voucher(self, info: Info) -> VoucherType | None:
        return await voucher_of_line(info, self.id)

    @strawberry.field(
        description="A top-up line's credit: its number, status and promise; null for other lines."
    )
    async def top_up(self, info: Info) -> TopUpType | None:
        return await top_up_of_line(info, self.id)


@strawberry.type
class ShippingAddress:
    recipient: str
    phone: str
    province: str
    city: str
    district: str
    line1: str
    line2: str
    postal_code: str


@strawberry.type(name="TrackingEvent")
class TrackingEventType:
    status: ShipmentStatusEnum  # type: ignore[valid-type]
    location: str
    description: str
    occurred_at: datetime

    @classmethod
    def from_row(cls, row: TrackingEvent) -> TrackingEventType:
        return cls(
            status=row.status,
            location=row.location,
            description=row.description,
            occurred_at=row.occurred_at,
        )


@strawberry.type(name="Shipment")
class ShipmentType:
    id: strawberry.Private[int]
    carrier: str
    tracking_number: str
    status: ShipmentStatusEnum  # type: ignore[valid-type]
    shipped_at: datetime

    @classmethod
    def from_row(cls, row: Shipment) -> ShipmentType:
        return cls(
            id=row.id,
            carrier=row.carrier,
            tracking_number=row.tracking_number,
            status=row.status,
            shipped_at=row.shipped_at,
        )

    @strawberry.field(description="Carrier scans, in the order they happened.")
    async def events(self, info: Info) -> list[TrackingEventType]:
        rows = await info.context.loaders.of(events_by_shipment_ids).load(self.id)
        return [TrackingEventType.from_row(row) for row in rows]


@strawberry.type(name="RedemptionOrder")
class OrderType(relay.Node):
    id: relay.NodeID[int]
    number: str
    status: OrderStatusEnum  # type: ignore[valid-type]
    placed_at: datetime
    confirmed_at: datetime | None
    ship_by: datetime | None
    promised_ship_date: date | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    cancelled_at: datetime | None
    points_total: int
    cash_total: Money | None
    shipping_address: ShippingAddress
    currency: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: Order) -> OrderType:
        return cls(
            id=row.id,
            number=row.number,
            status=row.status,
            placed_at=row.placed_at,
            confirmed_at=row.confirmed_at,
            ship_by=row.ship_by,
            promised_ship_date=row.promised_ship_date,
            shipped_at=row.shipped_at,
            delivered_at=row.delivered_at,
            cancelled_at=row.cancelled_at,
            points_total=int(row.points_total),
            cash_total=money(row.cash_total, row.currency),
            currency=row.currency,
            shipping_address=ShippingAddress(
                recipient=row.recipient,
                phone=row.phone,
                province=row.province,
                city=row.city,
                district=row.district,
                line1=row.line1,
                line2=row.line2,
                postal_code=row.postal_code,
            ),
        )

    @strawberry.field
    async def lines(self, info: Info) -> list[OrderLineType]:
        rows = await info.context.loaders.of(reads.lines_by_order_ids).load(self.id)
        return [OrderLineType.from_row(row, self.currency) for row in rows]

    @strawberry.field
    async def shipment(self, info: Info) -> ShipmentType | None:
        row = await info.context.loaders.of(shipments_by_order_ids).load(self.id)
        return ShipmentType.from_row(row) if row else None

    @strawberry.field(description="Not shipped and under the at-risk threshold before shipBy.")
    def at_risk(self, info: Info) -> bool:
        state = self._urgency(info)
        return state is not None and state.at_risk_or_breached

    @strawberry.field(description="Hours until shipBy; negative once it has passed.")
    def hours_left(self, info: Info) -> float | None:
        state = self._urgency(info)
        return None if state is None else state.hours_left

    def _urgency(self, info: Info) -> Urgency | None:
        return rules.order_urgency(
            self.status,
            self.ship_by,
            now=info.context.now(),
            threshold=info.context.services.at_risk,
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        actor = info.context.actor
        rows = await info.context.loaders.of(reads.orders_by_ids).load_many(
            [i or 0 for i in row_ids(node_ids)]
        )
        visible = [
            row
            if row is not None and actor is not None and await reads.may_see(actor, row)
            else None
            for row in rows
        ]
        return [cls.from_row(row) if row else None for row in visible]
