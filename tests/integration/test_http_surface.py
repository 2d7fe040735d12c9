"""The HTTP surface: health, readiness, request ids, GraphiQL, body limit, batching."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from api.app import create_app
from api.settings import Settings
from tests.support.graphql import GraphQLClient
from tests.support.settings import settings_for


async def test_health_and_readiness_answer(api: GraphQLClient) -> None:
    assert (await api.http.get("/healthz")).json() == {"status": "ok"}
    assert (await api.http.get("/readyz")).json() == {"status": "ok", "database": "up"}


async def test_every_response_carries_a_request_id(api: GraphQLClient) -> None:
    generated = await api.http.post("/graphql", json={"query": "{ categories { slug } }"})
    assert len(generated.headers["x-request-id"]) == 32
    echoed = await api.http.get("/healthz", headers={"X-Request-ID": "trace-abc-123"})
    assert echoed.headers["x-request-id"] == "trace-abc-123"
    hostile = await api.http.get("/healthz", headers={"X-Request-ID": "a\tb; drop"})
    assert hostile.headers["x-request-id"] != "a\tb; drop"


async def test_graphiql_is_served_in_development(api: GraphQLClient) -> None:
    page = await api.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


def production(db: str, **overrides: Any) -> Settings:
    """Production settings with real-looking secrets on the test database."""
    return settings_for(
        db,
        app_env="production",
        jwt_secret="p" * 40,
        stripe_api_key="sk_live_x",
        stripe_webhook_secret="whsec_live",
        voucher_keys=("dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnY=",),
        voucher_digest_key="d" * 40,
        **overrides,
    )


async def test_production_serves_no_graphiql_and_no_introspection(db: str) -> None:
    app = create_app(production(db), manage_database=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        page = await http.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code != 200 or "graphiql" not in page.text.lower()
        schema = await http.post("/graphql", json={"query": "{ __schema { types { name } } }"})
        assert schema.json()["errors"]
        typo = await http.post("/graphql", json={"query": "{ categorie { slug } }"})
        assert "Did you mean" not in typo.json()["errors"][0]["message"]
    await app.state.services.payments.close()


async def test_body_over_the_limit_is_413(api: GraphQLClient) -> None:
    big = "{ categories { slug } }" + " " * 1_100_000
    response = await api.http.post("/graphql", json={"query": big})
    assert response.status_code == 413


async def test_batched_queries_are_refused(api: GraphQLClient) -> None:
    response = await api.http.post(
        "/graphql",
        json=[{"query": "{ categories { slug } }"}, {"query": "{ categories { name } }"}],
    )
    assert response.status_code == 400


async def test_deep_queries_are_refused(db: str) -> None:
    app = create_app(settings_for(db, max_query_depth=2), manage_database=False)
    query = "{ gifts(first: 1) { edges { node { category { slug } } } } }"
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        refused = (await http.post("/graphql", json={"query": query})).json()
        shallow = (await http.post("/graphql", json={"query": "{ categories { slug } }"})).json()
    await app.state.services.payments.close()
    assert "exceeds maximum operation depth" in refused["errors"][0]["message"]
    assert "errors" not in shallow


async def test_many_aliases_are_refused(api: GraphQLClient) -> None:
    aliases = " ".join(f"a{i}: categories {{ slug }}" for i in range(40))
    result = await api.query("{ " + aliases + " }")
    assert result.body.get("errors")
    assert "aliases" in result.body["errors"][0]["message"].lower()


@pytest.mark.parametrize(
    ("storage", "warned"), [("memory://", True), ("redis://127.0.0.1:6379/0", False)]
)
async def test_production_warns_of_an_in_memory_write_limit(
    db: str, caplog: pytest.LogCaptureFixture, storage: str, warned: bool
) -> None:
    app = create_app(production(db, rate_limit_storage=storage), manage_database=False)
    await app.state.services.payments.close()
    await app.state.services.write_limit.close()
    assert ("RATE_LIMIT_STORAGE is in memory" in caplog.text) is warned
