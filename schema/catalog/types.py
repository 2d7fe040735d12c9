"""Catalog types, built from rows; related objects come through per-request loaders."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import strawberry
from strawberry import relay
from strawberry.dataloader import DataLoader

from fulfilment.availability import Availability, availability
from models.catalog import reads
from models.catalog.models import Category, Gift, GiftKind, Stock, Warehouse
from models.topups.ports import TopUpProduct
from schema.context import Info
from schema.node import row_ids
from schema.scalars import Money, money
from schema.topups.types import TopUpOfferType


@strawberry.type(name="Category")
class CategoryType(relay.Node):
    id: relay.NodeID[int]
    slug: str
    name: str
    known_gift_count: strawberry.Private[int | None] = None

    @classmethod
    def from_row(cls, row: Category, gift_count: int | None = None) -> CategoryType:
        return cls(id=row.id, slug=row.slug, name=row.name, known_gift_count=gift_count)

    @strawberry.field(description="Active gifts in this category.")
    async def gift_count(self) -> int:
        if self.known_gift_count is not None:
            return self.known_gift_count
        counts = {c.category.id: c.gift_count for c in await reads.categories()}
        return counts.get(self.id, 0)

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        rows = await info.context.loaders.of(reads.categories_by_ids).load_many(
            [i or 0 for i in row_ids(node_ids)]
        )
        return [cls.from_row(row) if row else None for row in rows]


GiftKindEnum = strawberry.enum(
    GiftKind,
    name="GiftKind",
    description="A parcel from a warehouse, a partner's e-voucher code, or a phone top-up.",
)


@strawberry.type(name="Availability")
class AvailabilityType:
    in_stock: bool
    quantity_available: int
    estimated_ship_by: date | None = strawberry.field(
        description="The day an order placed now would ship (its promised ship date); null "
        "for a digital gift, which ships on no day."
    )
    delivered_within_minutes: int | None = strawberry.field(
        default=None,
        description="A digital gift's promise: delivered within this many minutes of the "
        "order; null for a parcel.",
    )


def _availability(info: Info) -> DataLoader[int, Availability]:
    services, now = info.context.services, info.context.now()

    async def batch(gift_ids: Sequence[int]) -> list[Availability]:
        return await availability(
            gift_ids,
            now=now,
            within=services.ship_within,
            digital_within_minutes=services.digital_delivery_minutes,
        )

    return info.context.loaders.named("availability", batch)


def _gifts(info: Info) -> DataLoader[int, Gift | None]:
    """The request's gifts by id, as its caller may see them."""
    viewer = info.context.actor

    async def batch(gift_ids: Sequence[int]) -> list[Gift | None]:
        return await reads.gifts_by_ids(gift_ids, viewer=viewer)

    return info.context.loaders.named("gifts", batch)


@strawberry.type(name="Gift")
class GiftType(relay.Node):
    id: relay.NodeID[int]
    sku: str
    name: str
    description: str
    image_url: str
    points_price: int
    cash_price: Money | None
    limit_per_member: int | None
    active: bool
    kind: GiftKindEnum  # type: ignore[valid-type]
    partner: str | None = strawberry.field(
        description="An e-voucher's partner (whose code it is); null for the other kinds."
    )
    instructions: str | None = strawberry.field(
        description="How an e-voucher's code is used; null for the other kinds."
    )
    top_up: TopUpOfferType | None = strawberry.field(
        description="What a top-up credits; null for the other kinds."
    )
    category_id: strawberry.Private[int]
    preloaded_category: strawberry.Private[CategoryType | None] = None

    @classmethod
    def from_listed(cls, row: reads.ListedGift) -> GiftType:
        return cls(
            id=row.id,
            sku=row.sku,
            name=row.name,
            description=row.description,
            image_url=row.image_url,
            points_price=row.points_price,
            cash_price=money(row.cash_price, row.currency),
            limit_per_member=row.limit_per_member,
            active=row.active,
            **_kind_fields(row.kind, row.partner, row.instructions),
            top_up=_offer(row.kind, row.top_up_product, row.face_value),
            category_id=row.category_id,
            preloaded_category=CategoryType(
                id=row.category_id, slug=row.category_slug, name=row.category_name
            ),
        )

    @classmethod
    def from_row(cls, row: Gift) -> GiftType:
        loaded = row.category if isinstance(row.category, Category) else None
        category = CategoryType.from_row(loaded) if loaded is not None else None
        return cls(
            id=row.id,
            sku=row.sku,
            name=row.name,
            description=row.description,
            image_url=row.image_url,
            points_price=int(row.points_price),
            cash_price=money(row.cash_price, row.currency),
            limit_per_member=row.limit_per_member,
            active=row.active,
            **_kind_fields(row.kind, row.partner, row.instructions),
            top_up=_offer(row.kind, row.top_up_product, row.face_value),
            category_id=row.category_id,
            preloaded_category=category,
        )

    @strawberry.field
    async def category(self, info: Info) -> CategoryType:
        if self.preloaded_category is not None:
            return self.preloaded_category
        row = await info.context.loaders.of(reads.categories_by_ids).load(self.category_id)
        assert row is not None
        return CategoryType.from_row(row)

    @strawberry.field(description="In stock, how many, and when an order placed now would ship.")
    async def availability(self, info: Info) -> AvailabilityType:
        found = await _availability(info).load(self.id)
        return AvailabilityType(
            in_stock=found.in_stock,
            quantity_available=found.quantity_available,
            estimated_ship_by=found.estimated_ship_by,
            delivered_within_minutes=found.delivered_within_minutes,
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        rows = await _gifts(info).load_many([i or 0 for i in row_ids(node_ids)])
        return [cls.from_row(row) if row else None for row in rows]


def _offer(kind: GiftKind, product: TopUpProduct, face_value: int) -> TopUpOfferType | None:
    if kind is not GiftKind.TOP_UP:
        return None
    return TopUpOfferType(product=product, face_value=int(face_value))


def _kind_fields(kind: GiftKind, partner: str, instructions: str) -> dict[str, Any]:
    voucher = kind is GiftKind.E_VOUCHER
    return {
        "kind": kind,
        "partner": partner if voucher else None,
        "instructions": instructions if voucher else None,
    }


@strawberry.type(name="Warehouse")
class WarehouseType:
    code: str
    name: str
    daily_capacity: int
    timezone: str
    closed_dates: list[date]

    @classmethod
    def from_row(cls, row: Warehouse) -> WarehouseType:
        return cls(
            code=row.code,
            name=row.name,
            daily_capacity=row.daily_capacity,
            timezone=row.timezone,
            closed_dates=sorted(row.closed_date_set()),
        )


@strawberry.type(name="Stock")
class StockType:
    sku: str
    warehouse_code: str
    on_hand: int
    reserved: int
    available: int

    @classmethod
    def from_row(cls, row: Stock, *, sku: str, warehouse_code: str) -> StockType:
        return cls(
            sku=sku,
            warehouse_code=warehouse_code,
            on_hand=int(row.on_hand),
            reserved=int(row.reserved),
            available=row.available,
        )
