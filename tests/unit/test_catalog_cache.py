"""Which answers the catalog cache may share, and when it must let them go."""

from __future__ import annotations

import asyncio

import pytest

from api.catalog_cache import CatalogCache, cache_key, is_public_catalog_read
from tests.support.graphql import operation


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("name", ["Catalog", "Categories", "Gift"])
def test_the_public_catalog_operations_are_shared(name: str) -> None:
    assert is_public_catalog_read(operation(name), None)
    assert is_public_catalog_read(operation(name), name)


@pytest.mark.parametrize(
    "name", ["Me", "MyOrders", "Order", "Redeem", "FulfilmentQueue", "Member", "UpsertGift"]
)
def test_operations_that_depend_on_the_caller_or_write_are_not(name: str) -> None:
    assert not is_public_catalog_read(operation(name), None)


@pytest.mark.parametrize(
    "query",
    [
        "{ gifts(first: 5, filter: {affordable: true}) { totalCount } }",
        "{ gifts(first: 5) { totalCount } me { externalId } }",
        "mutation { __typename }",
        'subscription { orderUpdated(number: "X") { number } }',
        "{ gifts(first: 5) { totalCount ",  # does not parse
        "query A { categories { slug } } query B { me { externalId } }",  # which one?
    ],
)
def test_anything_else_is_answered_afresh(query: str) -> None:
    assert not is_public_catalog_read(query, None)


def test_the_operation_name_picks_the_operation_of_a_document() -> None:
    document = "query A { categories { slug } } query B { me { externalId } }"
    assert is_public_catalog_read(document, "A")
    assert not is_public_catalog_read(document, "B")
    assert not is_public_catalog_read(document, "C")


def test_the_key_holds_variables_and_the_admin_view() -> None:
    query = operation("Catalog")
    member = cache_key({"query": query, "variables": {"first": 20}}, admin=False)
    assert member is not None
    assert member == cache_key({"query": query, "variables": {"first": 20}}, admin=False)
    assert member != cache_key({"query": query, "variables": {"first": 21}}, admin=False)
    assert member != cache_key({"query": query, "variables": {"first": 20}}, admin=True)
    affordable = {"first": 20, "filter": {"affordable": True}}
    assert cache_key({"query": query, "variables": affordable}, admin=False) is None


@pytest.mark.parametrize(
    "payload",
    [
        [{"query": "{ categories { slug } }"}],  # a batch
        {"query": 42},
        {"query": "{ categories { slug } }", "variables": [1]},
        {"query": "{ categories { slug } }", "operationName": 7},
        "{ categories { slug } }",
    ],
)
def test_malformed_payloads_have_no_key(payload: object) -> None:
    assert cache_key(payload, admin=False) is None


def test_an_answer_lives_until_invalidated() -> None:
    cache = CatalogCache(max_age=60, clock=Clock())
    assert cache.put("k", version=cache.version, born=cache.clock(), body=b'{"data":1}')
    assert cache.get("k") == b'{"data":1}'
    cache.invalidate("pointsmall_orders", "PM-1")
    assert cache.get("k") is None


def test_an_answer_computed_before_a_change_is_not_kept() -> None:
    cache = CatalogCache(max_age=60, clock=Clock())
    version = cache.version  # the request starts computing
    cache.invalidate()  # a redemption commits meanwhile
    assert not cache.put("k", version=version, born=cache.clock(), body=b'{"data":1}')
    assert cache.get("k") is None


def test_an_answer_expires_after_max_age() -> None:
    clock = Clock()
    cache = CatalogCache(max_age=1.0, clock=clock)
    cache.put("k", version=cache.version, born=clock(), body=b'{"data":1}')
    clock.now += 0.9
    assert cache.get("k") is not None
    clock.now += 0.2
    assert cache.get("k") is None


def test_errors_and_huge_answers_are_not_kept() -> None:
    cache = CatalogCache(max_age=60)
    assert not cache.put("e", version=0, born=cache.clock(), body=b'{"errors":[]}')
    assert not cache.put("h", version=0, born=cache.clock(), body=b"x" * 300_000)
    assert cache.get("e") is None
    assert cache.get("h") is None


def test_the_least_recently_used_answer_goes_first() -> None:
    cache = CatalogCache(max_age=60, size=2)
    for key in ("a", "b"):
        cache.put(key, version=0, born=cache.clock(), body=key.encode())
    assert cache.get("a") == b"a"  # b is now the oldest
    cache.put("c", version=0, born=cache.clock(), body=b"c")
    assert cache.get("b") is None
    assert cache.get("a") == b"a"
    assert cache.get("c") == b"c"


async def test_requests_for_one_key_wait_for_the_one_computing_it() -> None:
    cache = CatalogCache(max_age=60)
    computed = 0

    async def request() -> bytes | None:
        nonlocal computed
        body = cache.get("k") or await cache.wait("k")
        if body is not None:
            return body
        with cache.computing("k") as done:
            computed += 1
            await asyncio.sleep(0.01)
            cache.put("k", version=cache.version, born=cache.clock(), body=b"page")
            done(b"page")
        return b"page"

    answers = await asyncio.gather(*(request() for _ in range(20)))
    assert answers == [b"page"] * 20
    assert computed == 1


async def test_a_computation_that_fails_releases_its_waiters() -> None:
    cache = CatalogCache(max_age=60)

    async def failing() -> None:
        with cache.computing("k"):
            await asyncio.sleep(0.01)
            raise RuntimeError("the database went away")

    task = asyncio.create_task(failing())
    await asyncio.sleep(0)
    waiter = asyncio.create_task(cache.wait("k"))
    with pytest.raises(RuntimeError):
        await task
    assert await waiter is None  # the waiter computes its own answer
