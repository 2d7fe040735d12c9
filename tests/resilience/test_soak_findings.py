"""What the soak found, each pinned by a small test of its own (see also test_sqlite_processes)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from api.settings import DEV_STRIPE_API_KEY
from fulfilment.scheduled import compensate_breaches, raise_alerts
from models.payments.gateway import StripeGateway
from models.payments.settlement import settle_pending
from models.points.audit import audit
from models.points.models import EntryKind, PointsEntry
from tests.fakes.stripe_server import StripeFake
from tests.resilience.invariants import settlement_problems
from tests.support.catalog import ADDRESS, gift, small_mall, stock
from tests.support.databases import target
from tests.support.fulfilment import place
from tests.support.graphql import GraphQLClient, member_token
from tests.support.members import member_with_points


async def test_a_catalog_page_with_sort_by_null_gets_the_default_order(api: GraphQLClient) -> None:
    # The Catalog operation declares `$sortBy: GiftSort` (nullable): apps send null for
    # "no preference", which used to be an error without a code.
    await small_mall(api)
    by_default = await api.op("Catalog", {"first": 10})
    with_null = await api.op("Catalog", {"first": 10, "sortBy": None})
    assert with_null.data == by_default.data


@pytest.mark.skipif(target() != "postgres", reason="row locks across workers need PostgreSQL")
async def test_workers_compensating_the_same_members_at_once_neither_deadlock_nor_double_credit(
    api: GraphQLClient,
) -> None:
    # The soak ran a second sweeper ahead of the clock: two compensation batches locked the
    # accounts of overlapping members in different orders, and PostgreSQL killed one of them.
    await small_mall(api)
    await stock(api, "EL-PB10K", "SH01", 300)
    members = [f"DL-{i}" for i in range(8)]
    for member in members:
        await member_with_points(member, 1_000_000)
    start = datetime.now(UTC) - timedelta(days=9)
    for i in range(240):  # each batch of 20 breaches touches every member, in mixed order
        at = start + timedelta(seconds=i)
        await place(members[i * 5 % 8], f"k-{i}", ("EL-PB10K", 1), now=at)
    now = datetime.now(UTC)
    await raise_alerts(now=now)

    passes = await asyncio.gather(
        *(compensate_breaches(now=now, rate=Decimal("0.10"), batch=20) for _ in range(4)),
        return_exceptions=True,
    )

    assert [p for p in passes if isinstance(p, BaseException)] == []
    assert sum(p for p in passes if isinstance(p, int)) == 240
    credits = await PointsEntry.filter(kind=EntryKind.COMPENSATION).count()
    assert credits == 240
    assert await audit() == []


async def paid_then_cancelled(api: GraphQLClient, stripe: StripeFake) -> tuple[str, Any]:
    """The member pays; before Stripe's webhook arrives the order is cancelled.

    By the member here; by the payment timeout in the soak. Cancelling the intent then
    fails (it has succeeded). Returns the intent and its undelivered success event.
    """
    await small_mall(api)
    await gift(api, "EL-KBD", 9_000, cash="29.90")
    await stock(api, "EL-KBD", "SH01", 5)
    await member_with_points("LATE-PAY", 20_000)
    token = member_token("LATE-PAY")
    lines = [{"sku": "EL-KBD", "quantity": 1}]
    variables = {"input": {"idempotencyKey": "late", "lines": lines, "shippingAddress": ADDRESS}}
    placed = (await api.op("Redeem", variables, auth=token)).data["redeem"]
    intent = placed["payment"]["clientSecret"].split("_secret_")[0]
    paid = stripe.succeed(intent)  # the money is taken; the webhook is still on its way
    number = placed["order"]["number"]
    cancelled = await api.op("CancelOrder", {"input": {"orderNumber": number}}, auth=token)
    assert cancelled.data["cancelOrder"]["errors"] == []
    return intent, paid


async def test_money_taken_just_before_a_cancellation_is_refunded(
    api: GraphQLClient, stripe: StripeFake
) -> None:
    intent, paid = await paid_then_cancelled(api, stripe)

    delivered = await stripe.deliver(paid)

    assert delivered.status_code == 200
    assert [r["payment_intent"] for r in stripe.refunds.values()] == [intent]
    assert await settlement_problems() == []
    assert await audit() == []


async def test_a_refund_stripe_cannot_take_now_is_left_to_the_sweeper_not_a_500(
    api: GraphQLClient, stripe: StripeFake
) -> None:
    intent, paid = await paid_then_cancelled(api, stripe)
    stripe.fail_next(10, status=500)

    delivered = await stripe.deliver(paid)

    assert (delivered.status_code, delivered.json()["outcome"]) == (200, "applied")
    assert stripe.refunds == {}
    stripe.fail_next(0)
    gateway = StripeGateway(api_key=DEV_STRIPE_API_KEY, api_base=stripe.base_url)
    try:
        assert await settle_pending(gateway=gateway) == 1
    finally:
        await gateway.close()
    assert [r["payment_intent"] for r in stripe.refunds.values()] == [intent]
    assert await settlement_problems() == []
