"""The service report: how well the after-sales promise was kept, computed by the database.

For the tickets opened in [from, to) (of one category, or all): how many, their first
replies on time and late (and those still unanswered past their deadline), the median and
95th percentile hours to the first reply and to resolution (the reports' one percentile
rule, `models.percentiles`), the open ones at risk and breached now (the promise's rule on
the queue key), the compensation and goodwill paid, and satisfaction (average,
distribution, response rate) of the tickets' surveys asked in the window. One statement:
the window's tickets read once, the few rows of the other tables joined to them; the same
text on both databases but for the percentiles' form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.transactions import in_transaction

from models import percentiles, sql, validation
from models.aftersales import rules
from models.aftersales.models import (
    ResolutionKind,
    ResolutionStatus,
    ServiceAlertKind,
    TicketCategory,
)
from models.aftersales.rules import TicketPolicy
from models.errors import InvalidInput
from models.points.models import EntryKind

_OPEN = sorted(state.value for state in rules.OPEN_STATES)


@dataclass(frozen=True)
class ServiceReport:
    tickets_opened: int
    first_replied_on_time: int
    first_replied_late: int
    unanswered_past_due: int
    on_time_rate: float | None
    median_hours_to_first_reply: float | None
    p95_hours_to_first_reply: float | None
    median_hours_to_resolution: float | None
    p95_hours_to_resolution: float | None
    tickets_resolved: int
    open_at_risk: int
    open_breached: int
    compensation_points: int
    goodwill_points: int
    surveys_asked: int
    surveys_answered: int
    average_rating: float | None
    ratings: tuple[int, int, int, int, int]  # how many 1s, 2s, 3s, 4s and 5s

    @property
    def response_rate(self) -> float | None:
        return (
            None
            if self.surveys_asked == 0
            else round(self.surveys_answered / self.surveys_asked, 4)
        )


async def service_report(
    *,
    start: datetime,
    end: datetime,
    category: TicketCategory | None,
    now: datetime,
    policy: TicketPolicy,
) -> ServiceReport:
    """The report for tickets opened in [start, end); raises InvalidInput."""
    start = validation.moment(start, field="from")
    end = validation.moment(end, field="to")
    if start >= end:
        raise InvalidInput("from must be before to", field="from")
    now = now.astimezone(UTC)
    p = sql.Params()
    text = _report_sql(
        p,
        start=p(start),
        end=p(end),
        now=p(now),
        risk_until=p(now + policy.at_risk),
        category=None if category is None else p(category.value, "text"),
        postgres=sql.on_postgres(),
    )
    if not sql.on_postgres():
        [row] = await sql.fetch(text, *p.values)
        return _report(row)
    async with in_transaction():
        await sql.fetch(POSTGRES_SORT_IN_MEMORY_FOR_THIS_TRANSACTION)
        [row] = await sql.fetch(text, *p.values)
    return _report(row)


# PostgreSQL settings, reached into by name, for the report's transaction only
# (`set_config(..., true)`): its percentiles sort every answered ticket's hours, which
# the default `work_mem` sends to disk, and the plan is cheap enough that compiling it
# (JIT) costs more than it saves (benchmarks/PROFILES.md).
POSTGRES_SORT_IN_MEMORY_FOR_THIS_TRANSACTION = (
    "SELECT set_config('work_mem', '64MB', true), set_config('jit', 'off', true)"
)


def _report_sql(
    p: sql.Params,
    *,
    start: str,
    end: str,
    now: str,
    risk_until: str,
    category: str | None,
    postgres: bool,
) -> str:
    """The report's rules, once. On time: the first reply came before its deadline (moved on
    by waits); unanswered past due: none yet, and the deadline passed before now (or before
    the wait began). At risk and breached: open tickets by their earliest running deadline,
    disjoint as in `models.promises.rules`. Money: the compensations and goodwill credited
    for the window's tickets; satisfaction: the tickets' surveys asked in the window.

    The window's tickets are read once, by the main aggregate (over `opened_at`); the
    other tables join them by id, the surveys by when they were asked (`asked_at`)."""
    in_category = "" if category is None else f" AND t.category = {category}"
    window = f"t.opened_at >= {start} AND t.opened_at < {end}{in_category}"
    open_states = ", ".join(p(state, "text") for state in _OPEN)
    to_reply = percentiles.hours("t.opened_at", "t.first_replied_at", postgres=postgres)
    to_resolve = percentiles.hours("t.opened_at", "t.resolved_at", postgres=postgres)
    ranked = ""
    if not postgres:
        ranked = percentiles.ranked(
            "reply_ranked",
            values=to_reply,
            source="ticket t",
            where=f"{window} AND t.first_replied_at IS NOT NULL",
        ) + percentiles.ranked(
            "resolve_ranked",
            values=to_resolve,
            source="ticket t",
            where=f"{window} AND t.resolved_at IS NOT NULL",
        )

    def reply_p(q: float) -> str:
        return percentiles.percentile(q, of=to_reply, ranked="reply_ranked", postgres=postgres)

    def resolve_p(q: float) -> str:
        return percentiles.percentile(q, of=to_resolve, ranked="resolve_ranked", postgres=postgres)

    surveyed = f"s.asked_at >= {start} AND s.asked_at < {end} AND s.ticket_id IS NOT NULL"
    of_category = (
        ""
        if category is None
        else f" AND EXISTS (SELECT 1 FROM ticket t WHERE t.id = s.ticket_id{in_category})"  # noqa: S608
    )
    breached = p(ServiceAlertKind.FIRST_REPLY_BREACHED.value, "text")
    goodwill = p(ResolutionKind.GOODWILL.value, "text")
    done = p(ResolutionStatus.DONE.value, "text")
    compensation = p(EntryKind.COMPENSATION.value, "text")
    prefix = p("ticket-compensation:", "text")
    return f"""
        WITH rated AS (
            SELECT COUNT(*) AS asked, COUNT(s.rating) AS answered, AVG(s.rating) AS average,
                   COUNT(*) FILTER (WHERE s.rating = 1) AS r1,
                   COUNT(*) FILTER (WHERE s.rating = 2) AS r2,
                   COUNT(*) FILTER (WHERE s.rating = 3) AS r3,
                   COUNT(*) FILTER (WHERE s.rating = 4) AS r4,
                   COUNT(*) FILTER (WHERE s.rating = 5) AS r5
            FROM service_survey s WHERE {surveyed}{of_category}
        ){ranked}
        SELECT COUNT(*) AS opened,
               COUNT(*) FILTER (WHERE t.first_replied_at < t.first_reply_due_at) AS on_time,
               COUNT(*) FILTER (WHERE t.first_replied_at >= t.first_reply_due_at) AS late,
               COUNT(*) FILTER (
                   WHERE t.first_replied_at IS NULL
                     AND t.first_reply_due_at <= COALESCE(t.paused_at, {now})) AS unanswered,
               COUNT(t.resolved_at) AS resolved,
               COUNT(*) FILTER (
                   WHERE t.state IN ({open_states})
                     AND t.next_due_at > {now} AND t.next_due_at < {risk_until}) AS at_risk,
               COUNT(*) FILTER (
                   WHERE t.state IN ({open_states}) AND t.next_due_at <= {now}) AS breached,
               {reply_p(0.5)} AS reply_median, {reply_p(0.95)} AS reply_p95,
               {resolve_p(0.5)} AS resolve_median, {resolve_p(0.95)} AS resolve_p95,
               (SELECT COALESCE(SUM(e.delta), 0)
                FROM ticket_alert a JOIN ticket t ON t.id = a.ticket_id
                JOIN points_entry e ON e.external_ref = {prefix} || t.number
                WHERE a.kind = {breached} AND a.compensated_at IS NOT NULL AND {window}
                  AND e.kind = {compensation}) AS compensation,
               (SELECT COALESCE(SUM(r.points), 0)
                FROM ticket_resolution r JOIN ticket t ON t.id = r.ticket_id
                WHERE r.kind = {goodwill} AND r.status = {done} AND {window}) AS goodwill,
               (SELECT asked FROM rated) AS asked, (SELECT answered FROM rated) AS answered,
               (SELECT average FROM rated) AS average,
               (SELECT r1 FROM rated) AS r1, (SELECT r2 FROM rated) AS r2,
               (SELECT r3 FROM rated) AS r3, (SELECT r4 FROM rated) AS r4,
               (SELECT r5 FROM rated) AS r5
        FROM ticket t
        WHERE {window}
    """  # noqa: S608 -- only constant fragments and placeholders are interpolated


def _report(row: dict[str, Any]) -> ServiceReport:
    on_time, late = _int(row["on_time"]), _int(row["late"])
    unanswered = _int(row["unanswered"])
    judged = on_time + late + unanswered
    return ServiceReport(
        tickets_opened=_int(row["opened"]),
        first_replied_on_time=on_time,
        first_replied_late=late,
        unanswered_past_due=unanswered,
        on_time_rate=None if judged == 0 else round(on_time / judged, 4),
        median_hours_to_first_reply=_hours(row["reply_median"]),
        p95_hours_to_first_reply=_hours(row["reply_p95"]),
        median_hours_to_resolution=_hours(row["resolve_median"]),
        p95_hours_to_resolution=_hours(row["resolve_p95"]),
        tickets_resolved=_int(row["resolved"]),
        open_at_risk=_int(row["at_risk"]),
        open_breached=_int(row["breached"]),
        compensation_points=_int(row["compensation"]),
        goodwill_points=_int(row["goodwill"]),
        surveys_asked=_int(row["asked"]),
        surveys_answered=_int(row["answered"]),
        average_rating=_hours(row["average"]),
        ratings=(
            _int(row["r1"]),
            _int(row["r2"]),
            _int(row["r3"]),
            _int(row["r4"]),
            _int(row["r5"]),
        ),
    )


def _int(value: object) -> int:
    return int(str(value or 0))


def _hours(value: object) -> float | None:
    return None if value is None else round(float(str(value)), 2)
