"""What the back office leaves out is the programme's setting: currency and time zone."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from api.app import create_app
from models.catalog.models import Gift
from tests.support.graphql import GraphQLClient, admin_token
from tests.support.settings import settings_for


@pytest_asyncio.fixture
async def euro_api(db: str) -> AsyncIterator[GraphQLClient]:
    """The API of a programme priced in euros, in Berlin's time zone."""
    settings = settings_for(db, currency="EUR", points_timezone="Europe/Berlin")
    app = create_app(settings, manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        yield GraphQLClient(http)
    await app.state.services.payments.close()


async def upsert(api: GraphQLClient, name: str, input: dict[str, object]) -> dict[str, object]:
    result = await api.op(name, {"input": input}, auth=admin_token())
    payload: dict[str, object] = next(iter(result.data.values()))
    assert payload["errors"] == [], payload["errors"]
    return payload


async def test_a_warehouse_without_a_zone_works_in_the_programmes(euro_api: GraphQLClient) -> None:
    payload = await upsert(
        euro_api, "UpsertWarehouse", {"code": "BE01", "name": "Berlin", "dailyCapacity": 5}
    )
    assert payload["warehouse"] == {
        "code": "BE01",
        "name": "Berlin",
        "dailyCapacity": 5,
        "timezone": "Europe/Berlin",
        "closedDates": [],
    }


async def test_a_price_without_a_currency_is_in_the_programmes(euro_api: GraphQLClient) -> None:
    await upsert(euro_api, "UpsertCategory", {"slug": "home", "name": "Home"})
    gift = {"name": "Mug", "categorySlug": "home", "pointsPrice": 100}
    cash = await upsert(
        euro_api, "UpsertGift", {**gift, "sku": "MUG", "cashPrice": {"amount": "9.90"}}
    )
    assert cash["gift"]["cashPrice"] == {"amount": "9.90", "currency": "EUR"}  # type: ignore[index]
    await upsert(euro_api, "UpsertGift", {**gift, "sku": "MUG-P"})
    assert (await Gift.get(sku="MUG-P")).currency == "EUR"
