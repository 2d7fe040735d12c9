"""A staff token's `warehouses` claim is honoured exactly: no case folding, no trimming.

W1 is SH01 (member A's order), W2 is GZ01 (member B's order). A token for `sh01`, `SH01 `
or `Sh01` is a token for another warehouse (one that does not exist), not for SH01.
"""

from __future__ import annotations

import pytest

from tests.security.world import W1, W2, World, build_world
from tests.support.graphql import GraphQLClient, admin_token, staff_token
from tests.support.ws import graphql_socket

QUEUE = (
    "query($w: String!) { fulfilmentQueue(warehouseCode: $w, first: 10) {"
    " edges { node { number } } } }"
)
ORDER = "query($n: String!) { order(number: $n) { number status } }"
PICK = (
    "mutation($n: String!) { startPicking(input: {orderNumber: $n}) {"
    " order { status } errors { code } } }"
)
ALERTS = "subscription($w: String!) { fulfilmentAlerts(warehouseCode: $w) { kind } }"
LOOKALIKES = ["sh01", "Sh01", "SH01 ", " SH01", "ＳＨ01"]  # a control character: refused token


async def status_of(api: GraphQLClient, number: str) -> str:
    result = await api.query(ORDER, {"n": number}, auth=admin_token())
    return str(result.data["order"]["status"])


async def test_the_exact_codes_of_the_claim_are_served(api: GraphQLClient) -> None:
    world = await build_world(api)
    both = staff_token(W1, W2)
    for code, numbers in ((W1, {world.order_a, world.spare_a}), (W2, {world.order_b})):
        queue = await api.query(QUEUE, {"w": code}, auth=both)
        assert {e["node"]["number"] for e in queue.data["fulfilmentQueue"]["edges"]} == numbers
    picked = await api.query(PICK, {"n": world.order_a}, auth=staff_token(W1))
    assert picked.data["startPicking"] == {"order": {"status": "PICKING"}, "errors": []}


@pytest.mark.parametrize("claim", LOOKALIKES)
async def test_a_claim_that_differs_only_in_case_or_space_grants_nothing(
    api: GraphQLClient, claim: str
) -> None:
    world: World = await build_world(api)
    token = staff_token(claim)
    assert (await api.query(QUEUE, {"w": W1}, auth=token)).error_codes == ["FORBIDDEN"]
    own = await api.query(QUEUE, {"w": claim}, auth=token)
    assert own.error_codes == ["NOT_FOUND"], "no warehouse has that code"
    assert (await api.query(ORDER, {"n": world.order_a}, auth=token)).data == {"order": None}
    picked = await api.query(PICK, {"n": world.order_a}, auth=token)
    assert picked.data["startPicking"] == {"order": None, "errors": [{"code": "NOT_FOUND"}]}
    assert await status_of(api, world.order_a) == "CONFIRMED"


async def test_staff_of_w1_cannot_reach_w2_under_another_spelling(api: GraphQLClient) -> None:
    world = await build_world(api)
    token = staff_token(W1)
    for code in (W2, W2.lower(), f" {W2}"):
        assert (await api.query(QUEUE, {"w": code}, auth=token)).error_codes == ["FORBIDDEN"]
    picked = await api.query(PICK, {"n": world.order_b}, auth=token)
    assert picked.data["startPicking"]["errors"] == [{"code": "NOT_FOUND"}]
    assert await status_of(api, world.order_b) == "CONFIRMED"


async def test_alerts_follow_the_claim_exactly(api: GraphQLClient, security_server: str) -> None:
    await build_world(api)
    async with graphql_socket(security_server, staff_token("sh01")) as socket:
        sid = await socket.subscribe(ALERTS, {"w": W1})
        message = await socket.receive()
    assert message["id"] == sid
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["FORBIDDEN"]
