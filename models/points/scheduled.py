"""The points' periodic work: expire the due lots (`models.points.expiry`), pass after pass.

`expire_due` settles the lots of a batch of members at a time and may leave some to other
workers; `expire_points` calls it until nothing due is left that this worker can take.
"""

from __future__ import annotations

from datetime import datetime

from models.jobs import Job
from models.points.expiry import expire_due


def jobs(*, batch: int) -> list[Job]:
    """The points' jobs: expiry, up to `batch` due lots a transaction."""

    async def expiry(*, now: datetime) -> dict[str, int]:
        return {"expired_lots": await expire_points(now=now, batch=batch)}

    return [Job("points expiry", {"expired_lots": "expired lots"}, expiry)]


async def expire_points(*, now: datetime, batch: int = 1000) -> int:
    """Expire every due points lot; returns the lots settled."""
    settled = 0
    while (count := await expire_due(now=now, limit=batch)) > 0:
        settled += count
    return settled
