"""Signing in to the console: an expired token, a token of the wrong role, a token that
expires while the station is open, and English one click away. Never a blank page."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.helpers import sign_in, station_ready
from tests.support.graphql import GraphQLClient, member_token, token


async def test_an_expired_token_lands_on_the_sign_in_screen(server: GraphQLClient, pages) -> None:  # type: ignore[no-untyped-def]
    await server.op("StationWarehouses", auth=token("admin", "a"))  # the server is up
    console = await pages()
    page = console.page
    await sign_in(page, token("warehouse", "staff-1", ("SH01",), ttl=-60))
    reason = page.locator("#signin-reason")
    await expect(reason).to_be_visible()
    await expect(reason).to_have_attribute("data-reason", "expired")
    await expect(page.locator("#token")).to_be_focused()
    await console.shot("signin-expired")


async def test_a_token_that_expires_while_the_station_is_open_signs_the_tab_out(
    server: GraphQLClient, pages
) -> None:  # type: ignore[no-untyped-def]
    console = await pages()
    page = console.page
    await sign_in(page, token("warehouse", "staff-1", ("SH01",), ttl=3))
    await expect(page.locator("#screen-work .station")).to_be_visible()
    reason = page.locator("#signin-reason")
    await expect(reason).to_have_attribute("data-reason", "expired", timeout=10_000)
    await expect(page.locator("#screen-work")).to_be_hidden()
    assert await page.evaluate("sessionStorage.length") == 0, "the token is forgotten"


async def test_a_member_token_is_told_it_lacks_the_role(server: GraphQLClient, pages) -> None:  # type: ignore[no-untyped-def]
    console = await pages()
    page = console.page
    await sign_in(page, member_token("BR-9"))
    reason = page.locator("#signin-reason")
    await expect(reason).to_have_attribute("data-reason", "role")
    await expect(reason).to_contain_text("member")


async def test_english_is_one_click_away_and_the_choice_stays(server: GraphQLClient, pages) -> None:  # type: ignore[no-untyped-def]
    from tests.support.catalog import small_mall

    await small_mall(server)
    console = await pages()
    page = console.page
    await sign_in(page, token("admin", "admin-1"))
    await station_ready(page)
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    await page.locator("#lang").click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator("#prompt")).to_have_text("Scan an order number to start.")
    await expect(page.locator("#scan")).to_be_focused()
    await page.reload()
    await expect(page.locator("#prompt")).to_have_text("Scan an order number to start.")
    await console.shot("station-en")
