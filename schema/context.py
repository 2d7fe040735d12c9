"""The per-request context: who is calling, the request's DataLoaders, the services."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar, cast

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader
from strawberry.types import Info as StrawberryInfo

from fulfilment.planning import Planner
from models.actors import Actor
from models.aftersales.rules import TicketPolicy
from models.orders.ports import OrderEffect, PaymentStarter, ShipPlanner
from models.vouchers.seal import VoucherSeal

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Services:
    """What resolvers hand to the domain besides the arguments: policy, gateways, the bus."""

    clock: Callable[[], datetime] = utc_now
    currency: str = "CNY"
    ship_within_days: int = 7
    digital_delivery_minutes: int = 10
    at_risk_hours: int = 48
    payment_timeout_minutes: int = 30
    compensation_rate: Decimal = Decimal("0.10")
    points_timezone: str = "Asia/Shanghai"
    planner: ShipPlanner = field(default_factory=Planner)
    payments: PaymentStarter | None = None
    # Writes that go with every order placed, besides its deadlines and its notice: each
    # module that adds one lists it here (api/wiring.py).
    order_effects: tuple[OrderEffect, ...] = ()
    write_limit: Any = None
    # A billing credit of this many points or more is told to its member (None: never).
    notify_credits_from: int | None = None
    ticket_policy: TicketPolicy = field(default_factory=TicketPolicy)
    voucher_seal: VoucherSeal | None = None  # the settings' (api/wiring.py)

    @property
    def ship_within(self) -> timedelta:
        return timedelta(days=self.ship_within_days)

    @property
    def at_risk(self) -> timedelta:
        return timedelta(hours=self.at_risk_hours)


class Loaders:
    """Per-request DataLoaders, one per batch function, created on first use."""

    def __init__(self) -> None:
        self._loaders: dict[object, DataLoader[Any, Any]] = {}

    def of(self, batch: Callable[[Sequence[K]], Awaitable[Sequence[V]]]) -> DataLoader[K, V]:
        loader = self._loaders.get(batch)
        if loader is None:
            loader = DataLoader(load_fn=cast(Any, batch))
            self._loaders[batch] = loader
        return cast(DataLoader[K, V], loader)

    def named(
        self, name: str, batch: Callable[[Sequence[K]], Awaitable[Sequence[V]]]
    ) -> DataLoader[K, V]:
        """The request's loader called `name`, made from `batch` on first use."""
        loader = self._loaders.get(name)
        if loader is None:
            loader = DataLoader(load_fn=cast(Any, batch))
            self._loaders[name] = loader
        return cast(DataLoader[K, V], loader)


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | WebSocket | None
    services: Services
    actor: Actor | None = None
    auth_failure: str | None = None
    loaders: Loaders = field(default_factory=Loaders)
    connection_params: dict[str, object] | None = None

    def now(self) -> datetime:
        return self.services.clock()


Info = StrawberryInfo[Context, None]
