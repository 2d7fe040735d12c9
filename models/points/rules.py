"""The pure rules of points: when lots expire, which lots pay, where returned points go,
who sees an entry.

No I/O and no clock: `now` is always an argument, and every datetime is timezone-aware.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TypeVar
from zoneinfo import ZoneInfo

from models import validation
from models.actors import Actor
from models.errors import InsufficientPoints, InvalidInput
from models.points.models import EntryKind

K = TypeVar("K")
DEFAULT_TIMEZONE = "Asia/Shanghai"
GRACE_PERIOD = timedelta(days=30)
MAX_AMOUNT = 10_000_000
# Balances stay inside GraphQL's 32-bit Int (2,147,483,647) with room for refunds.
MAX_BALANCE = 2_000_000_000


@dataclass(frozen=True)
class LotState:
    """What the rules need to know of a lot."""

    id: int
    remaining: int
    held: int
    expires_at: datetime
    settled: bool = False

    def is_live(self, now: datetime) -> bool:
        """Spendable at `now`: not expired, and not already dealt with by the expiry pass."""
        return self.expires_at > now and not self.settled

    def usable(self, now: datetime) -> int:
        return self.remaining - self.held if self.is_live(now) else 0


@dataclass(frozen=True)
class Take:
    """`amount` points taken from (or given back to) lot `lot_id`."""

    lot_id: int
    amount: int


@dataclass(frozen=True)
class Returned:
    """Points of a debit or a hold coming back, with the lot they were drawn from."""

    lot: LotState
    amount: int


@dataclass(frozen=True)
class ReturnPlan:
    """Returned points: back into lots still live, or out of expired lots into a grace lot."""

    to_lots: list[Take]
    from_expired: list[Take]
    grace_expires_at: datetime

    @property
    def grace_amount(self) -> int:
        return sum(take.amount for take in self.from_expired)


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment


def default_expiry(now: datetime, *, timezone: str = DEFAULT_TIMEZONE) -> datetime:
    """Points earned in local year Y expire when local 1 January of Y+2 begins (UTC)."""
    zone = ZoneInfo(timezone)
    year = _aware(now, "now").astimezone(zone).year
    return datetime(year + 2, 1, 1, tzinfo=zone).astimezone(UTC)


def credit_expiry(
    expires_at: datetime | None, *, now: datetime, timezone: str = DEFAULT_TIMEZONE
) -> datetime:
    """The expiry of a new lot: the one given (zoned, in the future) or the default rule."""
    if expires_at is None:
        return default_expiry(now, timezone=timezone)
    expires_at = validation.moment(expires_at, field="expires_at")
    if expires_at <= _aware(now, "now"):
        raise InvalidInput("expires_at must be in the future", field="expires_at")
    return expires_at


def grace_expiry(now: datetime) -> datetime:
    """Points whose lot expired meanwhile come back with 30 days to use them."""
    return _aware(now, "now").astimezone(UTC) + GRACE_PERIOD


def check_award(amount: int) -> int:
    """An award is 1 to 10,000,000 points; raises InvalidInput."""
    if not 1 <= amount <= MAX_AMOUNT:
        raise InvalidInput(f"amount must be between 1 and {MAX_AMOUNT:,}", field="amount")
    return amount


def past_ceiling(balance: int, credits: Iterable[tuple[K, int]]) -> set[K]:
    """The credits, as (key, amount) in order from `balance`, that are refused: each one that
    would take the balance past `MAX_BALANCE` (a later, smaller one may still fit)."""
    refused: set[K] = set()
    for key, amount in credits:
        if balance + amount > MAX_BALANCE:
            refused.add(key)
        else:
            balance += amount
    return refused


def ceiling_refusal() -> InvalidInput:
    """Why `past_ceiling` refused a credit, as `award` raises it."""
    return InvalidInput(f"the member's balance would pass {MAX_BALANCE:,} points", field="amount")


def check_adjustment(delta: int) -> int:
    """An adjustment is non-zero and at most 10,000,000 points either way; raises InvalidInput."""
    if delta == 0 or abs(delta) > MAX_AMOUNT:
        raise InvalidInput(
            f"delta must be non-zero and between -{MAX_AMOUNT:,} and {MAX_AMOUNT:,}",
            field="delta",
        )
    return delta


def clean_member_external_id(value: str) -> str:
    """A member's externalId as awards name it; raises InvalidInput."""
    return validation.identifier(value, field="member_external_id", max_length=64)


def clean_external_ref(value: str) -> str:
    """A credit's externalRef, which credits once; raises InvalidInput."""
    return validation.identifier(value, field="external_ref", max_length=128)


@dataclass(frozen=True)
class RefUse:
    """What an external_ref credits (or debits): whose points, by how much, of which kind."""

    member_external_id: str
    delta: int
    kind: EntryKind


class RefReuse(StrEnum):
    """What a new use of a ref the ledger already holds is."""

    REPLAYED = "replayed"
    CONFLICT = "conflict"


def reuse_of(earlier: RefUse, wanted: RefUse) -> RefReuse:
    """A ref books once: the same member, delta and kind again replays the earlier entry,
    anything else conflicts with it (`credits_postgres.REF_REUSE` is the SQL form)."""
    return RefReuse.REPLAYED if earlier == wanted else RefReuse.CONFLICT


def clean_reason(value: str, *, required: bool = False) -> str:
    """A reason of at most 200 characters; raises InvalidInput."""
    return validation.text(value, field="reason", max_length=200, required=required)


def clean_order_number(value: str) -> str:
    """An order number as orders issue them; raises InvalidInput."""
    return validation.identifier(value, field="order_number", max_length=32)


def check_debit(amount: int) -> int:
    """A debit or a hold takes a positive number of points; raises InvalidInput."""
    if amount < 1:
        raise InvalidInput("amount must be positive", field="amount")
    return amount


def plan_draws(lots: Iterable[LotState], amount: int, *, now: datetime) -> list[Take]:
    """Take `amount` from the unheld points of live lots, soonest expiry first, then lot id.

    Raises InsufficientPoints when the live lots hold less than `amount` unheld points.
    """
    live = sorted(
        (lot for lot in lots if lot.usable(now) > 0), key=lambda lot: (lot.expires_at, lot.id)
    )
    available = sum(lot.usable(now) for lot in live)
    if amount > available:
        raise InsufficientPoints(available=available, required=amount)
    plan: list[Take] = []
    left = amount
    for lot in live:
        if left == 0:
            break
        taken = min(left, lot.usable(now))
        plan.append(Take(lot.id, taken))
        left -= taken
    return plan


def plan_return(returned: Iterable[Returned], *, now: datetime) -> ReturnPlan:
    """Points go back to their lot while it is live; from an expired lot, to a grace lot."""
    live: dict[int, int] = {}
    expired: dict[int, int] = {}
    for item in returned:
        target = live if item.lot.is_live(now) else expired
        target[item.lot.id] = target.get(item.lot.id, 0) + item.amount
    return ReturnPlan(
        to_lots=[Take(lot_id, amount) for lot_id, amount in live.items()],
        from_expired=[Take(lot_id, amount) for lot_id, amount in expired.items()],
        grace_expires_at=grace_expiry(now),
    )


def plan_partial_return(
    returned: Iterable[Returned], *, already: int, amount: int, now: datetime
) -> ReturnPlan:
    """`amount` more of a debit's points given back, after `already` were: refunds take the
    debit's draws latest expiry first (the longest-lived lots come back first), each one
    where the one before stopped, so several refunds of one debit never return a point
    twice and all of them together return exactly what it drew."""
    ordered = sorted(returned, key=lambda r: (r.lot.expires_at, r.lot.id), reverse=True)
    skip, left, parts = already, amount, []
    for item in ordered:
        usable = item.amount - min(skip, item.amount)
        skip = max(skip - item.amount, 0)
        taken = min(usable, left)
        if taken > 0:
            parts.append(Returned(item.lot, taken))
            left -= taken
    if left > 0:
        raise InvalidInput(f"only {amount - left} points are left to refund", field="points")
    return plan_return(parts, now=now)


def expirable(lot: LotState, *, now: datetime) -> int:
    """What the expiry pass takes from a due lot: its unheld remaining points."""
    if lot.settled or lot.expires_at > now:
        return 0
    return lot.remaining - lot.held


@dataclass(frozen=True)
class EntryAccess:
    """Whose ledger entries a caller may see: every member's, one member's, or none."""

    every_member: bool = False
    member: str | None = None  # the one member's externalId

    @property
    def nothing(self) -> bool:
        return not self.every_member and self.member is None


def entry_access(viewer: Actor | None) -> EntryAccess:
    """Admins see every member's entries, a member their own, anyone else none."""
    if viewer is None:
        return EntryAccess()
    if viewer.is_admin:
        return EntryAccess(every_member=True)
    return EntryAccess(member=viewer.subject) if viewer.is_member else EntryAccess()
