"""Points queries: a member's points history (reached through `Member.pointsHistory`)."""

from __future__ import annotations

from models.points import service
from schema.pagination import Connection, connection
from schema.points.types import PointsEntryType


async def member_points_history(
    member_id: int, first: int, after: str | None
) -> Connection[PointsEntryType]:
    """One page of the member's entries, newest first; INVALID_INPUT past 100."""
    page = await service.history(member_id=member_id, first=first, after=after)
    return connection(page, PointsEntryType.from_row, after=after)
