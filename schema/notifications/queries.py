"""Notification queries: a member's inbox (through `Member`)."""

from __future__ import annotations

from models.notifications import reads
from schema.notifications.types import NotificationType
from schema.pagination import Connection, connection


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
