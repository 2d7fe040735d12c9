"""Fulfilment tables: booked ship slots, deadlines to watch, shipments, scans and alerts."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.catalog.models import Warehouse
    from models.orders.models import Order


class AlertKind(StrEnum):
    AT_RISK = "AT_RISK"
    BREACHED = "BREACHED"


class ShipmentStatus(StrEnum):
    SHIPPED = "SHIPPED"
    IN_TRANSIT = "IN_TRANSIT"
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    DELIVERED = "DELIVERED"
    EXCEPTION = "EXCEPTION"
    RETURNED = "RETURNED"


class ShipDay(Model):
    """Orders booked to ship from one warehouse on one local day: never above capacity."""

    id = fields.BigIntField(primary_key=True)
    warehouse: fields.ForeignKeyRelation[Warehouse] = fields.ForeignKeyField(
        "pointsmall.Warehouse", related_name="ship_days", on_delete=fields.RESTRICT
    )
    day: date = fields.DateField()
    booked = fields.IntField(default=0)

    warehouse_id: int

    class Meta:
        table = "ship_day"
        unique_together = (("warehouse", "day"),)


class Deadline(Model):
    """A moment the sweeper must look at an open order: when it turns at risk, and breaches.

    Rows exist only for orders still to ship, so a sweeper pass reads the due rows and
    never scans the order history.
    """

    id = fields.BigIntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "pointsmall.Order", related_name="deadlines", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(AlertKind, max_length=16)
    due_at: datetime = fields.DatetimeField()

    order_id: int

    class Meta:
        table = "fulfilment_deadline"
        unique_together = (("order", "kind"),)
        indexes = (("due_at",),)


class Alert(Model):
    """An at-risk or breach alert, raised once per order and kind.

    A breach owes the member a compensation: `compensated_at` stays null until the sweeper
    has credited it, so the pending ones are found through an index, not by a scan.
    """

    id = fields.BigIntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "pointsmall.Order", related_name="alerts", on_delete=fields.RESTRICT
    )
    warehouse: fields.ForeignKeyRelation[Warehouse] = fields.ForeignKeyField(
        "pointsmall.Warehouse", related_name="alerts", on_delete=fields.RESTRICT
    )
    kind = fields.CharEnumField(AlertKind, max_length=16)
    raised_at: datetime = fields.DatetimeField()
    compensated_at: datetime | None = fields.DatetimeField(null=True)

    order_id: int
    warehouse_id: int

    class Meta:
        table = "fulfilment_alert"
        unique_together = (("order", "kind"),)
        indexes = (("warehouse_id", "raised_at"), ("kind", "compensated_at"))


class Shipment(Model):
    """The parcel of one order: carrier, tracking number (unique per carrier), latest status."""

    id = fields.BigIntField(primary_key=True)
    order: fields.OneToOneRelation[Order] = fields.OneToOneField(
        "pointsmall.Order", related_name="shipment", on_delete=fields.RESTRICT
    )
    carrier = fields.CharField(max_length=32)
    tracking_number = fields.CharField(max_length=64)
    status = fields.CharEnumField(ShipmentStatus, max_length=20, default=ShipmentStatus.SHIPPED)
    shipped_at: datetime = fields.DatetimeField()
    updated_at = fields.DatetimeField(auto_now=True)

    order_id: int

    class Meta:
        table = "shipment"
        unique_together = (("carrier", "tracking_number"),)


class TrackingEvent(Model):
    """One carrier scan: the same scan twice is stored once."""

    id = fields.BigIntField(primary_key=True)
    shipment: fields.ForeignKeyRelation[Shipment] = fields.ForeignKeyField(
        "pointsmall.Shipment", related_name="events", on_delete=fields.RESTRICT
    )
    status = fields.CharEnumField(ShipmentStatus, max_length=20)
    location = fields.CharField(max_length=200, default="")
    description = fields.CharField(max_length=500, default="")
    occurred_at: datetime = fields.DatetimeField()
    recorded_at = fields.DatetimeField(auto_now_add=True)

    shipment_id: int

    class Meta:
        table = "tracking_event"
        unique_together = (("shipment", "status", "occurred_at"),)
