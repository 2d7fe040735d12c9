"""The staffing simulation: replies by earliest deadline within shifts, agents needed."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from models.aftersales import simulate as sim

START = datetime(2026, 12, 7, tzinfo=UTC)
PROMISE = timedelta(hours=48)
ALWAYS = sim.Shift(time(0), time(0), "UTC")


def test_one_agent_keeps_up_when_the_work_fits_the_day() -> None:
    arrivals = sim.Arrivals(START, days=3, tickets_per_day=24)  # one an hour
    done = sim.simulate(
        arrivals, agents=1, handling=timedelta(minutes=30), shift=ALWAYS, promise=PROMISE
    )
    assert (done.tickets, done.on_time, done.worst_hours_late) == (72, 72, 0.0)
    assert done.p95_hours_to_reply == 0.5


def test_too_few_agents_fall_behind_and_the_late_ones_are_counted() -> None:
    arrivals = sim.Arrivals(START, days=5, tickets_per_day=48)
    done = sim.simulate(
        arrivals, agents=1, handling=timedelta(hours=1), shift=ALWAYS, promise=PROMISE
    )
    assert done.late > 0
    assert done.on_time + done.late == 240
    assert done.worst_hours_late > 0


def test_nobody_answers_outside_the_shift() -> None:
    arrivals = sim.Arrivals(START, days=1, tickets_per_day=1)  # at midnight
    shift = sim.Shift(time(9), time(17), "UTC")
    done = sim.simulate(
        arrivals, agents=1, handling=timedelta(minutes=6), shift=shift, promise=timedelta(hours=8)
    )
    assert (done.on_time, done.p95_hours_to_reply) == (0, 9.1)


def test_agents_needed_is_the_fewest_that_reach_the_target() -> None:
    arrivals = sim.Arrivals(START, days=10, tickets_per_day=400)
    shift = sim.Shift(time(9), time(21), "UTC")
    needed = sim.agents_needed(
        arrivals, handling=timedelta(minutes=12), shift=shift, promise=PROMISE, target=1.0
    )
    assert needed is not None
    assert needed.on_time_rate == 1.0
    fewer = sim.simulate(
        arrivals,
        agents=needed.agents - 1,
        handling=timedelta(minutes=12),
        shift=shift,
        promise=PROMISE,
    )
    assert (fewer.on_time_rate or 0) < 1.0


def test_a_shift_is_hours_of_the_day() -> None:
    assert sim.parse_shift("22:00-06:00", timezone="UTC").working(START.replace(hour=23))
    with pytest.raises(ValueError, match="HH:MM"):
        sim.parse_shift("all day", timezone="UTC")
