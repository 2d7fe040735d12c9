"""The pure fulfilment rules: queue order, urgency at a given `now`, carriers, scans, money back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from fulfilment import rules
from models.errors import InvalidInput

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
THRESHOLD = timedelta(hours=48)
SHANGHAI = timezone(timedelta(hours=8))


def scan(**changes: object) -> rules.Scan:
    values: dict[str, object] = {
        "carrier": " sf ",
        "tracking_number": "sf 1234 5678",
        "status": "in_transit",
        "location": " 上海转运中心 ",
        "description": "到达",
        "occurred_at": datetime(2026, 11, 24, 18, 0, tzinfo=SHANGHAI),
    }
    values.update(changes)
    return rules.Scan(**values)  # type: ignore[arg-type]


def test_queue_serves_the_earliest_deadline_first_then_the_oldest_order() -> None:
    orders = [
        (NOW + timedelta(days=3), 7),
        (NOW + timedelta(days=1), 9),
        (NOW + timedelta(days=1), 2),
        ((NOW + timedelta(hours=2)).astimezone(SHANGHAI), 5),
    ]
    ordered = sorted(orders, key=lambda o: rules.queue_key(*o))
    assert [order_id for _, order_id in ordered] == [5, 2, 9, 7]


def test_an_order_with_under_48_hours_left_is_at_risk() -> None:
    ship_by = NOW + timedelta(hours=47, minutes=59)
    assert rules.urgency(ship_by, now=NOW, shipped=False, threshold=THRESHOLD) == rules.Urgency(
        hours_left=47.98, at_risk=True, breached=False
    )


def test_exactly_48_hours_left_is_not_yet_at_risk() -> None:
    state = rules.urgency(NOW + THRESHOLD, now=NOW, shipped=False, threshold=THRESHOLD)
    assert (state.at_risk, state.breached, state.hours_left) == (False, False, 48.0)


def test_at_the_deadline_an_unshipped_order_is_breached_not_at_risk() -> None:
    state = rules.urgency(NOW, now=NOW, shipped=False, threshold=THRESHOLD)
    assert (state.at_risk, state.breached) == (False, True)
    later = rules.urgency(
        NOW, now=NOW + timedelta(hours=5, minutes=30), shipped=False, threshold=THRESHOLD
    )
    assert later.hours_left == -5.5
    assert later.breached


def test_a_shipped_order_is_neither_at_risk_nor_breached() -> None:
    state = rules.urgency(NOW - timedelta(hours=1), now=NOW, shipped=True, threshold=THRESHOLD)
    assert (state.at_risk, state.breached) == (False, False)


@pytest.mark.parametrize(
    ("points", "rate", "owed"),
    [
        (13_800, Decimal("0.10"), 1_380),
        (6_999, Decimal("0.10"), 699),
        (5, Decimal("0.10"), 1),
        (1_000, Decimal("0.155"), 155),
    ],
)
def test_compensation_is_the_rate_of_the_points_rounded_down_and_at_least_one(
    points: int, rate: Decimal, owed: int
) -> None:
    assert rules.compensation_points(points, rate) == owed


def test_carrier_codes_are_upper_case_and_validated() -> None:
    assert rules.carrier_code(" yto ") == "YTO"
    for bad in ["", "S", "1SF", "S F", "SF!", "X" * 33]:
        with pytest.raises(InvalidInput) as refused:
            rules.carrier_code(bad)
        assert refused.value.field == "carrier"


def test_tracking_numbers_lose_spaces_and_case() -> None:
    assert rules.tracking_number("sf 1234-5678 ") == "SF1234-5678"
    with pytest.raises(InvalidInput):
        rules.tracking_number("ab")


def test_a_scan_is_normalised_to_upper_case_codes_and_utc() -> None:
    cleaned = rules.clean_scan(scan(), now=NOW)
    assert cleaned == rules.Scan(
        carrier="SF",
        tracking_number="SF12345678",
        status="IN_TRANSIT",
        location="上海转运中心",
        description="到达",
        occurred_at=datetime(2026, 11, 24, 10, 0, tzinfo=UTC),
    )
    assert cleaned.occurred_at.tzinfo is UTC


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"occurred_at": NOW + timedelta(hours=1)}, "occurred_at"),
        ({"occurred_at": datetime(2026, 11, 24, 9, 0)}, "occurred_at"),
        ({"status": "SHIPPED"}, "status"),
        ({"status": "LOST"}, "status"),
        ({"location": "x" * 201}, "location"),
    ],
)
def test_a_scan_from_the_future_or_with_an_unknown_status_is_refused(
    change: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        rules.clean_scan(scan(**change), now=NOW)
    assert refused.value.field == field


def test_a_little_carrier_clock_skew_is_tolerated() -> None:
    assert rules.clean_scan(scan(occurred_at=NOW + timedelta(minutes=5)), now=NOW)


def test_the_shipment_status_is_the_latest_scan_by_when_it_happened() -> None:
    events = [
        (NOW, 1, "IN_TRANSIT"),
        (NOW + timedelta(hours=5), 2, "DELIVERED"),
        (NOW + timedelta(hours=2), 3, "OUT_FOR_DELIVERY"),  # arrived last, happened earlier
    ]
    assert rules.latest(events) == "DELIVERED"
    assert rules.latest([]) is None


def test_on_time_rate_is_null_when_nothing_shipped() -> None:
    assert rules.on_time_rate(0, 0) is None
    assert rules.on_time_rate(3, 2) == 0.6667
