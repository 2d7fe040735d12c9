"""A member follows their parcel live over graphql-transport-ws while the warehouse works."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.catalog import ADDRESS, small_mall
from tests.support.databases import target
from tests.support.graphql import GraphQLClient, member_token, operation, staff_token
from tests.support.members import member_with_points
from tests.support.server import api_process
from tests.support.ws import GraphQLSocket, graphql_socket

STAFF = staff_token("SH01")


async def redeemed(api: GraphQLClient, member: str) -> str:
    await small_mall(api)
    await member_with_points(member, 20_000)
    variables = {
        "input": {
            "idempotencyKey": f"live-{member}",
            "lines": [{"sku": "HM-MUG", "quantity": 1}],
            "shippingAddress": ADDRESS,
        }
    }
    placed = await api.op("Redeem", variables, auth=member_token(member))
    return str(placed.data["redeem"]["order"]["number"])


async def staff(api: GraphQLClient, name: str, variables: dict[str, Any]) -> None:
    payload = next(iter((await api.op(name, {"input": variables}, auth=STAFF)).data.values()))
    assert payload["errors"] == [], payload


async def work_and_watch(api: GraphQLClient, socket: GraphQLSocket, sid: str, number: str) -> None:
    """Pick, pack, ship and scan through `api`; each change arrives on `socket`, in order."""
    at = datetime.now(UTC) - timedelta(hours=3)
    steps: list[tuple[str, dict[str, Any], str, str | None]] = [
        ("StartPicking", {"orderNumber": number}, "PICKING", None),
        ("MarkPacked", {"orderNumber": number}, "PACKED", None),
        (
            "ShipOrder",
            {"orderNumber": number, "carrier": "SF", "trackingNumber": f"SF{number}"},
            "SHIPPED",
            "SHIPPED",
        ),
    ]
    scans = [("IN_TRANSIT", at), ("OUT_FOR_DELIVERY", at + timedelta(hours=1))]
    for status, when in [*scans, ("DELIVERED", at + timedelta(hours=2))]:
        event = {
            "carrier": "SF",
            "trackingNumber": f"SF{number}",
            "status": status,
            "location": "上海",
            "description": "",
            "occurredAt": when.isoformat(),
        }
        steps.append(
            (
                "RecordTrackingEvent",
                event,
                "DELIVERED" if status == "DELIVERED" else "SHIPPED",
                status,
            )
        )
    for name, variables, order_status, parcel_status in steps:
        await staff(api, name, variables)
        update = (await socket.next_payload(sid))["data"]["orderUpdated"]
        assert update["number"] == number
        assert update["status"] == order_status, (name, update)
        shipment = update["shipment"]
        assert (shipment and shipment["status"]) == parcel_status, (name, update)
    assert [e["status"] for e in shipment["events"]] == [
        "IN_TRANSIT",
        "OUT_FOR_DELIVERY",
        "DELIVERED",
    ]


async def test_the_member_receives_each_change_of_their_order_in_order(
    http_api: GraphQLClient, server_url: str
) -> None:
    number = await redeemed(http_api, "LIVE-1")
    async with graphql_socket(server_url, member_token("LIVE-1")) as socket:
        sid = await socket.subscribe(operation("OrderUpdates"), {"number": number})
        await work_and_watch(http_api, socket, sid, number)


async def test_others_cannot_follow_the_order(http_api: GraphQLClient, server_url: str) -> None:
    number = await redeemed(http_api, "LIVE-2")
    for token, code in [
        (member_token("LIVE-3"), "NOT_FOUND"),
        (STAFF, "FORBIDDEN"),
        (None, "UNAUTHENTICATED"),
    ]:
        async with graphql_socket(server_url, token) as socket:
            sid = await socket.subscribe(operation("OrderUpdates"), {"number": number})
            message = await socket.receive()
            assert message["id"] == sid
            errors = (
                message["payload"] if message["type"] == "error" else message["payload"]["errors"]
            )
            assert [e["extensions"]["code"] for e in errors] == [code]


@pytest.mark.skipif(target() != "postgres", reason="replicas share notices through PostgreSQL")
async def test_a_change_through_one_replica_reaches_subscribers_on_another(
    http_api: GraphQLClient, server_url: str, orm: str, session_tmp: Path
) -> None:
    number = await redeemed(http_api, "LIVE-4")
    async with (
        api_process(orm, session_tmp / "api-replica-b.log") as replica_b,
        graphql_socket(replica_b, member_token("LIVE-4")) as socket,
    ):
        sid = await socket.subscribe(operation("OrderUpdates"), {"number": number})
        await work_and_watch(http_api, socket, sid, number)  # changes go through replica A
