"""Orders ready for the warehouse, placed through the redemption at a chosen `now`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from fulfilment import shipments
from fulfilment.planning import Planner
from models.actors import Actor, Role
from models.orders import lifecycle, redemption
from models.orders.models import Order, OrderStatus
from models.orders.ports import PaymentRequest, PaymentStarter, StartedPayment
from models.orders.rules import Address, LineRequest
from schema.context import Context, Services
from schema.root import build_schema

ADDRESS = Address("王芳", "13700137000", "上海市", "上海市", "嘉定区", "安亭镇 8 号", "", "201800")


async def place(
    member: str,
    key: str,
    *lines: tuple[str, int],
    now: datetime | None = None,
    payments: PaymentStarter | None = None,
) -> Order:
    """A placed order (CONFIRMED for points only), as if redeemed at `now`."""
    request = redemption.RedeemRequest(key, [LineRequest(s, q) for s, q in lines], ADDRESS)
    placed = await redemption.redeem(
        member_external_id=member,
        request=request,
        now=now or datetime.now(UTC),
        planner=Planner(),
        payments=payments,
    )
    return placed.order


ADMIN = Actor(Role.ADMIN, "admin-1")


async def packed(number: str) -> None:
    """Pick and pack an order, as the warehouse does."""
    now = datetime.now(UTC)
    await lifecycle.advance(number=number, to=OrderStatus.PICKING, actor=ADMIN, now=now)
    await lifecycle.advance(number=number, to=OrderStatus.PACKED, actor=ADMIN, now=now)


async def shipped(number: str, tracking: str, *, at: datetime | None = None) -> Order:
    """Pick, pack and ship an order with SF, handed over `at`."""
    await packed(number)
    return await shipments.ship(
        number=number,
        carrier="SF",
        tracking_number=tracking,
        actor=ADMIN,
        now=at or datetime.now(UTC),
        planner=Planner(),
    )


class FixedPayment:
    """Stripe's network edge, faked: every payment starts and is never paid."""

    def __init__(self) -> None:
        self.started: list[PaymentRequest] = []
        self.abandoned: list[str] = []

    async def start(self, request: PaymentRequest) -> StartedPayment:
        self.started.append(request)
        return StartedPayment("pi_test_fixed", "pi_test_fixed_secret_x", "requires_payment_method")

    async def abandon(self, intent_id: str) -> None:
        self.abandoned.append(intent_id)


async def subscribe(
    query: str, variables: dict[str, Any], actor: Actor | None
) -> AsyncIterator[Any]:
    """A subscription run in-process, as the websocket endpoint runs it."""
    context = Context(request=None, response=None, services=Services(), actor=actor)  # type: ignore[arg-type]
    result = await build_schema().subscribe(query, variables, context_value=context)
    if not hasattr(result, "__aiter__"):
        yield result
        return
    async for item in result:
        yield item
