"""Unit tests for the points rules: expiry, which lots pay, where returned points go, amounts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from models.errors import InsufficientPoints, InvalidInput
from models.points.models import EntryKind
from models.points.rules import (
    LotState,
    RefReuse,
    RefUse,
    Returned,
    Take,
    check_adjustment,
    check_award,
    check_debit,
    credit_expiry,
    default_expiry,
    expirable,
    grace_expiry,
    plan_draws,
    plan_return,
    reuse_of,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def shanghai(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


def lot(
    lot_id: int,
    remaining: int,
    expires_at: datetime,
    *,
    held: int = 0,
    settled: bool = False,
) -> LotState:
    return LotState(lot_id, remaining, held, expires_at, settled)


# --- default expiry -----------------------------------------------------------------------


def test_points_earned_in_a_year_expire_when_the_year_after_next_begins_in_shanghai() -> None:
    expiry = default_expiry(shanghai(2026, 3, 15, 10, 0))
    assert expiry == shanghai(2028, 1, 1)
    assert expiry == datetime(2027, 12, 31, 16, 0, tzinfo=UTC)
    assert expiry.tzinfo is UTC


def test_last_second_of_the_year_in_shanghai_still_counts_as_that_year() -> None:
    assert default_expiry(shanghai(2026, 12, 31, 23, 59, 59)) == shanghai(2028, 1, 1)


def test_first_instant_of_new_year_in_shanghai_counts_as_the_new_year() -> None:
    assert default_expiry(shanghai(2027, 1, 1, 0, 0)) == shanghai(2029, 1, 1)


def test_utc_now_already_next_year_in_shanghai_uses_the_shanghai_year() -> None:
    # 31 December 16:30 UTC is 1 January 00:30 in Shanghai.
    now = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    assert default_expiry(now) == shanghai(2029, 1, 1)
    assert default_expiry(now, timezone="UTC") == datetime(2028, 1, 1, tzinfo=UTC)


def test_default_expiry_refuses_a_naive_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        default_expiry(datetime(2026, 1, 1))


def test_credit_expiry_defaults_to_the_rule_and_keeps_a_future_expiry_in_utc() -> None:
    assert credit_expiry(None, now=NOW) == default_expiry(NOW)
    wanted = shanghai(2026, 7, 1)
    given = credit_expiry(wanted, now=NOW)
    assert given == wanted
    assert given.tzinfo is UTC


@pytest.mark.parametrize("expires_at", [NOW, NOW - timedelta(seconds=1)])
def test_credit_expiry_not_in_the_future_is_invalid(expires_at: datetime) -> None:
    with pytest.raises(InvalidInput) as caught:
        credit_expiry(expires_at, now=NOW)
    assert caught.value.field == "expires_at"


def test_credit_expiry_without_a_zone_is_invalid() -> None:
    with pytest.raises(InvalidInput, match="time zone"):
        credit_expiry(datetime(2030, 1, 1), now=NOW)


def test_grace_lasts_thirty_days() -> None:
    assert grace_expiry(NOW) == NOW + timedelta(days=30)


# --- amounts ------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [1, 9_000, 10_000_000])
def test_awards_from_one_to_ten_million_are_valid(amount: int) -> None:
    assert check_award(amount) == amount


@pytest.mark.parametrize("amount", [0, -1, 10_000_001, 2**40])
def test_awards_outside_one_to_ten_million_are_invalid(amount: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_award(amount)
    assert caught.value.field == "amount"


@pytest.mark.parametrize("delta", [1, -1, 10_000_000, -10_000_000])
def test_adjustments_up_to_ten_million_either_way_are_valid(delta: int) -> None:
    assert check_adjustment(delta) == delta


@pytest.mark.parametrize("delta", [0, 10_000_001, -10_000_001])
def test_zero_or_huge_adjustments_are_invalid(delta: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_adjustment(delta)
    assert caught.value.field == "delta"


def test_debits_must_be_positive() -> None:
    assert check_debit(1) == 1
    with pytest.raises(InvalidInput):
        check_debit(0)


# --- which lots pay -----------------------------------------------------------------------


def test_spending_takes_the_lot_expiring_first() -> None:
    later = lot(1, 100, NOW + timedelta(days=300))
    sooner = lot(2, 100, NOW + timedelta(days=10))
    assert plan_draws([later, sooner], 150, now=NOW) == [Take(2, 100), Take(1, 50)]


def test_lots_expiring_together_are_taken_by_id() -> None:
    same = NOW + timedelta(days=10)
    assert plan_draws([lot(7, 50, same), lot(3, 50, same)], 60, now=NOW) == [
        Take(3, 50),
        Take(7, 10),
    ]


def test_held_points_and_expired_lots_are_not_spendable() -> None:
    lots = [
        lot(1, 100, NOW),  # expires exactly now: gone
        lot(2, 100, NOW + timedelta(days=1), held=80),
        lot(3, 100, NOW + timedelta(days=2), settled=True),
        lot(4, 30, NOW + timedelta(days=3)),
    ]
    assert plan_draws(lots, 50, now=NOW) == [Take(2, 20), Take(4, 30)]


def test_spending_more_than_available_reports_available_and_required() -> None:
    lots = [lot(1, 100, NOW + timedelta(days=1), held=40), lot(2, 10, NOW - timedelta(days=1))]
    with pytest.raises(InsufficientPoints) as caught:
        plan_draws(lots, 61, now=NOW)
    assert (caught.value.available, caught.value.required) == (60, 61)


def test_spending_exactly_everything_empties_every_lot() -> None:
    lots = [lot(1, 10, NOW + timedelta(days=1)), lot(2, 20, NOW + timedelta(days=2))]
    assert plan_draws(lots, 30, now=NOW) == [Take(1, 10), Take(2, 20)]


# --- where returned points go -------------------------------------------------------------


def test_returned_points_go_back_to_live_lots_and_expired_ones_to_grace() -> None:
    live = lot(1, 0, NOW + timedelta(days=5))
    expired = lot(2, 0, NOW - timedelta(days=5))
    settled = lot(3, 0, NOW + timedelta(days=5), settled=True)
    plan = plan_return(
        [Returned(live, 40), Returned(expired, 25), Returned(settled, 5), Returned(live, 2)],
        now=NOW,
    )
    assert plan.to_lots == [Take(1, 42)]
    assert plan.from_expired == [Take(2, 25), Take(3, 5)]
    assert plan.grace_amount == 30
    assert plan.grace_expires_at == NOW + timedelta(days=30)


def test_a_lot_expiring_exactly_now_counts_as_expired_for_returns() -> None:
    plan = plan_return([Returned(lot(1, 0, NOW), 10)], now=NOW)
    assert plan.to_lots == []
    assert plan.grace_amount == 10


# --- what expires -------------------------------------------------------------------------


def test_expiry_takes_only_unheld_points_of_due_unsettled_lots() -> None:
    assert expirable(lot(1, 100, NOW, held=30), now=NOW) == 70
    assert expirable(lot(2, 100, NOW + timedelta(seconds=1)), now=NOW) == 0
    assert expirable(lot(3, 100, NOW - timedelta(days=1), settled=True), now=NOW) == 0


# --- a ref used again ---------------------------------------------------------------------


def test_a_ref_used_again_for_the_same_credit_replays() -> None:
    earlier = RefUse("C1", 100, EntryKind.EARN)
    assert reuse_of(earlier, RefUse("C1", 100, EntryKind.EARN)) is RefReuse.REPLAYED


@pytest.mark.parametrize(
    "wanted",
    [
        RefUse("C2", 100, EntryKind.EARN),
        RefUse("C1", 101, EntryKind.EARN),
        RefUse("C1", 100, EntryKind.ADJUST),
        RefUse("C1", 100, EntryKind.COMPENSATION),
        RefUse("C1", -100, EntryKind.EARN),
    ],
)
def test_a_ref_used_again_for_another_member_amount_or_kind_conflicts(wanted: RefUse) -> None:
    assert reuse_of(RefUse("C1", 100, EntryKind.EARN), wanted) is RefReuse.CONFLICT
