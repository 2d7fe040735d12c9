"""Order tables. Lines keep the prices of the moment the order was placed."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.catalog.models import Gift, Warehouse
    from models.members.models import Member


class OrderStatus(StrEnum):
    AWAITING_PAYMENT = "AWAITING_PAYMENT"
    CONFIRMED = "CONFIRMED"
    PICKING = "PICKING"
    PACKED = "PACKED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


class Order(Model):
    """A redemption order and the address it ships to, as the member gave it."""

    id = fields.BigIntField(primary_key=True)
    number = fields.CharField(max_length=32, unique=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "pointsmall.Member", related_name="orders", on_delete=fields.RESTRICT
    )
    status = fields.CharEnumField(OrderStatus, max_length=20)
    idempotency_key = fields.CharField(max_length=128)
    request_fingerprint = fields.CharField(max_length=64)
    warehouse: fields.ForeignKeyNullableRelation[Warehouse] = fields.ForeignKeyField(
        "pointsmall.Warehouse", related_name="orders", null=True, on_delete=fields.RESTRICT
    )
    points_total = fields.BigIntField()
    cash_total: Decimal | None = fields.DecimalField(max_digits=12, decimal_places=2, null=True)
    currency = fields.CharField(max_length=3, default="CNY")
    placed_at = fields.DatetimeField()
    confirmed_at: datetime | None = fields.DatetimeField(null=True)
    ship_by: datetime | None = fields.DatetimeField(null=True)
    promised_ship_date: date | None = fields.DateField(null=True)
    shipped_at: datetime | None = fields.DatetimeField(null=True)
    delivered_at: datetime | None = fields.DatetimeField(null=True)
    cancelled_at: datetime | None = fields.DatetimeField(null=True)
    cancel_reason = fields.CharField(max_length=200, default="")
    recipient = fields.CharField(max_length=100)
    phone = fields.CharField(max_length=32)
    province = fields.CharField(max_length=64)
    city = fields.CharField(max_length=64)
    district = fields.CharField(max_length=64, default="")
    line1 = fields.CharField(max_length=200)
    line2 = fields.CharField(max_length=200, default="")
    postal_code = fields.CharField(max_length=16, default="")
    updated_at = fields.DatetimeField(auto_now=True)

    member_id: int
    warehouse_id: int | None

    class Meta:
        table = "redemption_order"
        unique_together = (("member", "idempotency_key"),)
        indexes = (
            ("member_id", "id"),
            ("warehouse_id", "status", "ship_by"),
            ("status", "placed_at"),
            ("confirmed_at",),
            ("warehouse_id", "confirmed_at"),
        )


class OrderLine(Model):
    id = fields.BigIntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "pointsmall.Order", related_name="lines", on_delete=fields.RESTRICT
    )
    gift: fields.ForeignKeyRelation[Gift] = fields.ForeignKeyField(
        "pointsmall.Gift", related_name="order_lines", on_delete=fields.RESTRICT
    )
    sku = fields.CharField(max_length=64)
    name = fields.CharField(max_length=200)
    quantity = fields.IntField()
    points_each = fields.BigIntField()
    cash_each: Decimal | None = fields.DecimalField(max_digits=12, decimal_places=2, null=True)

    order_id: int
    gift_id: int

    class Meta:
        table = "order_line"
        indexes = (("order_id",), ("gift_id",))
