"""Catalog reads: the public catalog page, categories, and batch lookups for loaders."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from tortoise.expressions import Q
from tortoise.filters import escape_like
from tortoise.functions import Count

from models import sql, validation
from models.actors import Actor, Role
from models.catalog import rules
from models.catalog.models import Category, Gift, GiftKind, Warehouse
from models.catalog.service import SORT_KEYS, GiftFilter, GiftSort
from models.errors import InvalidInput
from models.paging import Page, SortKey, check_page_size, decode_cursor, encode_cursor
from models.points.reads import available_points
from models.topups.ports import TopUpProduct
from models.vouchers.reads import CODES_LEFT

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


@dataclass(frozen=True)
class ListedGift:
    """A gift as the catalog lists it, with its category's slug and name."""

    id: int
    sku: str
    name: str
    description: str
    image_url: str
    points_price: int
    cash_price: Decimal | None
    currency: str
    limit_per_member: int | None
    active: bool
    category_id: int
    category_slug: str
    category_name: str
    kind: GiftKind = GiftKind.PHYSICAL
    partner: str = ""
    instructions: str = ""
    top_up_product: TopUpProduct = TopUpProduct.CREDIT
    face_value: int = 0


async def gifts_page(
    *,
    filter: GiftFilter,
    sort: GiftSort,
    first: int,
    after: str | None,
    affordable_for: str | None = None,
    now: datetime,
) -> Page[ListedGift]:
    """One page of active gifts matching `filter`, and with `affordable_for` (a member's
    externalId) only those the member can pay from available points; raises InvalidInput
    for bad filters. `now`: an e-voucher's codes expired by then are not its stock.

    The catalog's hottest read, written by hand and read as rows: building the ORM's query
    and its model objects cost more than the database spent on it. The ORM's own count and
    page, in one statement on both databases."""
    if affordable_for is not None:
        available = await available_points(external_id=affordable_for)
        ceiling = rules.affordable_ceiling(filter.max_points, available=available)
        filter = replace(filter, max_points=ceiling)
    keys = SORT_KEYS[sort]
    where = _where(filter, now)
    check_page_size(first)
    values = decode_cursor(after, keys) if after is not None and first > 0 else None
    p = sql.Params()
    if first == 0:
        total = await sql.fetch_one(_count_text(where(p)), *p.values)
        total_count = int(total["n"]) if total else 0
        return Page([], [], total_count > 0 and after is None, total_count)
    rows = await sql.fetch(_page_text(where, keys, values, first + 1, p), *p.values)
    total_count = int(rows[0]["n"]) if rows else 0
    found = [_listed(row) for row in rows if row["id"] is not None]
    items = found[:first]
    cursors = [encode_cursor([getattr(g, k.field) for k in keys]) for g in items]
    return Page(items, cursors, len(found) > first, total_count)


LISTED_COLUMNS = """g.id, g.sku, g.name, g.description, g.image_url, g.points_price,
       g.cash_price, g.currency, g.limit_per_member, g.active, g.category_id,
       g.kind, g.partner, g.instructions, g.top_up_product, g.face_value,
       c.slug AS category_slug, c.name AS category_name"""
FROM_GIFTS = "FROM gift g LEFT OUTER JOIN category c ON c.id = g.category_id"


def _count_text(conditions: list[str]) -> str:
    return f"SELECT COUNT(*) AS n {FROM_GIFTS} WHERE {' AND '.join(conditions)}"


def _page_text(
    where: Callable[[sql.Params], list[str]],
    keys: Sequence[SortKey],
    after: Sequence[Any] | None,
    limit: int,
    p: sql.Params,
) -> str:
    """The count and the page in one statement: the count's one row, joined to the page's
    rows (to a row of nulls when the page is empty)."""
    count = _count_text(where(p))
    conditions = where(p)
    if after is not None:
        conditions.append(_after(keys, after, p))
    order = ", ".join(f"g.{k.field} {'DESC' if k.descending else 'ASC'}" for k in keys)
    again = ", ".join(f"page.{k.field} {'DESC' if k.descending else 'ASC'}" for k in keys)
    return (
        f"SELECT total.n, page.* FROM ({count}) total LEFT OUTER JOIN ("  # noqa: S608 (placeholders)
        f"SELECT {LISTED_COLUMNS} {FROM_GIFTS} WHERE {' AND '.join(conditions)}"
        f" ORDER BY {order} LIMIT {p(limit)}) page ON 1 = 1 ORDER BY {again}"
    )


def _where(filter: GiftFilter, now: datetime) -> Callable[[sql.Params], list[str]]:
    """The filter's conditions: checked now, placed in each statement's own parameters."""
    if filter.category_slug is not None and not validation.fits(
        Category, "slug", filter.category_slug
    ):
        raise InvalidInput("categorySlug is too long", field="filter.category_slug")
    term = filter.search.strip() if filter.search else None
    if term is not None and len(term) > MAX_SEARCH_LENGTH:
        raise InvalidInput("search is too long", field="filter.search")

    def conditions(p: sql.Params) -> list[str]:
        found = [f"g.active = {p(True)}"]
        if filter.category_slug is not None:
            found.append(f"c.slug = {p(filter.category_slug)}")
        if term is not None:
            like = f"%{escape_like(term)}%"
            found.append(
                f"(UPPER(CAST(g.name AS VARCHAR)) LIKE UPPER({p(like)}) ESCAPE '\\'"
                f" OR UPPER(CAST(g.description AS VARCHAR)) LIKE UPPER({p(like)}) ESCAPE '\\')"
            )
        if filter.min_points is not None:
            found.append(f"g.points_price >= {p(filter.min_points)}")
        if filter.max_points is not None:
            found.append(f"g.points_price <= {p(filter.max_points)}")
        if filter.kind is not None:
            found.append(f"g.kind = {p(filter.kind.value)}")
        if filter.in_stock is not None:
            stocked = "SELECT gift_id FROM stock WHERE on_hand > reserved"
            codes = CODES_LEFT.format(now=p(now))
            has = f"(g.id IN ({stocked}) OR {codes} > 0)"
            found.append(has if filter.in_stock else f"NOT {has}")
        return found

    return conditions


def _after(keys: Sequence[SortKey], values: Sequence[Any], p: sql.Params) -> str:
    """Rows strictly after `values` in the order `keys` describes."""
    clauses = []
    for depth, key in enumerate(keys):
        equal = [f"g.{k.field} = {p(v)}" for k, v in zip(keys[:depth], values, strict=False)]
        op = "<" if key.descending else ">"
        last = f"g.{key.field} {op} {p(values[depth])}"
        clauses.append("(" + " AND ".join([*equal, last]) + ")")
    return "(" + " OR ".join(clauses) + ")"


_FIELDS = Gift._meta.fields_map


def _listed(row: Mapping[str, Any]) -> ListedGift:
    """A row as the ORM converts its columns (SQLite hands back text and integers)."""
    cash = row["cash_price"]
    return ListedGift(
        id=int(row["id"]),
        sku=row["sku"],
        name=row["name"],
        description=row["description"],
        image_url=row["image_url"],
        points_price=int(row["points_price"]),
        cash_price=None if cash is None else _FIELDS["cash_price"].to_python_value(cash),
        currency=row["currency"],
        limit_per_member=row["limit_per_member"],
        active=bool(row["active"]),
        category_id=int(row["category_id"]),
        category_slug=row["category_slug"],
        category_name=row["category_name"],
        kind=GiftKind(row["kind"]),
        partner=row["partner"],
        instructions=row["instructions"],
        top_up_product=TopUpProduct(row["top_up_product"]),
        face_value=int(row["face_value"]),
    )


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


async def kinds_by_gift_ids(ids: Sequence[int]) -> list[GiftKind]:
    """Each gift's kind (for order lines, whose gift may since have left the mall)."""
    found = dict(await Gift.filter(id__in=list(ids)).values_list("id", "kind"))
    return [GiftKind(found.get(i, GiftKind.PHYSICAL)) for i in ids]
