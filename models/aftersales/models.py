"""After-sales tables: tickets and their timelines, the promise's deadlines and alerts,
resolutions (with a return's parcel and scans), agents' goodwill caps, surveys, and the
texts taken in from the SMS router.

A ticket carries its clock as moments (`first_reply_due_at`, `reply_due_at`,
`resolve_due_at`, `paused_at`): the deadlines the sweeper watches are derived from them and
rewritten whenever they move, and `next_due_at` is the queue's sort key (the earliest
deadline still running).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.members.models import Member
    from models.notifications.models import InboundSms
    from models.orders.models import Order


class TicketCategory(StrEnum):
    PARCEL_NOT_RECEIVED = "PARCEL_NOT_RECEIVED"
    DAMAGED = "DAMAGED"
    WRONG_ITEM = "WRONG_ITEM"
    QUALITY_FAULT = "QUALITY_FAULT"
    SERVICE_COMPLAINT = "SERVICE_COMPLAINT"
    QUESTION = "QUESTION"


class TicketState(StrEnum):
    NEW = "NEW"  # no agent has acted on it yet
    OPEN = "OPEN"
    WAITING_ON_MEMBER = "WAITING_ON_MEMBER"  # the clock stops
    RESOLVED = "RESOLVED"  # a member's message within the week reopens it
    CLOSED = "CLOSED"  # a week after resolution, or confirmed by the member


class TicketChannel(StrEnum):
    APP = "APP"
    SMS = "SMS"
    HOTLINE = "HOTLINE"


class TimelineKind(StrEnum):
    """What one entry of a ticket's timeline is."""

    MEMBER_MESSAGE = "MEMBER_MESSAGE"
    PUBLIC_REPLY = "PUBLIC_REPLY"  # to the member, through the outbox (app and SMS)
    INTERNAL_NOTE = "INTERNAL_NOTE"  # agents only
    CALL = "CALL"  # a logged call with its outcome
    ACKNOWLEDGEMENT = "ACKNOWLEDGEMENT"  # automatic: "we have your message"
    STATE_CHANGE = "STATE_CHANGE"
    ASSIGNMENT = "ASSIGNMENT"
    RESOLUTION = "RESOLUTION"
    RATING = "RATING"


class ServiceAlertKind(StrEnum):
    """A ticket's deadlines and alerts: each promise at risk and breached, and a low rating."""

    FIRST_REPLY_AT_RISK = "FIRST_REPLY_AT_RISK"
    FIRST_REPLY_BREACHED = "FIRST_REPLY_BREACHED"
    REPLY_AT_RISK = "REPLY_AT_RISK"
    REPLY_BREACHED = "REPLY_BREACHED"
    RESOLUTION_AT_RISK = "RESOLUTION_AT_RISK"
    RESOLUTION_BREACHED = "RESOLUTION_BREACHED"
    LOW_RATING = "LOW_RATING"


class ResolutionKind(StrEnum):
    REFUND_POINTS = "REFUND_POINTS"
    GOODWILL = "GOODWILL"
    REPLACEMENT = "REPLACEMENT"
    RETURN = "RETURN"


class ResolutionStatus(StrEnum):
    DONE = "DONE"
    AWAITING_APPROVAL = "AWAITING_APPROVAL"  # goodwill above the agent's daily cap
    AWAITING_RETURN = "AWAITING_RETURN"  # the parcel is on its way back
    RECEIVED = "RECEIVED"  # the return arrived: restocked and refunded


class Ticket(Model):
    """A member's problem, its state, and the clock of the promise made on it."""

    id = fields.BigIntField(primary_key=True)
    number = fields.CharField(max_length=20, unique=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "pointsmall.Member", related_name="tickets", on_delete=fields.RESTRICT
    )
    order: fields.ForeignKeyNullableRelation[Order] = fields.ForeignKeyField(
        "pointsmall.Order", related_name="tickets", null=True, on_delete=fields.RESTRICT
    )
    category = fields.CharEnumField(TicketCategory, max_length=24)
    state = fields.CharEnumField(TicketState, max_length=20)
    channel = fields.CharEnumField(TicketChannel, max_length=10)
    subject = fields.CharField(max_length=200)
    assignee = fields.CharField(max_length=64, default="")  # an agent's subject; '' none
    idempotency_key = fields.CharField(max_length=128, null=True)
    opened_at = fields.DatetimeField()
    first_reply_due_at = fields.DatetimeField()
    first_replied_at: datetime | None = fields.DatetimeField(null=True)
    reply_due_at: datetime | None = fields.DatetimeField(null=True)  # a later message's answer
    reply_cycle = fields.IntField(default=0)
    resolve_due_at: datetime | None = fields.DatetimeField(null=True)
    resolution_cycle = fields.IntField(default=0)
    resolved_at: datetime | None = fields.DatetimeField(null=True)
    closed_at: datetime | None = fields.DatetimeField(null=True)
    paused_at: datetime | None = fields.DatetimeField(null=True)
    next_due_at = fields.DatetimeField()
    attention = fields.BooleanField(default=False)  # a supervisor should look (a low rating)
    updated_at = fields.DatetimeField(auto_now=True)

    member_id: int
    order_id: int | None

    class Meta:
        table = "ticket"
        unique_together = (("member", "idempotency_key"),)
        indexes = (
            ("member_id", "id"),
            ("state", "next_due_at"),
            ("assignee", "next_due_at"),
            ("opened_at",),
            ("state", "resolved_at"),
        )


class TimelineEntry(Model):
    """One entry of a ticket's timeline (members see only the public ones)."""

    id = fields.BigIntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "pointsmall.Ticket", related_name="timeline", on_delete=fields.RESTRICT
    )
    kind = fields.CharEnumField(TimelineKind, max_length=20)
    author_role = fields.CharField(max_length=16)  # member, agent, admin, system
    author = fields.CharField(max_length=64, default="")
    body = fields.TextField(default="")
    channel = fields.CharField(max_length=10, default="")  # APP, SMS, PHONE or ''
    call_outcome = fields.CharField(max_length=200, default="")
    public = fields.BooleanField(default=True)
    data: dict[str, Any] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()

    ticket_id: int

    class Meta:
        table = "ticket_timeline"
        indexes = (("ticket_id", "id"),)


class TicketDeadline(Model):
    """A moment the sweeper must look at a ticket: a promise turning at risk, or breaching.

    Rows exist only for promises still running (none while the ticket waits on the member),
    so a pass reads the due rows and never scans the open tickets."""

    id = fields.BigIntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "pointsmall.Ticket", related_name="deadlines", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(ServiceAlertKind, max_length=24)
    cycle = fields.IntField(default=0)
    due_at: datetime = fields.DatetimeField()

    ticket_id: int

    class Meta:
        table = "ticket_deadline"
        unique_together = (("ticket", "kind"),)
        indexes = (("due_at",),)


class TicketAlert(Model):
    """An alert raised once per ticket, kind and cycle.

    A breached first reply owes the member a goodwill credit until `compensated_at`."""

    id = fields.BigIntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "pointsmall.Ticket", related_name="alerts", on_delete=fields.RESTRICT
    )
    kind = fields.CharEnumField(ServiceAlertKind, max_length=24)
    cycle = fields.IntField(default=0)
    raised_at: datetime = fields.DatetimeField()
    compensated_at: datetime | None = fields.DatetimeField(null=True)

    ticket_id: int

    class Meta:
        table = "ticket_alert"
        unique_together = (("ticket", "kind", "cycle"),)
        indexes = (("kind", "compensated_at"), ("raised_at",))


class Resolution(Model):
    """One act on the domain an agent took for a ticket, once per idempotency key."""

    id = fields.BigIntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "pointsmall.Ticket", related_name="resolutions", on_delete=fields.RESTRICT
    )
    kind = fields.CharEnumField(ResolutionKind, max_length=16)
    status = fields.CharEnumField(ResolutionStatus, max_length=20)
    idempotency_key = fields.CharField(max_length=128)
    fingerprint = fields.CharField(max_length=64)
    agent = fields.CharField(max_length=64)
    order: fields.ForeignKeyNullableRelation[Order] = fields.ForeignKeyField(
        "pointsmall.Order", related_name="resolutions", null=True, on_delete=fields.RESTRICT
    )
    points = fields.BigIntField(default=0)  # refunded or credited
    lines: list[dict[str, int]] = fields.JSONField(default=list)  # {line_id, quantity, points}
    replacement: fields.ForeignKeyNullableRelation[Order] = fields.ForeignKeyField(
        "pointsmall.Order", related_name="replaces", null=True, on_delete=fields.RESTRICT
    )
    reason = fields.CharField(max_length=200, default="")
    approved_by = fields.CharField(max_length=64, default="")
    cash_refund = fields.CharField(max_length=10, default="")  # '', PENDING or DONE
    created_at = fields.DatetimeField()
    settled_at: datetime | None = fields.DatetimeField(null=True)

    ticket_id: int
    order_id: int | None
    replacement_id: int | None

    class Meta:
        table = "ticket_resolution"
        unique_together = (("ticket", "idempotency_key"),)
        indexes = (("agent", "created_at"), ("order_id",), ("status", "cash_refund"))


class ReturnParcel(Model):
    """A return on its way back to the warehouse, tracked by carrier scans like a shipment."""

    id = fields.BigIntField(primary_key=True)
    resolution: fields.OneToOneRelation[Resolution] = fields.OneToOneField(
        "pointsmall.Resolution", related_name="parcel", on_delete=fields.RESTRICT
    )
    carrier = fields.CharField(max_length=32)
    tracking_number = fields.CharField(max_length=64)
    status = fields.CharField(max_length=20, default="")  # the latest scan's
    received_at: datetime | None = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    resolution_id: int

    class Meta:
        table = "return_parcel"
        unique_together = (("carrier", "tracking_number"),)


class ReturnScan(Model):
    """One carrier scan of a return: the same scan twice is stored once."""

    id = fields.BigIntField(primary_key=True)
    parcel: fields.ForeignKeyRelation[ReturnParcel] = fields.ForeignKeyField(
        "pointsmall.ReturnParcel", related_name="scans", on_delete=fields.RESTRICT
    )
    status = fields.CharField(max_length=20)
    location = fields.CharField(max_length=200, default="")
    description = fields.CharField(max_length=500, default="")
    occurred_at = fields.DatetimeField()
    recorded_at = fields.DatetimeField(auto_now_add=True)

    parcel_id: int

    class Meta:
        table = "return_scan"
        unique_together = (("parcel", "status", "occurred_at"),)


class GoodwillCap(Model):
    """The goodwill points an agent may credit a day without a supervisor (set by admins)."""

    id = fields.BigIntField(primary_key=True)
    agent = fields.CharField(max_length=64, unique=True)
    daily_points = fields.BigIntField()
    set_by = fields.CharField(max_length=64)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "goodwill_cap"


class Survey(Model):
    """How satisfied a member was, asked once per resolved ticket (each time) or delivered
    order; one rating, a later answer within the window replacing it."""

    id = fields.BigIntField(primary_key=True)
    key = fields.CharField(max_length=80, unique=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "pointsmall.Member", related_name="surveys", on_delete=fields.RESTRICT
    )
    ticket: fields.ForeignKeyNullableRelation[Ticket] = fields.ForeignKeyField(
        "pointsmall.Ticket", related_name="surveys", null=True, on_delete=fields.RESTRICT
    )
    order: fields.ForeignKeyNullableRelation[Order] = fields.ForeignKeyField(
        "pointsmall.Order", related_name="surveys", null=True, on_delete=fields.RESTRICT
    )
    asked_at = fields.DatetimeField()
    rating: int | None = fields.IntField(null=True)
    rated_at: datetime | None = fields.DatetimeField(null=True)
    rated_by = fields.CharField(max_length=8, default="")  # APP or SMS

    member_id: int
    ticket_id: int | None
    order_id: int | None

    class Meta:
        table = "service_survey"
        indexes = (("member_id", "id"), ("asked_at",), ("ticket_id",))


class InboundIntake(Model):
    """A text the SMS router kept (or a digit it matched) that after-sales has taken in."""

    id = fields.BigIntField(primary_key=True)
    inbound: fields.OneToOneRelation[InboundSms] = fields.OneToOneField(
        "pointsmall.InboundSms", related_name="intake", on_delete=fields.RESTRICT
    )
    outcome = fields.CharField(max_length=16)  # TICKET, RATING, IGNORED
    taken_at = fields.DatetimeField()

    inbound_id: int

    class Meta:
        table = "aftersales_intake"
