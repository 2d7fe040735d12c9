"""SIGTERM to a serving API process lets the requests in flight finish, then exits 0.

A points-plus-cash redemption is slow on purpose: the Stripe test server holds its answer
for two seconds, while the redemption's transaction is open. The process is told to stop
in that window, as an orchestrator does when it rolls a deployment.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from models.orders.models import Order, OrderStatus
from models.points.audit import audit
from tests.conftest import STRIPE_WEBHOOK_SECRET
from tests.fakes.stripe_server import StripeFake
from tests.resilience.invariants import broken_invariants
from tests.resilience.processes import start_api, stop
from tests.support.catalog import ADDRESS, gift, small_mall, stock
from tests.support.graphql import GraphQLClient, member_token
from tests.support.members import member_with_points

STRIPE_DELAY = 2.0


async def in_flight(stripe: StripeFake, seconds: float = 15) -> None:
    """Until the API has asked Stripe for the PaymentIntent (whose answer is delayed)."""
    deadline = time.monotonic() + seconds
    while not any(r.path == "/v1/payment_intents" for r in stripe.requests):
        assert time.monotonic() < deadline, "the redemption never reached Stripe"
        await asyncio.sleep(0.02)


async def test_sigterm_finishes_the_redemption_in_flight_and_exits_cleanly(
    api: GraphQLClient, db: str, stripe: StripeFake, tmp_path: Path
) -> None:
    await small_mall(api)
    await gift(api, "EL-KBD", 9_000, cash="29.90")
    await stock(api, "EL-KBD", "SH01", 5)
    await member_with_points("BYE-1", 20_000)
    env = {"STRIPE_API_BASE": stripe.base_url, "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET}
    server = await start_api(db, tmp_path / "api.log", env)
    try:
        stripe.delay(STRIPE_DELAY)
        variables = {
            "input": {
                "idempotencyKey": "bye",
                "lines": [{"sku": "EL-KBD", "quantity": 1}],
                "shippingAddress": ADDRESS,
            }
        }
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            call = asyncio.create_task(
                GraphQLClient(http).op("Redeem", variables, auth=member_token("BYE-1"))
            )
            await in_flight(stripe)
            signalled = time.monotonic()
            server.process.terminate()
            result = await call
        exit_status = await asyncio.wait_for(server.process.wait(), 30)
    finally:
        await stop(server.process)

    placed = result.data["redeem"]
    assert placed["errors"] == []
    assert placed["order"]["status"] == "AWAITING_PAYMENT"
    assert placed["payment"]["clientSecret"]
    assert exit_status == 0, (tmp_path / "api.log").read_text()[-3000:]
    assert time.monotonic() - signalled >= STRIPE_DELAY * 0.5, "it waited for the request"
    order = await Order.get(number=placed["order"]["number"])
    assert order.status is OrderStatus.AWAITING_PAYMENT
    assert await broken_invariants() == []
    assert await audit() == []
