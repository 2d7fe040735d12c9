"""Unit tests for the warehouse calendar and seven-day promise rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fulfilment.calendar import (
    WarehouseCalendar,
    candidate_days,
    day_end,
    first_free_day,
    hours_left,
    is_at_risk,
    is_breached,
    is_working_day,
    local_day,
    parse_closed_dates,
    ship_by,
)

BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = ZoneInfo("Asia/Shanghai")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """Build a UTC datetime."""
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def cal(
    tz: str = "UTC", capacity: int = 10, closed: frozenset[date] = frozenset()
) -> WarehouseCalendar:
    """Build a calendar with test-friendly defaults."""
    return WarehouseCalendar(timezone=tz, daily_capacity=capacity, closed_dates=closed)


# --- construction -------------------------------------------------------------------------


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus"):
        cal("Mars/Olympus")


def test_malformed_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        cal("../etc/passwd")


def test_negative_capacity_is_refused() -> None:
    with pytest.raises(ValueError, match="daily_capacity"):
        cal(capacity=-1)


def test_calendar_exposes_its_zone() -> None:
    assert cal("Asia/Shanghai").zone == SHANGHAI


def test_closed_dates_given_as_a_set_become_a_frozenset() -> None:
    calendar = WarehouseCalendar("UTC", 1, {date(2025, 1, 1)})  # type: ignore[arg-type]
    assert calendar.closed_dates == frozenset({date(2025, 1, 1)})
    assert isinstance(calendar.closed_dates, frozenset)


# --- parse_closed_dates -------------------------------------------------------------------


def test_parse_closed_dates_accepts_iso_strings_and_dates() -> None:
    parsed = parse_closed_dates(["2025-12-25", date(2026, 1, 1), " 2025-12-26 "])
    assert parsed == frozenset({date(2025, 12, 25), date(2025, 12, 26), date(2026, 1, 1)})


@pytest.mark.parametrize("bad", ["2025-13-01", "christmas", ""])
def test_parse_closed_dates_names_the_offending_string(bad: str) -> None:
    with pytest.raises(ValueError, match=repr(bad)):
        parse_closed_dates(["2025-12-25", bad])


def test_parse_closed_dates_refuses_a_datetime() -> None:
    with pytest.raises(ValueError, match="invalid closed date"):
        parse_closed_dates([datetime(2025, 12, 25, tzinfo=UTC)])


def test_parse_closed_dates_refuses_a_non_date() -> None:
    with pytest.raises(ValueError, match="20251225"):
        parse_closed_dates([20251225])  # type: ignore[list-item]


# --- time zones ---------------------------------------------------------------------------


def test_local_day_is_already_tomorrow_in_shanghai_while_today_in_utc() -> None:
    now = utc(2025, 6, 10, 17, 30)  # 01:30 on 11 June in Shanghai (UTC+8)
    assert local_day(cal("UTC"), now) == date(2025, 6, 10)
    assert local_day(cal("Asia/Shanghai"), now) == date(2025, 6, 11)


def test_local_day_is_still_yesterday_in_los_angeles() -> None:
    now = utc(2025, 6, 11, 5, 0)  # 22:00 on 10 June in Los Angeles (PDT, UTC-7)
    assert local_day(cal("America/Los_Angeles"), now) == date(2025, 6, 10)


def test_shanghai_candidates_start_from_the_local_tomorrow() -> None:
    now = utc(2025, 6, 10, 17, 30)
    days = candidate_days(cal("Asia/Shanghai"), now=now, deadline=utc(2025, 6, 13, 16, 0))
    # 13 June ends at 16:00 UTC on 13 June, exactly the deadline, so it still counts.
    assert days == [date(2025, 6, 11), date(2025, 6, 12), date(2025, 6, 13)]


def test_los_angeles_day_ends_at_local_midnight() -> None:
    end = day_end(cal("America/Los_Angeles"), date(2025, 6, 10))
    assert end == datetime(2025, 6, 11, 0, 0, tzinfo=LOS_ANGELES)
    assert end == utc(2025, 6, 11, 7, 0)


def test_day_ending_one_second_after_the_deadline_is_not_a_candidate() -> None:
    deadline = utc(2025, 6, 12, 6, 59, 59)  # 23:59:59 on 11 June in Los Angeles
    days = candidate_days(cal("America/Los_Angeles"), now=utc(2025, 6, 10, 12), deadline=deadline)
    assert days == [date(2025, 6, 10)]


def test_current_local_day_is_a_candidate() -> None:
    now = utc(2025, 6, 10, 23, 59)
    days = candidate_days(cal(), now=now, deadline=utc(2025, 6, 11))
    assert days == [date(2025, 6, 10)]


def test_deadline_before_the_current_day_ends_leaves_no_candidates() -> None:
    assert candidate_days(cal(), now=utc(2025, 6, 10, 9), deadline=utc(2025, 6, 10, 18)) == []


def test_deadline_already_passed_leaves_no_candidates() -> None:
    assert candidate_days(cal(), now=utc(2025, 6, 10, 9), deadline=utc(2025, 6, 1)) == []


def test_candidates_are_the_same_whatever_zone_now_and_deadline_are_written_in() -> None:
    calendar = cal("Asia/Shanghai")
    now, deadline = utc(2025, 6, 10, 17, 30), utc(2025, 6, 17, 17, 30)
    in_utc = candidate_days(calendar, now=now, deadline=deadline)
    in_la = candidate_days(
        calendar, now=now.astimezone(LOS_ANGELES), deadline=deadline.astimezone(LOS_ANGELES)
    )
    assert in_utc == in_la
    assert in_utc[0] == date(2025, 6, 11)


# --- DST ----------------------------------------------------------------------------------


def test_day_end_on_berlin_spring_forward_day_is_23_hours_after_the_previous() -> None:
    berlin = cal("Europe/Berlin")
    start, end = day_end(berlin, date(2025, 3, 29)), day_end(berlin, date(2025, 3, 30))
    assert end - start == timedelta(hours=23)
    assert end == utc(2025, 3, 30, 22, 0)  # midnight CEST (UTC+2)


def test_day_end_on_berlin_fall_back_day_is_25_hours_after_the_previous() -> None:
    berlin = cal("Europe/Berlin")
    start, end = day_end(berlin, date(2025, 10, 25)), day_end(berlin, date(2025, 10, 26))
    assert end - start == timedelta(hours=25)
    assert end == utc(2025, 10, 26, 23, 0)  # midnight CET (UTC+1)


def test_day_end_where_dst_skips_midnight_is_the_transition_instant() -> None:
    # Santiago springs forward at 00:00 -> 01:00 on 7 Sep 2025, so 6 Sep ends at 04:00 UTC.
    assert day_end(cal("America/Santiago"), date(2025, 9, 6)) == utc(2025, 9, 7, 4, 0)


def test_day_end_where_dst_repeats_midnight_is_the_first_midnight() -> None:
    # Havana falls back 01:00 -> 00:00 on 2 Nov 2025; 1 Nov ends when midnight first strikes.
    havana = cal("America/Havana")
    assert day_end(havana, date(2025, 11, 1)) == utc(2025, 11, 2, 4, 0)
    assert day_end(havana, date(2025, 11, 2)) - day_end(havana, date(2025, 11, 1)) == timedelta(
        hours=25
    )


def test_hours_left_across_berlin_fall_back_counts_real_hours() -> None:
    now = datetime(2025, 10, 25, 12, 0, tzinfo=BERLIN)
    deadline = datetime(2025, 10, 26, 12, 0, tzinfo=BERLIN)
    assert hours_left(deadline, now=now) == 25.0


def test_ship_by_adds_elapsed_time_across_dst() -> None:
    confirmed = datetime(2025, 3, 27, 12, 0, tzinfo=BERLIN)  # CET, UTC+1
    deadline = ship_by(confirmed, within=timedelta(days=7))
    assert deadline - confirmed.astimezone(UTC) == timedelta(days=7)
    assert deadline.astimezone(BERLIN).hour == 13  # CEST wall clock moved on an hour


# --- closed dates and capacity ------------------------------------------------------------


def test_closed_day_is_not_a_working_day() -> None:
    calendar = cal(closed=frozenset({date(2025, 12, 25)}))
    assert not is_working_day(calendar, date(2025, 12, 25))
    assert is_working_day(calendar, date(2025, 12, 27))  # a Saturday: weekends are working days


def test_zero_capacity_means_no_working_days() -> None:
    calendar = cal(capacity=0)
    assert not is_working_day(calendar, date(2025, 6, 10))
    assert candidate_days(calendar, now=utc(2025, 6, 10), deadline=utc(2025, 6, 20)) == []
    assert (
        first_free_day(calendar, now=utc(2025, 6, 10), deadline=utc(2025, 6, 20), booked={}) is None
    )


def test_closed_dates_are_skipped_by_candidates() -> None:
    calendar = cal(closed=frozenset({date(2025, 6, 11), date(2025, 6, 12)}))
    days = candidate_days(calendar, now=utc(2025, 6, 10, 8), deadline=utc(2025, 6, 14))
    assert days == [date(2025, 6, 10), date(2025, 6, 13)]


def test_closed_today_promises_the_next_open_day() -> None:
    calendar = cal(closed=frozenset({date(2025, 6, 10)}))
    day = first_free_day(calendar, now=utc(2025, 6, 10, 8), deadline=utc(2025, 6, 17), booked={})
    assert day == date(2025, 6, 11)


def test_deadline_on_closed_day_moves_promise_earlier() -> None:
    # Deadline mid-day on the 17th: the 16th is the last day that ends in time, and it is closed.
    calendar = cal(closed=frozenset({date(2025, 6, 16)}))
    now, deadline = utc(2025, 6, 10, 8), utc(2025, 6, 17, 8)
    days = candidate_days(calendar, now=now, deadline=deadline)
    assert days[-1] == date(2025, 6, 15)
    booked = {d: 10 for d in days[:-1]}
    assert first_free_day(calendar, now=now, deadline=deadline, booked=booked) == date(2025, 6, 15)


def test_day_containing_the_deadline_is_never_promised() -> None:
    now, deadline = utc(2025, 6, 10, 8), utc(2025, 6, 17, 8)
    booked = {date(2025, 6, d): 10 for d in range(10, 17)}
    assert first_free_day(cal(), now=now, deadline=deadline, booked=booked) is None


def test_capacity_exactly_full_moves_to_the_next_day() -> None:
    calendar = cal(capacity=3)
    booked = {date(2025, 6, 10): 3, date(2025, 6, 11): 2}
    day = first_free_day(calendar, now=utc(2025, 6, 10), deadline=utc(2025, 6, 17), booked=booked)
    assert day == date(2025, 6, 11)


def test_one_below_capacity_still_has_room() -> None:
    calendar = cal(capacity=3)
    booked = {date(2025, 6, 10): 2}
    day = first_free_day(calendar, now=utc(2025, 6, 10), deadline=utc(2025, 6, 17), booked=booked)
    assert day == date(2025, 6, 10)


def test_every_candidate_full_gives_none() -> None:
    calendar = cal(capacity=2)
    now, deadline = utc(2025, 6, 10), utc(2025, 6, 17)
    booked = {d: 2 for d in candidate_days(calendar, now=now, deadline=deadline)}
    assert len(booked) == 7
    assert first_free_day(calendar, now=now, deadline=deadline, booked=booked) is None


def test_overbooked_day_counts_as_full() -> None:
    calendar = cal(capacity=2)
    booked = {date(2025, 6, 10): 5}
    day = first_free_day(calendar, now=utc(2025, 6, 10), deadline=utc(2025, 6, 17), booked=booked)
    assert day == date(2025, 6, 11)


# --- ship_by ------------------------------------------------------------------------------


def test_ship_by_defaults_to_seven_days() -> None:
    assert ship_by(utc(2025, 6, 10, 9, 15)) == utc(2025, 6, 17, 9, 15)


def test_ship_by_is_configurable() -> None:
    assert ship_by(utc(2025, 6, 10), within=timedelta(days=3)) == utc(2025, 6, 13)


@pytest.mark.parametrize("within", [timedelta(0), timedelta(days=-1)])
def test_ship_by_refuses_a_non_positive_window(within: timedelta) -> None:
    with pytest.raises(ValueError, match="within"):
        ship_by(utc(2025, 6, 10), within=within)


# --- at risk and breached -----------------------------------------------------------------

DEADLINE = utc(2025, 6, 17, 12, 0)


def test_hours_left_is_negative_past_the_deadline() -> None:
    assert hours_left(DEADLINE, now=DEADLINE + timedelta(hours=1, minutes=30)) == -1.5


def test_hours_left_before_the_deadline() -> None:
    assert hours_left(DEADLINE, now=DEADLINE - timedelta(hours=50)) == 50.0


def test_exactly_48_hours_left_is_not_at_risk() -> None:
    assert not is_at_risk(DEADLINE, now=DEADLINE - timedelta(hours=48), shipped=False)


def test_just_under_48_hours_left_is_at_risk() -> None:
    now = DEADLINE - timedelta(hours=48) + timedelta(microseconds=1)
    assert is_at_risk(DEADLINE, now=now, shipped=False)


def test_at_risk_threshold_is_configurable() -> None:
    now = DEADLINE - timedelta(hours=30)
    assert not is_at_risk(DEADLINE, now=now, shipped=False, threshold=timedelta(hours=24))
    assert is_at_risk(DEADLINE, now=now, shipped=False, threshold=timedelta(hours=36))


def test_shipped_order_is_never_at_risk() -> None:
    assert not is_at_risk(DEADLINE, now=DEADLINE - timedelta(hours=1), shipped=True)


def test_breached_exactly_at_the_deadline() -> None:
    assert is_breached(DEADLINE, now=DEADLINE, shipped=False)
    assert not is_at_risk(DEADLINE, now=DEADLINE, shipped=False)


def test_not_breached_one_microsecond_before_the_deadline() -> None:
    now = DEADLINE - timedelta(microseconds=1)
    assert not is_breached(DEADLINE, now=now, shipped=False)
    assert is_at_risk(DEADLINE, now=now, shipped=False)


def test_shipped_order_is_never_breached() -> None:
    assert not is_breached(DEADLINE, now=DEADLINE + timedelta(days=3), shipped=True)


def test_breach_is_judged_by_instant_not_wall_clock() -> None:
    # 13:30 in Berlin (CEST) is 11:30 UTC, still before the 12:00 UTC deadline.
    now = datetime(2025, 6, 17, 13, 30, tzinfo=BERLIN)
    assert not is_breached(DEADLINE, now=now, shipped=False)
    assert is_at_risk(DEADLINE, now=now, shipped=False)


# --- naive datetimes ----------------------------------------------------------------------

NAIVE = datetime(2025, 6, 10, 12, 0)


@pytest.mark.parametrize(
    "call",
    [
        lambda: local_day(cal(), NAIVE),
        lambda: ship_by(NAIVE),
        lambda: candidate_days(cal(), now=NAIVE, deadline=DEADLINE),
        lambda: candidate_days(cal(), now=utc(2025, 6, 10), deadline=NAIVE),
        lambda: first_free_day(cal(), now=NAIVE, deadline=DEADLINE, booked={}),
        lambda: hours_left(NAIVE, now=DEADLINE),
        lambda: hours_left(DEADLINE, now=NAIVE),
        lambda: is_at_risk(DEADLINE, now=NAIVE, shipped=False),
        lambda: is_breached(NAIVE, now=DEADLINE, shipped=False),
    ],
    ids=[
        "local_day",
        "ship_by",
        "candidate_days-now",
        "candidate_days-deadline",
        "first_free_day",
        "hours_left-ship_by",
        "hours_left-now",
        "is_at_risk",
        "is_breached",
    ],
)
def test_naive_datetimes_are_refused(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match="naive"):
        call()


# --- property -----------------------------------------------------------------------------

ZONES = ["UTC", "Asia/Shanghai", "America/Los_Angeles", "Europe/Berlin", "America/Santiago"]
BASE_DAY = date(2025, 1, 1)


@st.composite
def promise_scenarios(
    draw: st.DrawFn,
) -> tuple[WarehouseCalendar, datetime, datetime, dict[date, int]]:
    """Draw a calendar, a now, a ship_by deadline and bookings near that window."""
    now = draw(
        st.datetimes(
            min_value=datetime(2025, 1, 2),
            max_value=datetime(2025, 12, 20),
            timezones=st.sampled_from([ZoneInfo(z) for z in ZONES]),
        )
    )
    within = draw(st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=14)))
    capacity = draw(st.integers(min_value=0, max_value=3))
    days_near = st.dates(min_value=BASE_DAY, max_value=date(2026, 1, 10))
    closed = draw(st.frozensets(days_near, max_size=40))
    booked = draw(st.dictionaries(days_near, st.integers(min_value=0, max_value=4), max_size=60))
    calendar = WarehouseCalendar(draw(st.sampled_from(ZONES)), capacity, closed)
    return calendar, now, ship_by(now, within=within), booked


@settings(max_examples=300, database=None, deadline=None)
@given(promise_scenarios())
def test_first_free_day_is_the_earliest_open_day_with_room(
    scenario: tuple[WarehouseCalendar, datetime, datetime, dict[date, int]],
) -> None:
    calendar, now, deadline, booked = scenario
    chosen = first_free_day(calendar, now=now, deadline=deadline, booked=booked)
    candidates = candidate_days(calendar, now=now, deadline=deadline)
    today = local_day(calendar, now)

    def has_room(day: date) -> bool:
        return is_working_day(calendar, day) and booked.get(day, 0) < calendar.daily_capacity

    # Walk the calendar day by day independently of candidate_days to find every day in reach.
    in_reach, day = [], today
    while day_end(calendar, day) <= deadline:
        in_reach.append(day)
        day += timedelta(days=1)
    if chosen is None:
        assert not any(has_room(d) for d in in_reach)
        return
    assert chosen in candidates
    assert chosen >= today
    assert chosen not in calendar.closed_dates
    assert booked.get(chosen, 0) < calendar.daily_capacity
    assert day_end(calendar, chosen) <= deadline
    assert not any(has_room(d) for d in in_reach if d < chosen)
