"""After-sales queries: a ticket, a member's tickets, the agents' queue, the service report."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from models.actors import Role
from models.aftersales import reads, report
from schema.aftersales.types import (
    ServiceReportType,
    TicketCategoryEnum,
    TicketStateEnum,
    TicketType,
)
from schema.caller_dependence import DEPENDS_ON_CALLER
from schema.context import Info
from schema.pagination import Connection, connection
from schema.permissions import IsAgentOrAdmin, IsMember, require_actor, require_role


@strawberry.input(description="Which tickets the queue shows; each null or absent: any.")
class TicketQueueFilter:
    category: list[TicketCategoryEnum] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Null: every category."
    )
    state: list[TicketStateEnum] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Null: NEW, OPEN and WAITING_ON_MEMBER."
    )
    at_risk: bool | None = strawberry.field(
        default=None, description="True: the earliest deadline is under the at-risk threshold."
    )
    breached: bool | None = strawberry.field(
        default=None, description="True: the earliest deadline has passed."
    )
    assignee: str | None = strawberry.field(
        default=None, description='An agent\'s subject; "" for unassigned tickets.'
    )
    attention: bool | None = strawberry.field(
        default=None, description="True: tickets a supervisor should look at (low ratings)."
    )

    def to_domain(self) -> reads.QueueFilter:
        return reads.QueueFilter(
            categories=self.category or None,
            states=self.state or None,
            at_risk=self.at_risk,
            breached=self.breached,
            assignee=self.assignee,
            attention=self.attention,
        )


@strawberry.type
class AftersalesQueries:
    @strawberry.field(
        description="A ticket by number: members their own, agents and admins any; null if absent.",
        directives=[DEPENDS_ON_CALLER],
    )
    async def ticket(self, info: Info, number: str) -> TicketType | None:
        actor = require_role(info, Role.MEMBER, Role.AGENT, Role.ADMIN)
        row = await reads.visible_ticket(number=number, actor=actor)
        return TicketType.from_row(row) if row else None

    @strawberry.field(
        permission_classes=[IsMember],
        description="The signed-in member's tickets, newest first; `first` is at most 100.",
        directives=[DEPENDS_ON_CALLER],
    )
    async def my_tickets(
        self, info: Info, first: int, after: str | None = None
    ) -> Connection[TicketType]:
        actor = require_actor(info)
        page = await reads.member_tickets(external_id=actor.subject, first=first, after=after)
        return connection(page, TicketType.from_row, after=after)

    @strawberry.field(
        permission_classes=[IsAgentOrAdmin],
        description="Open tickets, earliest running deadline first (waiting ones last).",
        directives=[DEPENDS_ON_CALLER],
    )
    async def ticket_queue(
        self,
        info: Info,
        first: int,
        after: str | None = None,
        filter: TicketQueueFilter | None = None,
    ) -> Connection[TicketType]:
        page = await reads.queue(
            where=filter.to_domain() if filter else reads.QueueFilter(),
            first=first,
            after=after,
            now=info.context.now(),
            threshold=info.context.services.ticket_policy.at_risk,
        )
        return connection(page, TicketType.from_row, after=after)

    @strawberry.field(
        permission_classes=[IsAgentOrAdmin],
        description="The promise kept, for tickets opened in [from, to).",
        directives=[DEPENDS_ON_CALLER],
    )
    async def service_report(
        self,
        info: Info,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        category: TicketCategoryEnum | None = None,  # type: ignore[valid-type]
    ) -> ServiceReportType:
        found = await report.service_report(
            start=from_,
            end=to,
            category=category,
            now=info.context.now(),
            policy=info.context.services.ticket_policy,
        )
        return ServiceReportType.from_report(found)
