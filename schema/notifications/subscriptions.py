"""The live inbox over graphql-transport-ws: each new message of the signed-in member.

The websocket's context lives as long as the connection, so each message gets fresh
DataLoaders: its text and order are read after the change that wrote it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing

import strawberry

from models.actors import Role
from models.members import service as members
from models.notifications import live
from schema.caller_dependence import DEPENDS_ON_CALLER
from schema.context import Info, Loaders
from schema.notifications.types import NotificationType
from schema.permissions import require_role


@strawberry.type
class NotificationSubscriptions:
    @strawberry.subscription(
        description="Each new message of the signed-in member's inbox, as it arrives.",
        directives=[DEPENDS_ON_CALLER],
    )
    async def notification_received(self, info: Info) -> AsyncGenerator[NotificationType, None]:
        actor = require_role(info, Role.MEMBER)
        member = await members.ensure_member(external_id=actor.subject)
        async with aclosing(live.new_messages(member_id=member.id)) as messages:
            async for row in messages:
                info.context.loaders = Loaders()
                yield NotificationType.from_row(row)
