"""The Member type, built from a member row."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import strawberry
from strawberry import relay

from models.members import rules, service
from models.members.models import Member, Tier
from schema.context import Info
from schema.node import row_ids
from schema.notifications.queries import member_inbox, member_unread
from schema.notifications.types import NotificationType
from schema.orders.queries import member_orders
from schema.orders.types import OrderStatusEnum, OrderType
from schema.pagination import Connection
from schema.points.queries import member_points_history
from schema.points.types import PointsEntryType, PointsSummary, load_points_summary

TierEnum = strawberry.enum(Tier, name="Tier")


@strawberry.type(name="Member")
class MemberType(relay.Node):
    id: relay.NodeID[int]
    external_id: str
    display_name: str
    tier: TierEnum  # type: ignore[valid-type]
    # Only the member themself and admins ever reach a Member (`me`, `member`, `node`).
    mobile: str | None = strawberry.field(
        description="The member's mobile in E.164 (+8613800138000); null: none."
    )
    language: str = strawberry.field(description="The language of their messages: zh-CN or en.")
    opt_outs: list[str] = strawberry.field(
        description=(
            "The kinds of message turned off (NotificationKind names), or ALL for every kind"
            " that can be."
        )
    )

    @classmethod
    def from_row(cls, row: Member) -> MemberType:
        return cls(
            id=row.id,
            external_id=row.external_id,
            display_name=row.display_name,
            tier=row.tier,
            mobile=row.mobile or None,
            language=row.language,
            opt_outs=rules.opt_out_list(row.opt_outs),
        )

    @strawberry.field(description="The member's points: balance, held, available, expiring.")
    async def points(self, info: Info) -> PointsSummary:
        return await load_points_summary(info, self.id)

    @strawberry.field(description="The member's points ledger, newest first; `first` <= 100.")
    async def points_history(
        self, first: int, after: str | None = None
    ) -> Connection[PointsEntryType]:
        return await member_points_history(self.id, first, after)

    @strawberry.field(description="The member's orders, newest first; `first` is at most 100.")
    async def orders(
        self,
        info: Info,
        first: int,
        after: str | None = None,
        status: list[OrderStatusEnum] | None = None,  # type: ignore[valid-type]
    ) -> Connection[OrderType]:
        return await member_orders(info, self.id, first, after, status)

    @strawberry.field(description="The member's messages, newest first; `first` is at most 100.")
    async def notifications(
        self, first: int, after: str | None = None
    ) -> Connection[NotificationType]:
        return await member_inbox(self.id, self.language, first, after)

    @strawberry.field(description="How many of the member's messages are unread.")
    async def unread_notifications(self) -> int:
        return await member_unread(self.id)

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        actor = info.context.actor
        ids = row_ids(node_ids)
        rows = await service.members_by_ids([i for i in ids if i is not None])
        by_id = {row.id: row for row in rows if row is not None}
        return [
            cls.from_row(row)
            if (row := by_id.get(i or 0)) is not None and service.may_see(actor, row)
            else None
            for i in ids
        ]
