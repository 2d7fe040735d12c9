"""Read-side of points: the totals of many members at once, points about to expire."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from models.errors import InvalidInput
from models.members.models import Member
from models.points.models import PointsAccount, PointsEntry, PointsLot

MAX_EXPIRING_WINDOW_DAYS = 3660


@dataclass(frozen=True)
class Totals:
    balance: int
    held: int

    @property
    def available(self) -> int:
        return self.balance - self.held


@dataclass(frozen=True)
class Expiring:
    amount: int
    expires_at: datetime


async def member_with_totals(external_id: str) -> tuple[Member, Totals] | None:
    """A member and their totals in one statement; None if they have no points account yet.

    The member app asks for `me { points }` on every screen: one round trip instead of two.
    """
    account = (
        await PointsAccount.filter(member__external_id=external_id).select_related("member").first()
    )
    if account is None:
        return None
    return account.member, Totals(int(account.balance), int(account.held))


async def available_points(*, external_id: str) -> int:
    """What a member can spend now (zero for a member not known yet)."""
    found = await member_with_totals(external_id)
    return 0 if found is None else found[1].available


async def totals_by_member(member_ids: Sequence[int]) -> list[Totals]:
    """Balance and held of each member (zero for a member without an account yet)."""
    rows = await PointsAccount.filter(member_id__in=list(member_ids)).values_list(
        "member_id", "balance", "held"
    )
    found = {member_id: Totals(int(balance), int(held)) for member_id, balance, held in rows}
    return [found.get(member_id, Totals(0, 0)) for member_id in member_ids]


async def expiring_points(*, member_id: int, now: datetime, within_days: int) -> list[Expiring]:
    """Points expiring in the next `within_days` days, grouped by moment, soonest first.

    Held points are left out: they never expire under an open order. Raises InvalidInput
    for a window outside 0..MAX_EXPIRING_WINDOW_DAYS (ten years; longer is no question a
    member asks, and the date arithmetic would overflow).
    """
    if not 0 <= within_days <= MAX_EXPIRING_WINDOW_DAYS:
        raise InvalidInput(
            f"withinDays must be between 0 and {MAX_EXPIRING_WINDOW_DAYS}", field="within_days"
        )
    horizon = now + timedelta(days=within_days)
    lots = (
        await PointsLot.filter(
            member_id=member_id, expires_at__gt=now, expires_at__lte=horizon, remaining__gt=0
        )
        .order_by("expires_at")
        .values_list("expires_at", "remaining", "held")
    )
    grouped: dict[datetime, int] = {}
    for expires_at, remaining, held in lots:
        if remaining > held:
            grouped[expires_at] = grouped.get(expires_at, 0) + int(remaining - held)
    return [Expiring(amount=amount, expires_at=at) for at, amount in grouped.items()]


async def entries_by_ids(ids: Sequence[int], *, owner: str | None) -> list[PointsEntry]:
    """Entries by id; with `owner` (a member's externalId) only that member's entries."""
    query = PointsEntry.filter(id__in=list(ids))
    if owner is not None:
        query = query.filter(member__external_id=owner)
    return list(await query)
