"""Top-up orders: placed with their budget charged, sent by the worker through the charging
system (a real HTTP server, `tests/fakes/charging.py`), credited once whatever is lost or
repeated, refunded automatically when refused or not delivered in time, and confirmed late
by signed callbacks that are applied once and never move a line backwards."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.settings import DEV_CHARGING_SECRET
from api.worker import run_forever
from models.notifications.models import Notification, NotificationKind
from models.notifications.templates import render
from models.orders.models import Order, OrderStatus
from models.points.audit import audit
from models.topups import delivery
from models.topups.charging import ChargingClient, ChargingConfig
from models.topups.models import TopUp, TopUpBudget, TopUpStatus
from tests.fakes.charging import ChargingFake
from tests.integration.test_gift_kinds import digital_mall
from tests.integration.test_voucher_orders import codes, redeem
from tests.support.aftersales import member_with_mobile
from tests.support.catalog import gift
from tests.support.graphql import GraphQLClient, admin_token, member_token, staff_token
from tests.support.members import member_with_points
from tests.support.settings import settings_for

MOBILE = "+8613800138000"


@pytest.fixture
async def charging() -> AsyncIterator[tuple[ChargingFake, ChargingClient]]:
    async with ChargingFake.running(secret=DEV_CHARGING_SECRET) as server:
        client = ChargingClient(
            ChargingConfig(base_url=server.url, secret=DEV_CHARGING_SECRET, timeout_seconds=2.0)
        )
        try:
            yield server, client
        finally:
            await client.close()


async def member(external_id: str, points: int = 5_000, mobile: str = MOBILE) -> None:
    await member_with_mobile(external_id, mobile, language="en")
    await member_with_points(external_id, points)


async def available(api: GraphQLClient, external_id: str) -> int:
    me = (await api.op("Me", auth=member_token(external_id))).data["me"]
    return int(me["points"]["available"])


async def top_up_of(api: GraphQLClient, external_id: str, number: str) -> dict[str, Any]:
    order = (await api.op("OrderTopUp", {"number": number}, auth=member_token(external_id))).data[
        "order"
    ]
    [line] = [line for line in order["lines"] if line["kind"] == "TOP_UP"]
    return {"order": order["status"], **line["topUp"]}


async def test_a_top_up_is_confirmed_sent_and_delivered_once_with_its_member_told(
    api: GraphQLClient, charging: tuple[ChargingFake, ChargingClient]
) -> None:
    server, client = charging
    await digital_mall(api)
    await member("T-1")
    payload = await redeem(api, "T-1", "t-1", ("TU-10", 1))
    assert payload["errors"] == []
    number = payload["order"]["number"]
    assert payload["order"]["status"] == "CONFIRMED"
    assert await available(api, "T-1") == 5_000 - 840
    line = await top_up_of(api, "T-1", number)
    assert line["status"] == "PENDING"
    assert line["number"] == "+86138****8000"
    assert (line["product"], line["faceValue"]) == ("CREDIT", 1000)

    report = await delivery.deliver_round(client, now=datetime.now(UTC))
    assert (report.tried, report.delivered) == (1, 1)
    assert server.credits == {f"topup:{(await TopUp.get()).order_line_id}": 1}
    assert server.face_value_credited == 1000
    line = await top_up_of(api, "T-1", number)
    assert (line["order"], line["status"], line["reason"]) == ("DELIVERED", "DELIVERED", None)
    assert line["deliveredAt"] is not None
    # Another round finds nothing to send: the line is final.
    assert (await delivery.deliver_round(client, now=datetime.now(UTC))).tried == 0
    [told] = await Notification.filter(kind=NotificationKind.TOPUP_DELIVERED)
    text = render(NotificationKind.TOPUP_DELIVERED, told.data, language="en")
    assert "¥10 of phone credit" in text
    assert number in text
    assert "+86138****8000" in text
    assert await available(api, "T-1") == 5_000 - 840
    assert await audit() == []


async def test_a_refused_top_up_is_refunded_and_its_member_told_why(
    api: GraphQLClient, charging: tuple[ChargingFake, ChargingClient]
) -> None:
    server, client = charging
    await digital_mall(api)
    await member("T-2")
    server.switch(not_in_service=[MOBILE])
    number = (await redeem(api, "T-2", "t-2", ("TU-10", 1)))["order"]["number"]
    report = await delivery.deliver_round(client, now=datetime.now(UTC))
    assert (report.delivered, report.refunded) == (0, 1)
    line = await top_up_of(api, "T-2", number)
    assert (line["order"], line["status"], line["reason"]) == (
        "CANCELLED",
        "FAILED",
        "NUMBER_NOT_IN_SERVICE",
    )
    assert await available(api, "T-2") == 5_000
    assert server.credits == {}
    [told] = await Notification.filter(kind=NotificationKind.TOPUP_REFUNDED)
    text = render(NotificationKind.TOPUP_REFUNDED, told.data, language="en")
    assert "not in service" in text
    assert "840 points are back" in text
    assert await audit() == []


async def test_a_mixed_order_keeps_its_code_when_its_top_up_is_refused(
    api: GraphQLClient, charging: tuple[ChargingFake, ChargingClient]
) -> None:
    server, client = charging
    await digital_mall(api)
    await codes(api, "LK-0001")
    await member("T-3")
    server.switch(refuse="ACCOUNT_BARRED")
    payload = await redeem(api, "T-3", "t-3", ("EV-COFFEE", 1), ("TU-10", 1))
    assert payload["errors"] == []
    number = payload["order"]["number"]
    assert payload["order"]["status"] == "CONFIRMED"  # the code is out, the credit is not
    await delivery.deliver_round(client, now=datetime.now(UTC))
    line = await top_up_of(api, "T-3", number)
    # The code stands, so the order is delivered; only the top-up's points came back.
    assert (line["order"], line["status"], line["reason"]) == (
        "DELIVERED",
        "FAILED",
        "ACCOUNT_BARRED",
    )
    assert await available(api, "T-3") == 5_000 - 900
    assert await audit() == []


async def test_a_lost_answer_is_found_by_the_status_query_and_credited_once(
    api: GraphQLClient, charging: tuple[ChargingFake, ChargingClient]
) -> None:
    server, client = charging
    await digital_mall(api)
    await member("T-4")
    number = (await redeem(api, "T-4", "t-4", ("TU-10", 1)))["order"]["number"]
    server.switch(lose_answers=1.0)
    now = datetime.now(UTC)
    first = await delivery.deliver_round(client, now=now)
    assert (first.tried, first.waiting, first.delivered) == (1, 1, 0)
    assert server.lost_answers == 1
    assert sum(server.credits.values()) == 1  # it landed; the answer did not come back
    # Not due before its wait is over.
    assert (await delivery.deliver_round(client, now=now + timedelta(seconds=1))).tried == 0
    server.switch(lose_answers=0.0)
    second = await delivery.deliver_round(client, now=now + timedelta(seconds=6))
    assert (second.tried, second.delivered) == (1, 1)
    assert list(server.credits.values()) == [1]
    assert (await top_up_of(api, "T-4", number))["status"] == "DELIVERED"
    [top_up] = await TopUp.all()
    assert top_up.attempts == 2


async def test_a_worker_killed_between_the_call_and_its_record_credits_once(
    api: GraphQLClient, charging: tuple[ChargingFake, ChargingClient]
) -> None:
    server, client = charging
    await digital_mall(api)
    await member("T-5")
    number = (await redeem(api, "T-5", "t-5", ("TU-10", 1)))["order"]["number"]
    now = datetime.now(UTC)
    # The first worker claims the line and sends the credit, then dies before recording.
    [claimed] = await delivery.claim(now=now)
    answer = await delivery.ask(client, claimed, now=now)
    assert answer.outcome == "DELIVERED"
    assert (await top_up_of(api, "T-5", number))["status"] == "PENDING"
    # Another worker at once finds nothing due: the claim moved the line's next look on.
    assert await delivery.claim(now=now + timedelta(seconds=1)) == []
    after = await delivery.deliver_round(client, now=now + timedelta(seconds=6))
    assert (after.tried, after.delivered) == (1, 1)
    assert list(server.credits.values()) == [1]
    assert server.total_credited == 1
    assert (await top_up_of(api, "T-5", number))["status"] == "DELIVERED"
    assert await audit() == []


async def test_an_outage_to_the_promises_end_refunds_the_line(
    api: GraphQLClient, charging: tuple[ChargingFake, ChargingClient]
) -> None:
    server, client = charging
    await digital_mall(api)
    await member("T-6")
    number = (await redeem(api, "T-6", "t-6", ("TU-10", 1)))["order"]["number"]
    server.switch(outage=True)
    start = datetime.now(UTC)
    waits = [await delivery.deliver_round(client, now=start + timedelta(seconds=s)) for s in (0, 6)]
    assert [r.waiting for r in waits] == [1, 1]
    risky = await delivery.deliver_round(client, now=start + timedelta(minutes=5, seconds=1))
    assert risky.at_risk == 1
    again = await delivery.deliver_round(client, now=start + timedelta(minutes=6))
    assert again.at_risk == 0  # alerted once
    end = await delivery.deliver_round(client, now=start + timedelta(minutes=10, seconds=1))
    assert end.refunded == 1
    line = await top_up_of(api, "T-6", number)
    assert (line["order"], line["status"], line["reason"]) == ("CANCELLED", "EXPIRED", "EXPIRED")
    assert await available(api, "T-6") == 5_000
    assert server.credits == {}
    assert await audit() == []


async def test_a_daily_budget_stops_redemption_with_a_clear_error_and_a_refund_gives_back(
    api: GraphQLClient, charging: tuple[ChargingFake, ChargingClient]
) -> None:
    server, client = charging
    await digital_mall(api)
    await gift(
        api, "TU-BUDGET", 100, kind="TOP_UP", face_value=1000, daily_budget=2000, name="budget"
    )
    for n in range(3):
        await member(f"B-{n}", mobile=f"+861380013800{n}")
    assert (await redeem(api, "B-0", "b-0", ("TU-BUDGET", 1)))["errors"] == []
    assert (await redeem(api, "B-1", "b-1", ("TU-BUDGET", 1)))["errors"] == []
    left = (await api.op("Gift", {"sku": "TU-BUDGET"})).data["gift"]["availability"]
    assert (left["inStock"], left["quantityAvailable"]) == (False, 0)
    refused = await redeem(api, "B-2", "b-2", ("TU-BUDGET", 1))
    assert [e["code"] for e in refused["errors"]] == ["BUDGET_SPENT"]
    assert refused["order"] is None
    assert await available(api, "B-2") == 5_000
    # A refused credit gives its face value back to the day's budget.
    server.switch(refuse="ACCOUNT_BARRED")
    await delivery.deliver_round(client, now=datetime.now(UTC))
    [budget] = await TopUpBudget.all()
    assert budget.spent == 0
    assert (await redeem(api, "B-2", "b-2", ("TU-BUDGET", 1)))["errors"] == []
    assert await audit() == []


async def test_a_top_up_order_is_refused_to_a_member_without_a_mobile_and_cannot_be_cancelled(
    api: GraphQLClient,
) -> None:
    await digital_mall(api)
    await member_with_points("T-NOMOBILE", 5_000)
    refused = await redeem(api, "T-NOMOBILE", "t-n", ("TU-10", 1))
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [
        ("INVALID_INPUT", "lines.0.sku")
    ]
    await member("T-7")
    two = await redeem(api, "T-7", "t-7", ("TU-10", 2))
    assert [(e["code"], e["field"]) for e in two["errors"]] == [
        ("INVALID_INPUT", "lines.0.quantity")
    ]
    number = (await redeem(api, "T-7", "t-7b", ("TU-10", 1)))["order"]["number"]
    cancelled = (
        await api.op(
            "CancelOrder",
            {"input": {"orderNumber": number}},
            auth=member_token("T-7"),
        )
    ).data["cancelOrder"]
    assert [e["code"] for e in cancelled["errors"]] == ["INVALID_TRANSITION"]
    assert (await Order.get(number=number)).status is OrderStatus.CONFIRMED


def signed(server: ChargingFake, document: dict[str, Any], *, at: float | None = None) -> Any:
    body = json.dumps(document).encode()
    stamp = str(int(time.time() if at is None else at))
    return body, {
        "X-Timestamp": stamp,
        "X-Signature": server.sign(body, stamp),
        "Content-Type": "application/json",
    }


async def test_callbacks_replayed_forged_late_or_out_of_order_are_applied_once(
    api: GraphQLClient, db: str, charging: tuple[ChargingFake, ChargingClient]
) -> None:
    server, client = charging
    await digital_mall(api)
    await member("T-8")
    number = (await redeem(api, "T-8", "t-8", ("TU-10", 1)))["order"]["number"]
    [top_up] = await TopUp.all()
    key = f"topup:{top_up.order_line_id}"
    server.switch(pending=3600.0)  # accepted now, confirmed much later
    waiting = await delivery.deliver_round(client, now=datetime.now(UTC))
    assert waiting.waiting == 1
    # The service that knows this charging system (`api` names none: it takes no callback).
    app = create_app(settings_for(db, charging_url=server.url), manage_database=False)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    closed, closed_headers = signed(server, {"idempotencyKey": key, "outcome": "DELIVERED"})
    refused = await api.http.post("/webhooks/charging", content=closed, headers=closed_headers)
    assert refused.status_code == 404

    async def post(body: bytes, headers: dict[str, str]) -> httpx.Response:
        return await http.post("/webhooks/charging", content=body, headers=headers)

    delivered = {"idempotencyKey": key, "outcome": "DELIVERED", "transactionId": "CS-1"}
    failed = {"idempotencyKey": key, "outcome": "FAILED", "reason": "ACCOUNT_BARRED"}
    # Forged: another secret; stale: signed ten minutes ago. Both refused, nothing moves.
    body, headers = signed(server, delivered)
    forged = dict(headers, **{"X-Signature": "sha256=" + "0" * 64})
    assert (await post(body, forged)).status_code == 401
    stale_body, stale = signed(server, delivered, at=time.time() - 600)
    assert (await post(stale_body, stale)).status_code == 401
    assert (await post(b"\xff\x00 not json", headers)).status_code == 401
    assert (await top_up_of(api, "T-8", number))["status"] == "PENDING"
    # The real one applies; replays of it and a contradicting FAILED after it change nothing.
    first = await post(body, headers)
    assert first.json() == {"received": True, "applied": True}
    assert (await post(body, headers)).json()["applied"] is False
    failed_body, failed_headers = signed(server, failed)
    assert (await post(failed_body, failed_headers)).json()["applied"] is False
    line = await top_up_of(api, "T-8", number)
    assert (line["order"], line["status"], line["reason"]) == ("DELIVERED", "DELIVERED", None)
    assert await available(api, "T-8") == 5_000 - 840
    assert await Notification.filter(kind=NotificationKind.TOPUP_DELIVERED).count() == 1
    assert await Notification.filter(kind=NotificationKind.TOPUP_REFUNDED).count() == 0
    # A callback for a line nobody has is answered, and applies to nothing.
    other, other_headers = signed(server, dict(delivered, idempotencyKey="topup:999999"))
    assert (await post(other, other_headers)).json()["applied"] is False
    await http.aclose()
    await app.state.services.payments.close()
    assert await audit() == []


async def test_members_racing_for_the_last_of_a_budget_take_exactly_it(
    api: GraphQLClient,
) -> None:
    await digital_mall(api)
    await gift(api, "TU-RACE", 10, kind="TOP_UP", face_value=500, daily_budget=10_000, name="r")
    racers = 40
    for n in range(racers):
        await member(f"R-{n}", mobile=f"+86139001{n:05d}")

    async def one(n: int) -> dict[str, Any]:
        return await redeem(api, f"R-{n}", f"r-{n}", ("TU-RACE", 1))

    results = await asyncio.gather(*(one(n) for n in range(racers)))
    placed = [r for r in results if not r["errors"]]
    refused = [e["code"] for r in results for e in r["errors"]]
    assert len(placed) == 20
    assert refused == ["BUDGET_SPENT"] * 20
    [budget] = await TopUpBudget.all()
    assert budget.spent == 10_000
    assert await TopUp.filter(status=TopUpStatus.PENDING).count() == 20
    assert await audit() == []


async def test_the_sla_report_shows_the_digital_lines_apart(
    api: GraphQLClient, charging: tuple[ChargingFake, ChargingClient]
) -> None:
    server, client = charging
    await digital_mall(api)
    await codes(api, "LK-0001")
    start = datetime.now(UTC) - timedelta(minutes=1)
    for n in range(4):
        await member(f"S-{n}", mobile=f"+861380013801{n}")
    await redeem(api, "S-0", "s-0", ("TU-10", 1), ("EV-COFFEE", 1))
    await redeem(api, "S-1", "s-1", ("TU-10", 1))
    server.switch(pending=3600.0)  # S-0 and S-1 are accepted, confirmed later
    now = datetime.now(UTC)
    await delivery.deliver_round(client, now=now)
    # S-0's lands 2 minutes in, S-1's is refused; S-2's is still on its way.
    ordered = await TopUp.all().order_by("id")
    await delivery.finish(
        [delivery.Outcome(ordered[0].id, TopUpStatus.DELIVERED)],
        now=ordered[0].created_at + timedelta(minutes=2),
    )
    await delivery.finish(
        [delivery.Outcome(ordered[1].id, TopUpStatus.FAILED, "ACCOUNT_BARRED")], now=now
    )
    await redeem(api, "S-2", "s-2", ("TU-10", 1))
    result = await api.op(
        "DigitalSla",
        {"from": start.isoformat(), "to": (now + timedelta(minutes=1)).isoformat()},
        auth=admin_token(),
    )
    digital = result.data["slaReport"]["digital"]
    assert digital == {
        "topUps": 3,
        "delivered": 1,
        "deliveredOnTime": 1,
        "onTimeRate": 0.5,
        "medianSecondsToDeliver": 120.0,
        "p95SecondsToDeliver": 120.0,
        "refunded": 1,
        "pending": 1,
        "vouchersDelivered": 1,
    }
    # A warehouse's report has no digital part: a digital line ships from no warehouse.
    staff = await api.op(
        "DigitalSla",
        {"from": start.isoformat(), "to": (now + timedelta(minutes=1)).isoformat()},
        auth=staff_token("SH01"),
    )
    assert staff.data["slaReport"]["digital"] is None


async def test_the_worker_sends_a_top_up_as_it_is_redeemed_not_at_its_next_pass(
    api: GraphQLClient, db: str, charging: tuple[ChargingFake, ChargingClient]
) -> None:
    server, _ = charging
    await digital_mall(api)
    await member("W-1")
    # A pass an hour apart: only the worker's top-up loop can send it in time.
    settings = settings_for(db, charging_url=server.url, sweep_interval_seconds=3600.0)
    stop = asyncio.Event()
    worker = asyncio.create_task(run_forever(settings, stop=stop))
    try:
        await asyncio.sleep(1.0)  # the first pass ran; the loop rests between rounds
        number = (await redeem(api, "W-1", "w-1", ("TU-10", 1)))["order"]["number"]
        await server.wait_for(lambda: server.total_credited == 1, timeout=20)
        for _ in range(200):
            if (await Order.get(number=number)).status is OrderStatus.DELIVERED:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(worker, 20)
    assert (await top_up_of(api, "W-1", number))["status"] == "DELIVERED"
    assert list(server.credits.values()) == [1]


async def test_two_top_ups_of_one_order_ending_at_once_complete_it(api: GraphQLClient) -> None:
    await digital_mall(api)
    await gift(api, "TU-DATA", 300, kind="TOP_UP", face_value=1024, top_up_product="DATA")
    for n in range(5):
        await member(f"P-{n}", mobile=f"+861380013802{n}")
        payload = await redeem(api, f"P-{n}", f"p-{n}", ("TU-10", 1), ("TU-DATA", 1))
        number = payload["order"]["number"]
        order = await Order.get(number=number)
        first, second = await TopUp.filter(order_id=order.id).order_by("id")
        now = datetime.now(UTC)
        # Each line's end in a transaction of its own, at the same moment.
        await asyncio.gather(
            delivery.finish([delivery.Outcome(first.id, TopUpStatus.DELIVERED)], now=now),
            delivery.finish([delivery.Outcome(second.id, TopUpStatus.DELIVERED)], now=now),
        )
        assert (await Order.get(number=number)).status is OrderStatus.DELIVERED, n
    assert await audit() == []
