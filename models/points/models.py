"""Tables of the points ledger.

The account row carries the running `balance` and `held` totals and is the row every
writer locks first; the ledger (`PointsEntry`) is append-only; lots carry what is left of
each credit and when it expires; draws record which lots a debit or a hold took from, so a
refund can put points back where they came from.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.members.models import Member


class EntryKind(StrEnum):
    EARN = "EARN"
    REDEEM = "REDEEM"
    REFUND = "REFUND"
    EXPIRE = "EXPIRE"
    ADJUST = "ADJUST"
    COMPENSATION = "COMPENSATION"


class HoldStatus(StrEnum):
    OPEN = "OPEN"
    CAPTURED = "CAPTURED"
    RELEASED = "RELEASED"


class PointsAccount(Model):
    """A member's totals: `balance` = sum of entries = sum of lots' remaining."""

    id = fields.BigIntField(primary_key=True)
    member: fields.OneToOneRelation[Member] = fields.OneToOneField(
        "pointsmall.Member", related_name="points_account", on_delete=fields.RESTRICT
    )
    balance = fields.BigIntField(default=0)
    held = fields.BigIntField(default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    member_id: int

    class Meta:
        table = "points_account"


class PointsEntry(Model):
    """One change of a member's points: never edited, never deleted."""

    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "pointsmall.Member", related_name="points_entries", on_delete=fields.RESTRICT
    )
    kind = fields.CharEnumField(EntryKind, max_length=16)
    delta = fields.BigIntField()
    reason = fields.CharField(max_length=200, default="")
    external_ref = fields.CharField(max_length=128, null=True, unique=True)
    order_number = fields.CharField(max_length=32, null=True)
    expires_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()

    member_id: int

    class Meta:
        table = "points_entry"
        indexes = (("member_id", "id"), ("order_number", "kind"))


class PointsLot(Model):
    """What is left of one credit: spending takes the lot that expires first."""

    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "pointsmall.Member", related_name="points_lots", on_delete=fields.RESTRICT
    )
    amount = fields.BigIntField()
    remaining = fields.BigIntField()
    held = fields.BigIntField(default=0)
    expires_at = fields.DatetimeField()
    # Set once the expiry pass has dealt with the lot, so each pass only reads new work.
    settled = fields.BooleanField(default=False)
    created_at = fields.DatetimeField()

    member_id: int

    class Meta:
        table = "points_lot"
        indexes = (("member_id", "expires_at"), ("settled", "expires_at"))


class PointsHold(Model):
    """Points reserved by an order awaiting payment."""

    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "pointsmall.Member", related_name="points_holds", on_delete=fields.RESTRICT
    )
    amount = fields.BigIntField()
    status = fields.CharEnumField(HoldStatus, max_length=16, default=HoldStatus.OPEN)
    order_number = fields.CharField(max_length=32, unique=True)
    created_at = fields.DatetimeField()
    settled_at = fields.DatetimeField(null=True)

    member_id: int

    class Meta:
        table = "points_hold"
        indexes = (("member_id", "status"),)


class LotDraw(Model):
    """Points one debit (entry) or one hold took from one lot."""

    id = fields.BigIntField(primary_key=True)
    lot: fields.ForeignKeyRelation[PointsLot] = fields.ForeignKeyField(
        "pointsmall.PointsLot", related_name="draws", on_delete=fields.RESTRICT
    )
    entry: fields.ForeignKeyNullableRelation[PointsEntry] = fields.ForeignKeyField(
        "pointsmall.PointsEntry", related_name="draws", null=True, on_delete=fields.RESTRICT
    )
    hold: fields.ForeignKeyNullableRelation[PointsHold] = fields.ForeignKeyField(
        "pointsmall.PointsHold", related_name="draws", null=True, on_delete=fields.RESTRICT
    )
    amount = fields.BigIntField()

    lot_id: int
    entry_id: int | None
    hold_id: int | None

    class Meta:
        table = "points_lot_draw"
        indexes = (("entry_id",), ("hold_id",))
