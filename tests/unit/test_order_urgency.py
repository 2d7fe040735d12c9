"""An order's urgency as the work queue and the apps show it (`fulfilment.rules.order_urgency`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fulfilment.rules import order_urgency
from models.orders.models import OrderStatus

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
THRESHOLD = timedelta(hours=48)
OPEN = [OrderStatus.CONFIRMED, OrderStatus.PICKING, OrderStatus.PACKED]
ENDED = [OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CANCELLED]


@pytest.mark.parametrize("status", OPEN)
def test_an_open_order_near_its_deadline_is_at_risk(status: OrderStatus) -> None:
    state = order_urgency(status, NOW + timedelta(hours=10), now=NOW, threshold=THRESHOLD)
    assert state is not None
    assert state.at_risk
    assert state.at_risk_or_breached
    assert state.hours_left == 10


@pytest.mark.parametrize("status", OPEN)
def test_an_open_order_past_its_deadline_is_breached_and_still_flagged(
    status: OrderStatus,
) -> None:
    state = order_urgency(status, NOW - timedelta(hours=1), now=NOW, threshold=THRESHOLD)
    assert state is not None
    assert state.breached
    assert not state.at_risk
    assert state.at_risk_or_breached


@pytest.mark.parametrize("status", ENDED)
def test_shipping_delivery_and_cancellation_end_urgency(status: OrderStatus) -> None:
    state = order_urgency(status, NOW - timedelta(hours=1), now=NOW, threshold=THRESHOLD)
    assert state is not None
    assert not state.at_risk_or_breached
    assert state.hours_left == -1


def test_an_order_far_from_its_deadline_is_not_flagged() -> None:
    far = NOW + timedelta(days=5)
    state = order_urgency(OrderStatus.CONFIRMED, far, now=NOW, threshold=THRESHOLD)
    assert state is not None
    assert not state.at_risk_or_breached


def test_an_order_without_a_deadline_has_no_urgency() -> None:
    assert order_urgency(OrderStatus.AWAITING_PAYMENT, None, now=NOW, threshold=THRESHOLD) is None
