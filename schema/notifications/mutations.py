"""Notification mutations for members: their preferences, and marking messages read."""

from __future__ import annotations

import strawberry

from models.actors import Role
from models.errors import InvalidInput
from models.members import service as members
from models.notifications import inbox, reads
from schema.caller_dependence import DEPENDS_ON_CALLER
from schema.context import Info
from schema.errors import UserError, attempt
from schema.members.types import MemberType
from schema.node import row_id_of
from schema.permissions import IsMember, require_role
from schema.ratelimit import WithinRateLimit


@strawberry.input
class NotificationPreferencesInput:
    language: str | None = strawberry.field(
        default=None, description="zh-CN or en. Null or absent: unchanged."
    )
    opt_outs: list[str] | None = strawberry.field(
        default=None,
        description=(
            "The kinds of message to turn off (NotificationKind names, ALL for every kind"
            " that can be); [] turns them all back on. Null or absent: unchanged."
        ),
    )


@strawberry.type
class SetNotificationPreferencesPayload:
    member: MemberType | None
    errors: list[UserError]


@strawberry.input
class MarkNotificationsReadInput:
    ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description=(
            "The messages read, at most 100 (ids that are not your messages are ignored)."
            " Null or absent: none, so give `all` instead."
        ),
    )
    all: bool | None = strawberry.field(
        default=None,
        description="True: every message, then leave `ids` out. Null or absent: false.",
    )


@strawberry.type
class MarkNotificationsReadPayload:
    marked: int = strawberry.field(description="How many of them were unread until now.")
    unread_notifications: int = strawberry.field(description="How many remain unread.")
    errors: list[UserError]


def _chosen(input: MarkNotificationsReadInput) -> list[int] | None:
    """The row ids to mark read (None: every message); raises InvalidInput."""
    if input.all:
        if input.ids is not None:
            raise InvalidInput("give ids or all: true, not both", field="all")
        return None
    if input.ids is None:
        raise InvalidInput("give the ids of the messages read, or all: true", field="ids")
    if len(input.ids) > inbox.MAX_IDS:
        raise InvalidInput(f"at most {inbox.MAX_IDS} ids at once", field="ids")
    return [row_id_of(i, "Notification", field=f"ids.{n}") for n, i in enumerate(input.ids)]


async def _mark_read(member_id: int, input: MarkNotificationsReadInput, info: Info) -> int:
    return await inbox.mark_read(member_id=member_id, ids=_chosen(input), now=info.context.now())


@strawberry.type
class NotificationMutations:
    @strawberry.mutation(
        permission_classes=[IsMember, WithinRateLimit],
        directives=[DEPENDS_ON_CALLER],
        description="The signed-in member's language and the messages they turned off.",
    )
    async def set_notification_preferences(
        self, info: Info, input: NotificationPreferencesInput
    ) -> SetNotificationPreferencesPayload:
        actor = require_role(info, Role.MEMBER)
        outcome = await attempt(
            members.set_preferences(
                external_id=actor.subject, language=input.language, opt_outs=input.opt_outs
            )
        )
        member = MemberType.from_row(outcome.value) if outcome.value else None
        return SetNotificationPreferencesPayload(member=member, errors=outcome.errors)

    @strawberry.mutation(
        permission_classes=[IsMember, WithinRateLimit],
        directives=[DEPENDS_ON_CALLER],
        description="Mark messages of the signed-in member's inbox read.",
    )
    async def mark_notifications_read(
        self, info: Info, input: MarkNotificationsReadInput
    ) -> MarkNotificationsReadPayload:
        actor = require_role(info, Role.MEMBER)
        member = await members.ensure_member(external_id=actor.subject)
        outcome = await attempt(_mark_read(member.id, input, info))
        return MarkNotificationsReadPayload(
            marked=outcome.value or 0,
            unread_notifications=await reads.unread(member_id=member.id),
            errors=outcome.errors,
        )
