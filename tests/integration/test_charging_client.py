"""The charging-system client against the local charging system, over real HTTP (no
database): what each of its behaviours comes to, and a line credited once whatever happens."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
import pytest_asyncio

from models.topups.charging import CallbackNotice, ChargingClient, ChargingConfig, verify_callback
from models.topups.ports import (
    ACCOUNT_BARRED,
    NUMBER_NOT_IN_SERVICE,
    TopUpOutcome,
    TopUpProduct,
    TopUpRequest,
)
from tests.fakes.charging import ChargingFake

pytestmark = pytest.mark.timeout(60)
SECRET = "charging-secret-of-the-tests"
MEMBER = "13800138000"
CALLBACKS = "http://pointsmall.test/webhooks/charging"


def ten_yuan(line_id: int, number: str = MEMBER) -> TopUpRequest:
    return TopUpRequest.for_line(
        line_id=line_id, msisdn=number, face_value=1000, product=TopUpProduct.CREDIT
    )


class Callbacks:
    """The receiving end of the charging system's callbacks, verified as the route will."""

    def __init__(self) -> None:
        self.notices: list[CallbackNotice | None] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        now = datetime.now(UTC)
        self.notices.append(
            verify_callback(request.content, request.headers, secret=SECRET, now=now)
        )
        return httpx.Response(200)


@pytest.fixture
def callbacks() -> Callbacks:
    return Callbacks()


@pytest_asyncio.fixture
async def server(callbacks: Callbacks) -> AsyncIterator[ChargingFake]:
    transport = httpx.MockTransport(callbacks)
    async with ChargingFake.running(
        secret=SECRET, callback_url=CALLBACKS, callback_transport=transport
    ) as fake:
        yield fake


@pytest_asyncio.fixture
async def client(server: ChargingFake) -> AsyncIterator[ChargingClient]:
    charging = ChargingClient(ChargingConfig(base_url=server.url, secret=SECRET, timeout_seconds=2))
    yield charging
    await charging.close()


async def test_a_credit_is_delivered_with_the_charging_systems_transaction_id(
    client: ChargingClient, server: ChargingFake
) -> None:
    answer = await client.credit(ten_yuan(1))
    assert answer.outcome is TopUpOutcome.DELIVERED
    assert answer.idempotency_key == "topup:1"
    assert answer.transaction_id.startswith("CS")
    assert server.credits == {"topup:1": 1}
    assert server.face_value_credited == 1000
    assert server.records["topup:1"].request["msisdn"] == "+8613800138000"


async def test_a_credit_sent_again_with_its_key_is_answered_the_same_and_credited_once(
    client: ChargingClient, server: ChargingFake
) -> None:
    first = await client.credit(ten_yuan(2))
    again = await client.credit(ten_yuan(2))
    assert again == first
    assert server.credits == {"topup:2": 1}
    assert server.requests == 2


async def test_a_lost_answer_is_unknown_and_the_status_query_finds_it_delivered_once(
    client: ChargingClient, server: ChargingFake
) -> None:
    server.lose_answers = 1.0
    lost = await client.credit(ten_yuan(3))
    assert lost.outcome is TopUpOutcome.UNKNOWN
    assert lost.detail == "RemoteProtocolError"  # the connection closed mid-answer
    assert server.lost_answers == 1
    server.lose_answers = 0.0
    found = await client.status("topup:3")
    assert found.outcome is TopUpOutcome.DELIVERED
    assert found.transaction_id == server.records["topup:3"].transaction_id
    assert server.credits == {"topup:3": 1}


async def test_an_answer_slower_than_the_timeout_is_unknown_though_the_credit_landed(
    server: ChargingFake,
) -> None:
    impatient = ChargingClient(ChargingConfig(server.url, SECRET, timeout_seconds=0.1))
    server.delay = 0.3
    try:
        answer = await impatient.credit(ten_yuan(4))
    finally:
        await impatient.close()
    assert (answer.outcome, answer.detail) == (TopUpOutcome.UNKNOWN, "timeout")
    assert server.credits == {"topup:4": 1}


async def test_the_status_of_a_key_never_received_is_unknown(
    client: ChargingClient, server: ChargingFake
) -> None:
    answer = await client.status("topup:404")
    assert (answer.outcome, answer.detail) == (TopUpOutcome.UNKNOWN, "HTTP 404")
    assert server.credits == {}


async def test_a_number_not_in_service_fails_with_its_reason_and_is_not_credited(
    client: ChargingClient, server: ChargingFake
) -> None:
    server.not_in_service = {"+8613900139000"}
    refused = await client.credit(ten_yuan(5, number="139 0013 9000"))
    credited = await client.credit(ten_yuan(6))
    assert (refused.outcome, refused.reason) == (TopUpOutcome.FAILED, NUMBER_NOT_IN_SERVICE)
    assert credited.outcome is TopUpOutcome.DELIVERED
    assert server.credits == {"topup:6": 1}


async def test_a_refusal_for_every_number_fails_with_its_reason_and_stays_refused(
    client: ChargingClient, server: ChargingFake
) -> None:
    server.refuse = ACCOUNT_BARRED
    refused = await client.credit(ten_yuan(7))
    server.refuse = ""
    again = await client.credit(ten_yuan(7))
    assert (refused.outcome, refused.reason) == (TopUpOutcome.FAILED, ACCOUNT_BARRED)
    assert again == refused  # a key's answer does not change with the switch
    assert server.credits == {}


async def test_an_outage_is_unknown_and_credits_nothing(
    client: ChargingClient, server: ChargingFake
) -> None:
    server.outage = True
    answer = await client.credit(ten_yuan(8))
    status = await client.status("topup:8")
    assert (answer.outcome, answer.detail) == (TopUpOutcome.UNKNOWN, "HTTP 503")
    assert status.outcome is TopUpOutcome.UNKNOWN
    assert server.credits == {}


async def test_a_charging_system_that_is_not_there_is_unknown() -> None:
    async with ChargingFake.running(secret=SECRET) as gone:
        url = gone.url
    absent = ChargingClient(ChargingConfig(url, SECRET, timeout_seconds=1))
    try:
        answer = await absent.credit(ten_yuan(9))
    finally:
        await absent.close()
    assert (answer.outcome, answer.detail) == (TopUpOutcome.UNKNOWN, "ConnectError")


async def test_an_answer_with_a_forged_signature_is_unknown_not_believed(
    client: ChargingClient, server: ChargingFake
) -> None:
    server.forge_answers = True
    answer = await client.credit(ten_yuan(10))
    assert (answer.outcome, answer.detail) == (TopUpOutcome.UNKNOWN, "bad signature")
    assert server.credits == {"topup:10": 1}  # it did land: the status query will say so


async def test_a_client_with_another_secret_is_refused_and_credits_nothing(
    server: ChargingFake,
) -> None:
    stranger = ChargingClient(ChargingConfig(server.url, "not-the-secret"))
    try:
        answer = await stranger.credit(ten_yuan(11))
    finally:
        await stranger.close()
    assert (answer.outcome, answer.detail) == (TopUpOutcome.UNKNOWN, "HTTP 401")
    assert (server.bad_signatures, server.credits) == (1, {})


async def test_a_pending_credit_is_confirmed_by_a_signed_callback_and_by_status(
    client: ChargingClient, server: ChargingFake, callbacks: Callbacks
) -> None:
    server.pending = 0.05
    server.duplicate_callbacks = True
    accepted = await client.credit(ten_yuan(12))
    assert accepted.outcome is TopUpOutcome.PENDING
    assert server.credits == {}
    await server.wait_for(lambda: len(server.callbacks) == 2)
    first, second = callbacks.notices
    assert first is not None
    assert (first.idempotency_key, first.outcome) == ("topup:12", TopUpOutcome.DELIVERED)
    assert first.transaction_id == accepted.transaction_id
    assert second == first  # the duplicate is the same notice: applied once by its key
    assert (await client.status("topup:12")).outcome is TopUpOutcome.DELIVERED
    assert server.credits == {"topup:12": 1}


async def test_200_credits_of_20_keys_sent_10_times_at_once_credit_exactly_20(
    client: ChargingClient, server: ChargingFake
) -> None:
    requests = [ten_yuan(100 + n % 20) for n in range(200)]
    answers = await asyncio.gather(*(client.credit(request) for request in requests))
    assert {answer.outcome for answer in answers} == {TopUpOutcome.DELIVERED}
    assert len({answer.transaction_id for answer in answers}) == 20
    assert server.total_credited == 20
    assert set(server.credits.values()) == {1}


async def test_the_switches_can_be_flipped_over_http(server: ChargingFake) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        flipped = await http.post("/_admin/switches", json={"refuse": ACCOUNT_BARRED})
        unknown = await http.post("/_admin/switches", json={"no_such": True})
        mistyped = await http.post("/_admin/switches", json={"delay": True, "outage": True})
    assert flipped.json()["switches"]["refuse"] == ACCOUNT_BARRED
    assert server.refuse == ACCOUNT_BARRED
    assert (unknown.status_code, mistyped.status_code) == (400, 400)
    assert (server.delay, server.outage) == (0.0, False)  # a refused change changes nothing
