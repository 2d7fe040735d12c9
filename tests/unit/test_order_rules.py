"""The pure order rules, without a database: status moves, lines, addresses, retries, limits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from models.errors import InvalidInput, InvalidTransition, LimitExceeded
from models.orders import rules
from models.orders.models import OrderStatus as S
from models.orders.rules import Address, LineRequest

ADDRESS = Address(
    "王芳", "13800138000", "上海市", "上海市", "黄浦区", "南京东路 1 号", "", "200001"
)


@pytest.mark.parametrize(
    ("current", "wanted"),
    [
        (S.AWAITING_PAYMENT, S.CONFIRMED),
        (S.AWAITING_PAYMENT, S.CANCELLED),
        (S.CONFIRMED, S.PICKING),
        (S.CONFIRMED, S.CANCELLED),
        (S.PICKING, S.PACKED),
        (S.PACKED, S.SHIPPED),
        (S.SHIPPED, S.DELIVERED),
    ],
)
def test_an_order_moves_forward_one_step_at_a_time(current: S, wanted: S) -> None:
    rules.check_move(current, wanted)


@pytest.mark.parametrize(
    ("current", "wanted"),
    [
        (S.CONFIRMED, S.PACKED),  # skips picking
        (S.PICKING, S.CANCELLED),  # too late to cancel once picking
        (S.SHIPPED, S.CANCELLED),
        (S.DELIVERED, S.SHIPPED),  # never backwards
        (S.CANCELLED, S.CONFIRMED),  # a cancelled order stays cancelled
        (S.CONFIRMED, S.CONFIRMED),
    ],
)
def test_any_other_move_is_an_invalid_transition(current: S, wanted: S) -> None:
    with pytest.raises(InvalidTransition) as refused:
        rules.check_move(current, wanted)
    assert refused.value.code == "INVALID_TRANSITION"


def test_open_orders_are_those_the_warehouse_still_has_to_ship() -> None:
    assert {S.CONFIRMED, S.PICKING, S.PACKED} == rules.OPEN_STATUSES
    for status in rules.OPEN_STATUSES:
        assert S.SHIPPED in _reachable(status)


def _reachable(status: S) -> set[S]:
    seen, todo = set(), [status]
    while todo:
        for nxt in rules.MOVES[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([], "lines"),
        ([LineRequest(f"SKU-{i}", 1) for i in range(rules.MAX_LINES + 1)], "lines"),
        ([LineRequest("A", 1), LineRequest("A", 2)], "lines.1.sku"),
        ([LineRequest("A", 0)], "lines.0.quantity"),
        ([LineRequest("A", rules.MAX_QUANTITY + 1)], "lines.0.quantity"),
        ([LineRequest("bad sku!", 1)], "lines.0.sku"),
    ],
)
def test_bad_lines_are_refused_naming_the_line(lines: list[LineRequest], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        rules.validate_lines(lines)
    assert refused.value.field == field


def test_lines_come_back_trimmed_in_the_order_given() -> None:
    lines = rules.validate_lines([LineRequest(" B ", 2), LineRequest("A", 1)])
    assert lines == [LineRequest("B", 2), LineRequest("A", 1)]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"phone": "call me"}, "shipping_address.phone"),
        ({"recipient": ""}, "shipping_address.recipient"),
        ({"postal_code": "#!"}, "shipping_address.postal_code"),
        ({"line1": "x" * 201}, "shipping_address.line1"),
    ],
)
def test_an_undeliverable_address_is_refused(change: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        rules.validate_address(Address(**{**ADDRESS.__dict__, **change}))
    assert refused.value.field == field


def test_optional_address_parts_may_be_empty() -> None:
    address = Address(**{**ADDRESS.__dict__, "district": "", "line2": "", "postal_code": ""})
    assert rules.validate_address(address) == address


def test_a_retry_is_recognised_whatever_the_order_of_its_lines() -> None:
    one = rules.fingerprint([LineRequest("A", 1), LineRequest("B", 2)])
    assert one == rules.fingerprint([LineRequest("B", 2), LineRequest("A", 1)])
    assert one != rules.fingerprint([LineRequest("A", 1), LineRequest("B", 3)])


def test_order_numbers_carry_the_day_and_six_unambiguous_characters() -> None:
    number = rules.new_order_number(datetime(2026, 12, 6, tzinfo=UTC))
    assert re.fullmatch(r"PM261206[0-9ABCDEFGHJKMNPQRSTVWXYZ]{6}", number)


@dataclass
class GiftStub:
    """What the rules read of a gift."""

    id: int
    sku: str
    cash_price: Decimal | None = None
    limit_per_member: int | None = None


def test_the_cash_part_is_the_sum_of_the_lines_with_a_cash_price() -> None:
    gifts = {"A": GiftStub(1, "A", Decimal("9.90")), "B": GiftStub(2, "B")}
    lines = [LineRequest("A", 2), LineRequest("B", 1)]
    assert rules.cash_total(gifts, lines) == Decimal("19.80")  # type: ignore[arg-type]
    assert rules.cash_total(gifts, [LineRequest("B", 3)]) is None  # type: ignore[arg-type]


def test_a_limit_counts_the_units_the_member_already_holds() -> None:
    gifts = {"A": GiftStub(1, "A", limit_per_member=2), "B": GiftStub(2, "B")}
    rules.check_limits([LineRequest("A", 1), LineRequest("B", 50)], gifts, {1: 1})  # type: ignore[arg-type]
    with pytest.raises(LimitExceeded) as refused:
        rules.check_limits([LineRequest("B", 1), LineRequest("A", 2)], gifts, {1: 1})  # type: ignore[arg-type]
    assert refused.value.field == "lines.1.quantity"
