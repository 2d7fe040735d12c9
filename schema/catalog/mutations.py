"""Back-office catalog mutations: categories, gifts, warehouses, stock."""

from __future__ import annotations

from datetime import date

import strawberry

from models.catalog import service
from models.catalog.models import GiftKind
from models.topups.ports import TopUpProduct
from schema.caller_dependence import DEPENDS_ON_CALLER
from schema.catalog.types import CategoryType, GiftKindEnum, GiftType, StockType, WarehouseType
from schema.context import Info
from schema.errors import UserError, attempt
from schema.permissions import IsAdmin
from schema.ratelimit import WithinRateLimit
from schema.scalars import MoneyInput
from schema.topups.types import TopUpProductEnum


@strawberry.input
class CategoryInput:
    slug: str
    name: str


@strawberry.type
class UpsertCategoryPayload:
    category: CategoryType | None
    errors: list[UserError]


@strawberry.input
class GiftInput:
    sku: str
    name: str
    category_slug: str
    points_price: int
    description: str | None = strawberry.field(
        default=None,
        description="Null or absent: none (an upsert states the whole gift: null clears it).",
    )
    image_url: str | None = strawberry.field(
        default=None,
        description="Null or absent: none (an upsert states the whole gift: null clears it).",
    )
    cash_price: MoneyInput | None = None
    limit_per_member: int | None = None
    active: bool | None = strawberry.field(default=None, description="Null or absent: active.")
    kind: GiftKindEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Null or absent: PHYSICAL (a parcel)."
    )
    partner: str | None = strawberry.field(
        default=None, description="An E_VOUCHER's partner (required for one); null or absent: none."
    )
    instructions: str | None = strawberry.field(
        default=None, description="How an E_VOUCHER's code is used; null or absent: none."
    )
    top_up_product: TopUpProductEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="A TOP_UP's product; null or absent: CREDIT."
    )
    face_value: int | None = strawberry.field(
        default=None,
        description="A TOP_UP's face value (required for one): fen of credit, or MB of data.",
    )
    daily_budget: int | None = strawberry.field(
        default=None,
        description="The face value a TOP_UP's credits may take in one of the operator's "
        "days; null or absent: no limit.",
    )


@strawberry.type
class UpsertGiftPayload:
    gift: GiftType | None
    errors: list[UserError]


@strawberry.input
class WarehouseInput:
    code: str
    name: str
    daily_capacity: int
    timezone: str | None = strawberry.field(
        default=None, description="An IANA zone; null or absent: the programme's time zone."
    )
    closed_dates: list[date] | None = strawberry.field(
        default=None,
        description="Null or absent: none (an upsert states the whole list: null clears it).",
    )


@strawberry.type
class UpsertWarehousePayload:
    warehouse: WarehouseType | None
    errors: list[UserError]


@strawberry.input
class AdjustStockInput:
    sku: str
    warehouse_code: str
    delta: int
    reason: str | None = strawberry.field(default=None, description="Null or absent: none.")


@strawberry.type
class AdjustStockPayload:
    stock: StockType | None
    errors: list[UserError]


def _gift_fields(input: GiftInput) -> service.GiftFields:
    cash = input.cash_price
    return service.GiftFields(
        sku=input.sku,
        name=input.name,
        description=input.description or "",
        image_url=input.image_url or "",
        category_slug=input.category_slug,
        points_price=input.points_price,
        cash_price=cash.amount if cash else None,
        currency=cash.currency if cash else None,
        limit_per_member=input.limit_per_member,
        active=True if input.active is None else input.active,
        kind=GiftKind.PHYSICAL if input.kind is None else input.kind,
        partner=input.partner or "",
        instructions=input.instructions or "",
        top_up_product=input.top_up_product or TopUpProduct.CREDIT,
        face_value=input.face_value,
        daily_budget=input.daily_budget,
    )


@strawberry.type
class CatalogMutations:
    @strawberry.mutation(
        permission_classes=[IsAdmin, WithinRateLimit], directives=[DEPENDS_ON_CALLER]
    )
    async def upsert_category(self, input: CategoryInput) -> UpsertCategoryPayload:
        outcome = await attempt(service.upsert_category(slug=input.slug, name=input.name))
        category = CategoryType.from_row(outcome.value) if outcome.value else None
        return UpsertCategoryPayload(category=category, errors=outcome.errors)

    @strawberry.mutation(
        permission_classes=[IsAdmin, WithinRateLimit], directives=[DEPENDS_ON_CALLER]
    )
    async def upsert_gift(self, info: Info, input: GiftInput) -> UpsertGiftPayload:
        outcome = await attempt(
            service.upsert_gift(
                fields=_gift_fields(input), default_currency=info.context.services.currency
            )
        )
        gift = GiftType.from_row(outcome.value) if outcome.value else None
        return UpsertGiftPayload(gift=gift, errors=outcome.errors)

    @strawberry.mutation(
        permission_classes=[IsAdmin, WithinRateLimit], directives=[DEPENDS_ON_CALLER]
    )
    async def upsert_warehouse(self, info: Info, input: WarehouseInput) -> UpsertWarehousePayload:
        outcome = await attempt(
            service.upsert_warehouse(
                code=input.code,
                name=input.name,
                daily_capacity=input.daily_capacity,
                timezone=input.timezone,
                closed_dates=input.closed_dates or [],
                default_timezone=info.context.services.points_timezone,
            )
        )
        warehouse = WarehouseType.from_row(outcome.value) if outcome.value else None
        return UpsertWarehousePayload(warehouse=warehouse, errors=outcome.errors)

    @strawberry.mutation(
        permission_classes=[IsAdmin, WithinRateLimit], directives=[DEPENDS_ON_CALLER]
    )
    async def adjust_stock(self, input: AdjustStockInput) -> AdjustStockPayload:
        outcome = await attempt(
            service.adjust_stock(
                sku=input.sku,
                warehouse_code=input.warehouse_code,
                delta=input.delta,
                reason=input.reason or "",
            )
        )
        stock = (
            StockType.from_row(
                outcome.value, sku=input.sku.strip(), warehouse_code=input.warehouse_code.strip()
            )
            if outcome.value
            else None
        )
        return AdjustStockPayload(stock=stock, errors=outcome.errors)
