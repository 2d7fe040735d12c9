"""What the redemption needs from outside `models/`: ship slots and the payment gateway.

`fulfilment.planner.Planner` implements `ShipPlanner`; `models.payments.gateway` implements
`PaymentStarter`. Passing them in keeps imports flowing one way (fulfilment -> models).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from models.catalog.models import Warehouse
from models.orders.models import Order


@dataclass(frozen=True)
class Booking:
    warehouse: Warehouse
    day: date
    deadline: datetime


class ShipPlanner(Protocol):
    async def plan(self, quantities: Mapping[int, int], *, now: datetime) -> list[Booking] | None:
        """The slots an order of these units (gift id: quantity) would get, best first;
        None when no warehouse holds every line, empty when none can ship it in time."""

    async def book(self, warehouse: Warehouse, *, now: datetime) -> Booking | None:
        """Book a ship slot in this warehouse, or None if it has no room in time."""

    async def release(self, order: Order) -> None:
        """Give back the slot of an order that will not ship."""

    def deadlines(self, ship_by: datetime) -> list[tuple[str, datetime]]:
        """The deadlines (kind, due at) to watch for an order that must ship by `ship_by`:
        the rows of `fulfilment_deadline` that `watch` writes."""

    async def watch(self, order: Order, *, now: datetime) -> None:
        """Start watching a confirmed order's deadline."""

    async def unwatch(self, order: Order) -> None:
        """Stop watching an order that shipped or was cancelled."""


@dataclass(frozen=True)
class PaymentRequest:
    idempotency_key: str
    order_number: str
    member_external_id: str
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class StartedPayment:
    intent_id: str
    client_secret: str
    status: str


class PaymentStarter(Protocol):
    async def start(self, request: PaymentRequest) -> StartedPayment:
        """Create the payment for an order's cash part; raises PaymentUnavailable."""

    async def abandon(self, intent_id: str) -> None:
        """Cancel a payment whose order was not placed after all (best effort)."""

    async def refund(self, intent_id: str, *, idempotency_key: str) -> str:
        """Refund a succeeded payment in full; the refund id. Raises PaymentUnavailable."""

    async def cancel(self, intent_id: str, *, idempotency_key: str) -> None:
        """Cancel a payment that was never made. Raises PaymentUnavailable."""
