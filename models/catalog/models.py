"""Catalog tables. Stock is kept per gift and warehouse as `on_hand` and `reserved`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from models.topups.ports import TopUpProduct


class Category(Model):
    id = fields.BigIntField(primary_key=True)
    slug = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=100)
    position = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "category"


class GiftKind(StrEnum):
    """How a gift reaches the member: a parcel from a warehouse, or digitally."""

    PHYSICAL = "PHYSICAL"
    E_VOUCHER = "E_VOUCHER"  # a partner's code from the gift's pool
    TOP_UP = "TOP_UP"  # phone credit or a data pack through the charging system

    @property
    def digital(self) -> bool:
        return self is not GiftKind.PHYSICAL


class Gift(Model):
    """A gift in the mall: the points price, and optionally a cash part on top.

    `partner` and `instructions` belong to an E_VOUCHER gift (whose code it is, how to use
    it); they are empty for the other kinds."""

    id = fields.BigIntField(primary_key=True)
    sku = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    image_url = fields.CharField(max_length=500, default="")
    category: fields.ForeignKeyRelation[Category] = fields.ForeignKeyField(
        "pointsmall.Category", related_name="gifts", on_delete=fields.RESTRICT
    )
    points_price = fields.BigIntField()
    cash_price: Decimal | None = fields.DecimalField(max_digits=12, decimal_places=2, null=True)
    currency = fields.CharField(max_length=3, default="CNY")
    limit_per_member: int | None = fields.IntField(null=True)
    active = fields.BooleanField(default=True)
    # Database defaults too: statements that name none of these write a parcel.
    kind = fields.CharEnumField(
        GiftKind, max_length=10, default=GiftKind.PHYSICAL, db_default=GiftKind.PHYSICAL.value
    )
    partner = fields.CharField(max_length=100, default="", db_default="")
    instructions = fields.TextField(default="", db_default="")
    # A TOP_UP's product and face value (fen of phone credit, or MB of data), and what the
    # operator lets its credits cost a day (face value; None: no limit).
    top_up_product = fields.CharEnumField(
        TopUpProduct, max_length=8, default=TopUpProduct.CREDIT, db_default="CREDIT"
    )
    face_value = fields.BigIntField(default=0, db_default=0)
    daily_budget: int | None = fields.BigIntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    category_id: int

    class Meta:
        table = "gift"
        indexes = (
            ("active", "points_price"),
            ("active", "created_at"),
            ("category_id", "active"),
        )


class Warehouse(Model):
    """A warehouse: what it can ship per working day, in which zone, and when it is closed."""

    id = fields.BigIntField(primary_key=True)
    code = fields.CharField(max_length=32, unique=True)
    name = fields.CharField(max_length=100)
    daily_capacity = fields.IntField()
    timezone = fields.CharField(max_length=64, default="Asia/Shanghai")
    closed_dates: Any = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "warehouse"

    def closed_date_set(self) -> frozenset[date]:
        """The closed dates as dates (stored as ISO strings)."""
        return frozenset(date.fromisoformat(value) for value in self.closed_dates)


class Stock(Model):
    """Units of one gift in one warehouse: available = on_hand - reserved, never negative."""

    id = fields.BigIntField(primary_key=True)
    gift: fields.ForeignKeyRelation[Gift] = fields.ForeignKeyField(
        "pointsmall.Gift", related_name="stock", on_delete=fields.RESTRICT
    )
    warehouse: fields.ForeignKeyRelation[Warehouse] = fields.ForeignKeyField(
        "pointsmall.Warehouse", related_name="stock", on_delete=fields.RESTRICT
    )
    on_hand = fields.BigIntField(default=0)
    reserved = fields.BigIntField(default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    gift_id: int
    warehouse_id: int

    class Meta:
        table = "stock"
        unique_together = (("gift", "warehouse"),)

    @property
    def available(self) -> int:
        return int(self.on_hand - self.reserved)


class StockMovement(Model):
    """Why stock changed: receipts, write-offs, shipments."""

    id = fields.BigIntField(primary_key=True)
    stock: fields.ForeignKeyRelation[Stock] = fields.ForeignKeyField(
        "pointsmall.Stock", related_name="movements", on_delete=fields.RESTRICT
    )
    delta = fields.BigIntField()
    reason = fields.CharField(max_length=200, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "stock_movement"
