"""Member queries: `me` for members, `member(externalId)` for admins."""

from __future__ import annotations

import strawberry

from models.actors import Role
from models.members import service
from schema.context import Info
from schema.members.types import MemberType
from schema.permissions import IsAdmin, require_role


@strawberry.type
class MemberQueries:
    @strawberry.field(description="The signed-in member; created with zero points on first sight.")
    async def me(self, info: Info) -> MemberType:
        actor = require_role(info, Role.MEMBER)
        return MemberType.from_row(await service.ensure_member(external_id=actor.subject))

    @strawberry.field(permission_classes=[IsAdmin], description="A member by customer number.")
    async def member(self, external_id: str) -> MemberType | None:
        row = await service.find_member(external_id=external_id)
        return MemberType.from_row(row) if row else None
