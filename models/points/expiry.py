"""The expiry pass: due lots lose their unheld points, one EXPIRE entry per member and pass.

Safe with several workers on PostgreSQL: a pass picks candidate members from the due lots
(the `(settled, expires_at)` index, so the cost follows the due lots, not all lots), locks
their accounts with `SKIP LOCKED` so it never waits for nor repeats another worker's
members, and re-reads the due lots under those locks. `settled` marks a lot as handled.

`expire_due` returns the number of lots it settled; 0 means nothing was due, or every due
member was being handled by another worker at that moment. Callers loop until 0.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models.points import rules
from models.points.models import EntryKind, PointsAccount, PointsEntry, PointsLot

EXPIRY_REASON = "points expired"


async def _candidates(now: datetime, limit: int) -> list[int]:
    rows = (
        await PointsLot.filter(settled=False, expires_at__lte=now)
        .order_by("expires_at")
        .limit(limit)
        .values_list("member_id")
    )
    return sorted({int(row[0]) for row in rows})


async def expire_due(*, now: datetime, limit: int = 1000) -> int:
    """Expire the due lots of the members of up to `limit` due lots; returns the lots settled."""
    member_ids = await _candidates(now, limit)
    if not member_ids:
        return 0
    async with in_transaction():
        accounts = (
            await PointsAccount.select_for_update(skip_locked=True)
            .filter(member_id__in=member_ids)
            .order_by("member_id")
        )
        if not accounts:
            return 0  # every candidate is another worker's
        rows = await PointsLot.filter(
            member_id__in=[a.member_id for a in accounts], settled=False, expires_at__lte=now
        ).values_list("id", "member_id", "remaining", "held", "expires_at", "settled")
        expired: dict[int, int] = defaultdict(int)
        for lot_id, member_id, remaining, held, expires_at, settled in rows:
            lot = rules.LotState(lot_id, remaining, held, expires_at, settled)
            expired[member_id] += rules.expirable(lot, now=now)
        await PointsEntry.bulk_create(
            [
                PointsEntry(
                    member_id=member_id,
                    kind=EntryKind.EXPIRE,
                    delta=-amount,
                    reason=EXPIRY_REASON,
                    created_at=now,
                )
                for member_id, amount in sorted(expired.items())
                if amount > 0
            ]
        )
        # Held points stay in the lot: they never expire under an open hold.
        await PointsLot.filter(id__in=[row[0] for row in rows]).update(
            remaining=F("held"), settled=True
        )
        for member_id, amount in expired.items():
            if amount > 0:
                await PointsAccount.filter(member_id=member_id).update(
                    balance=F("balance") - amount
                )
        return len(rows)
