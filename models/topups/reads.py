"""What is read of top-ups: a line's, for its owner, and whether an order's are under way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from models import sql
from models.topups.models import TopUpStatus
from models.topups.ports import TopUpProduct

SENT = f"""SELECT 1 FROM top_up WHERE order_id = $1
AND status IN ('{TopUpStatus.PENDING.value}', '{TopUpStatus.DELIVERED.value}') LIMIT 1"""  # noqa: S608 (constants)


async def under_way(order_id: int) -> bool:
    """Whether a top-up of the order is sent or landed (the order can no longer be undone)."""
    return await sql.fetch_one(SENT, order_id) is not None


@dataclass(frozen=True)
class TopUpOfLine:
    line_id: int
    status: TopUpStatus
    msisdn: str
    product: TopUpProduct
    face_value: int
    deliver_by: datetime
    delivered_at: datetime | None
    reason: str


BY_LINES = """SELECT order_line_id, status, msisdn, product, face_value, deliver_by,
       finished_at, reason
FROM top_up WHERE order_line_id IN ({ids})"""


async def by_lines(line_ids: Sequence[int]) -> dict[int, TopUpOfLine]:
    """The top-ups of those of `line_ids` that are top-up lines, by line id."""
    if not line_ids:
        return {}
    rows = await sql.fetch(BY_LINES.format(ids=sql.listed(len(line_ids))), *line_ids)
    found = {}
    for row in rows:
        status = TopUpStatus(row["status"])
        finished = row["finished_at"]
        found[int(row["order_line_id"])] = TopUpOfLine(
            line_id=int(row["order_line_id"]),
            status=status,
            msisdn=str(row["msisdn"]),
            product=TopUpProduct(row["product"]),
            face_value=int(row["face_value"]),
            deliver_by=sql.moment(row["deliver_by"]),
            delivered_at=(
                sql.moment(finished)
                if finished is not None and status is TopUpStatus.DELIVERED
                else None
            ),
            reason=str(row["reason"]),
        )
    return found
