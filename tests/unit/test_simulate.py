"""The capacity simulator on cases small enough to check by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fulfilment.calendar import WarehouseCalendar
from fulfilment.simulate import Demand, SimWarehouse, parse_warehouses, report, simulate

START = datetime(2026, 12, 1, tzinfo=UTC)


def test_one_order_a_day_over_capacity_is_refused_with_admission_and_late_without() -> None:
    # Capacity 1 a day, 2 orders a day (00:00 and 12:00 UTC), ship within 2 days: an order
    # may take its own day or the next. With admission: d0 00h -> day 0, d0 12h -> day 1,
    # d1 00h -> day 2, d1 12h refused (days 1, 2 full), d2 00h -> day 3, d2 12h refused.
    # Without: first come first served on days 0..5; the 4th, 5th and 6th ship a day late.
    warehouse = SimWarehouse("W1", WarehouseCalendar("UTC", 1))
    demand = Demand(start=START, days=3, orders_per_day=2)
    admitted, unlimited = simulate([warehouse], demand, within=timedelta(days=2))

    assert (admitted.demand, admitted.accepted, admitted.refused) == (6, 4, 2)
    assert (admitted.on_time, admitted.late, admitted.on_time_rate) == (4, 0, 1.0)
    assert dict(admitted.refusals) == {1: 1, 2: 1}
    assert admitted.served_on_time_rate == pytest.approx(4 / 6)

    assert (unlimited.accepted, unlimited.refused) == (6, 0)
    assert (unlimited.on_time, unlimited.late, unlimited.on_time_rate) == (3, 3, 0.5)
    # The 6th order arrives d2 12:00 (deadline d4 12:00) and ships when day 5 ends (d6 00:00).
    assert unlimited.worst_hours_late == 36.0


def test_closed_days_ship_nothing_and_the_next_warehouse_takes_the_order() -> None:
    closed = frozenset({START.date(), (START + timedelta(days=1)).date()})
    first = SimWarehouse("A1", WarehouseCalendar("UTC", 5, closed))
    second = SimWarehouse("B1", WarehouseCalendar("UTC", 1))
    demand = Demand(start=START, days=1, orders_per_day=3)
    admitted, _ = simulate([first, second], demand, within=timedelta(days=7))
    # B1 ships one on day 0, then A1 (closed days 0-1) and B1 (day 1) both have room on day 1
    # or 2: B1 day 1 is earlier; the third goes to A1 on day 2.
    assert (admitted.accepted, admitted.refused, admitted.on_time) == (3, 0, 3)


def test_demand_within_capacity_is_all_on_time_either_way() -> None:
    warehouse = SimWarehouse("W1", WarehouseCalendar("Asia/Shanghai", 10))
    outcomes = simulate([warehouse], Demand(START, 30, 10), within=timedelta(days=7))
    for outcome in outcomes:
        assert (outcome.accepted, outcome.refused, outcome.on_time) == (300, 0, 300)
    text = report([warehouse], Demand(START, 30, 10), outcomes)
    assert "100.0%" in text
    assert "with admission" in text
    assert "without admission" in text


def test_warehouse_specs_are_code_capacity_and_an_optional_zone() -> None:
    found = parse_warehouses(["sh01=400@Asia/Shanghai,GZ01=250", "CD01=0"], default_zone="UTC")
    assert [(w.code, w.calendar.daily_capacity, w.calendar.timezone) for w in found] == [
        ("SH01", 400, "Asia/Shanghai"),
        ("GZ01", 250, "UTC"),
        ("CD01", 0, "UTC"),
    ]
    for bad in ["SH01", "SH01=many", "=3", "SH01=3@Mars/Base"]:
        with pytest.raises(ValueError, match=r"CODE=CAPACITY|unknown time zone"):
            parse_warehouses([bad], default_zone="UTC")
