"""The database stops and starts again under a serving API process, which recovers by itself.

A private PostgreSQL cluster (the shared server is never touched), migrated with
`pointsmall migrate`, serves a real API process and a worker. The server is stopped
(`fast`: sessions ended, or `immediate`: a crash) and started again. While it is down the
API stays alive and says so (`/healthz` 200, `/readyz` 503), and every request fails at
once with a clear code; once it is back, requests succeed, live updates flow again and the
worker sweeps again, without a restart of either.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from api.webhooks.carrier import sign
from tests.conftest import STRIPE_WEBHOOK_SECRET
from tests.fakes.stripe_server import StripeFake
from tests.resilience.processes import environment, pointsmall, start_worker, stop
from tests.support.catalog import ADDRESS, admin, gift, small_mall, stock
from tests.support.databases import target
from tests.support.graphql import GraphQLClient, member_token, operation, staff_token
from tests.support.pgcluster import PrivateCluster
from tests.support.server import ROOT, api_process
from tests.support.ws import graphql_socket

pytestmark = pytest.mark.skipif(
    target() != "postgres", reason="stopping the database is a PostgreSQL fault"
)
MEMBER = "DOWN-1"
FAST = 2.0  # seconds: a request while the database is down must not hang


async def migrate(url: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *pointsmall(),
        "migrate",
        cwd=ROOT,
        env=environment(url),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, out.decode()


def redeem_input(key: str) -> dict[str, Any]:
    lines = [{"sku": "EL-PB10K", "quantity": 1}]
    return {"input": {"idempotencyKey": key, "lines": lines, "shippingAddress": ADDRESS}}


async def redeem(api: GraphQLClient, key: str) -> dict[str, Any]:
    placed = (await api.op("Redeem", redeem_input(key), auth=member_token(MEMBER))).data
    assert placed["redeem"]["errors"] == [], placed
    return placed["redeem"]["order"]  # type: ignore[no-any-return]


async def timed(call: Any) -> tuple[Any, float]:
    started = time.monotonic()
    result = await call
    return result, time.monotonic() - started


def unavailable(body: dict[str, Any]) -> bool:
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
    return codes == ["SERVICE_UNAVAILABLE"] and "Traceback" not in json.dumps(body)


async def assert_down_but_answering(
    http: httpx.AsyncClient, api: GraphQLClient, stripe: StripeFake
) -> None:
    assert (await http.get("/healthz")).status_code == 200
    ready = await http.get("/readyz")
    assert (ready.status_code, ready.json()["database"]) == (503, "down")
    for name, variables, token in [
        ("Catalog", {"first": 10}, None),
        ("Me", {}, member_token(MEMBER)),
        ("Redeem", redeem_input("during-outage"), member_token(MEMBER)),
        ("StartPicking", {"input": {"orderNumber": "X"}}, staff_token("SH01")),
    ]:
        result, seconds = await timed(api.op(name, variables, auth=token))
        assert result.status == 200, (name, result.body)
        assert unavailable(result.body), (name, result.body)
        assert seconds < FAST, (name, seconds)
    scan = json.dumps(
        {"trackingNumber": "SF000001", "status": "IN_TRANSIT", "occurredAt": _now()}
    ).encode()
    carrier = await http.post(
        "/webhooks/carrier/SF", content=scan, headers={"X-Signature": sign(scan, "dev-sf-secret")}
    )
    assert carrier.status_code == 503, carrier.text
    event = await stripe.send_event("payment_intent.succeeded", _intent())
    assert event.status_code == 503, event.text


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _intent() -> dict[str, Any]:
    return {"id": "pi_outage", "object": "payment_intent", "status": "succeeded"}


async def wait_ready(http: httpx.AsyncClient, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while (await http.get("/readyz")).status_code != 200:
        assert time.monotonic() < deadline, "the API never became ready again"
        await asyncio.sleep(0.1)


async def wait_listening(cluster: PrivateCluster, seconds: float = 30) -> None:
    """Until a session of the restarted server has LISTENed (the API's notification listener)."""
    connection = await asyncpg.connect(cluster.dsn(), timeout=10)
    try:
        deadline = time.monotonic() + seconds
        while not await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN %'"
        ):
            assert time.monotonic() < deadline, "the notification listener never reconnected"
            await asyncio.sleep(0.05)
    finally:
        await connection.close()


async def swept_again(api: GraphQLClient, seconds: float = 30) -> None:
    """A cash order placed now is timed out by the worker (whose timeout is 0 minutes)."""
    variables = redeem_input("cash-after")
    variables["input"]["lines"] = [{"sku": "EL-KBD", "quantity": 1}]
    placed = (await api.op("Redeem", variables, auth=member_token(MEMBER))).data["redeem"]
    assert placed["order"]["status"] == "AWAITING_PAYMENT", placed
    number = {"number": placed["order"]["number"]}
    deadline = time.monotonic() + seconds
    while True:
        order = (await api.op("Order", number, auth=member_token(MEMBER))).data["order"]
        if order["status"] == "CANCELLED":
            return
        assert time.monotonic() < deadline, "the worker never swept again"
        await asyncio.sleep(0.2)


async def outage_and_recovery(
    cluster: PrivateCluster, mode: str, http: httpx.AsyncClient, stripe: StripeFake
) -> None:
    api = GraphQLClient(http)
    await small_mall(api)
    await gift(api, "EL-KBD", 9_000, cash="29.90")
    await stock(api, "EL-KBD", "SH01", 5)
    award = {"memberExternalId": MEMBER, "amount": 50_000, "reason": "bill"}
    await admin(api, "AwardPoints", {"input": award | {"externalRef": "b1"}})
    number = (await redeem(api, "before"))["number"]
    async with graphql_socket(str(http.base_url).rstrip("/"), member_token(MEMBER)) as socket:
        sid = await socket.subscribe(operation("OrderUpdates"), {"number": number})

        await cluster.stop(mode)
        await assert_down_but_answering(http, api, stripe)
        await cluster.start()

        await wait_ready(http)
        assert (await redeem(api, "after"))["status"] == "CONFIRMED"
        points = (await api.op("Me", auth=member_token(MEMBER))).data["me"]["points"]
        assert points["balance"] == 50_000 - 2 * 6_900
        await wait_listening(cluster)
        picking = {"input": {"orderNumber": number}}
        moved = await api.op("StartPicking", picking, auth=staff_token("SH01"))
        assert moved.data["startPicking"]["errors"] == []
        update = (await socket.next_payload(sid))["data"]["orderUpdated"]
        assert (update["number"], update["status"]) == (number, "PICKING")
    await swept_again(api)


@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_the_api_says_the_database_is_down_and_recovers_without_a_restart(
    cluster: PrivateCluster, stripe: StripeFake, tmp_path: Path, mode: str
) -> None:
    url = await cluster.create_database("pointsmall")
    await migrate(url)
    env = {
        "STRIPE_API_BASE": stripe.base_url,
        "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
        "CATALOG_CACHE_SECONDS": "0",  # every catalog read goes to the database
    }
    sweeping = {**env, "SWEEP_INTERVAL_SECONDS": "0.2", "PAYMENT_TIMEOUT_MINUTES": "0"}
    worker = await start_worker(url, tmp_path / "worker.log", sweeping)
    try:
        async with (
            api_process(url + "?minsize=1&maxsize=10", tmp_path / "api.log", env) as base,
            httpx.AsyncClient(base_url=base, timeout=30) as http,
        ):
            stripe.webhook_url, stripe.webhook_transport = f"{base}/webhooks/stripe", None
            await outage_and_recovery(cluster, mode, http, stripe)
        assert worker.returncode is None, "the worker kept running through the outage"
    finally:
        status = await stop(worker)
    assert status == 0, (tmp_path / "worker.log").read_text()[-3000:]
    log = (tmp_path / "api.log").read_text()
    assert '"levelname": "ERROR"' not in log, "the outage was logged as unexpected errors"
    assert "Exception in ASGI application" not in log
