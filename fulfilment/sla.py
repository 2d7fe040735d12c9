"""The SLA report: how well the seven-day promise was kept, computed by the database.

One aggregate statement over the orders confirmed in the window (the
`(warehouse_id, confirmed_at)` index), so the report stays fast with millions of orders.
PostgreSQL has `percentile_cont`; on SQLite the same interpolated percentiles come from
window functions over the hours-to-ship of the shipped orders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise import connections

from fulfilment import rules
from models import validation
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
    utc = [t.astimezone(UTC) for t in (start, end, now, now + at_risk)]
    connection = connections.get("default")
    if connection.capabilities.dialect == "postgres":
        sql, params = _postgres(utc, warehouse_ids)
    else:
        sql, params = _sqlite(utc, warehouse_ids)
    row = (await connection.execute_query_dict(sql, params))[0]
    return _report(row)


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


def _postgres(times: list[datetime], warehouse_ids: list[int] | None) -> tuple[str, list[Any]]:
    hours = "EXTRACT(EPOCH FROM (shipped_at - confirmed_at)) / 3600.0"
    where = "confirmed_at >= $1 AND confirmed_at < $2"
    params: list[Any] = [*times, _OPEN]
    if warehouse_ids is not None:
        where += " AND warehouse_id = ANY($6)"
        params.append(warehouse_ids)
    sql = f"""
        SELECT COUNT(*) AS confirmed,
               COUNT(shipped_at) AS shipped,
               COUNT(*) FILTER (WHERE shipped_at < ship_by) AS on_time,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY {hours}) AS median,
               percentile_cont(0.95) WITHIN GROUP (ORDER BY {hours}) AS p95,
               COUNT(*) FILTER (
                   WHERE status = ANY($5) AND ship_by > $3 AND ship_by < $4) AS at_risk,
               COUNT(*) FILTER (WHERE status = ANY($5) AND ship_by <= $3) AS breached
        FROM redemption_order
        WHERE {where}
    """  # noqa: S608 -- only constant fragments are interpolated
    return sql, params


def _sqlite(times: list[datetime], warehouse_ids: list[int] | None) -> tuple[str, list[Any]]:
    start, end, now, risk_until = times
    where = "confirmed_at >= ? AND confirmed_at < ?"
    params: list[Any] = [start, end]
    if warehouse_ids is not None:
        where += f" AND warehouse_id IN ({_marks(warehouse_ids)})"
        params += warehouse_ids
    statuses = _marks(_OPEN)
    params += [*_OPEN, now, risk_until, *_OPEN, now]
    sql = f"""
        WITH base AS (
            SELECT status, confirmed_at, ship_by, shipped_at FROM redemption_order WHERE {where}
        ),
        ranked AS (
            SELECT h, ROW_NUMBER() OVER (ORDER BY h) - 1 AS i, COUNT(*) OVER () AS n
            FROM (SELECT (julianday(shipped_at) - julianday(confirmed_at)) * 24.0 AS h
                  FROM base WHERE shipped_at IS NOT NULL)
        )
        SELECT c.*,
               (SELECT {_interpolated(0.5)} FROM ranked) AS median,
               (SELECT {_interpolated(0.95)} FROM ranked) AS p95
        FROM (
            SELECT COUNT(*) AS confirmed,
                   COUNT(shipped_at) AS shipped,
                   COUNT(*) FILTER (WHERE shipped_at < ship_by) AS on_time,
                   COUNT(*) FILTER (
                       WHERE status IN ({statuses}) AND ship_by > ? AND ship_by < ?) AS at_risk,
                   COUNT(*) FILTER (WHERE status IN ({statuses}) AND ship_by <= ?) AS breached
            FROM base
        ) AS c
    """  # noqa: S608 -- only constant fragments and placeholders are interpolated
    return sql, params


def _interpolated(p: float) -> str:
    """percentile_cont(p) over `ranked` (h, i, n): linear between the two nearest ranks."""
    position = f"({p} * (n - 1))"
    low = f"CAST({position} AS INTEGER)"
    fraction = f"({position} - {low})"
    return (
        f"SUM(h * CASE WHEN i = {low} THEN 1 - {fraction} "
        f"WHEN i = {low} + 1 THEN {fraction} ELSE 0 END)"
    )


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" for _ in values)
