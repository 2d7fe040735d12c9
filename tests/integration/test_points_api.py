"""Points through GraphQL: AwardPoints, AdjustPoints, Me with expiring, PointsHistory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.graphql import GraphQLClient, admin_token, member_token, staff_token


def award_input(member: str, amount: int, ref: str, **extra: Any) -> dict[str, Any]:
    return {
        "input": {
            "memberExternalId": member,
            "amount": amount,
            "reason": "monthly bill",
            "externalRef": ref,
            **extra,
        }
    }


def adjust_input(member: str, delta: int, ref: str) -> dict[str, Any]:
    return {
        "input": {"memberExternalId": member, "delta": delta, "reason": "cs", "externalRef": ref}
    }


async def award(api: GraphQLClient, member: str, amount: int, ref: str, **extra: Any) -> Any:
    result = await api.op(
        "AwardPoints", award_input(member, amount, ref, **extra), auth=admin_token()
    )
    return result.data["awardPoints"]


async def test_award_9000_twice_with_one_ref_credits_9000(api: GraphQLClient) -> None:
    first = await award(api, "C1001", 9000, "bill-2026-05-C1001")
    assert first["errors"] == []
    assert first["entry"]["delta"] == 9000
    assert first["entry"]["kind"] == "EARN"
    assert first["entry"]["reason"] == "monthly bill"
    assert first["entry"]["expiresAt"] is not None
    assert first["points"] == {"balance": 9000, "available": 9000}
    again = await award(api, "C1001", 9000, "bill-2026-05-C1001")
    assert again["errors"] == []
    assert again["entry"]["id"] == first["entry"]["id"]
    assert again["points"] == {"balance": 9000, "available": 9000}
    me = (await api.op("Me", auth=member_token("C1001"))).data["me"]
    assert me["points"]["balance"] == 9000


async def test_award_same_ref_with_other_amount_is_an_idempotency_conflict(
    api: GraphQLClient,
) -> None:
    await award(api, "C1001", 9000, "bill-1")
    payload = await award(api, "C1001", 9001, "bill-1")
    assert payload["entry"] is None
    assert payload["points"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [
        ("IDEMPOTENCY_CONFLICT", "externalRef")
    ]


@pytest.mark.parametrize("amount", [0, -5, 10_000_001, 2_000_000_000])
async def test_zero_negative_or_absurd_awards_are_invalid_input(
    api: GraphQLClient, amount: int
) -> None:
    payload = await award(api, "C1001", amount, f"bad-{amount}")
    assert payload["entry"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_INPUT", "amount")]


async def test_award_with_an_expiry_in_the_past_is_invalid_input(api: GraphQLClient) -> None:
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    payload = await award(api, "C1001", 10, "bill-1", expiresAt=past)
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_INPUT", "expiresAt")]


async def test_me_lists_points_expiring_within_ninety_days(api: GraphQLClient) -> None:
    soon = (datetime.now(UTC) + timedelta(days=10)).replace(microsecond=0)
    payload = await award(api, "C1001", 300, "bill-1", expiresAt=soon.isoformat())
    assert datetime.fromisoformat(payload["entry"]["expiresAt"]) == soon
    await award(api, "C1001", 700, "bill-2")  # the default rule: well past 90 days
    points = (await api.op("Me", auth=member_token("C1001"))).data["me"]["points"]
    assert (points["balance"], points["held"], points["available"]) == (1000, 0, 1000)
    assert [(e["amount"], datetime.fromisoformat(e["expiresAt"])) for e in points["expiring"]] == [
        (300, soon)
    ]


async def test_adjust_credits_and_debits_but_never_below_zero(api: GraphQLClient) -> None:
    await award(api, "C1001", 100, "bill-1")
    ops = [("adj-1", 50, 150), ("adj-2", -120, 30)]
    for ref, delta, balance in ops:
        result = await api.op("AdjustPoints", adjust_input("C1001", delta, ref), auth=admin_token())
        payload = result.data["adjustPoints"]
        assert payload["errors"] == []
        assert (payload["entry"]["kind"], payload["entry"]["delta"]) == ("ADJUST", delta)
        assert payload["points"] == {"balance": balance, "available": balance}
    refused = await api.op("AdjustPoints", adjust_input("C1001", -31, "adj-3"), auth=admin_token())
    payload = refused.data["adjustPoints"]
    assert [e["code"] for e in payload["errors"]] == ["INSUFFICIENT_POINTS"]
    assert payload["entry"] is None
    me = (await api.op("Me", auth=member_token("C1001"))).data["me"]
    assert me["points"]["balance"] == 30


async def test_adjust_zero_or_unknown_member_is_refused(api: GraphQLClient) -> None:
    await award(api, "C1001", 100, "bill-1")
    zero = await api.op("AdjustPoints", adjust_input("C1001", 0, "adj-1"), auth=admin_token())
    assert [e["code"] for e in zero.data["adjustPoints"]["errors"]] == ["INVALID_INPUT"]
    nobody = await api.op("AdjustPoints", adjust_input("NOBODY", 5, "adj-2"), auth=admin_token())
    errors = nobody.data["adjustPoints"]["errors"]
    assert [(e["code"], e["field"]) for e in errors] == [("NOT_FOUND", "memberExternalId")]


async def test_only_admins_award_or_adjust(api: GraphQLClient) -> None:
    for auth in [member_token("C1001"), staff_token("SH01")]:
        result = await api.op("AwardPoints", award_input("C1001", 10, "r"), auth=auth)
        assert result.error_codes == ["FORBIDDEN"]
        result = await api.op("AdjustPoints", adjust_input("C1001", 10, "r"), auth=auth)
        assert result.error_codes == ["FORBIDDEN"]
    anonymous = await api.op("AwardPoints", award_input("C1001", 10, "r"))
    assert anonymous.error_codes == ["UNAUTHENTICATED"]


async def test_points_history_pages_newest_first_with_after(api: GraphQLClient) -> None:
    for n in range(1, 6):
        await award(api, "C1001", n * 100, f"bill-{n}")
    await api.op("AdjustPoints", adjust_input("C1001", -50, "adj-1"), auth=admin_token())
    seen: list[tuple[int, str]] = []
    after = None
    for _ in range(3):
        result = await api.op(
            "PointsHistory", {"first": 2, "after": after}, auth=member_token("C1001")
        )
        history = result.data["me"]["pointsHistory"]
        assert history["totalCount"] == 6
        seen += [(e["node"]["delta"], e["node"]["kind"]) for e in history["edges"]]
        after = history["pageInfo"]["endCursor"]
        assert history["edges"][-1]["cursor"] == after
    assert history["pageInfo"]["hasNextPage"] is False
    assert seen == [
        (-50, "ADJUST"),
        (500, "EARN"),
        (400, "EARN"),
        (300, "EARN"),
        (200, "EARN"),
        (100, "EARN"),
    ]


async def test_points_history_of_more_than_100_is_a_top_level_invalid_input(
    api: GraphQLClient,
) -> None:
    result = await api.op("PointsHistory", {"first": 101}, auth=member_token("C1001"))
    assert result.error_codes == ["INVALID_INPUT"]


async def test_entries_are_nodes_visible_to_their_member_and_admins_only(
    api: GraphQLClient,
) -> None:
    entry_id = (await award(api, "C1001", 100, "bill-1"))["entry"]["id"]
    query = "query($id: ID!) { node(id: $id) { id ... on PointsEntry { delta kind } } }"
    own = await api.query(query, {"id": entry_id}, auth=member_token("C1001"))
    assert own.data["node"] == {"id": entry_id, "delta": 100, "kind": "EARN"}
    admin = await api.query(query, {"id": entry_id}, auth=admin_token())
    assert admin.data["node"]["delta"] == 100
    other = await api.query(query, {"id": entry_id}, auth=member_token("C2002"))
    assert other.data["node"] is None
