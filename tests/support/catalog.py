"""Building a small catalog through the admin operations, as the back office does."""

from __future__ import annotations

from typing import Any

from models.catalog import service as catalog_service
from models.catalog.models import Gift, Warehouse
from tests.support.graphql import GraphQLClient, admin_token

ADDRESS = {
    "recipient": "张伟",
    "phone": "13800138000",
    "province": "上海市",
    "city": "上海市",
    "district": "浦东新区",
    "line1": "世纪大道 100 号",
    "line2": "",
    "postalCode": "200120",
}


async def admin(api: GraphQLClient, name: str, variables: dict[str, Any]) -> dict[str, Any]:
    """Run an admin client operation and return its payload, failing on any error."""
    result = await api.op(name, variables, auth=admin_token())
    payload: dict[str, Any] = next(iter(result.data.values()))
    assert payload["errors"] == [], payload["errors"]
    return payload


async def warehouse(
    api: GraphQLClient, code: str, capacity: int = 100, closed: list[str] | None = None
) -> None:
    await admin(
        api,
        "UpsertWarehouse",
        {
            "input": {
                "code": code,
                "name": f"Warehouse {code}",
                "dailyCapacity": capacity,
                "timezone": "Asia/Shanghai",
                "closedDates": closed or [],
            }
        },
    )


async def category(
    api: GraphQLClient, slug: str = "electronics", name: str = "数码 Electronics"
) -> None:
    await admin(api, "UpsertCategory", {"input": {"slug": slug, "name": name}})


async def gift(
    api: GraphQLClient,
    sku: str,
    points: int,
    *,
    category_slug: str = "electronics",
    name: str | None = None,
    cash: str | None = None,
    limit: int | None = None,
    active: bool = True,
    description: str = "",
    kind: str | None = None,
    partner: str | None = None,
    instructions: str | None = None,
    face_value: int | None = None,
    daily_budget: int | None = None,
    top_up_product: str | None = None,
) -> dict[str, Any]:
    payload = await admin(
        api,
        "UpsertGift",
        {
            "input": {
                "sku": sku,
                "name": name or f"Gift {sku}",
                "description": description,
                "imageUrl": f"https://img.example.com/{sku}.jpg",
                "categorySlug": category_slug,
                "pointsPrice": points,
                "cashPrice": {"amount": cash, "currency": "CNY"} if cash else None,
                "limitPerMember": limit,
                "active": active,
                "kind": kind,
                "partner": partner,
                "instructions": instructions,
                "faceValue": face_value,
                "dailyBudget": daily_budget,
                "topUpProduct": top_up_product,
            }
        },
    )
    return payload["gift"]  # type: ignore[no-any-return]


async def stock(api: GraphQLClient, sku: str, code: str, delta: int) -> dict[str, Any]:
    payload = await admin(
        api,
        "AdjustStock",
        {"input": {"sku": sku, "warehouseCode": code, "delta": delta, "reason": "receipt"}},
    )
    return payload["stock"]  # type: ignore[no-any-return]


async def small_mall(api: GraphQLClient) -> None:
    """Two warehouses, two categories, five gifts with stock."""
    await warehouse(api, "SH01", capacity=100)
    await warehouse(api, "GZ01", capacity=50)
    await category(api, "electronics", "数码 Electronics")
    await category(api, "home", "居家 Home")
    await gift(
        api, "EL-PB10K", 6900, name="小米移动电源 Power Bank", description="10000mAh fast charge"
    )
    await gift(api, "EL-BUDS", 32000, name="华为 FreeBuds Earbuds")
    await gift(
        api, "HM-MUG", 7800, category_slug="home", name="Thermos Mug", description="Keeps tea HOT"
    )
    await gift(api, "HM-TOWEL", 1800, category_slug="home", name="Cotton Towels", limit=2)
    await gift(api, "EL-OLD", 500, name="Retired Cable", active=False)
    await stock(api, "EL-PB10K", "SH01", 50)
    await stock(api, "EL-PB10K", "GZ01", 20)
    await stock(api, "EL-BUDS", "GZ01", 3)
    await stock(api, "HM-MUG", "SH01", 10)


async def plain_gift(sku: str, *, points: int = 100, name: str | None = None) -> Gift:
    """A points-only gift in the category `all` (created if missing), through the catalog
    service directly, for tests below the API."""
    await catalog_service.upsert_category(slug="all", name="All")
    return await catalog_service.upsert_gift(
        fields=catalog_service.GiftFields(
            sku=sku,
            name=name or sku,
            description="",
            image_url="",
            category_slug="all",
            points_price=points,
            cash_price=None,
            currency="CNY",
            limit_per_member=None,
            active=True,
        ),
        default_currency="CNY",
    )


async def plain_warehouse(code: str, *, capacity: int) -> Warehouse:
    """A warehouse in Shanghai open every day, through the catalog service directly."""
    return await catalog_service.upsert_warehouse(
        code=code,
        name=code,
        daily_capacity=capacity,
        timezone="Asia/Shanghai",
        closed_dates=[],
        default_timezone="Asia/Shanghai",
    )
