"""The push webhook: what each answer means, the signature and the request as sent."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import httpx
import pytest

from models.notifications.ports import PushMessage, PushOutcome
from models.notifications.push_webhook import WebhookConfig, WebhookPush, outcome_of, signature

MESSAGE = PushMessage(
    notification_id=42,
    member="M-1",
    kind="ORDER_SHIPPED",
    language="zh-CN",
    text="【积分商城】您的订单已发货",
    created_at=datetime(2026, 12, 7, 4, 0, tzinfo=UTC),
    order_number="PM000042",
)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, PushOutcome.ACCEPTED),
        (202, PushOutcome.ACCEPTED),
        (204, PushOutcome.ACCEPTED),
        (400, PushOutcome.REJECTED),
        (401, PushOutcome.REJECTED),
        (404, PushOutcome.REJECTED),
        (408, PushOutcome.RETRY),
        (429, PushOutcome.RETRY),
        (500, PushOutcome.RETRY),
        (503, PushOutcome.RETRY),
        (301, PushOutcome.REJECTED),
    ],
)
def test_each_answer_means_sent_again_later_or_refused_for_good(
    status: int, outcome: PushOutcome
) -> None:
    assert outcome_of(status) is outcome


def test_the_signature_is_the_hmac_of_the_time_and_the_body() -> None:
    body = b'{"id":"1"}'
    expected = hmac.new(b"k", b"1765000000." + body, hashlib.sha256).hexdigest()
    assert signature(body, timestamp=1765000000, secret="k") == f"sha256={expected}"
    assert signature(body, timestamp=1765000001, secret="k") != f"sha256={expected}"


async def test_a_push_is_posted_signed_with_its_idempotency_key() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(503 if len(seen) == 1 else 200)

    push = WebhookPush(
        WebhookConfig(url="http://push.test/in", secret="k"),
        transport=httpx.MockTransport(answer),
        clock=lambda: 1765000000.5,
    )
    try:
        first, second = await push.push([MESSAGE, MESSAGE])
    finally:
        await push.close()
    assert (first.outcome, first.error) == (PushOutcome.RETRY, "HTTP 503")
    assert (second.outcome, second.error) == (PushOutcome.ACCEPTED, "")
    request = seen[0]
    assert request.headers["idempotency-key"] == "notification-42"
    assert request.headers["x-pointsmall-timestamp"] == "1765000000"
    assert request.headers["x-signature"] == signature(
        request.content, timestamp=1765000000, secret="k"
    )
    assert json.loads(request.content) == {
        "id": "42",
        "member": "M-1",
        "kind": "ORDER_SHIPPED",
        "language": "zh-CN",
        "text": "【积分商城】您的订单已发货",
        "createdAt": "2026-12-07T04:00:00+00:00",
        "orderNumber": "PM000042",
    }


async def test_a_platform_that_cannot_be_reached_is_tried_again() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    push = WebhookPush(
        WebhookConfig(url="http://push.test/in", secret="k"), transport=httpx.MockTransport(refuse)
    )
    try:
        [result] = await push.push([MESSAGE])
    finally:
        await push.close()
    assert (result.outcome, result.error) == (PushOutcome.RETRY, "ConnectError")
