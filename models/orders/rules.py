"""Pure order rules: line and address validation, fingerprints, numbers, status moves."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from models import validation
from models.catalog.models import GiftKind
from models.errors import InvalidInput, InvalidTransition, LimitExceeded
from models.orders.models import OrderStatus

if TYPE_CHECKING:
    from models.catalog.models import Gift

MAX_LINES = 20
MAX_QUANTITY = 99
PHONE = re.compile(r"^\+?[0-9][0-9 -]{5,19}$")
POSTAL_CODE = re.compile(r"^[0-9A-Za-z -]{3,10}$")
NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U

MOVES: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.AWAITING_PAYMENT: frozenset({OrderStatus.CONFIRMED, OrderStatus.CANCELLED}),
    OrderStatus.CONFIRMED: frozenset({OrderStatus.PICKING, OrderStatus.CANCELLED}),
    OrderStatus.PICKING: frozenset({OrderStatus.PACKED}),
    OrderStatus.PACKED: frozenset({OrderStatus.SHIPPED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}
# Confirmed and not yet handed to a carrier: the orders the seven-day promise still runs for
# (the work queue's default, the at-risk and breach alerts, the SLA report's open counts).
OPEN_STATUSES = frozenset({OrderStatus.CONFIRMED, OrderStatus.PICKING, OrderStatus.PACKED})


@dataclass(frozen=True)
class LineRequest:
    sku: str
    quantity: int


@dataclass(frozen=True)
class Address:
    recipient: str
    phone: str
    province: str
    city: str
    district: str
    line1: str
    line2: str
    postal_code: str


def check_move(current: OrderStatus, wanted: OrderStatus) -> None:
    """Raise InvalidTransition unless `current -> wanted` is a move of the status machine."""
    if wanted not in MOVES[current]:
        raise InvalidTransition(current=current.value, wanted=wanted.value)


def validate_lines(lines: Sequence[LineRequest]) -> list[LineRequest]:
    """1 to 20 lines of distinct SKUs, each 1 to 99 units; raises InvalidInput."""
    if not 1 <= len(lines) <= MAX_LINES:
        raise InvalidInput(f"an order has 1 to {MAX_LINES} lines", field="lines")
    seen: set[str] = set()
    cleaned = []
    for index, line in enumerate(lines):
        sku = validation.identifier(line.sku, field=f"lines.{index}.sku")
        if sku in seen:
            raise InvalidInput(f"{sku} appears on two lines", field=f"lines.{index}.sku")
        seen.add(sku)
        validation.bounded_int(
            line.quantity, field=f"lines.{index}.quantity", low=1, high=MAX_QUANTITY
        )
        cleaned.append(LineRequest(sku=sku, quantity=line.quantity))
    return cleaned


def check_kinds(
    lines: Sequence[LineRequest],
    gifts: Mapping[str, Gift],
    *,
    cash: Decimal | None,
    mobile: str = "",
) -> None:
    """What each kind of gift allows on a line: an e-voucher line takes one code and a
    top-up line one credit (quantity 1), both paid in points only; a top-up goes to the
    member's own mobile, which must be on file. Raises InvalidInput."""
    for index, line in enumerate(lines):
        kind = gifts[line.sku].kind
        if not kind.digital:
            continue
        what = (
            "an e-voucher line takes one code"
            if kind is GiftKind.E_VOUCHER
            else ("a top-up line takes one credit")
        )
        if line.quantity != 1:
            raise InvalidInput(f"{what}: quantity 1", field=f"lines.{index}.quantity")
        if cash is not None:
            raise InvalidInput(
                f"{'an e-voucher' if kind is GiftKind.E_VOUCHER else 'a top-up'} is redeemed"
                " for points only, in an order without a cash part",
                field=f"lines.{index}.sku",
            )
        if kind is GiftKind.TOP_UP and not mobile:
            raise InvalidInput(
                "a top-up goes to the member's own mobile number, and none is on file",
                field=f"lines.{index}.sku",
            )


def validate_address(address: Address) -> Address:
    """A deliverable address: required parts present, phone and postal code plausible."""
    prefix = "shipping_address"

    def part(name: str, value: str, length: int, required: bool = True) -> str:
        return validation.text(
            value, field=f"{prefix}.{name}", max_length=length, required=required
        )

    phone = part("phone", address.phone, 32)
    if not PHONE.match(phone):
        raise InvalidInput("phone is not a phone number", field=f"{prefix}.phone")
    postal_code = part("postal_code", address.postal_code, 16, required=False)
    if postal_code and not POSTAL_CODE.match(postal_code):
        raise InvalidInput("postal code is not valid", field=f"{prefix}.postal_code")
    return Address(
        recipient=part("recipient", address.recipient, 100),
        phone=phone,
        province=part("province", address.province, 64),
        city=part("city", address.city, 64),
        district=part("district", address.district, 64, required=False),
        line1=part("line1", address.line1, 200),
        line2=part("line2", address.line2, 200, required=False),
        postal_code=postal_code,
    )


def fingerprint(lines: Sequence[LineRequest]) -> str:
    """What a retry must repeat: the same SKUs and quantities, in any order."""
    canonical = ";".join(
        f"{line.sku}x{line.quantity}" for line in sorted(lines, key=lambda x: x.sku)
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def new_order_number(now: datetime) -> str:
    """A human-friendly number: PM, the date, and six unambiguous random characters."""
    suffix = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(6))
    return f"PM{now:%y%m%d}{suffix}"


def cash_total(gifts: Mapping[str, Gift], lines: Sequence[LineRequest]) -> Decimal | None:
    """The order's cash part: None when no line's gift has a cash price."""
    parts = [gifts[line.sku].cash_price for line in lines]
    if all(p is None for p in parts):
        return None
    return sum(
        ((p or Decimal(0)) * line.quantity for p, line in zip(parts, lines, strict=True)),
        Decimal(0),
    )


def check_limits(
    lines: Sequence[LineRequest], gifts: Mapping[str, Gift], taken: Mapping[int, int]
) -> None:
    """Raise LimitExceeded for the first line that takes its gift past the per-member limit,
    given the units of each gift (by id) the member's live orders already hold."""
    for index, line in enumerate(lines):
        gift = gifts[line.sku]
        limit = gift.limit_per_member
        if limit is not None and taken.get(gift.id, 0) + line.quantity > limit:
            raise LimitExceeded(
                f"{gift.sku} is limited to {limit} per member", field=f"lines.{index}.quantity"
            )
