"""Order queries: one order by number for whoever may see it."""

from __future__ import annotations

import strawberry

from models.orders import reads
from models.orders.models import OrderStatus
from schema.caller_dependence import DEPENDS_ON_CALLER
from schema.context import Info
from schema.orders.types import OrderType
from schema.pagination import Connection, connection
from schema.permissions import require_actor


@strawberry.type
class OrderQueries:
    @strawberry.field(
        description="An order by number; null if absent or not yours to see.",
        directives=[DEPENDS_ON_CALLER],
    )
    async def order(self, info: Info, number: str) -> OrderType | None:
        actor = require_actor(info)
        row = await reads.visible_order(number=number, actor=actor)
        return OrderType.from_row(row) if row else None


async def member_orders(
    info: Info, member_id: int, first: int, after: str | None, status: list[OrderStatus] | None
) -> Connection[OrderType]:
    """A member's orders as a connection (the `Member.orders` field)."""
    page = await reads.member_orders(member_id=member_id, statuses=status, first=first, after=after)
    return connection(page, OrderType.from_row, after=after)
