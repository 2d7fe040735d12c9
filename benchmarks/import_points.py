"""Import-rate benchmark on PostgreSQL: `python -m benchmarks.import_points --rows 1000000`.

Creates a scratch database, migrates it, writes an accrual file, imports it (and then
again, which credits nothing), audits the ledger, prints rows per second and drops the
database. Nothing is asserted: the numbers are for people.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from tortoise import Tortoise
from tortoise.migrations.api.migrate import migrate

from api.db import tortoise_config
from api.settings import Settings
from models.points.audit import audit
from models.points.importer import ImportReport, import_points

SERVER = "postgres://postgres@127.0.0.1:5432/postgres"


def write_file(path: Path, *, rows: int, members: int, now: datetime) -> None:
    """`rows` accruals for `members` members; one row in ten carries its own expiry."""
    rng = random.Random(7)
    expiry = (now + timedelta(days=400)).isoformat()
    with path.open("w", encoding="utf-8") as out:
        out.write("member_external_id,amount,external_ref,reason,expires_at\n")
        for n in range(rows):
            member = f"C{rng.randrange(members):08d}"
            own = expiry if n % 10 == 0 else ""
            out.write(f"{member},{rng.randint(1, 5000)},bill-2026-11-{n:09d},monthly bill,{own}\n")


# What `pointsmall import-points` passes by default: credits of 1,000 points or more are told
# to their members, in the import's own transactions (NOTIFY_CREDITS_FROM).
TOLD_FROM = Settings().notify_credits_from


async def timed_import(
    path: Path, *, now: datetime, batch_size: int, tell_from: int | None = TOLD_FROM
) -> tuple[ImportReport, float]:
    started = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as lines:
        report = await import_points(
            lines=lines, now=now, batch_size=batch_size, tell_from=tell_from
        )
    return report, time.perf_counter() - started


async def bench(server: str, *, rows: int, members: int, batch_size: int) -> None:
    name = f"pointsmall_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(_dsn(server))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    try:
        await migrate(config=tortoise_config(url))
        await Tortoise.close_connections()
        now = datetime.now(UTC)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "accruals.csv"
            started = time.perf_counter()
            write_file(path, rows=rows, members=members, now=now)
            took = time.perf_counter() - started
            print(f"wrote {rows:,} rows for {members:,} members in {took:.1f}s")
            await Tortoise.init(config=tortoise_config(url))
            try:
                for label in ("import", "re-import"):
                    report, seconds = await timed_import(path, now=now, batch_size=batch_size)
                    print(
                        f"{label}: {report.rows:,} rows in {seconds:.1f}s = "
                        f"{report.rows / seconds:,.0f} rows/s (imported {report.imported:,}, "
                        f"already imported {report.already_imported:,}, "
                        f"rejected {len(report.rejected):,})"
                    )
                started = time.perf_counter()
                found = await audit()
                print(f"audit: {len(found)} discrepancies in {time.perf_counter() - started:.1f}s")
            finally:
                await Tortoise.close_connections()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def _dsn(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1].split("?", 1)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=0, help="default: rows / 5")
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--server", default=SERVER, help="PostgreSQL server URL")
    args = parser.parse_args()
    members = args.members or max(args.rows // 5, 1)
    asyncio.run(bench(args.server, rows=args.rows, members=members, batch_size=args.batch_size))


if __name__ == "__main__":
    main()
