"""What the redemption needs from outside `models/orders/`: ship slots, the payment gateway,
and the other tables an order writes when it is placed.

`fulfilment.planning.Planner` implements `ShipPlanner`; `models.payments.gateway.StripeGateway`
implements `PaymentStarter`. Passing them in keeps imports flowing one way (fulfilment ->
models). An `OrderEffect` is a write that goes with every order placed (its deadlines, its
change notice, ...), written once by the module that owns the table it writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from models import sql
from models.catalog.models import Warehouse
from models.orders.models import Order

# What an effect's step reads the new order from: the order's row, every column. On
# PostgreSQL it is the CTE that inserts the order; elsewhere the row just inserted.
PLACED = "placed"


class OrderEffect:
    """A write that goes with every order placed, in the order's own transaction.

    `step` is one SQL statement that reads the new order from `placed` (`PLACED`): on
    PostgreSQL it becomes a step of the order's own statement (one round trip for all of
    them); elsewhere it runs alone right after the order is written, `placed` then being
    the order's row. An effect of several statements gives `steps` instead (each reads only
    `placed`, never another step). `written` is what the process does once they ran.
    """

    def step(self, p: sql.Params, order: Order, *, postgres: bool) -> str | None:
        """The statement, its values taken through `p`; None when there is nothing to write."""
        return None

    def steps(self, p: sql.Params, order: Order, *, postgres: bool) -> list[str]:
        """The statements, in order, their values taken through `p` one after the other."""
        one = self.step(p, order, postgres=postgres)
        return [] if one is None else [one]

    def written(self, order: Order, *, postgres: bool) -> None:
        """In this process, after the step ran inside the order's transaction."""


def alone(p: sql.Params, step: str, *, order_id: int) -> str:
    """An effect's step as a statement of its own, `placed` being the order's row."""
    return f"WITH {PLACED} AS (SELECT * FROM redemption_order WHERE id = {p(order_id)}) {step}"  # noqa: S608 (a placeholder, never a value)


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

    def book_step(self, p: sql.Params, booking: Booking, *, only_after: str) -> str:
        """Book the planned day of `booking` as a step of another PostgreSQL statement, only
        if its step `only_after` returned a row; the step returns a row if it booked."""

    async def release(self, order: Order) -> None:
        """Give back the slot of an order that will not ship."""

    @property
    def watching(self) -> OrderEffect:
        """Start watching a new confirmed order's deadlines, as it is placed."""

    async def watch(self, order: Order, *, now: datetime) -> None:
        """Start watching a confirmed order's deadlines."""

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
