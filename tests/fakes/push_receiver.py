"""A local push platform: a real HTTP server on a free port that takes signed pushes.

    async with PushReceiver.running(secret="s3cret") as platform:
        push = WebhookPush(WebhookConfig(url=platform.url, secret="s3cret"))
        ...
        await platform.wait_for(lambda: len(platform.delivered) == 1)

It checks each request as a push platform would, with its own code (none of the sender's):
the `X-Signature` (`sha256=` and the hex HMAC-SHA256 of `"<X-Pointsmall-Timestamp>." +
body` with its secret), a timestamp within five minutes, an `Idempotency-Key` and a JSON
body. A request that fails the check is answered 401 and counted in `bad_signatures`; a good
one is kept in `accepted` (every request that passed), and in `delivered` once per
idempotency key (what the member's phone shows: a resend with a key already seen is
answered 200 and dropped, counted in `duplicates`).

Switches: `fail_next(count, status)` answers the next `count` good requests with `status`
(500 by default) and keeps nothing of them; `refuse_all(status)` answers every request so
until `accept_all()`; `delay_next(count, seconds)` answers the next `count` requests late
(the sender may have given up by then: the push was still taken).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class Push:
    """A push the platform took."""

    key: str  # the Idempotency-Key
    body: dict[str, Any]
    timestamp: int
    at: float  # time.monotonic()


class PushReceiver:
    def __init__(self, *, secret: str) -> None:
        self.secret = secret
        self.requests = 0
        self.bad_signatures = 0
        self.duplicates = 0
        self.accepted: list[Push] = []
        self.delivered: dict[str, Push] = {}
        self._fail_left = 0
        self._fail_status = 500
        self._refusing: int | None = None
        self._delay_left = 0
        self._delay = 0.0
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/push"

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, *, secret: str) -> AsyncIterator[PushReceiver]:
        receiver = cls(secret=secret)
        await receiver.start()
        try:
            yield receiver
        finally:
            await receiver.stop()

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))  # bound before serving: a free port, no race
        self.port = sock.getsockname()[1]
        app = Starlette(routes=[Route("/push", self._push, methods=["POST"])])
        config = uvicorn.Config(
            app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            http="h11",
            ws="none",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        async with asyncio.timeout(10):
            while not self._server.started:
                await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while not condition():
                await asyncio.sleep(0.02)

    # Switches

    def fail_next(self, count: int, status: int = 500) -> None:
        self._fail_left, self._fail_status = count, status

    def refuse_all(self, status: int) -> None:
        self._refusing = status

    def accept_all(self) -> None:
        self._refusing = None

    def delay_next(self, count: int, seconds: float) -> None:
        self._delay_left, self._delay = count, seconds

    # Serving

    def signed_correctly(self, body: bytes, timestamp: str, signature: str) -> bool:
        """Whether `signature` is this platform's secret's HMAC of the timestamp and body."""
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
            return False
        text = timestamp.encode() + b"." + body
        expected = "sha256=" + hmac.new(self.secret.encode(), text, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, signature)

    async def _push(self, request: Request) -> JSONResponse:
        self.requests += 1
        body = await request.body()
        if self._delay_left > 0:
            self._delay_left -= 1
            await asyncio.sleep(self._delay)
        timestamp = request.headers.get("x-pointsmall-timestamp", "")
        key = request.headers.get("idempotency-key", "")
        if not self.signed_correctly(body, timestamp, request.headers.get("x-signature", "")):
            self.bad_signatures += 1
            return JSONResponse({"error": "invalid signature"}, status_code=401)
        if self._refusing is not None:
            return JSONResponse({"error": "refused"}, status_code=self._refusing)
        if self._fail_left > 0:
            self._fail_left -= 1
            return JSONResponse({"error": "try again"}, status_code=self._fail_status)
        try:
            document = json.loads(body)
        except ValueError:
            return JSONResponse({"error": "not JSON"}, status_code=400)
        if not key:
            return JSONResponse({"error": "Idempotency-Key is required"}, status_code=400)
        push = Push(key, document, int(timestamp), time.monotonic())
        self.accepted.append(push)
        if key in self.delivered:
            self.duplicates += 1
        else:
            self.delivered[key] = push
        return JSONResponse({"ok": True})
