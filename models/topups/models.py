"""Top-ups: one row per TOP_UP order line, from its placement to its end, and what each
gift's credits cost the operator a day."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.orders.models import OrderLine
from models.topups.ports import TopUpProduct


class TopUpStatus(StrEnum):
    PENDING = "PENDING"  # to be sent, or sent with no final answer yet
    DELIVERED = "DELIVERED"  # the credit landed
    FAILED = "FAILED"  # refused for good: the line's points are back
    EXPIRED = "EXPIRED"  # no answer within the promise: the line's points are back

    @property
    def final(self) -> bool:
        return self is not TopUpStatus.PENDING


class TopUp(Model):
    """A line's credit to one number. `next_try_at` is when a worker may next send it or ask
    of it (a claim moves it on before the call, so a worker that dies mid-call leaves the
    line to the next pass); `deliver_by` is the promise, after which it is refunded."""

    id = fields.BigIntField(primary_key=True)
    order_line: fields.OneToOneRelation[OrderLine] = fields.OneToOneField(
        "pointsmall.OrderLine", related_name="top_up", on_delete=fields.RESTRICT
    )
    order_id = fields.BigIntField()
    member_id = fields.BigIntField()
    gift_id = fields.BigIntField()
    msisdn = fields.CharField(max_length=20)
    product = fields.CharEnumField(TopUpProduct, max_length=8)
    face_value = fields.BigIntField()
    status = fields.CharEnumField(TopUpStatus, max_length=10, default=TopUpStatus.PENDING)
    attempts = fields.IntField(default=0)
    created_at = fields.DatetimeField()
    next_try_at = fields.DatetimeField()
    deliver_by = fields.DatetimeField()
    at_risk_at = fields.DatetimeField()  # undelivered by then, it is alerted (once)
    alerted_at: datetime | None = fields.DatetimeField(null=True)
    finished_at: datetime | None = fields.DatetimeField(null=True)
    reason = fields.CharField(max_length=64, default="")  # FAILED: the charging system's code
    transaction_id = fields.CharField(max_length=64, default="")
    budget_day: date = fields.DateField()  # the operator's day whose budget it was charged to

    order_line_id: int

    class Meta:
        table = "top_up"
        table_description = "A TOP_UP order line's credit through the charging system."
        indexes = (("status", "next_try_at"), ("order_id",))


class TopUpBudget(Model):
    """The face value a gift's top-ups took on one of the operator's days (refunds give back)."""

    id = fields.BigIntField(primary_key=True)
    gift_id = fields.BigIntField()
    day = fields.DateField()
    spent = fields.BigIntField(default=0)

    class Meta:
        table = "top_up_budget"
        table_description = "Face value of a gift's top-ups per day, against its daily budget."
        unique_together = (("gift_id", "day"),)
