"""Apollo Client 4's persisted-queries link and a plain fetch by documentId, the real npm
packages (tests/js, `make js-clients`), against the running server in both policies."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio

from api.documents import MANIFEST
from tests.conftest import STRIPE_WEBHOOK_SECRET
from tests.fakes.stripe_server import StripeFake
from tests.support.catalog import small_mall
from tests.support.graphql import GraphQLClient, member_token, operation
from tests.support.js import node
from tests.support.server import api_process
from tests.support.ws import graphql_socket


@pytest_asyncio.fixture
async def trusted_url(orm: str, session_tmp: Path, stripe_server: StripeFake) -> AsyncIterator[str]:
    env = {
        "STRIPE_API_BASE": stripe_server.base_url,
        "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
        "GRAPHQL_DOCUMENTS": "trusted",
    }
    async with api_process(orm, session_tmp / "api-e2e-trusted.log", env) as url:
        yield url


async def clients(url: str) -> dict[str, Any]:
    output = await node("apollo.mjs", f"{url}/graphql", str(MANIFEST))
    return json.loads(output.strip().splitlines()[-1])  # type: ignore[no-any-return]


def shown(run: dict[str, Any]) -> list[tuple[str, bool, int]]:
    """Each request: its method, whether it carried the document's text, its status."""
    return [(s["method"], "query" in s["params"], s["status"]) for s in run["sent"]]


def edges(body: dict[str, Any]) -> list[str]:
    return [e["node"]["sku"] for e in body["gifts"]["edges"]]


async def test_apollo_and_fetch_by_id_in_development(
    http_api: GraphQLClient, server_url: str
) -> None:
    await small_mall(http_api)
    out = await clients(server_url)
    assert out["trusted"]["error"] is None
    assert len(edges(out["trusted"]["data"])) == 2
    assert shown(out["trusted"]) == [("POST", False, 200)]  # the hash alone: known already
    slugs = [c["slug"] for c in out["adhoc"]["data"]["categories"]]
    assert slugs == ["electronics", "home"]
    # Not found by hash (a 400 in the spec's media type, which Apollo asks for), then
    # registered with its text.
    assert shown(out["adhoc"]) == [("POST", False, 400), ("POST", True, 200)]
    assert shown(out["adhocAgain"]) == [("POST", False, 200)]
    assert shown(out["get"]) == [("GET", False, 200)]
    assert edges(out["get"]["data"]) == edges(out["trusted"]["data"])
    assert out["fetchPost"]["status"] == 200
    assert out["fetchPost"]["type"].startswith("application/graphql-response+json")
    assert edges(out["fetchPost"]["body"]["data"]) == edges(out["trusted"]["data"])
    assert out["fetchGet"]["cache"] == "public, max-age=1"
    assert out["fetchGet"]["etag"]


async def test_apollo_runs_only_trusted_documents_in_trusted_mode(
    http_api: GraphQLClient, trusted_url: str
) -> None:
    await small_mall(http_api)
    out = await clients(trusted_url)
    assert len(edges(out["trusted"]["data"])) == 2
    assert shown(out["trusted"]) == [("POST", False, 200)]
    assert out["adhoc"]["data"] is None
    assert "DOCUMENT_NOT_TRUSTED" in json.dumps(out["adhoc"])
    assert shown(out["adhoc"])[0] == ("POST", False, 400)  # not found by hash,
    assert shown(out["adhoc"])[1][:2] == ("POST", True)  # and refused with its text
    assert edges(out["fetchPost"]["body"]["data"]) == edges(out["trusted"]["data"])


async def test_trusted_mode_holds_websocket_operations_to_the_manifest(trusted_url: str) -> None:
    adhoc = 'subscription { orderUpdated(number: "PM-NONE") { number status } }'
    async with graphql_socket(trusted_url, member_token("M-WS")) as socket:
        refused = await socket.subscribe(adhoc, {})
        message = await socket.receive()
        assert (message["id"], message["type"]) == (refused, "error")
        assert message["payload"][0]["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"
        trusted = await socket.subscribe(operation("OrderUpdates"), {"number": "PM-NONE"})
        answer = await socket.receive()  # the order is not there: the stream says so
        assert answer["id"] == trusted
        assert "DOCUMENT_NOT_TRUSTED" not in json.dumps(answer)
