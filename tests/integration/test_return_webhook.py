"""A paid order's return through the carrier webhook: the receipt restocks, refunds the points
and the cash through Stripe once, whatever the carrier resends and in whatever order."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import httpx

from api.app import create_app
from api.webhooks.carrier import sign
from models.aftersales import returns
from models.aftersales.models import Resolution, ResolutionStatus
from models.catalog.models import Stock
from models.parcels import Scan
from models.payments.models import Payment, PaymentStatus
from models.points.audit import audit
from models.points.models import EntryKind, PointsEntry
from tests.conftest import STRIPE_WEBHOOK_SECRET
from tests.fakes.stripe_server import StripeFake
from tests.support.aftersales import AGENT, delivered, opened
from tests.support.catalog import ADDRESS, gift, small_mall, stock
from tests.support.graphql import GraphQLClient, member_token
from tests.support.members import member_with_points
from tests.support.settings import settings_for

SECRETS = {"SF": "sf-webhook-secret", "YTO": "yto-webhook-secret"}
MEMBER = "RW-CASH"


async def paid_and_delivered(api: GraphQLClient, stripe: StripeFake) -> str:
    """A keyboard for points and ¥29.90, paid, shipped and delivered."""
    await small_mall(api)
    await gift(api, "EL-KBD", 9_000, name="Keyboard", cash="29.90")
    await stock(api, "EL-KBD", "SH01", 5)
    await member_with_points(MEMBER, 20_000)
    redeemed = await api.op(
        "Redeem",
        {
            "input": {
                "idempotencyKey": "kbd",
                "lines": [{"sku": "EL-KBD", "quantity": 1}],
                "shippingAddress": ADDRESS,
            }
        },
        auth=member_token(MEMBER),
    )
    placed = redeemed.data["redeem"]
    intent = placed["payment"]["clientSecret"].split("_secret_")[0]
    await stripe.deliver(stripe.succeed(intent))
    from models.orders.models import Order

    order = await Order.get(number=placed["order"]["number"])
    from fulfilment import rules as fulfilment_rules
    from fulfilment import tracking
    from tests.support.fulfilment import shipped

    await shipped(order.number, "SFKBD0001")
    at = datetime.now(UTC) - timedelta(hours=1)
    await tracking.record(
        scan=fulfilment_rules.Scan("SF", "SFKBD0001", "DELIVERED", "", "", at),
        actor=None,
        now=datetime.now(UTC),
    )
    return order.number


async def test_a_returned_paid_order_is_refunded_once_in_points_and_cash(
    api: GraphQLClient, stripe: StripeFake, db: str
) -> None:
    number = await paid_and_delivered(api, stripe)
    ticket = await opened(MEMBER, "键盘坏了", at=datetime.now(UTC), order_number=number)
    await returns.start_return(
        actor=AGENT,
        number=ticket.number,
        key="back",
        carrier="YTO",
        tracking_number="YT-KBD-BACK",
        now=datetime.now(UTC),
    )
    on_hand = (await Stock.get(gift__sku="EL-KBD", warehouse__code="SH01")).on_hand
    settings = settings_for(
        db,
        carrier_secrets=SECRETS,
        stripe_api_base=stripe.base_url,
        stripe_webhook_secret=STRIPE_WEBHOOK_SECRET,
    )
    app = create_app(settings, manage_database=False)
    now = datetime.now(UTC)
    scans = [
        {
            "trackingNumber": "YT-KBD-BACK",
            "status": "DELIVERED",
            "occurredAt": (now - timedelta(minutes=5)).isoformat(),
        },
        {
            "trackingNumber": "YT-KBD-BACK",
            "status": "IN_TRANSIT",
            "occurredAt": (now - timedelta(hours=5)).isoformat(),
        },
    ]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:

        async def post(body: object) -> httpx.Response:
            raw = json.dumps(body).encode()
            return await http.post(
                "/webhooks/carrier/YTO",
                content=raw,
                headers={"X-Signature": sign(raw, SECRETS["YTO"])},
            )

        answers = await asyncio.gather(post(scans), post(scans[0]), post(list(reversed(scans))))
    await app.state.services.payments.close()

    assert {a.status_code for a in answers} == {200}
    outcomes = [r["outcome"] for a in answers for r in a.json()["results"]]
    assert outcomes.count("recorded") == 2, "each scan is stored once"
    resolution = await Resolution.get(ticket_id=ticket.id)
    assert (resolution.status, resolution.points, resolution.cash_refund) == (
        ResolutionStatus.RECEIVED,
        9_000,
        "DONE",
    )
    assert len(stripe.refunds) == 1
    assert next(iter(stripe.refunds.values()))["amount"] == 2990
    assert (await Payment.get(order__number=number)).status is PaymentStatus.REFUNDED
    assert await PointsEntry.filter(kind=EntryKind.REFUND, order_number=number).count() == 1
    assert (await Stock.get(gift__sku="EL-KBD", warehouse__code="SH01")).on_hand == on_hand + 1
    assert await audit() == []


async def test_scans_of_a_return_racing_receive_it_once(api: GraphQLClient) -> None:
    await small_mall(api)
    await member_with_points("RW2", 20_000)
    order = await delivered("RW2", "k", "HM-MUG", "SFRW0002")
    ticket = await opened("RW2", at=datetime.now(UTC), order_number=order.number)
    await returns.start_return(
        actor=AGENT,
        number=ticket.number,
        key="b",
        carrier="SF",
        tracking_number="SF-RW2-BACK",
        now=datetime.now(UTC),
    )
    now = datetime.now(UTC)

    def scan(status: str, minutes: int) -> Scan:
        return Scan("SF", "SF-RW2-BACK", status, "", "", now - timedelta(minutes=minutes))

    done = await asyncio.gather(
        *(
            returns.record_scan(scan=s, actor=None, now=now)
            for s in [
                scan("DELIVERED", 1),
                scan("DELIVERED", 2),
                scan("IN_TRANSIT", 60),
                scan("DELIVERED", 1),
            ]
        )
    )

    assert sum(1 for d in done if d is not None and d.received) == 1
    assert await PointsEntry.filter(kind=EntryKind.REFUND, order_number=order.number).count() == 1
    assert await audit() == []
