"""Rows 1, 2, 3 and 7: the service and the floor under wrk, side by side."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from api.auth import mint_token
from api.settings import DEV_JWT_SECRET
from benchmarks import load
from benchmarks.dataset import dsn
from benchmarks.servers import MemorySampler, Server, serving
from benchmarks.sizes import HOT_SKU, Sizes
from benchmarks.workloads import CATALOG_FIRST, Scripts, graphql, member
from models.actors import Role


@dataclass
class Series:
    """Repeated measurements of one quantity; the median is what the table shows."""

    samples: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else 0.0


def _fetch(url: str, body: dict[str, Any] | None, token: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def same_json(service: Server, floor: Server, op: str, path: str, token: str | None) -> str:
    """'' if the floor answers exactly the service's `data`; else what differs."""
    variables: dict[str, object] = {"first": CATALOG_FIRST} if op == "Catalog" else {}
    mine = _fetch(service.url + "/graphql", graphql(op, variables), token)
    body = graphql(op, variables) if path == "/graphql" else None  # the ceiling speaks GraphQL
    floors = _fetch(floor.url + path, body, token)
    if mine.get("errors") or mine != floors:
        return f"{op}: floor JSON differs from the service's: {json.dumps(mine)[:300]}"
    return ""


def _measure(
    script: Path, server: Server, sizes: Sizes, *, connections: int, args: tuple[str, ...] = ()
) -> load.LoadResult:
    return load.run(script, server.url, connections=connections, seconds=sizes.seconds, args=args)


def _warm(script: Path, server: Server, sizes: Sizes, connections: int, *args: str) -> None:
    if not sizes.warmup_seconds:
        return
    load.run(script, server.url, connections=connections, seconds=sizes.warmup_seconds, args=args)


def read_rows(
    database_url: str, sizes: Sizes, scripts: Scripts, logs: Path, repeat: int
) -> dict[str, Series]:
    """Rows 1 and 2: Catalog and Me, requests/s, service and floor alternating."""
    found = {k: Series() for k in ("catalog", "floor_catalog", "me", "floor_me", "ceiling_me")}
    member_token = mint_token(DEV_JWT_SECRET, role=Role.MEMBER, subject=member(3))
    me_tokens = str(scripts.token_file("readers"))
    with (
        serving("service", database_url, logs) as service,
        serving("floor", database_url, logs) as floor,
        serving("ceiling", database_url, logs) as ceiling,
    ):
        if differs := same_json(service, ceiling, "Me", "/graphql", member_token):
            found["ceiling_me"].notes.append(differs)
        for op, path, token in (
            ("Catalog", f"/catalog?first={CATALOG_FIRST}", None),
            ("Me", "/me", member_token),
        ):
            if differs := same_json(service, floor, op, path, token):
                found["catalog" if op == "Catalog" else "me"].notes.append(differs)
        plan = [
            ("catalog", service, scripts.catalog(), ()),
            ("floor_catalog", floor, scripts.floor_catalog(), ()),
            ("me", service, scripts.me(), (me_tokens, "0")),
            ("floor_me", floor, scripts.floor_me(), (me_tokens, "0")),
            ("ceiling_me", ceiling, scripts.me(), (me_tokens, "0")),
        ]
        for _, server, script, args in plan:
            _warm(script, server, sizes, 64, *args)
        for _ in range(repeat):
            for name, server, script, args in plan:
                outcome = _measure(script, server, sizes, connections=64, args=args)
                found[name].samples.append(outcome.rate)
                print(f"  {name}: {outcome.rate:,.0f}/s (p99 {outcome.p99_ms:.1f} ms)")
    return found


# The rows every redemption updates. Each update leaves a dead version behind; with the
# machine's autovacuum off (its PostgreSQL runs the CI configuration) they pile up on the
# hot rows run after run and each run is slower than the one before, whichever server it
# measures. Vacuumed before each measured redemption run, as autovacuum would in production.
UPDATED_BY_REDEMPTIONS = "stock, ship_day, points_account, points_lot"


def settle(database_url: str) -> None:
    """Vacuum what the redemptions updated (a second or less)."""

    async def vacuum() -> None:
        db = await asyncpg.connect(dsn(database_url))
        try:
            await db.execute(f"VACUUM (ANALYZE) {UPDATED_BY_REDEMPTIONS}")
        finally:
            await db.close()

    asyncio.run(vacuum())


async def hot_state(database_url: str) -> tuple[int, int, int]:
    """Hot gift: units on hand, units reserved, units on open orders."""
    db = await asyncpg.connect(dsn(database_url))
    try:
        row = await db.fetchrow(
            """
            SELECT s.on_hand, s.reserved,
                   (SELECT coalesce(sum(l.quantity), 0) FROM order_line l
                    JOIN redemption_order o ON o.id = l.order_id
                    WHERE l.gift_id = g.id AND o.status IN ('CONFIRMED', 'PICKING', 'PACKED',
                                                            'AWAITING_PAYMENT')) AS ordered
            FROM gift g JOIN stock s ON s.gift_id = g.id WHERE g.sku = $1
            """,
            HOT_SKU,
        )
    finally:
        await db.close()
    return int(row["on_hand"]), int(row["reserved"]), int(row["ordered"])


def audit(database_url: str) -> tuple[bool, str]:
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-c", "from api.cli import main; main()", "audit"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    return done.returncode == 0, (done.stdout.strip().splitlines() or [""])[-1]


def redeem_rows(
    database_url: str, sizes: Sizes, scripts: Scripts, logs: Path, repeat: int
) -> dict[str, Series]:
    """Row 3: hot-gift redemptions/s, service at 64 and 8 clients, floor at 2; the ceiling
    at 2 and 64 clients and the floor at 64 say what the stack itself does under that load.
    The ceiling answers its own short selection (3d, 3e) and the client's `Redeem`, the
    service's request word for word (3g); 3h is the service's `Redeem` by trusted id."""
    names = (
        "redeem_64",
        "redeem_8",
        "floor_redeem_2",
        "ceiling_redeem_2",
        "ceiling_redeem_64",
        "ceiling_contract_redeem_64",
        "floor_redeem_64",
        "redeem_id_64",
    )
    found = {k: Series() for k in names}
    service_tokens = str(scripts.token_file("redeemers"))
    floor_tokens = str(scripts.token_file("floor-redeemers", floor=True))
    run_id = uuid.uuid4().hex[:8]
    offset = 0
    with (
        serving("service", database_url, logs) as service,
        serving("floor", database_url, logs) as floor,
        serving("ceiling", database_url, logs) as ceiling,
    ):
        plan = [
            ("redeem_64", service, scripts.redeem(), 64, service_tokens),
            ("redeem_8", service, scripts.redeem(), 8, service_tokens),
            ("floor_redeem_2", floor, scripts.floor_redeem(), 2, floor_tokens),
            ("ceiling_redeem_2", ceiling, scripts.ceiling_redeem(), 2, floor_tokens),
            ("ceiling_redeem_64", ceiling, scripts.ceiling_redeem(), 64, floor_tokens),
            ("ceiling_contract_redeem_64", ceiling, scripts.redeem(), 64, floor_tokens),
            ("floor_redeem_64", floor, scripts.floor_redeem(), 64, floor_tokens),
            ("redeem_id_64", service, scripts.redeem("id"), 64, service_tokens),
        ]
        for rep in range(-1 if sizes.warmup_seconds else 0, repeat):
            for name, server, script, clients, token_file in plan:
                args = (token_file, str(offset), f"{run_id}-{name}-{rep}")
                if rep < 0:
                    outcome = load.run(
                        script,
                        server.url,
                        connections=clients,
                        seconds=sizes.warmup_seconds,
                        args=args,
                    )
                else:
                    settle(database_url)
                    outcome = _measure(script, server, sizes, connections=clients, args=args)
                    found[name].samples.append(outcome.rate)
                    print(
                        f"  {name}: {outcome.rate:,.0f} orders/s "
                        f"(p50 {outcome.p50_ms:.1f} ms, p99 {outcome.p99_ms:.1f} ms, "
                        f"{outcome.bad} refused)"
                    )
                offset += outcome.requests
    return found


def memory_row(database_url: str, sizes: Sizes, scripts: Scripts, logs: Path) -> dict[str, Any]:
    """Row 7: a fresh service, `mixed_requests` mixed requests, RSS sampled throughout."""
    tokens = str(scripts.token_file("redeemers"))
    script = scripts.mixed()
    total = ok = bad = 0
    chunk = sizes.seconds if sizes.smoke else 5
    with serving("service", database_url, logs) as service, MemorySampler(service.pid) as rss:
        start = rss.samples[0][1] if rss.samples else 0.0
        while total < sizes.mixed_requests and not (sizes.smoke and total):
            args = (tokens, str(total + 7_919), f"mixed-{uuid.uuid4().hex[:8]}")
            outcome = load.run(script, service.url, connections=32, seconds=chunk, args=args)
            total, ok, bad = total + outcome.requests, ok + outcome.ok, bad + outcome.bad
    samples = [mb for _, mb in rss.samples]
    half = samples[len(samples) // 2 :]
    tail = half[-max(len(half) // 5, 1) :]
    middle = half[: max(len(half) // 5, 1)]
    growth = statistics.mean(tail) - statistics.mean(middle)
    return {
        "requests": total,
        "ok": ok,
        "bad": bad,
        "rss_start_mb": start or samples[0],
        "rss_end_mb": samples[-1],
        "rss_max_mb": max(samples),
        "growth_last_half_mb": growth,
        "samples": [(round(t, 1), round(mb, 1)) for t, mb in rss.samples],
    }
