"""The soak's mall, stocked through the back office's operations before the traffic starts."""

from __future__ import annotations

from typing import Any

from tests.resilience.soak_client import Client
from tests.resilience.soak_traffic import Mall
from tests.support.graphql import admin_token

MEMBERS = [f"SOAK-{i:03d}" for i in range(40)]
WAREHOUSES = [("SH01", 20_000), ("GZ01", 10_000), ("BJ01", 2)]  # BJ01 fills up: capacity
# sku, category, points, cash, limit per member, active, {warehouse: units}
GIFTS: list[tuple[str, str, int, str | None, int | None, bool, dict[str, int]]] = [
    ("PT-1", "electronics", 900, None, None, True, {"SH01": 300, "GZ01": 300}),
    ("PT-2", "electronics", 2_500, None, None, True, {"SH01": 300, "GZ01": 300}),
    ("PT-3", "home", 1_200, None, None, True, {"SH01": 300}),
    ("PT-4", "home", 4_000, None, None, True, {"GZ01": 300}),
    ("PT-5", "home", 600, None, None, True, {"SH01": 200, "GZ01": 200}),
    ("PT-LIM", "home", 500, None, 2, True, {"SH01": 2_000}),
    ("PT-RARE", "electronics", 3_000, None, None, True, {"GZ01": 3}),
    ("BJ-TEA", "home", 800, None, None, True, {"BJ01": 1_000}),
    ("PT-OLD", "electronics", 100, None, None, False, {"SH01": 10}),
    ("CS-1", "electronics", 3_000, "19.90", None, True, {"SH01": 300}),
    ("CS-2", "home", 1_500, "9.90", None, True, {"SH01": 300, "GZ01": 100}),
]


async def admin(client: Client, name: str, variables: dict[str, Any]) -> None:
    data = await client.op(name, {"input": variables}, admin_token())
    payload = data and next(iter(data.values()))
    if not payload or payload["errors"]:
        raise RuntimeError(f"setting up the soak: {name} {variables} -> {data}")


async def stock_the_mall(client: Client) -> Mall:
    for code, capacity in WAREHOUSES:
        warehouse = {"code": code, "name": code, "dailyCapacity": capacity}
        await admin(client, "UpsertWarehouse", warehouse | {"timezone": "Asia/Shanghai"})
    for slug in ("electronics", "home"):
        await admin(client, "UpsertCategory", {"slug": slug, "name": slug.title()})
    for sku, category, points, cash, limit, active, units in GIFTS:
        gift: dict[str, Any] = {"sku": sku, "name": f"Gift {sku}", "categorySlug": category}
        gift |= {"description": ""}
        gift |= {"imageUrl": f"https://img.example.com/{sku}.jpg", "pointsPrice": points}
        gift |= {"cashPrice": {"amount": cash, "currency": "CNY"} if cash else None}
        await admin(client, "UpsertGift", gift | {"limitPerMember": limit, "active": active})
        for code, count in units.items():
            stock = {"sku": sku, "warehouseCode": code, "delta": count, "reason": "opening"}
            await admin(client, "AdjustStock", stock)
    for member in MEMBERS:
        award = {"memberExternalId": member, "amount": 100_000, "reason": "welcome"}
        await admin(client, "AwardPoints", award | {"externalRef": f"soak-welcome-{member}"})
    return Mall(members=list(MEMBERS), warehouses=[code for code, _ in WAREHOUSES])
