"""Member mutations: the CRM's `upsertMember`."""

from __future__ import annotations

import strawberry

from models.members import service
from models.members.models import Tier
from models.members.rules import DEFAULT_LANGUAGE
from schema.caller_dependence import DEPENDS_ON_CALLER
from schema.errors import UserError, attempt
from schema.members.types import MemberType, TierEnum
from schema.permissions import IsAdmin
from schema.ratelimit import WithinRateLimit


@strawberry.input
class MemberInput:
    external_id: str
    display_name: str | None = strawberry.field(
        default=None,
        description="Null or absent: none (an upsert states the whole member: null clears it).",
    )
    tier: TierEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=None,
        description="Null or absent: STANDARD (an upsert states the whole member).",
    )
    mobile: str | None = strawberry.field(
        default=None,
        description=(
            "11 digits of a mainland mobile (86 or +86 in front allowed), or E.164 (+...)."
            " Null or absent: none (no SMS is sent)."
        ),
    )
    language: str | None = strawberry.field(
        default=None,
        description="The language of their messages, zh-CN or en. Null or absent: zh-CN.",
    )
    opt_outs: list[str] | None = strawberry.field(
        default=None,
        description=(
            "The kinds of message turned off (NotificationKind names, ALL for every kind that"
            " can be). Null or absent: none."
        ),
    )

    def contact(self) -> service.Contact:
        return service.Contact(
            mobile=self.mobile or "",
            language=DEFAULT_LANGUAGE.value if self.language is None else self.language,
            opt_outs=self.opt_outs or (),
        )


@strawberry.type
class UpsertMemberPayload:
    member: MemberType | None
    errors: list[UserError]


@strawberry.type
class MemberMutations:
    @strawberry.mutation(
        permission_classes=[IsAdmin, WithinRateLimit], directives=[DEPENDS_ON_CALLER]
    )
    async def upsert_member(self, input: MemberInput) -> UpsertMemberPayload:
        outcome = await attempt(
            service.upsert_member(
                external_id=input.external_id,
                display_name=input.display_name or "",
                tier=input.tier or Tier.STANDARD,
                contact=input.contact(),
            )
        )
        member = MemberType.from_row(outcome.value) if outcome.value else None
        return UpsertMemberPayload(member=member, errors=outcome.errors)
