"""A Stripe-compatible HTTP test server for the real stripe-python client.

``StripeFake`` serves a small slice of Stripe's v1 API (PaymentIntents and Refunds) on
127.0.0.1 using Stripe's wire protocol: form-encoded requests with bracketed keys, bearer
authentication, ``Idempotency-Key`` replay semantics and ``{"error": {...}}`` JSON errors.
It also signs and delivers webhook events with Stripe's ``Stripe-Signature`` scheme.

Point the real client at it::

    async with StripeFake.running() as server:
        client = stripe.StripeClient(
            "sk_test_fake",
            base_addresses={"api": server.base_url},
            http_client=stripe.HTTPXClient(),
        )

The server runs uvicorn on its own event loop in a daemon thread, so it works the same
from sync tests and from async tests of any loop scope. Behaviour it does not model (for
example ``confirm=true``) is refused with a 400 naming this file rather than faked.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import hmac
import json
import re
import secrets
import socket
import string
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final, Self, TypeAlias
from urllib.parse import parse_qsl

import httpx
import stripe
import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

JSONObject: TypeAlias = dict[str, Any]
Operation: TypeAlias = Callable[[JSONObject, dict[str, str]], JSONObject]

_ID_ALPHABET: Final = string.ascii_letters + string.digits
_BEARER: Final = re.compile(r"Bearer\s+(\S+)\s*$")
_TEST_KEY: Final = re.compile(r"(sk|rk)_test_[A-Za-z0-9_]+")
_KEY_PART: Final = re.compile(r"\[([^\[\]]*)\]")
_MAX_IDEMPOTENCY_KEY: Final = 255
_STARTUP_TIMEOUT: Final = 10.0
_POLL_INTERVAL: Final = 0.01

# Stripe's documented minimum charge amounts, in minor units, for the common currencies.
_MINIMUM_AMOUNT: Final[dict[str, int]] = {
    "aud": 50, "brl": 50, "cad": 50, "chf": 50, "dkk": 250, "eur": 50, "gbp": 30,
    "hkd": 400, "jpy": 50, "mxn": 1000, "nok": 300, "nzd": 50, "pln": 200, "sek": 300,
    "sgd": 50, "usd": 50,
}  # fmt: skip
_MAXIMUM_AMOUNT: Final = 99_999_999
_PAYABLE: Final = frozenset(
    {"requires_payment_method", "requires_confirmation", "requires_action", "processing"}
)
_CANCELABLE: Final = _PAYABLE | {"requires_capture"}
_CANCELLATION_REASONS: Final = frozenset(
    {"duplicate", "fraudulent", "requested_by_customer", "abandoned"}
)
_REFUND_REASONS: Final = frozenset({"duplicate", "fraudulent", "requested_by_customer"})

# Real Stripe parameters the fake understands, per operation. Anything else that Stripe
# accepts is refused loudly (see _check_params) so tests never pass on behaviour that was
# silently ignored here.
_INTENT_CREATE: Final = frozenset(
    {
        "amount", "currency", "metadata", "description", "automatic_payment_methods",
        "payment_method_types", "receipt_email", "statement_descriptor_suffix",
    }
)  # fmt: skip
_INTENT_CREATE_UNMODELLED: Final = frozenset(
    {
        "amount_details", "application_fee_amount", "capture_method", "confirm",
        "confirmation_method", "confirmation_token", "customer", "error_on_requires_action",
        "excluded_payment_method_types", "expand", "hooks", "mandate", "mandate_data",
        "off_session", "on_behalf_of", "payment_details", "payment_method",
        "payment_method_configuration", "payment_method_data", "payment_method_options",
        "radar_options", "return_url", "setup_future_usage", "shipping",
        "statement_descriptor", "transfer_data", "transfer_group", "use_stripe_sdk",
    }
)  # fmt: skip
_INTENT_RETRIEVE: Final = frozenset({"client_secret"})
_INTENT_CANCEL: Final = frozenset({"cancellation_reason"})
_REFUND_CREATE: Final = frozenset({"payment_intent", "charge", "amount", "metadata", "reason"})
_REFUND_CREATE_UNMODELLED: Final = frozenset(
    {
        "currency", "customer", "expand", "instructions_email", "origin",
        "refund_application_fee", "reverse_transfer",
    }
)  # fmt: skip


class StripeErrorResponse(Exception):
    """A Stripe API error, rendered as Stripe's ``{"error": {...}}`` body with its status.

    ``replayable`` says whether Stripe would store the result under the idempotency key:
    errors raised while the endpoint executes are stored, parameter validation failures
    are not (Stripe only saves results once an endpoint has started executing).
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        replayable: bool = True,
        extra: JSONObject | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type
        self.code = code
        self.param = param
        self.replayable = replayable
        self.extra = extra or {}

    def body(self) -> JSONObject:
        """The JSON body Stripe sends for this error."""
        error: JSONObject = {"type": self.error_type, "message": self.message}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param is not None:
            error["param"] = self.param
        error.update(self.extra)
        return {"error": error}


@dataclass(frozen=True)
class RecordedRequest:
    """One API request as the fake received it, with the status it answered."""

    method: str
    path: str
    params: JSONObject
    headers: dict[str, str]
    idempotency_key: str | None
    request_id: str
    status: int
    replayed: bool


@dataclass(frozen=True)
class _Call:
    """The parts of an HTTP request the API pipeline needs."""

    method: str
    path: str
    params: JSONObject
    headers: dict[str, str]
    path_params: dict[str, str]

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")

    @property
    def endpoint(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class _Reply:
    """A response body and status; ``storable`` marks results kept for idempotent replay."""

    status: int
    body: bytes
    storable: bool
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _StoredReply:
    """The first result for an idempotency key and the request that produced it."""

    endpoint: str
    params: JSONObject
    reply: _Reply
    request_id: str


# --- wire format -------------------------------------------------------------------------


def new_id(prefix: str, length: int = 24) -> str:
    """A Stripe-style object id such as ``pi_3Qx...``."""
    return f"{prefix}_{_token(length)}"


def _token(length: int) -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def parse_params(raw: str) -> JSONObject:
    """Decode Stripe's form encoding (``metadata[k]=v``, ``expand[0]=x``) into nested data."""
    root: JSONObject = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        _assign(root, _key_path(key), value)
    return {key: _listify(value, key) for key, value in root.items()}


def _key_path(key: str) -> list[str]:
    head, bracket, rest = key.partition("[")
    return [head, *_KEY_PART.findall(bracket + rest)] if bracket else [key]


def _assign(node: JSONObject, path: list[str], value: str) -> None:
    *parents, leaf = path
    for part in parents:
        child = node.get(part or str(len(node)))
        if not isinstance(child, dict):
            # A scalar and a nested value under one key: the nested one wins, as in Rack.
            child = node[part or str(len(node))] = {}
        node = child
    node[leaf or str(len(node))] = value


def _listify(value: Any, key: str) -> Any:
    """Turn ``{"0": a, "1": b}`` into ``[a, b]``, leaving metadata keys alone."""
    if not isinstance(value, dict):
        return value
    converted = {k: _listify(v, k) for k, v in value.items()}
    if key != "metadata" and converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def _json_bytes(body: JSONObject) -> bytes:
    return json.dumps(body, indent=2).encode()


def _error_reply(error: StripeErrorResponse) -> _Reply:
    return _Reply(error.status, _json_bytes(error.body()), storable=error.replayable)


def _transient_failure(status: int) -> StripeErrorResponse:
    if status == 429:
        return StripeErrorResponse(
            429,
            "Request rate limit exceeded. Retry with exponential backoff.",
            code="rate_limit",
            replayable=False,
        )
    if status == 409:
        return StripeErrorResponse(
            409,
            "This object cannot be accessed right now because another API request or "
            "Stripe process is currently accessing it.",
            code="lock_timeout",
            replayable=False,
        )
    return StripeErrorResponse(
        status,
        "An unknown error occurred while processing your request.",
        error_type="api_error",
        replayable=False,
    )


def _authenticate(authorization: str | None) -> str:
    """Return the secret key from a bearer header, or raise Stripe's 401."""
    if not authorization:
        raise StripeErrorResponse(
            401,
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
            "YOUR_SECRET_KEY').",
            replayable=False,
        )
    match = _BEARER.match(authorization)
    if match is None or _TEST_KEY.fullmatch(match.group(1)) is None:
        shown = match.group(1) if match else authorization
        raise StripeErrorResponse(
            401,
            f"Invalid API Key provided: {shown[:8]}****{shown[-4:]}",
            code="api_key_invalid",
            replayable=False,
        )
    return match.group(1)


# --- parameter validation ----------------------------------------------------------------


def _invalid(message: str, param: str, code: str | None = None) -> StripeErrorResponse:
    return StripeErrorResponse(400, message, code=code, param=param, replayable=False)


def _check_params(params: JSONObject, known: frozenset[str], unmodelled: frozenset[str]) -> None:
    for name in params:
        if name in unmodelled:
            raise _invalid(
                f"StripeFake does not model the '{name}' parameter; extend "
                "tests/fakes/stripe_server.py before relying on it.",
                name,
                code="fake_unsupported_parameter",
            )
        if name not in known:
            raise _invalid(f"Received unknown parameter: {name}", name, "parameter_unknown")


def _optional_str(params: JSONObject, name: str) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _invalid(f"Invalid string: {value!r}", name, "parameter_invalid_string")
    return value


def _optional_int(params: JSONObject, name: str) -> int | None:
    value = _optional_str(params, name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise _invalid(f"Invalid integer: {value}", name, "parameter_invalid_integer") from None


def _required_int(params: JSONObject, name: str) -> int:
    value = _optional_int(params, name)
    if value is None:
        raise _invalid(f"Missing required param: {name}.", name, "parameter_missing")
    return value


def _enum(params: JSONObject, name: str, allowed: frozenset[str]) -> str | None:
    value = _optional_str(params, name)
    if value is not None and value not in allowed:
        choices = ", ".join(sorted(allowed))
        raise _invalid(f"Invalid {name}: must be one of {choices}", name, "parameter_invalid")
    return value


def _metadata(params: JSONObject) -> dict[str, str]:
    value = params.get("metadata")
    if value is None or value == "":
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _invalid("Invalid metadata: must be a hash of strings", "metadata")
    if len(value) > 50 or any(len(k) > 40 or len(v) > 500 for k, v in value.items()):
        raise _invalid(
            "Metadata may hold 50 keys of up to 40 characters and values of up to 500.",
            "metadata",
        )
    return {k: v for k, v in value.items() if v != ""}


def _amount(params: JSONObject, currency: str) -> int:
    amount = _required_int(params, "amount")
    minimum = _MINIMUM_AMOUNT.get(currency, 1)
    if amount < minimum:
        raise _invalid(
            f"Amount must be at least {minimum} {currency} in the smallest currency unit",
            "amount",
            "amount_too_small",
        )
    if amount > _MAXIMUM_AMOUNT:
        raise _invalid(
            f"Amount must be no more than {_MAXIMUM_AMOUNT}", "amount", "amount_too_large"
        )
    return amount


def _currency(params: JSONObject) -> str:
    value = _optional_str(params, "currency")
    if value is None:
        raise _invalid("Missing required param: currency.", "currency", "parameter_missing")
    if not re.fullmatch(r"[A-Za-z]{3}", value):
        raise _invalid(f"Invalid currency: {value}.", "currency")
    return value.lower()


def _payment_methods(params: JSONObject) -> tuple[JSONObject | None, list[str]]:
    """Resolve ``automatic_payment_methods`` and ``payment_method_types`` like Stripe."""
    automatic = params.get("automatic_payment_methods")
    types = params.get("payment_method_types")
    if automatic is not None and types is not None:
        raise _invalid(
            "You may only specify one of these parameters: automatic_payment_methods, "
            "payment_method_types.",
            "automatic_payment_methods",
        )
    if types is not None:
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise _invalid("Invalid array", "payment_method_types")
        return None, list(types)
    enabled = automatic.get("enabled", "true") if isinstance(automatic, dict) else "true"
    if enabled not in ("true", "false"):
        raise _invalid("Invalid boolean: " + str(enabled), "automatic_payment_methods[enabled]")
    return {"enabled": enabled == "true"}, ["card"]


# --- the ledger --------------------------------------------------------------------------


class _Ledger:
    """Stripe's stored objects and idempotency results; guarded by ``StripeFake``'s lock."""

    def __init__(self) -> None:
        self.intents: dict[str, JSONObject] = {}
        self.refunds: dict[str, JSONObject] = {}
        self.refunded: dict[str, int] = {}
        self.replies: dict[tuple[str, str], _StoredReply] = {}
        self.requests: list[RecordedRequest] = []
        self.events: list[JSONObject] = []

    def create_intent(self, params: JSONObject) -> JSONObject:
        """``POST /v1/payment_intents``."""
        _check_params(params, _INTENT_CREATE, _INTENT_CREATE_UNMODELLED)
        currency = _currency(params)
        amount = _amount(params, currency)
        automatic, types = _payment_methods(params)
        intent_id = new_id("pi")
        intent = _new_intent(intent_id, amount, currency, automatic, types)
        intent["metadata"] = _metadata(params)
        for name in ("description", "receipt_email", "statement_descriptor_suffix"):
            intent[name] = _optional_str(params, name)
        self.intents[intent_id] = intent
        return intent

    def retrieve_intent(self, intent_id: str, params: JSONObject) -> JSONObject:
        """``GET /v1/payment_intents/{id}``."""
        _check_params(params, _INTENT_RETRIEVE, frozenset())
        return self.intent(intent_id)

    def cancel_intent(self, intent_id: str, params: JSONObject) -> JSONObject:
        """``POST /v1/payment_intents/{id}/cancel``."""
        _check_params(params, _INTENT_CANCEL, frozenset())
        reason = _enum(params, "cancellation_reason", _CANCELLATION_REASONS)
        intent = self.intent(intent_id)
        if intent["status"] not in _CANCELABLE:
            raise _unexpected_state(intent, "cancel", _CANCELABLE)
        intent.update(status="canceled", canceled_at=int(time.time()))
        intent["cancellation_reason"] = reason
        return intent

    def create_refund(self, params: JSONObject) -> JSONObject:
        """``POST /v1/refunds``."""
        _check_params(params, _REFUND_CREATE, _REFUND_CREATE_UNMODELLED)
        reason = _enum(params, "reason", _REFUND_REASONS)
        metadata = _metadata(params)
        requested = _optional_int(params, "amount")
        intent = self._refundable_intent(params)
        amount = self._refund_amount(intent, requested)
        refund = _new_refund(intent, amount, reason, metadata)
        self.refunds[refund["id"]] = refund
        self.refunded[intent["id"]] = self.refunded.get(intent["id"], 0) + amount
        return refund

    def retrieve_refund(self, refund_id: str, params: JSONObject) -> JSONObject:
        """``GET /v1/refunds/{id}``."""
        _check_params(params, frozenset(), frozenset())
        if refund_id not in self.refunds:
            raise _no_such("refund", refund_id)
        return self.refunds[refund_id]

    def intent(self, intent_id: str, param: str | None = None) -> JSONObject:
        """The stored intent, or Stripe's 404 ``resource_missing``."""
        if intent_id not in self.intents:
            raise _no_such("payment_intent", intent_id, param)
        return self.intents[intent_id]

    def succeed(self, intent_id: str) -> JSONObject:
        """The customer paid: the intent succeeds with a new charge."""
        intent = self._payable(intent_id)
        intent.update(
            status="succeeded",
            amount_received=intent["amount"],
            amount_capturable=0,
            latest_charge=new_id("ch"),
            payment_method=new_id("pm"),
            last_payment_error=None,
        )
        return intent

    def fail_payment(self, intent_id: str) -> JSONObject:
        """The card was declined: the intent goes back to ``requires_payment_method``."""
        intent = self._payable(intent_id)
        charge_id = new_id("ch")
        intent.update(
            status="requires_payment_method",
            latest_charge=charge_id,
            payment_method=None,
            last_payment_error={
                "type": "card_error",
                "code": "card_declined",
                "decline_code": "generic_decline",
                "message": "Your card was declined.",
                "charge": charge_id,
                "payment_method": {"id": new_id("pm"), "object": "payment_method"},
                "doc_url": "https://stripe.com/docs/error-codes/card-declined",
            },
        )
        return intent

    def _payable(self, intent_id: str) -> JSONObject:
        if intent_id not in self.intents:
            raise KeyError(f"StripeFake has no PaymentIntent {intent_id!r}")
        intent = self.intents[intent_id]
        if intent["status"] not in _PAYABLE:
            raise ValueError(f"PaymentIntent {intent_id} is {intent['status']}; it cannot pay")
        return intent

    def _refundable_intent(self, params: JSONObject) -> JSONObject:
        intent_id = _optional_str(params, "payment_intent")
        charge_id = _optional_str(params, "charge")
        if intent_id is not None:
            intent = self.intent(intent_id, "payment_intent")
        elif charge_id is not None:
            intent = self._intent_for_charge(charge_id)
        else:
            raise _invalid(
                "One of the following params should be provided for this request: "
                "payment_intent or charge.",
                "payment_intent",
                "parameter_missing",
            )
        if intent["status"] != "succeeded":
            raise StripeErrorResponse(
                400,
                f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund.",
                code="payment_intent_unexpected_state",
                param="payment_intent",
            )
        return intent

    def _intent_for_charge(self, charge_id: str) -> JSONObject:
        for intent in self.intents.values():
            if intent["latest_charge"] == charge_id and intent["status"] == "succeeded":
                return intent
        raise _no_such("charge", charge_id, "charge")

    def _refund_amount(self, intent: JSONObject, requested: int | None) -> int:
        remaining = intent["amount_received"] - self.refunded.get(intent["id"], 0)
        if remaining <= 0:
            raise StripeErrorResponse(
                400,
                f"Charge {intent['latest_charge']} has already been refunded.",
                code="charge_already_refunded",
            )
        if requested is None:
            return int(remaining)
        if requested <= 0:
            raise _invalid("Amount must be a positive integer.", "amount", "parameter_invalid")
        if requested > remaining:
            raise StripeErrorResponse(
                400,
                f"Refund amount ({requested} {intent['currency']}) is greater than unrefunded "
                f"amount on charge ({remaining} {intent['currency']})",
                code="amount_too_large",
                param="amount",
            )
        return requested


def _new_intent(
    intent_id: str, amount: int, currency: str, automatic: JSONObject | None, types: list[str]
) -> JSONObject:
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": automatic,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic_async",
        "client_secret": f"{intent_id}_secret_{_token(25)}",
        "confirmation_method": "automatic",
        "created": int(time.time()),
        "currency": currency,
        "customer": None,
        "description": None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "metadata": {},
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_options": {},
        "payment_method_types": types,
        "processing": None,
        "receipt_email": None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "requires_payment_method",
        "transfer_data": None,
        "transfer_group": None,
    }


def _new_refund(
    intent: JSONObject, amount: int, reason: str | None, metadata: dict[str, str]
) -> JSONObject:
    return {
        "id": new_id("re"),
        "object": "refund",
        "amount": amount,
        "balance_transaction": new_id("txn"),
        "charge": intent["latest_charge"],
        "created": int(time.time()),
        "currency": intent["currency"],
        "destination_details": {"type": "card", "card": {"type": "refund"}},
        "metadata": metadata,
        "payment_intent": intent["id"],
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }


def _no_such(kind: str, object_id: str, param: str | None = None) -> StripeErrorResponse:
    return StripeErrorResponse(
        404, f"No such {kind}: '{object_id}'", code="resource_missing", param=param or "id"
    )


def _unexpected_state(
    intent: JSONObject, action: str, allowed: frozenset[str]
) -> StripeErrorResponse:
    return StripeErrorResponse(
        400,
        f"You cannot {action} this PaymentIntent because it has a status of "
        f"{intent['status']}. Only a PaymentIntent with one of the following statuses may "
        f"be {action}ed: {', '.join(sorted(allowed))}.",
        code="payment_intent_unexpected_state",
        extra={"payment_intent": copy.deepcopy(intent)},
    )


# --- the server --------------------------------------------------------------------------


class StripeFake:
    """A Stripe v1 API server for tests, with controls for failures, latency and webhooks.

    Retries: ``StripeClient`` defaults to ``max_network_retries=None``, which stripe-python
    16 treats as 0 (the module-level ``stripe.max_network_retries = 2`` applies only to the
    legacy global API). With retries enabled, the client retries 409, 5xx and connection
    errors with the same ``Idempotency-Key`` after a backoff of at least 0.5 s, so
    ``fail_next(n)`` with ``max_network_retries >= n`` ends in success and ``requests`` shows
    n failed attempts followed by the successful one.

    Latency: ``delay`` is applied after the request has been processed and recorded, like a
    slow network on the way back: a client that times out may still have created the object,
    and retrying with the same idempotency key replays it.

    Threads: requests are served on the fake's own thread; all shared state sits behind one
    lock, so the controls and snapshots below are safe to use from any thread.
    """

    def __init__(
        self,
        *,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        port: int = 0,
    ):
        self.webhook_url = webhook_url
        self._requested_port = port
        self.webhook_secret = webhook_secret or f"whsec_{_token(32)}"
        self.webhook_transport: httpx.AsyncBaseTransport | None = None
        self.webhook_timeout = 10.0
        self.api_version: str = stripe.api_version
        self._lock = threading.Lock()
        self._ledger = _Ledger()
        self._failures = 0
        self._failure_status = 500
        self._delay = 0.0
        self._port: int | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._thread_error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._app = Starlette(
            routes=self._routes(),
            exception_handlers={HTTPException: self._unrecognized_url},
        )

    # -- lifecycle --------------------------------------------------------------------

    @classmethod
    @contextlib.asynccontextmanager
    async def running(
        cls, *, webhook_url: str | None = None, webhook_secret: str | None = None
    ) -> AsyncIterator[Self]:
        """Serve for the duration of an ``async with`` block."""
        server = cls(webhook_url=webhook_url, webhook_secret=webhook_secret)
        await server.start_async()
        try:
            yield server
        finally:
            await server.stop_async()

    @classmethod
    @contextlib.contextmanager
    def serving(
        cls, *, webhook_url: str | None = None, webhook_secret: str | None = None
    ) -> Iterator[Self]:
        """Serve for the duration of a ``with`` block (for sync fixtures and tests)."""
        server = cls(webhook_url=webhook_url, webhook_secret=webhook_secret)
        server.start()
        try:
            yield server
        finally:
            server.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``, to pass as ``base_addresses={"api": ...}``."""
        if self._port is None:
            raise RuntimeError("StripeFake is not running")
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> None:
        """Start serving in a background thread; blocks until connections are accepted."""
        self._launch()
        deadline = time.monotonic() + _STARTUP_TIMEOUT
        while not self._started(deadline):
            time.sleep(_POLL_INTERVAL)

    async def start_async(self) -> None:
        """Like ``start`` but waits without blocking the caller's event loop."""
        self._launch()
        deadline = time.monotonic() + _STARTUP_TIMEOUT
        while not self._started(deadline):
            await asyncio.sleep(_POLL_INTERVAL)

    def stop(self) -> None:
        """Shut the server down and wait for its thread."""
        thread = self._request_stop()
        thread.join(_STARTUP_TIMEOUT)
        self._check_stopped(thread)

    async def stop_async(self) -> None:
        """Like ``stop`` but waits without blocking the caller's event loop."""
        thread = self._request_stop()
        deadline = time.monotonic() + _STARTUP_TIMEOUT
        while thread.is_alive() and time.monotonic() < deadline:
            await asyncio.sleep(_POLL_INTERVAL)
        self._check_stopped(thread)

    def _launch(self) -> None:
        if self._thread is not None:
            raise RuntimeError("StripeFake has already been started")
        # Binding here, before the thread starts, gives a free port with no race.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", self._requested_port))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            log_config=None,  # leave the test process's logging configuration alone
            log_level="warning",
            access_log=False,
            lifespan="off",
            http="h11",
            ws="none",  # websockets' legacy modules warn, and -W error turns that fatal
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._thread_main, args=(sock,), name="stripe-fake", daemon=True
        )
        self._thread.start()

    def _thread_main(self, sock: socket.socket) -> None:
        try:
            asyncio.run(self._serve(sock))
        except BaseException as exc:  # uvicorn exits via SystemExit on startup failure
            self._thread_error = exc
        finally:
            sock.close()

    async def _serve(self, sock: socket.socket) -> None:
        assert self._server is not None
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        await self._server.serve(sockets=[sock])

    def _started(self, deadline: float) -> bool:
        assert self._server is not None
        assert self._thread is not None
        if self._server.started:
            return True
        if not self._thread.is_alive() or time.monotonic() > deadline:
            self._request_stop()
            raise RuntimeError("StripeFake failed to start") from self._thread_error
        return False

    def _request_stop(self) -> threading.Thread:
        if self._server is None or self._thread is None:
            raise RuntimeError("StripeFake is not running")
        self._server.should_exit = True
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None:
            # Wakes requests held by delay() so shutdown does not wait them out.
            with contextlib.suppress(RuntimeError):  # loop already closed: nothing to wake
                loop.call_soon_threadsafe(stopping.set)
        return self._thread

    def _check_stopped(self, thread: threading.Thread) -> None:
        if thread.is_alive():
            raise RuntimeError("StripeFake did not shut down in time")
        if self._thread_error is not None:
            raise RuntimeError("StripeFake crashed") from self._thread_error

    # -- test controls ----------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """Answer the next ``n`` API requests with ``status`` and a Stripe error body.

        Failed requests are recorded but change nothing and are not stored under their
        idempotency key, like a transient failure before Stripe started executing.
        """
        if n < 0 or not 400 <= status <= 599:
            raise ValueError("fail_next needs n >= 0 and an HTTP error status")
        with self._lock:
            self._failures = n
            self._failure_status = status

    def delay(self, seconds: float) -> None:
        """Hold every API response for ``seconds`` (after processing); 0 stops delaying."""
        if seconds < 0:
            raise ValueError("delay cannot be negative")
        with self._lock:
            self._delay = seconds

    def reset(self) -> None:
        """Forget all objects, requests, events, idempotency keys, failures and delay."""
        with self._lock:
            self._ledger = _Ledger()
            self._failures = 0
            self._delay = 0.0

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the API requests received so far, oldest first."""
        with self._lock:
            return list(self._ledger.requests)

    @property
    def intents(self) -> dict[str, JSONObject]:
        """A snapshot of the stored PaymentIntents by id."""
        with self._lock:
            return copy.deepcopy(self._ledger.intents)

    @property
    def refunds(self) -> dict[str, JSONObject]:
        """A snapshot of the stored Refunds by id."""
        with self._lock:
            return copy.deepcopy(self._ledger.refunds)

    @property
    def events(self) -> list[JSONObject]:
        """A snapshot of every event built so far (delivered or not)."""
        with self._lock:
            return copy.deepcopy(self._ledger.events)

    def succeed(self, intent_id: str) -> JSONObject:
        """Simulate a successful payment; returns the ``payment_intent.succeeded`` event.

        Raises KeyError for an unknown id and ValueError unless the intent awaits payment.
        The event is not delivered: pass it to ``deliver``.
        """
        with self._lock:
            intent = copy.deepcopy(self._ledger.succeed(intent_id))
        return self.make_event("payment_intent.succeeded", intent)

    def fail_payment(self, intent_id: str) -> JSONObject:
        """Simulate a declined card; returns the ``payment_intent.payment_failed`` event."""
        with self._lock:
            intent = copy.deepcopy(self._ledger.fail_payment(intent_id))
        return self.make_event("payment_intent.payment_failed", intent)

    # -- webhooks ---------------------------------------------------------------------

    def make_event(
        self, event_type: str, data_object: JSONObject, *, event_id: str | None = None
    ) -> JSONObject:
        """Build (and remember) a Stripe event wrapping a snapshot of ``data_object``."""
        event: JSONObject = {
            "id": event_id or new_id("evt"),
            "object": "event",
            "api_version": self.api_version,
            "created": int(time.time()),
            "data": {"object": copy.deepcopy(data_object)},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
        }
        with self._lock:
            self._ledger.events.append(copy.deepcopy(event))
        return event

    def sign(
        self, payload: bytes, *, timestamp: int | None = None, secret: str | None = None
    ) -> str:
        """The ``Stripe-Signature`` header for ``payload``: HMAC-SHA256 of ``{t}.{payload}``."""
        stamp = int(time.time()) if timestamp is None else timestamp
        key = (self.webhook_secret if secret is None else secret).encode()
        digest = hmac.new(key, f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
        return f"t={stamp},v1={digest}"

    def encode_event(
        self, event: JSONObject, *, timestamp: int | None = None, secret: str | None = None
    ) -> tuple[bytes, str]:
        """Serialise an event as Stripe does and sign it: ``(payload, signature_header)``."""
        payload = _json_bytes(event)
        return payload, self.sign(payload, timestamp=timestamp, secret=secret)

    def build_event(
        self,
        event_type: str,
        data_object: JSONObject,
        *,
        event_id: str | None = None,
        timestamp: int | None = None,
        secret: str | None = None,
    ) -> tuple[bytes, str]:
        """``make_event`` then ``encode_event``: bytes and header to replay or tamper with."""
        event = self.make_event(event_type, data_object, event_id=event_id)
        return self.encode_event(event, timestamp=timestamp, secret=secret)

    async def send_event(
        self, event_type: str, data_object: JSONObject, *, event_id: str | None = None
    ) -> httpx.Response:
        """Build a signed event and POST it to ``webhook_url``."""
        return await self.deliver(self.make_event(event_type, data_object, event_id=event_id))

    async def deliver(self, event: JSONObject) -> httpx.Response:
        """Sign an already built event (e.g. from ``succeed``) and POST it."""
        return await self.post_webhook(*self.encode_event(event))

    async def post_webhook(self, payload: bytes, signature: str) -> httpx.Response:
        """POST raw bytes with a given signature header to ``webhook_url``, as Stripe does.

        Set ``webhook_transport`` (e.g. ``httpx.ASGITransport(app)``) to deliver in-process.
        """
        if self.webhook_url is None:
            raise RuntimeError("Set StripeFake.webhook_url before sending events")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": signature,
        }
        async with httpx.AsyncClient(
            transport=self.webhook_transport, timeout=self.webhook_timeout
        ) as http:
            return await http.post(self.webhook_url, content=payload, headers=headers)

    # -- HTTP -------------------------------------------------------------------------

    def _routes(self) -> list[Route]:
        return [
            self._route("POST", "/v1/payment_intents", lambda p, _: self._ledger.create_intent(p)),
            self._route(
                "GET",
                "/v1/payment_intents/{id}",
                lambda p, ids: self._ledger.retrieve_intent(ids["id"], p),
            ),
            self._route(
                "POST",
                "/v1/payment_intents/{id}/cancel",
                lambda p, ids: self._ledger.cancel_intent(ids["id"], p),
            ),
            self._route("POST", "/v1/refunds", lambda p, _: self._ledger.create_refund(p)),
            self._route(
                "GET", "/v1/refunds/{id}", lambda p, ids: self._ledger.retrieve_refund(ids["id"], p)
            ),
        ]

    def _route(self, method: str, path: str, operation: Operation) -> Route:
        async def endpoint(request: Request) -> Response:
            return await self._serve_api(request, operation)

        return Route(path, endpoint, methods=[method])

    async def _unrecognized_url(self, request: Request, exc: Exception) -> Response:
        error = StripeErrorResponse(
            404,
            f"Unrecognized request URL ({request.method}: {request.url.path}). Please see "
            "https://stripe.com/docs or we can help at https://support.stripe.com/.",
        )
        return _to_response(_error_reply(error), self.api_version)

    async def _serve_api(self, request: Request, operation: Operation) -> Response:
        raw = (await request.body()).decode() if request.method == "POST" else request.url.query
        call = _Call(
            method=request.method,
            path=request.url.path,
            params=parse_params(raw),
            headers={k.lower(): v for k, v in request.headers.items()},
            path_params={k: str(v) for k, v in request.path_params.items()},
        )
        with self._lock:
            reply = self._process(call, operation)
            delay = self._delay
        await self._pause(delay)
        return _to_response(reply, call.headers.get("stripe-version", self.api_version))

    async def _pause(self, seconds: float) -> None:
        if seconds <= 0 or self._stopping is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    def _process(self, call: _Call, operation: Operation) -> _Reply:
        request_id = new_id("req", 14)
        reply = self._reply_for(call, operation, request_id)
        reply.headers["Request-Id"] = request_id
        if call.method == "POST" and call.idempotency_key is not None:
            reply.headers["Idempotency-Key"] = call.idempotency_key
        self._ledger.requests.append(
            RecordedRequest(
                method=call.method,
                path=call.path,
                params=copy.deepcopy(call.params),
                headers=dict(call.headers),
                idempotency_key=call.idempotency_key,
                request_id=request_id,
                status=reply.status,
                replayed="Idempotent-Replayed" in reply.headers,
            )
        )
        return reply

    def _reply_for(self, call: _Call, operation: Operation, request_id: str) -> _Reply:
        if self._failures > 0:
            self._failures -= 1
            return _error_reply(_transient_failure(self._failure_status))
        try:
            api_key = _authenticate(call.headers.get("authorization"))
            key = call.idempotency_key
            if call.method == "POST" and key is not None:
                return self._idempotent((api_key, key), call, operation, request_id)
        except StripeErrorResponse as error:
            return _error_reply(error)
        return _execute(call, operation)

    def _idempotent(
        self, slot: tuple[str, str], call: _Call, operation: Operation, request_id: str
    ) -> _Reply:
        """Run ``operation`` once per (API key, idempotency key); replay it afterwards."""
        if len(slot[1]) > _MAX_IDEMPOTENCY_KEY:
            raise _invalid(
                f"Idempotency-Key must be at most {_MAX_IDEMPOTENCY_KEY} characters.",
                "Idempotency-Key",
            )
        stored = self._ledger.replies.get(slot)
        if stored is not None:
            return _replay(stored, slot[1], call)
        reply = _execute(call, operation)
        if reply.storable:
            first = _Reply(reply.status, reply.body, storable=True)
            params = copy.deepcopy(call.params)
            self._ledger.replies[slot] = _StoredReply(call.endpoint, params, first, request_id)
        return reply


def _execute(call: _Call, operation: Operation) -> _Reply:
    try:
        result = operation(call.params, call.path_params)
    except StripeErrorResponse as error:
        return _error_reply(error)
    return _Reply(200, _json_bytes(result), storable=True)


def _replay(stored: _StoredReply, key: str, call: _Call) -> _Reply:
    """Stripe's answer to a reused idempotency key: the stored reply, or a 400."""
    advice = f"Try using a key other than '{key}' if you meant to execute a different request."
    if stored.endpoint != call.endpoint:
        raise StripeErrorResponse(
            400,
            "Keys for idempotent requests can only be used for the same endpoint they were "
            f"first used for ('{call.endpoint}' vs '{stored.endpoint}'). {advice}",
            error_type="idempotency_error",
            replayable=False,
        )
    if stored.params != call.params:
        raise StripeErrorResponse(
            400,
            "Keys for idempotent requests can only be used with the same parameters they "
            f"were first used with. {advice}",
            error_type="idempotency_error",
            replayable=False,
        )
    headers = {"Idempotent-Replayed": "true", "Original-Request": stored.request_id}
    return _Reply(stored.reply.status, stored.reply.body, storable=False, headers=headers)


def _to_response(reply: _Reply, stripe_version: str) -> Response:
    headers = {"Stripe-Version": stripe_version, **reply.headers}
    return Response(reply.body, reply.status, headers=headers, media_type="application/json")
