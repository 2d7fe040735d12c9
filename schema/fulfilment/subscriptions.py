"""Live updates over graphql-transport-ws: a member's order, a warehouse's orders and alerts.

The websocket's context lives as long as the connection, so each notice gets fresh
DataLoaders: what the client receives is read from the database after the change.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing

import strawberry

from fulfilment import live
from models.actors import Role
from schema.caller_dependence import DEPENDS_ON_CALLER
from schema.context import Info, Loaders
from schema.fulfilment.types import FulfilmentAlertType
from schema.orders.types import OrderType
from schema.permissions import require_role, require_warehouse


@strawberry.type
class FulfilmentSubscriptions:
    @strawberry.subscription(
        description="The order, each time it changes (its member only).",
        directives=[DEPENDS_ON_CALLER],
    )
    async def order_updated(self, info: Info, number: str) -> AsyncGenerator[OrderType, None]:
        actor = require_role(info, Role.MEMBER, Role.ADMIN)
        async with aclosing(live.order_changes(number=number, actor=actor)) as changes:
            async for row in changes:
                info.context.loaders = Loaders()
                yield OrderType.from_row(row)

    @strawberry.subscription(
        description="Each order of the warehouse when it is placed or moves (its queue, live).",
        directives=[DEPENDS_ON_CALLER],
    )
    async def fulfilment_queue_changed(
        self, info: Info, warehouse_code: str
    ) -> AsyncGenerator[OrderType, None]:
        require_warehouse(info, warehouse_code)
        changes = live.warehouse_order_changes(
            warehouse_code=warehouse_code, now=info.context.now()
        )
        async with aclosing(changes) as orders:
            async for row in orders:
                info.context.loaders = Loaders()
                yield OrderType.from_row(row)

    @strawberry.subscription(
        description="At-risk and breach alerts of a warehouse's orders.",
        directives=[DEPENDS_ON_CALLER],
    )
    async def fulfilment_alerts(
        self, info: Info, warehouse_code: str
    ) -> AsyncGenerator[FulfilmentAlertType, None]:
        require_warehouse(info, warehouse_code)
        async with aclosing(live.warehouse_alerts(warehouse_code=warehouse_code)) as alerts:
            async for raised in alerts:
                info.context.loaders = Loaders()
                yield FulfilmentAlertType.from_raised(raised)
