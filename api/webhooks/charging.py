"""POST /webhooks/charging: the charging system's late confirmations, verified, applied once.

A notice is believed only when signed with CHARGING_SECRET within five minutes
(`verify_callback`); its key names the order line (`topup:<line id>`). It moves a line
that is still PENDING and nothing else: a replay, a notice of a line already final or one
contradicting an earlier end is answered 200 with `"applied": false`, so the sender stops
retrying, and the line never moves backwards. Without CHARGING_URL the route answers 404:
no charging system, no confirmations (and the development secret signs nothing)."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse

from models.topups import delivery
from models.topups.charging import verify_callback
from models.topups.ports import line_of_key
from schema.context import Services

log = logging.getLogger("pointsmall.webhooks.charging")


async def charging_webhook(request: Request) -> JSONResponse:
    """Verify the signature, then apply the notice to its line if the line is pending."""
    services: Services = request.app.state.services
    settings = request.app.state.settings
    if settings.charging_url is None:  # no charging system: nobody may confirm a credit
        return JSONResponse({"error": "no charging system is configured"}, status_code=404)
    secret: str = settings.charging_secret
    body = await request.body()
    notice = verify_callback(body, request.headers, secret=secret, now=services.clock())
    if notice is None:
        log.warning("refused a charging callback: forged, stale or malformed")
        return JSONResponse({"error": "invalid payload or signature"}, status_code=401)
    line_id = line_of_key(notice.idempotency_key)
    if line_id is None:
        return JSONResponse({"received": True, "applied": False, "why": "not a top-up key"})
    applied = await delivery.apply_notice(
        line_id=line_id,
        outcome=notice.outcome,
        reason=notice.reason,
        transaction_id=notice.transaction_id,
        now=services.clock(),
    )
    return JSONResponse({"received": True, "applied": applied})
