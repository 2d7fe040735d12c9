"""Catalog services: the back office's upserts, stock adjustments, and catalog reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models import validation
from models.catalog.models import Category, Gift, GiftKind, Stock, StockMovement, Warehouse
from models.errors import InvalidInput, NotFound
from models.events import CATALOG, announce
from models.paging import SortKey
from models.topups.ports import TopUpProduct

M = TypeVar("M", Category, Gift, Warehouse, Stock)
MAX_POINTS_PRICE = 10_000_000
MAX_CASH_PRICE = Decimal("100000.00")
MAX_CAPACITY = 1_000_000
MAX_STOCK_DELTA = 10_000_000


class GiftSort(StrEnum):
    POINTS_ASC = "POINTS_ASC"
    POINTS_DESC = "POINTS_DESC"
    NEWEST = "NEWEST"
    NAME = "NAME"


SORT_KEYS: dict[GiftSort, tuple[SortKey, ...]] = {
    GiftSort.POINTS_ASC: (SortKey("points_price"), SortKey("id")),
    GiftSort.POINTS_DESC: (SortKey("points_price", True), SortKey("id", True)),
    GiftSort.NEWEST: (SortKey("id", True),),
    GiftSort.NAME: (SortKey("name", kind="text", max_length=200), SortKey("id")),
}


@dataclass(frozen=True)
class GiftFilter:
    category_slug: str | None = None
    search: str | None = None
    min_points: int | None = None
    max_points: int | None = None
    in_stock: bool | None = None
    kind: GiftKind | None = None


@dataclass(frozen=True)
class GiftFields:
    """What the back office says a gift is."""

    sku: str
    name: str
    description: str
    image_url: str
    category_slug: str
    points_price: int
    cash_price: Decimal | None
    currency: str | None  # None: the programme's currency
    limit_per_member: int | None
    active: bool
    kind: GiftKind = GiftKind.PHYSICAL
    partner: str = ""  # an E_VOUCHER gift's partner, whose codes it hands out
    instructions: str = ""  # how an E_VOUCHER's code is used
    # A TOP_UP's product, its face value (fen of credit, MB of data) and the face value its
    # credits may take a day (None: no limit).
    top_up_product: TopUpProduct = TopUpProduct.CREDIT
    face_value: int | None = None
    daily_budget: int | None = None


async def upsert_category(*, slug: str, name: str) -> Category:
    """Create or rename a category by slug; raises InvalidInput."""
    slug = validation.identifier(slug, field="slug")
    name = validation.text(name, field="name", max_length=100)
    category, created = await _get_or_create(Category, {"slug": slug}, {"name": name})
    if not created and category.name != name:
        category.name = name
        await category.save(update_fields=["name"])
    await announce(CATALOG, slug)
    return category


async def upsert_gift(*, fields: GiftFields, default_currency: str) -> Gift:
    """Create or update a gift by SKU, priced in `default_currency` unless `fields` name
    one; raises InvalidInput or NotFound (category)."""
    values = _gift_values(fields, default_currency)
    slug = fields.category_slug.strip()
    category = (
        await Category.get_or_none(slug=slug) if validation.fits(Category, "slug", slug) else None
    )
    if category is None:
        raise NotFound(f"no category {fields.category_slug!r}", field="category_slug")
    values["category_id"] = category.id
    gift, created = await _get_or_create(Gift, {"sku": values.pop("sku")}, values)
    if not created:
        if gift.kind is not values["kind"] and await _stocked(gift.id):
            raise InvalidInput(
                "a gift with units in a warehouse keeps its kind (write them off first)",
                field="kind",
            )
        await Gift.filter(id=gift.id).update(**values)
        await gift.refresh_from_db()
    await announce(CATALOG, gift.sku)
    return gift


def _gift_values(fields: GiftFields, default_currency: str) -> dict[str, object]:
    cash = _cash_price(fields.cash_price)
    currency = default_currency if fields.currency is None else fields.currency
    limit = fields.limit_per_member
    if limit is not None:
        validation.bounded_int(limit, field="limit_per_member", low=1, high=10_000)
    return {
        "sku": validation.identifier(fields.sku, field="sku"),
        "name": validation.text(fields.name, field="name", max_length=200),
        "description": validation.text(
            fields.description, field="description", max_length=5000, required=False
        ),
        "image_url": _image_url(fields.image_url),
        "points_price": validation.bounded_int(
            fields.points_price, field="points_price", low=1, high=MAX_POINTS_PRICE
        ),
        "cash_price": cash,
        "currency": _currency(currency),
        "limit_per_member": limit,
        "active": fields.active,
        **_kind_values(fields),
    }


def _kind_values(fields: GiftFields) -> dict[str, object]:
    """The kind and what an E_VOUCHER gift says of its partner, or a TOP_UP of its credit;
    the others say nothing."""
    partner = validation.text(fields.partner, field="partner", max_length=100, required=False)
    instructions = validation.text(
        fields.instructions, field="instructions", max_length=2000, required=False
    )
    if fields.kind is GiftKind.E_VOUCHER and not partner:
        raise InvalidInput("an e-voucher names its partner", field="partner")
    if fields.kind is not GiftKind.E_VOUCHER and (partner or instructions):
        field = "partner" if partner else "instructions"
        raise InvalidInput("only an e-voucher has a partner and instructions", field=field)
    top_up = fields.kind is GiftKind.TOP_UP
    if top_up and fields.face_value is None:
        raise InvalidInput("a top-up states its face value", field="face_value")
    if not top_up and (fields.face_value is not None or fields.daily_budget is not None):
        field = "face_value" if fields.face_value is not None else "daily_budget"
        raise InvalidInput("only a top-up has a face value and a daily budget", field=field)
    face_value = 0
    if fields.face_value is not None:
        face_value = validation.bounded_int(
            fields.face_value, field="face_value", low=1, high=MAX_FACE_VALUE
        )
    if fields.daily_budget is not None:
        validation.bounded_int(
            fields.daily_budget, field="daily_budget", low=face_value, high=MAX_DAILY_BUDGET
        )
    return {
        "kind": fields.kind,
        "partner": partner,
        "instructions": instructions,
        "top_up_product": fields.top_up_product if top_up else TopUpProduct.CREDIT,
        "face_value": face_value,
        "daily_budget": fields.daily_budget,
    }


# A top-up's face value: up to ¥10,000 of credit (in fen) or 1 TB of data (in MB).
MAX_FACE_VALUE = 1_048_576
MAX_DAILY_BUDGET = 10**12


async def _stocked(gift_id: int) -> bool:
    return await Stock.filter(gift_id=gift_id, on_hand__gt=0).exists()


def _cash_price(amount: Decimal | None) -> Decimal | None:
    if amount is None:
        return None
    if not amount.is_finite() or amount <= 0 or amount > MAX_CASH_PRICE:
        raise InvalidInput(
            f"cash price must be above 0 and at most {MAX_CASH_PRICE}", field="cash_price.amount"
        )
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput("cash price has at most two decimals", field="cash_price.amount")
    return amount


def _currency(code: str) -> str:
    code = code.strip().upper()
    if len(code) != 3 or not code.isalpha() or not code.isascii():
        raise InvalidInput("currency must be a three-letter ISO code", field="cash_price.currency")
    return code


def _image_url(url: str) -> str:
    url = validation.text(url, field="image_url", max_length=500, required=False)
    if url and not url.startswith(("https://", "http://", "/")):
        raise InvalidInput("image_url must be an http(s) URL or a path", field="image_url")
    return url


async def upsert_warehouse(
    *,
    code: str,
    name: str,
    daily_capacity: int,
    timezone: str | None,
    closed_dates: Sequence[date],
    default_timezone: str,
) -> Warehouse:
    """Create or update a warehouse by code, working in `default_timezone` unless it names
    its own `timezone`; raises InvalidInput."""
    zone = default_timezone if timezone is None else timezone
    timezone = validation.text(zone, field="timezone", max_length=64)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: "Asia", a directory
        raise InvalidInput(f"unknown time zone {timezone!r}", field="timezone") from exc
    values: dict[str, object] = {
        "name": validation.text(name, field="name", max_length=100),
        "daily_capacity": validation.bounded_int(
            daily_capacity, field="daily_capacity", low=0, high=MAX_CAPACITY
        ),
        "timezone": timezone,
        "closed_dates": sorted({d.isoformat() for d in closed_dates}),
    }
    code = validation.identifier(code, field="code", max_length=32)
    warehouse, created = await _get_or_create(Warehouse, {"code": code}, values)
    if not created:
        await Warehouse.filter(id=warehouse.id).update(**values)
        await warehouse.refresh_from_db()
    await announce(CATALOG, code)
    return warehouse


async def adjust_stock(*, sku: str, warehouse_code: str, delta: int, reason: str) -> Stock:
    """Receive (+) or write off (-) units; never below what open orders reserve.

    Raises NotFound (gift or warehouse) or InvalidInput.
    """
    validation.bounded_int(delta, field="delta", low=-MAX_STOCK_DELTA, high=MAX_STOCK_DELTA)
    reason = validation.text(reason, field="reason", max_length=200, required=False)
    sku, warehouse_code = sku.strip(), warehouse_code.strip()
    gift = await Gift.get_or_none(sku=sku) if validation.fits(Gift, "sku", sku) else None
    if gift is None:
        raise NotFound(f"no gift {sku!r}", field="sku")
    if gift.kind.digital:
        raise InvalidInput("a digital gift has no units in warehouses", field="sku")
    warehouse = None
    if validation.fits(Warehouse, "code", warehouse_code):
        warehouse = await Warehouse.get_or_none(code=warehouse_code)
    if warehouse is None:
        raise NotFound(f"no warehouse {warehouse_code!r}", field="warehouse_code")
    stock, _ = await _get_or_create(Stock, {"gift_id": gift.id, "warehouse_id": warehouse.id}, {})
    async with in_transaction():
        changed = await Stock.filter(id=stock.id, on_hand__gte=F("reserved") - delta).update(
            on_hand=F("on_hand") + delta
        )
        if not changed:
            raise InvalidInput("stock cannot go below the units open orders reserve", field="delta")
        await StockMovement.create(stock_id=stock.id, delta=delta, reason=reason)
        await announce(CATALOG, gift.sku)
    await stock.refresh_from_db()
    return stock


async def _get_or_create(
    model: type[M], key: dict[str, Any], values: dict[str, Any]
) -> tuple[M, bool]:
    """Get by key or create; a concurrent create of the same key is read back."""
    found = await model.get_or_none(**key)
    if found is not None:
        return found, False
    try:
        async with in_transaction():
            return await model.create(**key, **values), True
    except IntegrityError:
        return await model.get(**key), False
