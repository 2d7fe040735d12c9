"""GET /metrics: Prometheus text, plus the database pool as seen at scrape time."""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Gauge, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from tortoise import connections

from fulfilment.scheduled import sweeper_lag


class DatabasePool(Collector):
    """Size and idle connections of the PostgreSQL pool (absent on SQLite)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            pool = getattr(connections.get("default"), "_pool", None)
        except Exception:  # not connected yet (or any more): report nothing
            return
        if pool is None:
            return
        size = GaugeMetricFamily("pointsmall_db_pool_size", "Connections in the pool.")
        size.add_metric([], pool.get_size())
        idle = GaugeMetricFamily("pointsmall_db_pool_idle", "Idle connections in the pool.")
        idle.add_metric([], pool.get_idle_size())
        yield size
        yield idle


_POOL = DatabasePool()
REGISTRY.register(_POOL)


SWEEPER_LAG = Gauge(
    "pointsmall_sweeper_lag_seconds",
    "Age of the oldest due fulfilment deadline no sweeper has handled yet.",
)


def metrics_endpoint(token: str | None) -> Callable[[Request], Awaitable[Response]]:
    """The /metrics route; with a token configured, scrapers must send it as a bearer."""

    async def metrics(request: Request) -> Response:
        if token:
            sent = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            if not hmac.compare_digest(sent.encode(), token.encode()):
                return PlainTextResponse("metrics need the METRICS_TOKEN bearer", status_code=401)
        with contextlib.suppress(Exception):  # a database outage must not hide the metrics
            SWEEPER_LAG.set(await sweeper_lag(now=datetime.now(UTC)))
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return metrics
