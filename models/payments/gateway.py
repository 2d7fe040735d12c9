"""The Stripe gateway: PaymentIntents and Refunds through the real stripe-python client.

Stripe's exceptions end here: every call either returns or raises `PaymentUnavailable`,
so nothing upstream needs to know stripe-python's error tree.
"""

from __future__ import annotations

import logging
from decimal import Decimal

import stripe
from stripe.params import PaymentIntentCreateParams

from models.errors import PaymentUnavailable
from models.orders.ports import PaymentRequest, StartedPayment

log = logging.getLogger("pointsmall.payments")
ZERO_DECIMAL = frozenset(
    {
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    }
)


def minor_units(amount: Decimal, currency: str) -> int:
    """Stripe's integer amount: fen for CNY, yen for JPY."""
    factor = 1 if currency.lower() in ZERO_DECIMAL else 100
    return int((amount * factor).to_integral_value())


class StripeGateway:
    """Payments of the cash part, one PaymentIntent per order."""

    def __init__(
        self,
        *,
        api_key: str,
        api_base: str | None = None,
        timeout_seconds: float = 10.0,
        max_network_retries: int = 2,
    ) -> None:
        self._http = stripe.HTTPXClient(timeout=timeout_seconds)
        self.client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=self._http,
            max_network_retries=max_network_retries,
        )

    async def close(self) -> None:
        """Close the HTTP connections to Stripe (at shutdown)."""
        await self._http.close_async()  # type: ignore[no-untyped-call]

    async def start(self, request: PaymentRequest) -> StartedPayment:
        """Create the order's PaymentIntent; a retried call replays the same intent."""
        params: PaymentIntentCreateParams = {
            "amount": minor_units(request.amount, request.currency),
            "currency": request.currency.lower(),
            "automatic_payment_methods": {"enabled": True},
            "description": f"pointsmall order {request.order_number}",
            "metadata": {
                "order_number": request.order_number,
                "member": request.member_external_id,
            },
        }
        try:
            intent = await self.client.v1.payment_intents.create_async(
                params=params, options={"idempotency_key": request.idempotency_key}
            )
        except stripe.StripeError as exc:
            raise _unavailable("create a payment", exc) from exc
        return StartedPayment(
            intent_id=intent.id, client_secret=intent.client_secret or "", status=intent.status
        )

    async def abandon(self, intent_id: str) -> None:
        try:
            await self.cancel(intent_id, idempotency_key=f"abandon:{intent_id}")
        except PaymentUnavailable:
            log.warning("could not cancel abandoned payment %s; Stripe expires it", intent_id)

    async def refund(self, intent_id: str, *, idempotency_key: str) -> str:
        try:
            refund = await self.client.v1.refunds.create_async(
                params={"payment_intent": intent_id}, options={"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as exc:
            raise _unavailable("refund a payment", exc) from exc
        return refund.id

    async def cancel(self, intent_id: str, *, idempotency_key: str) -> None:
        try:
            await self.client.v1.payment_intents.cancel_async(
                intent_id, options={"idempotency_key": idempotency_key}
            )
        except stripe.InvalidRequestError as exc:
            if getattr(exc, "code", None) == "payment_intent_unexpected_state":
                return  # already cancelled (or paid, which the webhook then refunds)
            raise _unavailable("cancel a payment", exc) from exc
        except stripe.StripeError as exc:
            raise _unavailable("cancel a payment", exc) from exc


def _unavailable(action: str, exc: stripe.StripeError) -> PaymentUnavailable:
    log.warning("Stripe could not %s: %s %s", action, type(exc).__name__, exc.user_message or "")
    return PaymentUnavailable(f"the payment service could not {action}; please try again later")
