"""GET for queries: the public catalog with Cache-Control and an ETag, 304 when unchanged;
anything with a token, or the caller's own data, private and never stored."""

from __future__ import annotations

import json

import httpx

from api.documents import document_id
from tests.support.apps import app_client
from tests.support.catalog import small_mall, stock
from tests.support.graphql import GraphQLClient, member_token, operation
from tests.support.members import member_with_points

CATALOG = {"documentId": document_id(operation("Catalog")), "variables": json.dumps({"first": 5})}


async def get(http: httpx.AsyncClient, params: dict[str, str], **headers: str) -> httpx.Response:
    return await http.get("/graphql", params=params, headers=headers)


async def test_the_public_catalog_answers_304_until_it_changes(api: GraphQLClient) -> None:
    await small_mall(api)
    first = await get(api.http, CATALOG)
    assert first.status_code == 200
    assert first.headers["cache-control"] == "public, max-age=1"
    tag = first.headers["etag"]
    same = await get(api.http, CATALOG, **{"If-None-Match": tag})
    assert (same.status_code, same.content, same.headers["etag"]) == (304, b"", tag)
    await stock(api, "HM-MUG", "SH01", 5)  # the catalog shows the units
    changed = await get(api.http, CATALOG, **{"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != tag
    assert changed.json() != first.json()


async def test_replicas_tag_the_same_answer_alike(db: str, api: GraphQLClient) -> None:
    """Two processes, neither with the other's cache: one answer, one tag (a CDN may ask
    either), and with the shared answers off the tag still holds."""
    await small_mall(api)
    async with (
        app_client(db) as one,
        app_client(db, catalog_cache_seconds=0) as other,
    ):
        a, b = await get(one, CATALOG), await get(other, CATALOG)
        assert a.headers["etag"] == b.headers["etag"]
        assert b.headers["cache-control"] == "public, no-cache"
        again = await get(other, CATALOG, **{"If-None-Match": a.headers["etag"]})
        assert again.status_code == 304


async def test_anything_with_a_token_is_private(api: GraphQLClient) -> None:
    await small_mall(api)
    await member_with_points("M-CACHE", 500)
    token = f"Bearer {member_token('M-CACHE')}"
    catalog = await get(api.http, CATALOG, Authorization=token)
    assert catalog.headers["cache-control"] == "private, no-store"
    assert "etag" not in catalog.headers
    me = await get(api.http, {"documentId": document_id(operation("Me"))}, Authorization=token)
    assert me.json()["data"]["me"]["points"]["balance"] == 500
    assert me.headers["cache-control"] == "private, no-store"
    affordable = {**CATALOG, "variables": json.dumps({"first": 5, "filter": {"affordable": True}})}
    mine = await get(api.http, affordable, Authorization=token)
    assert mine.headers["cache-control"] == "private, no-store"


async def test_errors_and_posts_are_not_stored(api: GraphQLClient) -> None:
    refused = await get(api.http, {"query": "{ gifts(first: 5) { nope } }"})
    assert refused.headers["cache-control"] == "private, no-store"
    posted = await api.http.post("/graphql", json={"query": "{ categories { slug } }"})
    assert posted.headers["cache-control"] == "private, no-store"
