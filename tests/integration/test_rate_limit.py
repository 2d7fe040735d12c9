"""Write mutations are rate-limited per caller: RATE_LIMITED, and nothing changes."""

from __future__ import annotations

import httpx

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
