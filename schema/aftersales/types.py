"""After-sales types: tickets, their timelines, resolutions, surveys and alerts.

A ticket shows its promise as the clock holds it: when the first reply is due and whether
it came in time, the earliest deadline still running (null while it waits on the member),
at risk and breached by the one rule of `models.promises.rules`. Members see their own
tickets with the public entries of the timeline only, and not which agent wrote what;
agents and admins see everything, and the member behind the ticket.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay

from models.actors import Actor
from models.aftersales import reads, rules
from models.aftersales.live import RaisedServiceAlert
from models.aftersales.models import Resolution as ResolutionRow
from models.aftersales.models import (
    ResolutionKind,
    ResolutionStatus,
    ServiceAlertKind,
    Survey,
    Ticket,
    TicketCategory,
    TicketChannel,
    TicketState,
    TimelineEntry,
    TimelineKind,
)
from models.aftersales.promise import clock_of
from models.aftersales.report import ServiceReport
from models.aftersales.resolutions import parcels_by_resolution_ids
from models.members import service as members
from models.members.models import Member
from models.orders.reads import orders_by_ids
from schema.caller_dependence import DEPENDS_ON_CALLER
from schema.context import Info
from schema.members.types import MemberType
from schema.node import row_ids
from schema.orders.types import OrderType
from schema.pagination import Connection, connection

TicketCategoryEnum = strawberry.enum(TicketCategory, name="TicketCategory")
TicketStateEnum = strawberry.enum(TicketState, name="TicketState")
TicketChannelEnum = strawberry.enum(TicketChannel, name="TicketChannel")
TimelineKindEnum = strawberry.enum(
    TimelineKind,
    name="TimelineEntryKind",
    description=(
        "PUBLIC_REPLY and CALL (with an outcome) from a person are replies; INTERNAL_NOTE and"
        " ACKNOWLEDGEMENT never are. Members never see INTERNAL_NOTE or ASSIGNMENT."
    ),
)
ServiceAlertKindEnum = strawberry.enum(ServiceAlertKind, name="ServiceAlertKind")
ResolutionKindEnum = strawberry.enum(ResolutionKind, name="ResolutionKind")
ResolutionStatusEnum = strawberry.enum(ResolutionStatus, name="ResolutionStatus")


def _handles(info: Info) -> bool:
    actor = info.context.actor
    return actor is not None and actor.handles_tickets


@strawberry.type(name="TimelineEntry", description="One entry of a ticket's timeline.")
class TimelineEntryType:
    kind: TimelineKindEnum  # type: ignore[valid-type]
    author_role: str = strawberry.field(description="member, agent, admin or system.")
    author: str | None = strawberry.field(description="Who; null for members' eyes.")
    body: str
    channel: str | None = strawberry.field(description="APP, SMS or PHONE; null: none.")
    call_outcome: str | None
    photos: list[str]
    from_state: TicketStateEnum | None  # type: ignore[valid-type]
    to_state: TicketStateEnum | None  # type: ignore[valid-type]
    rating: int | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: TimelineEntry, *, staff: bool) -> TimelineEntryType:
        data = row.data or {}
        return cls(
            kind=row.kind,
            author_role=row.author_role,
            author=(row.author or None) if staff else None,
            body=row.body,
            channel=row.channel or None,
            call_outcome=row.call_outcome or None,
            photos=[str(p) for p in data.get("photos", [])],
            from_state=_state(data.get("from")),
            to_state=_state(data.get("to")),
            rating=int(data["rating"]) if isinstance(data.get("rating"), int) else None,
            created_at=row.created_at,
        )


def _state(value: object) -> TicketState | None:
    return TicketState(value) if value in STATES else None


STATES = frozenset(state.value for state in TicketState)


@strawberry.type(name="ReturnParcel", description="A return on its way back, tracked by scans.")
class ReturnParcelType:
    carrier: str
    tracking_number: str
    status: str | None = strawberry.field(description="The latest scan's status; null: none.")
    received_at: datetime | None


@strawberry.type
class ResolutionLine:
    sku: str
    quantity: int
    points: int


@strawberry.type(name="Resolution", description="What an agent did for a ticket, once per key.")
class ResolutionType(relay.Node):
    id: relay.NodeID[int]
    kind: ResolutionKindEnum  # type: ignore[valid-type]
    status: ResolutionStatusEnum  # type: ignore[valid-type]
    points: int = strawberry.field(description="Points refunded or credited.")
    lines: list[ResolutionLine]
    reason: str
    created_at: datetime
    settled_at: datetime | None
    agent_subject: strawberry.Private[str]
    order_id: strawberry.Private[int | None]
    replacement_id: strawberry.Private[int | None]
    ticket_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: ResolutionRow) -> ResolutionType:
        return cls(
            id=row.id,
            kind=row.kind,
            status=row.status,
            points=int(row.points),
            lines=[
                ResolutionLine(
                    sku=str(x["sku"]), quantity=int(x["quantity"]), points=int(x["points"])
                )
                for x in row.lines or []
            ],
            reason=row.reason,
            created_at=row.created_at,
            settled_at=row.settled_at,
            agent_subject=row.agent,
            order_id=row.order_id,
            replacement_id=row.replacement_id,
            ticket_id=row.ticket_id,
        )

    @strawberry.field(
        description="The agent who did it; null for members' eyes.", directives=[DEPENDS_ON_CALLER]
    )
    def agent(self, info: Info) -> str | None:
        return self.agent_subject if _handles(info) else None

    @strawberry.field(description="The order it acted on.")
    async def order(self, info: Info) -> OrderType | None:
        return await _order(info, self.order_id)

    @strawberry.field(description="A replacement's new order (zero points).")
    async def replacement_order(self, info: Info) -> OrderType | None:
        return await _order(info, self.replacement_id)

    @strawberry.field(description="A return's parcel.")
    async def return_parcel(self, info: Info) -> ReturnParcelType | None:
        row = await info.context.loaders.of(parcels_by_resolution_ids).load(self.id)
        if row is None:
            return None
        return ReturnParcelType(
            carrier=row.carrier,
            tracking_number=row.tracking_number,
            status=row.status or None,
            received_at=row.received_at,
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        ids = row_ids(node_ids)
        rows = await ResolutionRow.filter(id__in=[i for i in ids if i is not None])
        by_id = {row.id: row for row in rows}
        tickets = await info.context.loaders.of(reads.tickets_by_ids).load_many(
            [row.ticket_id for row in rows]
        )
        visible = {t.id for t in tickets if t is not None and await _may_see(info, t)}
        return [
            cls.from_row(row) if (row := by_id.get(i or 0)) and row.ticket_id in visible else None
            for i in ids
        ]


async def _order(info: Info, order_id: int | None) -> OrderType | None:
    if order_id is None:
        return None
    row = await info.context.loaders.of(orders_by_ids).load(order_id)
    return OrderType.from_row(row) if row is not None else None


@strawberry.type(name="ServiceSurvey", description="How satisfied the member was (1-5).")
class SurveyType:
    asked_at: datetime
    rating: int | None = strawberry.field(description="5 = very satisfied; null: not yet.")
    rated_at: datetime | None
    rated_by: str | None = strawberry.field(description="APP or SMS; null: not yet.")

    @classmethod
    def from_row(cls, row: Survey) -> SurveyType:
        return cls(
            asked_at=row.asked_at,
            rating=row.rating,
            rated_at=row.rated_at,
            rated_by=row.rated_by or None,
        )


async def _members_by_ids(ids: Sequence[int]) -> list[Member | None]:
    return await members.members_by_ids(list(ids))


async def _may_see(info: Info, ticket: Ticket) -> bool:
    actor: Actor | None = info.context.actor
    return actor is not None and await reads.may_see(actor, ticket)


@strawberry.type(name="Ticket", description="A member's after-sales ticket.")
class TicketType(relay.Node):
    id: relay.NodeID[int]
    number: str
    category: TicketCategoryEnum  # type: ignore[valid-type]
    state: TicketStateEnum  # type: ignore[valid-type]
    channel: TicketChannelEnum  # type: ignore[valid-type]
    subject: str
    opened_at: datetime
    first_reply_due_at: datetime = strawberry.field(
        description="A first reply from a person is promised by then (moved on by waits)."
    )
    first_replied_at: datetime | None
    reply_due_at: datetime | None = strawberry.field(
        description="The member's later message is owed an answer by then; null: none owed."
    )
    resolve_due_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    waiting_since: datetime | None = strawberry.field(
        description="Waiting on the member since (the clock stops); null: not waiting."
    )
    attention: bool = strawberry.field(description="A supervisor should look (a low rating).")
    row: strawberry.Private[Ticket]

    @classmethod
    def from_row(cls, row: Ticket) -> TicketType:
        return cls(
            id=row.id,
            number=row.number,
            category=row.category,
            state=row.state,
            channel=row.channel,
            subject=row.subject,
            opened_at=row.opened_at,
            first_reply_due_at=row.first_reply_due_at,
            first_replied_at=row.first_replied_at,
            reply_due_at=row.reply_due_at,
            resolve_due_at=row.resolve_due_at,
            resolved_at=row.resolved_at,
            closed_at=row.closed_at,
            waiting_since=row.paused_at,
            attention=row.attention,
            row=row,
        )

    @strawberry.field(
        description=(
            "True: answered before firstReplyDueAt; false: answered after it, or not yet and"
            " past it; null: not yet answered and still in time."
        )
    )
    def first_reply_on_time(self, info: Info) -> bool | None:
        replied, due = self.row.first_replied_at, self.row.first_reply_due_at
        if replied is not None:
            return replied < due
        return False if info.context.now() >= due else None

    @strawberry.field(description="The earliest deadline still running; null: none runs.")
    def next_deadline(self) -> datetime | None:
        return None if self.row.next_due_at >= rules.NO_DEADLINE else self.row.next_due_at

    @strawberry.field(description="The earliest running deadline is under the at-risk threshold.")
    def at_risk(self, info: Info) -> bool:
        state = self._urgency(info)
        return state is not None and state.at_risk

    @strawberry.field(description="The earliest running deadline has passed.")
    def breached(self, info: Info) -> bool:
        state = self._urgency(info)
        return state is not None and state.breached

    @strawberry.field(description="Hours until nextDeadline; negative once past; null: none.")
    def hours_left(self, info: Info) -> float | None:
        state = self._urgency(info)
        return None if state is None else state.hours_left

    def _urgency(self, info: Info) -> Any:
        threshold = info.context.services.ticket_policy.at_risk
        return rules.urgency(clock_of(self.row), now=info.context.now(), threshold=threshold)

    @strawberry.field(
        description="The agent it is assigned to; null: none, or members' eyes.",
        directives=[DEPENDS_ON_CALLER],
    )
    def assignee(self, info: Info) -> str | None:
        return (self.row.assignee or None) if _handles(info) else None

    @strawberry.field(description="The order the ticket is about, if any.")
    async def order(self, info: Info) -> OrderType | None:
        return await _order(info, self.row.order_id)

    @strawberry.field(
        description="The member (their points and orders); agents and admins.",
        directives=[DEPENDS_ON_CALLER],
    )
    async def member(self, info: Info) -> MemberType | None:
        if not _handles(info):
            return None
        row = await info.context.loaders.of(_members_by_ids).load(self.row.member_id)
        return MemberType.from_row(row) if row is not None else None

    @strawberry.field(
        description="Oldest first; members see the public entries only.",
        directives=[DEPENDS_ON_CALLER],
    )
    async def timeline(
        self, info: Info, first: int, after: str | None = None
    ) -> Connection[TimelineEntryType]:
        staff = _handles(info)
        page = await reads.ticket_timeline(
            ticket_id=self.id, public_only=not staff, first=first, after=after
        )
        return connection(page, lambda e: TimelineEntryType.from_row(e, staff=staff), after=after)

    @strawberry.field(description="What was done for the member, oldest first.")
    async def resolutions(self, info: Info) -> list[ResolutionType]:
        rows = await info.context.loaders.of(reads.resolutions_by_ticket_ids).load(self.id)
        return [ResolutionType.from_row(row) for row in rows]

    @strawberry.field(description="The latest survey of the ticket's service, if asked.")
    async def survey(self, info: Info) -> SurveyType | None:
        row = await info.context.loaders.of(reads.surveys_by_ticket_ids).load(self.id)
        return SurveyType.from_row(row) if row is not None else None

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        ids = row_ids(node_ids)
        rows = await info.context.loaders.of(reads.tickets_by_ids).load_many([i or 0 for i in ids])
        return [
            cls.from_row(row) if row is not None and await _may_see(info, row) else None
            for row in rows
        ]


@strawberry.type(
    name="ServiceAlert", description="A ticket's promise at risk or breached, or a low rating."
)
class ServiceAlertType:
    kind: ServiceAlertKindEnum  # type: ignore[valid-type]
    raised_at: datetime
    ticket: TicketType

    @classmethod
    def from_raised(cls, raised: RaisedServiceAlert) -> ServiceAlertType:
        return cls(
            kind=raised.alert.kind,
            raised_at=raised.alert.raised_at,
            ticket=TicketType.from_row(raised.ticket),
        )


@strawberry.type
class RatingCount:
    rating: int
    count: int


@strawberry.type(name="ServiceReport", description="How well the after-sales promise was kept.")
class ServiceReportType:
    tickets_opened: int
    first_replied_on_time: int = strawberry.field(description="Answered before the deadline.")
    first_replied_late: int = strawberry.field(description="Answered at or after it.")
    unanswered_past_due: int = strawberry.field(description="Not answered, deadline passed.")
    on_time_rate: float | None = strawberry.field(
        description="On time out of the three above; null when none is judged yet."
    )
    median_hours_to_first_reply: float | None
    p95_hours_to_first_reply: float | None
    tickets_resolved: int
    median_hours_to_resolution: float | None
    p95_hours_to_resolution: float | None
    open_at_risk: int = strawberry.field(description="Of these, open and at risk now.")
    open_breached: int = strawberry.field(description="Of these, open and past a deadline now.")
    compensation_points: int = strawberry.field(description="Credited for breached first replies.")
    goodwill_points: int = strawberry.field(description="Credited by agents as goodwill.")
    surveys_asked: int
    surveys_answered: int
    response_rate: float | None
    average_rating: float | None = strawberry.field(description="1-5; null: no rating yet.")
    ratings: list[RatingCount] = strawberry.field(description="How many of each rating, 1 to 5.")

    @classmethod
    def from_report(cls, report: ServiceReport) -> ServiceReportType:
        return cls(
            tickets_opened=report.tickets_opened,
            first_replied_on_time=report.first_replied_on_time,
            first_replied_late=report.first_replied_late,
            unanswered_past_due=report.unanswered_past_due,
            on_time_rate=report.on_time_rate,
            median_hours_to_first_reply=report.median_hours_to_first_reply,
            p95_hours_to_first_reply=report.p95_hours_to_first_reply,
            tickets_resolved=report.tickets_resolved,
            median_hours_to_resolution=report.median_hours_to_resolution,
            p95_hours_to_resolution=report.p95_hours_to_resolution,
            open_at_risk=report.open_at_risk,
            open_breached=report.open_breached,
            compensation_points=report.compensation_points,
            goodwill_points=report.goodwill_points,
            surveys_asked=report.surveys_asked,
            surveys_answered=report.surveys_answered,
            response_rate=report.response_rate,
            average_rating=report.average_rating,
            ratings=[RatingCount(rating=i + 1, count=n) for i, n in enumerate(report.ratings)],
        )
