"""Steps the browser tests share: signing in from the keyboard, placing an order as a member."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page, expect

from tests.support.catalog import ADDRESS
from tests.support.graphql import GraphQLClient, member_token


async def sign_in(page: Page, token: str) -> None:
    """Paste the token and sign in, with the keyboard only."""
    await expect(page.locator("#screen-signin")).to_be_visible()
    await page.locator("#token").focus()
    await page.keyboard.insert_text(token)
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")


async def station_ready(page: Page) -> None:
    """Signed in, the live queue subscribed and the scan field focused."""
    await expect(page.locator("#screen-work .station")).to_be_visible()
    await expect(page.locator("#live")).to_have_attribute("data-status", "live")
    await expect(page.locator("#prompt")).to_have_attribute("data-key", "prompt.scanOrder")
    await expect(page.locator("#scan")).to_be_focused()


async def scan(page: Page, text: str = "") -> None:
    """What a keyboard-wedge scanner does: type the code, then Enter."""
    if text:
        await page.keyboard.type(text)
    await page.keyboard.press("Enter")


async def redeem(
    server: GraphQLClient, member: str, key: str, sku: str, *more: str
) -> dict[str, Any]:
    """The member redeems one unit of `sku` (and of each of `more`) through the API process;
    the order."""
    variables = {
        "input": {
            "idempotencyKey": key,
            "lines": [{"sku": s, "quantity": 1} for s in (sku, *more)],
            "shippingAddress": ADDRESS,
        }
    }
    result = await server.op("Redeem", variables, auth=member_token(member))
    payload: dict[str, Any] = result.data["redeem"]
    assert payload["errors"] == [], payload["errors"]
    return payload["order"]
