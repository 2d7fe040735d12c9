"""Points mutations for the back office: `awardPoints` and `adjustPoints`."""

from __future__ import annotations

from datetime import datetime

import strawberry

from models.points import service
from schema.caller_dependence import DEPENDS_ON_CALLER
from schema.context import Info
from schema.errors import ServiceResult, UserError, attempt
from schema.permissions import IsAdmin
from schema.points.types import PointsEntryType, PointsSummary, current_summary


@strawberry.input
class AwardPointsInput:
    member_external_id: str
    amount: int
    external_ref: str = strawberry.field(description="The same reference credits once.")
    reason: str | None = strawberry.field(default=None, description="Null or absent: none.")
    expires_at: datetime | None = strawberry.field(
        default=None, description="Defaults to the programme's expiry rule."
    )


@strawberry.input
class AdjustPointsInput:
    member_external_id: str
    delta: int = strawberry.field(description="Positive credits, negative debits.")
    reason: str
    external_ref: str = strawberry.field(description="The same reference applies once.")


@strawberry.type
class AwardPointsPayload:
    entry: PointsEntryType | None
    points: PointsSummary | None
    errors: list[UserError]


@strawberry.type
class AdjustPointsPayload:
    entry: PointsEntryType | None
    points: PointsSummary | None
    errors: list[UserError]


async def _payload_parts(
    outcome: ServiceResult[service.Credit],
) -> tuple[PointsEntryType | None, PointsSummary | None]:
    if outcome.value is None:
        return None, None
    entry = outcome.value.entry
    return PointsEntryType.from_row(entry), await current_summary(entry.member_id)


@strawberry.type
class PointsMutations:
    @strawberry.mutation(
        permission_classes=[IsAdmin],
        directives=[DEPENDS_ON_CALLER],
        description="Credit points once per ref.",
    )
    async def award_points(self, info: Info, input: AwardPointsInput) -> AwardPointsPayload:
        outcome = await attempt(
            service.award(
                member_external_id=input.member_external_id,
                amount=input.amount,
                reason=input.reason or "",
                external_ref=input.external_ref,
                expires_at=input.expires_at,
                now=info.context.now(),
                timezone=info.context.services.points_timezone,
                tell_from=info.context.services.notify_credits_from,
            )
        )
        entry, points = await _payload_parts(outcome)
        return AwardPointsPayload(entry=entry, points=points, errors=outcome.errors)

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        directives=[DEPENDS_ON_CALLER],
        description="Correct a balance; never below zero.",
    )
    async def adjust_points(self, info: Info, input: AdjustPointsInput) -> AdjustPointsPayload:
        outcome = await attempt(
            service.adjust(
                member_external_id=input.member_external_id,
                delta=input.delta,
                reason=input.reason,
                external_ref=input.external_ref,
                now=info.context.now(),
                timezone=info.context.services.points_timezone,
            )
        )
        entry, points = await _payload_parts(outcome)
        return AdjustPointsPayload(entry=entry, points=points, errors=outcome.errors)
