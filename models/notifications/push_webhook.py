"""`WebhookPush`: the push port as a signed HTTP webhook to the operator's push platform.

Each message is one `POST` of JSON to the configured URL, signed the way the carrier
webhook is verified (`api/webhooks/carrier.py`), with the time in the signed text so a
captured request cannot be replayed later:

    X-Pointsmall-Timestamp: 1765000000
    X-Signature: sha256=<hex HMAC-SHA256 of "1765000000." + body, with the shared secret>
    Idempotency-Key: notification-123

The idempotency key is the message's id: a message sent again (a timeout whose request did
arrive, a worker that died before recording the answer) carries the same key, and the
platform drops it. A 2xx is ACCEPTED; no answer, a timeout, 408, 429 and 5xx are tried again
later; any other answer is REJECTED for good.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from models.notifications.ports import PushMessage, PushOutcome, PushResult

SIGNATURE_PREFIX = "sha256="
TIMESTAMP_HEADER = "X-Pointsmall-Timestamp"
SIGNATURE_HEADER = "X-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
RETRIED_STATUSES = frozenset({408, 425, 429})


def signature(body: bytes, *, timestamp: int, secret: str) -> str:
    """The X-Signature header of `body` sent at `timestamp` (Unix seconds)."""
    signed = str(timestamp).encode() + b"." + body
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def idempotency_key(notification_id: int) -> str:
    return f"notification-{notification_id}"


def body_of(message: PushMessage) -> bytes:
    document: dict[str, Any] = {
        "id": str(message.notification_id),
        "member": message.member,
        "kind": message.kind,
        "language": message.language,
        "text": message.text,
        "createdAt": message.created_at.isoformat(),
        "orderNumber": message.order_number,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    secret: str
    timeout_seconds: float = 5.0
    concurrency: int = 8  # requests under way at once


class WebhookPush:
    """Pushes over one pooled httpx client; `clock` gives the signed time (Unix seconds)."""

    def __init__(
        self,
        config: WebhookConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._clock = clock
        limits = httpx.Limits(max_connections=config.concurrency)
        self._client = httpx.AsyncClient(
            timeout=config.timeout_seconds, limits=limits, transport=transport
        )
        self._slots = asyncio.Semaphore(config.concurrency)

    async def push(self, messages: Sequence[PushMessage]) -> list[PushResult]:
        return list(await asyncio.gather(*(self._one(message) for message in messages)))

    async def _one(self, message: PushMessage) -> PushResult:
        body = body_of(message)
        timestamp = int(self._clock())
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: signature(body, timestamp=timestamp, secret=self.config.secret),
            IDEMPOTENCY_HEADER: idempotency_key(message.notification_id),
        }
        async with self._slots:
            try:
                answer = await self._client.post(self.config.url, content=body, headers=headers)
            except httpx.TimeoutException:
                return PushResult(message.notification_id, PushOutcome.RETRY, "timeout")
            except httpx.HTTPError as exc:  # refused, reset, DNS: the platform is away
                return PushResult(message.notification_id, PushOutcome.RETRY, type(exc).__name__)
        return PushResult(message.notification_id, outcome_of(answer.status_code), _error(answer))

    async def close(self) -> None:
        await self._client.aclose()


def outcome_of(status: int) -> PushOutcome:
    if 200 <= status < 300:
        return PushOutcome.ACCEPTED
    if status >= 500 or status in RETRIED_STATUSES:
        return PushOutcome.RETRY
    return PushOutcome.REJECTED


def _error(answer: httpx.Response) -> str:
    return "" if answer.is_success else f"HTTP {answer.status_code}"
