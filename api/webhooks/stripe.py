"""POST /webhooks/stripe: signed Stripe events, verified by stripe-python, applied once."""

from __future__ import annotations

import logging

import stripe
from starlette.requests import Request
from starlette.responses import JSONResponse

from models.payments.webhooks import apply_event
from schema.context import Services

log = logging.getLogger("pointsmall.webhooks.stripe")


async def stripe_webhook(request: Request) -> JSONResponse:
    """Verify the signature, then apply the event; 400 for anything not from Stripe."""
    services: Services = request.app.state.services
    secret: str = request.app.state.settings.stripe_webhook_secret
    payload = await request.body()
    try:
        event = stripe.Webhook.construct_event(
            payload, request.headers.get("stripe-signature", ""), secret
        )
    except (ValueError, stripe.SignatureVerificationError) as exc:
        log.warning("refused a Stripe webhook: %s", type(exc).__name__)
        return JSONResponse({"error": "invalid payload or signature"}, status_code=400)
    intent = event.data.object
    if getattr(intent, "object", None) != "payment_intent":
        return JSONResponse({"received": True, "outcome": "ignored"})
    applied = await apply_event(
        event_id=event.id,
        event_type=event.type,
        intent_id=str(intent.id),
        now=services.clock(),
        planner=services.planner,
        gateway=services.payments,
        ship_within=services.ship_within,
    )
    return JSONResponse({"received": True, "outcome": applied.outcome})
