"""Notification tables: the outbox every change a member should hear of writes into, and the
messages handsets send to the service number.

A `Notification` is one message: the member's in-app inbox shows it as soon as the change
that wrote it commits, and its SMS travels through the `sms_*` columns (the outbox the
delivery loop claims). One row per message, written in the same transaction as the change
(`dedupe_key` keeps a change from writing it twice), so a change that rolls back tells no
one and a committed change is never lost.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.members.models import Member
    from models.orders.models import Order


class NotificationKind(StrEnum):
    ORDER_CONFIRMED = "ORDER_CONFIRMED"
    ORDER_SHIPPED = "ORDER_SHIPPED"
    ORDER_DELIVERED = "ORDER_DELIVERED"
    ORDER_CANCELLED = "ORDER_CANCELLED"
    ORDER_AT_RISK = "ORDER_AT_RISK"
    ORDER_BREACHED = "ORDER_BREACHED"
    POINTS_EXPIRING = "POINTS_EXPIRING"
    POINTS_CREDITED = "POINTS_CREDITED"
    SMS_REPLY = "SMS_REPLY"  # the service's answer to a text from a handset
    QUESTION = "QUESTION"  # a question the member may answer by replying with a digit
    # After-sales: the conversation a member started, and what was done for them.
    TICKET_RECEIVED = "TICKET_RECEIVED"  # the automatic acknowledgement (not a reply)
    TICKET_REPLY = "TICKET_REPLY"
    TICKET_BREACHED = "TICKET_BREACHED"  # no first reply in time: compensated
    TICKET_REFUNDED = "TICKET_REFUNDED"
    TICKET_GOODWILL = "TICKET_GOODWILL"
    TICKET_REPLACEMENT = "TICKET_REPLACEMENT"
    TICKET_RETURN_EXPECTED = "TICKET_RETURN_EXPECTED"
    TICKET_RETURN_RECEIVED = "TICKET_RETURN_RECEIVED"
    TICKET_RESOLVED = "TICKET_RESOLVED"
    VOUCHER_READY = "VOUCHER_READY"  # an e-voucher's code is in the app
    TOPUP_DELIVERED = "TOPUP_DELIVERED"  # the credit or data landed on the number
    TOPUP_REFUNDED = "TOPUP_REFUNDED"  # refused or not delivered in time: points back


class SmsStatus(StrEnum):
    PENDING = "PENDING"  # waiting for its due time and a worker
    SENDING = "SENDING"  # claimed by a worker until `sms_claimed_until`
    SENT = "SENT"  # the SMS centre took it; no receipt yet
    DELIVERED = "DELIVERED"
    UNDELIVERABLE = "UNDELIVERABLE"
    EXPIRED = "EXPIRED"
    FAILED = "FAILED"  # refused for good, or out of tries
    SKIPPED = "SKIPPED"  # not sent: no mobile, or the member turned the kind off


class PushStatus(StrEnum):
    PENDING = "PENDING"  # waiting for its due time and a worker (only one with push on)
    SENDING = "SENDING"  # claimed by a worker until `push_claimed_until`
    SENT = "SENT"  # the push platform took it
    FAILED = "FAILED"  # refused for good, or out of tries
    SKIPPED = "SKIPPED"  # not pushed: a reply by SMS, a kind turned off, or too old to push


class Notification(Model):
    id = fields.BigIntField(primary_key=True)
    member: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "pointsmall.Member", related_name="notifications", null=True, on_delete=fields.RESTRICT
    )  # none for a reply to a number that is no member's
    order: fields.ForeignKeyNullableRelation[Order] = fields.ForeignKeyField(
        "pointsmall.Order", related_name="notifications", null=True, on_delete=fields.RESTRICT
    )
    kind = fields.CharEnumField(NotificationKind, max_length=24)
    dedupe_key = fields.CharField(max_length=160, unique=True)
    data: dict[str, Any] = fields.JSONField(default=dict)
    body = fields.TextField(default="")  # a reply is written when it is decided
    created_at = fields.DatetimeField()
    read_at: datetime | None = fields.DatetimeField(null=True)
    sms_to = fields.CharField(max_length=20, default="")
    sms_status = fields.CharEnumField(SmsStatus, max_length=16)
    sms_urgent = fields.BooleanField(default=False)
    sms_due_at: datetime | None = fields.DatetimeField(null=True)
    sms_attempts = fields.IntField(default=0)
    sms_claimed_until: datetime | None = fields.DatetimeField(null=True)
    sms_message_id = fields.CharField(max_length=64, default="")
    sms_parts = fields.IntField(default=0)
    sms_error = fields.CharField(max_length=200, default="")
    sms_sent_at: datetime | None = fields.DatetimeField(null=True)
    sms_finished_at: datetime | None = fields.DatetimeField(null=True)
    # Database defaults too, so rows written before these columns (and an INSERT that names
    # none of them, such as an answer by SMS) are never pushed.
    push_status = fields.CharEnumField(
        PushStatus, max_length=16, default=PushStatus.SKIPPED, db_default=PushStatus.SKIPPED.value
    )
    push_due_at: datetime | None = fields.DatetimeField(null=True)
    push_attempts = fields.IntField(default=0, db_default=0)
    push_claimed_until: datetime | None = fields.DatetimeField(null=True)
    push_error = fields.CharField(max_length=200, default="", db_default="")
    push_sent_at: datetime | None = fields.DatetimeField(null=True)
    answer = fields.CharField(max_length=8, default="")  # a QUESTION's answer, by SMS or app
    answered_at: datetime | None = fields.DatetimeField(null=True)

    member_id: int | None
    order_id: int | None

    class Meta:
        table = "notification"
        indexes = (
            ("member_id", "id"),
            ("sms_status", "sms_due_at"),
            ("push_status", "push_due_at"),
            ("sms_to", "id"),
            ("sms_message_id",),
            ("kind", "created_at"),
        )


class SmsReceipt(Model):
    """A delivery receipt as the SMS centre sent it, kept so a receipt that overtakes the
    record of its submit still lands."""

    id = fields.BigIntField(primary_key=True)
    message_id = fields.CharField(max_length=64, unique=True)
    state = fields.CharField(max_length=16)
    at = fields.DatetimeField()

    class Meta:
        table = "sms_receipt"
        indexes = (("at",),)


class InboundHandling(StrEnum):
    KEYWORD = "KEYWORD"  # answered: points, latest order, opt-out, help
    ANSWER = "ANSWER"  # a digit answering the latest open question sent to the number
    KEPT = "KEPT"  # a known member's other text, kept for after-sales
    UNKNOWN_NUMBER = "UNKNOWN_NUMBER"
    CAPPED = "CAPPED"  # the number reached its replies for the hour: no answer
    EMPTY = "EMPTY"


class InboundSms(Model):
    """A message a handset sent to the service number."""

    id = fields.BigIntField(primary_key=True)
    sender = fields.CharField(max_length=20)
    member: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "pointsmall.Member", related_name="inbound_sms", null=True, on_delete=fields.RESTRICT
    )
    text = fields.TextField()
    handled_as = fields.CharEnumField(InboundHandling, max_length=16)
    received_at = fields.DatetimeField()

    member_id: int | None

    class Meta:
        table = "sms_inbound"
        indexes = (("sender", "received_at"), ("member_id", "id"))
