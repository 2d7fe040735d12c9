"""The warehouse console's flow through its client operations: queue, pick, pack, ship, scans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fulfilment.models import Deadline, Shipment, TrackingEvent
from models.catalog.models import Stock
from tests.support.catalog import gift, small_mall, stock
from tests.support.fulfilment import packed, place, shipped
from tests.support.graphql import (
    GraphQLClient,
    admin_token,
    member_token,
    staff_token,
)
from tests.support.members import member_with_points
from tests.support.sql import counting_statements

SH01 = staff_token("SH01")


async def queue(api: GraphQLClient, auth: str = SH01, **variables: Any) -> dict[str, Any]:
    args = {"warehouseCode": "SH01", "first": 10, **variables}
    return (await api.op("FulfilmentQueue", args, auth=auth)).data["fulfilmentQueue"]  # type: ignore[no-any-return]


async def act(api: GraphQLClient, name: str, number: str, auth: str = SH01, **extra: str) -> Any:
    result = await api.op(name, {"input": {"orderNumber": number, **extra}}, auth=auth)
    return next(iter(result.data.values()))


async def scan(
    api: GraphQLClient, tracking: str, status: str, at: datetime, auth: str = SH01, **extra: str
) -> dict[str, Any]:
    event = {
        "carrier": "sf",
        "trackingNumber": tracking,
        "status": status,
        "location": extra.get("location", "上海"),
        "description": extra.get("description", ""),
        "occurredAt": at.isoformat(),
    }
    result = await api.op("RecordTrackingEvent", {"input": event}, auth=auth)
    return result.data["recordTrackingEvent"]  # type: ignore[no-any-return]


async def order_status(api: GraphQLClient, number: str) -> dict[str, Any]:
    return (await api.op("Order", {"number": number}, auth=admin_token())).data["order"]  # type: ignore[no-any-return]


async def test_the_queue_serves_the_earliest_ship_by_first_in_stable_pages(
    api: GraphQLClient,
) -> None:
    await small_mall(api)
    await member_with_points("F100", 100_000)
    now = datetime.now(UTC)
    late = await place("F100", "late", ("EL-PB10K", 1), now=now - timedelta(hours=1))
    urgent = await place("F100", "urgent", ("HM-MUG", 2), now=now - timedelta(days=6))
    middle = await place("F100", "middle", ("EL-PB10K", 1), now=now - timedelta(hours=3))

    page = await queue(api, first=2)
    assert page["totalCount"] == 3
    assert [e["node"]["number"] for e in page["edges"]] == [urgent.number, middle.number]
    assert page["pageInfo"]["hasNextPage"] is True
    first = page["edges"][0]["node"]
    assert first["status"] == "CONFIRMED"
    assert first["atRisk"] is True
    assert 23 < first["hoursLeft"] <= 24
    assert first["lines"] == [{"sku": "HM-MUG", "name": "Thermos Mug", "quantity": 2}]
    assert first["shippingAddress"]["recipient"] == "王芳"
    assert page["edges"][1]["node"]["atRisk"] is False

    rest = await queue(api, first=2, after=page["pageInfo"]["endCursor"])
    assert [e["node"]["number"] for e in rest["edges"]] == [late.number]
    assert rest["pageInfo"]["hasNextPage"] is False

    await act(api, "StartPicking", middle.number)
    picking = await queue(api, status=["PICKING"])
    assert [e["node"]["number"] for e in picking["edges"]] == [middle.number]
    await shipped(late.number, "SF-LATE-1")
    assert (await queue(api))["totalCount"] == 2, "shipped orders leave the default queue"


async def test_a_queue_page_costs_the_same_few_statements_at_10_and_100_orders(
    api: GraphQLClient,
) -> None:
    await small_mall(api)
    await gift(api, "CHEAP", 10)
    await stock(api, "CHEAP", "SH01", 200)
    await member_with_points("F101", 10_000)
    for i in range(100):
        await place("F101", f"cheap-{i}", ("CHEAP", 1))
    counts = []
    for size in (10, 100):
        with counting_statements() as statements:
            page = await queue(api, first=size)
        assert len(page["edges"]) == size
        assert all(len(e["node"]["lines"]) == 1 for e in page["edges"])
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 5, counts


async def test_staff_move_an_order_step_by_step_and_never_out_of_turn(
    api: GraphQLClient,
) -> None:
    await small_mall(api)
    await member_with_points("F102", 30_000)
    order = await place("F102", "k", ("EL-PB10K", 2))
    before = await Stock.get(gift__sku="EL-PB10K", warehouse__code="SH01")
    assert (before.on_hand, before.reserved) == (50, 2)

    refused = await act(api, "MarkPacked", order.number)
    assert refused["order"] is None
    assert refused["errors"][0]["code"] == "INVALID_TRANSITION"
    shipping = await act(api, "ShipOrder", order.number, carrier="SF", trackingNumber="SF0001")
    assert shipping["errors"][0]["code"] == "INVALID_TRANSITION"
    assert (await order_status(api, order.number))["status"] == "CONFIRMED"

    assert (await act(api, "StartPicking", order.number)) == {
        "order": {"number": order.number, "status": "PICKING"},
        "errors": [],
    }
    again = await act(api, "StartPicking", order.number)
    assert again["errors"][0]["code"] == "INVALID_TRANSITION"
    assert (await act(api, "MarkPacked", order.number))["order"]["status"] == "PACKED"

    sent = await act(api, "ShipOrder", order.number, carrier=" sf", trackingNumber="sf 0001")
    assert sent["errors"] == []
    assert sent["order"]["status"] == "SHIPPED"
    assert sent["order"]["shippedAt"] is not None
    assert sent["order"]["shipment"] == {
        "carrier": "SF",
        "trackingNumber": "SF0001",
        "status": "SHIPPED",
    }
    after = await Stock.get(id=before.id)
    assert (after.on_hand, after.reserved) == (48, 0), "the units left the warehouse"
    assert not await Deadline.filter(order_id=order.id).exists(), "no deadline left to watch"
    twice = await act(api, "ShipOrder", order.number, carrier="SF", trackingNumber="SF0002")
    assert twice["errors"][0]["code"] == "INVALID_TRANSITION"
    cancel = await api.op(
        "CancelOrder", {"input": {"orderNumber": order.number}}, auth=member_token("F102")
    )
    assert cancel.data["cancelOrder"]["errors"][0]["code"] == "INVALID_TRANSITION"


async def test_a_tracking_number_is_unique_per_carrier(api: GraphQLClient) -> None:
    await small_mall(api)
    await member_with_points("F103", 30_000)
    first = await place("F103", "a", ("EL-PB10K", 1))
    second = await place("F103", "b", ("EL-PB10K", 1))
    await packed(first.number)
    await packed(second.number)
    ok = await act(api, "ShipOrder", first.number, carrier="SF", trackingNumber="SF7777")
    assert ok["errors"] == []
    clash = await act(api, "ShipOrder", second.number, carrier="sf", trackingNumber="sf7777")
    assert clash["order"] is None
    assert clash["errors"] == [
        {
            "code": "DUPLICATE_TRACKING_NUMBER",
            "message": "SF tracking number SF7777 is already on another parcel",
            "field": "trackingNumber",
        }
    ]
    assert (await order_status(api, second.number))["status"] == "PACKED"
    other = await act(api, "ShipOrder", second.number, carrier="YTO", trackingNumber="SF7777")
    assert other["errors"] == []
    assert other["order"]["shipment"]["carrier"] == "YTO"
    bad = await act(api, "ShipOrder", second.number, carrier="S F", trackingNumber="X1")
    assert bad["errors"][0]["code"] == "INVALID_INPUT"


async def test_scans_are_stored_once_in_time_order_and_delivered_completes_the_order(
    api: GraphQLClient,
) -> None:
    await small_mall(api)
    await member_with_points("F104", 30_000)
    order = await place("F104", "k", ("EL-PB10K", 1))
    await shipped(order.number, "SF9001")
    t = datetime.now(UTC) - timedelta(hours=10)

    first = await scan(api, "SF9001", "IN_TRANSIT", t)
    assert first["errors"] == []
    assert first["shipment"]["status"] == "IN_TRANSIT"
    later = await scan(api, "sf9001", "OUT_FOR_DELIVERY", t + timedelta(hours=4))
    assert later["shipment"]["status"] == "OUT_FOR_DELIVERY"
    late_arrival = await scan(api, "SF9001", "IN_TRANSIT", t + timedelta(hours=2), location="杭州")
    assert late_arrival["shipment"]["status"] == "OUT_FOR_DELIVERY", "an older scan changes nothing"
    repeat = await scan(api, "SF9001", "IN_TRANSIT", t)
    events = repeat["shipment"]["events"]
    assert [(e["status"], e["location"]) for e in events] == [
        ("IN_TRANSIT", "上海"),
        ("IN_TRANSIT", "杭州"),
        ("OUT_FOR_DELIVERY", "上海"),
    ]
    assert [datetime.fromisoformat(e["occurredAt"]) for e in events] == [
        t,
        t + timedelta(hours=2),
        t + timedelta(hours=4),
    ]
    assert await TrackingEvent.all().count() == 3

    delivered_at = t + timedelta(hours=6)
    done = await scan(api, "SF9001", "DELIVERED", delivered_at.astimezone())
    assert done["shipment"]["status"] == "DELIVERED"
    seen = await order_status(api, order.number)
    assert seen["status"] == "DELIVERED"
    assert datetime.fromisoformat(seen["deliveredAt"]) == delivered_at
    assert seen["shipment"]["status"] == "DELIVERED"
    assert len(seen["shipment"]["events"]) == 4


async def test_scans_for_unknown_parcels_or_from_the_future_are_refused(
    api: GraphQLClient,
) -> None:
    await small_mall(api)
    await member_with_points("F105", 30_000)
    order = await place("F105", "k", ("EL-PB10K", 1))
    await shipped(order.number, "SF9002")
    now = datetime.now(UTC)
    unknown = await scan(api, "SF0000404", "IN_TRANSIT", now)
    assert unknown["shipment"] is None
    assert unknown["errors"][0]["code"] == "NOT_FOUND"
    future = await scan(api, "SF9002", "IN_TRANSIT", now + timedelta(days=2))
    assert future["errors"][0]["code"] == "INVALID_INPUT"
    assert future["errors"][0]["field"] == "occurredAt"
    elsewhere = await scan(api, "SF9002", "IN_TRANSIT", now, auth=staff_token("GZ01"))
    assert elsewhere["errors"][0]["code"] == "NOT_FOUND"
    assert not await TrackingEvent.exists()
    assert (await Shipment.get(order_id=order.id)).status == "SHIPPED"


async def test_staff_of_another_warehouse_can_neither_see_nor_change_the_order(
    api: GraphQLClient,
) -> None:
    await small_mall(api)
    await member_with_points("F106", 30_000)
    order = await place("F106", "k", ("HM-MUG", 1))
    stranger = staff_token("GZ01")

    forbidden = await api.op(
        "FulfilmentQueue", {"warehouseCode": "SH01", "first": 5}, auth=stranger
    )
    assert forbidden.error_codes == ["FORBIDDEN"]
    assert (await api.op("Order", {"number": order.number}, auth=stranger)).data["order"] is None
    for name in ("StartPicking", "MarkPacked"):
        assert (await act(api, name, order.number, auth=stranger))["errors"][0]["code"] == (
            "NOT_FOUND"
        )
    await packed(order.number)
    ship = await act(
        api, "ShipOrder", order.number, auth=stranger, carrier="SF", trackingNumber="SF0001"
    )
    assert ship["errors"][0]["code"] == "NOT_FOUND"
    assert (await order_status(api, order.number))["status"] == "PACKED"

    member = await api.op(
        "FulfilmentQueue", {"warehouseCode": "SH01", "first": 5}, auth=member_token("F106")
    )
    assert member.error_codes == ["FORBIDDEN"]
    anonymous = await api.op("StartPicking", {"input": {"orderNumber": order.number}})
    assert anonymous.error_codes == ["UNAUTHENTICATED"]
    admin = await queue(api, auth=admin_token())
    assert admin["totalCount"] == 1
    too_many = await api.op("FulfilmentQueue", {"warehouseCode": "SH01", "first": 101}, auth=SH01)
    assert too_many.error_codes == ["INVALID_INPUT"]
