"""Points types: a member's summary and the points about to expire."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import strawberry

from models.errors import InvalidInput
from models.points import reads
from schema.context import Info

MAX_EXPIRING_WINDOW_DAYS = 3660


@strawberry.type
class ExpiringPoints:
    amount: int
    expires_at: datetime


@strawberry.type
class PointsSummary:
    """balance = points owned; held = reserved by orders awaiting payment."""

    member_id: strawberry.Private[int]
    balance: int
    held: int
    available: int

    @strawberry.field(description="Points that expire within the next `withinDays` days.")
    async def expiring(self, info: Info, within_days: int = 90) -> list[ExpiringPoints]:
        if not 0 <= within_days <= MAX_EXPIRING_WINDOW_DAYS:
            raise InvalidInput(
                f"withinDays must be between 0 and {MAX_EXPIRING_WINDOW_DAYS}", field="withinDays"
            )
        rows = await reads.expiring_points(
            member_id=self.member_id, now=info.context.now(), within_days=within_days
        )
        return [ExpiringPoints(amount=r.amount, expires_at=r.expires_at) for r in rows]


async def _totals(member_ids: Sequence[int]) -> list[reads.Totals]:
    return await reads.totals_by_member(member_ids)


async def load_points_summary(info: Info, member_id: int) -> PointsSummary:
    totals = await info.context.loaders.of(_totals).load(member_id)
    return summary(member_id, totals)


def summary(member_id: int, totals: reads.Totals) -> PointsSummary:
    return PointsSummary(
        member_id=member_id,
        balance=totals.balance,
        held=totals.held,
        available=totals.available,
    )
