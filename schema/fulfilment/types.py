"""Fulfilment types, inputs and payloads; orders and shipments are the order package's types."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from fulfilment.live import RaisedAlert
from fulfilment.models import AlertKind
from fulfilment.sla import SlaReport
from models.topups.report import DigitalReport
from schema.errors import UserError
from schema.orders.types import OrderType, ShipmentType

AlertKindEnum = strawberry.enum(AlertKind, name="AlertKind")


@strawberry.enum(description="What a carrier scan reports.")
class TrackingStatus(Enum):
    IN_TRANSIT = "IN_TRANSIT"
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    DELIVERED = "DELIVERED"
    EXCEPTION = "EXCEPTION"
    RETURNED = "RETURNED"


@strawberry.type(name="SlaReport", description="How well the ship-by promise was kept.")
class SlaReportType:
    orders_confirmed: int
    orders_shipped: int
    shipped_on_time: int = strawberry.field(description="Shipped before their shipBy.")
    on_time_rate: float | None = strawberry.field(description="Null when nothing shipped.")
    median_hours_to_ship: float | None = strawberry.field(description="From confirmedAt.")
    p95_hours_to_ship: float | None
    open_at_risk: int = strawberry.field(
        description="Of these orders, not shipped and under 48 hours from shipBy now."
    )
    open_breached: int = strawberry.field(
        description="Of these orders, not shipped and past shipBy now."
    )
    digital: DigitalSlaType | None = strawberry.field(
        default=None,
        description="The digital lines placed in the window, apart (admins, over every "
        "warehouse: a digital line has none); null for a warehouse's report.",
    )

    @classmethod
    def from_report(cls, report: SlaReport, digital: DigitalReport | None = None) -> SlaReportType:
        return cls(
            digital=None if digital is None else DigitalSlaType.of(digital),
            orders_confirmed=report.orders_confirmed,
            orders_shipped=report.orders_shipped,
            shipped_on_time=report.shipped_on_time,
            on_time_rate=report.on_time_rate,
            median_hours_to_ship=report.median_hours_to_ship,
            p95_hours_to_ship=report.p95_hours_to_ship,
            open_at_risk=report.open_at_risk,
            open_breached=report.open_breached,
        )


@strawberry.type(
    name="DigitalSla",
    description="The ten-minute promise of top-ups (an e-voucher line is delivered with its "
    "order: counted, never late).",
)
class DigitalSlaType:
    top_ups: int
    delivered: int
    delivered_on_time: int = strawberry.field(description="Delivered by their deliverBy.")
    on_time_rate: float | None = strawberry.field(
        description="Delivered on time out of those that ended (delivered or refunded); null "
        "when none has."
    )
    median_seconds_to_deliver: float | None = strawberry.field(
        description="From the order's placing to the charging system's confirmation."
    )
    p95_seconds_to_deliver: float | None
    refunded: int = strawberry.field(description="Refused or not delivered in time.")
    pending: int
    vouchers_delivered: int

    @classmethod
    def of(cls, report: DigitalReport) -> DigitalSlaType:
        return cls(
            top_ups=report.top_ups,
            delivered=report.delivered,
            delivered_on_time=report.delivered_on_time,
            on_time_rate=report.on_time_rate,
            median_seconds_to_deliver=report.median_seconds_to_deliver,
            p95_seconds_to_deliver=report.p95_seconds_to_deliver,
            refunded=report.refunded,
            pending=report.pending,
            vouchers_delivered=report.vouchers_delivered,
        )


@strawberry.type(name="FulfilmentAlert")
class FulfilmentAlertType:
    kind: AlertKindEnum  # type: ignore[valid-type]
    raised_at: datetime
    order: OrderType

    @classmethod
    def from_raised(cls, raised: RaisedAlert) -> FulfilmentAlertType:
        return cls(
            kind=raised.alert.kind,
            raised_at=raised.alert.raised_at,
            order=OrderType.from_row(raised.order),
        )


@strawberry.input
class OrderActionInput:
    order_number: str


@strawberry.input
class ShipOrderInput:
    order_number: str
    carrier: str = strawberry.field(description="The carrier's code, e.g. SF; case-insensitive.")
    tracking_number: str = strawberry.field(description="Unique per carrier.")


@strawberry.input
class TrackingEventInput:
    carrier: str
    tracking_number: str
    status: TrackingStatus
    occurred_at: datetime = strawberry.field(description="When it happened, with a zone.")
    location: str | None = strawberry.field(default=None, description="Null or absent: none.")
    description: str | None = strawberry.field(default=None, description="Null or absent: none.")


@strawberry.type
class StartPickingPayload:
    order: OrderType | None
    errors: list[UserError]


@strawberry.type
class MarkPackedPayload:
    order: OrderType | None
    errors: list[UserError]


@strawberry.type
class ShipOrderPayload:
    order: OrderType | None
    errors: list[UserError]


@strawberry.type
class RecordTrackingEventPayload:
    shipment: ShipmentType | None
    errors: list[UserError]
