"""The catalog through the client operations: admin upserts, public browsing."""

from __future__ import annotations

from tests.support.catalog import admin, small_mall, stock
from tests.support.graphql import GraphQLClient, admin_token, member_token


async def test_categories_count_active_gifts(api: GraphQLClient) -> None:
    await small_mall(api)
    categories = (await api.op("Categories")).data["categories"]
    assert [(c["slug"], c["giftCount"]) for c in categories] == [("electronics", 2), ("home", 2)]


async def test_catalog_shows_active_gifts_with_availability(api: GraphQLClient) -> None:
    await small_mall(api)
    page = (await api.op("Catalog", {"first": 10, "sortBy": "POINTS_ASC"})).data["gifts"]
    assert page["totalCount"] == 4
    skus = [e["node"]["sku"] for e in page["edges"]]
    assert skus == ["HM-TOWEL", "EL-PB10K", "HM-MUG", "EL-BUDS"]
    power_bank = page["edges"][1]["node"]
    assert power_bank["availability"]["quantityAvailable"] == 70
    assert power_bank["availability"]["inStock"] is True
    assert power_bank["availability"]["estimatedShipBy"] is not None
    assert power_bank["category"] == {"slug": "electronics", "name": "数码 Electronics"}
    towel = page["edges"][0]["node"]
    assert towel["availability"] == {
        "inStock": False,
        "quantityAvailable": 0,
        "estimatedShipBy": None,
    }


async def test_catalog_pages_through_with_cursors(api: GraphQLClient) -> None:
    await small_mall(api)
    seen: list[str] = []
    after = None
    while True:
        page = (await api.op("Catalog", {"first": 3, "after": after, "sortBy": "NAME"})).data[
            "gifts"
        ]
        seen += [e["node"]["sku"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == 4
    assert len(set(seen)) == 4


async def test_catalog_filters(api: GraphQLClient) -> None:
    await small_mall(api)

    async def skus(filter: dict[str, object]) -> set[str]:
        page = (await api.op("Catalog", {"first": 20, "filter": filter})).data["gifts"]
        return {e["node"]["sku"] for e in page["edges"]}

    assert await skus({"categorySlug": "home"}) == {"HM-MUG", "HM-TOWEL"}
    assert await skus({"search": "hot"}) == {"HM-MUG"}
    assert await skus({"search": "移动电源"}) == {"EL-PB10K"}
    assert await skus({"minPoints": 7000, "maxPoints": 40000}) == {"HM-MUG", "EL-BUDS"}
    assert await skus({"inStock": True}) == {"EL-PB10K", "EL-BUDS", "HM-MUG"}
    assert await skus({"inStock": False}) == {"HM-TOWEL"}


async def test_affordable_needs_a_member_and_uses_available_points(api: GraphQLClient) -> None:
    await small_mall(api)
    anonymous = await api.op("Catalog", {"first": 5, "filter": {"affordable": True}})
    assert anonymous.error_codes == ["UNAUTHENTICATED"]
    broke = await api.op(
        "Catalog", {"first": 5, "filter": {"affordable": True}}, auth=member_token("C-0")
    )
    assert broke.data["gifts"]["totalCount"] == 0


async def test_first_over_100_is_an_error_not_a_cut(api: GraphQLClient) -> None:
    result = await api.op("Catalog", {"first": 101})
    assert result.error_codes == ["INVALID_INPUT"]
    garbage = await api.op("Catalog", {"first": 5, "after": "!!!"})
    assert garbage.error_codes == ["INVALID_INPUT"]


async def test_gift_by_sku_hides_inactive_gifts_from_members(api: GraphQLClient) -> None:
    await small_mall(api)
    gift = (await api.op("Gift", {"sku": "HM-TOWEL"})).data["gift"]
    assert gift["limitPerMember"] == 2
    assert (await api.op("Gift", {"sku": "EL-OLD"})).data["gift"] is None
    assert (await api.op("Gift", {"sku": "EL-OLD"}, auth=admin_token())).data["gift"][
        "sku"
    ] == "EL-OLD"


async def test_stock_never_drops_below_zero(api: GraphQLClient) -> None:
    await small_mall(api)
    result = await api.op(
        "AdjustStock",
        {"input": {"sku": "HM-MUG", "warehouseCode": "SH01", "delta": -11, "reason": "write-off"}},
        auth=admin_token(),
    )
    payload = result.data["adjustStock"]
    assert payload["errors"][0]["code"] == "INVALID_INPUT"
    assert payload["errors"][0]["field"] == "delta"
    assert (await stock(api, "HM-MUG", "SH01", -10))["onHand"] == 0


async def test_bad_catalog_input_is_refused_with_field(api: GraphQLClient) -> None:
    await small_mall(api)
    bad_zone = await api.op(
        "UpsertWarehouse",
        {
            "input": {
                "code": "X1",
                "name": "x",
                "dailyCapacity": 5,
                "timezone": "Mars/Base",
                "closedDates": [],
            }
        },
        auth=admin_token(),
    )
    assert bad_zone.data["upsertWarehouse"]["errors"][0]["field"] == "timezone"
    bad_price = await api.op(
        "UpsertGift",
        {
            "input": {
                "sku": "X",
                "name": "x",
                "description": "",
                "imageUrl": "",
                "categorySlug": "home",
                "pointsPrice": 0,
                "cashPrice": None,
                "limitPerMember": None,
                "active": True,
            }
        },
        auth=admin_token(),
    )
    assert bad_price.data["upsertGift"]["errors"][0] == {
        "code": "INVALID_INPUT",
        "message": "points_price must be between 1 and 10000000",
        "field": "pointsPrice",
    }
    no_category = await api.op(
        "UpsertGift",
        {
            "input": {
                "sku": "X",
                "name": "x",
                "description": "",
                "imageUrl": "",
                "categorySlug": "nope",
                "pointsPrice": 10,
                "cashPrice": None,
                "limitPerMember": None,
                "active": True,
            }
        },
        auth=admin_token(),
    )
    assert no_category.data["upsertGift"]["errors"][0]["code"] == "NOT_FOUND"


async def test_catalog_mutations_need_admin(api: GraphQLClient) -> None:
    result = await api.op(
        "UpsertCategory", {"input": {"slug": "a", "name": "A"}}, auth=member_token("C1")
    )
    assert result.error_codes == ["FORBIDDEN"]
    assert (await api.op("UpsertCategory", {"input": {"slug": "a", "name": "A"}})).error_codes == [
        "UNAUTHENTICATED"
    ]
    await admin(api, "UpsertCategory", {"input": {"slug": "a", "name": "A"}})
