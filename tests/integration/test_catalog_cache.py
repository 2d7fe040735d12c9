"""The catalog's shared answers never show a member something that has changed.

The `api` fixture runs with the cache on (its default), so each read below that repeats
an earlier one would be answered from the cache if nothing dropped it.
"""

from __future__ import annotations

from typing import Any

from tests.integration.test_redeem_api import redeem_input
from tests.support.catalog import gift, small_mall, stock
from tests.support.graphql import GraphQLClient, admin_token, member_token
from tests.support.members import member_with_points


async def quantity(api: GraphQLClient, sku: str, *, auth: str | None = None) -> int | None:
    found = (await api.op("Gift", {"sku": sku}, auth=auth)).data["gift"]
    return None if found is None else found["availability"]["quantityAvailable"]


async def catalog(api: GraphQLClient) -> dict[str, Any]:
    page = (await api.op("Catalog", {"first": 20, "sortBy": "POINTS_ASC"})).data["gifts"]
    return {e["node"]["sku"]: e["node"] for e in page["edges"]}


async def test_stock_edits_show_at_once(api: GraphQLClient) -> None:
    await small_mall(api)
    assert await quantity(api, "EL-PB10K") == 70
    assert await quantity(api, "EL-PB10K") == 70  # now from the cache
    await stock(api, "EL-PB10K", "SH01", 5)
    assert await quantity(api, "EL-PB10K") == 75


async def test_redemptions_and_cancellations_show_at_once(api: GraphQLClient) -> None:
    await small_mall(api)
    await member_with_points("C300", 40_000)
    assert (await catalog(api))["EL-PB10K"]["availability"]["quantityAvailable"] == 70
    placed = await api.op("Redeem", redeem_input("c-1", ("EL-PB10K", 3)), auth=member_token("C300"))
    number = placed.data["redeem"]["order"]["number"]
    assert (await catalog(api))["EL-PB10K"]["availability"]["quantityAvailable"] == 67
    cancelled = await api.op(
        "CancelOrder", {"input": {"orderNumber": number}}, auth=member_token("C300")
    )
    assert cancelled.data["cancelOrder"]["errors"] == []
    assert (await catalog(api))["EL-PB10K"]["availability"]["quantityAvailable"] == 70


async def test_gift_edits_show_at_once(api: GraphQLClient) -> None:
    await small_mall(api)
    assert (await catalog(api))["HM-MUG"]["pointsPrice"] == 7800
    await gift(api, "HM-MUG", 7500, category_slug="home", name="Thermos Mug")
    assert (await catalog(api))["HM-MUG"]["pointsPrice"] == 7500
    await gift(api, "HM-MUG", 7500, category_slug="home", name="Thermos Mug", active=False)
    assert "HM-MUG" not in await catalog(api)


async def test_admins_and_members_never_share_an_answer(api: GraphQLClient) -> None:
    await small_mall(api)  # EL-OLD is inactive: only admins see it
    assert await quantity(api, "EL-OLD", auth=admin_token()) == 0
    assert await quantity(api, "EL-OLD", auth=member_token("C301")) is None
    assert await quantity(api, "EL-OLD") is None
    assert await quantity(api, "EL-OLD", auth=admin_token()) == 0


async def test_affordable_depends_on_the_caller_and_is_never_shared(api: GraphQLClient) -> None:
    await small_mall(api)
    await member_with_points("RICH", 40_000)
    await member_with_points("POOR", 2_000)
    variables = {"first": 20, "filter": {"affordable": True}}

    async def affordable(member: str) -> set[str]:
        page = await api.op("Catalog", variables, auth=member_token(member))
        return {e["node"]["sku"] for e in page.data["gifts"]["edges"]}

    assert await affordable("RICH") == {"EL-PB10K", "EL-BUDS", "HM-MUG", "HM-TOWEL"}
    assert await affordable("POOR") == {"HM-TOWEL"}
