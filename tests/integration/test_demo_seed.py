"""`pointsmall seed-demo`: what `make run`'s newcomer finds waiting, as the console reads it:
the demo member's order in the warehouse's queue, and their ticket about the delivered mug
in the service desk's queue, at risk, for the printed agent token to answer."""

from __future__ import annotations

from datetime import timedelta

from api.demo import DEMO_CODES, DEMO_MEMBER, DEMO_VOUCHER, DEMO_WAREHOUSE, seed
from api.settings import load_settings
from api.wiring import voucher_seal_of
from fulfilment.planning import Planner
from models.aftersales.rules import TicketPolicy
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
