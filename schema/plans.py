"""Compiled plans of the hottest trusted documents: rows in, the answer's `data` out.

The member app sends `Me` on every screen and `Catalog` on every scroll. Executed by
graphql-core, each costs a resolver call, a completion and (for objects) a field
collection per field of the answer, more than the database spends on the rows. A plan
reads the same rows the resolvers read (the domain's own reads, straight from the driver)
and writes the answer's `data` itself, exactly as the executor would (tests/integration/
test_lean_path.py runs every client operation both ways and compares).

A plan covers the requests it can answer without an error and says None otherwise (no
member token, variables the executor would coerce or refuse, a domain refusal): the
executor then answers, errors and all. Each plan is written for one document of the
manifest and named by its id: a client document that changes gets a new id, and the plan
is dropped until rewritten (tests/unit/test_plans.py fails meanwhile).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from strawberry.relay import to_base64

from fulfilment.availability import availability
from models.actors import Role
from models.catalog import reads as catalog
from models.catalog.service import GiftFilter, GiftSort
from models.errors import DomainError
from models.points import reads as points
from schema.context import Context
from schema.points.types import EXPIRING_WINDOW_DAYS
from schema.prepared import Plan

INT32 = (-(2**31), 2**31 - 1)
FILTER_FIELDS = {
    "categorySlug": str,
    "search": str,
    "minPoints": int,
    "maxPoints": int,
    "inStock": bool,
    "affordable": bool,
}


def _typed(value: dict[str, Any], name: str, typed: bool) -> dict[str, Any]:
    """`value` with `__typename` last, as Apollo Client's form of the document asks."""
    if typed:
        value["__typename"] = name
    return value


async def me(
    context: Context, variables: Mapping[str, Any], *, typed: bool = False
) -> dict[str, Any] | None:
    """`query Me`: the member and their points, two statements."""
    actor = context.actor
    if actor is None or actor.role is not Role.MEMBER:
        return None
    found = await points.member_row_with_totals(actor.subject)
    if found is None:
        return None  # first sight: the resolver creates the member
    row, totals = found
    expiring = await points.expiring_points(
        member_id=int(row["id"]), now=context.now(), within_days=EXPIRING_WINDOW_DAYS
    )
    lots = [
        _typed({"amount": e.amount, "expiresAt": e.expires_at.isoformat()}, "ExpiringPoints", typed)
        for e in expiring
    ]
    summary = {
        "balance": totals.balance,
        "held": totals.held,
        "available": totals.available,
        "expiring": lots,
    }
    member = {
        "id": to_base64("Member", row["id"]),
        "externalId": row["external_id"],
        "displayName": row["display_name"],
        "tier": str(row["tier"]),
        "points": _typed(summary, "PointsSummary", typed),
    }
    return {"me": _typed(member, "Member", typed)}


async def catalog_page(
    context: Context, variables: Mapping[str, Any], *, typed: bool = False
) -> dict[str, Any] | None:
    """`query Catalog`: a page of gift cards with their availability, three statements."""
    args = _catalog_arguments(variables)
    if args is None:
        return None
    first, after, wanted, sort, affordable = args
    actor = context.actor
    if affordable and (actor is None or actor.role is not Role.MEMBER):
        return None
    try:
        page = await catalog.gifts_page(
            filter=wanted,
            sort=sort,
            first=first,
            after=after,
            affordable_for=actor.subject if affordable and actor else None,
            now=context.now(),
        )
    except DomainError:
        return None
    ids = [gift.id for gift in page.items]
    services = context.services
    found = await availability(
        ids,
        now=context.now(),
        within=services.ship_within,
        digital_within_minutes=services.digital_delivery_minutes,
    )
    edges = [
        _typed({"cursor": cursor, "node": _gift_card(gift, shown, typed)}, "GiftEdge", typed)
        for cursor, gift, shown in zip(page.cursors, page.items, found, strict=True)
    ]
    info = {"hasNextPage": page.has_next, "endCursor": page.cursors[-1] if page.cursors else None}
    gifts = {
        "totalCount": page.total_count,
        "pageInfo": _typed(info, "PageInfo", typed),
        "edges": edges,
    }
    return {"gifts": _typed(gifts, "GiftConnection", typed)}


def _gift_card(gift: catalog.ListedGift, shown: Any, typed: bool) -> dict[str, Any]:
    """The `GiftCard` fragment."""
    cash = gift.cash_price
    price = None if cash is None else {"amount": str(cash), "currency": gift.currency}
    ship_by = shown.estimated_ship_by
    available = {
        "inStock": shown.in_stock,
        "quantityAvailable": shown.quantity_available,
        "estimatedShipBy": ship_by.isoformat() if ship_by else None,
    }
    card = {
        "id": to_base64("Gift", gift.id),
        "sku": gift.sku,
        "name": gift.name,
        "imageUrl": gift.image_url,
        "pointsPrice": gift.points_price,
        "cashPrice": None if price is None else _typed(price, "Money", typed),
        "category": _typed(
            {"slug": gift.category_slug, "name": gift.category_name}, "Category", typed
        ),
        "availability": _typed(available, "Availability", typed),
    }
    return _typed(card, "Gift", typed)


def _catalog_arguments(
    variables: Mapping[str, Any],
) -> tuple[int, str | None, GiftFilter, GiftSort, bool] | None:
    """The arguments, when every variable is already of its type (else the executor
    coerces, or refuses, it)."""
    if set(variables) - {"first", "after", "filter", "sortBy"}:
        return None
    first, after = variables.get("first"), variables.get("after")
    raw_filter, sort = variables.get("filter"), variables.get("sortBy")
    if not isinstance(first, int) or not _is_int(first):
        return None
    if not (after is None or type(after) is str):
        return None
    if not (sort is None or (type(sort) is str and sort in GiftSort.__members__)):
        return None
    given = _filter_values(raw_filter)
    if given is None:
        return None
    return (
        first,
        after,
        GiftFilter(
            category_slug=given.get("categorySlug"),
            search=given.get("search"),
            min_points=given.get("minPoints"),
            max_points=given.get("maxPoints"),
            in_stock=given.get("inStock"),
        ),
        GiftSort[sort] if sort else GiftSort.NEWEST,
        bool(given.get("affordable")),
    )


def _filter_values(raw: object) -> dict[str, Any] | None:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or set(raw) - set(FILTER_FIELDS):
        return None
    for key, value in raw.items():
        kind = FILTER_FIELDS[key]
        if value is not None and not (_is_int(value) if kind is int else type(value) is kind):
            return None
    return raw


def _is_int(value: object) -> bool:
    return type(value) is int and INT32[0] <= value <= INT32[1]


def _plan(run: Callable[..., Awaitable[dict[str, Any] | None]], *, typed: bool) -> Plan:
    async def plan(context: Any, variables: Mapping[str, Any]) -> dict[str, Any] | None:
        return await run(context, variables, typed=typed)

    return plan


# Each plan under the id of the document it was written for: tests/clients' `Me` and
# `Catalog`, as written and as Apollo Client sends them (`__typename` added).
ME = "sha256:157d572e544eacd541a57b2020251cd169f7a6d06283b49e973bdc0e9d4206c2"
ME_TYPED = "sha256:80fdecc05c11f031461cc0bda4051c5306cfcede88e7276336745a186c1e46cb"
CATALOG = "sha256:7e52cf7b0929ed05e278f81bc4525b6a1f9c4a4850fe78ede6a944afec7c49cb"
CATALOG_TYPED = "sha256:8f189605ace2dd7dd989b1912cda2c38d1bec83ed590573bf12c65642cf7a5a5"
PLANS: dict[str, Plan] = {
    ME: _plan(me, typed=False),
    ME_TYPED: _plan(me, typed=True),
    CATALOG: _plan(catalog_page, typed=False),
    CATALOG_TYPED: _plan(catalog_page, typed=True),
}
