"""Write mutations are rate-limited per caller: RATE_LIMITED, and nothing changes."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from api.app import create_app
from tests.support.catalog import ADDRESS, small_mall
from tests.support.graphql import GraphQLClient, member_token
from tests.support.members import member_with_points
from tests.support.settings import settings_for


async def test_member_over_the_write_limit_is_refused(api: GraphQLClient, db: str) -> None:
    await small_mall(api)
    await member_with_points("C-RL", 100_000)
    app = create_app(settings_for(db, rate_limit_per_minute=3), manage_database=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        limited = GraphQLClient(http)
        codes = []
        for attempt in range(5):
            variables = {
                "input": {
                    "idempotencyKey": f"rl-{attempt}",
                    "lines": [{"sku": "HM-MUG", "quantity": 1}],
                    "shippingAddress": ADDRESS,
                }
            }
            result = await limited.op("Redeem", variables, auth=member_token("C-RL"))
            codes.append(result.error_codes[0] if result.error_codes else "OK")
        other = await limited.op("Me", auth=member_token("C-RL"))
        someone_else = await limited.op(
            "CancelOrder", {"input": {"orderNumber": "PM000"}}, auth=member_token("C-OTHER")
        )
    await app.state.services.payments.close()
    assert codes == ["OK", "OK", "OK", "RATE_LIMITED", "RATE_LIMITED"]
    assert other.data["me"]["points"]["available"] == 100_000 - 3 * 7_800
    assert someone_else.data["cancelOrder"]["errors"][0]["code"] == "NOT_FOUND"


def redeem_variables(key: str) -> dict[str, object]:
    return {
        "input": {
            "idempotencyKey": key,
            "lines": [{"sku": "HM-MUG", "quantity": 1}],
            "shippingAddress": ADDRESS,
        }
    }


async def redis_reachable() -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", 6379), 2)
    except (OSError, TimeoutError):
        return False
    writer.close()
    return True


async def test_replicas_share_the_count_through_redis(api: GraphQLClient, db: str) -> None:
    if not await redis_reachable():
        pytest.skip("no Redis at 127.0.0.1:6379")
    await small_mall(api)
    member = f"C-RR-{uuid.uuid4().hex[:8]}"  # Redis outlives the test database
    await member_with_points(member, 100_000)
    settings = settings_for(
        db, rate_limit_per_minute=3, rate_limit_storage="redis://127.0.0.1:6379/0"
    )
    replicas = [create_app(settings, manage_database=False) for _ in range(2)]
    codes = []
    for attempt in range(4):  # alternate between the two replicas
        app = replicas[attempt % 2]
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as http:
            result = await GraphQLClient(http).op(
                "Redeem", redeem_variables(f"rr-{attempt}"), auth=member_token(member)
            )
            codes.append(result.error_codes[0] if result.error_codes else "OK")
    for app in replicas:
        await app.state.services.payments.close()
        await app.state.services.write_limit.close()
    assert codes == ["OK", "OK", "OK", "RATE_LIMITED"]


async def test_writes_go_ahead_when_the_count_cannot_be_kept(
    api: GraphQLClient, db: str, caplog: pytest.LogCaptureFixture
) -> None:
    await small_mall(api)
    await member_with_points("C-RD", 100_000)
    nobody = "redis://127.0.0.1:1/0"  # nothing listens there
    app = create_app(
        settings_for(db, rate_limit_per_minute=1, rate_limit_storage=nobody),
        manage_database=False,
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        client = GraphQLClient(http)
        results = [
            await client.op("Redeem", redeem_variables(f"rd-{n}"), auth=member_token("C-RD"))
            for n in range(2)
        ]
    await app.state.services.payments.close()
    assert [r.data["redeem"]["errors"] for r in results] == [[], []]
    assert "write limit not counted" in caplog.text
