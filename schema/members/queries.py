"""Member queries: `me` for members, `member(externalId)` for admins and agents."""

from __future__ import annotations

import strawberry

from models.actors import Role
from models.members import service
from models.points.reads import member_with_totals
from schema.caller_dependence import DEPENDS_ON_CALLER
from schema.context import Info
from schema.members.types import MemberType
from schema.permissions import IsAgentOrAdmin, require_role
from schema.points.types import prime_points_summary


@strawberry.type
class MemberQueries:
    @strawberry.field(
        description="The signed-in member; created with zero points on first sight.",
        directives=[DEPENDS_ON_CALLER],
    )
    async def me(self, info: Info) -> MemberType:
        actor = require_role(info, Role.MEMBER)
        found = await member_with_totals(actor.subject)
        if found is None:  # no points yet, maybe not even known yet
            return MemberType.from_row(await service.ensure_member(external_id=actor.subject))
        member, totals = found
        prime_points_summary(info, member.id, totals)
        return MemberType.from_row(member)

    @strawberry.field(
        permission_classes=[IsAgentOrAdmin],
        description="A member by customer number (admins, and agents for their tickets).",
        directives=[DEPENDS_ON_CALLER],
    )
    async def member(self, external_id: str) -> MemberType | None:
        row = await service.find_member(external_id=external_id)
        return MemberType.from_row(row) if row else None
