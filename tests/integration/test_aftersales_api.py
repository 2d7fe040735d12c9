"""After-sales through the API as the apps and the service desk send it: the story of a
broken cup, from the member's ticket to the survey answered by SMS and the report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from models.aftersales.models import Ticket
from tests.support.aftersales import delivered, member_with_mobile, pass_at, texted
from tests.support.catalog import small_mall
from tests.support.graphql import GraphQLClient, admin_token, member_token, token
from tests.support.members import member_with_points

MEMBER = "AS-CUP"
PHONE = "+8613800138077"
AGENT = token("agent", "agent-7")


async def payload(api: GraphQLClient, name: str, variables: dict[str, Any], auth: str) -> Any:
    result = await api.op(name, variables, auth=auth)
    value = next(iter(result.data.values()))
    assert value["errors"] == [], value["errors"]
    return value


async def inbox(api: GraphQLClient) -> list[tuple[str, str]]:
    result = await api.op("MyNotifications", {"first": 50}, auth=member_token(MEMBER))
    edges = result.data["me"]["notifications"]["edges"]
    return [(e["node"]["kind"], e["node"]["text"]) for e in reversed(edges)]


async def cup(api: GraphQLClient) -> str:
    await small_mall(api)
    await member_with_mobile(MEMBER, PHONE, language="en")
    await member_with_points(MEMBER, 30_000)
    order = await delivered(MEMBER, "cup", "HM-MUG", "SFCUP0001")
    return order.number


async def test_the_broken_cup_from_ticket_to_survey_and_report(api: GraphQLClient) -> None:
    number = await cup(api)
    member = member_token(MEMBER)
    opened = await payload(
        api,
        "OpenTicket",
        {"input": {"category": "DAMAGED", "text": "the cup arrived broken", "orderNumber": number}},
        member,
    )
    ticket = opened["ticket"]
    assert (ticket["state"], ticket["order"]["number"]) == ("NEW", number)

    queue = (await api.op("TicketQueue", {"first": 10}, auth=AGENT)).data["ticketQueue"]
    top = queue["edges"][0]["node"]
    assert top["number"] == ticket["number"]
    assert top["nextDeadline"] == top["firstReplyDueAt"]
    opened_at = datetime.fromisoformat(top["openedAt"])
    assert datetime.fromisoformat(top["firstReplyDueAt"]) - opened_at == timedelta(hours=48)
    assert (top["member"]["externalId"], top["order"]["number"]) == (MEMBER, number)

    await payload(
        api,
        "ReplyToTicket",
        {"input": {"number": ticket["number"], "text": "Sorry! A new cup is on its way."}},
        AGENT,
    )
    sent = await payload(
        api,
        "SendReplacement",
        {"input": {"number": ticket["number"], "idempotencyKey": "click-1"}},
        AGENT,
    )
    replacement = sent["resolution"]["replacementOrder"]
    assert (replacement["status"], replacement["pointsTotal"]) == ("CONFIRMED", 0)
    await payload(
        api, "ResolveTicket", {"input": {"number": ticket["number"], "summary": "a new cup"}}, AGENT
    )

    told = await inbox(api)
    kinds = [kind for kind, _ in told]
    assert kinds[-4:] == ["TICKET_REPLY", "TICKET_REPLACEMENT", "TICKET_RESOLVED", "QUESTION"]
    words = dict(told)
    assert "Sorry! A new cup is on its way." in words["TICKET_REPLY"]
    assert f"order {replacement['number']}" in words["TICKET_REPLACEMENT"]
    assert replacement["promisedShipDate"] in words["TICKET_REPLACEMENT"]
    assert "Reply 1-5 (5 = very satisfied" in words["QUESTION"]

    assert await texted(PHONE, "5", at=datetime.now(UTC)) == "ANSWER"
    await pass_at(datetime.now(UTC))
    window = {
        "from": (opened_at - timedelta(hours=1)).isoformat(),
        "to": datetime.now(UTC).isoformat(),
    }
    report = (await api.op("ServiceReport", window, auth=AGENT)).data["serviceReport"]
    assert (report["ticketsOpened"], report["firstRepliedOnTime"], report["onTimeRate"]) == (
        1,
        1,
        1.0,
    )
    assert (report["averageRating"], report["surveysAnswered"], report["responseRate"]) == (
        5.0,
        1,
        1.0,
    )
    assert report["ratings"][-1] == {"rating": 5, "count": 1}

    seen = (await api.op("Ticket", {"number": ticket["number"]}, auth=member)).data["ticket"]
    assert seen["firstReplyOnTime"] is True
    assert seen["survey"]["rating"] == 5
    assert [r["kind"] for r in seen["resolutions"]] == ["REPLACEMENT"]


async def test_members_see_their_own_tickets_without_internal_notes(api: GraphQLClient) -> None:
    number = await cup(api)
    member = member_token(MEMBER)
    opened = await payload(
        api,
        "OpenTicket",
        {
            "input": {
                "category": "WRONG_ITEM",
                "text": "wrong colour",
                "orderNumber": number,
                "photoUrls": ["https://img.example.com/1.jpg"],
                "idempotencyKey": "t1",
            }
        },
        member,
    )
    again = await payload(
        api,
        "OpenTicket",
        {
            "input": {
                "category": "WRONG_ITEM",
                "text": "wrong colour",
                "orderNumber": number,
                "idempotencyKey": "t1",
            }
        },
        member,
    )
    ticket = opened["ticket"]["number"]
    assert again["ticket"]["number"] == ticket
    await payload(
        api, "AddInternalNote", {"input": {"number": ticket, "text": "SECRET-NOTE"}}, AGENT
    )
    await payload(api, "WaitOnMember", {"input": {"number": ticket}}, AGENT)
    written = await payload(
        api, "AddTicketMessage", {"input": {"number": ticket, "text": "photo of the box"}}, member
    )
    assert written["ticket"]["state"] == "OPEN"

    mine = (await api.op("MyTickets", {"first": 10}, auth=member)).data["myTickets"]
    assert [e["node"]["number"] for e in mine["edges"]] == [ticket]
    seen = await api.query(
        "query($n: String!) { ticket(number: $n) { assignee member { externalId }"
        " timeline(first: 50) { edges { node { kind author body photos } } } } }",
        {"n": ticket},
        auth=member,
    )
    shown = seen.data["ticket"]
    assert (shown["assignee"], shown["member"]) == (None, None)
    entries = [e["node"] for e in shown["timeline"]["edges"]]
    assert "SECRET-NOTE" not in str(entries)
    assert {e["author"] for e in entries} == {None}
    assert entries[0]["photos"] == ["https://img.example.com/1.jpg"]
    agents_view = (await api.op("AgentTicket", {"number": ticket}, auth=AGENT)).data["ticket"]
    assert "SECRET-NOTE" in [e["node"]["body"] for e in agents_view["timeline"]["edges"]]
    assert agents_view["member"]["points"]["balance"] == 30_000 - 7_800

    other = await api.op("Ticket", {"number": ticket}, auth=member_token("AS-OTHER"))
    assert other.data["ticket"] is None


async def test_a_resolved_ticket_is_confirmed_closed_and_then_refuses_messages(
    api: GraphQLClient,
) -> None:
    await cup(api)
    member = member_token(MEMBER)
    ticket = (
        await payload(
            api, "OpenTicket", {"input": {"category": "QUESTION", "text": "积分何时到账"}}, member
        )
    )["ticket"]["number"]
    await payload(
        api,
        "LogTicketCall",
        {"input": {"number": ticket, "outcome": "explained the accrual"}},
        AGENT,
    )
    await payload(api, "ResolveTicket", {"input": {"number": ticket, "summary": "answered"}}, AGENT)
    rated = await payload(
        api, "RateService", {"input": {"ticketNumber": ticket, "rating": 4}}, member
    )
    assert (rated["survey"]["rating"], rated["survey"]["ratedBy"]) == (4, "APP")
    closed = await payload(api, "ConfirmTicketResolved", {"input": {"number": ticket}}, member)
    assert closed["ticket"]["state"] == "CLOSED"

    refused = await api.op(
        "AddTicketMessage", {"input": {"number": ticket, "text": "again"}}, auth=member
    )
    assert [e["code"] for e in refused.data["addTicketMessage"]["errors"]] == ["TICKET_CLOSED"]
    replied = await api.op("ReplyToTicket", {"input": {"number": ticket, "text": "hi"}}, auth=AGENT)
    assert [e["code"] for e in replied.data["replyToTicket"]["errors"]] == ["TICKET_CLOSED"]


async def test_the_service_desk_works_a_ticket(api: GraphQLClient) -> None:
    number = await cup(api)
    called = await payload(
        api,
        "OpenTicketForCaller",
        {
            "input": {
                "memberExternalId": MEMBER,
                "category": "QUALITY_FAULT",
                "text": "handle loose",
                "callOutcome": "refund half",
                "orderNumber": number,
            }
        },
        AGENT,
    )
    ticket = called["ticket"]
    assert ticket["firstRepliedAt"] is not None, "the logged call is the first reply"
    assert (ticket["state"], ticket["assignee"]) == ("OPEN", "agent-7")
    claimed = await api.op(
        "ClaimTicket", {"input": {"number": ticket["number"]}}, auth=token("agent", "agent-8")
    )
    assert [e["code"] for e in claimed.data["claimTicket"]["errors"]] == ["INVALID_TRANSITION"]
    moved = await payload(
        api,
        "AssignTicket",
        {"input": {"number": ticket["number"], "agent": "agent-8"}},
        admin_token(),
    )
    assert moved["ticket"]["assignee"] == "agent-8"
    mine = await api.op("TicketQueue", {"first": 10, "filter": {"assignee": "agent-8"}}, auth=AGENT)
    assert [e["node"]["number"] for e in mine.data["ticketQueue"]["edges"]] == [ticket["number"]]
    waiting = await payload(api, "WaitOnMember", {"input": {"number": ticket["number"]}}, AGENT)
    assert waiting["ticket"]["nextDeadline"] is None
    resumed = await payload(api, "ResumeTicket", {"input": {"number": ticket["number"]}}, AGENT)
    assert resumed["ticket"]["nextDeadline"] is not None

    refunded = await payload(
        api,
        "RefundOrderPoints",
        {
            "input": {
                "number": ticket["number"],
                "idempotencyKey": "r1",
                "lines": [{"sku": "HM-MUG", "quantity": 1}],
            }
        },
        AGENT,
    )
    assert refunded["resolution"]["points"] == 7_800
    await payload(
        api, "SetGoodwillCap", {"input": {"agent": "agent-7", "dailyPoints": 50}}, admin_token()
    )
    over = await api.op(
        "CreditGoodwill",
        {
            "input": {
                "number": ticket["number"],
                "idempotencyKey": "g1",
                "points": 80,
                "reason": "sorry",
            }
        },
        auth=AGENT,
    )
    assert [e["code"] for e in over.data["creditGoodwill"]["errors"]] == ["APPROVAL_REQUIRED"]
    asked = await payload(
        api,
        "CreditGoodwill",
        {
            "input": {
                "number": ticket["number"],
                "idempotencyKey": "g2",
                "points": 80,
                "reason": "sorry",
                "requestApproval": True,
            }
        },
        AGENT,
    )
    assert asked["resolution"]["status"] == "AWAITING_APPROVAL"
    approved = await payload(
        api,
        "ApproveGoodwill",
        {"input": {"resolutionId": asked["resolution"]["id"]}},
        admin_token(),
    )
    assert approved["resolution"]["status"] == "DONE"

    started = await payload(
        api,
        "StartReturn",
        {
            "input": {
                "number": ticket["number"],
                "idempotencyKey": "ret",
                "carrier": "sf",
                "trackingNumber": "SF-BACK-7",
            }
        },
        AGENT,
    )
    assert started["resolution"]["returnParcel"] == {
        "carrier": "SF",
        "trackingNumber": "SF-BACK-7",
        "status": None,
    }
    scan = {
        "carrier": "SF",
        "trackingNumber": "SF-BACK-7",
        "status": "DELIVERED",
        "occurredAt": datetime.now(UTC).isoformat(),
    }
    from tests.support.graphql import staff_token

    received = await payload(api, "RecordReturnScan", {"input": scan}, staff_token("SH01"))
    assert received["returnParcel"]["status"] == "DELIVERED"
    assert received["returnParcel"]["receivedAt"] is not None
    assert (await api.op("Me", auth=member_token(MEMBER))).data["me"]["points"][
        "balance"
    ] == 30_000 + 80
    desk = (await api.op("AgentTicket", {"number": ticket["number"]}, auth=AGENT)).data["ticket"]
    # The refused credit recorded nothing; the one asked for was approved.
    assert [(r["kind"], r["status"]) for r in desk["resolutions"]] == [
        ("REFUND_POINTS", "DONE"),
        ("GOODWILL", "DONE"),
        ("RETURN", "RECEIVED"),
    ]
    assert await Ticket.all().count() == 1
