"""Hostile input to after-sales: huge texts, control characters, other members' orders and
tickets, forged ids, ratings of 0, 6 and "two". Each gets a clear code and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry import relay

from models.aftersales.models import Resolution, Survey, Ticket, TimelineEntry
from tests.security.world import MEMBER_B, World, build_world
from tests.support.graphql import GraphQLClient, Result, admin_token, member_token, token

MEMBER_A = member_token("SEC-A")
AGENT = token("agent", "agent-1")


async def counts() -> tuple[int, int, int, int]:
    return (
        await Ticket.all().count(),
        await TimelineEntry.all().count(),
        await Resolution.all().count(),
        await Survey.filter(rating__isnull=False).count(),
    )


def payload_codes(result: Result) -> list[tuple[str, str | None]]:
    assert result.status == 200, result.body
    [value] = result.data.values()
    return [(e["code"], e["field"]) for e in value["errors"]]


OPEN_CASES: list[tuple[dict[str, Any], tuple[str, str]]] = [
    ({"text": "x" * 2001}, ("INVALID_INPUT", "input.text")),
    ({"text": "   "}, ("INVALID_INPUT", "input.text")),
    ({"text": "bell\x07"}, ("INVALID_INPUT", "input.text")),
    ({"text": "esc\x1b[2J"}, ("INVALID_INPUT", "input.text")),
    ({"text": "ok", "photoUrls": ["javascript:alert(1)"]}, ("INVALID_INPUT", "input.photoUrls.0")),
    (
        {"text": "ok", "photoUrls": ["https://a.example/x.jpg"] * 6},
        ("INVALID_INPUT", "input.photoUrls"),
    ),
    ({"text": "ok", "orderNumber": "PM000000NOPE"}, ("NOT_YOUR_ORDER", "input.orderNumber")),
    ({"text": "ok", "orderNumber": "x" * 500}, ("NOT_YOUR_ORDER", "input.orderNumber")),
    (
        {"text": "ok", "idempotencyKey": "bad key with spaces"},
        ("INVALID_INPUT", "input.idempotencyKey"),
    ),
]


@pytest.mark.parametrize(("fields", "expected"), OPEN_CASES)
async def test_hostile_tickets_are_refused_with_a_code_and_change_nothing(
    api: GraphQLClient, fields: dict[str, Any], expected: tuple[str, str]
) -> None:
    await build_world(api)
    before = await counts()
    result = await api.op("OpenTicket", {"input": {"category": "DAMAGED", **fields}}, auth=MEMBER_A)
    got = payload_codes(result)
    assert [(code, field) for code, field in got] == [
        (expected[0], expected[1].removeprefix("input."))
    ]
    assert await counts() == before


async def test_another_members_order_is_not_yours_and_their_ticket_does_not_exist(
    api: GraphQLClient,
) -> None:
    world: World = await build_world(api)
    before = await counts()
    b = member_token(MEMBER_B)
    theirs = await api.op(
        "OpenTicket",
        {"input": {"category": "DAMAGED", "text": "mine!", "orderNumber": world.order_a}},
        auth=b,
    )
    assert payload_codes(theirs) == [("NOT_YOUR_ORDER", "orderNumber")]
    wrote = await api.op(
        "AddTicketMessage", {"input": {"number": world.ticket_a, "text": "hi"}}, auth=b
    )
    assert payload_codes(wrote) == [("NOT_FOUND", "number")]
    rated = await api.op(
        "RateService", {"input": {"ticketNumber": world.rated_ticket_a, "rating": 1}}, auth=b
    )
    assert payload_codes(rated) == [("NOT_FOUND", "ticketNumber")]
    ticket = await Ticket.get(number=world.ticket_a)
    seen = await api.query(
        "query($id: ID!) { node(id: $id) { id ... on Ticket { number } } }",
        {"id": relay.to_base64("Ticket", ticket.id)},
        auth=b,
    )
    assert seen.data["node"] is None
    assert await counts() == before


@pytest.mark.parametrize(
    "number", ["T' OR '1'='1", "", "x" * 10_000, "T2612\u0000", "../../etc", "٣٣٣"]
)
async def test_forged_ticket_numbers_find_nothing(api: GraphQLClient, number: str) -> None:
    await build_world(api)
    before = await counts()
    result = await api.op(
        "ReplyToTicket", {"input": {"number": number, "text": "hello"}}, auth=AGENT
    )
    assert result.status == 200
    if result.error_codes:  # a NUL is refused before anything runs
        assert result.error_codes == ["INVALID_INPUT"]
    else:
        assert payload_codes(result) == [("NOT_FOUND", "number")]
    seen = await api.op("AgentTicket", {"number": number}, auth=AGENT)
    assert seen.status == 200
    assert seen.body.get("data") is None or seen.body["data"]["ticket"] is None
    assert await counts() == before


@pytest.mark.parametrize(
    "resolution_id",
    [
        "abc",
        relay.to_base64("Ticket", 1),
        relay.to_base64("Resolution", 10**12),
        relay.to_base64("Resolution", "²"),
    ],
)
async def test_forged_resolution_ids_are_refused(api: GraphQLClient, resolution_id: str) -> None:
    await build_world(api)
    before = await counts()
    result = await api.op(
        "ApproveGoodwill", {"input": {"resolutionId": resolution_id}}, auth=admin_token()
    )
    assert payload_codes(result)[0][0] in {"INVALID_INPUT", "NOT_FOUND"}
    assert await counts() == before


@pytest.mark.parametrize(
    ("rating", "code"), [(0, "INVALID_INPUT"), (6, "INVALID_INPUT"), (-1, "INVALID_INPUT")]
)
async def test_ratings_outside_one_to_five_are_refused(
    api: GraphQLClient, rating: int, code: str
) -> None:
    world = await build_world(api)
    before = await counts()
    result = await api.op(
        "RateService",
        {"input": {"ticketNumber": world.rated_ticket_a, "rating": rating}},
        auth=MEMBER_A,
    )
    assert payload_codes(result) == [(code, "rating")]
    spelled = await api.op(
        "RateService",
        {"input": {"ticketNumber": world.rated_ticket_a, "rating": "two"}},
        auth=MEMBER_A,
    )
    assert spelled.error_codes == ["BAD_USER_INPUT"]
    assert await counts() == before


async def test_a_huge_reply_or_goodwill_beyond_reason_is_refused(api: GraphQLClient) -> None:
    world = await build_world(api)
    before = await counts()
    huge = await api.op(
        "ReplyToTicket", {"input": {"number": world.ticket_a, "text": "回" * 5000}}, auth=AGENT
    )
    assert payload_codes(huge) == [("INVALID_INPUT", "text")]
    for points in (0, -5, 10**6):
        credit = await api.op(
            "CreditGoodwill",
            {
                "input": {
                    "number": world.ticket_a,
                    "idempotencyKey": f"h{points}",
                    "points": points,
                    "reason": "x",
                }
            },
            auth=AGENT,
        )
        assert payload_codes(credit) == [("INVALID_INPUT", "points")]
    assert await counts() == before
