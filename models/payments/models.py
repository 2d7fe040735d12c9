"""Payment tables: one PaymentIntent per order with a cash part, and the events applied."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.orders.models import Order


class PaymentStatus(StrEnum):
    REQUIRES_PAYMENT = "REQUIRES_PAYMENT"
    SUCCEEDED = "SUCCEEDED"
    CANCELED = "CANCELED"
    REFUNDED = "REFUNDED"


class Payment(Model):
    id = fields.BigIntField(primary_key=True)
    order: fields.OneToOneRelation[Order] = fields.OneToOneField(
        "pointsmall.Order", related_name="payment", on_delete=fields.RESTRICT
    )
    intent_id = fields.CharField(max_length=255, unique=True)
    client_secret = fields.CharField(max_length=255)
    amount: Decimal = fields.DecimalField(max_digits=12, decimal_places=2)
    currency = fields.CharField(max_length=3)
    status = fields.CharEnumField(PaymentStatus, max_length=20)
    refund_id = fields.CharField(max_length=255, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    order_id: int

    class Meta:
        table = "payment"
        indexes = (("status",),)


class WebhookEvent(Model):
    """A Stripe event already applied: its id makes a redelivery a no-op."""

    id = fields.CharField(max_length=255, primary_key=True)
    type = fields.CharField(max_length=100)
    received_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "stripe_event"
