"""The settings turned into adapters and policies, in one place for the app, worker and CLI.

The API's services, the worker's jobs and the command line each need a ship planner and a
payment gateway configured alike: built here, a setting cannot mean one thing to the API
and another to the worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, unquote, urlsplit

from api.settings import Settings
from fulfilment.planning import Planner
from models.aftersales.rules import TicketPolicy
from models.notifications.delivery import DeliveryPolicy
from models.notifications.ports import LogSmsCentre, PushPlatform, SmsCentre
from models.notifications.push import PushPolicy
from models.notifications.push_webhook import WebhookConfig, WebhookPush
from models.notifications.router import RouterPolicy
from models.notifications.rules import QuietHours
from models.notifications.smpp import SmppCentre, SmppConfig
from models.orders.ports import OrderEffect
from models.payments.gateway import StripeGateway
from models.topups.charging import ChargingClient, ChargingConfig
from models.vouchers.seal import VoucherSeal


def voucher_seal_of(settings: Settings) -> VoucherSeal:
    """What seals and opens the e-voucher codes."""
    return VoucherSeal(settings.voucher_keys, settings.voucher_digest_key)


def planner_of(settings: Settings) -> Planner:
    """The ship planner: the promise's length and the at-risk threshold."""
    return Planner(
        within=timedelta(days=settings.ship_within_days),
        at_risk=timedelta(hours=settings.at_risk_hours),
    )


def ticket_policy_of(settings: Settings) -> TicketPolicy:
    """The after-sales promise: first reply, later answers, resolution, at risk, goodwill."""
    return TicketPolicy(
        first_reply=timedelta(hours=settings.first_reply_hours),
        follow_up=timedelta(hours=settings.follow_up_reply_hours),
        resolve=timedelta(days=settings.resolve_within_days),
        at_risk=timedelta(hours=settings.service_at_risk_hours),
        compensation_points=settings.ticket_compensation_points,
        goodwill_daily_cap=settings.goodwill_daily_cap,
        timezone=settings.points_timezone,
    )


def quiet_hours_of(settings: Settings) -> QuietHours:
    """When only urgent messages go: QUIET_HOURS (HH:MM-HH:MM) in the programme's zone."""
    start, end = settings.quiet_hours.split("-")
    return QuietHours(
        start=time.fromisoformat(start),
        end=time.fromisoformat(end),
        timezone=settings.points_timezone,
    )


def delivery_policy_of(settings: Settings) -> DeliveryPolicy:
    return DeliveryPolicy(quiet=quiet_hours_of(settings))


def push_policy_of(settings: Settings) -> PushPolicy:
    return PushPolicy(quiet=quiet_hours_of(settings))


def push_platform_of(settings: Settings) -> PushPlatform | None:
    """The operator's push platform (PUSH_WEBHOOK_URL), or None: then nothing is pushed."""
    if settings.push_webhook_url is None:
        return None
    return WebhookPush(
        WebhookConfig(
            url=settings.push_webhook_url,
            secret=settings.push_webhook_secret,
            timeout_seconds=settings.push_timeout_seconds,
        )
    )


def router_policy_of(settings: Settings) -> RouterPolicy:
    return RouterPolicy(replies_per_hour=settings.sms_replies_per_hour)


def credits_told_from(settings: Settings) -> int | None:
    """The smallest credit by billing its member is told of (None: none are)."""
    return settings.notify_credits_from if settings.notify_credits_from > 0 else None


def sms_centre_of(settings: Settings) -> SmsCentre:
    """The operator's SMS centre (SMSC_URL), or the log when none is configured."""
    if settings.smsc_url is None:
        return LogSmsCentre()
    return SmppCentre(smpp_config_of(settings.smsc_url))


def smpp_config_of(url: str) -> SmppConfig:
    """`smpp://system_id:password@host:port?source=10658888&window=10&system_type=...`;
    raises ValueError for what SMPP cannot carry."""
    parts = urlsplit(url)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    return SmppConfig(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 2775,
        system_id=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        source=query.get("source", "10658888"),
        system_type=query.get("system_type", ""),
        window=int(query.get("window", "10")),
    )


def order_effects_of(settings: Settings) -> tuple[OrderEffect, ...]:
    """Writes that go with every order placed, besides the deadlines the planner watches and
    the change notice: a module that adds one (an outbox, say) is listed here."""
    return ()


def charging_of(settings: Settings) -> ChargingClient | None:
    """The charging system top-ups go to, if one is configured; its owner closes it."""
    if settings.charging_url is None:
        return None
    config = ChargingConfig(
        base_url=settings.charging_url,
        secret=settings.charging_secret,
        timeout_seconds=settings.charging_timeout_seconds,
    )
    return ChargingClient(config)


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
    service: TicketPolicy = field(default_factory=TicketPolicy)
    voucher_low: int = 100  # an e-voucher pool with this many codes left or fewer is alerted


def policy_of(settings: Settings) -> SweepPolicy:
    """What the worker's jobs are told: the compensation rate and the payment timeout."""
    return SweepPolicy(
        compensation_rate=settings.compensation_rate,
        payment_timeout=timedelta(minutes=settings.payment_timeout_minutes),
        service=ticket_policy_of(settings),
        voucher_low=settings.voucher_low_stock,
    )
