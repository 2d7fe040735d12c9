"""Catalog reads: the public catalog page, categories, and batch lookups for loaders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from tortoise.expressions import F, Q, Subquery
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from models import validation
from models.actors import Actor, Role
from models.catalog import rules
from models.catalog.models import Category, Gift, Stock, Warehouse
from models.catalog.service import SORT_KEYS, GiftFilter, GiftSort
from models.errors import InvalidInput
from models.paging import Page, paginate
from models.points.reads import available_points

MAX_SEARCH_LENGTH = 100


@dataclass(frozen=True)
class CategoryCount:
    category: Category
    gift_count: int


async def categories() -> list[CategoryCount]:
    """Categories in display order with their number of active gifts (one query)."""
    rows = await Category.annotate(
        gift_count=Count("gifts", _filter=Q(gifts__active=True))
    ).order_by("position", "id")
    return [CategoryCount(row, int(row.gift_count)) for row in rows]  # type: ignore[attr-defined]


async def gifts_page(
    *,
    filter: GiftFilter,
    sort: GiftSort,
    first: int,
    after: str | None,
    affordable_for: str | None = None,
) -> Page[Gift]:
    """One page of active gifts matching `filter`, and with `affordable_for` (a member's
    externalId) only those the member can pay from available points; raises InvalidInput
    for bad filters."""
    if affordable_for is not None:
        available = await available_points(external_id=affordable_for)
        ceiling = rules.affordable_ceiling(filter.max_points, available=available)
        filter = replace(filter, max_points=ceiling)
    keys = SORT_KEYS[sort]
    return await paginate(
        _filtered(filter).select_related("category"),
        keys=keys,
        first=first,
        after=after,
        key_of=lambda gift: [getattr(gift, key.field) for key in keys],
    )


def _filtered(filter: GiftFilter) -> QuerySet[Gift]:
    query = Gift.filter(active=True)
    if filter.category_slug is not None:
        if not validation.fits(Category, "slug", filter.category_slug):
            raise InvalidInput("categorySlug is too long", field="filter.category_slug")
        query = query.filter(category__slug=filter.category_slug)
    if filter.search:
        term = filter.search.strip()
        if len(term) > MAX_SEARCH_LENGTH:
            raise InvalidInput("search is too long", field="filter.search")
        query = query.filter(Q(name__icontains=term) | Q(description__icontains=term))
    if filter.min_points is not None:
        query = query.filter(points_price__gte=filter.min_points)
    if filter.max_points is not None:
        query = query.filter(points_price__lte=filter.max_points)
    if filter.in_stock is not None:
        stocked = Subquery(Stock.filter(on_hand__gt=F("reserved")).values("gift_id"))
        query = query.filter(id__in=stocked) if filter.in_stock else query.exclude(id__in=stocked)
    return query


async def gift_by_sku(*, sku: str, viewer: Actor | None) -> Gift | None:
    """The gift with that SKU, if `viewer` may see it (`rules.may_see_gift`)."""
    if not validation.fits(Gift, "sku", sku):
        return None
    gift = await Gift.get_or_none(sku=sku)
    return gift if gift is not None and rules.may_see_gift(viewer, active=gift.active) else None


async def gifts_by_ids(ids: Sequence[int], *, viewer: Actor | None) -> list[Gift | None]:
    """Gifts in the order of `ids` (for loaders); None where absent or not `viewer`'s to see."""
    found = {
        g.id: g
        for g in await Gift.filter(id__in=list(ids))
        if rules.may_see_gift(viewer, active=g.active)
    }
    return [found.get(i) for i in ids]


async def categories_by_ids(ids: Sequence[int]) -> list[Category | None]:
    found = {c.id: c for c in await Category.filter(id__in=list(ids))}
    return [found.get(i) for i in ids]


async def warehouses_of(*, actor: Actor) -> list[Warehouse]:
    """The warehouses the actor works in, by code (every one for an admin, none for others);
    a code in a staff token that names no warehouse is left out."""
    if actor.role is Role.ADMIN:
        return list(await Warehouse.all().order_by("code"))
    if actor.role is not Role.WAREHOUSE or not actor.warehouses:
        return []
    return list(await Warehouse.filter(code__in=sorted(actor.warehouses)).order_by("code"))
