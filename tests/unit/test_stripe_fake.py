"""Tests of the Stripe fake through the real stripe-python client and webhook verifier.

Retries: ``StripeClient(max_network_retries=None)`` means no retries in stripe-python 16
(only the legacy global API defaults to 2). These tests pass ``max_network_retries``
explicitly: 0 everywhere except the retry tests, where each retry of a ``fail_next``
failure reuses the same ``Idempotency-Key`` after a real backoff of at least 0.5 s.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import stripe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from stripe.params import PaymentIntentCreateParams

from tests.fakes.stripe_server import JSONObject, StripeFake

pytestmark = pytest.mark.filterwarnings(
    # stripe-python 16.1's HTTPXClient sends form bodies with httpx's deprecated
    # data=<str>; httpx 0.28 warns on every POST and -W error would make it a failure.
    "ignore:Use 'content=<...>' to upload raw bytes/text content.:DeprecationWarning"
)

API_KEY = "sk_test_pointsmall"
ORDER_PARAMS: PaymentIntentCreateParams = {
    "amount": 2990,
    "currency": "usd",
    "metadata": {"order": "ord_1"},
    "automatic_payment_methods": {"enabled": True},
    "description": "Gift order ord_1",
}


@contextlib.asynccontextmanager
async def stripe_client(
    server: StripeFake, *, api_key: str = API_KEY, timeout: float = 5.0, retries: int = 0
) -> AsyncIterator[stripe.StripeClient]:
    """A real StripeClient on httpx pointed at the fake, closed afterwards."""
    http = stripe.HTTPXClient(timeout=timeout)
    try:
        yield stripe.StripeClient(
            api_key,
            base_addresses={"api": server.base_url},
            http_client=http,
            max_network_retries=retries,
        )
    finally:
        await http.close_async()  # type: ignore[no-untyped-call]


@pytest.fixture(scope="module")
def shared_server() -> Iterator[StripeFake]:
    # Sync and module-scoped: the fake has its own thread and loop, so no loop scope applies.
    with StripeFake.serving() as server:
        yield server


@pytest.fixture
def server(shared_server: StripeFake) -> StripeFake:
    shared_server.reset()
    return shared_server


@pytest.fixture
async def client(server: StripeFake) -> AsyncIterator[stripe.StripeClient]:
    async with stripe_client(server) as real_client:
        yield real_client


async def create_paid_intent(server: StripeFake, client: stripe.StripeClient) -> str:
    intent = await client.v1.payment_intents.create_async(params=ORDER_PARAMS)
    server.succeed(intent.id)
    return intent.id


# --- payment intents ---------------------------------------------------------------------


async def test_create_returns_a_payment_intent_built_from_the_form_body(
    server: StripeFake, client: stripe.StripeClient
) -> None:
    intent = await client.v1.payment_intents.create_async(
        params=ORDER_PARAMS, options={"idempotency_key": "order-ord_1"}
    )

    assert intent.id.startswith("pi_")
    assert (intent.object, intent.amount, intent.currency) == ("payment_intent", 2990, "usd")
    assert intent.status == "requires_payment_method"
    assert intent.client_secret is not None
    assert intent.client_secret.startswith(f"{intent.id}_secret_")
    assert intent.metadata["order"] == "ord_1"
    assert (intent.livemode, intent.amount_received, intent.latest_charge) == (False, 0, None)
    [request] = server.requests
    assert request.params == {
        "amount": "2990",
        "currency": "usd",
        "metadata": {"order": "ord_1"},
        "automatic_payment_methods": {"enabled": "true"},
        "description": "Gift order ord_1",
    }
    assert request.idempotency_key == "order-ord_1"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["stripe-version"] == stripe.api_version


async def test_retrieve_and_cancel_round_trip(
    server: StripeFake, client: stripe.StripeClient
) -> None:
    created = await client.v1.payment_intents.create_async(params=ORDER_PARAMS)

    fetched = await client.v1.payment_intents.retrieve_async(created.id)
    canceled = await client.v1.payment_intents.cancel_async(
        created.id, params={"cancellation_reason": "abandoned"}
    )

    assert (fetched.id, fetched.amount, fetched.status) == (created.id, 2990, created.status)
    assert (canceled.status, canceled.cancellation_reason) == ("canceled", "abandoned")
    assert canceled.canceled_at is not None
    assert server.intents[created.id]["status"] == "canceled"


async def test_cancelling_a_succeeded_intent_is_an_unexpected_state(
    server: StripeFake, client: stripe.StripeClient
) -> None:
    intent_id = await create_paid_intent(server, client)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        await client.v1.payment_intents.cancel_async(intent_id)

    assert raised.value.http_status == 400
    assert raised.value.code == "payment_intent_unexpected_state"
    assert server.intents[intent_id]["status"] == "succeeded"


async def test_unknown_intent_is_resource_missing(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        await client.v1.payment_intents.retrieve_async("pi_doesnotexist")

    assert (raised.value.http_status, raised.value.code) == (404, "resource_missing")
    assert "pi_doesnotexist" in raised.value.user_message


async def test_amount_below_stripes_minimum_is_rejected(
    server: StripeFake, client: stripe.StripeClient
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        await client.v1.payment_intents.create_async(params={"amount": 10, "currency": "usd"})

    assert (raised.value.code, raised.value.param) == ("amount_too_small", "amount")
    assert server.intents == {}


async def test_unmodelled_stripe_parameters_are_refused_loudly(
    server: StripeFake, client: stripe.StripeClient
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        await client.v1.payment_intents.create_async(params={**ORDER_PARAMS, "confirm": True})

    assert (raised.value.code, raised.value.param) == ("fake_unsupported_parameter", "confirm")
    assert server.intents == {}


async def test_unknown_parameters_are_rejected_like_stripe(server: StripeFake) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.post(
            "/v1/payment_intents",
            content="amount=2990&currency=usd&colour=blue",
            headers={
                "Authorization": f"Bearer {API_KEY}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parameter_unknown"
    assert response.json()["error"]["param"] == "colour"


# --- authentication and routing ----------------------------------------------------------


async def test_missing_authorization_is_a_401(server: StripeFake) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.get("/v1/payment_intents/pi_any")

    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert "did not provide an API key" in response.json()["error"]["message"]


async def test_malformed_api_key_raises_authentication_error(server: StripeFake) -> None:
    async with stripe_client(server, api_key="not-a-stripe-key") as bad_client:
        with pytest.raises(stripe.AuthenticationError) as raised:
            await bad_client.v1.payment_intents.create_async(params=ORDER_PARAMS)

    assert raised.value.http_status == 401
    assert server.intents == {}


async def test_unrecognized_url_is_a_stripe_style_404(server: StripeFake) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.get("/v1/charges", headers={"Authorization": f"Bearer {API_KEY}"})

    assert response.status_code == 404
    assert response.json()["error"]["message"].startswith("Unrecognized request URL (GET:")


# --- idempotency -------------------------------------------------------------------------


async def test_same_key_and_params_replays_the_stored_response(
    server: StripeFake, client: stripe.StripeClient
) -> None:
    options: stripe.RequestOptions = {"idempotency_key": "order-ord_1-attempt"}

    first = await client.v1.payment_intents.create_async(params=ORDER_PARAMS, options=options)
    second = await client.v1.payment_intents.create_async(params=ORDER_PARAMS, options=options)

    assert second.id == first.id
    assert second.client_secret == first.client_secret
    assert first.last_response is not None
    assert second.last_response is not None
    assert "idempotent-replayed" not in first.last_response.headers
    assert second.last_response.headers["idempotent-replayed"] == "true"
    assert second.last_response.headers["original-request"] == first.last_response.request_id
    assert list(server.intents) == [first.id]
    assert [r.replayed for r in server.requests] == [False, True]


async def test_same_key_with_different_params_is_an_idempotency_error(
    server: StripeFake, client: stripe.StripeClient
) -> None:
    options: stripe.RequestOptions = {"idempotency_key": "order-ord_1-attempt"}
    first = await client.v1.payment_intents.create_async(params=ORDER_PARAMS, options=options)

    with pytest.raises(stripe.IdempotencyError) as raised:
        await client.v1.payment_intents.create_async(
            params={**ORDER_PARAMS, "amount": 3990}, options=options
        )

    assert raised.value.http_status == 400
    assert list(server.intents) == [first.id]


async def test_idempotency_keys_are_scoped_per_api_key(
    server: StripeFake, client: stripe.StripeClient
) -> None:
    options: stripe.RequestOptions = {"idempotency_key": "shared-key"}
    async with stripe_client(server, api_key="sk_test_other_account") as other_client:
        mine = await client.v1.payment_intents.create_async(params=ORDER_PARAMS, options=options)
        theirs = await other_client.v1.payment_intents.create_async(
            params=ORDER_PARAMS, options=options
        )

    assert mine.id != theirs.id
    assert set(server.intents) == {mine.id, theirs.id}


async def test_validation_errors_are_not_stored_under_the_key(
    server: StripeFake, client: stripe.StripeClient
) -> None:
    options: stripe.RequestOptions = {"idempotency_key": "order-ord_2"}
    with pytest.raises(stripe.InvalidRequestError):
        await client.v1.payment_intents.create_async(
            params={"amount": 10, "currency": "usd"}, options=options
        )

    # Stripe stores a result only once the endpoint started executing, so the key is free.
    intent = await client.v1.payment_intents.create_async(params=ORDER_PARAMS, options=options)

    assert list(server.intents) == [intent.id]


# --- injected failures, retries and latency ----------------------------------------------


async def test_fail_next_raises_api_error_and_stores_nothing(
    server: StripeFake, client: stripe.StripeClient
) -> None:
    options: stripe.RequestOptions = {"idempotency_key": "order-ord_3"}
    server.fail_next(1, status=500)

    with pytest.raises(stripe.APIError) as raised:
        await client.v1.payment_intents.create_async(params=ORDER_PARAMS, options=options)
    retried = await client.v1.payment_intents.create_async(params=ORDER_PARAMS, options=options)

    assert raised.value.http_status == 500
    assert [(r.status, r.replayed) for r in server.requests] == [(500, False), (200, False)]
    assert list(server.intents) == [retried.id]


async def test_client_retries_absorb_fail_next_with_the_same_idempotency_key(
    server: StripeFake,
) -> None:
    server.fail_next(1)
    async with stripe_client(server, retries=1) as retrying_client:
        intent = await retrying_client.v1.payment_intents.create_async(params=ORDER_PARAMS)

    requests = server.requests
    assert [r.status for r in requests] == [500, 200]
    assert requests[0].idempotency_key is not None
    assert requests[0].idempotency_key == requests[1].idempotency_key
    assert list(server.intents) == [intent.id]


async def test_more_failures_than_retries_surface_as_api_error(server: StripeFake) -> None:
    server.fail_next(2, status=503)
    async with stripe_client(server, retries=1) as retrying_client:
        with pytest.raises(stripe.APIError) as raised:
            await retrying_client.v1.payment_intents.create_async(params=ORDER_PARAMS)

    assert raised.value.http_status == 503
    assert [r.status for r in server.requests] == [503, 503]
    assert server.intents == {}


async def test_429_is_a_rate_limit_error_and_is_not_retried(server: StripeFake) -> None:
    server.fail_next(1, status=429)
    async with stripe_client(server, retries=2) as retrying_client:
        with pytest.raises(stripe.RateLimitError):
            await retrying_client.v1.payment_intents.create_async(params=ORDER_PARAMS)

    assert [r.status for r in server.requests] == [429]


async def test_delay_beyond_the_client_timeout_raises_a_connection_error(
    server: StripeFake,
) -> None:
    options: stripe.RequestOptions = {"idempotency_key": "order-ord_4"}
    server.delay(1.0)
    async with stripe_client(server, timeout=0.2) as impatient_client:
        started = time.monotonic()
        with pytest.raises(stripe.APIConnectionError) as raised:
            await impatient_client.v1.payment_intents.create_async(
                params=ORDER_PARAMS, options=options
            )
        elapsed = time.monotonic() - started
    server.delay(0)

    # The fake processed the request before the slow response: the intent exists, and a
    # retry with the same key replays it instead of charging twice.
    [created_id] = server.intents
    async with stripe_client(server) as patient_client:
        retried = await patient_client.v1.payment_intents.create_async(
            params=ORDER_PARAMS, options=options
        )
    assert isinstance(raised.value.__cause__, httpx.TimeoutException)
    assert elapsed < 1.0
    assert retried.id == created_id
    assert server.requests[-1].replayed


# --- refunds -----------------------------------------------------------------------------


async def test_refunds_are_limited_to_the_amount_received(
    server: StripeFake, client: stripe.StripeClient
) -> None:
    intent_id = await create_paid_intent(server, client)

    partial = await client.v1.refunds.create_async(
        params={"payment_intent": intent_id, "amount": 1000, "metadata": {"order": "ord_1"}}
    )
    rest = await client.v1.refunds.create_async(params={"payment_intent": intent_id})
    with pytest.raises(stripe.InvalidRequestError) as raised:
        await client.v1.refunds.create_async(params={"payment_intent": intent_id})

    assert partial.id.startswith("re_")
    assert (partial.status, partial.amount) == ("succeeded", 1000)
    assert partial.to_dict()["metadata"] == {"order": "ord_1"}
    assert partial.charge == server.intents[intent_id]["latest_charge"]
    assert rest.amount == 1990
    assert raised.value.code == "charge_already_refunded"
    assert set(server.refunds) == {partial.id, rest.id}


async def test_refunding_more_than_received_is_rejected(
    server: StripeFake, client: stripe.StripeClient
) -> None:
    intent_id = await create_paid_intent(server, client)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        await client.v1.refunds.create_async(params={"payment_intent": intent_id, "amount": 2991})

    assert (raised.value.http_status, raised.value.param) == (400, "amount")
    assert server.refunds == {}


async def test_refunding_an_unpaid_intent_is_rejected(
    server: StripeFake, client: stripe.StripeClient
) -> None:
    intent = await client.v1.payment_intents.create_async(params=ORDER_PARAMS)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        await client.v1.refunds.create_async(params={"payment_intent": intent.id})

    assert (raised.value.http_status, raised.value.code) == (400, "payment_intent_unexpected_state")
    assert server.refunds == {}


# --- payments and webhooks ---------------------------------------------------------------


async def test_succeed_pays_the_intent_and_returns_a_verifiable_event(
    server: StripeFake, client: stripe.StripeClient
) -> None:
    intent = await client.v1.payment_intents.create_async(params=ORDER_PARAMS)

    event = server.succeed(intent.id)
    payload, signature = server.encode_event(event)
    verified = client.construct_event(payload, signature, server.webhook_secret)

    assert (verified.id, verified.type) == (event["id"], "payment_intent.succeeded")
    paid = verified.data.object
    assert (paid["id"], paid["status"], paid["amount_received"]) == (intent.id, "succeeded", 2990)
    assert paid["latest_charge"].startswith("ch_")
    refreshed = await client.v1.payment_intents.retrieve_async(intent.id)
    assert refreshed.status == "succeeded"


async def test_fail_payment_records_a_card_decline(
    server: StripeFake, client: stripe.StripeClient
) -> None:
    intent = await client.v1.payment_intents.create_async(params=ORDER_PARAMS)

    event = server.fail_payment(intent.id)

    failed: JSONObject = event["data"]["object"]
    assert event["type"] == "payment_intent.payment_failed"
    assert failed["status"] == "requires_payment_method"
    assert failed["last_payment_error"]["code"] == "card_declined"
    assert server.events[-1]["id"] == event["id"]


def test_built_events_fail_verification_with_another_secret_or_a_tampered_body(
    server: StripeFake,
) -> None:
    payload, signature = server.build_event(
        "payment_intent.succeeded", {"id": "pi_x", "object": "payment_intent"}, event_id="evt_1"
    )

    event = stripe.Webhook.construct_event(payload, signature, server.webhook_secret)
    assert event.id == "evt_1"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, signature, "whsec_someone_else")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(
            payload.replace(b"pi_x", b"pi_y"), signature, server.webhook_secret
        )


def test_stale_signatures_fail_the_tolerance_check(server: StripeFake) -> None:
    payload, signature = server.build_event(
        "payment_intent.succeeded", {"id": "pi_x"}, timestamp=int(time.time()) - 600
    )

    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, signature, server.webhook_secret, tolerance=300)


def webhook_receiver(secret: str, received: list[str]) -> Starlette:
    """A minimal app verifying deliveries the way the project's endpoint must."""

    async def webhook(request: Request) -> Response:
        payload = await request.body()
        signature = request.headers.get("stripe-signature")
        try:
            event = stripe.Webhook.construct_event(payload, signature, secret)
        except stripe.SignatureVerificationError:
            return Response(status_code=400)
        received.append(event.id)
        return Response(status_code=200)

    return Starlette(routes=[Route("/webhooks/stripe", webhook, methods=["POST"])])


async def test_send_event_posts_a_signed_event_to_the_webhook_url() -> None:
    received: list[str] = []
    async with StripeFake.running(
        webhook_url="http://shop.test/webhooks/stripe", webhook_secret="whsec_shop"
    ) as server:
        server.webhook_transport = httpx.ASGITransport(webhook_receiver("whsec_shop", received))
        accepted = await server.send_event(
            "payment_intent.succeeded", {"id": "pi_x"}, event_id="evt_sent"
        )
        server.webhook_secret = "whsec_attacker"
        rejected = await server.send_event("payment_intent.succeeded", {"id": "pi_x"})

    assert accepted.status_code == 200
    assert rejected.status_code == 400
    assert received == ["evt_sent"]
