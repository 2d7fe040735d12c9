"""After-sales inputs and payloads: each mutation its own input and payload."""

from __future__ import annotations

import strawberry

from schema.aftersales.types import (
    ResolutionType,
    ReturnParcelType,
    SurveyType,
    TicketCategoryEnum,
    TicketType,
)
from schema.errors import UserError

PHOTOS = "At most 5 http(s) addresses of photos. Null or absent: none."
KEY = "Makes the click idempotent: the same key again does nothing more."
LINES = "Units of the order's lines, by SKU. Null or absent: every line (what is left of it)."


@strawberry.input
class OpenTicketInput:
    category: TicketCategoryEnum  # type: ignore[valid-type]
    text: str = strawberry.field(description="What happened, up to 2,000 characters.")
    order_number: str | None = strawberry.field(
        default=None, description="One of your orders. Null or absent: none."
    )
    photo_urls: list[str] | None = strawberry.field(default=None, description=PHOTOS)
    idempotency_key: str | None = strawberry.field(
        default=None, description="A retry with the same key returns the same ticket."
    )


@strawberry.input
class AddTicketMessageInput:
    number: str
    text: str
    photo_urls: list[str] | None = strawberry.field(default=None, description=PHOTOS)


@strawberry.input
class TicketActionInput:
    number: str


@strawberry.input
class RateServiceInput:
    rating: int = strawberry.field(description="1 to 5, 5 = very satisfied.")
    ticket_number: str | None = strawberry.field(
        default=None, description="The ticket rated; or give orderNumber instead."
    )
    order_number: str | None = strawberry.field(
        default=None, description="The delivered order rated; or give ticketNumber instead."
    )


@strawberry.input
class OpenTicketForCallerInput:
    member_external_id: str
    category: TicketCategoryEnum  # type: ignore[valid-type]
    text: str = strawberry.field(description="What the caller said.")
    call_outcome: str = strawberry.field(description="What was agreed on the call (a reply).")
    order_number: str | None = strawberry.field(
        default=None, description="One of the caller's orders. Null or absent: none."
    )


@strawberry.input
class ReplyToTicketInput:
    number: str
    text: str = strawberry.field(description="Goes to the member's inbox and by SMS.")


@strawberry.input
class AddInternalNoteInput:
    number: str
    text: str = strawberry.field(description="For agents only; not a reply.")


@strawberry.input
class LogTicketCallInput:
    number: str
    outcome: str = strawberry.field(description="What the call came to (makes it a reply).")
    notes: str | None = strawberry.field(default=None, description="Null or absent: none.")


@strawberry.input
class AssignTicketInput:
    number: str
    agent: str = strawberry.field(description='An agent\'s subject; "" leaves it unassigned.')


@strawberry.input
class ResolveTicketInput:
    number: str
    summary: str = strawberry.field(description="What was done, told to the member.")


@strawberry.input
class ResolutionLineInput:
    sku: str
    quantity: int


@strawberry.input
class RefundOrderPointsInput:
    number: str
    idempotency_key: str = strawberry.field(description=KEY)
    lines: list[ResolutionLineInput] | None = strawberry.field(default=None, description=LINES)


@strawberry.input
class CreditGoodwillInput:
    number: str
    idempotency_key: str = strawberry.field(description=KEY)
    points: int
    reason: str
    request_approval: bool | None = strawberry.field(
        default=None,
        description=(
            "Above your daily cap: true records it for a supervisor; null or false refuses"
            " it with APPROVAL_REQUIRED."
        ),
    )


@strawberry.input
class SendReplacementInput:
    number: str
    idempotency_key: str = strawberry.field(description=KEY)
    lines: list[ResolutionLineInput] | None = strawberry.field(default=None, description=LINES)


@strawberry.input
class StartReturnInput:
    number: str
    idempotency_key: str = strawberry.field(description=KEY)
    carrier: str
    tracking_number: str


@strawberry.input
class ApproveGoodwillInput:
    resolution_id: strawberry.ID


@strawberry.input
class SetGoodwillCapInput:
    agent: str
    daily_points: int = strawberry.field(description="0 to 100,000 points a day.")


@strawberry.type
class OpenTicketPayload:
    ticket: TicketType | None
    errors: list[UserError]


@strawberry.type
class AddTicketMessagePayload:
    ticket: TicketType | None
    errors: list[UserError]


@strawberry.type
class ConfirmTicketResolvedPayload:
    ticket: TicketType | None
    errors: list[UserError]


@strawberry.type
class RateServicePayload:
    survey: SurveyType | None
    errors: list[UserError]


@strawberry.type
class OpenTicketForCallerPayload:
    ticket: TicketType | None
    errors: list[UserError]


@strawberry.type
class ReplyToTicketPayload:
    ticket: TicketType | None
    errors: list[UserError]


@strawberry.type
class AddInternalNotePayload:
    ticket: TicketType | None
    errors: list[UserError]


@strawberry.type
class LogTicketCallPayload:
    ticket: TicketType | None
    errors: list[UserError]


@strawberry.type
class ClaimTicketPayload:
    ticket: TicketType | None
    errors: list[UserError]


@strawberry.type
class AssignTicketPayload:
    ticket: TicketType | None
    errors: list[UserError]


@strawberry.type
class WaitOnMemberPayload:
    ticket: TicketType | None
    errors: list[UserError]


@strawberry.type
class ResumeTicketPayload:
    ticket: TicketType | None
    errors: list[UserError]


@strawberry.type
class ResolveTicketPayload:
    ticket: TicketType | None
    errors: list[UserError]


@strawberry.type
class RefundOrderPointsPayload:
    ticket: TicketType | None
    resolution: ResolutionType | None
    errors: list[UserError]


@strawberry.type
class CreditGoodwillPayload:
    ticket: TicketType | None
    resolution: ResolutionType | None
    errors: list[UserError]


@strawberry.type
class SendReplacementPayload:
    ticket: TicketType | None
    resolution: ResolutionType | None
    errors: list[UserError]


@strawberry.type
class StartReturnPayload:
    ticket: TicketType | None
    resolution: ResolutionType | None
    errors: list[UserError]


@strawberry.type
class ApproveGoodwillPayload:
    ticket: TicketType | None
    resolution: ResolutionType | None
    errors: list[UserError]


@strawberry.type
class SetGoodwillCapPayload:
    agent: str | None
    daily_points: int | None
    errors: list[UserError]


@strawberry.type
class RecordReturnScanPayload:
    return_parcel: ReturnParcelType | None
    errors: list[UserError]
