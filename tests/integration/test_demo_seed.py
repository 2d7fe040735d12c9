"""`pointsmall seed-demo`: what `make run`'s newcomer finds waiting, as the console reads it:
the demo member's order in the warehouse's queue, and their ticket about the delivered mug
in the service desk's queue, at risk, for the printed agent token to answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.demo import DEMO_CODES, DEMO_MEMBER, DEMO_TOP_UPS, DEMO_VOUCHER, DEMO_WAREHOUSE, seed
from api.settings import DEV_CHARGING_SECRET, load_settings
from api.wiring import voucher_seal_of
from fulfilment.planning import Planner
from models.aftersales.rules import TicketPolicy
from models.notifications.models import Notification
from models.notifications.models import NotificationKind as Kind
from models.topups import delivery
from models.topups.charging import ChargingClient, ChargingConfig
from tests.fakes.charging import ChargingFake
from tests.support.catalog import ADDRESS
from tests.support.graphql import GraphQLClient, member_token, staff_token, token

AGENT = token("agent", "agent-1")


async def test_the_demo_has_an_order_to_ship_and_a_ticket_at_risk_to_answer(
    api: GraphQLClient,
) -> None:
    summary = await seed(members=2, if_empty=True, planner=Planner())
    queue = await api.op(
        "StationQueue", {"warehouseCode": DEMO_WAREHOUSE, "first": 10}, auth=staff_token("SH01")
    )
    assert queue.data["fulfilmentQueue"]["totalCount"] == 1
    tickets = (await api.op("DeskQueue", {"first": 10}, auth=AGENT)).data["ticketQueue"]
    assert tickets["totalCount"] == 1
    row = tickets["edges"][0]["node"]
    assert row["number"] in summary
    assert (row["state"], row["category"]) == ("NEW", "DAMAGED")
    assert row["member"]["externalId"] == DEMO_MEMBER
    assert row["atRisk"] is True
    assert row["breached"] is False
    assert 3.5 < row["hoursLeft"] <= 4.0, "half the at-risk threshold left"
    ticket = (await api.op("DeskTicket", {"number": row["number"]}, auth=AGENT)).data["ticket"]
    assert ticket["order"]["status"] == "DELIVERED"
    opened, delivered = ticket["openedAt"], ticket["order"]["deliveredAt"]
    assert delivered < opened, "the mug arrived before the member wrote about it"
    assert (await seed(members=2, if_empty=True, planner=Planner())).startswith("demo data")


async def test_the_demo_ticket_follows_the_services_promise(api: GraphQLClient) -> None:
    policy = TicketPolicy(first_reply=timedelta(hours=24), at_risk=timedelta(hours=2))
    await seed(members=1, if_empty=False, planner=Planner(), service=policy)
    ticket = (await api.op("DeskQueue", {"first": 10}, auth=AGENT)).data["ticketQueue"]
    row = ticket["edges"][0]["node"]
    assert 0.5 < row["hoursLeft"] <= 1.0, row


async def test_the_demo_member_redeems_the_coffee_voucher_and_sees_its_code(
    api: GraphQLClient,
) -> None:
    seal = voucher_seal_of(load_settings())
    await seed(members=1, if_empty=True, planner=Planner(), seal=seal)
    gift = (await api.op("Gift", {"sku": DEMO_VOUCHER})).data["gift"]
    assert gift["availability"]["quantityAvailable"] == DEMO_CODES
    redeemed = await api.op(
        "Redeem",
        {
            "input": {
                "idempotencyKey": "demo-coffee",
                "lines": [{"sku": DEMO_VOUCHER, "quantity": 1}],
                "shippingAddress": ADDRESS,
            }
        },
        auth=member_token(DEMO_MEMBER),
    )
    order = redeemed.data["redeem"]["order"]
    assert order["status"] == "DELIVERED"
    shown = await api.op(
        "OrderVoucher", {"number": order["number"]}, auth=member_token(DEMO_MEMBER)
    )
    voucher = shown.data["order"]["lines"][0]["voucher"]
    assert voucher["code"].startswith("LKDEMO-")
    assert voucher["partner"].startswith("Luckin Coffee")


async def test_the_demo_member_redeems_phone_credit_and_coffee_in_one_order(
    api: GraphQLClient,
) -> None:
    seal = voucher_seal_of(load_settings())
    await seed(members=1, if_empty=True, planner=Planner(), seal=seal)
    assert set(DEMO_TOP_UPS) == {"TU-CREDIT-10", "TU-DATA-1G"}
    redeemed = await api.op(
        "Redeem",
        {
            "input": {
                "idempotencyKey": "demo-credit-and-coffee",
                "lines": [
                    {"sku": "TU-CREDIT-10", "quantity": 1},
                    {"sku": DEMO_VOUCHER, "quantity": 1},
                ],
                "shippingAddress": ADDRESS,
            }
        },
        auth=member_token(DEMO_MEMBER),
    )
    number = redeemed.data["redeem"]["order"]["number"]
    assert redeemed.data["redeem"]["order"]["status"] == "CONFIRMED"  # the credit is on its way
    async with ChargingFake.running(secret=DEV_CHARGING_SECRET) as server:
        client = ChargingClient(ChargingConfig(base_url=server.url, secret=DEV_CHARGING_SECRET))
        try:
            await delivery.deliver_round(client, now=datetime.now(UTC))
            # The charging system refuses the next one: it is refunded, the member told.
            server.switch(refuse="ACCOUNT_BARRED")
            again = await api.op(
                "Redeem",
                {
                    "input": {
                        "idempotencyKey": "demo-credit-refused",
                        "lines": [{"sku": "TU-CREDIT-10", "quantity": 1}],
                        "shippingAddress": ADDRESS,
                    }
                },
                auth=member_token(DEMO_MEMBER),
            )
            refused = again.data["redeem"]["order"]["number"]
            await delivery.deliver_round(client, now=datetime.now(UTC))
        finally:
            await client.close()
        assert server.face_value_credited == 1000
    shown = await api.op("OrderTopUp", {"number": number}, auth=member_token(DEMO_MEMBER))
    order = shown.data["order"]
    assert order["status"] == "DELIVERED"
    [credit] = [line["topUp"] for line in order["lines"] if line["kind"] == "TOP_UP"]
    assert credit["status"] == "DELIVERED"
    assert credit["number"].startswith("+86138")
    after = await api.op("OrderTopUp", {"number": refused}, auth=member_token(DEMO_MEMBER))
    assert after.data["order"]["status"] == "CANCELLED"
    assert after.data["order"]["lines"][0]["topUp"]["reason"] == "ACCOUNT_BARRED"
    kinds = {n.kind for n in await Notification.filter(order_id__isnull=False)}
    assert {Kind.VOUCHER_READY, Kind.TOPUP_DELIVERED, Kind.TOPUP_REFUNDED} <= kinds
