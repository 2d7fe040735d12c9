"""After-sales resolution mutations: refunds, goodwill (and its approval and caps), a
replacement, a return and its scans. Each maps its input to one domain call."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence

import strawberry

from fulfilment import rules as parcels
from models.actors import Actor, Role
from models.aftersales import goodwill, resolutions, returns
from models.aftersales.resolutions import LineChoice, Resolved
from schema.aftersales.inputs import (
    ApproveGoodwillInput,
    ApproveGoodwillPayload,
    CreditGoodwillInput,
    CreditGoodwillPayload,
    RecordReturnScanPayload,
    RefundOrderPointsInput,
    RefundOrderPointsPayload,
    ResolutionLineInput,
    SendReplacementInput,
    SendReplacementPayload,
    SetGoodwillCapInput,
    SetGoodwillCapPayload,
    StartReturnInput,
    StartReturnPayload,
)
from schema.aftersales.types import ResolutionType, ReturnParcelType, TicketType
from schema.caller_dependence import DEPENDS_ON_CALLER
from schema.context import Info
from schema.errors import UserError, attempt
from schema.fulfilment.types import TrackingEventInput
from schema.node import row_id_of
from schema.permissions import IsAdmin, IsAgentOrAdmin, IsStaff, require_role
from schema.ratelimit import WithinRateLimit

AGENTS = [IsAgentOrAdmin, WithinRateLimit]


def _agent(info: Info) -> Actor:
    return require_role(info, Role.AGENT, Role.ADMIN)


def _lines(lines: Sequence[ResolutionLineInput] | None) -> list[LineChoice] | None:
    return None if lines is None else [LineChoice(line.sku, line.quantity) for line in lines]


Shown = tuple[TicketType | None, ResolutionType | None, list[UserError]]


async def _resolved(call: Awaitable[Resolved]) -> Shown:
    outcome = await attempt(call)
    if outcome.value is None:
        return None, None, outcome.errors
    done = outcome.value
    return TicketType.from_row(done.ticket), ResolutionType.from_row(done.resolution), []


@strawberry.type
class ResolutionMutations:
    @strawberry.mutation(
        permission_classes=AGENTS,
        directives=[DEPENDS_ON_CALLER],
        description="Refund the ticket's order's points, whole or by lines, into their lots.",
    )
    async def refund_order_points(
        self, info: Info, input: RefundOrderPointsInput
    ) -> RefundOrderPointsPayload:
        ticket, resolution, errors = await _resolved(
            resolutions.refund_points(
                actor=_agent(info),
                number=input.number,
                key=input.idempotency_key,
                lines=_lines(input.lines),
                now=info.context.now(),
            )
        )
        return RefundOrderPointsPayload(ticket=ticket, resolution=resolution, errors=errors)

    @strawberry.mutation(
        permission_classes=AGENTS,
        directives=[DEPENDS_ON_CALLER],
        description="Credit goodwill points (COMPENSATION) within your daily cap.",
    )
    async def credit_goodwill(
        self, info: Info, input: CreditGoodwillInput
    ) -> CreditGoodwillPayload:
        ticket, resolution, errors = await _resolved(
            goodwill.credit_goodwill(
                actor=_agent(info),
                number=input.number,
                key=input.idempotency_key,
                amount=input.points,
                reason=input.reason,
                request_approval=bool(input.request_approval),
                now=info.context.now(),
                policy=info.context.services.ticket_policy,
            )
        )
        return CreditGoodwillPayload(ticket=ticket, resolution=resolution, errors=errors)

    @strawberry.mutation(
        permission_classes=[IsAdmin, WithinRateLimit],
        directives=[DEPENDS_ON_CALLER],
        description="A supervisor approves goodwill above an agent's cap: it is credited.",
    )
    async def approve_goodwill(
        self, info: Info, input: ApproveGoodwillInput
    ) -> ApproveGoodwillPayload:
        actor = require_role(info, Role.ADMIN)

        async def approve() -> Resolved:
            resolution_id = row_id_of(input.resolution_id, "Resolution", field="resolution_id")
            return await goodwill.approve_goodwill(
                actor=actor, resolution_id=resolution_id, now=info.context.now()
            )

        ticket, resolution, errors = await _resolved(approve())
        return ApproveGoodwillPayload(ticket=ticket, resolution=resolution, errors=errors)

    @strawberry.mutation(
        permission_classes=[IsAdmin, WithinRateLimit],
        directives=[DEPENDS_ON_CALLER],
        description="Set the goodwill points an agent may credit a day.",
    )
    async def set_goodwill_cap(
        self, info: Info, input: SetGoodwillCapInput
    ) -> SetGoodwillCapPayload:
        outcome = await attempt(
            goodwill.set_goodwill_cap(
                actor=require_role(info, Role.ADMIN),
                agent=input.agent,
                daily_points=input.daily_points,
            )
        )
        cap = outcome.value
        return SetGoodwillCapPayload(
            agent=cap.agent if cap else None,
            daily_points=int(cap.daily_points) if cap else None,
            errors=outcome.errors,
        )

    @strawberry.mutation(
        permission_classes=AGENTS,
        directives=[DEPENDS_ON_CALLER],
        description="Send the same gifts again at zero points, under the seven-day promise.",
    )
    async def send_replacement(
        self, info: Info, input: SendReplacementInput
    ) -> SendReplacementPayload:
        services = info.context.services
        ticket, resolution, errors = await _resolved(
            resolutions.send_replacement(
                actor=_agent(info),
                number=input.number,
                key=input.idempotency_key,
                lines=_lines(input.lines),
                now=info.context.now(),
                planner=services.planner,
                effects=services.order_effects,
            )
        )
        return SendReplacementPayload(ticket=ticket, resolution=resolution, errors=errors)

    @strawberry.mutation(
        permission_classes=AGENTS,
        directives=[DEPENDS_ON_CALLER],
        description="Expect the order back by this parcel; its receipt restocks and refunds.",
    )
    async def start_return(self, info: Info, input: StartReturnInput) -> StartReturnPayload:
        ticket, resolution, errors = await _resolved(
            returns.start_return(
                actor=_agent(info),
                number=input.number,
                key=input.idempotency_key,
                carrier=input.carrier,
                tracking_number=input.tracking_number,
                now=info.context.now(),
            )
        )
        return StartReturnPayload(ticket=ticket, resolution=resolution, errors=errors)

    @strawberry.mutation(
        permission_classes=[IsStaff],
        directives=[DEPENDS_ON_CALLER],
        description="Store a return's scan once (its warehouse's staff; DELIVERED receives it).",
    )
    async def record_return_scan(
        self, info: Info, input: TrackingEventInput
    ) -> RecordReturnScanPayload:
        actor = require_role(info, Role.WAREHOUSE, Role.ADMIN)
        scan = parcels.Scan(
            carrier=input.carrier,
            tracking_number=input.tracking_number,
            status=input.status.value,
            location=input.location or "",
            description=input.description or "",
            occurred_at=input.occurred_at,
        )
        outcome = await attempt(_scanned(scan, actor, info))
        parcel = outcome.value
        shown = None
        if parcel is not None:
            shown = ReturnParcelType(
                carrier=parcel.carrier,
                tracking_number=parcel.tracking_number,
                status=parcel.status or None,
                received_at=parcel.received_at,
            )
        return RecordReturnScanPayload(return_parcel=shown, errors=outcome.errors)


async def _scanned(scan: parcels.Scan, actor: Actor, info: Info):  # type: ignore[no-untyped-def]
    """The return's parcel after the scan; NotFound for a parcel no return has."""
    from models.errors import NotFound

    scanned = await returns.record_scan(scan=scan, actor=actor, now=info.context.now())
    if scanned is None:
        raise NotFound(f"no return parcel {scan.tracking_number!r}", field="tracking_number")
    if scanned.received:
        await returns.refund_cash(
            resolution_id=scanned.resolution_id, gateway=info.context.services.payments
        )
    return scanned.parcel
