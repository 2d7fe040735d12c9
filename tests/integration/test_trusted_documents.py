"""Requests by trusted id and by APQ hash, over POST and GET, in both policies."""

from __future__ import annotations

import json
from typing import Any

import httpx

from api.documents import document_id
from api.graphql_http import GRAPHQL_RESPONSE
from tests.support.apps import app_client
from tests.support.catalog import small_mall
from tests.support.graphql import GraphQLClient, member_token, operation

CATALOG = operation("Catalog")
ADHOC = "{ categories { slug name } }"


def apq(text: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": document_id(text)[7:]}}


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json().get("errors") or []]


async def test_a_document_by_id_answers_as_by_text(api: GraphQLClient) -> None:
    await small_mall(api)
    variables = {"first": 3}
    by_text = await api.http.post("/graphql", json={"query": CATALOG, "variables": variables})
    by_id = await api.http.post(
        "/graphql", json={"documentId": document_id(CATALOG), "variables": variables}
    )
    by_get = await api.http.get(
        "/graphql",
        params={"documentId": document_id(CATALOG), "variables": json.dumps(variables)},
    )
    by_hash = await api.http.get(
        "/graphql",
        params={"extensions": json.dumps(apq(CATALOG)), "variables": json.dumps(variables)},
    )
    assert by_text.json()["data"]["gifts"]["totalCount"] > 0
    for other in (by_id, by_get, by_hash):
        assert other.status_code == 200
        assert other.json() == by_text.json()


async def test_apq_registers_then_answers_by_hash(api: GraphQLClient) -> None:
    body: dict[str, Any] = {"extensions": apq(ADHOC)}
    first = await api.http.post("/graphql", json=body)
    assert codes(first) == ["PERSISTED_QUERY_NOT_FOUND"]
    spec = await api.http.post("/graphql", json=body, headers={"Accept": GRAPHQL_RESPONSE})
    assert (spec.status_code, "data" in spec.json()) == (400, False)
    registered = await api.http.post("/graphql", json={**body, "query": ADHOC})
    assert registered.json() == {"data": {"categories": []}}
    again = await api.http.get("/graphql", params={"extensions": json.dumps(apq(ADHOC))})
    assert again.json() == {"data": {"categories": []}}


async def test_a_hash_that_is_not_its_query_runs_nothing(api: GraphQLClient) -> None:
    other = "mutation { markNotificationsRead(input: {all: true}) { marked } }"
    body = {"query": other, "extensions": apq(ADHOC)}
    token = {"Authorization": f"Bearer {member_token('M-APQ')}"}
    answer = await api.http.post("/graphql", json=body, headers=token)
    assert codes(answer) == ["PERSISTED_QUERY_HASH_MISMATCH"]
    assert "data" in answer.json()
    assert answer.json()["data"] is None
    assert codes(await api.http.post("/graphql", json={"extensions": apq(ADHOC)})) == [
        "PERSISTED_QUERY_NOT_FOUND"
    ]


async def test_trusted_mode_runs_only_the_manifest(db: str, api: GraphQLClient) -> None:
    await small_mall(api)
    async with app_client(db, graphql_documents="trusted") as http:
        by_id = await http.post(
            "/graphql", json={"documentId": document_id(CATALOG), "variables": {"first": 2}}
        )
        assert len(by_id.json()["data"]["gifts"]["edges"]) == 2
        by_text = await http.post("/graphql", json={"query": CATALOG, "variables": {"first": 2}})
        assert by_text.json() == by_id.json()
        adhoc = await http.post("/graphql", json={"query": ADHOC})
        assert codes(adhoc) == ["DOCUMENT_NOT_TRUSTED"]
        guessed = await http.post("/graphql", json={"query": ADHOC, "extensions": apq(ADHOC)})
        assert codes(guessed) == ["DOCUMENT_NOT_TRUSTED"]
        unknown = await http.post("/graphql", json={"extensions": apq(ADHOC)})
        assert codes(unknown) == ["PERSISTED_QUERY_NOT_FOUND"]
        graphiql = await http.get(
            "/graphql", params={"query": ADHOC}, headers={"Accept": GRAPHQL_RESPONSE}
        )
        assert graphiql.status_code == 400
        assert [e["extensions"]["code"] for e in graphiql.json()["errors"]] == [
            "DOCUMENT_NOT_TRUSTED"
        ]


async def test_a_trusted_mutation_by_id_is_refused_over_get(api: GraphQLClient) -> None:
    mark = operation("MarkNotificationsRead")
    answer = await api.http.get(
        "/graphql",
        params={"documentId": document_id(mark), "variables": json.dumps({"input": {"all": True}})},
        headers={"Authorization": f"Bearer {member_token('M-GET')}"},
    )
    assert answer.status_code == 405
    posted = await api.http.post(
        "/graphql",
        json={"documentId": document_id(mark), "variables": {"input": {"all": True}}},
        headers={"Authorization": f"Bearer {member_token('M-GET')}"},
    )
    assert posted.json()["data"]["markNotificationsRead"]["errors"] == []
