"""Public catalog queries: categories, the gift list, one gift."""

from __future__ import annotations

import strawberry

from models.actors import Role
from models.catalog import reads
from models.catalog.service import GiftFilter, GiftSort
from schema.caller_dependence import DEPENDS_ON_ADMIN, DEPENDS_ON_CALLER
from schema.catalog.types import CategoryType, GiftKindEnum, GiftType
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
    kind: GiftKindEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Only gifts of this kind."
    )
    affordable: bool | None = strawberry.field(
        default=None,
        description="Only what the signed-in member can pay from available points.",
        directives=[DEPENDS_ON_CALLER],
    )

    def to_domain(self) -> GiftFilter:
        return GiftFilter(
            category_slug=self.category_slug,
            search=self.search,
            min_points=self.min_points,
            max_points=self.max_points,
            in_stock=self.in_stock,
            kind=self.kind,
        )


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
        member = require_role(info, Role.MEMBER).subject if wanted.affordable else None
        page = await reads.gifts_page(
            filter=wanted.to_domain(),
            sort=sort_by or GiftSort.NEWEST,  # a client's `sortBy: null` means the default
            first=first,
            after=after,
            affordable_for=member,
            now=info.context.now(),
        )
        return connection(page, GiftType.from_listed, after=after)

    @strawberry.field(
        description="One gift by SKU; inactive gifts only for admins.",
        directives=[DEPENDS_ON_ADMIN],
    )
    async def gift(self, info: Info, sku: str) -> GiftType | None:
        row = await reads.gift_by_sku(sku=sku, viewer=info.context.actor)
        return GiftType.from_row(row) if row else None
