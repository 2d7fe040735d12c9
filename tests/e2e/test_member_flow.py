"""The member's whole journey over real HTTP against a running API process."""

from __future__ import annotations

from tests.fakes.stripe_server import StripeFake
from tests.support.catalog import ADDRESS, gift, small_mall, stock
from tests.support.graphql import GraphQLClient, admin_token, member_token


async def test_browse_redeem_see_cancel_and_get_points_back(http_api: GraphQLClient) -> None:
    api = http_api
    await small_mall(api)
    award = {
        "input": {
            "memberExternalId": "E2E-1",
            "amount": 9_000,
            "reason": "monthly bill",
            "externalRef": "bill-2026-11-E2E-1",
        }
    }
    assert (await api.op("AwardPoints", award, auth=admin_token())).data["awardPoints"][
        "errors"
    ] == []
    token = member_token("E2E-1")
    catalog = (
        await api.op("Catalog", {"first": 10, "filter": {"affordable": True}}, auth=token)
    ).data
    affordable = {e["node"]["sku"] for e in catalog["gifts"]["edges"]}
    assert "EL-PB10K" in affordable
    assert "EL-BUDS" not in affordable

    placed = await api.op(
        "Redeem",
        {
            "input": {
                "idempotencyKey": "e2e-1",
                "lines": [{"sku": "EL-PB10K", "quantity": 1}],
                "shippingAddress": ADDRESS,
            }
        },
        auth=token,
    )
    order = placed.data["redeem"]["order"]
    assert order["status"] == "CONFIRMED"
    me = (await api.op("Me", auth=token)).data["me"]
    assert me["points"]["available"] == 2_100
    orders = (await api.op("MyOrders", {"first": 5}, auth=token)).data["me"]["orders"]
    assert [e["node"]["number"] for e in orders["edges"]] == [order["number"]]
    history = (await api.op("PointsHistory", {"first": 10}, auth=token)).data["me"]["pointsHistory"]
    assert [e["node"]["kind"] for e in history["edges"]] == ["REDEEM", "EARN"]
    assert history["edges"][0]["node"]["orderNumber"] == order["number"]

    cancel = await api.op("CancelOrder", {"input": {"orderNumber": order["number"]}}, auth=token)
    assert cancel.data["cancelOrder"]["order"]["status"] == "CANCELLED"
    assert (await api.op("Me", auth=token)).data["me"]["points"]["available"] == 9_000
    gift_after = (await api.op("Gift", {"sku": "EL-PB10K"})).data["gift"]
    assert gift_after["availability"]["quantityAvailable"] == 70


async def test_paid_flow_over_http_with_signed_webhook(
    http_api: GraphQLClient, stripe: StripeFake
) -> None:
    api = http_api
    await small_mall(api)
    await gift(api, "EL-LAMP", 26_000, name="明基台灯 Desk Lamp", cash="49.00")
    await stock(api, "EL-LAMP", "GZ01", 3)
    award = {
        "input": {
            "memberExternalId": "E2E-2",
            "amount": 30_000,
            "reason": "bill",
            "externalRef": "e2e-2",
        }
    }
    await api.op("AwardPoints", award, auth=admin_token())
    token = member_token("E2E-2")
    placed = (
        await api.op(
            "Redeem",
            {
                "input": {
                    "idempotencyKey": "lamp",
                    "lines": [{"sku": "EL-LAMP", "quantity": 1}],
                    "shippingAddress": ADDRESS,
                }
            },
            auth=token,
        )
    ).data["redeem"]
    assert placed["order"]["status"] == "AWAITING_PAYMENT"
    creates = [r for r in stripe.requests if r.path == "/v1/payment_intents"]
    assert len(creates) == 1
    assert creates[0].params["amount"] == "4900"
    assert creates[0].idempotency_key == f"payment_intent:{placed['order']['number']}"
    intent_id = placed["payment"]["clientSecret"].split("_secret_")[0]
    response = await stripe.deliver(stripe.succeed(intent_id))
    assert response.status_code == 200
    order = (await api.op("Order", {"number": placed["order"]["number"]}, auth=token)).data["order"]
    assert order["status"] == "CONFIRMED"
    assert order["shipBy"] is not None
    assert (await api.op("Me", auth=token)).data["me"]["points"] == {
        "balance": 4_000,
        "held": 0,
        "available": 4_000,
        "expiring": [],
    }
