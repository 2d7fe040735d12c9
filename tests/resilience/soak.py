"""The soak: mixed traffic on loopback against a real API and worker, then every invariant.

    python -m tests.resilience.soak --seconds 600     # `make soak`
    SOAK_SECONDS=30 pytest tests/resilience/test_soak.py   # inside `make test`

An API process (`pointsmall serve`) and a worker process (`pointsmall worker`, a pass
every two seconds, unpaid orders time out after a minute) run on one database, with the
Stripe test server. The actors of `soak_traffic` send the client operations and signed
webhooks concurrently; every few seconds a second sweeper runs ahead of the clock
(`worker --once --now`), timing out unpaid orders at once, and once, mid-soak, a week
ahead, so that every open order breaches and is compensated while traffic goes on.

Afterwards: `pointsmall audit` exits 0, the stock, ship-day, hold, payment and
compensation invariants hold, every request was answered 200 with at most business
refusals, nothing was logged as an error, both processes stop with status 0 on SIGTERM,
and the API's memory stayed flat over the second half.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from tortoise import Tortoise
from tortoise.migrations.api.migrate import migrate

from api.db import tortoise_config
from fulfilment.models import Alert, AlertKind
from models.orders.models import Order
from models.payments.models import Payment, PaymentStatus
from models.points.models import EntryKind, PointsEntry
from tests.fakes.stripe_server import StripeFake
from tests.resilience import soak_setup
from tests.resilience.invariants import broken_invariants, money_problems, settlement_problems
from tests.resilience.processes import (
    ApiProcess,
    environment,
    pointsmall,
    start_api,
    start_worker,
    stop,
    worker_once,
)
from tests.resilience.soak_client import Client, Recorder
from tests.resilience.soak_report import Report, logged_errors
from tests.resilience.soak_traffic import ACTORS, Mall
from tests.support.databases import fresh_database
from tests.support.postgres_available import reachable
from tests.support.server import ROOT

CROWD = {"member": 8, "browser": 4, "admin": 1, "staff": 2, "carrier": 1, "watcher": 1}
AHEAD_EVERY_SECONDS = 8.0
RSS_EVERY_SECONDS = 0.5
RSS_SLACK_KIB = 12 * 1024  # second-half growth allowed on top of 5%: allocator noise


def process_env(stripe_base: str, webhook_secret: str) -> dict[str, str]:
    return {
        "STRIPE_API_BASE": stripe_base,
        "STRIPE_WEBHOOK_SECRET": webhook_secret,
        "STRIPE_TIMEOUT_SECONDS": "5",
        "RATE_LIMIT_PER_MINUTE": "0",  # the soak is one client in many: no per-member limit
        "PAYMENT_TIMEOUT_MINUTES": "1",
        "SWEEP_INTERVAL_SECONDS": "2",
    }


async def soak(
    *,
    database_url: str,
    seconds: float,
    workdir: Path,
    stripe: StripeFake,
    database: str = "",
    seed: int = 8,
) -> Report:
    """Run the soak on a migrated, empty database; Tortoise must be connected to it."""
    report = Report(
        seconds=seconds, database=database or database_url.split(":", 1)[0], recorder=Recorder()
    )
    env = process_env(stripe.base_url, stripe.webhook_secret)
    api = await start_api(database_url, workdir / "api.log", env)
    worker = None
    try:
        stripe.webhook_url, stripe.webhook_transport = f"{api.url}/webhooks/stripe", None
        async with httpx.AsyncClient(
            base_url=api.url, timeout=30, limits=httpx.Limits(max_connections=64)
        ) as http:
            client = Client(http, report.recorder, stripe)
            mall = await soak_setup.stock_the_mall(client)
            worker = await start_worker(database_url, workdir / "worker.log", env)
            await traffic(client, mall, api, database_url, report, seed)
            await worker_once(database_url)  # refunds and cancellations Stripe still owes
        report.problems += [f"worker exited {s}" for s in [await stop(worker)] if s != 0]
        worker = None
        report.problems += await final_checks(database_url, report)
        report.problems += await money_problems(stripe.intents, stripe.refunds)
    finally:
        if worker is not None:
            await stop(worker)
        status = await stop(api.process)
    if status != 0:
        report.problems.append(f"API exited {status} on SIGTERM")
    report.problems += logged_errors(workdir / "api.log", workdir / "worker.log")
    return report


async def traffic(
    client: Client, mall: Mall, api: ApiProcess, database_url: str, report: Report, seed: int
) -> None:
    stop_event = asyncio.Event()
    rng = random.Random(seed)
    started = time.monotonic()
    tasks = [
        asyncio.create_task(ACTORS[kind](client, mall, stop_event, random.Random(rng.random())))
        for kind, count in CROWD.items()
        for _ in range(count)
    ]
    tasks.append(asyncio.create_task(ahead(database_url, report, stop_event)))
    sampler = asyncio.create_task(sample_rss(api, report, started, stop_event))
    await asyncio.sleep(report.seconds)
    stop_event.set()
    await asyncio.gather(*tasks, sampler)
    await asyncio.gather(*list(mall.deliveries))  # the webhooks still on their way
    report.seconds = time.monotonic() - started


async def sample_rss(api: ApiProcess, report: Report, started: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        report.rss.append((time.monotonic() - started, api.rss_kib()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), RSS_EVERY_SECONDS)


async def ahead(database_url: str, report: Report, stop_event: asyncio.Event) -> None:
    """A second sweeper ahead of the clock: unpaid orders time out; once, everything breaches."""
    loop = asyncio.get_running_loop()
    started, breached = loop.time(), False
    while not stop_event.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop_event.wait(), AHEAD_EVERY_SECONDS)
        if stop_event.is_set():
            return
        shift = timedelta(minutes=2)
        if not breached and loop.time() - started > report.seconds / 2:
            shift, breached = timedelta(days=8), True
        at = (datetime.now(UTC) + shift).isoformat()
        report.recorder.requests["sweeper --once --now"] += 1
        try:
            await worker_once(database_url, "--now", at)
        except AssertionError as exc:
            report.recorder.fail("sweeper --once --now", str(exc)[-600:])


async def final_checks(database_url: str, report: Report) -> list[str]:
    problems = [*await broken_invariants(), *await settlement_problems()]
    problems += await audit(database_url)
    statuses = await Order.all().values_list("status", flat=True)
    report.orders = {str(s): statuses.count(s) for s in sorted(set(statuses))}
    report.swept = {
        "at-risk alerts": await Alert.filter(kind=AlertKind.AT_RISK).count(),
        "breach alerts": await Alert.filter(kind=AlertKind.BREACHED).count(),
        "compensations": await PointsEntry.filter(kind=EntryKind.COMPENSATION).count(),
        "expiries": await PointsEntry.filter(kind=EntryKind.EXPIRE).count(),
        "timed out": await Order.filter(cancel_reason="payment not received in time").count(),
        "refunds": await Payment.filter(status=PaymentStatus.REFUNDED).count(),
    }
    _, mid, end = report.rss_figures()
    if end - mid > RSS_SLACK_KIB + mid // 20:
        problems.append(f"API memory grew over the second half: {mid} KiB -> {end} KiB")
    if report.recorder.failures:
        problems.append(f"{sum(report.recorder.failures.values())} requests failed")
    return problems


async def audit(database_url: str) -> list[str]:
    process = await asyncio.create_subprocess_exec(
        *pointsmall(),
        "audit",
        cwd=ROOT,
        env=environment(database_url),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 300)
    return [] if process.returncode == 0 else [f"pointsmall audit: {out.decode()[-2000:]}"]


async def main(seconds: float, database: str, seed: int) -> int:
    """The soak on a fresh database of its own; exit status 1 if anything broke."""
    os.environ["TEST_DATABASE"] = database  # which server `fresh_database` creates it on
    workdir = Path(tempfile.mkdtemp(prefix="pointsmall-soak-"))
    async with (
        fresh_database(workdir) as url,
        StripeFake.running(webhook_secret="whsec_pointsmall_soak") as stripe,
    ):
        await migrate(config=tortoise_config(url))
        await Tortoise.close_connections()
        await Tortoise.init(config=tortoise_config(url))
        try:
            report = await soak(
                database_url=url,
                seconds=seconds,
                workdir=workdir,
                stripe=stripe,
                database=database,
                seed=seed,
            )
        finally:
            await Tortoise.close_connections()
    print(report.summary())
    if report.problems:
        print(f"logs kept in {workdir}")
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


def database_choice(requested: str) -> str:
    """`auto`: the production database, PostgreSQL, when its server answers; else SQLite."""
    if requested != "auto":
        return requested
    return "postgres" if asyncio.run(reachable()) else "sqlite"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--database", choices=["auto", "sqlite", "postgres"], default="auto")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.seconds, database_choice(args.database), args.seed)))
