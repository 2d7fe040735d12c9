"""A local charging system: a real HTTP server on a free port that credits phones, once a key.

    async with ChargingFake.running(secret="s3cret") as server:
        client = ChargingClient(ChargingConfig(base_url=server.url, secret="s3cret"))
        ...
        assert server.credits == {"topup:1": 1}

It speaks the protocol of `models/topups/charging.py` with its own code (none of the
client's): `POST /credits` and `GET /status/{key}`, each checked for its `X-Signature`
(`sha256=` and the hex HMAC-SHA256 of `"<X-Timestamp>." + body`), a timestamp within five
minutes and an `Idempotency-Key`; every answer signed the same way. What it did for a key is
kept: a credit sent again with that key is answered as the first was and credits nothing
more (the same key with another number or amount is a 409). A late confirmation is posted,
signed, to `callback_url` (through `callback_transport` when one is given).

Switches, as attributes or through `POST /_admin/switches` (JSON of the same names; `GET`
shows them with the counters), so a demo can flip them too:

    delay                seconds before each answer (the credit is made first)
    lose_answers         a fraction of credits made whose answer is cut off mid-way
    duplicate_callbacks  each callback is posted twice
    refuse               a reason code every credit is refused with ("" for none)
    not_in_service       numbers refused with NUMBER_NOT_IN_SERVICE
    outage               every request is answered 503, nothing is credited
    pending              None, or the seconds after which an accepted credit is confirmed
                         (PENDING until then, then DELIVERED and a callback)
    forge_answers        answers are signed with a wrong secret

Counters: `credits` (key: times credited, which must never pass 1), `total_credited` (credits
made), `face_value_credited`, `requests`, `bad_signatures`, `lost_answers`, `callbacks`.

Standalone, for `make run`: `python -m tests.fakes.charging --port 8790 --secret
dev-charging-secret [--callback-url URL]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import random
import re
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

TOLERANCE_SECONDS = 300
NUMBER = re.compile(r"^(?:\+[1-9][0-9]{7,14}|1[3-9][0-9]{9})$")
# Each switch, and the JSON types it takes.
SWITCHES: dict[str, tuple[type, ...]] = {
    "delay": (int, float),
    "lose_answers": (int, float),
    "duplicate_callbacks": (bool,),
    "refuse": (str,),
    "not_in_service": (list, set),
    "outage": (bool,),
    "pending": (int, float, type(None)),
    "forge_answers": (bool,),
}


@dataclass
class Credit:
    """What the charging system did for one key."""

    request: dict[str, Any]
    outcome: str  # DELIVERED, FAILED or PENDING
    reason: str
    transaction_id: str


class CutShort(Response):
    """An answer that starts and never ends: the caller sees the connection close mid-way."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"100")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        # Returning now, uvicorn closes the connection (and logs that the answer was cut).


class ChargingFake:
    def __init__(
        self,
        *,
        secret: str,
        callback_url: str | None = None,
        callback_transport: httpx.AsyncBaseTransport | None = None,
        port: int = 0,
    ) -> None:
        self.secret = secret
        self.callback_url = callback_url
        self._callback_transport = callback_transport  # e.g. an in-process app
        self.port = port
        self.delay = 0.0
        self.lose_answers = 0.0
        self.duplicate_callbacks = False
        self.refuse = ""
        self.not_in_service: set[str] = set()
        self.outage = False
        self.pending: float | None = None
        self.forge_answers = False
        self.records: dict[str, Credit] = {}
        self.credits: dict[str, int] = {}
        self.face_value_credited = 0
        self.requests = 0
        self.bad_signatures = 0
        self.lost_answers = 0
        self.callbacks: list[tuple[str, int | None]] = []  # key, the receiver's status
        self._random = random.Random(19)  # lost answers fall the same way on every run
        self._confirming: set[asyncio.Task[None]] = set()
        self._http: httpx.AsyncClient | None = None
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def total_credited(self) -> int:
        return sum(self.credits.values())

    @classmethod
    @contextlib.asynccontextmanager
    async def running(
        cls,
        *,
        secret: str,
        callback_url: str | None = None,
        callback_transport: httpx.AsyncBaseTransport | None = None,
    ) -> AsyncIterator[ChargingFake]:
        server = cls(
            secret=secret, callback_url=callback_url, callback_transport=callback_transport
        )
        await server.start()
        try:
            yield server
        finally:
            await server.stop()

    async def start(self) -> None:
        # IPPROTO_TCP named: asyncio sets TCP_NODELAY on accepted connections only for a
        # socket whose proto says TCP, and without it every answer waited ~40 ms for the
        # client's delayed ACK (benchmarks/PROFILES.md §21).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))  # bound before serving: a free port, no race
        self.port = sock.getsockname()[1]
        routes = [
            Route("/credits", self._credit, methods=["POST"]),
            Route("/status/{key:path}", self._status, methods=["GET"]),
            Route("/_admin/switches", self._switches, methods=["GET", "POST"]),
        ]
        config = uvicorn.Config(
            Starlette(routes=routes),
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            http="h11",
            ws="none",
            timeout_graceful_shutdown=1,
        )
        self._http = httpx.AsyncClient(timeout=5.0, transport=self._callback_transport)
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        async with asyncio.timeout(10):
            while not self._server.started:
                await asyncio.sleep(0.01)

    async def stop(self) -> None:
        for task in self._confirming:
            task.cancel()
        await asyncio.gather(*self._confirming, return_exceptions=True)
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
        if self._http is not None:
            await self._http.aclose()

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while not condition():
                await asyncio.sleep(0.01)

    # Signing, with this server's own code

    def signed_correctly(self, body: bytes, timestamp: str, given: str) -> bool:
        if not timestamp.isascii() or not timestamp.isdigit():
            return False
        if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
            return False
        return hmac.compare_digest(self.sign(body, timestamp).encode(), given.encode("utf-8"))

    def sign(self, body: bytes, timestamp: str, *, secret: str | None = None) -> str:
        key = (self.secret if secret is None else secret).encode()
        text = timestamp.encode() + b"." + body
        return "sha256=" + hmac.new(key, text, hashlib.sha256).hexdigest()

    def signed(self, document: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        """The body of `document` and the headers that sign it (wrongly if forging)."""
        body = json.dumps(document, separators=(",", ":")).encode()
        stamp = str(int(time.time()))
        secret = "not-" + self.secret if self.forge_answers else self.secret
        headers = {"X-Timestamp": stamp, "X-Signature": self.sign(body, stamp, secret=secret)}
        return body, headers

    def answer(self, document: dict[str, Any], status: int = 200) -> Response:
        body, headers = self.signed(document)
        return Response(body, status, headers=headers, media_type="application/json")

    # Serving

    async def _credit(self, request: Request) -> Response:
        refused = await self._refused(request)
        if refused is not None:
            return refused
        body = await request.body()
        document = _credit_request(body)
        key = request.headers.get("idempotency-key", "")
        if document is None or document["idempotencyKey"] != key:
            return JSONResponse({"error": "not a credit request"}, status_code=400)
        record = self.records.get(key)
        if record is None:
            record = self.records[key] = self._decide(document)
        elif record.request != document:
            return JSONResponse({"error": "this key was used for another credit"}, 409)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self._random.random() < self.lose_answers:
            self.lost_answers += 1
            return CutShort()
        return self._answer(key, record)

    async def _status(self, request: Request) -> Response:
        refused = await self._refused(request)
        if refused is not None:
            return refused
        key = request.path_params["key"]
        if self.delay:
            await asyncio.sleep(self.delay)
        record = self.records.get(key)
        if record is None:
            return self.answer({"idempotencyKey": key, "error": "not received"}, 404)
        return self._answer(key, record)

    async def _refused(self, request: Request) -> Response | None:
        """The answer to a request that goes no further: an outage, or a bad signature."""
        self.requests += 1
        if self.outage:
            return JSONResponse({"error": "temporarily unavailable"}, status_code=503)
        body = await request.body()
        timestamp = request.headers.get("x-timestamp", "")
        if not self.signed_correctly(body, timestamp, request.headers.get("x-signature", "")):
            self.bad_signatures += 1
            return JSONResponse({"error": "invalid signature"}, status_code=401)
        return None

    def _decide(self, document: dict[str, Any]) -> Credit:
        transaction_id = f"CS{len(self.records) + 1:010d}"
        number = document["msisdn"]
        if number in self.not_in_service or "+86" + number in self.not_in_service:
            return Credit(document, "FAILED", "NUMBER_NOT_IN_SERVICE", transaction_id)
        if self.refuse:
            return Credit(document, "FAILED", self.refuse, transaction_id)
        credit = Credit(document, "PENDING", "", transaction_id)
        if self.pending is None:
            self._land(document["idempotencyKey"], credit)
        else:
            task = asyncio.create_task(self._confirm(credit, after=self.pending))
            self._confirming.add(task)
            task.add_done_callback(self._confirming.discard)
        return credit

    def _land(self, key: str, credit: Credit) -> None:
        credit.outcome = "DELIVERED"
        self.credits[key] = self.credits.get(key, 0) + 1
        self.face_value_credited += credit.request["faceValue"]

    async def _confirm(self, credit: Credit, *, after: float) -> None:
        await asyncio.sleep(after)
        key = credit.request["idempotencyKey"]
        self._land(key, credit)
        for _ in range(2 if self.duplicate_callbacks else 1):
            await self.send_callback(key)

    async def send_callback(self, key: str) -> int | None:
        """Post the signed notice of `key` to `callback_url`; the receiver's status, None if
        it could not be reached (or no URL is set)."""
        if self.callback_url is None or self._http is None:
            return None
        body, headers = self.signed(_notice(key, self.records[key]))
        headers["Content-Type"] = "application/json"
        try:
            sent = await self._http.post(self.callback_url, content=body, headers=headers)
            status: int | None = sent.status_code
        except httpx.HTTPError:
            status = None
        self.callbacks.append((key, status))
        return status

    def _answer(self, key: str, record: Credit) -> Response:
        return self.answer(_notice(key, record), 202 if record.outcome == "PENDING" else 200)

    async def _switches(self, request: Request) -> JSONResponse:
        if request.method == "POST":
            try:
                self.switch(**json.loads(await request.body()))
            except (ValueError, TypeError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(self.report())

    def switch(self, **values: Any) -> None:
        """Set switches by name (`not_in_service` from any list of numbers)."""
        unknown = set(values) - set(SWITCHES)
        if unknown:
            raise ValueError(f"no such switch: {', '.join(sorted(unknown))}")
        for name, value in values.items():
            if not isinstance(value, SWITCHES[name]) or (
                isinstance(value, bool) and bool not in SWITCHES[name]
            ):
                raise ValueError(f"{name} cannot be {value!r}")
        for name, value in values.items():
            setattr(self, name, set(value) if name == "not_in_service" else value)

    def report(self) -> dict[str, Any]:
        switches = {name: getattr(self, name) for name in SWITCHES}
        switches["not_in_service"] = sorted(self.not_in_service)
        counters = {
            "credits": len(self.credits),
            "totalCredited": self.total_credited,
            "faceValueCredited": self.face_value_credited,
            "requests": self.requests,
            "badSignatures": self.bad_signatures,
            "lostAnswers": self.lost_answers,
            "callbacks": len(self.callbacks),
        }
        return {"switches": switches, "counters": counters}


def _credit_request(body: bytes) -> dict[str, Any] | None:
    """The credit a body asks for, if it is one."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    if not isinstance(document, dict) or set(document) != {
        "idempotencyKey",
        "msisdn",
        "faceValue",
        "product",
    }:
        return None
    value = document["faceValue"]
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        return None
    if not isinstance(document["msisdn"], str) or not NUMBER.match(document["msisdn"]):
        return None
    if document["product"] not in ("CREDIT", "DATA") or not document["idempotencyKey"]:
        return None
    return document


def _notice(key: str, record: Credit) -> dict[str, Any]:
    notice = {"idempotencyKey": key, "outcome": record.outcome}
    notice["transactionId"] = record.transaction_id
    if record.reason:
        notice["reason"] = record.reason
    return notice


class _QuietCuts(logging.Filter):
    """Standalone, the answers lost on purpose are not worth a line each."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


async def serve(port: int, secret: str, callback_url: str | None) -> None:
    server = ChargingFake(secret=secret, callback_url=callback_url, port=port)
    await server.start()
    print(f"Charging system on {server.url}; callbacks to {callback_url or '(none)'}")
    print(f'  switches: curl {server.url}/_admin/switches -d \'{{"refuse": "ACCOUNT_BARRED"}}\'')
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--secret", default="dev-charging-secret")
    parser.add_argument("--callback-url", default=None)
    args = parser.parse_args()
    logging.getLogger("uvicorn.error").addFilter(_QuietCuts())
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.secret, args.callback_url))


if __name__ == "__main__":
    main()
