"""The SLA report: how well the seven-day promise was kept, computed by the database.

One aggregate statement over the orders confirmed in the window (the
`(warehouse_id, confirmed_at)` index), so the report stays fast with millions of orders.
Its counts (confirmed, shipped, on time, open at risk, open breached) are written once for
both databases; the percentiles of the hours to ship are the reports' one rule
(`models.percentiles`), whose SQLite form ranks the shipped orders' hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fulfilment import rules
from models import percentiles, sql, validation
from models.actors import Actor, Role
from models.catalog.models import Warehouse
from models.errors import InvalidInput, NotFound
from models.orders.rules import OPEN_STATUSES

_OPEN = sorted(s.value for s in OPEN_STATUSES)


@dataclass(frozen=True)
class SlaReport:
    orders_confirmed: int
    orders_shipped: int
    shipped_on_time: int
    on_time_rate: float | None
    median_hours_to_ship: float | None
    p95_hours_to_ship: float | None
    open_at_risk: int
    open_breached: int


async def sla_report(
    *,
    actor: Actor,
    warehouse_code: str | None,
    start: datetime,
    end: datetime,
    now: datetime,
    at_risk: timedelta,
) -> SlaReport:
    """The report for orders confirmed in [start, end); raises InvalidInput, NotFound."""
    start = validation.moment(start, field="from")
    end = validation.moment(end, field="to")
    if start >= end:
        raise InvalidInput("from must be before to", field="from")
    warehouse_ids = await _warehouses(actor, warehouse_code)
    if warehouse_ids == []:
        return SlaReport(0, 0, 0, None, None, None, 0, 0)
    start, end, now = (t.astimezone(UTC) for t in (start, end, now))
    p = sql.Params()
    statement = _report_sql(
        start=p(start),
        end=p(end),
        now=p(now),
        risk_until=p(now + at_risk),
        open_statuses=", ".join(p(status) for status in _OPEN),
        warehouses=None if warehouse_ids is None else ", ".join(p(w) for w in warehouse_ids),
        postgres=sql.on_postgres(),
    )
    rows = await sql.fetch(statement, *p.values)
    return _report(rows[0])


async def _warehouses(actor: Actor, code: str | None) -> list[int] | None:
    """The warehouse ids to report on; None means all (an admin without a code)."""
    if code is None:
        if actor.role is Role.ADMIN:
            return None
        codes = sorted(actor.warehouses)
        return [w.id for w in await Warehouse.filter(code__in=codes).only("id")]
    found = None
    if validation.fits(Warehouse, "code", code):
        found = await Warehouse.filter(code=code).only("id").first()
    if found is None or not actor.works_in(code):
        raise NotFound(f"no warehouse {code!r}", field="warehouse_code")
    return [found.id]


def _report(row: dict[str, Any]) -> SlaReport:
    shipped, on_time = int(row["shipped"] or 0), int(row["on_time"] or 0)
    return SlaReport(
        orders_confirmed=int(row["confirmed"] or 0),
        orders_shipped=shipped,
        shipped_on_time=on_time,
        on_time_rate=rules.on_time_rate(shipped, on_time),
        median_hours_to_ship=_hours(row["median"]),
        p95_hours_to_ship=_hours(row["p95"]),
        open_at_risk=int(row["at_risk"] or 0),
        open_breached=int(row["breached"] or 0),
    )


def _hours(value: object) -> float | None:
    return None if value is None else round(float(str(value)), 2)


def _report_sql(
    *,
    start: str,
    end: str,
    now: str,
    risk_until: str,
    open_statuses: str,
    warehouses: str | None,
    postgres: bool,
) -> str:
    """The rules of the report, once, over the placeholders given.

    At risk: open, deadline still ahead but sooner than the threshold; breached: open, at or
    past the deadline (the two are disjoint, as in `models.promises.rules`). The
    percentiles are `models.percentiles`', of the hours from confirmation to shipping.
    """
    in_warehouses = "" if warehouses is None else f" AND warehouse_id IN ({warehouses})"
    to_ship = percentiles.hours("confirmed_at", "shipped_at", postgres=postgres)
    ranked = (
        ""
        if postgres
        else percentiles.ranked(
            "ranked", values=to_ship, source="base", where="shipped_at IS NOT NULL"
        )
    )

    def percentile(p: float) -> str:
        return percentiles.percentile(p, of=to_ship, ranked="ranked", postgres=postgres)

    return f"""
        WITH base AS (
            SELECT status, confirmed_at, ship_by, shipped_at FROM redemption_order
            WHERE confirmed_at >= {start} AND confirmed_at < {end}{in_warehouses}
        ){ranked}
        SELECT COUNT(*) AS confirmed,
               COUNT(shipped_at) AS shipped,
               COUNT(*) FILTER (WHERE shipped_at < ship_by) AS on_time,
               COUNT(*) FILTER (
                   WHERE status IN ({open_statuses})
                     AND ship_by > {now} AND ship_by < {risk_until}) AS at_risk,
               COUNT(*) FILTER (
                   WHERE status IN ({open_statuses}) AND ship_by <= {now}) AS breached,
               {percentile(0.5)} AS median,
               {percentile(0.95)} AS p95
        FROM base
    """  # noqa: S608 -- only constant fragments and placeholders are interpolated
