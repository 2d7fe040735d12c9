"""Other people's objects: by number, by global id, through a member's fields, by warehouse.

Each test asks for member A's things (or warehouse W1's) as someone who may not have them,
and checks both the answer (null, NOT_FOUND, FORBIDDEN) and that nothing of A's address is
anywhere in the response.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.security.world import A_SECRETS, MEMBER_A, W1, W2, World, build_world, caller_token
from tests.support.graphql import GraphQLClient, Result, admin_token

ORDER = "number status shippingAddress { recipient phone line1 }"


async def ask(api: GraphQLClient, caller: str, document: str, **variables: Any) -> Result:
    result = await api.query(document, variables, auth=caller_token(caller))
    text = json.dumps(result.body, ensure_ascii=False)
    if caller not in ("member_a", "staff_w1", "admin"):
        assert not [s for s in A_SECRETS if s in text], f"{caller} saw A's address: {text}"
    return result


async def status_of(api: GraphQLClient, number: str) -> str:
    result = await api.query(
        "query($n: String!) { order(number: $n) { status } }", {"n": number}, auth=admin_token()
    )
    return str(result.data["order"]["status"])


async def test_member_b_reads_nothing_of_a_s_order_by_number_or_global_id(
    api: GraphQLClient,
) -> None:
    world = await build_world(api)
    by_number = await ask(
        api,
        "member_b",
        f"query($n: String!) {{ order(number: $n) {{ {ORDER} }} }}",
        n=world.order_a,
    )
    assert by_number.data == {"order": None}
    by_id = await ask(
        api,
        "member_b",
        f"query($id: ID!) {{ node(id: $id) {{ id ... on RedemptionOrder {{ {ORDER} }} }} }}",
        id=world.order_a_gid,
    )
    assert by_id.data == {"node": None}
    mine = await ask(api, "member_b", "{ me { orders(first: 100) { edges { node { number } } } } }")
    numbers = [e["node"]["number"] for e in mine.data["me"]["orders"]["edges"]]
    assert numbers == [world.order_b]
    own = await ask(
        api, "member_a", "query($id: ID!) { node(id: $id) { id } }", id=world.order_a_gid
    )
    assert own.data == {"node": {"id": world.order_a_gid}}, "the id is real: A sees it"


async def test_a_s_points_cannot_be_reached_through_node(api: GraphQLClient) -> None:
    world = await build_world(api)
    member = (
        "query($id: ID!) { node(id: $id) { id ... on Member { externalId points { balance }"
        " pointsHistory(first: 10) { totalCount edges { node { delta reason } } }"
        f" orders(first: 10) {{ edges {{ node {{ {ORDER} }} }} }} }} }} }}"
    )
    entry = "query($id: ID!) { node(id: $id) { id ... on PointsEntry { delta reason } } }"
    for caller in ("anonymous", "member_b", "staff_w1", "staff_w2"):
        assert (await ask(api, caller, member, id=world.member_a_gid)).data == {"node": None}
        assert (await ask(api, caller, entry, id=world.entry_a_gid)).data == {"node": None}
    own = (await ask(api, "member_a", member, id=world.member_a_gid)).data["node"]
    assert own["externalId"] == MEMBER_A
    assert own["pointsHistory"]["totalCount"] >= 1
    assert (await ask(api, "member_a", entry, id=world.entry_a_gid)).data["node"] is not None


async def test_staff_of_w2_can_neither_read_nor_move_w1_s_order(api: GraphQLClient) -> None:
    world = await build_world(api)
    read = await ask(
        api,
        "staff_w2",
        f"query($n: String!) {{ order(number: $n) {{ {ORDER} }} }}",
        n=world.order_a,
    )
    assert read.data == {"order": None}
    node = await ask(
        api, "staff_w2", "query($id: ID!) { node(id: $id) { id } }", id=world.order_a_gid
    )
    assert node.data == {"node": None}
    for step in ("startPicking", "markPacked"):
        moved = await ask(
            api,
            "staff_w2",
            f"mutation($n: String!) {{ {step}(input: {{orderNumber: $n}}) {{"
            f" order {{ {ORDER} }} errors {{ code }} }} }}",
            n=world.order_a,
        )
        assert moved.data[step] == {"order": None, "errors": [{"code": "NOT_FOUND"}]}
    shipped = await ask(
        api,
        "staff_w2",
        'mutation($n: String!) { shipOrder(input: {orderNumber: $n, carrier: "SF",'
        ' trackingNumber: "SECW2"}) { order { number } errors { code } } }',
        n=world.order_a,
    )
    assert shipped.data["shipOrder"] == {"order": None, "errors": [{"code": "NOT_FOUND"}]}
    assert await status_of(api, world.order_a) == "CONFIRMED"
    cancel = await ask(
        api,
        "staff_w2",
        "mutation($n: String!) { cancelOrder(input: {orderNumber: $n}) { errors { code } } }",
        n=world.order_a,
    )
    assert cancel.error_codes == ["FORBIDDEN"]
    assert await status_of(api, world.order_a) == "CONFIRMED"


async def test_a_warehouse_queue_is_its_own_staff_s_only(api: GraphQLClient) -> None:
    world = await build_world(api)
    queue = (
        "query($w: String!) { fulfilmentQueue(warehouseCode: $w, first: 100) {"
        f" edges {{ node {{ {ORDER} }} }} }} }}"
    )
    other = await ask(api, "staff_w2", queue, w=W1)
    assert other.error_codes == ["FORBIDDEN"]
    own = await ask(api, "staff_w2", queue, w=W2)
    numbers = [e["node"]["number"] for e in own.data["fulfilmentQueue"]["edges"]]
    assert numbers == [world.order_b]
    for caller in ("member_a", "member_b"):
        assert (await ask(api, caller, queue, w=W1)).error_codes == ["FORBIDDEN"]


async def test_member_lookup_by_customer_number_is_for_admins_only(api: GraphQLClient) -> None:
    await build_world(api)
    lookup = "query($id: String!) { member(externalId: $id) { externalId points { balance } } }"
    assert (await ask(api, "anonymous", lookup, id=MEMBER_A)).error_codes == ["UNAUTHENTICATED"]
    for caller in ("member_a", "member_b", "staff_w1", "staff_w2"):
        assert (await ask(api, caller, lookup, id=MEMBER_A)).error_codes == ["FORBIDDEN"]
    admin = await ask(api, "admin", lookup, id=MEMBER_A)
    assert admin.data["member"]["externalId"] == MEMBER_A


async def test_sla_report_is_for_the_callers_warehouses_only(api: GraphQLClient) -> None:
    await build_world(api)
    now = datetime.now(UTC)
    window = {
        "start": (now - timedelta(days=1)).isoformat(),
        "end": (now + timedelta(days=1)).isoformat(),
    }
    report = (
        "query($start: DateTime!, $end: DateTime!, $w: String) {"
        " slaReport(from: $start, to: $end, warehouseCode: $w) { ordersConfirmed } }"
    )
    assert (await ask(api, "staff_w2", report, **window, w=W1)).error_codes == ["FORBIDDEN"]
    own = await ask(api, "staff_w2", report, **window, w=None)
    assert own.data["slaReport"]["ordersConfirmed"] == 1, "only B's order is in W2"
    everything = await ask(api, "admin", report, **window, w=None)
    assert everything.data["slaReport"]["ordersConfirmed"] == 3


async def test_unknown_and_foreign_ids_answer_alike(api: GraphQLClient) -> None:
    """Null for an id that does not exist and for one that is not yours: no oracle."""
    world: World = await build_world(api)
    ask_node = "query($id: ID!) { node(id: $id) { id } }"
    from strawberry import relay

    absent = relay.to_base64("RedemptionOrder", 999_999)
    foreign = await ask(api, "member_b", ask_node, id=world.order_a_gid)
    missing = await ask(api, "member_b", ask_node, id=absent)
    assert foreign.body == missing.body == {"data": {"node": None}}
    by_number = "query($n: String!) { order(number: $n) { number } }"
    foreign = await ask(api, "member_b", by_number, n=world.order_a)
    missing = await ask(api, "member_b", by_number, n="PM-NOPE")
    assert foreign.body == missing.body == {"data": {"order": None}}
