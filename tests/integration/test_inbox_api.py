"""The member's inbox, contact and preferences through the client operations, on both
databases: what a redemption or a credit tells, the unread count, marking read, and every
refusal with its stable code."""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

import pytest
from strawberry import relay

from models.orders.models import Order
from tests.support.catalog import ADDRESS, small_mall
from tests.support.graphql import GraphQLClient, admin_token, member_token
from tests.support.members import member_with_points

ME = "INBOX-1"


async def contact(api: GraphQLClient, external_id: str, **fields: Any) -> dict[str, Any]:
    variables = {"input": {"externalId": external_id, **fields}}
    return (await api.op("UpsertMember", variables, auth=admin_token())).data["upsertMember"]


async def redeem(api: GraphQLClient, external_id: str, key: str) -> dict[str, Any]:
    lines = [{"sku": "EL-PB10K", "quantity": 1}]
    variables = {"input": {"idempotencyKey": key, "lines": lines, "shippingAddress": ADDRESS}}
    payload = (await api.op("Redeem", variables, auth=member_token(external_id))).data["redeem"]
    assert payload["errors"] == [], payload["errors"]
    order: dict[str, Any] = payload["order"]
    return order


async def inbox(api: GraphQLClient, external_id: str, first: int = 20) -> dict[str, Any]:
    result = await api.op("MyNotifications", {"first": first}, auth=member_token(external_id))
    me: dict[str, Any] = result.data["me"]
    return me


async def mark(api: GraphQLClient, external_id: str, **input: Any) -> dict[str, Any]:
    result = await api.op("MarkNotificationsRead", {"input": input}, auth=member_token(external_id))
    payload: dict[str, Any] = result.data["markNotificationsRead"]
    return payload


async def preferences(api: GraphQLClient, external_id: str, **input: Any) -> dict[str, Any]:
    result = await api.op(
        "SetNotificationPreferences", {"input": input}, auth=member_token(external_id)
    )
    payload: dict[str, Any] = result.data["setNotificationPreferences"]
    return payload


async def award(api: GraphQLClient, external_id: str, amount: int, ref: str) -> None:
    variables = {
        "input": {
            "memberExternalId": external_id,
            "amount": amount,
            "externalRef": ref,
            "reason": "bill",
        }
    }
    payload = (await api.op("AwardPoints", variables, auth=admin_token())).data["awardPoints"]
    assert payload["errors"] == [], payload["errors"]


async def test_a_redemption_puts_its_confirmation_in_the_members_inbox(api: GraphQLClient) -> None:
    await small_mall(api)
    await contact(api, ME, mobile="13800138000", language="en")
    await member_with_points(ME, 20_000)
    order = await redeem(api, ME, "inbox-1")
    me = await inbox(api, ME)
    assert me["unreadNotifications"] == 1
    [edge] = me["notifications"]["edges"]
    message = edge["node"]
    assert (message["kind"], message["read"], message["readAt"]) == ("ORDER_CONFIRMED", False, None)
    assert message["order"] == {"number": order["number"], "status": "CONFIRMED"}
    ships = order["promisedShipDate"]
    expected = f"[PointsMall] Order {order['number']} is confirmed and will ship by {ships}."
    assert message["text"] == expected, "the member's language, with the order's ship date"
    assert me["notifications"]["totalCount"] == 1
    assert me["notifications"]["pageInfo"] == {"hasNextPage": False, "endCursor": edge["cursor"]}


async def test_the_text_follows_the_members_language_and_the_orders_current_day(
    api: GraphQLClient,
) -> None:
    await small_mall(api)
    await member_with_points(ME, 20_000)
    order = await redeem(api, ME, "inbox-zh")
    [edge] = (await inbox(api, ME))["notifications"]["edges"]
    assert edge["node"]["text"] == (
        f"【积分商城】您的订单{order['number']}已确认，将于{order['promisedShipDate']}前发货。"
    )
    await Order.filter(number=order["number"]).update(promised_ship_date=date(2031, 1, 2))
    assert (await preferences(api, ME, language="en"))["errors"] == []
    [edge] = (await inbox(api, ME))["notifications"]["edges"]
    assert edge["node"]["text"].endswith("will ship by 2031-01-02.")


async def test_a_billing_credit_from_the_threshold_up_is_told_in_the_inbox(
    api: GraphQLClient,
) -> None:
    await contact(api, ME, language="en")
    await award(api, ME, 999, "bill-small")
    await award(api, ME, 1_000, "bill-big")
    await award(api, ME, 1_000, "bill-big")  # the same credit, told once
    [edge] = (await inbox(api, ME))["notifications"]["edges"]
    assert edge["node"]["kind"] == "POINTS_CREDITED"
    assert edge["node"]["order"] is None
    assert edge["node"]["text"] == (
        "[PointsMall] You earned 1000 points (bill); 1999 points are available now."
    )


async def test_messages_are_marked_read_by_id_or_all_at_once(api: GraphQLClient) -> None:
    await small_mall(api)
    await member_with_points(ME, 50_000)
    for key in ("m-1", "m-2", "m-3"):
        await redeem(api, ME, key)
    ids = [e["node"]["id"] for e in (await inbox(api, ME))["notifications"]["edges"]]
    assert len(ids) == 3
    assert await mark(api, ME, ids=[ids[0]]) == {
        "marked": 1,
        "unreadNotifications": 2,
        "errors": [],
    }
    assert (await mark(api, ME, ids=[ids[0]]))["marked"] == 0, "already read"
    assert (await mark(api, ME, ids=[]))["unreadNotifications"] == 2
    me = await inbox(api, ME)
    read = [e["node"]["read"] for e in me["notifications"]["edges"]]
    assert read == [True, False, False]
    assert me["notifications"]["edges"][0]["node"]["readAt"] is not None
    assert await mark(api, ME, all=True) == {"marked": 2, "unreadNotifications": 0, "errors": []}
    badge = await api.op("UnreadNotifications", auth=member_token(ME))
    assert badge.data == {"me": {"unreadNotifications": 0}}


async def test_the_inbox_pages_newest_first(api: GraphQLClient) -> None:
    await small_mall(api)
    await member_with_points(ME, 50_000)
    numbers = [(await redeem(api, ME, f"p-{n}"))["number"] for n in range(3)]
    first = (await inbox(api, ME, first=2))["notifications"]
    assert first["totalCount"] == 3
    assert first["pageInfo"]["hasNextPage"] is True
    after = first["pageInfo"]["endCursor"]
    rest = await api.op("MyNotifications", {"first": 2, "after": after}, auth=member_token(ME))
    page = rest.data["me"]["notifications"]
    seen = [e["node"]["order"]["number"] for e in [*first["edges"], *page["edges"]]]
    assert seen == numbers[::-1]
    assert page["pageInfo"]["hasNextPage"] is False
    too_many = await api.op("MyNotifications", {"first": 101}, auth=member_token(ME))
    assert too_many.error_codes == ["INVALID_INPUT"]


def gid(type_name: str, row_id: object) -> str:
    return base64.b64encode(f"{type_name}:{row_id}".encode()).decode()


@pytest.mark.parametrize(
    ("input", "field"),
    [
        ({}, "ids"),
        ({"all": False}, "ids"),
        ({"ids": None, "all": None}, "ids"),
        ({"ids": [gid("Notification", 1)], "all": True}, "all"),
        ({"ids": [gid("RedemptionOrder", 1)]}, "ids.0"),
        ({"ids": [gid("Notification", 1), gid("Member", 1)]}, "ids.1"),
        ({"ids": [gid("Notification", "abc")]}, "ids.0"),
        ({"ids": [gid("Notification", "²")]}, "ids.0"),
        ({"ids": [gid("Notification", 10**30)]}, "ids.0"),
        ({"ids": ["not an id"]}, "ids.0"),
        ({"ids": ["x" * 10_000]}, "ids.0"),
        ({"ids": [gid("Notification", n) for n in range(1, 102)]}, "ids"),
    ],
)
async def test_marking_refuses_what_names_no_message_with_invalid_input(
    api: GraphQLClient, input: dict[str, Any], field: str
) -> None:
    payload = await mark(api, ME, **input)
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_INPUT", field)]
    assert payload["marked"] == 0
    assert payload["unreadNotifications"] == 0


async def test_preferences_change_only_what_is_given(api: GraphQLClient) -> None:
    await contact(api, ME, mobile="+86 138-0013-8000", optOuts=["POINTS_EXPIRING"])
    payload = await preferences(api, ME, language="EN", optOuts=["order_at_risk", "ORDER_AT_RISK"])
    assert payload == {
        "member": {"language": "en", "optOuts": ["ORDER_AT_RISK"]},
        "errors": [],
    }
    kept = await preferences(api, ME, language=None)
    assert kept["member"] == {"language": "en", "optOuts": ["ORDER_AT_RISK"]}
    cleared = await preferences(api, ME, optOuts=[])
    assert cleared["member"] == {"language": "en", "optOuts": []}
    assert (await preferences(api, ME, optOuts=["ALL"]))["member"]["optOuts"] == ["ALL"]
    mine = await api.op("NotificationPreferences", auth=member_token(ME))
    assert mine.data["me"] == {"mobile": "+8613800138000", "language": "en", "optOuts": ["ALL"]}


@pytest.mark.parametrize(
    ("input", "field"),
    [
        ({"language": "fr"}, "language"),
        ({"language": ""}, "language"),
        ({"language": "x" * 10_000}, "language"),
        ({"optOuts": ["ORDER_CONFIRMED"]}, "optOuts"),  # essential: cannot be turned off
        ({"optOuts": ["SMS_REPLY"]}, "optOuts"),
        ({"optOuts": ["NO_SUCH_KIND"]}, "optOuts"),
        ({"optOuts": ["y" * 10_000]}, "optOuts"),
        ({"language": "en", "optOuts": ["ORDER_SHIPPED"]}, "optOuts"),
    ],
)
async def test_bad_preferences_are_invalid_input_and_change_nothing(
    api: GraphQLClient, input: dict[str, Any], field: str
) -> None:
    await contact(api, ME, language="zh-CN", optOuts=["POINTS_EXPIRING"])
    payload = await preferences(api, ME, **input)
    assert payload["member"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_INPUT", field)]
    mine = await api.op("NotificationPreferences", auth=member_token(ME))
    assert mine.data["me"]["language"] == "zh-CN"
    assert mine.data["me"]["optOuts"] == ["POINTS_EXPIRING"]


async def test_the_crm_states_the_whole_contact(api: GraphQLClient) -> None:
    created = await contact(
        api, ME, mobile="8613800138000", language="en", optOuts=["POINTS_EXPIRING", "QUESTION"]
    )
    assert created["errors"] == []
    assert {k: created["member"][k] for k in ("mobile", "language", "optOuts")} == {
        "mobile": "+8613800138000",
        "language": "en",
        "optOuts": ["POINTS_EXPIRING", "QUESTION"],
    }
    foreign = await contact(api, ME, mobile="+44 20 7946 0018")
    assert foreign["member"]["mobile"] == "+442079460018"
    again = await contact(api, ME, displayName="王芳")  # the whole member: contact cleared
    assert {k: again["member"][k] for k in ("mobile", "language", "optOuts")} == {
        "mobile": None,
        "language": "zh-CN",
        "optOuts": [],
    }
    read = await api.op("Member", {"externalId": ME}, auth=admin_token())
    assert read.data["member"]["mobile"] is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"mobile": "12345"}, "mobile"),
        ({"mobile": "+8612345678901"}, "mobile"),
        ({"mobile": "１３８００１３８０００"}, "mobile"),  # full-width digits
        ({"mobile": "1" * 10_000}, "mobile"),
        ({"language": "x" * 10_000}, "language"),
        ({"optOuts": ["ORDER_CANCELLED"]}, "optOuts"),
    ],
)
async def test_a_bad_contact_is_invalid_input(
    api: GraphQLClient, fields: dict[str, Any], field: str
) -> None:
    payload = await contact(api, ME, **fields)
    assert payload["member"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_INPUT", field)]


async def test_a_notification_is_a_node_for_its_member_and_admins(api: GraphQLClient) -> None:
    await small_mall(api)
    await member_with_points(ME, 20_000)
    await redeem(api, ME, "node-1")
    [edge] = (await inbox(api, ME))["notifications"]["edges"]
    query = "query($id: ID!) { node(id: $id) { id ... on Notification { kind read } } }"
    mine = await api.query(query, {"id": edge["node"]["id"]}, auth=member_token(ME))
    assert mine.data["node"] == {"id": edge["node"]["id"], "kind": "ORDER_CONFIRMED", "read": False}
    admin = await api.query(query, {"id": edge["node"]["id"]}, auth=admin_token())
    assert admin.data["node"]["kind"] == "ORDER_CONFIRMED"
    row_id = relay.GlobalID.from_id(edge["node"]["id"]).node_id
    for other in (gid("Notification", int(row_id) + 1), gid("Notification", "²")):
        assert (await api.query(query, {"id": other}, auth=member_token(ME))).data["node"] is None
