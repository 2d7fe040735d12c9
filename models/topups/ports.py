"""What a top-up needs from outside pointsmall: the operator's charging system.

`models.topups.charging.ChargingClient` implements `ChargingSystem` over HTTP; the worker's
job receives it, as the redemption receives its `PaymentStarter`. An answer is one of:

    DELIVERED  the credit landed (with the charging system's transaction id)
    FAILED     refused for good, with a stable reason code (`NUMBER_NOT_IN_SERVICE`, ...):
               the line is refunded and the member told why
    PENDING    accepted; the confirmation comes later, by callback or by `status`
    UNKNOWN    no answer to believe (a timeout, a refused connection, a 5xx, throttling, a
               bad signature): ask again later with the same key

The idempotency key is the order line's (`topup:<line id>`): whatever the worker does again
(a retry after UNKNOWN, a pass after a crash), the charging system credits a line once. So
sending a credit again is always safe, and `status` of a key the charging system never
received is UNKNOWN too: the credit did not land, and sending it again is the way on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from models.errors import InvalidInput
from models.members.rules import mobile

# The refusals the charging system is known to give. Another code it sends is kept as it
# came (it is still a stable code of theirs); `REASON` is the shape every code must have.
NUMBER_NOT_IN_SERVICE = "NUMBER_NOT_IN_SERVICE"
ACCOUNT_BARRED = "ACCOUNT_BARRED"
PRODUCT_NOT_AVAILABLE = "PRODUCT_NOT_AVAILABLE"
KNOWN_REASONS = frozenset({NUMBER_NOT_IN_SERVICE, ACCOUNT_BARRED, PRODUCT_NOT_AVAILABLE})
REASON = re.compile(r"[A-Z][A-Z0-9_]{0,63}")


class TopUpProduct(StrEnum):
    CREDIT = "CREDIT"  # phone credit, the face value in fen
    DATA = "DATA"  # a data pack, the face value in MB


class TopUpOutcome(StrEnum):
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"
    PENDING = "PENDING"
    UNKNOWN = "UNKNOWN"


def idempotency_key(line_id: int) -> str:
    """The key of an order line's top-up: the same for every try of that line."""
    return f"topup:{line_id}"


KEY = re.compile(r"topup:([1-9][0-9]{0,18})")


def line_of_key(key: str) -> int | None:
    """The order line an idempotency key names; None for a key that is not a top-up's."""
    matched = KEY.fullmatch(key)
    return None if matched is None else int(matched.group(1))


@dataclass(frozen=True)
class TopUpRequest:
    """One credit to one number: build it with `for_line`, which normalises the number."""

    idempotency_key: str
    msisdn: str  # E.164, as `models.members.rules.mobile` writes it
    face_value: int  # in the operator's units: fen for CREDIT, MB for DATA
    product: TopUpProduct

    @classmethod
    def for_line(
        cls, *, line_id: int, msisdn: str, face_value: int, product: TopUpProduct
    ) -> TopUpRequest:
        """The top-up of an order line; raises InvalidInput (not a number, no face value)."""
        if face_value <= 0:
            raise InvalidInput(f"a face value is positive, not {face_value}", field="face_value")
        number = mobile(msisdn, field="msisdn")
        if not number:
            raise InvalidInput("a top-up needs a number", field="msisdn")
        return cls(idempotency_key(line_id), number, face_value, TopUpProduct(product))


@dataclass(frozen=True)
class TopUpAnswer:
    """What the charging system said of one key (or that it said nothing believable).

    `reason` is the refusal's code, for FAILED only; `transaction_id` is the charging
    system's, when it gave one; `detail` says why an answer is UNKNOWN, for the log."""

    idempotency_key: str
    outcome: TopUpOutcome
    reason: str = ""
    transaction_id: str = ""
    detail: str = ""

    @classmethod
    def unknown(cls, key: str, detail: str) -> TopUpAnswer:
        return cls(key, TopUpOutcome.UNKNOWN, detail=detail)


class ChargingSystem(Protocol):
    async def credit(self, request: TopUpRequest) -> TopUpAnswer:
        """Ask for the credit; never raises for the network or the charging system's state
        (those are UNKNOWN)."""

    async def status(self, idempotency_key: str) -> TopUpAnswer:
        """What the charging system knows of a key, for an answer lost in flight; never
        raises for the network (UNKNOWN)."""

    async def close(self) -> None:
        """Release the connections."""


class NoChargingSystem:
    """The charging system of a deployment that configured none: it never answers, so each
    top-up waits out its promise and is refunded (and the worker's log says why)."""

    async def credit(self, request: TopUpRequest) -> TopUpAnswer:
        return TopUpAnswer.unknown(request.idempotency_key, "no charging system configured")

    async def status(self, idempotency_key: str) -> TopUpAnswer:
        return TopUpAnswer.unknown(idempotency_key, "no charging system configured")

    async def close(self) -> None:
        return None
