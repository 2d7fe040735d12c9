"""The points services on the real database: lots, spending, refunds, holds, expiry, replays."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from models.errors import (
    IdempotencyConflict,
    InsufficientPoints,
    InvalidInput,
    InvalidTransition,
    NotFound,
)
from models.members.models import Member
from models.points import reads, service
from models.points.audit import audit
from models.points.models import EntryKind, HoldStatus, PointsAccount, PointsEntry, PointsLot

NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
DAY = timedelta(days=1)


async def give(
    member: str, amount: int, ref: str, *, expires_in: timedelta | None = None, now: datetime = NOW
) -> int:
    """Award points and return the member's row id."""
    credit = await service.award(
        member_external_id=member,
        amount=amount,
        reason="bill",
        external_ref=ref,
        now=now,
        expires_at=now + expires_in if expires_in else None,
    )
    return credit.entry.member_id


async def totals(member_id: int) -> tuple[int, int]:
    account = await PointsAccount.get(member_id=member_id)
    return account.balance, account.held


async def lots_of(member_id: int) -> list[tuple[int, int, datetime]]:
    """(remaining, held, expires_at) of each lot, oldest lot first."""
    rows = (
        await PointsLot.filter(member_id=member_id)
        .order_by("id")
        .values_list("remaining", "held", "expires_at")
    )
    return [(r, h, e) for r, h, e in rows]


async def assert_audit_clean() -> None:
    assert [d.describe() for d in await audit()] == []


async def test_award_to_unknown_member_creates_the_member_with_a_default_expiry_lot(
    db: str,
) -> None:
    member_id = await give("C-NEW", 500, "bill-1")
    assert (await Member.get(id=member_id)).external_id == "C-NEW"
    assert await totals(member_id) == (500, 0)
    # 1 June 2026 in Shanghai: expires when 1 January 2028 begins there.
    assert await lots_of(member_id) == [(500, 0, datetime(2027, 12, 31, 16, tzinfo=UTC))]
    await assert_audit_clean()


async def test_award_with_past_expiry_is_invalid_and_credits_nothing(db: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        await give("C1", 10, "bill-1", expires_in=-DAY)
    assert caught.value.field == "expires_at"
    assert await PointsEntry.all().count() == 0


async def test_spending_takes_the_lot_expiring_first(db: str) -> None:
    member_id = await give("C1", 100, "late", expires_in=300 * DAY)
    await give("C1", 100, "soon", expires_in=10 * DAY)
    entry = await service.spend(
        member_id=member_id, amount=150, order_number="PM-1", reason="gift", now=NOW
    )
    assert (entry.kind, entry.delta) == (EntryKind.REDEEM, -150)
    assert [lot[0] for lot in await lots_of(member_id)] == [50, 0]
    assert await totals(member_id) == (50, 0)
    await assert_audit_clean()


async def test_spending_more_than_available_changes_nothing(db: str) -> None:
    member_id = await give("C1", 100, "bill-1")
    with pytest.raises(InsufficientPoints) as caught:
        await service.spend(
            member_id=member_id, amount=101, order_number="PM-1", reason="", now=NOW
        )
    assert (caught.value.available, caught.value.required) == (100, 101)
    assert await totals(member_id) == (100, 0)
    assert await PointsEntry.filter(kind=EntryKind.REDEEM).count() == 0


async def test_refund_puts_points_back_into_their_lots_with_their_expiry(db: str) -> None:
    member_id = await give("C1", 100, "late", expires_in=300 * DAY)
    await give("C1", 100, "soon", expires_in=10 * DAY)
    before = await lots_of(member_id)
    await service.spend(member_id=member_id, amount=150, order_number="PM-1", reason="", now=NOW)
    refunded = await service.refund(order_number="PM-1", now=NOW + DAY, reason="cancelled")
    assert refunded is not None
    assert (refunded.kind, refunded.delta, refunded.order_number) == (
        EntryKind.REFUND,
        150,
        "PM-1",
    )
    assert await lots_of(member_id) == before
    again = await service.refund(order_number="PM-1", now=NOW + 2 * DAY, reason="again")
    assert again is not None
    assert again.id == refunded.id
    assert await totals(member_id) == (200, 0)
    assert await service.refund(order_number="PM-NONE", now=NOW, reason="") is None
    await assert_audit_clean()


async def test_refund_after_the_lot_expired_comes_back_with_thirty_days(db: str) -> None:
    member_id = await give("C1", 100, "soon", expires_in=10 * DAY)
    await service.spend(member_id=member_id, amount=100, order_number="PM-1", reason="", now=NOW)
    assert await service.expire_due(now=NOW + 11 * DAY) == 1
    later = NOW + 20 * DAY
    await service.refund(order_number="PM-1", now=later, reason="late cancel")
    assert await lots_of(member_id) == [
        (0, 0, NOW + 10 * DAY),
        (100, 0, later + 30 * DAY),
    ]
    assert await totals(member_id) == (100, 0)
    await assert_audit_clean()


async def test_hold_reserves_points_and_capture_turns_it_into_a_redeem(db: str) -> None:
    member_id = await give("C1", 100, "bill-1")
    held = await service.hold(member_id=member_id, amount=60, order_number="PM-1", now=NOW)
    assert held.status is HoldStatus.OPEN
    assert await totals(member_id) == (100, 60)
    with pytest.raises(InsufficientPoints) as caught:
        await service.spend(member_id=member_id, amount=41, order_number="PM-2", reason="", now=NOW)
    assert caught.value.available == 40
    entry = await service.capture_hold(order_number="PM-1", now=NOW + DAY)
    assert (entry.kind, entry.delta) == (EntryKind.REDEEM, -60)
    assert await totals(member_id) == (40, 0)
    assert (await service.capture_hold(order_number="PM-1", now=NOW + 2 * DAY)).id == entry.id
    with pytest.raises(InvalidTransition):
        await service.release_hold(order_number="PM-1", now=NOW)
    assert await totals(member_id) == (40, 0)
    await assert_audit_clean()


async def test_captured_hold_can_be_refunded_into_its_lots(db: str) -> None:
    member_id = await give("C1", 100, "bill-1")
    await service.hold(member_id=member_id, amount=70, order_number="PM-1", now=NOW)
    await service.capture_hold(order_number="PM-1", now=NOW)
    await service.refund(order_number="PM-1", now=NOW, reason="cancelled")
    assert [lot[:2] for lot in await lots_of(member_id)] == [(100, 0)]
    await assert_audit_clean()


async def test_held_points_are_not_reported_as_expiring(db: str) -> None:
    member_id = await give("C1", 100, "bill-1", expires_in=10 * DAY)
    await service.hold(member_id=member_id, amount=60, order_number="PM-1", now=NOW)
    expiring = await reads.expiring_points(member_id=member_id, now=NOW, within_days=30)
    assert [(e.amount, e.expires_at) for e in expiring] == [(40, NOW + 10 * DAY)]


async def test_spending_or_holding_for_an_unknown_member_is_not_found(db: str) -> None:
    with pytest.raises(NotFound):
        await service.spend(member_id=999_999, amount=1, order_number="PM-1", reason="", now=NOW)
    with pytest.raises(NotFound):
        await service.hold(member_id=999_999, amount=1, order_number="PM-2", now=NOW)


async def test_release_gives_held_points_back_once(db: str) -> None:
    member_id = await give("C1", 100, "bill-1")
    await service.hold(member_id=member_id, amount=60, order_number="PM-1", now=NOW)
    await service.release_hold(order_number="PM-1", now=NOW)
    await service.release_hold(order_number="PM-1", now=NOW)
    assert await totals(member_id) == (100, 0)
    with pytest.raises(InvalidTransition):
        await service.capture_hold(order_number="PM-1", now=NOW)
    with pytest.raises(NotFound):
        await service.release_hold(order_number="PM-NONE", now=NOW)
    await assert_audit_clean()


async def test_held_points_survive_expiry_and_come_back_in_a_grace_lot(db: str) -> None:
    member_id = await give("C1", 100, "bill-1", expires_in=DAY)
    await service.hold(member_id=member_id, amount=60, order_number="PM-1", now=NOW)
    assert await service.expire_due(now=NOW + 2 * DAY) == 1
    assert await totals(member_id) == (60, 60)
    await assert_audit_clean()
    await service.release_hold(order_number="PM-1", now=NOW + 3 * DAY)
    assert await totals(member_id) == (60, 0)
    assert await lots_of(member_id) == [(0, 0, NOW + DAY), (60, 0, NOW + 33 * DAY)]
    await service.spend(
        member_id=member_id, amount=60, order_number="PM-2", reason="", now=NOW + 4 * DAY
    )
    await assert_audit_clean()


async def test_held_points_of_an_expired_lot_can_still_be_captured(db: str) -> None:
    member_id = await give("C1", 100, "bill-1", expires_in=DAY)
    await service.hold(member_id=member_id, amount=60, order_number="PM-1", now=NOW)
    await service.expire_due(now=NOW + 2 * DAY)
    await service.capture_hold(order_number="PM-1", now=NOW + 2 * DAY)
    assert await totals(member_id) == (0, 0)
    await assert_audit_clean()


async def test_expire_due_expires_each_due_lot_once_with_one_entry_per_member(db: str) -> None:
    first = await give("C1", 100, "a", expires_in=DAY)
    await give("C1", 50, "b", expires_in=2 * DAY)
    await give("C1", 25, "c", expires_in=300 * DAY)
    second = await give("C2", 10, "d", expires_in=DAY)
    later = NOW + 3 * DAY
    assert await service.expire_due(now=later) == 3
    assert await service.expire_due(now=later) == 0
    assert await service.expire_due(now=later + DAY) == 0
    expired = await PointsEntry.filter(kind=EntryKind.EXPIRE).order_by("member_id")
    assert [(e.member_id, e.delta) for e in expired] == [(first, -150), (second, -10)]
    assert await totals(first) == (25, 0)
    assert await totals(second) == (0, 0)
    await assert_audit_clean()


async def test_expire_due_in_small_passes_handles_every_due_lot(db: str) -> None:
    for n in range(5):
        await give(f"C{n}", 10, f"ref-{n}", expires_in=DAY)
    settled = 0
    while handled := await service.expire_due(now=NOW + 2 * DAY, limit=2):
        settled += handled
    assert settled == 5
    assert await PointsLot.filter(settled=False).count() == 0
    await assert_audit_clean()


async def test_adjust_below_zero_is_refused_and_changes_nothing(db: str) -> None:
    member_id = await give("C1", 100, "bill-1")
    entries_before = await PointsEntry.all().count()
    with pytest.raises(InsufficientPoints):
        await service.adjust(
            member_external_id="C1", delta=-101, reason="fix", external_ref="adj-1", now=NOW
        )
    assert await totals(member_id) == (100, 0)
    assert await PointsEntry.all().count() == entries_before
    credit = await service.adjust(
        member_external_id="C1", delta=-100, reason="fix", external_ref="adj-1", now=NOW
    )
    assert (credit.entry.kind, credit.entry.delta, credit.created) == (EntryKind.ADJUST, -100, True)
    assert await totals(member_id) == (0, 0)
    await assert_audit_clean()


async def test_positive_adjust_adds_a_lot_and_unknown_member_is_not_found(db: str) -> None:
    member_id = await give("C1", 1, "bill-1")
    await service.adjust(
        member_external_id="C1", delta=40, reason="goodwill", external_ref="adj-1", now=NOW
    )
    assert await totals(member_id) == (41, 0)
    with pytest.raises(NotFound):
        await service.adjust(
            member_external_id="NOBODY", delta=5, reason="x", external_ref="adj-2", now=NOW
        )
    assert not await Member.exists(external_id="NOBODY")


async def test_award_replay_returns_the_first_entry_and_a_changed_replay_conflicts(
    db: str,
) -> None:
    first = await service.award(
        member_external_id="C1", amount=9000, reason="bill", external_ref="r-1", now=NOW
    )
    again = await service.award(
        member_external_id="C1", amount=9000, reason="resent", external_ref="r-1", now=NOW
    )
    assert (first.created, again.created) == (True, False)
    assert again.entry.id == first.entry.id
    assert await totals(first.entry.member_id) == (9000, 0)
    with pytest.raises(IdempotencyConflict):
        await service.award(
            member_external_id="C1", amount=9001, reason="", external_ref="r-1", now=NOW
        )
    with pytest.raises(IdempotencyConflict):
        await service.award(
            member_external_id="C2", amount=9000, reason="", external_ref="r-1", now=NOW
        )
    with pytest.raises(IdempotencyConflict):
        await service.adjust(
            member_external_id="C1", delta=9000, reason="x", external_ref="r-1", now=NOW
        )
    assert not await Member.exists(external_id="C2")
    assert await totals(first.entry.member_id) == (9000, 0)


async def test_concurrent_awards_with_one_ref_credit_once(db: str) -> None:
    results = await asyncio.gather(
        *(
            service.award(
                member_external_id="C1", amount=700, reason="", external_ref="same", now=NOW
            )
            for _ in range(12)
        )
    )
    assert sum(credit.created for credit in results) == 1
    assert len({credit.entry.id for credit in results}) == 1
    assert await totals(results[0].entry.member_id) == (700, 0)
    await assert_audit_clean()


async def test_concurrent_awards_of_one_ref_to_different_members_credit_one_of_them(
    db: str,
) -> None:
    results = await asyncio.gather(
        *(
            service.award(
                member_external_id=f"C{n}", amount=5, reason="", external_ref="same", now=NOW
            )
            for n in range(8)
        ),
        return_exceptions=True,
    )
    credits = [r for r in results if isinstance(r, service.Credit)]
    assert len(credits) == 1
    assert all(isinstance(r, IdempotencyConflict) for r in results if r not in credits)
    assert await PointsEntry.all().count() == 1
    await assert_audit_clean()


async def test_spend_and_hold_replay_per_order_and_refuse_a_changed_order(db: str) -> None:
    member_id = await give("C1", 100, "bill-1")
    spent = await service.spend(
        member_id=member_id, amount=10, order_number="PM-1", reason="", now=NOW
    )
    assert (
        await service.spend(member_id=member_id, amount=10, order_number="PM-1", reason="", now=NOW)
    ).id == spent.id
    with pytest.raises(IdempotencyConflict):
        await service.spend(member_id=member_id, amount=11, order_number="PM-1", reason="", now=NOW)
    held = await service.hold(member_id=member_id, amount=5, order_number="PM-2", now=NOW)
    assert (
        await service.hold(member_id=member_id, amount=5, order_number="PM-2", now=NOW)
    ).id == held.id
    with pytest.raises(IdempotencyConflict):
        await service.hold(member_id=member_id, amount=6, order_number="PM-2", now=NOW)
    assert await totals(member_id) == (90, 5)
    await assert_audit_clean()


async def test_history_pages_newest_first(db: str) -> None:
    member_id = 0
    for n in range(5):
        member_id = await give("C1", n + 1, f"bill-{n}")
    page = await service.history(member_id=member_id, first=3, after=None)
    assert [e.delta for e in page.items] == [5, 4, 3]
    assert (page.has_next, page.total_count) == (True, 5)
    rest = await service.history(member_id=member_id, first=3, after=page.cursors[-1])
    assert [e.delta for e in rest.items] == [2, 1]
    assert rest.has_next is False


async def test_credit_that_would_pass_the_balance_ceiling_is_refused(db: str) -> None:
    from datetime import UTC, datetime

    from models.errors import InvalidInput
    from models.points import service as points_service
    from models.points.models import PointsAccount
    from models.points.rules import MAX_AMOUNT, MAX_BALANCE

    now = datetime.now(UTC)
    awards = MAX_BALANCE // MAX_AMOUNT
    for i in range(awards):
        await points_service.award(
            member_external_id="C-RICH",
            amount=MAX_AMOUNT,
            reason="r",
            external_ref=f"rich-{i}",
            now=now,
        )
    with pytest.raises(InvalidInput) as refused:
        await points_service.award(
            member_external_id="C-RICH", amount=1, reason="r", external_ref="rich-over", now=now
        )
    assert refused.value.field == "amount"
    assert (await PointsAccount.get(member__external_id="C-RICH")).balance == MAX_BALANCE
