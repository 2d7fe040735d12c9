"""Staffing simulation: how many agents keep the first-reply promise, in memory.

Tickets arrive evenly through each day. Agents work a daily shift (in the programme's
zone); an agent who is free takes the waiting ticket with the earliest first-reply
deadline (as the queue orders them) and spends `handling` on its first reply, which counts
when it is sent (the end of the handling). A reply started before the shift ends is
finished. The first reply is on time when it is sent before the ticket's deadline
(`rules.TicketPolicy.first_reply` after it arrived). `agents_needed` searches the fewest
agents whose on-time rate reaches the target.
"""

from __future__ import annotations

import heapq
import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Arrivals:
    start: datetime
    days: int
    tickets_per_day: int

    def __iter__(self) -> Iterator[datetime]:
        step = _DAY / max(self.tickets_per_day, 1)
        for day in range(self.days):
            for k in range(self.tickets_per_day):
                yield self.start + day * _DAY + k * step

    @property
    def total(self) -> int:
        return self.days * self.tickets_per_day


@dataclass(frozen=True)
class Shift:
    """When agents work each day, in `timezone` (start > end wraps midnight)."""

    start: time = time(9, 0)
    end: time = time(21, 0)
    timezone: str = "Asia/Shanghai"

    def working(self, at: datetime) -> bool:
        local = at.astimezone(ZoneInfo(self.timezone)).time()
        if self.start == self.end:
            return True
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_working(self, at: datetime) -> datetime:
        """`at` itself within the shift, else the moment the next shift starts."""
        if self.working(at):
            return at
        zone = ZoneInfo(self.timezone)
        local = at.astimezone(zone)
        begins = datetime.combine(local.date(), self.start, tzinfo=zone)
        if begins <= local:
            begins = datetime.combine(local.date() + _DAY, self.start, tzinfo=zone)
        return begins.astimezone(at.tzinfo)


@dataclass(frozen=True)
class Staffing:
    """What a number of agents achieved."""

    agents: int
    tickets: int
    on_time: int
    p95_hours_to_reply: float
    worst_hours_late: float

    @property
    def late(self) -> int:
        return self.tickets - self.on_time

    @property
    def on_time_rate(self) -> float | None:
        return None if self.tickets == 0 else self.on_time / self.tickets


def simulate(
    arrivals: Arrivals, *, agents: int, handling: timedelta, shift: Shift, promise: timedelta
) -> Staffing:
    """Replay the arrivals with `agents` agents; what they achieved."""
    if agents < 1 or handling <= timedelta(0):
        raise ValueError("give at least one agent and a positive handling time")
    incoming = list(arrivals)
    waiting: list[tuple[datetime, int, datetime]] = []  # (deadline, n, arrived)
    free = [(incoming[0] if incoming else arrivals.start, a) for a in range(agents)]
    heapq.heapify(free)
    next_in, on_time, worst = 0, 0, 0.0
    replied: list[float] = []
    while len(replied) < len(incoming):
        at, agent = heapq.heappop(free)
        at = shift.next_working(at)
        while next_in < len(incoming) and incoming[next_in] <= at:
            arrived = incoming[next_in]
            heapq.heappush(waiting, (arrived + promise, next_in, arrived))
            next_in += 1
        if not waiting:
            heapq.heappush(free, (incoming[next_in], agent))
            continue
        deadline, _, arrived = heapq.heappop(waiting)
        sent = at + handling
        replied.append((sent - arrived) / timedelta(hours=1))
        if sent < deadline:
            on_time += 1
        else:
            worst = max(worst, (sent - deadline) / timedelta(hours=1))
        heapq.heappush(free, (sent, agent))
    if len(replied) > 1:
        p95 = statistics.quantiles(replied, n=20, method="inclusive")[-1]
    else:
        p95 = replied[0] if replied else 0.0
    return Staffing(agents, len(incoming), on_time, round(p95, 1), round(worst, 1))


def agents_needed(
    arrivals: Arrivals,
    *,
    handling: timedelta,
    shift: Shift,
    promise: timedelta,
    target: float,
    most: int = 10_000,
) -> Staffing | None:
    """The fewest agents whose on-time rate reaches `target` (None: not even `most`)."""
    low, high = 1, 1
    while True:
        found = simulate(arrivals, agents=high, handling=handling, shift=shift, promise=promise)
        if (found.on_time_rate or 1.0) >= target:
            break
        if high >= most:
            return None
        low, high = high + 1, min(high * 2, most)
    best = found
    while low < high:
        middle = (low + high) // 2
        tried = simulate(arrivals, agents=middle, handling=handling, shift=shift, promise=promise)
        if (tried.on_time_rate or 1.0) >= target:
            best, high = tried, middle
        else:
            low = middle + 1
    return best


def report(
    arrivals: Arrivals,
    results: list[Staffing],
    needed: Staffing | None,
    *,
    handling: timedelta,
    shift: Shift,
    promise: timedelta,
    target: float,
) -> str:
    """A table an operator can read before a campaign."""
    minutes = handling / timedelta(minutes=1)
    lines = [
        f"tickets: {arrivals.days} days x {arrivals.tickets_per_day}/day = {arrivals.total} "
        f"from {arrivals.start:%Y-%m-%d %H:%M %Z}; first reply promised within "
        f"{promise / timedelta(hours=1):g} h",
        f"agents work {shift.start:%H:%M}-{shift.end:%H:%M} ({shift.timezone}) every day; "
        f"{minutes:g} min per first reply",
        f"workload: {_workload(arrivals, handling):.1f} h of replies a day = "
        f"{_workload(arrivals, handling) / _shift_hours(shift):.1f} agents' shifts (fewer "
        "fall behind over a longer campaign)",
        "",
        f"{'agents':>6}{'on time':>9}{'late':>7}{'on-time rate':>14}{'p95 to reply':>14}"
        f"{'worst late':>12}",
    ]
    for r in results:
        rate = "-" if r.on_time_rate is None else f"{r.on_time_rate:.1%}"
        lines.append(
            f"{r.agents:>6}{r.on_time:>9}{r.late:>7}{rate:>14}{r.p95_hours_to_reply:>12.1f} h"
            f"{r.worst_hours_late:>10.1f} h"
        )
    if needed is None:
        lines.append(f"no number of agents answers {target:.1%} on time with this shift")
    else:
        lines.append(f"agents needed to answer {target:.1%} on time: {needed.agents}")
    return "\n".join(lines)


def _workload(arrivals: Arrivals, handling: timedelta) -> float:
    return arrivals.tickets_per_day * handling / timedelta(hours=1)


def _shift_hours(shift: Shift) -> float:
    start = datetime.combine(datetime(2000, 1, 1), shift.start)
    end = datetime.combine(datetime(2000, 1, 1), shift.end)
    length = (end - start) % _DAY
    return (length or _DAY) / timedelta(hours=1)


def parse_shift(text: str, *, timezone: str) -> Shift:
    """`HH:MM-HH:MM`; raises ValueError."""
    start, sep, end = text.partition("-")
    if not sep:
        raise ValueError(f"shift {text!r} is not HH:MM-HH:MM")
    return Shift(time.fromisoformat(start.strip()), time.fromisoformat(end.strip()), timezone)
