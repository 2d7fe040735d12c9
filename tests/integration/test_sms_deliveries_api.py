"""The back office's view of SMS through the client operations, on both databases: every
message's SMS with its filters and pages, and the report of a window."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from models.members import service as members
from models.members.models import Tier
from models.notifications import delivery
from models.notifications.delivery import DeliveryPolicy
from models.notifications.ports import (
    InboundHandler,
    OutgoingSms,
    Receipt,
    ReceiptHandler,
    ReceiptState,
    SubmitResult,
    SubmitStatus,
)
from models.points import service as points
from tests.support.graphql import GraphQLClient, admin_token

T0 = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)  # noon in Shanghai: no quiet hours
REJECTED_NUMBER = "+8613800000002"


class ScriptedCentre:
    """The operator's SMS centre as these tests need it: it takes every message but one
    number's, which it refuses for good; receipts come when the test sends them."""

    async def start(self, *, receipts: ReceiptHandler, inbound: InboundHandler) -> None:
        return None

    async def send(self, messages: Sequence[OutgoingSms]) -> list[SubmitResult]:
        return [
            SubmitResult(m.reference, SubmitStatus.REJECTED, error="ESME_RINVDSTADR")
            if m.to == REJECTED_NUMBER
            else SubmitResult(m.reference, SubmitStatus.ACCEPTED, f"c-{m.to[-4:]}", parts=2)
            for m in messages
        ]

    async def stop(self) -> None:
        return None

    @property
    def bound(self) -> bool:
        return True


async def credited(external_id: str, mobile: str, *, at: datetime) -> None:
    """A member told of a credit at `at`."""
    await members.upsert_member(
        external_id=external_id,
        display_name="",
        tier=Tier.STANDARD,
        contact=members.Contact(mobile=mobile),
    )
    await points.award(
        member_external_id=external_id,
        amount=5_000,
        reason="bill",
        external_ref=f"bill-{external_id}",
        now=at,
        tell_from=1_000,
    )


async def five_fates() -> None:
    """D1 delivered 90 s after its change, D2 refused, D3 without a mobile, D5 sent with no
    receipt yet, and D4 written after the round: still waiting."""
    await credited("D1", "13800000001", at=T0)
    await credited("D2", REJECTED_NUMBER, at=T0)
    await credited("D3", "", at=T0)
    await credited("D5", "13800000005", at=T0)
    done = await delivery.deliver_once(ScriptedCentre(), now=T0, policy=DeliveryPolicy())
    assert (done.accepted, done.failed) == (2, 1)
    await delivery.settle([Receipt("c-0001", ReceiptState.DELIVERED, T0 + timedelta(seconds=90))])
    await credited("D4", "13800000004", at=T0 + timedelta(minutes=5))


async def deliveries(api: GraphQLClient, **variables: Any) -> dict[str, Any]:
    result = await api.op("SmsDeliveries", {"first": 20, **variables}, auth=admin_token())
    connection: dict[str, Any] = result.data["smsDeliveries"]
    return connection


def who(connection: dict[str, Any]) -> list[str]:
    return [e["node"]["memberExternalId"] for e in connection["edges"]]


async def test_every_message_shows_its_sms_with_the_number_hidden(api: GraphQLClient) -> None:
    await five_fates()
    found = await deliveries(api)
    assert found["totalCount"] == 5
    assert who(found) == ["D4", "D5", "D3", "D2", "D1"], "newest first"
    by_member = {e["node"]["memberExternalId"]: e["node"] for e in found["edges"]}
    d1 = by_member["D1"]
    assert d1["notificationId"]
    assert {k: v for k, v in d1.items() if k != "notificationId"} == {
        "memberExternalId": "D1",
        "kind": "POINTS_CREDITED",
        "status": "DELIVERED",
        "to": "+*********0001",
        "attempts": 1,
        "createdAt": T0.isoformat(),
        "sentAt": T0.isoformat(),
        "finishedAt": (T0 + timedelta(seconds=90)).isoformat(),
        "error": None,
        "parts": 2,
    }
    assert (by_member["D2"]["status"], by_member["D2"]["error"]) == ("FAILED", "ESME_RINVDSTADR")
    assert by_member["D3"]["status"] == "SKIPPED"
    assert (by_member["D3"]["to"], by_member["D3"]["error"]) == (None, "no mobile number")
    assert (by_member["D4"]["status"], by_member["D4"]["sentAt"]) == ("PENDING", None)
    assert by_member["D5"]["status"] == "SENT"


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ({"memberExternalId": "D2"}, ["D2"]),
        ({"memberExternalId": "NOBODY"}, []),
        ({"memberExternalId": "x" * 10_000}, []),
        ({"status": "SKIPPED"}, ["D3"]),
        ({"status": "DELIVERED", "memberExternalId": "D1"}, ["D1"]),
        ({"status": "DELIVERED", "memberExternalId": "D2"}, []),
        ({"kind": "POINTS_CREDITED"}, ["D4", "D5", "D3", "D2", "D1"]),
        ({"kind": "ORDER_CONFIRMED"}, []),
        ({"since": (T0 + timedelta(minutes=1)).isoformat()}, ["D4"]),
        ({"until": (T0 + timedelta(minutes=1)).isoformat()}, ["D5", "D3", "D2", "D1"]),
        ({"since": T0.isoformat(), "until": T0.isoformat()}, []),
    ],
)
async def test_the_filter_narrows_the_list(
    api: GraphQLClient, filter: dict[str, Any], expected: list[str]
) -> None:
    await five_fates()
    found = await deliveries(api, filter=filter)
    assert who(found) == expected
    assert found["totalCount"] == len(expected)


async def test_the_list_pages_with_cursors(api: GraphQLClient) -> None:
    await five_fates()
    first = await deliveries(api, first=2)
    assert (who(first), first["pageInfo"]["hasNextPage"]) == (["D4", "D5"], True)
    rest = await deliveries(api, first=10, after=first["pageInfo"]["endCursor"])
    assert (who(rest), rest["pageInfo"]["hasNextPage"]) == (["D3", "D2", "D1"], False)


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"first": 101}, "INVALID_INPUT"),
        ({"first": -1}, "INVALID_INPUT"),
        ({"after": "not-a-cursor"}, "INVALID_INPUT"),
        ({"filter": {"since": "2026-12-07T12:00:00"}}, "INVALID_INPUT"),  # no time zone
        ({"filter": {"kind": "NO_SUCH_KIND"}}, "BAD_USER_INPUT"),
        ({"filter": {"status": "LOST"}}, "BAD_USER_INPUT"),
    ],
)
async def test_bad_arguments_are_refused_with_a_code(
    api: GraphQLClient, variables: dict[str, Any], code: str
) -> None:
    result = await api.op("SmsDeliveries", {"first": 5, **variables}, auth=admin_token())
    assert result.status == 200
    assert result.error_codes == [code]


async def test_the_report_counts_each_fate_and_times_the_delivered(api: GraphQLClient) -> None:
    await five_fates()
    window = {"since": T0.isoformat(), "until": (T0 + timedelta(hours=1)).isoformat()}
    result = await api.op("SmsDeliveryReport", window, auth=admin_token())
    assert result.data["smsDeliveryReport"] == {
        "written": 5,
        "sent": 2,
        "delivered": 1,
        "failed": 1,
        "skipped": 1,
        "waiting": 1,
        "medianSeconds": 90.0,
        "p95Seconds": 90.0,
    }
    before = {"since": (T0 - timedelta(days=1)).isoformat(), "until": T0.isoformat()}
    empty = (await api.op("SmsDeliveryReport", before, auth=admin_token())).data
    assert empty["smsDeliveryReport"]["written"] == 0
    assert empty["smsDeliveryReport"]["medianSeconds"] is None


@pytest.mark.parametrize(
    "window",
    [
        {"since": "2026-12-08T00:00:00Z", "until": "2026-12-07T00:00:00Z"},
        {"since": "2026-12-07T00:00:00Z", "until": "2026-12-07T00:00:00Z"},
        {"since": "2026-12-07T00:00:00", "until": "2026-12-08T00:00:00Z"},
    ],
)
async def test_a_report_of_no_window_is_invalid_input(
    api: GraphQLClient, window: dict[str, str]
) -> None:
    result = await api.op("SmsDeliveryReport", window, auth=admin_token())
    assert result.error_codes == ["INVALID_INPUT"]
