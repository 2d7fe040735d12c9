"""Read-side of points: the totals of many members at once, points about to expire."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from models import sql
from models.actors import Actor
from models.errors import InvalidInput
from models.members.models import Member
from models.points import rules
from models.points.models import EntryKind, PointsAccount, PointsEntry

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


MEMBER_WITH_TOTALS = """
SELECT m.*, a.balance AS points_balance, a.held AS points_held
FROM member m JOIN points_account a ON a.member_id = m.id
WHERE m.external_id = $1
"""


async def member_with_totals(external_id: str) -> tuple[Member, Totals] | None:
    """A member and their totals in one statement; None if they have no points account yet.

    The member app asks for `me { points }` on every screen: one round trip instead of two.
    """
    found = await member_row_with_totals(external_id)
    return None if found is None else (sql.model(Member, found[0]), found[1])


async def member_row_with_totals(external_id: str) -> tuple[dict[str, Any], Totals] | None:
    """`member_with_totals` as the member's row (its columns as the driver gives them)."""
    row = await sql.fetch_one(MEMBER_WITH_TOTALS, external_id)
    if row is None:
        return None
    return row, Totals(int(row["points_balance"]), int(row["points_held"]))


async def available_points(*, external_id: str) -> int:
    """What a member can spend now (zero for a member not known yet)."""
    found = await member_row_with_totals(external_id)
    return 0 if found is None else found[1].available


async def totals_by_member(member_ids: Sequence[int]) -> list[Totals]:
    """Balance and held of each member (zero for a member without an account yet)."""
    rows = await PointsAccount.filter(member_id__in=list(member_ids)).values_list(
        "member_id", "balance", "held"
    )
    found = {member_id: Totals(int(balance), int(held)) for member_id, balance, held in rows}
    return [found.get(member_id, Totals(0, 0)) for member_id in member_ids]


EXPIRING = """
SELECT expires_at, remaining, held FROM points_lot
WHERE member_id = $1 AND expires_at > $2 AND expires_at <= $3 AND remaining > 0
ORDER BY expires_at
"""


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
    lots = await sql.fetch(EXPIRING, member_id, now, horizon)
    grouped: dict[datetime, int] = {}
    for lot in lots:
        if lot["remaining"] > lot["held"]:
            at = sql.moment(lot["expires_at"])
            grouped[at] = grouped.get(at, 0) + int(lot["remaining"] - lot["held"])
    return [Expiring(amount=amount, expires_at=at) for at, amount in grouped.items()]


async def entries_by_ids(ids: Sequence[int], *, viewer: Actor | None) -> list[PointsEntry]:
    """The entries of `ids` that `viewer` may see (`rules.entry_access`), in no order."""
    access = rules.entry_access(viewer)
    if access.nothing:
        return []
    query = PointsEntry.filter(id__in=list(ids))
    if access.member is not None:
        query = query.filter(member__external_id=access.member)
    return list(await query)


async def refundable(*, order_number: str) -> int:
    """The points of an order's REDEEM not yet given back (0 without one)."""
    rows = await PointsEntry.filter(
        order_number=order_number, kind__in=[EntryKind.REDEEM, EntryKind.REFUND]
    ).only("id", "delta")
    return max(-sum(int(row.delta) for row in rows), 0)
