"""Points types: a member's summary, the points about to expire, ledger entries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import relay

from models.points import reads
from models.points.models import EntryKind, PointsEntry
from schema.context import Info
from schema.node import row_ids

EXPIRING_WINDOW_DAYS = 90


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
    async def expiring(
        self,
        info: Info,
        within_days: Annotated[
            int | None, strawberry.argument(description="Null means the default, 90.")
        ] = EXPIRING_WINDOW_DAYS,
    ) -> list[ExpiringPoints]:
        rows = await reads.expiring_points(
            member_id=self.member_id,
            now=info.context.now(),
            within_days=EXPIRING_WINDOW_DAYS if within_days is None else within_days,
        )
        return [ExpiringPoints(amount=r.amount, expires_at=r.expires_at) for r in rows]


async def _totals(member_ids: Sequence[int]) -> list[reads.Totals]:
    return await reads.totals_by_member(member_ids)


async def load_points_summary(info: Info, member_id: int) -> PointsSummary:
    totals = await info.context.loaders.of(_totals).load(member_id)
    return summary(member_id, totals)


def prime_points_summary(info: Info, member_id: int, totals: reads.Totals) -> None:
    """Tell the request's loader totals it already has (read together with the member)."""
    info.context.loaders.of(_totals).prime(member_id, totals)


def summary(member_id: int, totals: reads.Totals) -> PointsSummary:
    return PointsSummary(
        member_id=member_id,
        balance=totals.balance,
        held=totals.held,
        available=totals.available,
    )


async def current_summary(member_id: int) -> PointsSummary:
    """The totals as they are now: after a write, the request's loader may hold older ones."""
    (totals,) = await reads.totals_by_member([member_id])
    return summary(member_id, totals)


EntryKindEnum = strawberry.enum(EntryKind, name="PointsEntryKind")


@strawberry.type(name="PointsEntry", description="One change of a member's points.")
class PointsEntryType(relay.Node):
    id: relay.NodeID[int]
    delta: int
    kind: EntryKindEnum  # type: ignore[valid-type]
    reason: str
    order_number: str | None
    created_at: datetime
    expires_at: datetime | None = strawberry.field(
        description="For credits: when the points of this entry expire."
    )

    @classmethod
    def from_row(cls, row: PointsEntry) -> PointsEntryType:
        return cls(
            id=row.id,
            delta=row.delta,
            kind=row.kind,
            reason=row.reason,
            order_number=row.order_number,
            created_at=row.created_at,
            expires_at=row.expires_at,
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        ids = row_ids(node_ids)
        wanted = [i for i in ids if i is not None]
        rows = await reads.entries_by_ids(wanted, viewer=info.context.actor)
        by_id = {row.id: row for row in rows}
        return [cls.from_row(row) if (row := by_id.get(i or 0)) else None for i in ids]
