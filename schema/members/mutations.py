"""Member mutations: the CRM's `upsertMember`."""

from __future__ import annotations

import strawberry

from models.members import service
from models.members.models import Tier
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
            )
        )
        member = MemberType.from_row(outcome.value) if outcome.value else None
        return UpsertMemberPayload(member=member, errors=outcome.errors)
