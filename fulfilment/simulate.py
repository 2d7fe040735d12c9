"""Capacity simulation: replay demand against warehouse calendars, in memory.

Orders arrive evenly through each day. Two policies are replayed with the rules the service
uses (`fulfilment.calendar`):

- with admission (the service): an order books the earliest working day with room that
  ends before its ship-by deadline, in whichever warehouse has the earliest such day; when
  none has one, it is refused (CAPACITY_EXHAUSTED). Every accepted order ships on time.
- without admission: every order is accepted and takes the next working day with room, first
  come first served, however late that is.

A parcel counts as shipped when its booked day ends, as the planner assumes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from fulfilment import calendar

_DAY = timedelta(days=1)


@dataclass(frozen=True)
class SimWarehouse:
    code: str
    calendar: calendar.WarehouseCalendar


@dataclass(frozen=True)
class Demand:
    start: datetime
    days: int
    orders_per_day: int

    def arrivals(self) -> Iterator[datetime]:
        """Each order's arrival instant, evenly spread through each day."""
        step = _DAY / max(self.orders_per_day, 1)
        for day in range(self.days):
            for k in range(self.orders_per_day):
                yield self.start + day * _DAY + k * step


@dataclass
class PolicyResult:
    policy: str
    demand: int = 0
    accepted: int = 0
    on_time: int = 0
    worst_hours_late: float = 0.0
    refusals: Counter[int] = field(default_factory=Counter)  # per day of the demand

    @property
    def refused(self) -> int:
        return sum(self.refusals.values())

    @property
    def late(self) -> int:
        return self.accepted - self.on_time

    @property
    def on_time_rate(self) -> float | None:
        """On time out of accepted orders."""
        return None if self.accepted == 0 else self.on_time / self.accepted

    @property
    def served_on_time_rate(self) -> float | None:
        """On time out of all demand: what members experienced."""
        return None if self.demand == 0 else self.on_time / self.demand

    def ship(self, shipped_at: datetime, deadline: datetime) -> None:
        self.accepted += 1
        if shipped_at <= deadline:
            self.on_time += 1
        else:
            late = (shipped_at - deadline) / timedelta(hours=1)
            self.worst_hours_late = max(self.worst_hours_late, late)


def simulate(
    warehouses: Sequence[SimWarehouse], demand: Demand, *, within: timedelta
) -> tuple[PolicyResult, PolicyResult]:
    """Replay the demand with and without the admission rule."""
    return _with_admission(warehouses, demand, within), _without_admission(
        warehouses, demand, within
    )


def _with_admission(
    warehouses: Sequence[SimWarehouse], demand: Demand, within: timedelta
) -> PolicyResult:
    outcome = PolicyResult("with admission")
    booked: dict[str, Counter[date]] = {w.code: Counter() for w in warehouses}
    for index, at in enumerate(demand.arrivals()):
        outcome.demand += 1
        deadline = calendar.ship_by(at, within=within)
        offers = [
            (day, w)
            for w in warehouses
            if (
                day := calendar.first_free_day(
                    w.calendar, now=at, deadline=deadline, booked=booked[w.code]
                )
            )
            is not None
        ]
        if not offers:
            outcome.refusals[index // demand.orders_per_day] += 1
            continue
        day, chosen = min(offers, key=lambda offer: (offer[0], offer[1].code))
        booked[chosen.code][day] += 1
        outcome.ship(calendar.day_end(chosen.calendar, day), deadline)
    return outcome


def _without_admission(
    warehouses: Sequence[SimWarehouse], demand: Demand, within: timedelta
) -> PolicyResult:
    outcome = PolicyResult("without admission")
    open_days = [w for w in warehouses if w.calendar.daily_capacity > 0]
    booked: dict[str, Counter[date]] = {w.code: Counter() for w in open_days}
    for at in demand.arrivals():
        outcome.demand += 1
        if not open_days:
            outcome.refusals[0] += 1  # nothing can ever ship: a refusal in any policy
            continue
        offers = [(_next_day(w, at, booked[w.code]), w) for w in open_days]
        day, chosen = min(offers, key=lambda offer: (offer[0], offer[1].code))
        booked[chosen.code][day] += 1
        outcome.ship(calendar.day_end(chosen.calendar, day), calendar.ship_by(at, within=within))
    return outcome


def _next_day(warehouse: SimWarehouse, at: datetime, booked: Counter[date]) -> date:
    """The first working day from `at` with room, however far away."""
    cal = warehouse.calendar
    day = calendar.local_day(cal, at)
    while not calendar.is_working_day(cal, day) or booked[day] >= cal.daily_capacity:
        day += _DAY
    return day


def parse_warehouses(specs: Sequence[str], *, default_zone: str) -> list[SimWarehouse]:
    """`CODE=CAPACITY[@ZONE]` specs (comma-separated or repeated); raises ValueError."""
    found: list[SimWarehouse] = []
    for spec in (part.strip() for item in specs for part in item.split(",")):
        if not spec:
            continue
        code, _, rest = spec.partition("=")
        capacity, _, zone = rest.partition("@")
        if not code.strip() or not capacity.strip().isdigit():
            raise ValueError(f"warehouse {spec!r} is not CODE=CAPACITY[@ZONE]")
        cal = calendar.WarehouseCalendar(zone.strip() or default_zone, int(capacity))
        found.append(SimWarehouse(code.strip().upper(), cal))
    return found


def report(
    warehouses: Sequence[SimWarehouse], demand: Demand, outcomes: Sequence[PolicyResult]
) -> str:
    """A table an operator can read before a campaign."""
    capacity = sum(w.calendar.daily_capacity for w in warehouses)
    sites = ", ".join(f"{w.code} ({w.calendar.daily_capacity})" for w in warehouses)
    lines = [
        f"demand: {demand.days} days x {demand.orders_per_day} orders/day "
        f"= {demand.days * demand.orders_per_day} orders from {demand.start:%Y-%m-%d %H:%M %Z}",
        f"capacity: {capacity} orders per working day across {sites}",
        "",
        f"{'policy':<18}{'accepted':>10}{'refused':>9}{'on time':>9}{'late':>7}"
        f"{'on-time rate':>14}{'of demand':>11}{'worst late':>12}",
    ]
    for o in outcomes:
        lines.append(
            f"{o.policy:<18}{o.accepted:>10}{o.refused:>9}{o.on_time:>9}{o.late:>7}"
            f"{_pct(o.on_time_rate):>14}{_pct(o.served_on_time_rate):>11}"
            f"{o.worst_hours_late / 24:>10.1f} d"
        )
    for o in outcomes:
        if o.refusals:
            first = min(o.refusals)
            lines.append(
                f"{o.policy}: first refusal on day {first + 1}; refusals per day: "
                + " ".join(f"d{d + 1}={n}" for d, n in sorted(o.refusals.items()))
            )
    return "\n".join(lines)


def _pct(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.1%}"
