"""Unexpected exceptions are masked with an id; domain and client errors keep their code."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator

import pytest
import strawberry

from models.errors import OutOfStock
from schema.errors import ErrorPolicy, client_error


@strawberry.type
class Query:
    @strawberry.field
    def broken(self) -> int:
        raise RuntimeError("secret connection string postgres://u:p@db")

    @strawberry.field
    def refused(self) -> int:
        raise OutOfStock("gone")

    @strawberry.field
    def forbidden(self) -> int:
        raise client_error("Forbidden.", "FORBIDDEN")


schema = strawberry.Schema(query=Query, extensions=[ErrorPolicy])


async def test_unexpected_error_is_masked_and_logged_with_its_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="pointsmall.graphql"):
        result = await schema.execute("{ broken }")
    assert result.errors is not None
    error = result.errors[0]
    assert "postgres://" not in error.message
    assert error.extensions is not None
    assert error.extensions["code"] == "INTERNAL_SERVER_ERROR"
    assert error.extensions["errorId"] in caplog.text
    assert "secret connection string" in caplog.text


async def test_domain_error_outside_a_payload_keeps_its_code() -> None:
    result = await schema.execute("{ refused }")
    assert result.errors is not None
    assert result.errors[0].extensions == {"code": "OUT_OF_STOCK"}
    assert result.errors[0].message == "gone"


async def test_client_errors_and_validation_errors_are_not_masked() -> None:
    forbidden = await schema.execute("{ forbidden }")
    assert forbidden.errors is not None
    assert forbidden.errors[0].extensions == {"code": "FORBIDDEN"}
    invalid = await schema.execute("{ nope }")
    assert invalid.errors is not None
    assert "nope" in invalid.errors[0].message


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def ticks(self) -> AsyncGenerator[int, None]:
        yield 1
        raise RuntimeError("internal detail: password=hunter2")


streaming_schema = strawberry.Schema(
    query=Query, subscription=Subscription, extensions=[ErrorPolicy]
)


async def test_unexpected_error_inside_a_subscription_stream_is_masked() -> None:
    results = []
    stream = await streaming_schema.subscribe("subscription { ticks }")
    async for result in stream:  # type: ignore[union-attr]
        results.append(result)
    messages = [e.message for r in results for e in (r.errors or [])]
    assert results[0].data == {"ticks": 1}
    assert messages
    assert all("hunter2" not in m for m in messages)
    assert any(
        (e.extensions or {}).get("code") == "INTERNAL_SERVER_ERROR"
        for r in results
        for e in (r.errors or [])
    )
