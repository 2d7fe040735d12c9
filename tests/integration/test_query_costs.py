"""A page costs the same few SQL statements whatever its size (DataLoaders, joins)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from fulfilment.planning import Planner
from models import sql
from models.catalog import service as catalog
from models.orders import redemption as orders
from models.orders.rules import Address, LineRequest
from tests.support.catalog import ADDRESS as ADDRESS_INPUT
from tests.support.catalog import plain_gift, plain_warehouse
from tests.support.databases import target
from tests.support.graphql import GraphQLClient, member_token
from tests.support.members import member_with_points
from tests.support.sql import counting_statements

ADDRESS = Address(
    "王芳", "13800138000", "上海市", "上海市", "黄浦区", "南京东路 1 号", "", "200001"
)


async def gifts(count: int) -> None:
    await plain_warehouse("SH01", capacity=1000)
    for i in range(count):
        sku = f"G{i:03d}"
        await plain_gift(sku, points=100 + i, name=f"Gift {i}")
        await catalog.adjust_stock(sku=sku, warehouse_code="SH01", delta=500, reason="r")


async def statements_for(
    api: GraphQLClient, name: str, variables: dict[str, object], token: str | None = None
) -> int:
    with counting_statements() as statements:
        result = await api.op(name, variables, auth=token)
    assert "errors" not in result.body, result.body
    return len(statements)


async def test_catalog_page_costs_the_same_at_10_and_100_gifts(api: GraphQLClient) -> None:
    await gifts(100)
    small = await statements_for(api, "Catalog", {"first": 10})
    large = await statements_for(api, "Catalog", {"first": 100})
    assert small == large
    assert large <= 5


async def test_my_orders_page_costs_the_same_at_10_and_100_orders(api: GraphQLClient) -> None:
    await gifts(1)
    await member_with_points("C-COST", 1_000_000)
    for i in range(100):
        request = orders.RedeemRequest(f"k{i}", [LineRequest("G000", 1)], ADDRESS)
        await orders.redeem(
            member_external_id="C-COST", request=request, now=datetime.now(UTC), planner=Planner()
        )
    token = member_token("C-COST")
    small = await statements_for(api, "MyOrders", {"first": 10}, token)
    large = await statements_for(api, "MyOrders", {"first": 100}, token)
    assert small == large
    assert large <= 5


async def test_redeeming_one_gift_takes_a_fixed_few_statements(api: GraphQLClient) -> None:
    """A campaign's redemption: each statement is a round trip while others queue on the hot
    rows, so their number is held down (on PostgreSQL the order, its lines, deadlines and
    notice are one statement with the debit, the units and the day; the member with the
    account lock, the replay and the gifts are one read, the offers and booked days
    another, the live lots a third)."""
    await gifts(3)
    await member_with_points("QC-R", 10_000)
    token = member_token("QC-R")
    counts = []
    for key in ("r1", "r2", "r3"):  # the first also creates the ship day's row
        line = {"sku": "G000", "quantity": 1}
        variables = {
            "input": {"idempotencyKey": key, "lines": [line], "shippingAddress": ADDRESS_INPUT}
        }
        counts.append(await statements_for(api, "Redeem", variables, token))
    assert counts[1] == counts[2], counts
    # SQLite runs each write on its own: the debit (4), the order, its lines, its deadlines,
    # its member's message, the units and the day, after the three reads.
    assert counts[2] <= (4 if target() == "postgres" else 13), counts


@pytest.mark.skipif(target() != "postgres", reason="plan caching is PostgreSQL's")
async def test_the_order_is_written_on_generic_plans_in_its_own_transaction_only(
    api: GraphQLClient,
) -> None:
    """PostgreSQL plans the order's statement afresh each time unless its transaction asks for
    generic plans; the first read asks, and the setting ends with the transaction."""
    await gifts(1)
    await member_with_points("QC-G", 10_000)
    seen: list[dict[str, Any]] = []

    class NotingTheMode(Planner):
        """Plans inside the order's transaction, after its first read: notes the mode there
        and the backend it runs on."""

        async def plan(self, quantities: Mapping[int, int], *, now: datetime) -> Any:
            seen.extend(await sql.fetch(MODE_AND_BACKEND))
            return await super().plan(quantities, now=now)

    request = orders.RedeemRequest("g1", [LineRequest("G000", 1)], ADDRESS)
    placed = await orders.redeem(
        member_external_id="QC-G", request=request, now=datetime.now(UTC), planner=NotingTheMode()
    )
    assert not placed.replayed
    assert [row["mode"] for row in seen] == ["force_generic_plan"]
    # The order's pool connection, back in the pool, plans as configured again: enough
    # requests at once to take every connection of the pool show it among them.
    after = await asyncio.gather(
        *(sql.fetch(f"{MODE_AND_BACKEND}, pg_sleep(0.05)") for _ in range(POOL))
    )
    modes = {row["pid"]: row["mode"] for rows in after for row in rows}
    assert modes[seen[0]["pid"]] == "auto"
    assert set(modes.values()) == {"auto"}


MODE_AND_BACKEND = "SELECT current_setting('plan_cache_mode') AS mode, pg_backend_pid() AS pid"
POOL = 30  # the test database's pool (tests/support/databases.py)


async def test_the_agents_queue_costs_the_same_at_10_and_100_tickets(api: GraphQLClient) -> None:
    from models.aftersales.models import TicketCategory
    from tests.support.aftersales import opened
    from tests.support.graphql import token

    await gifts(1)
    await member_with_points("C-QUEUE", 1_000_000)
    now = datetime.now(UTC)
    for i in range(100):
        number = None
        if i % 2:
            request = orders.RedeemRequest(f"q{i}", [LineRequest("G000", 1)], ADDRESS)
            placed = await orders.redeem(
                member_external_id="C-QUEUE", request=request, now=now, planner=Planner()
            )
            number = placed.order.number
        await opened(
            "C-QUEUE" if i % 3 else f"C-QUEUE-{i}",
            f"问题 {i}",
            at=now,
            order_number=number if i % 3 else None,
            category=TicketCategory.QUESTION,
        )
    agent = token("agent", "agent-cost")
    small = await statements_for(api, "TicketQueue", {"first": 10}, agent)
    large = await statements_for(api, "TicketQueue", {"first": 100}, agent)
    assert small == large
    assert large <= 5
