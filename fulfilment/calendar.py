"""Warehouse calendars and the seven-day shipping promise: pure rules, the caller supplies `now`.

An order's ship-by is a promise like any other with a deadline: the time left, at risk and
breached are `models.promises.rules`, read here in the words of shipping."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from models.promises import rules as promises

__all__ = [
    "DEFAULT_AT_RISK_THRESHOLD",
    "DEFAULT_SHIP_WITHIN",
    "WarehouseCalendar",
    "candidate_days",
    "day_end",
    "first_free_day",
    "hours_left",
    "is_at_risk",
    "is_breached",
    "is_working_day",
    "local_day",
    "parse_closed_dates",
    "ship_by",
]

DEFAULT_SHIP_WITHIN = timedelta(days=7)
DEFAULT_AT_RISK_THRESHOLD = timedelta(hours=48)
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class WarehouseCalendar:
    """A warehouse's time zone, orders it can ship per working day, and dates it ships nothing."""

    timezone: str
    daily_capacity: int
    closed_dates: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        """Refuse an unknown zone or a negative capacity; normalise closed dates to a frozenset."""
        _load_zone(self.timezone)
        if self.daily_capacity < 0:
            raise ValueError(f"daily_capacity must be >= 0, got {self.daily_capacity}")
        # object.__setattr__ because the dataclass is frozen; this also rejects datetimes.
        object.__setattr__(self, "closed_dates", parse_closed_dates(self.closed_dates))

    @property
    def zone(self) -> ZoneInfo:
        """The warehouse's time zone (ZoneInfo caches instances, so this is cheap)."""
        return ZoneInfo(self.timezone)


def _load_zone(key: str) -> ZoneInfo:
    """Return the ZoneInfo for key, raising ValueError for anything zoneinfo cannot load."""
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValueError(f"unknown time zone: {key!r}") from exc


def _utc(at: datetime, name: str = "datetime") -> datetime:
    """Return at in UTC, refusing naive datetimes."""
    # Same-tzinfo arithmetic and comparison use wall-clock time, which is wrong across DST,
    # so every rule works on UTC instants.
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {at!r}")
    return at.astimezone(UTC)


def local_day(calendar: WarehouseCalendar, at: datetime) -> date:
    """Return the warehouse-local date of the instant at."""
    return _utc(at, "at").astimezone(calendar.zone).date()


def day_end(calendar: WarehouseCalendar, day: date) -> datetime:
    """Return the instant (in UTC) the warehouse-local day ends: the next local midnight."""
    # fold=0 resolves a midnight skipped by a DST gap to the transition instant, and a midnight
    # repeated by a fall-back overlap to its first occurrence: both are when the date turns.
    midnight = datetime.combine(day + _ONE_DAY, time(0), tzinfo=calendar.zone)
    return midnight.astimezone(UTC)


def is_working_day(calendar: WarehouseCalendar, day: date) -> bool:
    """Return whether the warehouse ships on day: it is not closed and has capacity."""
    return calendar.daily_capacity > 0 and day not in calendar.closed_dates


def ship_by(confirmed_at: datetime, *, within: timedelta = DEFAULT_SHIP_WITHIN) -> datetime:
    """Return the deadline (in UTC) by which an order confirmed at confirmed_at must ship."""
    if within <= timedelta(0):
        raise ValueError(f"within must be positive, got {within}")
    # Elapsed time, not wall-clock days: a DST change in between must not move the deadline.
    return _utc(confirmed_at, "confirmed_at") + within


def _days_ending_by(
    calendar: WarehouseCalendar, now: datetime, deadline: datetime
) -> Iterator[date]:
    """Yield every local day from today onward whose end is no later than deadline."""
    day, limit = local_day(calendar, now), _utc(deadline, "deadline")
    while day_end(calendar, day) <= limit:
        yield day
        day += _ONE_DAY


def candidate_days(calendar: WarehouseCalendar, *, now: datetime, deadline: datetime) -> list[date]:
    """Return, in order, the working days from today onward that end no later than deadline."""
    return [d for d in _days_ending_by(calendar, now, deadline) if is_working_day(calendar, d)]


def first_free_day(
    calendar: WarehouseCalendar,
    *,
    now: datetime,
    deadline: datetime,
    booked: Mapping[date, int],
) -> date | None:
    """Return the earliest candidate day with a free slot, or None if every one is full."""
    days = candidate_days(calendar, now=now, deadline=deadline)
    return next((d for d in days if booked.get(d, 0) < calendar.daily_capacity), None)


def hours_left(ship_by: datetime, *, now: datetime) -> float:
    """Return the hours from now until ship_by; negative once the deadline has passed."""
    return promises.hours_left(ship_by, now=now)


def is_breached(ship_by: datetime, *, now: datetime, shipped: bool) -> bool:
    """Return whether an unshipped order has reached its deadline (now >= ship_by)."""
    return promises.is_breached(ship_by, now=now, kept=shipped)


def is_at_risk(
    ship_by: datetime,
    *,
    now: datetime,
    shipped: bool,
    threshold: timedelta = DEFAULT_AT_RISK_THRESHOLD,
) -> bool:
    """Return whether an unshipped, not yet breached order has less than threshold left."""
    return promises.is_at_risk(ship_by, now=now, kept=shipped, threshold=threshold)


def parse_closed_dates(values: Iterable[str | date]) -> frozenset[date]:
    """Return the closed dates as a frozenset, accepting dates and ISO 'YYYY-MM-DD' strings."""
    return frozenset(_parse_closed_date(value) for value in values)


def _parse_closed_date(value: object) -> date:
    """Return value as a date, raising ValueError that names the offending value."""
    # datetime subclasses date but never equals one, so it would silently close nothing.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"invalid closed date: {value!r}") from exc
    raise ValueError(f"invalid closed date: {value!r}")
