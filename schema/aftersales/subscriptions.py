"""Live after-sales over graphql-transport-ws: a ticket as it changes, the agents' alerts."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing

import strawberry

from models.actors import Role
from models.aftersales import live
from schema.aftersales.types import ServiceAlertType, TicketType
from schema.caller_dependence import DEPENDS_ON_CALLER
from schema.context import Info, Loaders
from schema.permissions import require_role


@strawberry.type
class AftersalesSubscriptions:
    @strawberry.subscription(
        description="The ticket, each time it changes (its member, agents and admins).",
        directives=[DEPENDS_ON_CALLER],
    )
    async def ticket_updated(self, info: Info, number: str) -> AsyncGenerator[TicketType, None]:
        actor = require_role(info, Role.MEMBER, Role.AGENT, Role.ADMIN)
        async with aclosing(live.ticket_changes(number=number, actor=actor)) as changes:
            async for row in changes:
                info.context.loaders = Loaders()
                yield TicketType.from_row(row)

    @strawberry.subscription(
        description="Every ticket's at-risk and breach alerts, and low ratings (agents, admins).",
        directives=[DEPENDS_ON_CALLER],
    )
    async def service_alerts(self, info: Info) -> AsyncGenerator[ServiceAlertType, None]:
        require_role(info, Role.AGENT, Role.ADMIN)
        async with aclosing(live.service_alerts()) as alerts:
            async for raised in alerts:
                info.context.loaders = Loaders()
                yield ServiceAlertType.from_raised(raised)
