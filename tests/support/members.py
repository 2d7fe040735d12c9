"""Members with points, credited through the points service as billing does."""

from __future__ import annotations

from datetime import UTC, datetime

from models.points import service as points


async def member_with_points(external_id: str, amount: int, *, ref: str | None = None) -> None:
    await points.award(
        member_external_id=external_id,
        amount=amount,
        reason="monthly bill",
        external_ref=ref or f"test:{external_id}:{amount}",
        now=datetime.now(UTC),
    )
