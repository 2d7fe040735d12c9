"""Property: any sequence of awards, spends, holds, captures, releases, refunds,
adjustments and expiry passes, with time moving on, leaves the audit clean."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from models.errors import InsufficientPoints, InvalidTransition
from models.points import service
from models.points.audit import audit
from models.points.models import PointsAccount, PointsLot
from tests.conftest import empty_all_tables

START = datetime(2026, 12, 20, 12, 0, tzinfo=UTC)  # crosses a new year in Shanghai


@dataclass(frozen=True)
class Award:
    member: str
    amount: int
    days: int | None  # None: the default expiry rule


@dataclass(frozen=True)
class Spend:
    member: str
    amount: int


@dataclass(frozen=True)
class Hold:
    member: str
    amount: int


@dataclass(frozen=True)
class Capture:
    pick: int


@dataclass(frozen=True)
class Release:
    pick: int


@dataclass(frozen=True)
class Refund:
    pick: int


@dataclass(frozen=True)
class Adjust:
    member: str
    delta: int


@dataclass(frozen=True)
class Expire:
    limit: int


@dataclass(frozen=True)
class Wait:
    days: int


members = st.sampled_from(["C1", "C2"])
amounts = st.integers(min_value=1, max_value=400)
picks = st.integers(min_value=0, max_value=8)
operations = st.one_of(
    # Mostly short expiries, so lots expire under holds and spent orders within a run.
    st.builds(Award, members, amounts, st.integers(0, 40).map(lambda days: days or None)),
    st.builds(Spend, members, amounts),
    st.builds(Hold, members, amounts),
    st.builds(Capture, picks),
    st.builds(Release, picks),
    st.builds(Refund, picks),
    st.builds(Adjust, members, st.integers(-400, -1) | st.integers(1, 400)),
    st.builds(Expire, st.integers(1, 4)),
    st.builds(Wait, st.integers(0, 45)),
)


@dataclass
class Run:
    now: datetime = START
    ids: dict[str, int] = field(default_factory=dict)
    holds: list[str] = field(default_factory=list)
    orders: list[str] = field(default_factory=list)
    count: int = 0

    def ref(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}-{self.count}"


async def apply(run: Run, step: object) -> None:
    """Perform one operation; picks choose among the holds or orders made so far."""
    match step:
        case Award(member, amount, days):
            expires_at = run.now + timedelta(days=days) if days else None
            credit = await service.award(
                member_external_id=member,
                amount=amount,
                reason="",
                external_ref=run.ref("award"),
                now=run.now,
                expires_at=expires_at,
            )
            run.ids[member] = credit.entry.member_id
        case Spend(member, amount) if member in run.ids:
            order = run.ref("PM")
            await service.spend(
                member_id=run.ids[member], amount=amount, order_number=order, reason="", now=run.now
            )
            run.orders.append(order)
        case Hold(member, amount) if member in run.ids:
            order = run.ref("PM")
            await service.hold(
                member_id=run.ids[member], amount=amount, order_number=order, now=run.now
            )
            run.holds.append(order)
        case Capture(pick) if run.holds:
            order = run.holds[pick % len(run.holds)]
            await service.capture_hold(order_number=order, now=run.now)
            run.orders.append(order)
        case Release(pick) if run.holds:
            await service.release_hold(order_number=run.holds[pick % len(run.holds)], now=run.now)
        case Refund(pick) if run.orders:
            order = run.orders[pick % len(run.orders)]
            await service.refund(order_number=order, now=run.now, reason="")
        case Adjust(member, delta) if member in run.ids:
            await service.adjust(
                member_external_id=member,
                delta=delta,
                reason="correction",
                external_ref=run.ref("adj"),
                now=run.now,
            )
        case Expire(limit):
            while await service.expire_due(now=run.now, limit=limit):
                pass
        case Wait(days):
            run.now += timedelta(days=days)


async def stale_points(now: datetime) -> int:
    """Unheld points still sitting in lots due at `now`."""
    lots = await PointsLot.filter(expires_at__lte=now).values_list("remaining", "held")
    return sum(remaining - held for remaining, held in lots)


# Both members start with a lot about to expire and one that lasts, so that the steps
# meet expiry under holds and spent orders rather than empty accounts.
PRELUDE = [Award("C1", 300, 3), Award("C1", 300, None), Award("C2", 300, 8), Award("C2", 300, 60)]


@settings(max_examples=40, deadline=None)
@given(steps=st.lists(operations, min_size=10, max_size=40))
async def test_any_sequence_of_operations_keeps_the_ledger_consistent(
    orm: str, steps: list[object]
) -> None:
    # `orm`, not `db`: hypothesis runs many examples in one test, so each cleans up itself.
    await empty_all_tables(orm)
    try:
        run = Run()
        for step in [*PRELUDE, *steps]:
            # A refusal must change nothing; the audit after every step checks that too.
            with contextlib.suppress(InsufficientPoints, InvalidTransition):
                await apply(run, step)
            assert await audit() == [], step
            if isinstance(step, Expire):
                assert await stale_points(run.now) == 0, "due points survived an expiry pass"
        for account in await PointsAccount.all():
            assert 0 <= account.held <= account.balance
    finally:
        await empty_all_tables(orm)
