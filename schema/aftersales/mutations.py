"""After-sales mutations: the member's side of a ticket and the agents' (resolutions are in
`schema/aftersales/resolutions.py`). Each maps its input to one domain call."""

from __future__ import annotations

from collections.abc import Awaitable

import strawberry

from models.actors import Actor, Role
from models.aftersales import replies, surveys, tickets
from models.aftersales.models import Ticket
from schema.aftersales.inputs import (
    AddInternalNoteInput,
    AddInternalNotePayload,
    AddTicketMessageInput,
    AddTicketMessagePayload,
    AssignTicketInput,
    AssignTicketPayload,
    ClaimTicketPayload,
    ConfirmTicketResolvedPayload,
    LogTicketCallInput,
    LogTicketCallPayload,
    OpenTicketForCallerInput,
    OpenTicketForCallerPayload,
    OpenTicketInput,
    OpenTicketPayload,
    RateServiceInput,
    RateServicePayload,
    ReplyToTicketInput,
    ReplyToTicketPayload,
    ResolveTicketInput,
    ResolveTicketPayload,
    ResumeTicketPayload,
    TicketActionInput,
    WaitOnMemberPayload,
)
from schema.aftersales.types import SurveyType, TicketType
from schema.caller_dependence import DEPENDS_ON_CALLER
from schema.context import Info
from schema.errors import UserError, attempt
from schema.permissions import IsAgentOrAdmin, IsMember, require_role
from schema.ratelimit import WithinRateLimit

MEMBERS = [IsMember, WithinRateLimit]
AGENTS = [IsAgentOrAdmin, WithinRateLimit]


def _agent(info: Info) -> Actor:
    return require_role(info, Role.AGENT, Role.ADMIN)


def _member(info: Info) -> Actor:
    return require_role(info, Role.MEMBER)


async def _ticket(call: Awaitable[Ticket]) -> tuple[TicketType | None, list[UserError]]:
    outcome = await attempt(call)
    return (TicketType.from_row(outcome.value) if outcome.value else None), outcome.errors


def _request(input: OpenTicketInput) -> tickets.TicketRequest:
    return tickets.TicketRequest(
        category=input.category,
        text=input.text,
        order_number=input.order_number,
        photo_urls=input.photo_urls or (),
        idempotency_key=input.idempotency_key,
    )


@strawberry.type
class AftersalesMutations:
    @strawberry.mutation(
        permission_classes=MEMBERS,
        directives=[DEPENDS_ON_CALLER],
        description="Open a ticket (the first reply is promised within 48 hours).",
    )
    async def open_ticket(self, info: Info, input: OpenTicketInput) -> OpenTicketPayload:
        services = info.context.services
        ticket, errors = await _ticket(
            tickets.open_ticket(
                actor=_member(info),
                request=_request(input),
                now=info.context.now(),
                policy=services.ticket_policy,
            )
        )
        return OpenTicketPayload(ticket=ticket, errors=errors)

    @strawberry.mutation(
        permission_classes=MEMBERS,
        directives=[DEPENDS_ON_CALLER],
        description="Write on your ticket (reopens it within a week of its resolution).",
    )
    async def add_ticket_message(
        self, info: Info, input: AddTicketMessageInput
    ) -> AddTicketMessagePayload:
        ticket, errors = await _ticket(
            tickets.add_message(
                actor=_member(info),
                number=input.number,
                text=input.text,
                photo_urls=input.photo_urls or (),
                now=info.context.now(),
                policy=info.context.services.ticket_policy,
            )
        )
        return AddTicketMessagePayload(ticket=ticket, errors=errors)

    @strawberry.mutation(
        permission_classes=MEMBERS,
        directives=[DEPENDS_ON_CALLER],
        description="Confirm your resolved ticket is done: it closes.",
    )
    async def confirm_ticket_resolved(
        self, info: Info, input: TicketActionInput
    ) -> ConfirmTicketResolvedPayload:
        ticket, errors = await _ticket(
            tickets.confirm_resolved(
                actor=_member(info), number=input.number, now=info.context.now()
            )
        )
        return ConfirmTicketResolvedPayload(ticket=ticket, errors=errors)

    @strawberry.mutation(
        permission_classes=MEMBERS,
        directives=[DEPENDS_ON_CALLER],
        description="Rate a ticket's service or a delivered order 1-5 (again: replaces it).",
    )
    async def rate_service(self, info: Info, input: RateServiceInput) -> RateServicePayload:
        outcome = await attempt(
            surveys.rate(
                actor=_member(info),
                ticket_number=input.ticket_number,
                order_number=input.order_number,
                rating=input.rating,
                now=info.context.now(),
                policy=info.context.services.ticket_policy,
            )
        )
        survey = SurveyType.from_row(outcome.value) if outcome.value else None
        return RateServicePayload(survey=survey, errors=outcome.errors)

    @strawberry.mutation(
        permission_classes=AGENTS,
        directives=[DEPENDS_ON_CALLER],
        description="Open a ticket for a hotline caller; the logged call is its first reply.",
    )
    async def open_ticket_for_caller(
        self, info: Info, input: OpenTicketForCallerInput
    ) -> OpenTicketForCallerPayload:
        request = tickets.TicketRequest(
            category=input.category, text=input.text, order_number=input.order_number
        )
        ticket, errors = await _ticket(
            tickets.open_for_caller(
                actor=_agent(info),
                member_external_id=input.member_external_id,
                request=request,
                call_outcome=input.call_outcome,
                now=info.context.now(),
                policy=info.context.services.ticket_policy,
            )
        )
        return OpenTicketForCallerPayload(ticket=ticket, errors=errors)

    @strawberry.mutation(
        permission_classes=AGENTS,
        directives=[DEPENDS_ON_CALLER],
        description="Reply to the member (app and SMS): this is a reply.",
    )
    async def reply_to_ticket(self, info: Info, input: ReplyToTicketInput) -> ReplyToTicketPayload:
        ticket, errors = await _ticket(
            replies.reply(
                actor=_agent(info),
                number=input.number,
                text=input.text,
                now=info.context.now(),
                policy=info.context.services.ticket_policy,
            )
        )
        return ReplyToTicketPayload(ticket=ticket, errors=errors)

    @strawberry.mutation(
        permission_classes=AGENTS,
        directives=[DEPENDS_ON_CALLER],
        description="A note for agents only: not a reply.",
    )
    async def add_internal_note(
        self, info: Info, input: AddInternalNoteInput
    ) -> AddInternalNotePayload:
        ticket, errors = await _ticket(
            replies.note(
                actor=_agent(info), number=input.number, text=input.text, now=info.context.now()
            )
        )
        return AddInternalNotePayload(ticket=ticket, errors=errors)

    @strawberry.mutation(
        permission_classes=AGENTS,
        directives=[DEPENDS_ON_CALLER],
        description="Log a call with the member and its outcome: this is a reply.",
    )
    async def log_ticket_call(self, info: Info, input: LogTicketCallInput) -> LogTicketCallPayload:
        ticket, errors = await _ticket(
            replies.log_call(
                actor=_agent(info),
                number=input.number,
                outcome=input.outcome,
                notes=input.notes or "",
                now=info.context.now(),
                policy=info.context.services.ticket_policy,
            )
        )
        return LogTicketCallPayload(ticket=ticket, errors=errors)

    @strawberry.mutation(
        permission_classes=AGENTS, directives=[DEPENDS_ON_CALLER], description="Take the ticket."
    )
    async def claim_ticket(self, info: Info, input: TicketActionInput) -> ClaimTicketPayload:
        ticket, errors = await _ticket(
            replies.claim(actor=_agent(info), number=input.number, now=info.context.now())
        )
        return ClaimTicketPayload(ticket=ticket, errors=errors)

    @strawberry.mutation(
        permission_classes=AGENTS,
        directives=[DEPENDS_ON_CALLER],
        description="Give the ticket to an agent.",
    )
    async def assign_ticket(self, info: Info, input: AssignTicketInput) -> AssignTicketPayload:
        ticket, errors = await _ticket(
            replies.assign(
                actor=_agent(info), number=input.number, agent=input.agent, now=info.context.now()
            )
        )
        return AssignTicketPayload(ticket=ticket, errors=errors)

    @strawberry.mutation(
        permission_classes=AGENTS,
        directives=[DEPENDS_ON_CALLER],
        description="Wait on the member: the clock stops until they answer.",
    )
    async def wait_on_member(self, info: Info, input: TicketActionInput) -> WaitOnMemberPayload:
        ticket, errors = await _ticket(
            replies.wait_on_member(
                actor=_agent(info),
                number=input.number,
                now=info.context.now(),
                policy=info.context.services.ticket_policy,
            )
        )
        return WaitOnMemberPayload(ticket=ticket, errors=errors)

    @strawberry.mutation(
        permission_classes=AGENTS,
        directives=[DEPENDS_ON_CALLER],
        description="Stop waiting on the member: the clock runs again.",
    )
    async def resume_ticket(self, info: Info, input: TicketActionInput) -> ResumeTicketPayload:
        ticket, errors = await _ticket(
            replies.resume(
                actor=_agent(info),
                number=input.number,
                now=info.context.now(),
                policy=info.context.services.ticket_policy,
            )
        )
        return ResumeTicketPayload(ticket=ticket, errors=errors)

    @strawberry.mutation(
        permission_classes=AGENTS,
        directives=[DEPENDS_ON_CALLER],
        description="Resolve the ticket: the member is told and asked to rate the service.",
    )
    async def resolve_ticket(self, info: Info, input: ResolveTicketInput) -> ResolveTicketPayload:
        ticket, errors = await _ticket(
            replies.resolve(
                actor=_agent(info),
                number=input.number,
                summary=input.summary,
                now=info.context.now(),
                policy=info.context.services.ticket_policy,
            )
        )
        return ResolveTicketPayload(ticket=ticket, errors=errors)
