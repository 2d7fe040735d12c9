"""Notification queries: a member's inbox (through `Member`), the operators' SMS view."""

from __future__ import annotations

from datetime import datetime

import strawberry

from models.members import service as members
from models.notifications import reads
from models.notifications.reads import DeliveryFilter
from schema.caller_dependence import DEPENDS_ON_CALLER
from schema.notifications.types import (
    NotificationKindEnum,
    NotificationType,
    SmsDeliveryReportType,
    SmsDeliveryType,
    SmsStatusEnum,
)
from schema.pagination import Connection, connection
from schema.permissions import IsAdmin

NO_MEMBER = 0  # no member has it: a filter naming an unknown member finds nothing


@strawberry.input(name="SmsDeliveryFilter")
class SmsDeliveryFilterInput:
    member_external_id: str | None = strawberry.field(
        default=None, description="Null or absent: every member's (an unknown one: none)."
    )
    kind: NotificationKindEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Null or absent: every kind."
    )
    status: SmsStatusEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Null or absent: every status."
    )
    since: datetime | None = strawberry.field(
        default=None, description="Written at or after this; null or absent: from the first."
    )
    until: datetime | None = strawberry.field(
        default=None, description="Written before this; null or absent: up to the latest."
    )

    async def to_domain(self) -> DeliveryFilter:
        member_id = None
        if self.member_external_id is not None:
            found = await members.find_member(external_id=self.member_external_id)
            member_id = found.id if found is not None else NO_MEMBER
        return DeliveryFilter(
            member_id=member_id,
            kind=self.kind,
            status=self.status,
            since=self.since,
            until=self.until,
        )


@strawberry.type
class NotificationQueries:
    @strawberry.field(
        permission_classes=[IsAdmin],
        description="Messages and their SMS, newest first; `first` is at most 100.",
        directives=[DEPENDS_ON_CALLER],
    )
    async def sms_deliveries(
        self, first: int, after: str | None = None, filter: SmsDeliveryFilterInput | None = None
    ) -> Connection[SmsDeliveryType]:
        where = await (filter or SmsDeliveryFilterInput()).to_domain()
        page = await reads.deliveries(where=where, first=first, after=after)
        return connection(page, SmsDeliveryType.from_row, after=after)

    @strawberry.field(
        permission_classes=[IsAdmin],
        description="How the messages written in [since, until) fared.",
        directives=[DEPENDS_ON_CALLER],
    )
    async def sms_delivery_report(self, since: datetime, until: datetime) -> SmsDeliveryReportType:
        return SmsDeliveryReportType.from_report(await reads.report(since=since, until=until))


async def member_inbox(
    member_id: int, language: str, first: int, after: str | None
) -> Connection[NotificationType]:
    """One page of the member's inbox, newest first (the `Member.notifications` field)."""
    page = await reads.inbox(member_id=member_id, first=first, after=after)
    return connection(
        page, lambda row: NotificationType.from_row(row, language=language), after=after
    )


async def member_unread(member_id: int) -> int:
    """How many of the member's messages are unread (`Member.unreadNotifications`)."""
    return await reads.unread(member_id=member_id)
