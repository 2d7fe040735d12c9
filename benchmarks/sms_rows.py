"""Rows 8, 9 and 10: the outbox delivered to the local SMS centre.

8: a backlog drains through `pointsmall worker` (as production runs it) to the SMS centre
in a process of its own; messages/s between the centre's first and last arrival.
9: one claim of a batch (`models.notifications.delivery.claim`) with few and with very many
messages waiting; each claim is rolled back, so every one meets the same backlog.
10: redemptions under row 3's load while the worker delivers; seconds from each order's
commit (heard as its notice at commit, by a listener of the benchmark's own) to its
confirmation's arrival at the SMS centre; also from the order's placing (its `created_at`,
when the request began: the request's own time under 64 clients included).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import threading
import time
import uuid
from datetime import UTC, datetime
from datetime import time as dt_time
from pathlib import Path
from typing import Any

import asyncpg
from tortoise.transactions import in_transaction

from benchmarks import dataset, load, sms_data
from benchmarks.dataset import dsn
from benchmarks.inproc_rows import orm
from benchmarks.servers import serving, sms_centre, worker
from benchmarks.sizes import Sizes
from benchmarks.workloads import Scripts
from models.events import NOTIFICATIONS
from models.notifications.delivery import DeliveryPolicy, claim
from models.notifications.rules import QuietHours

SMS_DB = "pointsmall_bench_sms"
CLAIM_DB = "pointsmall_bench_claim"
MESSAGES_A_MEMBER = 10
NEVER_QUIET = QuietHours(start=dt_time(0), end=dt_time(0))
WAITING = "SELECT count(*) FROM notification WHERE sms_status IN ('PENDING', 'SENDING')"


async def _waiting(url: str, since: datetime | None = None) -> int:
    db = await asyncpg.connect(dsn(url))
    try:
        if since is None:
            return int(await db.fetchval(WAITING))
        return int(await db.fetchval(WAITING + " AND created_at >= $1", since))
    finally:
        await db.close()


async def _drained(url: str, *, timeout: float, since: datetime | None = None) -> float:
    """Seconds until no message (written since `since`) waits; raises TimeoutError."""
    started = time.perf_counter()
    async with asyncio.timeout(timeout):
        while await _waiting(url, since):
            await asyncio.sleep(0.25)
    return time.perf_counter() - started


def throughput(sizes: Sizes, logs: Path, repeat: int) -> list[dict[str, Any]]:
    """Row 8: `sms_backlog` due messages drain to the SMS centre."""
    runs = []
    for _ in range(repeat):
        now = datetime.now(UTC)
        url = asyncio.run(dataset.recreate(SMS_DB))
        dataset.migrate(url)
        members = max(sizes.sms_backlog // MESSAGES_A_MEMBER, 1)
        asyncio.run(
            sms_data.seed_backlog(url, members=members, messages=sizes.sms_backlog, now=now)
        )
        out = logs / f"sms-centre-{uuid.uuid4().hex[:8]}.json"
        with sms_centre(logs, out) as centre, worker(url, centre.port, logs):
            seconds = asyncio.run(_drained(url, timeout=600))
        got = json.loads(out.read_text())
        asyncio.run(dataset.drop(SMS_DB))
        span = (got["last"] - got["first"]) if got["received"] > 1 else 0.0
        run = {
            "backlog": sizes.sms_backlog,
            "received": got["received"],
            "seconds": span,
            "rate": got["received"] / span if span else 0.0,
            "drained_seconds": seconds,
        }
        runs.append(run)
        print(
            f"  {run['received']:,} of {run['backlog']:,} messages in {span:.1f} s = "
            f"{run['rate']:,.0f}/s (drained {seconds:.1f} s after the worker started)"
        )
    return runs


class _Undo(Exception):
    """Rolls a timed claim back."""


async def _claims(url: str, *, batch: int, count: int) -> list[float]:
    policy = DeliveryPolicy(batch=batch, quiet=NEVER_QUIET)  # the row measures at any hour
    times = []
    async with orm(url):
        for n in range(count + 5):
            now = datetime.now(UTC)
            started = time.perf_counter()
            try:
                async with in_transaction():
                    claimed = await claim(now=now, policy=policy)
                    elapsed = time.perf_counter() - started
                    raise _Undo
            except _Undo:
                pass
            if len(claimed) != batch:
                raise RuntimeError(f"a claim took {len(claimed)} messages, not {batch}")
            if n >= 5:  # the first ones warm the caches
                times.append(elapsed)
    return times


def claim_cost(sizes: Sizes, repeat: int) -> dict[str, Any]:
    """Row 9: milliseconds for one claim of a batch, with each of `claim_waiting` waiting."""
    found: dict[str, Any] = {}
    batch = DeliveryPolicy().batch
    for waiting in sizes.claim_waiting:
        now = datetime.now(UTC)
        url = asyncio.run(dataset.recreate(CLAIM_DB))
        dataset.migrate(url)
        started = time.perf_counter()
        members = max(waiting // MESSAGES_A_MEMBER, batch)
        asyncio.run(sms_data.seed_backlog(url, members=members, messages=waiting, now=now))
        built = time.perf_counter() - started
        samples = [
            statistics.median(asyncio.run(_claims(url, batch=batch, count=20)))
            for _ in range(repeat)
        ]
        asyncio.run(dataset.drop(CLAIM_DB))
        found[str(waiting)] = {"ms": [s * 1000 for s in samples], "built_seconds": built}
        ms = statistics.median(samples) * 1000
        print(f"  claim of {batch} with {waiting:,} waiting: {ms:.1f} ms (built in {built:.0f} s)")
    found["batch"] = batch
    return found


class CommitClock:
    """When each order committed, as another process hears it: the notice its member's
    inbox change sends at commit (`pointsmall_notifications`, the member's id), heard on a
    LISTEN connection in a thread of its own while the load runs."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.heard: dict[str, list[float]] = {}
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._listen()), daemon=True)

    def __enter__(self) -> CommitClock:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("could not LISTEN for commits")
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    async def _listen(self) -> None:
        db = await asyncpg.connect(dsn(self.url))
        try:
            await db.add_listener(NOTIFICATIONS, self._heard)
            self._ready.set()
            while not self._stop.is_set():
                await asyncio.sleep(0.05)
        finally:
            await db.close()

    def _heard(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        self.heard.setdefault(payload, []).append(time.time())

    def commits(self, placed: list[tuple[str, int, float]]) -> dict[str, float]:
        """By message id, when its order committed: a member's k-th confirmation is the
        k-th notice heard for the member."""
        found: dict[str, float] = {}
        seen: dict[int, int] = {}
        for message_id, member_id, _ in sorted(placed, key=lambda p: p[2]):
            k = seen.get(member_id, 0)
            seen[member_id] = k + 1
            times = self.heard.get(str(member_id), [])
            if k < len(times):
                found[message_id] = times[k]
        return found


async def _confirmations(url: str, since: datetime) -> list[tuple[str, int, float]]:
    db = await asyncpg.connect(dsn(url))
    try:
        rows = await db.fetch(
            "SELECT sms_message_id, member_id, created_at FROM notification "
            "WHERE kind = 'ORDER_CONFIRMED' AND created_at >= $1",
            since,
        )
    finally:
        await db.close()
    return [
        (str(r["sms_message_id"]), int(r["member_id"]), r["created_at"].timestamp()) for r in rows
    ]


def latency(url: str, sizes: Sizes, scripts: Scripts, logs: Path) -> dict[str, Any]:
    """Row 10: commit-to-submit seconds of the confirmations of orders placed under row 3's
    load (64 clients on the hot gift) while the worker delivers."""
    dataset.migrate(url)  # a data set kept from an earlier run (`--reuse-data`) may predate push
    set_aside = asyncio.run(sms_data.set_aside_waiting(url))
    out = logs / f"sms-centre-{uuid.uuid4().hex[:8]}.json"
    tokens = str(scripts.token_file("redeemers"))
    with (
        sms_centre(logs, out) as centre,
        worker(url, centre.port, logs, core=None),
        serving("service", url, logs) as service,
        CommitClock(url) as clock,
    ):
        centre.wait_bound()
        # The worker's first pass writes what the data set owes (at-risk alerts, expiry
        # notices): they go first, oldest first; the row measures the steady state after.
        first_pass = asyncio.run(_drained(url, timeout=300))
        since = datetime.now(UTC)
        args = (tokens, "0", f"latency-{uuid.uuid4().hex[:8]}")
        outcome = load.run(
            scripts.redeem(), service.url, connections=64, seconds=sizes.seconds, args=args
        )
        drained = asyncio.run(_drained(url, timeout=120, since=since))
    arrived = json.loads(out.read_text())["arrived"]
    placed = asyncio.run(_confirmations(url, since))
    committed = clock.commits(placed)
    start = since.timestamp()
    # Per message: seconds from the load's start to the commit, from the commit to the SMS
    # centre, and from the order's placing (the request's start, its own time included).
    timeline = sorted(
        (committed[m] - start, arrived[m] - committed[m], arrived[m] - at)
        for m, _, at in placed
        if m in arrived and m in committed
    )
    seconds = sorted(t[1] for t in timeline)
    from_placing = sorted(t[2] for t in timeline)
    missing = len(placed) - len(seconds)
    result = {
        "orders": outcome.ok,
        "orders_per_second": outcome.rate,
        "messages": len(placed),
        "missing": missing,
        "p50": _percentile(seconds, 0.50),
        "p95": _percentile(seconds, 0.95),
        "max": seconds[-1] if seconds else 0.0,
        "drained_after_load_seconds": drained,
        "set_aside": set_aside,
        "first_pass_drained_seconds": first_pass,
        # (seconds from the load's start to the commit, seconds to the SMS centre) per message
        "timeline": [tuple(round(x, 3) for x in t) for t in timeline],
        "p95_from_placing": _percentile(from_placing, 0.95),
    }
    print(
        f"  {outcome.rate:,.0f} orders/s for {sizes.seconds} s: {len(placed):,} confirmations, "
        f"from commit p50 {result['p50']:.2f} s, p95 {result['p95']:.2f} s, max "
        f"{result['max']:.2f} s (from placing p95 {result['p95_from_placing']:.2f} s), "
        f"{missing} not arrived or heard; the queue was empty {drained:.1f} s after the load"
    )
    return result


def _percentile(ordered: list[float], share: float) -> float:
    if not ordered:
        return 0.0
    position = share * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
