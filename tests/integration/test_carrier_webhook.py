"""POST /webhooks/carrier/{carrier} over the ASGI app: signed scans only, stored once."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest_asyncio

from api.app import create_app
from api.webhooks.carrier import sign
from fulfilment.models import Shipment, TrackingEvent
from models.orders.models import Order, OrderStatus
from tests.support.catalog import small_mall
from tests.support.fulfilment import place, shipped
from tests.support.graphql import GraphQLClient
from tests.support.members import member_with_points
from tests.support.settings import settings_for

SECRETS = {"SF": "sf-webhook-secret", "YTO": "yto-webhook-secret"}


@pytest_asyncio.fixture
async def http(db: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings_for(db, carrier_secrets=SECRETS), manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
    await app.state.services.payments.close()


def scan(tracking: str, status: str, at: datetime, **extra: Any) -> dict[str, Any]:
    return {"trackingNumber": tracking, "status": status, "occurredAt": at.isoformat(), **extra}


async def post(
    http: httpx.AsyncClient,
    carrier: str,
    body: object,
    *,
    secret: str | None = None,
    signature: str | None = None,
) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    header = signature if signature is not None else sign(raw, secret or SECRETS[carrier.upper()])
    return await http.post(
        f"/webhooks/carrier/{carrier}", content=raw, headers={"X-Signature": header}
    )


async def shipped_order(api: GraphQLClient, tracking: str) -> Order:
    await small_mall(api)
    await member_with_points("WH1", 30_000)
    order = await place("WH1", "k", ("EL-PB10K", 1))
    return await shipped(order.number, tracking)


async def test_signed_scans_are_stored_once_and_delivery_completes_the_order(
    api: GraphQLClient, http: httpx.AsyncClient
) -> None:
    order = await shipped_order(api, "SF5001")
    t = datetime.now(UTC) - timedelta(hours=6)
    first = await post(http, "sf", scan("sf5001", "IN_TRANSIT", t, location="上海"))
    assert first.status_code == 200, first.text
    assert first.json() == {
        "results": [{"index": 0, "outcome": "recorded", "shipmentStatus": "IN_TRANSIT"}]
    }
    batch = [
        scan("SF5001", "IN_TRANSIT", t),
        scan("SF5001", "DELIVERED", t + timedelta(hours=5), carrier="SF"),
        scan("SF5001", "OUT_FOR_DELIVERY", t + timedelta(hours=3)),
    ]
    second = await post(http, "SF", batch)
    assert second.status_code == 200
    assert [r["outcome"] for r in second.json()["results"]] == ["duplicate", "recorded", "recorded"]
    assert await TrackingEvent.all().count() == 3
    assert (await Shipment.get(order_id=order.id)).status == "DELIVERED"
    done = await Order.get(id=order.id)
    assert done.status is OrderStatus.DELIVERED
    assert done.delivered_at == t + timedelta(hours=5)


async def test_a_bad_signature_or_an_unknown_carrier_is_401_and_stores_nothing(
    api: GraphQLClient, http: httpx.AsyncClient
) -> None:
    await shipped_order(api, "SF5002")
    body = scan("SF5002", "IN_TRANSIT", datetime.now(UTC))
    wrong = await post(http, "SF", body, secret="guess")
    assert wrong.status_code == 401
    assert wrong.json() == {"error": "unknown carrier or invalid signature"}
    assert (await post(http, "SF", body, signature="")).status_code == 401
    other_carrier = await post(http, "SF", body, secret=SECRETS["YTO"])
    assert other_carrier.status_code == 401
    unknown = await post(http, "DHL", body, secret="anything")
    assert unknown.status_code == 401
    unsigned = await http.post("/webhooks/carrier/SF", json=body)
    assert unsigned.status_code == 401
    assert not await TrackingEvent.exists()


async def test_a_body_that_is_not_scans_is_400_with_a_clear_message(
    api: GraphQLClient, http: httpx.AsyncClient
) -> None:
    await shipped_order(api, "SF5003")
    broken = await post(http, "SF", b'{"trackingNumber": "SF5003",')
    assert broken.status_code == 400
    assert broken.json()["error"].startswith("the body is not valid JSON")
    missing = await post(http, "SF", [{"trackingNumber": "SF5003", "status": "IN_TRANSIT"}])
    assert missing.status_code == 400
    assert missing.json() == {"error": "scan 0: occurredAt is required"}
    mismatch = await post(
        http, "SF", scan("SF5003", "IN_TRANSIT", datetime.now(UTC), carrier="YTO")
    )
    assert mismatch.status_code == 400
    assert not await TrackingEvent.exists()


async def test_refused_scans_are_422_and_the_good_ones_are_kept(
    api: GraphQLClient, http: httpx.AsyncClient
) -> None:
    await shipped_order(api, "SF5004")
    now = datetime.now(UTC)
    response = await post(
        http,
        "SF",
        [
            scan("SF0000404", "IN_TRANSIT", now),
            scan("SF5004", "IN_TRANSIT", now),
            scan("SF5004", "LOST_IN_SPACE", now),
            scan("SF5004", "IN_TRANSIT", now + timedelta(days=3)),
        ],
    )
    assert response.status_code == 422
    results = response.json()["results"]
    assert [r["outcome"] for r in results] == ["refused", "recorded", "refused", "refused"]
    assert [r.get("code") for r in results] == ["NOT_FOUND", None, "INVALID_INPUT", "INVALID_INPUT"]
    assert await TrackingEvent.all().count() == 1
