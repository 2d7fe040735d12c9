"""The digital lines' part of the SLA report: how well the ten-minute promise was kept by
the top-ups placed in a window (an e-voucher line is delivered as its order is placed, so
its promise cannot be missed: it is counted, not timed).

One aggregate statement over `top_up` (and a count of the window's code lines); the
percentiles of the seconds to delivery are the reports' one rule (`models.percentiles`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from models import percentiles, sql, validation
from models.topups.models import TopUpStatus

_DELIVERED = TopUpStatus.DELIVERED.value
_REFUNDED = f"'{TopUpStatus.FAILED.value}', '{TopUpStatus.EXPIRED.value}'"


@dataclass(frozen=True)
class DigitalReport:
    top_ups: int  # placed in the window
    delivered: int
    delivered_on_time: int  # by their deliverBy
    on_time_rate: float | None  # of those that ended (delivered or refunded); None if none
    median_seconds_to_deliver: float | None
    p95_seconds_to_deliver: float | None
    refunded: int  # FAILED or EXPIRED: their points went back
    pending: int
    vouchers_delivered: int  # e-voucher lines placed in the window (each with its code)


def _report_sql(start: str, end: str, *, postgres: bool) -> str:
    seconds = f"({percentiles.hours('created_at', 'finished_at', postgres=postgres)} * 3600.0)"
    ranked = (
        ""
        if postgres
        else percentiles.ranked("ranked", values=seconds, source="base", where="delivered")
    )

    def percentile(p: float) -> str:
        of = f"CASE WHEN delivered THEN {seconds} END"
        return percentiles.percentile(p, of=of, ranked="ranked", postgres=postgres)

    return f"""
        WITH base AS (
            SELECT status, created_at, finished_at, deliver_by,
                   status = '{_DELIVERED}' AS delivered
            FROM top_up WHERE created_at >= {start} AND created_at < {end}
        ){ranked}
        SELECT COUNT(*) AS top_ups,
               COUNT(*) FILTER (WHERE delivered) AS delivered,
               COUNT(*) FILTER (WHERE delivered AND finished_at <= deliver_by) AS on_time,
               COUNT(*) FILTER (WHERE status IN ({_REFUNDED})) AS refunded,
               COUNT(*) FILTER (WHERE status = '{TopUpStatus.PENDING.value}') AS pending,
               {percentile(0.5)} AS median,
               {percentile(0.95)} AS p95,
               (SELECT COUNT(*) FROM voucher_code
                WHERE assigned_at >= {start} AND assigned_at < {end}) AS vouchers
        FROM base
    """  # noqa: S608 -- only constant fragments and placeholders are interpolated


async def digital_report(*, start: datetime, end: datetime) -> DigitalReport:
    """The top-ups placed in [start, end) (the caller checked the window)."""
    start = validation.moment(start, field="from").astimezone(UTC)
    end = validation.moment(end, field="to").astimezone(UTC)
    p = sql.Params()
    text = _report_sql(p(start), p(end), postgres=sql.on_postgres())
    [row] = await sql.fetch(text, *p.values)
    return _report(row)


def _report(row: dict[str, Any]) -> DigitalReport:
    delivered, on_time = int(row["delivered"] or 0), int(row["on_time"] or 0)
    refunded = int(row["refunded"] or 0)
    ended = delivered + refunded
    return DigitalReport(
        top_ups=int(row["top_ups"] or 0),
        delivered=delivered,
        delivered_on_time=on_time,
        on_time_rate=None if ended == 0 else round(on_time / ended, 4),
        median_seconds_to_deliver=_seconds(row["median"]),
        p95_seconds_to_deliver=_seconds(row["p95"]),
        refunded=refunded,
        pending=int(row["pending"] or 0),
        vouchers_delivered=int(row["vouchers"] or 0),
    )


def _seconds(value: object) -> float | None:
    return None if value is None else round(float(str(value)), 1)
