"""Points plus cash: PaymentIntents on the Stripe test server, signed webhooks, refunds."""

from __future__ import annotations

from typing import Any

import httpx

from fulfilment.models import ShipDay
from models.payments.models import Payment, PaymentStatus
from models.points.audit import audit
from tests.fakes.stripe_server import StripeFake
from tests.support.catalog import ADDRESS, gift, small_mall, stock
from tests.support.graphql import GraphQLClient, admin_token, member_token
from tests.support.members import member_with_points

MEMBER = "C-CASH"


async def cash_mall(api: GraphQLClient) -> None:
    await small_mall(api)
    await gift(api, "EL-KBD", 9_000, name="罗技键盘 Keyboard", cash="29.90")
    await stock(api, "EL-KBD", "SH01", 5)
    await member_with_points(MEMBER, 20_000)


async def redeem(api: GraphQLClient, key: str = "pay-1", quantity: int = 1) -> dict[str, Any]:
    variables = {
        "input": {
            "idempotencyKey": key,
            "lines": [{"sku": "EL-KBD", "quantity": quantity}],
            "shippingAddress": ADDRESS,
        }
    }
    result = await api.op("Redeem", variables, auth=member_token(MEMBER))
    return result.data["redeem"]  # type: ignore[no-any-return]


async def points(api: GraphQLClient) -> dict[str, int]:
    return (await api.op("Me", auth=member_token(MEMBER))).data["me"]["points"]  # type: ignore[no-any-return]


async def order(api: GraphQLClient, number: str) -> dict[str, Any]:
    return (await api.op("Order", {"number": number}, auth=member_token(MEMBER))).data["order"]  # type: ignore[no-any-return]


async def nothing_held_or_reserved(api: GraphQLClient) -> None:
    assert await points(api) == {"balance": 20_000, "held": 0, "available": 20_000, "expiring": []}
    keyboard = (await api.op("Gift", {"sku": "EL-KBD"})).data["gift"]
    assert keyboard["availability"]["quantityAvailable"] == 5
    assert sum(d.booked for d in await ShipDay.all()) == 0
    assert await audit() == []


async def test_paid_flow_confirms_the_order_and_spends_the_held_points(
    api: GraphQLClient, stripe: StripeFake
) -> None:
    await cash_mall(api)
    placed = await redeem(api)
    assert placed["errors"] == []
    number = placed["order"]["number"]
    assert placed["order"]["status"] == "AWAITING_PAYMENT"
    assert placed["order"]["shipBy"] is None
    assert placed["order"]["cashTotal"] == {"amount": "29.90", "currency": "CNY"}
    assert placed["payment"]["amount"] == {"amount": "29.90", "currency": "CNY"}
    assert placed["payment"]["clientSecret"].startswith("pi_")
    assert await points(api) == {
        "balance": 20_000,
        "held": 9_000,
        "available": 11_000,
        "expiring": [],
    }
    creates = [r for r in stripe.requests if r.path == "/v1/payment_intents"]
    assert len(creates) == 1
    assert creates[0].params["amount"] == "2990"
    assert creates[0].params["currency"] == "cny"
    assert creates[0].idempotency_key == f"payment_intent:{number}"

    intent_id = placed["payment"]["clientSecret"].split("_secret_")[0]
    delivered = await stripe.deliver(stripe.succeed(intent_id))
    assert delivered.status_code == 200
    assert delivered.json() == {"received": True, "outcome": "applied"}
    confirmed = await order(api, number)
    assert confirmed["status"] == "CONFIRMED"
    assert confirmed["confirmedAt"] is not None
    assert confirmed["shipBy"] is not None
    assert await points(api) == {"balance": 11_000, "held": 0, "available": 11_000, "expiring": []}
    assert await audit() == []


async def test_retried_redeem_returns_the_same_payment_and_one_intent(
    api: GraphQLClient, stripe: StripeFake
) -> None:
    await cash_mall(api)
    first = await redeem(api, "same-key")
    again = await redeem(api, "same-key")
    assert again["order"]["number"] == first["order"]["number"]
    assert again["payment"]["clientSecret"] == first["payment"]["clientSecret"]
    assert len(stripe.intents) == 1
    assert (await points(api))["held"] == 9_000


async def test_replayed_and_reordered_webhooks_apply_once_and_never_go_backwards(
    api: GraphQLClient, stripe: StripeFake
) -> None:
    await cash_mall(api)
    placed = await redeem(api)
    intent_id = placed["payment"]["clientSecret"].split("_secret_")[0]
    failed = stripe.fail_payment(intent_id)
    assert (await stripe.deliver(failed)).json()["outcome"] == "applied"
    assert (await order(api, placed["order"]["number"]))["status"] == "AWAITING_PAYMENT"
    succeeded = stripe.succeed(intent_id)
    for _ in range(3):
        assert (await stripe.deliver(succeeded)).status_code == 200
    assert (await stripe.deliver(succeeded)).json()["outcome"] == "duplicate"
    late_failure = stripe.make_event("payment_intent.payment_failed", failed["data"]["object"])
    await stripe.deliver(late_failure)
    late_cancel = stripe.make_event("payment_intent.canceled", failed["data"]["object"])
    await stripe.deliver(late_cancel)
    assert (await order(api, placed["order"]["number"]))["status"] == "CONFIRMED"
    assert await points(api) == {"balance": 11_000, "held": 0, "available": 11_000, "expiring": []}
    assert await audit() == []


async def test_wrong_signature_is_refused_and_changes_nothing(
    api: GraphQLClient, stripe: StripeFake
) -> None:
    await cash_mall(api)
    placed = await redeem(api)
    intent_id = placed["payment"]["clientSecret"].split("_secret_")[0]
    event = stripe.succeed(intent_id)
    payload, _ = stripe.encode_event(event)
    forged = stripe.sign(payload, secret="whsec_someone_else")
    assert (await stripe.post_webhook(payload, forged)).status_code == 400
    assert (await stripe.post_webhook(payload, "")).status_code == 400
    assert (await stripe.post_webhook(b"{not json", stripe.sign(b"{not json"))).status_code == 400
    assert (await order(api, placed["order"]["number"]))["status"] == "AWAITING_PAYMENT"
    assert await Payment.filter(status=PaymentStatus.SUCCEEDED).count() == 0


async def test_stripe_down_or_failing_means_payment_unavailable_and_nothing_held(
    api: GraphQLClient, stripe: StripeFake
) -> None:
    await cash_mall(api)
    stripe.fail_next(10, status=500)
    payload = await redeem(api, "down")
    assert payload["order"] is None
    assert payload["errors"][0]["code"] == "PAYMENT_UNAVAILABLE"
    await nothing_held_or_reserved(api)


async def test_slow_stripe_times_out_and_nothing_is_held(
    api: GraphQLClient, stripe: StripeFake
) -> None:
    await cash_mall(api)
    stripe.delay(3.0)
    payload = await redeem(api, "slow")
    stripe.delay(0)
    assert payload["errors"][0]["code"] == "PAYMENT_UNAVAILABLE"
    await nothing_held_or_reserved(api)


async def test_one_transient_stripe_error_is_retried_with_the_same_key(
    api: GraphQLClient, stripe: StripeFake
) -> None:
    await cash_mall(api)
    stripe.fail_next(1, status=500)
    payload = await redeem(api, "flaky")
    assert payload["errors"] == []
    creates = [r for r in stripe.requests if r.path == "/v1/payment_intents"]
    assert [r.status for r in creates] == [500, 200]
    assert len({r.idempotency_key for r in creates}) == 1
    assert len(stripe.intents) == 1


async def test_cancelling_a_paid_order_refunds_cash_once_and_points(
    api: GraphQLClient, stripe: StripeFake
) -> None:
    await cash_mall(api)
    placed = await redeem(api)
    number = placed["order"]["number"]
    intent_id = placed["payment"]["clientSecret"].split("_secret_")[0]
    await stripe.deliver(stripe.succeed(intent_id))
    cancelled = await api.op(
        "CancelOrder", {"input": {"orderNumber": number}}, auth=member_token(MEMBER)
    )
    assert cancelled.data["cancelOrder"]["order"]["status"] == "CANCELLED"
    assert len(stripe.refunds) == 1
    refund = next(iter(stripe.refunds.values()))
    assert refund["payment_intent"] == intent_id
    assert refund["amount"] == 2990
    assert (await Payment.get(intent_id=intent_id)).status is PaymentStatus.REFUNDED
    await nothing_held_or_reserved(api)


async def test_cancelling_before_payment_cancels_the_intent_and_releases_the_hold(
    api: GraphQLClient, stripe: StripeFake
) -> None:
    await cash_mall(api)
    placed = await redeem(api)
    intent_id = placed["payment"]["clientSecret"].split("_secret_")[0]
    await api.op(
        "CancelOrder", {"input": {"orderNumber": placed["order"]["number"]}}, auth=admin_token()
    )
    assert stripe.intents[intent_id]["status"] == "canceled"
    assert not stripe.refunds
    await nothing_held_or_reserved(api)


async def test_success_arriving_after_cancellation_is_refunded(
    api: GraphQLClient, stripe: StripeFake
) -> None:
    await cash_mall(api)
    placed = await redeem(api)
    number = placed["order"]["number"]
    intent_id = placed["payment"]["clientSecret"].split("_secret_")[0]
    stripe.fail_next(3, status=503)  # cancelling the intent fails: the order is cancelled anyway
    await api.op("CancelOrder", {"input": {"orderNumber": number}}, auth=member_token(MEMBER))
    paid_meanwhile = stripe.succeed(intent_id)
    assert (await stripe.deliver(paid_meanwhile)).status_code == 200
    assert (await order(api, number))["status"] == "CANCELLED"
    assert len(stripe.refunds) == 1
    await nothing_held_or_reserved(api)


async def test_canceled_event_cancels_a_waiting_order(
    api: GraphQLClient, stripe: StripeFake
) -> None:
    await cash_mall(api)
    placed = await redeem(api)
    intent_id = placed["payment"]["clientSecret"].split("_secret_")[0]
    intent = dict(stripe.intents[intent_id], status="canceled")
    assert (await stripe.send_event("payment_intent.canceled", intent)).status_code == 200
    assert (await order(api, placed["order"]["number"]))["status"] == "CANCELLED"
    await nothing_held_or_reserved(api)


async def test_webhook_for_an_unknown_intent_is_acknowledged(
    stripe: StripeFake, api: GraphQLClient
) -> None:
    response = await stripe.send_event(
        "payment_intent.succeeded", {"id": "pi_unknown", "object": "payment_intent"}
    )
    assert response.status_code == 200
    assert response.json()["outcome"] == "unknown_payment"
    assert isinstance(response, httpx.Response)


async def test_unpaid_order_times_out_cancels_the_intent_and_releases_everything(
    api: GraphQLClient, stripe: StripeFake
) -> None:
    from datetime import UTC, datetime, timedelta

    from api.wiring import SweepPolicy
    from api.worker import sweep
    from fulfilment.planning import Planner
    from models.payments.gateway import StripeGateway

    await cash_mall(api)
    placed = await redeem(api)
    intent_id = placed["payment"]["clientSecret"].split("_secret_")[0]
    gateway = StripeGateway(api_key="sk_test_sweeper", api_base=stripe.base_url, timeout_seconds=2)
    try:
        early = await sweep(
            now=datetime.now(UTC) + timedelta(minutes=29),
            planner=Planner(),
            policy=SweepPolicy(),
            gateway=gateway,
        )
        assert early.cancelled == 0
        late = await sweep(
            now=datetime.now(UTC) + timedelta(minutes=31),
            planner=Planner(),
            policy=SweepPolicy(),
            gateway=gateway,
        )
    finally:
        await gateway.close()
    assert late.cancelled == 1
    assert (await order(api, placed["order"]["number"]))["status"] == "CANCELLED"
    assert stripe.intents[intent_id]["status"] == "canceled"
    await nothing_held_or_reserved(api)


async def test_refund_missed_while_stripe_was_down_is_retried_by_the_sweeper(
    api: GraphQLClient, stripe: StripeFake
) -> None:
    from datetime import UTC, datetime

    from api.wiring import SweepPolicy
    from api.worker import sweep
    from fulfilment.planning import Planner
    from models.payments.gateway import StripeGateway

    await cash_mall(api)
    placed = await redeem(api)
    number = placed["order"]["number"]
    intent_id = placed["payment"]["clientSecret"].split("_secret_")[0]
    await stripe.deliver(stripe.succeed(intent_id))
    stripe.fail_next(10, status=503)
    cancelled = await api.op(
        "CancelOrder", {"input": {"orderNumber": number}}, auth=member_token(MEMBER)
    )
    assert cancelled.data["cancelOrder"]["order"]["status"] == "CANCELLED"
    assert not stripe.refunds
    stripe.fail_next(0)
    gateway = StripeGateway(api_key="sk_test_sweeper", api_base=stripe.base_url, timeout_seconds=2)
    try:
        summary = await sweep(
            now=datetime.now(UTC), planner=Planner(), policy=SweepPolicy(), gateway=gateway
        )
        again = await sweep(
            now=datetime.now(UTC), planner=Planner(), policy=SweepPolicy(), gateway=gateway
        )
    finally:
        await gateway.close()
    assert summary.payments_settled == 1
    assert again.payments_settled == 0
    assert len(stripe.refunds) == 1
    assert (await Payment.get(intent_id=intent_id)).status is PaymentStatus.REFUNDED


async def test_cash_order_without_points_or_stock_never_reaches_stripe(
    api: GraphQLClient, stripe: StripeFake
) -> None:
    await cash_mall(api)
    await member_with_points("C-POOR", 100)
    variables = {
        "input": {
            "idempotencyKey": "poor",
            "lines": [{"sku": "EL-KBD", "quantity": 1}],
            "shippingAddress": ADDRESS,
        }
    }
    poor = await api.op("Redeem", variables, auth=member_token("C-POOR"))
    assert poor.data["redeem"]["errors"][0]["code"] == "INSUFFICIENT_POINTS"
    too_many = await redeem(api, "many", quantity=6)
    assert too_many["errors"][0]["code"] == "OUT_OF_STOCK"
    assert not stripe.intents
