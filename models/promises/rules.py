"""The one rule of a promise with a deadline: the time left, at risk, breached.

An order's ship-by and a ticket's reply-by are the same kind of promise: something owed by
a moment. While it is still owed, it is at risk under `threshold` before its deadline and
breached from the deadline itself on; the two are disjoint, and neither holds once it is
kept. Pure rules: the caller supplies `now`, and every rule works on UTC instants (same
zone arithmetic uses wall-clock time, which is wrong across a DST change).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


def utc(at: datetime, name: str = "datetime") -> datetime:
    """`at` in UTC; raises ValueError for a naive datetime."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {at!r}")
    return at.astimezone(UTC)


def hours_left(due: datetime, *, now: datetime) -> float:
    """The hours from now until the deadline; negative once it has passed."""
    return (utc(due, "due") - utc(now, "now")) / timedelta(hours=1)


def is_breached(due: datetime, *, now: datetime, kept: bool) -> bool:
    """Whether a promise still owed has reached its deadline (now >= due)."""
    # At the deadline itself the promise can no longer be kept *before* it: breached.
    return not kept and utc(now, "now") >= utc(due, "due")


def is_at_risk(due: datetime, *, now: datetime, kept: bool, threshold: timedelta) -> bool:
    """Whether a promise still owed and not yet breached has less than `threshold` left."""
    left = utc(due, "due") - utc(now, "now")
    return not kept and timedelta(0) < left < threshold


@dataclass(frozen=True)
class Urgency:
    hours_left: float
    at_risk: bool
    breached: bool

    @property
    def at_risk_or_breached(self) -> bool:
        """Under the at-risk threshold, or already past the deadline."""
        return self.at_risk or self.breached


def urgency(due: datetime, *, now: datetime, kept: bool, threshold: timedelta) -> Urgency:
    """How close a promise is to its deadline at `now` (at risk and breached are disjoint)."""
    return Urgency(
        hours_left=round(hours_left(due, now=now), 2),
        at_risk=is_at_risk(due, now=now, kept=kept, threshold=threshold),
        breached=is_breached(due, now=now, kept=kept),
    )


def watched(due: datetime, *, at_risk: timedelta) -> tuple[datetime, datetime]:
    """The two moments a promise's watcher looks at it: when it turns at risk, and breaches."""
    return due - at_risk, due
