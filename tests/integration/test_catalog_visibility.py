"""An inactive gift is the back office's alone, by SKU and by global id alike."""

from __future__ import annotations

import pytest

from tests.support.catalog import small_mall
from tests.support.graphql import GraphQLClient, admin_token, member_token, staff_token

BY_SKU = "query($sku: String!) { gift(sku: $sku) { id sku } }"
BY_ID = "query($id: ID!) { node(id: $id) { id ... on Gift { sku } } }"
CALLERS = {
    "anonymous": None,
    "member": member_token("C-SEE"),
    "staff": staff_token("SH01"),
    "admin": admin_token(),
}


async def global_id(api: GraphQLClient, sku: str) -> str:
    found = (await api.query(BY_SKU, {"sku": sku}, auth=admin_token())).data["gift"]
    return str(found["id"])


async def seen(api: GraphQLClient, sku: str, gid: str, auth: str | None) -> tuple[bool, bool]:
    """Whether the caller gets the gift by SKU, and by its global id."""
    by_sku = (await api.query(BY_SKU, {"sku": sku}, auth=auth)).data["gift"]
    by_id = (await api.query(BY_ID, {"id": gid}, auth=auth)).data["node"]
    return by_sku is not None, by_id is not None and by_id["sku"] == sku


@pytest.mark.parametrize(
    ("caller", "shown"),
    [("anonymous", False), ("member", False), ("staff", False), ("admin", True)],
)
async def test_both_paths_agree_on_an_inactive_gift(
    api: GraphQLClient, caller: str, shown: bool
) -> None:
    await small_mall(api)  # EL-OLD is inactive
    gid = await global_id(api, "EL-OLD")
    assert await seen(api, "EL-OLD", gid, CALLERS[caller]) == (shown, shown)


@pytest.mark.parametrize("caller", sorted(CALLERS))
async def test_both_paths_show_an_active_gift_to_everyone(api: GraphQLClient, caller: str) -> None:
    await small_mall(api)
    gid = await global_id(api, "HM-MUG")
    assert await seen(api, "HM-MUG", gid, CALLERS[caller]) == (True, True)
