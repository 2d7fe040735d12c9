"""A new side effect of placing an order, written once in its own module, on both databases.

`OrderStamp` stands for the next capability (a notification outbox, say): a row in a table of
its own for every order placed, written in the order's own transaction. It is one statement
that reads the new order from `placed`; the redemption composes it into the order's own
statement on PostgreSQL and runs it right after the order elsewhere.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio

from fulfilment.planning import Planner
from models import sql
from models.errors import DomainError, InsufficientPoints, OutOfStock
from models.orders import redemption
from models.orders.models import Order
from models.orders.ports import PLACED, OrderEffect
from models.orders.rules import Address, LineRequest
from tests.support.catalog import small_mall, stock
from tests.support.databases import target
from tests.support.graphql import GraphQLClient
from tests.support.members import member_with_points
from tests.support.sql import counting_statements

ADDRESS = Address("王芳", "13800138000", "上海市", "上海市", "黄浦区", "南京东路 1 号", "", "")


class OrderStamp(OrderEffect):
    """A made-up side effect: each order placed leaves a stamp with its number and points."""

    def __init__(self) -> None:
        self.written_for: list[str] = []

    def step(self, p: sql.Params, order: Order, *, postgres: bool) -> str | None:
        return (
            "INSERT INTO order_stamp (order_id, number, points, note) "
            f"SELECT id, number, points_total, {p('placed by ' + order.number)} FROM {PLACED}"
        )

    def written(self, order: Order, *, postgres: bool) -> None:
        self.written_for.append(order.number)


@pytest_asyncio.fixture
async def stamps(api: GraphQLClient) -> AsyncIterator[None]:
    await sql.execute(
        "CREATE TABLE order_stamp (order_id bigint NOT NULL, number varchar(32) NOT NULL, "
        "points bigint NOT NULL, note varchar(64) NOT NULL)"
    )
    yield
    await sql.execute("DROP TABLE order_stamp")


async def place(
    member: str, key: str, *lines: tuple[str, int], effect: OrderEffect
) -> redemption.RedemptionResult:
    request = redemption.RedeemRequest(key, [LineRequest(s, q) for s, q in lines], ADDRESS)
    return await redemption.redeem(
        member_external_id=member,
        request=request,
        now=datetime.now(UTC),
        planner=Planner(),
        effects=[effect],
    )


async def stamped() -> list[tuple[int, str, int, str]]:
    rows = await sql.fetch("SELECT * FROM order_stamp ORDER BY order_id")
    return [(r["order_id"], r["number"], r["points"], r["note"]) for r in rows]


@pytest.mark.usefixtures("stamps")
async def test_a_new_side_effect_is_written_with_every_order_placed(api: GraphQLClient) -> None:
    await small_mall(api)
    await member_with_points("FX-1", 100_000)
    stamp = OrderStamp()
    one = await place("FX-1", "one", ("EL-PB10K", 1), effect=stamp)
    two = await place("FX-1", "two", ("EL-PB10K", 2), ("HM-MUG", 1), effect=stamp)
    assert await stamped() == [
        (one.order.id, one.order.number, 6_900, f"placed by {one.order.number}"),
        (two.order.id, two.order.number, 2 * 6_900 + 7_800, f"placed by {two.order.number}"),
    ]
    assert stamp.written_for == [one.order.number, two.order.number]
    replayed = await place("FX-1", "one", ("EL-PB10K", 1), effect=stamp)
    assert replayed.replayed
    assert len(await stamped()) == 2, "a replay places nothing, so it stamps nothing"


@pytest.mark.usefixtures("stamps")
async def test_a_refused_order_leaves_no_stamp(api: GraphQLClient) -> None:
    await small_mall(api)
    await member_with_points("FX-2", 7_000)
    stamp = OrderStamp()
    with pytest.raises(InsufficientPoints):
        await place("FX-2", "poor", ("EL-BUDS", 1), effect=stamp)
    await stock(api, "EL-BUDS", "GZ01", -3)
    with pytest.raises(OutOfStock):
        await place("FX-2", "gone", ("EL-BUDS", 1), effect=stamp)
    assert await stamped() == []


@pytest.mark.usefixtures("stamps")
async def test_the_stamp_rolls_back_when_the_units_go_while_the_order_is_written(
    api: GraphQLClient,
) -> None:
    """The planner saw units that another order takes before this one reserves them: the
    order's statement ran with its stamp, then the units were not there, and all of it
    rolled back."""
    await small_mall(api)
    await member_with_points("FX-3", 100_000)
    stamp = OrderStamp()

    class Stale(Planner):
        async def plan(self, quantities: Mapping[int, int], *, now: datetime) -> Any:
            plans = await super().plan(quantities, now=now)
            await sql.execute("UPDATE stock SET reserved = on_hand")  # sold out meanwhile
            return plans

    request = redemption.RedeemRequest("stale", [LineRequest("EL-BUDS", 1)], ADDRESS)
    with pytest.raises(DomainError) as refused:
        await redemption.redeem(
            member_external_id="FX-3",
            request=request,
            now=datetime.now(UTC),
            planner=Stale(),
            effects=[stamp],
        )
    assert refused.value.code == "OUT_OF_STOCK"
    assert await stamped() == []


@pytest.mark.usefixtures("stamps")
async def test_on_postgres_the_stamp_costs_no_round_trip(api: GraphQLClient) -> None:
    await small_mall(api)
    await member_with_points("FX-4", 100_000)
    counts = []
    # The first order also creates the ship day's row: count from the second on.
    for key, effects in (("first", []), ("plain", []), ("stamped", [OrderStamp()])):
        request = redemption.RedeemRequest(key, [LineRequest("EL-PB10K", 1)], ADDRESS)
        with counting_statements() as statements:
            await redemption.redeem(
                member_external_id="FX-4",
                request=request,
                now=datetime.now(UTC),
                planner=Planner(),
                effects=effects,
            )
        counts.append(len(statements))
    extra = 0 if target() == "postgres" else 1
    assert counts[2] == counts[1] + extra, counts
