"""Rows 4, 5 and 6: statements per request, one sweeper pass, the points import."""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from tortoise import Tortoise

from api.app import create_app
from api.db import tortoise_config
from api.worker import run_once
from benchmarks import dataset, import_points
from benchmarks.sizes import Sizes
from models.points.audit import audit
from tests.support.graphql import GraphQLClient, member_token, staff_token
from tests.support.settings import settings_for
from tests.support.sql import counting_statements

SWEEP_BASE = "pointsmall_bench_sweep_base"
SWEEP_COPY = "pointsmall_bench_sweep"
IMPORT_DB = "pointsmall_bench_import"


@contextmanager
def quiet() -> Iterator[None]:
    """The statement log goes to the counter only, not to the JSON log on stderr."""
    logger = logging.getLogger("tortoise.db_client")
    logger.propagate = False
    try:
        yield
    finally:
        logger.propagate = True


@asynccontextmanager
async def orm(url: str) -> AsyncIterator[None]:
    await Tortoise.init(config=tortoise_config(url))
    try:
        yield
    finally:
        await Tortoise.close_connections()


OPERATIONS: dict[str, tuple[str, dict[str, Any], str, str]] = {
    # name: (operation, variables, token, the connection's path in `data`)
    "Catalog": ("Catalog", {}, "", "gifts"),
    "MyOrders": ("MyOrders", {}, "member", "me.orders"),
    "FulfilmentQueue": ("FulfilmentQueue", {"warehouseCode": "SH01"}, "staff", "fulfilmentQueue"),
}


def _edges(data: dict[str, Any], path: str) -> int:
    for part in path.split("."):
        data = data[part]
    return len(data["edges"])


async def statements(database_url: str, sizes: Sizes) -> dict[str, list[int]]:
    """Row 4: SQL statements one request sends, at each page size (the service in-process)."""
    auth = {"": None, "member": member_token("M0000001"), "staff": staff_token("SH01")}
    # The statements a request costs when it is computed: no catalog cache in front.
    settings = settings_for(database_url, catalog_cache_seconds=0)
    app = create_app(settings, manage_database=False, listen=False)
    counts: dict[str, list[int]] = {}
    async with (
        orm(database_url),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http,
    ):
        api = GraphQLClient(http)
        for name, (op, variables, who, path) in OPERATIONS.items():
            counts[name] = []
            for size in sizes.counted_sizes:
                await api.op(op, {**variables, "first": size}, auth=auth[who])  # warm caches
                with quiet(), counting_statements() as sent:
                    result = await api.op(op, {**variables, "first": size}, auth=auth[who])
                if _edges(result.data, path) != size:
                    raise RuntimeError(f"{name} returned fewer than {size} items")
                counts[name].append(len(sent))
    return counts


async def sweep_base(sizes: Sizes, now: datetime) -> None:
    url = await dataset.recreate(SWEEP_BASE)
    dataset.migrate(url)
    await dataset.seed_sweep(url, sizes, now)


async def one_pass(at: datetime, *, check_audit: bool = False) -> dict[str, Any]:
    """A sweeper pass at `at` on a fresh copy of the sweep data set; its seconds and summary."""
    url = await dataset.recreate(SWEEP_COPY, template=SWEEP_BASE)
    try:
        async with orm(url):
            started = time.perf_counter()
            summary = await run_once(settings_for(url), now=at)
            seconds = time.perf_counter() - started
            clean = not await audit() if check_audit else None
    finally:
        await dataset.drop(SWEEP_COPY)
    return {"seconds": seconds, "summary": str(summary), "audit_clean": clean}


async def sweeper(sizes: Sizes, now: datetime, repeat: int) -> dict[str, Any]:
    """Row 5: pass times with no, few and many due orders among `sweep_open` open ones."""
    few_at, many_at = dataset.sweep_times(sizes, now)
    moments = {
        "0": few_at - timedelta(seconds=sizes.sweep_due[0] + 1),
        str(sizes.sweep_due[0]): few_at,
        str(sizes.sweep_due[1]): many_at,
    }
    found: dict[str, Any] = {due: [] for due in moments}
    for rep in range(repeat):
        for due, at in moments.items():
            outcome = await one_pass(at, check_audit=rep == 0 and due != "0")
            found[due].append(outcome)
            print(
                f"  sweeper pass, {due} due: {outcome['seconds'] * 1000:,.0f} ms; "
                f"{outcome['summary']}"
            )
    await dataset.drop(SWEEP_BASE)
    return found


async def importer(sizes: Sizes, repeat: int) -> list[dict[str, Any]]:
    """Row 6: `benchmarks/import_points.py`'s file of `import_rows` accruals, imported afresh."""
    now = datetime.now(UTC)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "accruals.csv"
        members = max(sizes.import_rows // 5, 1)
        import_points.write_file(path, rows=sizes.import_rows, members=members, now=now)
        for rep in range(repeat):
            url = await dataset.recreate(IMPORT_DB)
            dataset.migrate(url)
            try:
                async with orm(url):
                    report, seconds = await import_points.timed_import(
                        path, now=now, batch_size=10_000
                    )
                    clean = not await audit() if rep == 0 else None
            finally:
                await dataset.drop(IMPORT_DB)
            results.append(
                {
                    "rows": report.rows,
                    "imported": report.imported,
                    "rejected": len(report.rejected),
                    "seconds": seconds,
                    "rows_per_second": report.rows / seconds,
                    "audit_clean": clean,
                }
            )
            print(
                f"  import: {report.rows:,} rows in {seconds:.1f}s = "
                f"{report.rows / seconds:,.0f} rows/s"
            )
    return results
