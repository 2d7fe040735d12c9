"""Redemption through the client operations: redeem, see it, cancel it, get everything back."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from models.orders import rules
from tests.support.catalog import ADDRESS, small_mall
from tests.support.graphql import GraphQLClient, admin_token, member_token
from tests.support.members import member_with_points


def redeem_input(key: str, *lines: tuple[str, int], **address: str) -> dict[str, Any]:
    return {
        "input": {
            "idempotencyKey": key,
            "lines": [{"sku": sku, "quantity": qty} for sku, qty in lines],
            "shippingAddress": {**ADDRESS, **address},
        }
    }


async def points_of(api: GraphQLClient, member: str) -> dict[str, int]:
    return (await api.op("Me", auth=member_token(member))).data["me"]["points"]  # type: ignore[no-any-return]


async def available_stock(api: GraphQLClient, sku: str) -> int:
    gift = (await api.op("Gift", {"sku": sku})).data["gift"]
    return gift["availability"]["quantityAvailable"]  # type: ignore[no-any-return]


async def test_member_redeems_sees_order_and_cancels_it(api: GraphQLClient) -> None:
    await small_mall(api)
    await member_with_points("C100", 20_000)
    token = member_token("C100")
    result = await api.op("Redeem", redeem_input("k-1", ("EL-PB10K", 2)), auth=token)
    payload = result.data["redeem"]
    assert payload["errors"] == []
    order = payload["order"]
    assert order["status"] == "CONFIRMED"
    assert order["pointsTotal"] == 13_800
    assert order["lines"] == [
        {
            "sku": "EL-PB10K",
            "name": "小米移动电源 Power Bank",
            "quantity": 2,
            "pointsEach": 6900,
            "cashEach": None,
        }
    ]
    assert order["shippingAddress"]["recipient"] == "张伟"
    assert order["shipBy"] is not None
    assert order["promisedShipDate"] is not None
    assert payload["payment"] is None
    assert await points_of(api, "C100") == {
        "balance": 6_200,
        "held": 0,
        "available": 6_200,
        "expiring": [],
    }
    assert await available_stock(api, "EL-PB10K") == 68

    mine = (await api.op("MyOrders", {"first": 10}, auth=token)).data["me"]["orders"]
    assert mine["totalCount"] == 1
    assert mine["edges"][0]["node"]["number"] == order["number"]
    seen = (await api.op("Order", {"number": order["number"]}, auth=token)).data["order"]
    assert seen["number"] == order["number"]

    cancelled = (
        await api.op("CancelOrder", {"input": {"orderNumber": order["number"]}}, auth=token)
    ).data
    assert cancelled["cancelOrder"] == {
        "order": {"number": order["number"], "status": "CANCELLED"},
        "errors": [],
    }
    assert (await points_of(api, "C100"))["available"] == 20_000
    assert await available_stock(api, "EL-PB10K") == 70
    again = (
        await api.op("CancelOrder", {"input": {"orderNumber": order["number"]}}, auth=token)
    ).data
    assert again["cancelOrder"]["errors"][0]["code"] == "INVALID_TRANSITION"
    statuses = (await api.op("MyOrders", {"first": 5, "status": ["CONFIRMED"]}, auth=token)).data
    assert statuses["me"]["orders"]["totalCount"] == 0


async def test_insufficient_points_changes_nothing(api: GraphQLClient) -> None:
    await small_mall(api)
    await member_with_points("C101", 5_000)
    result = await api.op("Redeem", redeem_input("k-1", ("EL-PB10K", 1)), auth=member_token("C101"))
    payload = result.data["redeem"]
    assert payload["order"] is None
    assert payload["errors"][0]["code"] == "INSUFFICIENT_POINTS"
    assert (await points_of(api, "C101"))["available"] == 5_000
    assert await available_stock(api, "EL-PB10K") == 70
    assert (await api.op("MyOrders", {"first": 5}, auth=member_token("C101"))).data["me"]["orders"][
        "totalCount"
    ] == 0


async def test_business_failures_have_codes_and_fields(api: GraphQLClient) -> None:
    await small_mall(api)
    await member_with_points("C102", 100_000)
    token = member_token("C102")

    async def first_error(variables: dict[str, Any]) -> dict[str, Any]:
        payload = (await api.op("Redeem", variables, auth=token)).data["redeem"]
        assert payload["order"] is None
        return payload["errors"][0]  # type: ignore[no-any-return]

    assert (await first_error(redeem_input("a", ("NOPE", 1))))["code"] == "NOT_FOUND"
    assert (await first_error(redeem_input("b", ("EL-OLD", 1))))["code"] == "GIFT_INACTIVE"
    second_missing = await first_error(redeem_input("b2", ("EL-PB10K", 1), ("NOPE", 1)))
    assert (second_missing["code"], second_missing["field"]) == ("NOT_FOUND", "lines.1.sku")
    assert (await first_error(redeem_input("c", ("HM-TOWEL", 1))))["code"] == "OUT_OF_STOCK"
    assert await first_error(redeem_input("d", ("EL-PB10K", 0))) == {
        "code": "INVALID_INPUT",
        "message": "lines.0.quantity must be between 1 and 99",
        "field": "lines.0.quantity",
    }
    assert (await first_error(redeem_input("e", ("EL-PB10K", 100))))["field"] == "lines.0.quantity"
    assert (await first_error(redeem_input("f", ("EL-PB10K", 1), ("EL-PB10K", 1))))[
        "field"
    ] == "lines.1.sku"
    assert (await first_error(redeem_input("g", ("EL-PB10K", 1), phone="call me")))[
        "field"
    ] == "shippingAddress.phone"
    assert (await first_error(redeem_input("h", ("EL-PB10K", 1), recipient=" ")))[
        "field"
    ] == "shippingAddress.recipient"
    assert (await first_error(redeem_input("i", ("EL-BUDS", 4))))["code"] == "OUT_OF_STOCK"
    assert (await points_of(api, "C102"))["available"] == 100_000


async def test_per_member_limit(api: GraphQLClient) -> None:
    await small_mall(api)
    await api.op(
        "AdjustStock",
        {"input": {"sku": "HM-TOWEL", "warehouseCode": "SH01", "delta": 10, "reason": "r"}},
        auth=admin_token(),
    )
    await member_with_points("C103", 100_000)
    token = member_token("C103")
    first = (await api.op("Redeem", redeem_input("a", ("HM-TOWEL", 2)), auth=token)).data["redeem"]
    assert first["errors"] == []
    second = (await api.op("Redeem", redeem_input("b", ("HM-TOWEL", 1)), auth=token)).data["redeem"]
    assert second["errors"][0]["code"] == "LIMIT_EXCEEDED"
    await api.op("CancelOrder", {"input": {"orderNumber": first["order"]["number"]}}, auth=token)
    third = (await api.op("Redeem", redeem_input("c", ("HM-TOWEL", 2)), auth=token)).data["redeem"]
    assert third["errors"] == []


async def test_idempotency_key_returns_first_order_and_refuses_other_lines(
    api: GraphQLClient,
) -> None:
    await small_mall(api)
    await member_with_points("C104", 30_000)
    token = member_token("C104")
    first = (await api.op("Redeem", redeem_input("same", ("EL-PB10K", 1)), auth=token)).data[
        "redeem"
    ]
    retry = (await api.op("Redeem", redeem_input("same", ("EL-PB10K", 1)), auth=token)).data[
        "redeem"
    ]
    assert retry["order"]["number"] == first["order"]["number"]
    assert (await points_of(api, "C104"))["available"] == 30_000 - 6_900
    other = (await api.op("Redeem", redeem_input("same", ("HM-MUG", 1)), auth=token)).data["redeem"]
    assert other["errors"][0]["code"] == "IDEMPOTENCY_CONFLICT"
    await api.op("CancelOrder", {"input": {"orderNumber": first["order"]["number"]}}, auth=token)
    after_cancel = (await api.op("Redeem", redeem_input("same", ("EL-PB10K", 1)), auth=token)).data[
        "redeem"
    ]
    assert after_cancel["order"]["number"] == first["order"]["number"]
    assert after_cancel["order"]["status"] == "CANCELLED"


async def test_concurrent_retries_with_one_key_make_one_order(api: GraphQLClient) -> None:
    await small_mall(api)
    await member_with_points("C105", 30_000)
    token = member_token("C105")
    results = await asyncio.gather(
        *[api.op("Redeem", redeem_input("burst", ("EL-PB10K", 1)), auth=token) for _ in range(8)]
    )
    numbers = {r.data["redeem"]["order"]["number"] for r in results}
    assert len(numbers) == 1
    assert (await points_of(api, "C105"))["available"] == 30_000 - 6_900


async def test_concurrent_requests_with_one_key_and_other_lines_make_one_order(
    api: GraphQLClient,
) -> None:
    await small_mall(api)
    await member_with_points("C107", 30_000)
    token = member_token("C107")
    results = await asyncio.gather(
        *[
            api.op("Redeem", redeem_input("mixed", (sku, 1)), auth=token)
            for sku in ("EL-PB10K", "HM-MUG") * 4
        ]
    )
    placed = {r.data["redeem"]["order"]["number"] for r in results if r.data["redeem"]["order"]}
    refused = [
        r.data["redeem"]["errors"][0]["code"] for r in results if not r.data["redeem"]["order"]
    ]
    assert len(placed) == 1
    assert refused == ["IDEMPOTENCY_CONFLICT"] * 4
    orders = (await api.op("MyOrders", {"first": 10}, auth=token)).data["me"]["orders"]
    assert orders["totalCount"] == 1
    spent = orders["edges"][0]["node"]["pointsTotal"]
    assert (await points_of(api, "C107"))["available"] == 30_000 - spent


async def test_members_see_only_their_own_orders(api: GraphQLClient) -> None:
    await small_mall(api)
    await member_with_points("C106", 30_000)
    placed = (
        await api.op("Redeem", redeem_input("x", ("EL-PB10K", 1)), auth=member_token("C106"))
    ).data
    number = placed["redeem"]["order"]["number"]
    assert (await api.op("Order", {"number": number}, auth=member_token("C999"))).data[
        "order"
    ] is None
    steal = await api.op(
        "CancelOrder", {"input": {"orderNumber": number}}, auth=member_token("C999")
    )
    assert steal.data["cancelOrder"]["errors"][0]["code"] == "NOT_FOUND"
    assert (await api.op("Order", {"number": number}, auth=admin_token())).data["order"][
        "number"
    ] == number


async def test_an_order_number_already_taken_is_drawn_again(
    api: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await small_mall(api)
    await member_with_points("C400", 40_000)
    token = member_token("C400")
    first = await api.op("Redeem", redeem_input("n-1", ("HM-MUG", 1)), auth=token)
    taken = first.data["redeem"]["order"]["number"]
    fresh = rules.new_order_number(datetime.now(UTC))
    drawn = iter([taken, fresh])
    monkeypatch.setattr(rules, "new_order_number", lambda now: next(drawn))
    second = (await api.op("Redeem", redeem_input("n-2", ("HM-MUG", 1)), auth=token)).data
    assert second["redeem"]["errors"] == []
    assert second["redeem"]["order"]["number"] == fresh
    assert (await points_of(api, "C400"))["balance"] == 40_000 - 2 * 7_800
    assert await available_stock(api, "HM-MUG") == 8


async def test_an_order_number_another_member_used_is_drawn_again(
    api: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await small_mall(api)
    await member_with_points("C401", 40_000)
    await member_with_points("C402", 40_000)
    first = await api.op("Redeem", redeem_input("o-1", ("HM-MUG", 1)), auth=member_token("C401"))
    taken = first.data["redeem"]["order"]["number"]  # its REDEEM entry carries the number
    fresh = rules.new_order_number(datetime.now(UTC))
    drawn = iter([taken, fresh])
    monkeypatch.setattr(rules, "new_order_number", lambda now: next(drawn))
    second = await api.op("Redeem", redeem_input("o-2", ("EL-PB10K", 1)), auth=member_token("C402"))
    assert second.data["redeem"]["errors"] == []
    assert second.data["redeem"]["order"]["number"] == fresh
    assert (await points_of(api, "C402"))["balance"] == 40_000 - 6_900
    assert (await points_of(api, "C401"))["balance"] == 40_000 - 7_800
