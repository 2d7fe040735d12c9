"""The one place domain failures become GraphQL errors.

In a mutation a `DomainError` becomes a `UserError` in the payload's `errors`. Raised
anywhere else (a query argument, a permission) it becomes a top-level error whose
`extensions.code` is the domain code. A request GraphQL itself refuses gets a code too:
`GRAPHQL_PARSE_FAILED`, `GRAPHQL_VALIDATION_FAILED` or `BAD_USER_INPUT` (a variable's value).
The database being unreachable (down, restarting, the connection cut; on SQLite, locked by
another process past the busy timeout: `models.database_outage` tells) is
`SERVICE_UNAVAILABLE`: the transaction rolled back, and a retry (a redemption with the same
idempotency key) is safe. Anything else unexpected is masked: the client sees
`INTERNAL_SERVER_ERROR` and an `errorId`, and the log holds the traceback under that id.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.utils.str_converters import to_camel_case

from models import errors as domain
from models.database_outage import database_unavailable
from schema.metrics import REFUSALS

log = logging.getLogger("pointsmall.graphql")
T = TypeVar("T")
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
UNAVAILABLE_MESSAGE = "The service is temporarily unavailable; please retry."


@strawberry.enum(description="Stable codes of business failures; clients branch on these.")
class ErrorCode(Enum):
    INVALID_INPUT = "INVALID_INPUT"
    NOT_FOUND = "NOT_FOUND"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    INSUFFICIENT_POINTS = "INSUFFICIENT_POINTS"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    GIFT_INACTIVE = "GIFT_INACTIVE"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    CAPACITY_EXHAUSTED = "CAPACITY_EXHAUSTED"
    DUPLICATE_TRACKING_NUMBER = "DUPLICATE_TRACKING_NUMBER"
    PAYMENT_UNAVAILABLE = "PAYMENT_UNAVAILABLE"
    RATE_LIMITED = "RATE_LIMITED"
    TICKET_CLOSED = "TICKET_CLOSED"
    NOT_YOUR_ORDER = "NOT_YOUR_ORDER"
    APPROVAL_REQUIRED = "APPROVAL_REQUIRED"
    CODE_UNAVAILABLE = "CODE_UNAVAILABLE"
    BUDGET_SPENT = "BUDGET_SPENT"


ERROR_CODES: dict[type[domain.DomainError], ErrorCode] = {
    domain.InvalidInput: ErrorCode.INVALID_INPUT,
    domain.NotFound: ErrorCode.NOT_FOUND,
    domain.IdempotencyConflict: ErrorCode.IDEMPOTENCY_CONFLICT,
    domain.InsufficientPoints: ErrorCode.INSUFFICIENT_POINTS,
    domain.OutOfStock: ErrorCode.OUT_OF_STOCK,
    domain.LimitExceeded: ErrorCode.LIMIT_EXCEEDED,
    domain.GiftInactive: ErrorCode.GIFT_INACTIVE,
    domain.InvalidTransition: ErrorCode.INVALID_TRANSITION,
    domain.CapacityExhausted: ErrorCode.CAPACITY_EXHAUSTED,
    domain.DuplicateTrackingNumber: ErrorCode.DUPLICATE_TRACKING_NUMBER,
    domain.PaymentUnavailable: ErrorCode.PAYMENT_UNAVAILABLE,
    domain.RateLimited: ErrorCode.RATE_LIMITED,
    domain.TicketClosed: ErrorCode.TICKET_CLOSED,
    domain.NotYourOrder: ErrorCode.NOT_YOUR_ORDER,
    domain.ApprovalRequired: ErrorCode.APPROVAL_REQUIRED,
    domain.CodeUnavailable: ErrorCode.CODE_UNAVAILABLE,
    domain.BudgetSpent: ErrorCode.BUDGET_SPENT,
}


@strawberry.type(description="A business failure of a mutation; nothing was changed.")
class UserError:
    code: ErrorCode
    message: str
    field: str | None = strawberry.field(
        description="Path of the offending input field, e.g. `lines.0.quantity`."
    )


def field_path(path: str | None) -> str | None:
    """Domain field paths are snake_case; clients see the input's camelCase names."""
    if path is None:
        return None
    return ".".join(to_camel_case(part) for part in path.split("."))


def user_error(exc: domain.DomainError) -> UserError:
    return UserError(code=ERROR_CODES[type(exc)], message=exc.message, field=field_path(exc.field))


@dataclass
class ServiceResult(Generic[T]):
    """What a mutation's service call gave: a value, or the user errors instead."""

    value: T | None
    errors: list[UserError]


async def attempt(call: Awaitable[T]) -> ServiceResult[T]:
    """Await a service call, turning a domain refusal into the payload's errors."""
    try:
        return ServiceResult(await call, [])
    except domain.DomainError as exc:
        REFUSALS.labels(exc.code).inc()
        return ServiceResult(None, [user_error(exc)])


PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = "BAD_USER_INPUT"


def client_error(message: str, code: str) -> GraphQLError:
    """A top-level error the client is meant to see, with a stable `extensions.code`."""
    return GraphQLError(message, extensions={"code": code})


class ErrorPolicy(SchemaExtension):
    """Gives domain errors their code and masks every unexpected error with an id."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors: list[GraphQLError] | None = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [coded_error(error) for error in errors]

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Each result a subscription streams is sent with the same treatment."""
        errors: list[GraphQLError] | None = getattr(result, "errors", None)
        if errors:
            result.errors = [coded_error(error, streaming=True) for error in errors]
        yield


def coded_error(error: GraphQLError, *, streaming: bool = False) -> GraphQLError:
    """What the client sees of `error`: a domain code, a request refusal's code, or the
    mask of an unexpected error (logged with its id)."""
    original = error.original_error
    if isinstance(original, domain.DomainError):
        return _relocated(error, original.message, {"code": original.code})
    if original is None or (isinstance(original, GraphQLError) and not _completion(error)):
        return _coded(error)
    if error.path is None and not streaming:
        return _coded(error)  # a request-level error (variable coercion): for the client
    if database_unavailable(original):
        log.warning(
            "database unavailable at %s: %s",
            ".".join(str(p) for p in error.path or []),
            type(original).__name__,
        )
        return _relocated(error, UNAVAILABLE_MESSAGE, {"code": SERVICE_UNAVAILABLE})
    error_id = uuid.uuid4().hex
    log.error(
        "unexpected error %s at %s",
        error_id,
        ".".join(str(p) for p in error.path or []),
        exc_info=(type(original), original, original.__traceback__),
    )
    extensions = {"code": "INTERNAL_SERVER_ERROR", "errorId": error_id}
    return _relocated(error, f"Internal error (id {error_id}).", extensions)


def _completion(error: GraphQLError) -> bool:
    """Whether graphql-core failed to complete a value a resolver returned (an `Int` past 32
    bits, say): a fault of ours, masked like any unexpected error, not a message for the
    client. Errors raised for the client always carry a code."""
    return error.path is not None and not (error.extensions or {}).get("code")


def _coded(error: GraphQLError) -> GraphQLError:
    """The error with an `extensions.code`: its own, or the kind of request refusal it is."""
    if (error.extensions or {}).get("code") or error.path is not None:
        return error
    if error.original_error is not None:
        code = BAD_USER_INPUT  # a variable that does not fit its type
    elif error.message.startswith("Syntax Error"):
        code = PARSE_FAILED
    else:
        code = VALIDATION_FAILED
    return _relocated(error, error.message, {**(error.extensions or {}), "code": code})


def _relocated(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=extensions,
    )
