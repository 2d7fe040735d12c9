"""What notifications need from the edges the project does not own: the operator's SMS centre
and, optionally, its push platform.

`SmsCentre` is the port; `models.notifications.smpp.SmppCentre` implements it over SMPP 3.4
(a bind held open, a window of outstanding submits, receipts and messages from handsets on
the same bind), and `LogSmsCentre` stands in when no SMS centre is configured, so a
development machine still shows every message in its log. Passing the centre in keeps the
delivery job testable against the tests' own SMS centre, which speaks real SMPP over TCP.

`PushPlatform` is the push port; `models.notifications.push_webhook.WebhookPush` implements
it as a signed HTTP webhook. With no push platform configured nothing is pushed at all.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

log = logging.getLogger("pointsmall.sms")


@dataclass(frozen=True)
class OutgoingSms:
    """One message to one handset. `reference` is ours (a delivery's id): results carry it."""

    reference: str
    to: str  # E.164, "+8613800138000"
    text: str


class SubmitStatus(StrEnum):
    ACCEPTED = "ACCEPTED"  # the centre took it (every part); a receipt follows
    THROTTLED = "THROTTLED"  # the centre asked us to slow down: try again later
    REJECTED = "REJECTED"  # the centre refused it for good (a bad number, say)
    UNAVAILABLE = "UNAVAILABLE"  # no bind, or no answer in time: try again later


@dataclass(frozen=True)
class SubmitResult:
    reference: str
    status: SubmitStatus
    message_id: str | None = None  # the centre's id of the (first) part, which receipts name
    error: str = ""  # the centre's command status, e.g. "ESME_RINVDSTADR"
    parts: int = 1


class ReceiptState(StrEnum):
    DELIVERED = "DELIVERED"
    UNDELIVERABLE = "UNDELIVERABLE"
    EXPIRED = "EXPIRED"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True)
class Receipt:
    """A delivery receipt: what became of the message the centre knows as `message_id`."""

    message_id: str
    state: ReceiptState
    at: datetime


@dataclass(frozen=True)
class InboundSms:
    """A message a handset sent to the service number (its parts already joined)."""

    sender: str  # E.164
    text: str
    received_at: datetime


ReceiptHandler = Callable[[Receipt], Awaitable[None]]
InboundHandler = Callable[[InboundSms], Awaitable[None]]


class SmsCentre(Protocol):
    async def start(self, *, receipts: ReceiptHandler, inbound: InboundHandler) -> None:
        """Bind (and keep binding, with backoff) until `stop`; receipts and messages from
        handsets are handed to the handlers as they arrive."""

    async def send(self, messages: Sequence[OutgoingSms]) -> list[SubmitResult]:
        """Submit the messages, as many at once as the window allows; a result for each,
        in the order given, once each has its answer or timed out."""

    async def stop(self) -> None:
        """Unbind and close; waits for nothing but the answers already under way."""

    @property
    def bound(self) -> bool:
        """Whether a bind is open now."""


class LogSmsCentre:
    """No SMS centre configured: every message is accepted, logged and "delivered" at once."""

    def __init__(self) -> None:
        self._receipts: ReceiptHandler | None = None
        self._sent = 0

    async def start(self, *, receipts: ReceiptHandler, inbound: InboundHandler) -> None:
        self._receipts = receipts

    async def send(self, messages: Sequence[OutgoingSms]) -> list[SubmitResult]:
        results = []
        for message in messages:
            self._sent += 1
            message_id = f"log-{self._sent}"
            log.info("SMS to %s: %s", message.to, message.text)
            results.append(SubmitResult(message.reference, SubmitStatus.ACCEPTED, message_id))
            if self._receipts is not None:
                await self._receipts(Receipt(message_id, ReceiptState.DELIVERED, datetime.now(UTC)))
        return results

    async def stop(self) -> None:
        self._receipts = None

    @property
    def bound(self) -> bool:
        return True


@dataclass(frozen=True)
class PushMessage:
    """One message for the member's app, as the push platform is told it."""

    notification_id: int  # also the idempotency key: the platform drops a resend by it
    member: str  # the member's external id, as the operator knows them
    kind: str
    language: str
    text: str
    created_at: datetime
    order_number: str | None = None


class PushOutcome(StrEnum):
    ACCEPTED = "ACCEPTED"  # the platform answered 2xx
    RETRY = "RETRY"  # no answer, a timeout, 408, 429 or 5xx: try again later
    REJECTED = "REJECTED"  # any other answer (a 4xx): the platform refused it for good


@dataclass(frozen=True)
class PushResult:
    notification_id: int
    outcome: PushOutcome
    error: str = ""  # "HTTP 503", "timeout", ...


class PushPlatform(Protocol):
    async def push(self, messages: Sequence[PushMessage]) -> list[PushResult]:
        """Push each message (several at once); a result for each, in the order given."""

    async def close(self) -> None:
        """Close the connections."""
