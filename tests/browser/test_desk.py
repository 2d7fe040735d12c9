"""The service desk in a real browser: an agent opens the oldest ticket, sends an internal
note (the deadline still counts down), then a public reply (the ticket leaves at-risk), and
resolves it with a replacement whose ship date shows; a resolution refused shows its error;
only agents and admins get the desk, and a warehouse tab never loads it.

The tickets are opened by a member through the API process; its SERVICE_AT_RISK_HOURS (see
conftest) puts every new ticket at risk at once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.async_api import Page, Request, expect

from tests.browser.helpers import sign_in, station_ready
from tests.support.aftersales import delivered, pass_at
from tests.support.catalog import small_mall
from tests.support.databases import target
from tests.support.graphql import GraphQLClient, member_token, staff_token, token
from tests.support.members import member_with_points

AGENT = "agent-7"


async def open_ticket(
    server: GraphQLClient, member: str, text: str, order: str | None = None
) -> dict[str, Any]:
    """The member opens a ticket in the app (through the API process)."""
    fields = {"category": "DAMAGED" if order else "QUESTION", "text": text, "orderNumber": order}
    result = await server.op("OpenTicket", {"input": fields}, auth=member_token(member))
    payload: dict[str, Any] = result.data["openTicket"]
    assert payload["errors"] == [], payload["errors"]
    return payload["ticket"]


async def desk_ready(page: Page) -> None:
    await expect(page.locator("#screen-work .desk")).to_be_visible()
    await expect(page.locator("#desk-live")).to_have_attribute("data-status", "live")


async def press_submit(page: Page, button: str) -> None:
    """Tab to a form's button and press Enter (the keyboard's way)."""
    await page.locator(button).focus()
    await page.keyboard.press("Enter")


async def test_an_agent_answers_the_oldest_ticket_and_resolves_it_with_a_replacement(
    server: GraphQLClient, pages
) -> None:  # type: ignore[no-untyped-def]
    await small_mall(server)
    await member_with_points("DK-1", 100_000)
    order = await delivered("DK-1", "desk-cup", "HM-MUG", "SFDESK0001")
    oldest = await open_ticket(server, "DK-1", "杯子碎了 The cup arrived broken", order.number)
    newer = await open_ticket(server, "DK-1", "积分什么时候到账？")
    desk = await pages()
    page = desk.page
    await sign_in(page, token("agent", AGENT))
    await desk_ready(page)
    await expect(page.locator("#screen-work .station")).to_have_count(0)
    rows = page.locator("#tickets-rows tr")
    first = rows.first
    await expect(first).to_have_attribute("data-number", oldest["number"])
    await expect(rows.nth(1)).to_have_attribute("data-number", newer["number"])
    await expect(first).to_have_attribute("data-urgency", "atRisk")
    await expect(first.locator(".mark")).to_have_text("有风险")

    # The oldest ticket opens from the keyboard; the focus moves to it.
    await first.locator("button").focus()
    await page.keyboard.press("Enter")
    ticket = page.locator("#ticket")
    await expect(page.locator("#ticket-title")).to_contain_text(oldest["number"])
    await expect(page.locator("#ticket-title")).to_be_focused()
    await expect(ticket).to_have_attribute("data-urgency", "atRisk")
    deadline = await ticket.get_attribute("data-deadline")
    assert deadline, "the first reply's deadline runs"
    await expect(page.locator("#member-points")).to_contain_text("可用")
    timeline = page.locator("#order .order-timeline li")
    await expect(timeline.filter(has_text="签收")).to_have_count(1)  # the carrier's scan
    await expect(timeline.filter(has_text="SFDESK0001")).to_have_count(1)  # shipped
    await expect(page.locator("#conversation li[data-kind=MEMBER_MESSAGE]")).to_contain_text(
        "杯子碎了"
    )

    # An internal note: chosen from the keyboard, unmistakably not a reply, and the
    # deadline keeps running.
    await page.locator("#reply-public").focus()
    await page.keyboard.press("ArrowDown")
    await expect(page.locator("#reply-internal")).to_be_checked()
    await expect(page.locator("#reply-form")).to_have_class("desk-form reply-internal")
    await expect(page.locator("#reply-banner")).to_be_visible()
    await expect(page.locator("#reply-send")).to_have_text("保存内部备注")
    await page.locator("#reply-text").fill("检查过照片：确实碎了，补发。")
    await press_submit(page, "#reply-send")
    await expect(page.locator("#desk-done")).to_have_attribute("data-key", "done.note")
    note = page.locator("#conversation li[data-kind=INTERNAL_NOTE]")
    await expect(note).to_have_count(1)
    await expect(note.locator(".entry-label")).to_have_text("内部备注 · 仅客服可见")
    await expect(note).to_contain_text("检查过照片")
    await expect(ticket).to_have_attribute("data-urgency", "atRisk")
    await expect(ticket).to_have_attribute("data-deadline", deadline)
    await expect(first).to_have_attribute("data-urgency", "atRisk")
    await desk.shot("desk-note")

    # A public reply: the first reply is made, the ticket leaves at-risk.
    await page.locator("#reply-internal").focus()
    await page.keyboard.press("ArrowUp")
    await expect(page.locator("#reply-public")).to_be_checked()
    await expect(page.locator("#reply-banner")).to_be_hidden()
    await expect(page.locator("#reply-send")).to_have_text("发送公开回复")
    await page.locator("#reply-text").fill("很抱歉！新杯子马上寄出。")
    await press_submit(page, "#reply-send")
    await expect(page.locator("#desk-done")).to_have_attribute("data-key", "done.reply")
    public = page.locator("#conversation li[data-kind=PUBLIC_REPLY]")
    await expect(public.locator(".entry-label")).to_have_text("公开回复 · 会员可见")
    await expect(ticket).to_have_attribute("data-urgency", "")
    await expect(ticket.locator("#ticket-facts .mark")).to_have_count(0)
    row = page.locator(f'#tickets-rows tr[data-number="{oldest["number"]}"]')
    await expect(row).to_have_attribute("data-urgency", "")
    assert await ticket.get_attribute("data-deadline") != deadline, "the next promise runs"
    seen = await server.op("Ticket", {"number": oldest["number"]}, auth=member_token("DK-1"))
    kinds = [e["node"]["kind"] for e in seen.data["ticket"]["timeline"]["edges"]]
    assert "PUBLIC_REPLY" in kinds, kinds
    assert "INTERNAL_NOTE" not in kinds, "the member never sees the note"

    # A replacement: its order and ship date show.
    await expect(page.locator("#resolution-kind")).to_have_value("REPLACEMENT")
    await press_submit(page, "#resolution-form button[type=submit]")
    await expect(page.locator("#desk-done")).to_have_attribute("data-key", "done.resolution")
    agent = token("agent", AGENT)
    read = await server.op("AgentTicket", {"number": oldest["number"]}, auth=agent)
    replacement = read.data["ticket"]["resolutions"][0]["replacementOrder"]
    assert replacement["promisedShipDate"], replacement
    shown = page.locator("#resolutions li[data-kind=REPLACEMENT]")
    await expect(shown).to_contain_text(replacement["number"])
    await expect(shown).to_contain_text(replacement["promisedShipDate"])

    # Resolved: the member is told, the ticket leaves the queue.
    await page.locator("#resolve-summary").fill("已补发新杯子。A new mug is on its way.")
    await press_submit(page, "#resolve-form button[type=submit]")
    await expect(page.locator("#desk-done")).to_have_attribute("data-key", "done.resolved")
    await expect(page.locator("#desk-problem")).to_be_hidden()
    await expect(page.locator("#ticket-state")).to_have_text("已解决")
    await expect(row).to_have_count(0)
    await expect(shown).to_contain_text(replacement["promisedShipDate"])
    await desk.shot("desk")
    final = await server.op("AgentTicket", {"number": oldest["number"]}, auth=agent)
    assert final.data["ticket"]["state"] == "RESOLVED"


async def test_a_call_is_logged_and_refused_resolutions_show_their_errors_in_english(
    server: GraphQLClient, pages
) -> None:  # type: ignore[no-untyped-def]
    await small_mall(server)
    await member_with_points("DK-2", 1_000)
    opened = await open_ticket(server, "DK-2", "How do I read my statement?")
    desk = await pages()
    page = desk.page
    await sign_in(page, token("agent", "agent-8"))
    await desk_ready(page)
    await page.locator("#lang").click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator("#tickets-title")).to_contain_text("Ticket queue")
    row = page.locator(f'#tickets-rows tr[data-number="{opened["number"]}"]')
    await row.locator("button").click()
    await expect(page.locator("#ticket-title")).to_contain_text(opened["number"])
    await page.locator("#call-outcome").fill("explained the statement")
    await press_submit(page, "#call-form button[type=submit]")
    await expect(page.locator("#desk-done")).to_have_text("✓ Call logged.")
    call = page.locator("#conversation li[data-kind=CALL]")
    await expect(call).to_contain_text("Outcome: explained the statement")
    await expect(page.locator("#ticket")).to_have_attribute("data-urgency", "")  # a reply
    # A replacement for a ticket about no order is refused, and says why.
    await press_submit(page, "#resolution-form button[type=submit]")
    problem = page.locator("#desk-problem")
    await expect(problem).to_have_attribute("data-key", "error.INVALID_INPUT")
    await expect(problem).to_contain_text("the ticket names no order")
    await page.locator("#resolution-kind").select_option("GOODWILL")
    await expect(page.locator("#goodwill-fields")).to_be_visible()
    await page.locator("#goodwill-points").fill("100000")
    await page.locator("#goodwill-reason").fill("sorry")
    await press_submit(page, "#resolution-form button[type=submit]")
    await expect(problem).to_have_attribute("data-key", "error.APPROVAL_REQUIRED")
    await expect(problem).to_contain_text("supervisor")
    await expect(page.locator("#resolutions li")).to_have_text(["Nothing yet."])
    await desk.shot("desk-en-error")
    # Asked for a supervisor's approval instead: recorded, nothing credited yet.
    await page.locator("#goodwill-approval").check()
    await press_submit(page, "#resolution-form button[type=submit]")
    await expect(page.locator("#desk-done")).to_have_text("✓ Done: Goodwill points.")
    await expect(problem).to_be_hidden()
    await expect(page.locator("#resolutions li[data-kind=GOODWILL]")).to_contain_text(
        "awaiting a supervisor"
    )
    points = await server.op("Me", auth=member_token("DK-2"))
    assert points.data["me"]["points"]["available"] == 1_000, "nothing was credited"


async def test_only_agents_and_admins_get_the_desk_and_each_tab_loads_its_own_files(
    server: GraphQLClient, pages
) -> None:  # type: ignore[no-untyped-def]
    await small_mall(server)
    fetched: list[str] = []

    async def count_files(page: Page) -> None:
        def seen(request: Request) -> None:
            fetched.append(request.url.rsplit("/", 1)[-1])

        page.on("request", seen)

    station = await pages(before=count_files)
    await sign_in(station.page, staff_token("SH01"))
    await station_ready(station.page)
    await expect(station.page.locator("#modules")).to_be_hidden()
    await expect(station.page.locator(".desk")).to_have_count(0)
    assert "station.js" in fetched
    assert not [name for name in fetched if name.startswith("desk")], fetched

    fetched.clear()
    agent = await pages(before=count_files)
    await sign_in(agent.page, token("agent", AGENT))
    await desk_ready(agent.page)
    await expect(agent.page.locator("#modules")).to_be_hidden()
    assert "desk-words.js" in fetched
    assert not [name for name in fetched if name.startswith("station")], fetched

    member = await pages()
    await sign_in(member.page, member_token("DK-3"))
    reason = member.page.locator("#signin-reason")
    await expect(reason).to_have_attribute("data-reason", "role")
    await expect(reason).to_contain_text("客服")
    await expect(member.page.locator("#screen-work")).to_be_hidden()

    admin = await pages()
    page = admin.page
    await sign_in(page, token("admin", "supervisor-1"))
    await station_ready(page)
    switch = page.locator("#modules button", has_text="客服工作台")
    await switch.focus()
    await page.keyboard.press("Enter")
    await desk_ready(page)
    await expect(page.locator("#modules button[aria-pressed=true]")).to_have_text("客服工作台")


@pytest.mark.skipif(
    target() != "postgres",
    reason="the worker's alerts reach the API process through PostgreSQL's notices",
)
async def test_a_tickets_alert_raised_by_the_worker_appears_live(
    server: GraphQLClient, pages
) -> None:  # type: ignore[no-untyped-def]
    opened = await open_ticket(server, "DK-5", "还没有人回复我")
    desk = await pages()
    page = desk.page
    await sign_in(page, token("agent", AGENT))
    await desk_ready(page)
    await expect(page.locator("#alerts li")).to_have_text(["暂无提醒。"])
    # The worker's pass (this process, as the worker would) 41 hours on: under its own
    # 8-hour threshold, the first reply is at risk.
    await pass_at(datetime.now(UTC) + timedelta(hours=41))
    alert = page.locator("#alerts li")
    await expect(alert).to_have_count(1)
    await expect(alert).to_contain_text(f"工单 {opened['number']}：首次回复即将超时")
    await desk.shot("desk-alert")
