"""Notification types: a member's inbox message, an SMS as operators follow it, the report.

A message's text is the template of its kind in its member's language, filled with what
it was written with and, as its SMS is when it goes, with what is true now: the order's
ship date (it may have moved to another day) and the points available.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay

from models.actors import Actor, Role
from models.members import service as members
from models.members.models import Member
from models.notifications import reads, templates
from models.notifications.models import Notification, NotificationKind, SmsStatus
from models.notifications.reads import DeliveryReport
from models.notifications.rules import ESSENTIAL
from models.orders.reads import orders_by_ids
from schema.context import Info
from schema.node import row_ids
from schema.orders.types import OrderType
from schema.points.types import load_points_summary

_ESSENTIAL = ", ".join(sorted(ESSENTIAL))
NotificationKindEnum = strawberry.enum(
    NotificationKind,
    name="NotificationKind",
    description=f"What a message tells of. Members cannot turn off {_ESSENTIAL}.",
)
SmsStatusEnum = strawberry.enum(
    SmsStatus,
    name="SmsStatus",
    description=(
        "Where a message's SMS is: PENDING and SENDING wait, SENT went to the SMS centre,"
        " DELIVERED, UNDELIVERABLE and EXPIRED are the handset's receipt, FAILED was refused"
        " or out of tries, SKIPPED was never sent (no mobile, or turned off by the member)."
    ),
)


@strawberry.type(name="Notification", description="A message to a member, as their inbox shows it.")
class NotificationType(relay.Node):
    id: relay.NodeID[int]
    kind: NotificationKindEnum  # type: ignore[valid-type]
    created_at: datetime
    read_at: datetime | None
    read: bool
    member_id: strawberry.Private[int | None]
    order_id: strawberry.Private[int | None]
    data: strawberry.Private[dict[str, Any]]
    body: strawberry.Private[str]
    language: strawberry.Private[str | None]  # the member's, when the caller knows it

    @classmethod
    def from_row(cls, row: Notification, *, language: str | None = None) -> NotificationType:
        return cls(
            id=row.id,
            kind=row.kind,
            created_at=row.created_at,
            read_at=row.read_at,
            read=row.read_at is not None,
            member_id=row.member_id,
            order_id=row.order_id,
            data=dict(row.data or {}),
            body=row.body,
            language=language,
        )

    @strawberry.field(description="The message in the member's language, as its SMS says it.")
    async def text(self, info: Info) -> str:
        return await _text(info, self)

    @strawberry.field(description="The order the message is about, if any.")
    async def order(self, info: Info) -> OrderType | None:
        row = await _order(info, self)
        return OrderType.from_row(row) if row is not None else None

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        ids = row_ids(node_ids)
        allowed, member_id = await _inbox_of(info.context.actor)
        if not allowed:
            return [None for _ in ids]
        rows = await reads.notifications_by_ids(
            [i for i in ids if i is not None], member_id=member_id
        )
        by_id = {row.id: row for row in rows if row is not None}
        return [cls.from_row(row) if (row := by_id.get(i or 0)) else None for i in ids]


async def _inbox_of(actor: Actor | None) -> tuple[bool, int | None]:
    """Whose messages the caller may read: an admin everyone's (None), a member their own."""
    if actor is not None and actor.role is Role.ADMIN:
        return True, None
    if actor is None or actor.role is not Role.MEMBER:
        return False, None
    member = await members.find_member(external_id=actor.subject)
    return (True, member.id) if member is not None else (False, None)


async def _order(info: Info, message: NotificationType) -> Any:
    """The message's order, when it is its member's."""
    if message.order_id is None:
        return None
    row = await info.context.loaders.of(orders_by_ids).load(message.order_id)
    return row if row is not None and row.member_id == message.member_id else None


async def _members_by_ids(ids: Sequence[int]) -> list[Member | None]:
    return await members.members_by_ids(list(ids))


async def _text(info: Info, message: NotificationType) -> str:
    kind = NotificationKind(message.kind)
    if message.body or kind not in templates.TEMPLATES:
        return message.body  # a reply or a question is written as it is decided
    wanted, live = templates.wanted(kind), templates.Live()
    if wanted & {"ship_date", "ship_by"} and (order := await _order(info, message)) is not None:
        live = replace(live, ship_date=order.promised_ship_date, ship_by=order.ship_by)
    if "available" in wanted and message.member_id is not None:
        summary = await load_points_summary(info, message.member_id)
        live = replace(live, available=summary.available)
    language = message.language
    if language is None and message.member_id is not None:
        member = await info.context.loaders.of(_members_by_ids).load(message.member_id)
        language = member.language if member is not None else None
    return templates.message_text(
        kind,
        message.data,
        language=language or "",
        live=live,
        timezone=info.context.services.points_timezone,
    )


def masked_number(number: str) -> str | None:
    """A phone number with every digit but the last four hidden (`+**********8000`);
    null for none."""
    if not number:
        return None
    shown, kept = [], 0
    for character in reversed(number):
        if character.isdigit():
            kept += 1
            character = character if kept <= 4 else "*"
        shown.append(character)
    return "".join(reversed(shown))


@strawberry.type(name="SmsDelivery", description="One message's SMS, as the operators follow it.")
class SmsDeliveryType:
    notification_id: strawberry.ID = strawberry.field(
        description="The message's global id (`node(id:)` gives the Notification)."
    )
    kind: NotificationKindEnum  # type: ignore[valid-type]
    status: SmsStatusEnum  # type: ignore[valid-type]
    to: str | None = strawberry.field(
        description="The mobile it goes to, all but its last four digits hidden; null: none."
    )
    attempts: int
    created_at: datetime
    sent_at: datetime | None = strawberry.field(description="When the SMS centre took it.")
    finished_at: datetime | None = strawberry.field(
        description="When it was delivered, refused for good or given up."
    )
    error: str | None = strawberry.field(description="Why it failed or was skipped; null: none.")
    parts: int = strawberry.field(description="SMS segments it took; 0 until sent.")
    member_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: Notification) -> SmsDeliveryType:
        return cls(
            notification_id=strawberry.ID(relay.to_base64("Notification", row.id)),
            kind=row.kind,
            status=row.sms_status,
            to=masked_number(row.sms_to),
            attempts=row.sms_attempts,
            created_at=row.created_at,
            sent_at=row.sms_sent_at,
            finished_at=row.sms_finished_at,
            error=row.sms_error or None,
            parts=row.sms_parts,
            member_id=row.member_id,
        )

    @strawberry.field(description="The member's customer number; null for a number no member has.")
    async def member_external_id(self, info: Info) -> str | None:
        if self.member_id is None:
            return None
        member = await info.context.loaders.of(_members_by_ids).load(self.member_id)
        return member.external_id if member is not None else None


@strawberry.type(
    name="SmsDeliveryReport",
    description="How the messages written in a window fared (answers to texts aside).",
)
class SmsDeliveryReportType:
    written: int
    sent: int = strawberry.field(description="Taken by the SMS centre, whatever came of it.")
    delivered: int
    failed: int = strawberry.field(
        description="Refused for good, out of tries, undeliverable or expired."
    )
    skipped: int = strawberry.field(description="Not sent: no mobile, or turned off.")
    waiting: int = strawberry.field(description="Not sent yet: pending or being sent.")
    median_seconds: float | None = strawberry.field(
        description="From the change to the handset's receipt, for those delivered."
    )
    p95_seconds: float | None

    @classmethod
    def from_report(cls, report: DeliveryReport) -> SmsDeliveryReportType:
        return cls(
            written=report.written,
            sent=report.sent,
            delivered=report.delivered,
            failed=report.failed,
            skipped=report.skipped,
            waiting=report.waiting,
            median_seconds=report.median_seconds,
            p95_seconds=report.p95_seconds,
        )
