"""The logs hold no secret, token, phone number or address, even at DEBUG.

A real API process logs to a file while it serves what carries those things: bearer tokens
(HTTP and websocket), a redemption with an address (placed, refused, paid with a card), a
signed Stripe webhook (and a forged one), requests that fail. The file is then searched for
every one of them.
"""

from __future__ import annotations

import json
import logging
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.auth import mint_token
from api.logs import FORMAT, RedactingJsonFormatter
from models.actors import Role
from tests.fakes.stripe_server import StripeFake
from tests.security.world import W1
from tests.support.catalog import gift, small_mall, stock
from tests.support.graphql import GraphQLClient, operation
from tests.support.members import member_with_points
from tests.support.server import api_process
from tests.support.ws import graphql_socket

MEMBER = "LOG-M1"
ADDRESS = {
    "recipient": "欧阳娜娜",
    "phone": "13655512345",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "line1": "文三路 777 号 7 幢",
    "line2": "",
    "postalCode": "310012",
}
REDEEM = (
    "mutation($input: RedeemInput!) { redeem(input: $input) {"
    " order { number } payment { clientSecret } errors { code } } }"
)


class Secrets:
    """What the process is configured with, and what the test sends it, never to be logged."""

    def __init__(self) -> None:
        self.jwt = "jwt-" + secrets.token_hex(24)
        self.stripe_key = "sk_test_" + secrets.token_hex(16)
        self.webhook = "whsec_" + secrets.token_hex(16)
        self.metrics = "metrics-" + secrets.token_hex(12)
        self.carrier = "carrier-" + secrets.token_hex(12)
        self.sent: list[str] = []  # tokens, signatures, client secrets met on the way

    def env(self, stripe: StripeFake, level: str) -> dict[str, str]:
        return {
            "LOG_LEVEL": level,
            "JWT_SECRET": self.jwt,
            "STRIPE_API_KEY": self.stripe_key,
            "STRIPE_WEBHOOK_SECRET": self.webhook,
            "STRIPE_API_BASE": stripe.base_url,
            "METRICS_TOKEN": self.metrics,
            "CARRIER_SECRETS": f"SF={self.carrier}",
            "CATALOG_CACHE_SECONDS": "0",
        }

    def token(self, role: Role, subject: str, ttl: int = 600) -> str:
        token = mint_token(self.jwt, role=role, subject=subject, warehouses=[W1], ttl_seconds=ttl)
        self.sent.append(token)
        return token

    def never_logged(self) -> list[str]:
        configured = [self.jwt, self.stripe_key, self.webhook, self.metrics, self.carrier]
        return configured + self.sent + [ADDRESS["phone"], ADDRESS["line1"], ADDRESS["recipient"]]


async def graphql(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str | None
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body: dict[str, Any] = response.json()
    return body


def redeem_input(key: str, sku: str, quantity: int = 1) -> dict[str, Any]:
    lines = [{"sku": sku, "quantity": quantity}]
    return {"input": {"idempotencyKey": key, "lines": lines, "shippingAddress": ADDRESS}}


async def member_traffic(http: httpx.AsyncClient, keep: Secrets) -> tuple[str, str]:
    """Me, a redemption, a refused one, one with a card payment: the first order's number
    and the payment intent's id."""
    member = keep.token(Role.MEMBER, MEMBER)
    assert "errors" not in await graphql(http, operation("Me"), {}, member)
    placed = await graphql(http, REDEEM, redeem_input("log-1", "HM-MUG"), member)
    assert placed["data"]["redeem"]["errors"] == [], placed
    refused = await graphql(http, REDEEM, redeem_input("log-2", "HM-MUG", quantity=0), member)
    assert refused["data"]["redeem"]["errors"] == [{"code": "INVALID_INPUT"}]
    paid = await graphql(http, REDEEM, redeem_input("log-3", "LOG-CASH"), member)
    client_secret = paid["data"]["redeem"]["payment"]["clientSecret"]
    keep.sent.append(client_secret)
    return placed["data"]["redeem"]["order"]["number"], str(client_secret).split("_secret_")[0]


async def failing_traffic(http: httpx.AsyncClient, keep: Secrets) -> None:
    """Tokens that are refused, a body that is not JSON, a query that does not validate."""
    forged = mint_token("not-the-secret" * 3, role=Role.ADMIN, subject="x")
    expired = keep.token(Role.MEMBER, MEMBER, ttl=-3600)
    keep.sent.append(forged)
    for token in (forged, expired, "garbage.token.here"):
        body = await graphql(http, operation("Me"), {}, token)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await http.post("/graphql", content=b"{nope")).status_code == 400
    assert (await graphql(http, "{ nope }", {}, keep.token(Role.ADMIN, "a1")))["errors"]
    metrics = await http.get("/metrics", headers={"Authorization": f"Bearer {keep.metrics}"})
    assert metrics.status_code == 200


async def stripe_traffic(
    http: httpx.AsyncClient, stripe: StripeFake, keep: Secrets, intent_id: str
) -> None:
    """The payment's signed webhook, and the same one forged."""
    payload, signature = stripe.encode_event(stripe.succeed(intent_id), secret=keep.webhook)
    keep.sent.append(signature.split("v1=")[1])
    headers = {"Stripe-Signature": signature, "Content-Type": "application/json"}
    assert (
        await http.post("/webhooks/stripe", content=payload, headers=headers)
    ).status_code == 200
    forged = {**headers, "Stripe-Signature": signature[:-4] + "0000"}
    assert (await http.post("/webhooks/stripe", content=payload, headers=forged)).status_code == 400


async def websocket_traffic(base_url: str, keep: Secrets, number: str) -> None:
    async with graphql_socket(base_url, keep.token(Role.MEMBER, MEMBER)) as socket:
        await socket.subscribe(operation("OrderUpdates"), {"number": number})


@pytest.mark.parametrize("level", ["DEBUG", "INFO"])
async def test_no_secret_token_phone_or_address_reaches_the_log(
    api: GraphQLClient, orm: str, stripe: StripeFake, tmp_path: Path, level: str
) -> None:
    await small_mall(api)
    await gift(api, "LOG-CASH", 1000, cash="19.90")
    await stock(api, "LOG-CASH", W1, 5)
    await member_with_points(MEMBER, 50_000)
    keep, log = Secrets(), tmp_path / f"api-{level}.log"
    async with api_process(orm, log, keep.env(stripe, level)) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            number, intent_id = await member_traffic(http, keep)
            await failing_traffic(http, keep)
            await stripe_traffic(http, stripe, keep, intent_id)
        await websocket_traffic(base_url, keep, number)
    text = log.read_text()
    assert "POST /graphql" in text, "the access log was on"
    assert "refused a Stripe webhook" in text, "the app's own records were written"
    # The JSON lines escape what is not ASCII: look for each value as written there too.
    wanted = {v for value in keep.never_logged() for v in (value, json.dumps(value)[1:-1])}
    found = sorted(value for value in wanted if value in text)
    lines = [line[:300] for line in text.splitlines() if any(v in line for v in found)]
    assert not found, (
        "logged: " + json.dumps(found, ensure_ascii=False) + "\n" + "\n".join(lines[:10])
    )


def test_a_record_carrying_secrets_is_redacted_on_its_way_out() -> None:
    """The safety net under the quiet loggers: whatever a record holds, the line does not."""
    token = mint_token("s" * 40, role=Role.MEMBER, subject="C1")
    message = (
        f"Authorization: Bearer {token} jwt={token} key=sk_test_abc123XYZ whsec_def456"
        " secret=pi_123abc_secret_456def Stripe-Signature: t=1,v1="
        + "ab12" * 16
        + " phone 13912345678 my-own-secret-value"
    )
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, message, None, None)
    record.request_id = "-"
    formatter = RedactingJsonFormatter(FORMAT, secrets=["my-own-secret-value"])
    line = formatter.format(record)
    for value in (token, "sk_test_abc123XYZ", "whsec_def456", "pi_123abc_secret_456def"):
        assert value not in line
    assert "ab12" * 16 not in line
    assert "13912345678" not in line
    assert "my-own-secret-value" not in line
    assert "[redacted]" in line
    assert "phone" in line, "the rest of the message stays"


def test_a_number_in_international_form_is_redacted_too() -> None:
    """The SMS side writes numbers as E.164 (`+8613912345678`), which the mainland shape
    alone does not catch."""
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "SMS to +8613912345678 and +447700900123: hi", None, None
    )
    record.request_id = "-"
    line = RedactingJsonFormatter(FORMAT).format(record)
    assert "8613912345678" not in line
    assert "447700900123" not in line
    assert "SMS to [redacted] and [redacted]: hi" in line
