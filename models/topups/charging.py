"""`ChargingClient`: the charging-system port over the operator's HTTP API, and the rules of
its signed messages.

Every message, both ways, is JSON signed as the push webhook is (`push_webhook.signature`):

    X-Timestamp: 1765000000
    X-Signature: sha256=<hex HMAC-SHA256 of "1765000000." + body, with the shared secret>

    POST {base}/credits       Idempotency-Key: topup:42
        {"idempotencyKey": "topup:42", "msisdn": "+8613800138000", "faceValue": 1000,
         "product": "CREDIT"}
    GET {base}/status/topup:42   (signed over the empty body; it reads, it changes nothing)

An answer (200 or 202) and a callback carry the same fields:

    {"idempotencyKey": "topup:42", "outcome": "DELIVERED" | "FAILED" | "PENDING",
     "reason": "NUMBER_NOT_IN_SERVICE" (FAILED only), "transactionId": "CS-..."}

An answer is believed only when its signature is good, its time within five minutes of ours
and its key the one asked for; anything else, any other status and every exception of httpx
is UNKNOWN (`FOREIGN_ERRORS` is where httpx's exceptions end: nothing upstream sees them).
A callback (`verify_callback`) says DELIVERED or FAILED, signed the same way and refused
when older than five minutes; within them a replay reads as the same notice, so the route
that receives it (in `api/webhooks`) applies a notice once per line, by its key.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from models.notifications.push_webhook import signature
from models.topups.ports import REASON, TopUpAnswer, TopUpOutcome, TopUpRequest

TIMESTAMP_HEADER = "X-Timestamp"
SIGNATURE_HEADER = "X-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
TOLERANCE = timedelta(minutes=5)  # a signed message older (or newer) than this is refused
ANSWERED = frozenset({200, 202})
MAX_KEY = 200
MAX_TRANSACTION_ID = 64
FOREIGN_ERRORS: tuple[type[Exception], ...] = (
    httpx.HTTPError,  # every transport, timeout, protocol and decoding error
    httpx.InvalidURL,
    httpx.StreamError,
    httpx.CookieConflict,
)


@dataclass(frozen=True)
class CallbackNotice:
    """A late confirmation, verified: what the charging system says became of a key."""

    idempotency_key: str
    outcome: TopUpOutcome  # DELIVERED or FAILED
    reason: str
    transaction_id: str
    signed_at: datetime


def signed_headers(body: bytes, *, secret: str, timestamp: int) -> dict[str, str]:
    """The two signing headers of `body` sent at `timestamp` (Unix seconds)."""
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(body, timestamp=timestamp, secret=secret),
    }


def signed_at(
    body: bytes, headers: Mapping[str, str], *, secret: str, now: datetime
) -> datetime | None:
    """When `body` was signed, if `headers` sign it with `secret` within TOLERANCE of `now`."""
    lowered = {name.lower(): value for name, value in headers.items()}
    stamp = lowered.get(TIMESTAMP_HEADER.lower(), "").strip()
    given = lowered.get(SIGNATURE_HEADER.lower(), "").strip().lower()
    # isdigit() alone takes full-width digits, which int() would read.
    if not secret or not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
        return None
    timestamp = int(stamp)
    if abs(now.timestamp() - timestamp) > TOLERANCE.total_seconds():
        return None
    expected = signature(body, timestamp=timestamp, secret=secret).encode()
    if not hmac.compare_digest(expected, given.encode("ascii", "replace")):
        return None
    return datetime.fromtimestamp(timestamp, UTC)


def verify_callback(
    body: bytes, headers: Mapping[str, str], *, secret: str, now: datetime
) -> CallbackNotice | None:
    """The notice of a signed callback; None when forged, stale or malformed (never raises)."""
    when = signed_at(body, headers, secret=secret, now=now)
    if when is None:
        return None
    fields = read_fields(body)
    if fields is None or fields[1] not in (TopUpOutcome.DELIVERED, TopUpOutcome.FAILED):
        return None
    key, outcome, reason, transaction_id = fields
    return CallbackNotice(key, outcome, reason, transaction_id, when)


def read_fields(body: bytes) -> tuple[str, TopUpOutcome, str, str] | None:
    """Key, outcome, reason and transaction id of an answer or callback; None if malformed."""
    document = _object(body)
    if document is None:
        return None
    key = document.get("idempotencyKey")
    outcome = document.get("outcome")
    reason = document.get("reason") or ""
    transaction_id = document.get("transactionId") or ""
    if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY or not key.isprintable():
        return None
    if outcome not in ("DELIVERED", "FAILED", "PENDING") or not isinstance(outcome, str):
        return None
    if not isinstance(reason, str) or (outcome == "FAILED") != bool(REASON.fullmatch(reason)):
        return None
    if not isinstance(transaction_id, str) or not _transaction_id(transaction_id):
        return None
    return key, TopUpOutcome(outcome), reason, transaction_id


def _object(body: bytes) -> dict[str, Any] | None:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # not UTF-8 and not JSON are ValueErrors
        return None
    return document if isinstance(document, dict) else None


def _transaction_id(value: str) -> bool:
    return len(value) <= MAX_TRANSACTION_ID and value.isascii() and value.isprintable()


def credit_body(request: TopUpRequest) -> bytes:
    document = {
        "idempotencyKey": request.idempotency_key,
        "msisdn": request.msisdn,
        "faceValue": request.face_value,
        "product": str(request.product),
    }
    return json.dumps(document, separators=(",", ":")).encode()


@dataclass(frozen=True)
class ChargingConfig:
    base_url: str  # e.g. https://charging.example.com/api/v1
    secret: str
    timeout_seconds: float = 5.0
    concurrency: int = 16  # requests under way at once


class ChargingClient:
    """Talks to the charging system over one pooled httpx client; `clock` gives the signed
    time (Unix seconds) and the time answers are checked against."""

    def __init__(
        self,
        config: ChargingConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        base = config.base_url.rstrip("/") + "/"
        if not base.startswith(("http://", "https://")) or not config.secret:
            raise ValueError("the charging system needs an http(s) base URL and a secret")
        self.config = config
        self._clock = clock
        self._client = httpx.AsyncClient(
            base_url=base,
            timeout=config.timeout_seconds,
            limits=httpx.Limits(max_connections=config.concurrency),
            transport=transport,
        )
        self._slots = asyncio.Semaphore(config.concurrency)

    async def credit(self, request: TopUpRequest) -> TopUpAnswer:
        body = credit_body(request)
        return await self._ask(request.idempotency_key, "POST", "credits", body)

    async def status(self, idempotency_key: str) -> TopUpAnswer:
        path = "status/" + quote(idempotency_key, safe="")
        return await self._ask(idempotency_key, "GET", path, b"")

    async def close(self) -> None:
        await self._client.aclose()

    async def _ask(self, key: str, method: str, path: str, body: bytes) -> TopUpAnswer:
        headers = signed_headers(body, secret=self.config.secret, timestamp=int(self._clock()))
        headers[IDEMPOTENCY_HEADER] = key
        if body:
            headers["Content-Type"] = "application/json"
        async with self._slots:
            try:
                answer = await self._client.request(method, path, content=body, headers=headers)
            except httpx.TimeoutException:
                return TopUpAnswer.unknown(key, "timeout")
            except FOREIGN_ERRORS as exc:  # refused, reset, cut short: no answer
                return TopUpAnswer.unknown(key, type(exc).__name__)
        return self._believed(key, answer)

    def _believed(self, key: str, answer: httpx.Response) -> TopUpAnswer:
        if answer.status_code not in ANSWERED:
            return TopUpAnswer.unknown(key, f"HTTP {answer.status_code}")
        now = datetime.fromtimestamp(self._clock(), UTC)
        if signed_at(answer.content, answer.headers, secret=self.config.secret, now=now) is None:
            return TopUpAnswer.unknown(key, "bad signature")
        fields = read_fields(answer.content)
        if fields is None or fields[0] != key:
            return TopUpAnswer.unknown(key, "unreadable answer")
        _, outcome, reason, transaction_id = fields
        return TopUpAnswer(key, outcome, reason, transaction_id)
