"""The code pools: one row per partner code of an E_VOUCHER gift, sealed at rest."""

from __future__ import annotations

from datetime import datetime

from tortoise import fields
from tortoise.models import Model

from models.catalog.models import Gift
from models.orders.models import OrderLine


class VoucherCode(Model):
    """A partner's code. `sealed` is the code encrypted with the voucher keys (a dump alone
    does not reveal it); `digest`, its keyed digest, finds a duplicate without decrypting.
    Unassigned (`order_line_id` null) and unexpired, it is its gift's stock."""

    id = fields.BigIntField(primary_key=True)
    gift: fields.ForeignKeyRelation[Gift] = fields.ForeignKeyField(
        "pointsmall.Gift", related_name="voucher_codes", on_delete=fields.RESTRICT
    )
    sealed = fields.TextField()
    digest = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()
    imported_at = fields.DatetimeField()
    order_line: fields.OneToOneNullableRelation[OrderLine] = fields.OneToOneField(
        "pointsmall.OrderLine", related_name="voucher_code", null=True, on_delete=fields.RESTRICT
    )
    assigned_at: datetime | None = fields.DatetimeField(null=True)
    revealed_at: datetime | None = fields.DatetimeField(null=True)

    gift_id: int
    order_line_id: int | None

    class Meta:
        table = "voucher_code"
        table_description = "A partner's e-voucher code, encrypted, and the order line it went to."
        indexes = (("gift_id", "order_line_id", "expires_at"),)


class VoucherReveal(Model):
    """One showing of a code to its owner: when, and to which member."""

    id = fields.BigIntField(primary_key=True)
    code: fields.ForeignKeyRelation[VoucherCode] = fields.ForeignKeyField(
        "pointsmall.VoucherCode", related_name="reveals", on_delete=fields.RESTRICT
    )
    member_id = fields.BigIntField()
    revealed_at = fields.DatetimeField()

    code_id: int

    class Meta:
        table = "voucher_reveal"
        table_description = "Each time an e-voucher code was shown, and to whom."
        indexes = (("code_id",),)
