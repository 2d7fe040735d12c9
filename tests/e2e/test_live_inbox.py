"""A member's app hears of each new message of their inbox over graphql-transport-ws, from a
running API process; another member's app hears nothing of it."""

from __future__ import annotations

from typing import Any

from tests.support.catalog import ADDRESS, small_mall
from tests.support.graphql import GraphQLClient, admin_token, member_token, operation
from tests.support.members import member_with_points
from tests.support.ws import graphql_socket


async def redeem(api: GraphQLClient, member: str) -> dict[str, Any]:
    variables = {
        "input": {
            "idempotencyKey": f"inbox-{member}",
            "lines": [{"sku": "HM-MUG", "quantity": 1}],
            "shippingAddress": ADDRESS,
        }
    }
    placed = (await api.op("Redeem", variables, auth=member_token(member))).data["redeem"]
    assert placed["errors"] == [], placed["errors"]
    order: dict[str, Any] = placed["order"]
    return order


async def test_a_redemption_reaches_its_members_app_and_no_one_elses(
    http_api: GraphQLClient, server_url: str
) -> None:
    await small_mall(http_api)
    await member_with_points("INBOX-WS-1", 20_000)
    async with (
        graphql_socket(server_url, member_token("INBOX-WS-1")) as mine,
        graphql_socket(server_url, member_token("INBOX-WS-2")) as theirs,
    ):
        sid = await mine.subscribe(operation("NotificationReceived"), {})
        other = await theirs.subscribe(operation("NotificationReceived"), {})
        order = await redeem(http_api, "INBOX-WS-1")
        message = (await mine.next_payload(sid))["data"]["notificationReceived"]
        assert (message["kind"], message["read"]) == ("ORDER_CONFIRMED", False)
        assert message["order"] == {"number": order["number"]}
        assert message["text"] == (
            f"【积分商城】您的订单{order['number']}已确认，将于{order['promisedShipDate']}前发货。"
        )
        inbox = await http_api.op("MyNotifications", {"first": 5}, auth=member_token("INBOX-WS-1"))
        assert inbox.data["me"]["notifications"]["edges"][0]["node"]["id"] == message["id"]
        marked = await http_api.op(
            "MarkNotificationsRead", {"input": {"all": True}}, auth=member_token("INBOX-WS-1")
        )
        assert marked.data["markNotificationsRead"]["marked"] == 1
        for socket in (mine, theirs):
            try:
                got = await socket.receive(timeout=0.5)
            except TimeoutError:
                continue
            raise AssertionError(f"nothing more was to be sent: {got} ({sid}, {other})")


async def test_only_members_may_listen(http_api: GraphQLClient, server_url: str) -> None:
    for token, code in [(admin_token(), "FORBIDDEN"), (None, "UNAUTHENTICATED")]:
        async with graphql_socket(server_url, token) as socket:
            sid = await socket.subscribe(operation("NotificationReceived"), {})
            message = await socket.receive()
            assert message["id"] == sid
            errors = (
                message["payload"] if message["type"] == "error" else message["payload"]["errors"]
            )
            assert [e["extensions"]["code"] for e in errors] == [code]
