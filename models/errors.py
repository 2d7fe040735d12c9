"""The domain's failures: one tree, each carrying a stable code and its data.

    DomainError
    ├── InvalidInput             INVALID_INPUT
    ├── NotFound                 NOT_FOUND
    ├── IdempotencyConflict      IDEMPOTENCY_CONFLICT
    ├── InsufficientPoints       INSUFFICIENT_POINTS
    ├── OutOfStock               OUT_OF_STOCK
    ├── LimitExceeded            LIMIT_EXCEEDED
    ├── GiftInactive             GIFT_INACTIVE
    ├── InvalidTransition        INVALID_TRANSITION
    ├── CapacityExhausted        CAPACITY_EXHAUSTED
    ├── DuplicateTrackingNumber  DUPLICATE_TRACKING_NUMBER
    ├── PaymentUnavailable       PAYMENT_UNAVAILABLE
    ├── RateLimited              RATE_LIMITED
    ├── TicketClosed             TICKET_CLOSED
    ├── NotYourOrder             NOT_YOUR_ORDER
    ├── ApprovalRequired         APPROVAL_REQUIRED
    ├── CodeUnavailable          CODE_UNAVAILABLE
    └── BudgetSpent              BUDGET_SPENT

The GraphQL layer turns each into a `UserError` in one place (`schema/errors.py`).
"""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """A business rule refused the request; nothing was changed."""

    code: ClassVar[str] = "DOMAIN_ERROR"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    code = "INVALID_INPUT"


class NotFound(DomainError):
    code = "NOT_FOUND"


class IdempotencyConflict(DomainError):
    code = "IDEMPOTENCY_CONFLICT"


class InsufficientPoints(DomainError):
    code = "INSUFFICIENT_POINTS"

    def __init__(self, *, available: int, required: int, field: str | None = None) -> None:
        super().__init__(
            f"{required} points are needed but only {available} are available", field=field
        )
        self.available = available
        self.required = required


class OutOfStock(DomainError):
    code = "OUT_OF_STOCK"


class LimitExceeded(DomainError):
    code = "LIMIT_EXCEEDED"


class GiftInactive(DomainError):
    code = "GIFT_INACTIVE"


class InvalidTransition(DomainError):
    code = "INVALID_TRANSITION"

    def __init__(self, *, current: str, wanted: str, field: str | None = None) -> None:
        super().__init__(f"cannot move from {current} to {wanted}", field=field)
        self.current = current
        self.wanted = wanted


class CapacityExhausted(DomainError):
    code = "CAPACITY_EXHAUSTED"


class DuplicateTrackingNumber(DomainError):
    code = "DUPLICATE_TRACKING_NUMBER"


class PaymentUnavailable(DomainError):
    code = "PAYMENT_UNAVAILABLE"


class RateLimited(DomainError):
    code = "RATE_LIMITED"


class TicketClosed(DomainError):
    """The ticket is closed: a new message opens a new ticket instead."""

    code = "TICKET_CLOSED"


class NotYourOrder(DomainError):
    """A ticket may name only one of its member's own orders (absent or another member's
    alike, so the code tells nothing of other members' orders)."""

    code = "NOT_YOUR_ORDER"


class ApprovalRequired(DomainError):
    """Above the agent's daily goodwill cap: recorded, and a supervisor approves it."""

    code = "APPROVAL_REQUIRED"


def all_error_types() -> list[type[DomainError]]:
    """Every concrete domain error, for the test that proves each one is mapped."""
    found: list[type[DomainError]] = []
    pending = list(DomainError.__subclasses__())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


class CodeUnavailable(DomainError):
    """An e-voucher's code that no voucher key opens now (a key dropped too early): the
    code is kept, sealed, until the key is back."""

    code = "CODE_UNAVAILABLE"


class BudgetSpent(DomainError):
    """A top-up gift's face value for the operator's day is spent: it is offered again
    tomorrow (or when a refunded top-up gives some back)."""

    code = "BUDGET_SPENT"
