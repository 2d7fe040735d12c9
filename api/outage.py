"""503 instead of 500 when an HTTP route fails because the database is out of reach.

GraphQL maps the outage itself (`SERVICE_UNAVAILABLE`, in `schema/errors.py`); this covers
the plain routes, above all the webhooks: Stripe and the carriers retry a 503 later, and an
operator's dashboard tells an outage from a bug. Both ask `models.database_outage` whether
an exception is an outage.
"""

from __future__ import annotations

import logging

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models.database_outage import database_unavailable

log = logging.getLogger("pointsmall.outage")
RETRY_AFTER_SECONDS = "5"


class DatabaseOutageMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started or not database_unavailable(exc):
                raise
            log.warning("database unavailable at %s: %s", scope["path"], type(exc).__name__)
            response = JSONResponse(
                {"error": "service temporarily unavailable; please retry"},
                status_code=503,
                headers={"Retry-After": RETRY_AFTER_SECONDS},
            )
            await response(scope, receive, send)
