"""The warehouse station in a real browser: a new order appears live, is scanned, picked,
packed and shipped from the keyboard, its member hears SHIPPED, and it leaves the queue;
another warehouse's staff can neither see nor act on it; the errors show where the eye is.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.async_api import Page, WebSocketRoute, expect

from tests.browser.helpers import redeem, scan, sign_in, station_ready
from tests.integration.test_gift_kinds import digital_mall
from tests.support.catalog import small_mall
from tests.support.graphql import (
    GraphQLClient,
    admin_token,
    member_token,
    operation,
    staff_token,
)
from tests.support.members import member_with_points
from tests.support.ws import graphql_socket

LATER = (datetime.now(UTC) + timedelta(days=200)).isoformat()


async def choose_carrier_from_the_keyboard(page) -> None:  # type: ignore[no-untyped-def]
    """Once per session: back from the scan field to the carrier, the first carrier (SF)."""
    await page.keyboard.press("Shift+Tab")
    await expect(page.locator("#carrier")).to_be_focused()
    await page.keyboard.press("ArrowDown")
    await expect(page.locator("#carrier")).to_have_value("SF")
    await expect(page.locator("#scan")).to_be_focused()


async def test_an_order_arrives_live_and_is_shipped_with_four_scans_and_no_mouse(
    server: GraphQLClient, console_server: str, pages
) -> None:  # type: ignore[no-untyped-def]
    await small_mall(server)
    await member_with_points("BR-1", 100_000)
    station = await pages()
    page = station.page
    await station.shot("signin")
    await sign_in(page, staff_token("SH01"))
    await station_ready(page)
    await expect(page.locator("#queue-empty")).to_be_visible()
    order = await redeem(server, "BR-1", "browser-1", "HM-MUG")
    number = order["number"]
    row = page.locator(f'#queue-rows tr[data-number="{number}"]')
    await expect(row).to_be_visible()  # live: no reload
    await expect(page.locator("#queue-count")).to_have_text("共 1 单")
    async with graphql_socket(console_server, member_token("BR-1")) as member:
        sid = await member.subscribe(operation("OrderUpdates"), {"number": number})
        await choose_carrier_from_the_keyboard(page)
        await scan(page, number)
        await expect(page.locator(".current-number")).to_have_text(number)
        await expect(page.locator("#prompt")).to_have_attribute("data-key", "prompt.CONFIRMED")
        await station.shot("station")
        await page.emulate_media(media="print")  # the packing slip, as printed
        await expect(page.locator("#slip .slip-number")).to_have_text(f"*{number}*")
        await expect(page.locator("#screen-work")).to_be_hidden()
        await station.shot("packing-slip")
        await page.emulate_media(media="screen")
        await scan(page)  # Enter: start picking
        await expect(page.locator("#prompt")).to_have_attribute("data-key", "prompt.PICKING")
        await scan(page, number)  # the number again: packed
        await expect(page.locator("#prompt")).to_have_attribute("data-key", "prompt.PACKED")
        await scan(page, "SF7001234567")
        await expect(page.locator("#prompt")).to_have_attribute("data-key", "prompt.shipped")
        await expect(row).to_have_count(0)
        await expect(page.locator("#queue-empty")).to_be_visible()
        await station.shot("station-shipped")
        statuses = [(await member.next_payload(sid))["data"]["orderUpdated"] for _ in range(3)]
    assert [s["status"] for s in statuses] == ["PICKING", "PACKED", "SHIPPED"]
    assert statuses[-1]["shipment"]["trackingNumber"] == "SF7001234567"
    await expect(page.locator("#scan")).to_be_focused()


async def test_another_warehouses_staff_neither_see_nor_act_on_the_order(
    server: GraphQLClient, pages
) -> None:  # type: ignore[no-untyped-def]
    await small_mall(server)
    await member_with_points("BR-2", 100_000)
    order = await redeem(server, "BR-2", "browser-2", "HM-MUG")  # SH01 alone stocks the mug
    other = await pages()
    page = other.page
    await sign_in(page, staff_token("GZ01"))
    await station_ready(page)
    await expect(page.locator("#warehouse")).to_have_value("GZ01")
    await expect(page.locator("#queue-empty")).to_be_visible()
    await scan(page, order["number"])
    problem = page.locator("#problem")
    await expect(problem).to_be_visible()
    await expect(problem).to_have_attribute("data-key", "problem.NOT_FOUND")
    await expect(problem).to_contain_text(order["number"])
    await other.shot("station-not-yours")
    opened = await server.op(
        "StationOrderByNumber", {"number": order["number"]}, auth=staff_token("SH01")
    )
    assert opened.data["order"]["status"] == "CONFIRMED", "nothing moved"


async def test_a_tracking_number_already_used_and_a_step_out_of_turn_are_shown_at_the_scan(
    server: GraphQLClient, pages
) -> None:  # type: ignore[no-untyped-def]
    await small_mall(server)
    await member_with_points("BR-3", 100_000)
    first = (await redeem(server, "BR-3", "browser-3a", "HM-MUG"))["number"]
    second = (await redeem(server, "BR-3", "browser-3b", "HM-MUG"))["number"]
    deaf = {"on": False}

    async def deafen_when_asked(page: Page) -> None:
        """The station's live updates can be held back, as on a network that drops them."""

        async def relay(socket: WebSocketRoute) -> None:
            upstream = socket.connect_to_server()

            def down(message: Any) -> None:
                if not (deaf["on"] and '"next"' in str(message)):
                    socket.send(message)

            upstream.on_message(down)

        await page.route_web_socket(re.compile(r"/graphql$"), relay)

    station = await pages(before=deafen_when_asked)
    page = station.page
    await sign_in(page, staff_token("SH01"))
    await station_ready(page)
    await choose_carrier_from_the_keyboard(page)
    for number in (first, second):
        await scan(page, number)
        await scan(page)
        await scan(page)
        await expect(page.locator("#prompt")).to_have_attribute("data-key", "prompt.PACKED")
        await scan(page, "SF7009999999")
    problem = page.locator("#problem")
    await expect(problem).to_have_attribute("data-key", "problem.DUPLICATE_TRACKING_NUMBER")
    await expect(problem).to_contain_text("SF7009999999")
    await expect(page.locator("#scan")).to_have_class("is-wrong")
    await station.shot("station-duplicate-tracking")
    # Someone else ships the order meanwhile, unheard: this station's next step is refused,
    # and the station reads the order again.
    deaf["on"] = True
    ship = {"orderNumber": second, "carrier": "SF", "trackingNumber": "SF7008888888"}
    shipped = await server.op("StationShip", {"input": ship}, auth=staff_token("SH01"))
    assert shipped.data["shipOrder"]["errors"] == []
    await scan(page, "SF7007777777")
    await expect(problem).to_have_attribute("data-key", "problem.INVALID_TRANSITION")
    await expect(page.locator("#prompt")).to_have_attribute("data-key", "prompt.other")


async def test_a_mixed_orders_e_voucher_is_neither_picked_nor_on_the_slip(
    server: GraphQLClient, console_server: str, pages
) -> None:  # type: ignore[no-untyped-def]
    await digital_mall(server)
    await server.op(
        "ImportVoucherCodes",
        {"input": {"sku": "EV-COFFEE", "codes": [{"code": "SLIP-0001", "expiresAt": LATER}]}},
        auth=admin_token(),
    )
    await member_with_points("BR-1", 100_000)
    order = await redeem(server, "BR-1", "mixed", "HM-MUG", "EV-COFFEE")
    station = await pages()
    page = station.page
    await sign_in(page, staff_token("SH01"))
    await station_ready(page)
    await scan(page, order["number"])
    lines = page.locator("#current-body .lines li")
    await expect(lines).to_have_count(2)
    await expect(lines.nth(0)).to_contain_text("HM-MUG")
    await expect(lines.nth(1)).to_have_text("另有 1 件电子商品已发放给会员，无需拣货")
    await page.emulate_media(media="print")
    await expect(page.locator("#slip tbody tr")).to_have_count(1)
    await expect(page.locator("#slip tbody")).not_to_contain_text("EV-COFFEE")
    await station.shot("mixed-order")
