"""Public catalog queries: categories, the gift list, one gift."""

from __future__ import annotations

import strawberry

from models.actors import Role
from models.catalog import reads
from models.catalog.service import GiftFilter, GiftSort
from models.points.reads import available_points
from schema.catalog.types import CategoryType, GiftType
from schema.context import Info
from schema.pagination import Connection, connection
from schema.permissions import require_role

GiftSortEnum = strawberry.enum(GiftSort, name="GiftSort")


@strawberry.input(name="GiftFilter")
class GiftFilterInput:
    category_slug: str | None = None
    search: str | None = None
    min_points: int | None = None
    max_points: int | None = None
    in_stock: bool | None = None
    affordable: bool | None = strawberry.field(
        default=None, description="Only what the signed-in member can pay from available points."
    )


async def _affordable_limit(info: Info) -> int:
    return await available_points(external_id=require_role(info, Role.MEMBER).subject)


@strawberry.type
class CatalogQueries:
    @strawberry.field(description="Categories in display order, with their active gift counts.")
    async def categories(self) -> list[CategoryType]:
        return [CategoryType.from_row(c.category, c.gift_count) for c in await reads.categories()]

    @strawberry.field(description="Active gifts; `first` is at most 100.")
    async def gifts(
        self,
        info: Info,
        first: int,
        after: str | None = None,
        filter: GiftFilterInput | None = None,
        sort_by: GiftSortEnum | None = GiftSort.NEWEST,  # type: ignore[valid-type]
    ) -> Connection[GiftType]:
        wanted = filter or GiftFilterInput()
        max_points = wanted.max_points
        if wanted.affordable:
            limit = await _affordable_limit(info)
            max_points = limit if max_points is None else min(max_points, limit)
        domain_filter = GiftFilter(
            category_slug=wanted.category_slug,
            search=wanted.search,
            min_points=wanted.min_points,
            max_points=max_points,
            in_stock=wanted.in_stock,
        )
        sort = sort_by or GiftSort.NEWEST  # a client's `sortBy: null` means the default
        page = await reads.gifts_page(filter=domain_filter, sort=sort, first=first, after=after)
        return connection(page, GiftType.from_row, after=after)

    @strawberry.field(description="One gift by SKU; inactive gifts only for admins.")
    async def gift(self, info: Info, sku: str) -> GiftType | None:
        actor = info.context.actor
        row = await reads.gift_by_sku(sku=sku, include_inactive=bool(actor and actor.is_admin))
        return GiftType.from_row(row) if row else None
