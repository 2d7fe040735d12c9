"""Prometheus metrics: operation latency, refusals by code, redemptions, the token guard."""

from __future__ import annotations

import httpx

from api.app import create_app
from tests.support.catalog import ADDRESS, small_mall
from tests.support.graphql import GraphQLClient, member_token
from tests.support.settings import settings_for


def sample(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith(f"{name}{{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
        if not labels and line.startswith(f"{name} "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no sample {name}{{{wanted}}}")


async def test_metrics_count_operations_refusals_and_redemptions(api: GraphQLClient) -> None:
    await small_mall(api)
    before = (await api.http.get("/metrics")).text
    refusals = "pointsmall_refusals_total"
    refused_before = sample_or_zero(before, refusals, code="INSUFFICIENT_POINTS")
    variables = {
        "input": {
            "idempotencyKey": "m-1",
            "lines": [{"sku": "EL-PB10K", "quantity": 1}],
            "shippingAddress": ADDRESS,
        }
    }
    await api.op("Redeem", variables, auth=member_token("C-MET"))
    answers = "pointsmall_catalog_answers_total"
    computed_before = sample_or_zero(before, answers, source="computed")
    cached_before = sample_or_zero(before, answers, source="cached")
    await api.op("Catalog", {"first": 5})
    await api.op("Catalog", {"first": 5})  # the same answer, from the cache
    after = (await api.http.get("/metrics")).text
    assert sample(after, answers, source="computed") == computed_before + 1
    assert sample(after, answers, source="cached") == cached_before + 1
    assert sample(after, refusals, code="INSUFFICIENT_POINTS") == refused_before + 1
    assert sample(after, "pointsmall_redemptions_total", outcome="refused") >= 1
    timed = "pointsmall_graphql_operation_seconds_count"
    assert sample(after, timed, operation="gifts", type="query") >= 1
    assert 'operation="Catalog"' not in after


def sample_or_zero(text: str, name: str, **labels: str) -> float:
    try:
        return sample(text, name, **labels)
    except AssertionError:
        return 0.0


async def test_metrics_token_guards_the_endpoint(db: str) -> None:
    app = create_app(settings_for(db, metrics_token="scrape-secret"), manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        assert (await http.get("/metrics")).status_code == 401
        ok = await http.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
        assert ok.status_code == 200
        assert "pointsmall_graphql_operation_seconds" in ok.text
    await app.state.services.payments.close()
