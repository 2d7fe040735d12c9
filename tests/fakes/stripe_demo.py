"""The Stripe test server on a fixed port, to try the points-plus-cash flow by hand.

    make stripe-demo     (then `make run` in another terminal; both use port defaults)

`POST /_demo/pay/{intent_id}` plays the customer paying: the intent succeeds and the signed
`payment_intent.succeeded` webhook goes to the API. `POST /_demo/decline/{intent_id}` plays a
declined card.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes.stripe_server import StripeFake


def _control(server: StripeFake, action: str) -> Route:
    async def endpoint(request: Request) -> JSONResponse:
        intent_id = request.path_params["intent_id"]
        try:
            event = server.succeed(intent_id) if action == "pay" else server.fail_payment(intent_id)
        except (KeyError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        delivered = await server.deliver(event)
        return JSONResponse({"event": event["type"], "webhook_status": delivered.status_code})

    return Route(f"/_demo/{action}/{{intent_id}}", endpoint, methods=["POST"])


async def serve(port: int, webhook_url: str, secret: str) -> None:
    server = StripeFake(webhook_url=webhook_url, webhook_secret=secret, port=port)
    server._app.router.routes[:0] = [_control(server, "pay"), _control(server, "decline")]
    await server.start_async()
    print(f"Stripe test server on {server.base_url}; webhooks to {webhook_url}")
    print(f"  pay an intent:  curl -X POST {server.base_url}/_demo/pay/<intent id>")
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop_async()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--webhook-url", default="http://127.0.0.1:8000/webhooks/stripe")
    parser.add_argument("--secret", default="whsec_pointsmall_development")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.webhook_url, args.secret))


if __name__ == "__main__":
    main()
