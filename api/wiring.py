"""The settings turned into adapters and policies, in one place for the app, worker and CLI.

The API's services, the worker's jobs and the command line each need a ship planner and a
payment gateway configured alike: built here, a setting cannot mean one thing to the API
and another to the worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from api.settings import Settings
from fulfilment.planning import Planner
from models.orders.ports import OrderEffect
from models.payments.gateway import StripeGateway


def planner_of(settings: Settings) -> Planner:
    """The ship planner: the promise's length and the at-risk threshold."""
    return Planner(
        within=timedelta(days=settings.ship_within_days),
        at_risk=timedelta(hours=settings.at_risk_hours),
    )


def order_effects_of(settings: Settings) -> tuple[OrderEffect, ...]:
    """Writes that go with every order placed, besides the deadlines the planner watches and
    the change notice: a module that adds one (an outbox, say) is listed here."""
    return ()


def gateway_of(settings: Settings) -> StripeGateway:
    """The Stripe gateway; its owner closes it (`await gateway.close()`)."""
    return StripeGateway(
        api_key=settings.stripe_api_key,
        api_base=settings.stripe_api_base,
        timeout_seconds=settings.stripe_timeout_seconds,
    )


@dataclass(frozen=True)
class SweepPolicy:
    """What the worker's jobs are told besides their adapters; `batch` is the rows (orders,
    alerts) one transaction of a job takes, and ten times as many due points lots."""

    compensation_rate: Decimal = Decimal("0.10")
    payment_timeout: timedelta = timedelta(minutes=30)
    batch: int = 100


def policy_of(settings: Settings) -> SweepPolicy:
    """What the worker's jobs are told: the compensation rate and the payment timeout."""
    return SweepPolicy(
        compensation_rate=settings.compensation_rate,
        payment_timeout=timedelta(minutes=settings.payment_timeout_minutes),
    )
