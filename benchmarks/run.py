"""`python -m benchmarks.run [--smoke] [--only 1,3] [--repeat 3]`: the benchmark table.

Prepares a PostgreSQL scratch database (migrated with `pointsmall migrate`, filled with
set-based SQL), runs each comparison `--repeat` times and prints one table of medians and
ratios, also written to `benchmarks/results/` (JSON and Markdown; a complete full run also
refreshes the committed `benchmarks/RESULTS.md`). `--smoke` runs every comparison on tiny
data: it checks that each one runs, answers correctly and produces numbers; it holds no
timing targets, so it cannot flake on a busy machine.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import (
    dataset,
    http_rows,
    inproc_rows,
    load,
    report,
    service_rows,
    sms_rows,
    topup_rows,
    trusted_rows,
    voucher_rows,
)
from benchmarks.sizes import FULL, SMOKE, Sizes
from benchmarks.workloads import Scripts

ALL_ROWS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
WRK_ROWS = {1, 2, 3, 7, 10, 14}
MAIN_ROWS = {1, 2, 3, 4, 7, 10, 14, 15}  # the rows that need the main data set
SERVICE_ROWS = {11, 12, 13}


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, under a minute")
    parser.add_argument("--only", default="", help="comma-separated rows, e.g. 1,3")
    parser.add_argument("--repeat", type=int, default=None, help="default 3 (smoke: 1)")
    parser.add_argument(
        "--reuse-data", action="store_true", help="keep the main data set of an earlier run"
    )
    parser.add_argument("--seconds", type=int, default=None, help="length of one wrk run")
    return parser.parse_args()


async def prepare(name: str, sizes: Sizes, now: datetime, *, reuse: bool) -> str:
    url = dataset.database_url(name)
    if reuse and await dataset.exists(name):
        await dataset.restock_hot(url, sizes)
        print(f"reusing database {name} (hot gift restocked to {sizes.hot_stock:,} free units)")
        return url
    started = time.perf_counter()
    url = await dataset.recreate(name)
    dataset.migrate(url)
    await dataset.seed_main(url, sizes, now)
    print(
        f"prepared {name}: {sizes.members:,} members, {sizes.orders:,} orders "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return url


def measure(rows: set[int], sizes: Sizes, repeat: int, reuse: bool) -> dict[str, Any]:
    """Run the chosen rows; returns what each measured (rows that failed say why)."""
    now = datetime.now(UTC)
    found: dict[str, Any] = {"errors": {}}
    name = "pointsmall_bench_smoke" if sizes.smoke else "pointsmall_bench"
    url = asyncio.run(prepare(name, sizes, now, reuse=reuse)) if rows & MAIN_ROWS else ""
    if rows & WRK_ROWS and load.ensure_wrk() is None:
        for row in sorted(rows & WRK_ROWS):
            found["errors"][str(row)] = "wrk is not installed and apt-get could not install it"
        rows = rows - WRK_ROWS
    with tempfile.TemporaryDirectory(prefix="pointsmall-bench-") as tmp:
        scripts, logs = Scripts(Path(tmp), sizes), Path(tmp)
        steps: list[tuple[int, Callable[[], dict[str, Any]]]] = [
            (4, lambda: {"statements": asyncio.run(inproc_rows.statements(url, sizes))}),
            (1, lambda: reads(url, sizes, scripts, logs, repeat)),
            (3, lambda: redeem(url, sizes, scripts, logs, repeat)),
            (7, lambda: {"memory": http_rows.memory_row(url, sizes, scripts, logs)}),
            (5, lambda: {"sweeper": sweep(sizes, now, repeat)}),
            (6, lambda: {"import": asyncio.run(inproc_rows.importer(sizes, repeat))}),
            (10, lambda: {"latency": sms_rows.latency(url, sizes, scripts, logs)}),
            (8, lambda: {"delivery": sms_rows.throughput(sizes, logs, repeat)}),
            (9, lambda: {"claim": sms_rows.claim_cost(sizes, repeat)}),
            (11, lambda: service(sizes, now, repeat)),
            (14, lambda: voucher_rows.voucher_rows(url, sizes, scripts, logs, repeat)),
            (15, lambda: topup_rows.topup_rows(url, sizes, logs, repeat)),
        ]
        for row, step in steps:
            together = {1: {1, 2}, 11: SERVICE_ROWS}.get(row, {row})  # measured as one
            if rows & together:
                print(
                    f"row {'-'.join(str(r) for r in sorted(together)[:: len(together) - 1 or 1])}:"
                )
                began = time.perf_counter()
                try:
                    found.update(step())
                    print(f"  ({time.perf_counter() - began:.0f} s)")
                except Exception as exc:  # one broken comparison must not hide the others
                    found["errors"][str(row)] = f"{type(exc).__name__}: {exc}"
                    print(f"  failed: {exc}")
                    for log in sorted(logs.glob("*.log")):
                        print(f"  --- {log.name}\n{log.read_text()[-2000:]}")
    return found


def reads(url: str, sizes: Sizes, scripts: Scripts, logs: Path, repeat: int) -> dict[str, Any]:
    """Rows 1-2, then the trusted documents' and the uncached catalog's (1b-1f, 2d-2f)."""
    found: dict[str, Any] = dict(http_rows.read_rows(url, sizes, scripts, logs, repeat))
    found.update(trusted_rows.read_rows(url, sizes, scripts, logs, repeat))
    return found


def redeem(url: str, sizes: Sizes, scripts: Scripts, logs: Path, repeat: int) -> dict[str, Any]:
    found: dict[str, Any] = dict(http_rows.redeem_rows(url, sizes, scripts, logs, repeat))
    on_hand, reserved, ordered = asyncio.run(http_rows.hot_state(url))
    clean, said = http_rows.audit(url)
    found["checks"] = {
        "on_hand": on_hand,
        "reserved": reserved,
        "ordered": ordered,
        "oversold": max(reserved - on_hand, 0) + abs(reserved - ordered),
        "audit_clean": clean,
        "audit": said,
    }
    print(
        f"  hot gift: on hand {on_hand:,}, reserved {reserved:,}, on open orders {ordered:,}; "
        f"{said}"
    )
    return found


def service(sizes: Sizes, now: datetime, repeat: int) -> dict[str, Any]:
    """Rows 8-10 on their own data set (prepared once, dropped afterwards)."""

    async def work() -> dict[str, Any]:
        await service_rows.prepare(sizes, now)
        try:
            return {
                "service": await service_rows.report(sizes, now, repeat),
                "ticket_sweeper": await service_rows.sweeper(sizes, now, repeat),
            }
        finally:
            await dataset.drop(service_rows.BASE)

    return asyncio.run(work())


def sweep(sizes: Sizes, now: datetime, repeat: int) -> dict[str, Any]:
    async def work() -> dict[str, Any]:
        await inproc_rows.sweep_base(sizes, now)
        return await inproc_rows.sweeper(sizes, now, repeat)

    return asyncio.run(work())


def build_rows(found: dict[str, Any], sizes: Sizes) -> list[report.Row]:
    rows = [*report.http_rows(found), *report.trusted_rows(found), *report.redeem_rows(found)]
    rows += report.voucher_rows(found)
    rows += report.topup_rows(found)
    if "statements" in found:
        rows.append(report.statements_row(found["statements"]))
    if "sweeper" in found:
        rows.append(report.sweeper_row(found["sweeper"], sizes.sweep_due, sizes.sweep_open))
    if "import" in found:
        rows.append(report.import_row(found["import"]))
    if "memory" in found:
        rows.append(report.memory_row(found["memory"]))
    if "delivery" in found:
        rows.append(report.delivery_row(found["delivery"]))
    if "claim" in found:
        rows.append(report.claim_row(found["claim"]))
    if "latency" in found:
        row3 = found["redeem_64"].median if "redeem_64" in found else None
        rows.append(report.latency_row(found["latency"], row3))
    if "service" in found:
        rows += service_rows.rows(found, sizes)
    for row, error in found["errors"].items():
        rows.append(report.Row(row, "not measured", error, "", "", "", None, [error]))
    return sorted(rows, key=lambda r: (int(r.number.rstrip("abcdefgh")), r.number))


def raw(found: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.__dict__ if isinstance(v, http_rows.Series) else v) for k, v in found.items()}


def quiet() -> str:
    """How busy the machine was when the run ended (other people's tests share it)."""
    load = os.getloadavg()
    return f"load average at the end {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}"


def main() -> int:
    args = arguments()
    sizes = SMOKE if args.smoke else FULL
    if args.seconds:
        sizes = dataclasses.replace(sizes, seconds=args.seconds)
    repeat = args.repeat or (1 if args.smoke else 3)
    rows = {int(r) for r in args.only.split(",") if r} or set(ALL_ROWS)
    started = time.perf_counter()
    found = measure(rows, sizes, repeat, args.reuse_data)
    table_rows = build_rows(found, sizes)
    meta = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": report.machine(),
        "repeat": repeat,
        "seconds": sizes.seconds,
        "smoke": args.smoke,
        "complete": rows == set(ALL_ROWS) and not found["errors"],
        "wall_seconds": round(time.perf_counter() - started),
        "quiet": quiet(),
    }
    report.write(table_rows, raw(found), meta, smoke=args.smoke)
    print()
    print(report.table(table_rows, smoke=args.smoke))
    problems = [p for r in table_rows for p in r.problems]
    for problem in problems:
        print(f"problem: {problem}")
    print(f"({meta['wall_seconds']} s; results in {report.RESULTS})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
