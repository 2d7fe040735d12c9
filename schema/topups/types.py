"""A top-up gift's credit, and a top-up line's delivery as the order shows it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import strawberry

from models.topups import reads
from models.topups.models import TopUpStatus
from models.topups.ports import TopUpProduct
from models.topups.rules import masked
from schema.context import Info

TopUpProductEnum = strawberry.enum(
    TopUpProduct,
    name="TopUpProduct",
    description="CREDIT: phone credit, its face value in fen; DATA: a data pack, in MB.",
)
TopUpStatusEnum = strawberry.enum(
    TopUpStatus,
    name="TopUpStatus",
    description="PENDING: on its way; DELIVERED: it landed; FAILED: refused by the charging "
    "system, points refunded; EXPIRED: not delivered within its promise, points refunded.",
)


@strawberry.type(name="TopUpOffer", description="What a TOP_UP gift credits.")
class TopUpOfferType:
    product: TopUpProductEnum  # type: ignore[valid-type]
    face_value: int = strawberry.field(description="Fen of phone credit, or MB of data.")


@strawberry.type(name="TopUp", description="A top-up line's credit and how it went.")
class TopUpType:
    status: TopUpStatusEnum  # type: ignore[valid-type]
    product: TopUpProductEnum  # type: ignore[valid-type]
    face_value: int
    number: str = strawberry.field(description="The number credited, partly masked.")
    deliver_by: datetime = strawberry.field(description="The promise: delivered by then.")
    delivered_at: datetime | None
    reason: str | None = strawberry.field(
        description="Why it was refunded: the charging system's code (NUMBER_NOT_IN_SERVICE, "
        "ACCOUNT_BARRED, ...) or EXPIRED; null otherwise."
    )

    @classmethod
    def of(cls, found: reads.TopUpOfLine) -> TopUpType:
        return cls(
            status=found.status,
            product=found.product,
            face_value=found.face_value,
            number=masked(found.msisdn),
            deliver_by=found.deliver_by,
            delivered_at=found.delivered_at,
            reason=found.reason or None,
        )


async def top_up_of_line(info: Info, line_id: int) -> TopUpType | None:
    """The top-up of an order line (None for a line of another kind)."""
    found = await info.context.loaders.of(_by_lines).load(line_id)
    return None if found is None else TopUpType.of(found)


async def _by_lines(line_ids: Sequence[int]) -> list[reads.TopUpOfLine | None]:
    found = await reads.by_lines(line_ids)
    return [found.get(line_id) for line_id in line_ids]
