"""The application factory: routes, the Tortoise lifespan, the GraphQL endpoint."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute
from tortoise.contrib.starlette import RegisterTortoise

from api.auth import TokenVerifier
from api.catalog_cache import CatalogCache
from api.console.routes import console_routes
from api.db import is_postgres, tortoise_config
from api.documents import MANIFEST, DocumentRegistry, load_manifest
from api.graphiql import graphiql_routes
from api.graphql import GraphQLApp
from api.health import healthz, readyz
from api.logs import configure_logging
from api.metrics import metrics_endpoint
from api.observability import RequestIdMiddleware
from api.outage import DatabaseOutageMiddleware
from api.settings import Settings, load_settings
from api.webhooks.carrier import carrier_webhook
from api.webhooks.charging import charging_webhook
from api.webhooks.stripe import stripe_webhook
from api.wiring import (
    credits_told_from,
    gateway_of,
    order_effects_of,
    planner_of,
    ticket_policy_of,
    voucher_seal_of,
)
from models.events import CATALOG, LOCAL, ORDERS
from models.events.listener import listening
from models.payments.gateway import StripeGateway
from schema.context import Services
from schema.ratelimit import WriteLimit
from schema.root import Limits, build_schema

log = logging.getLogger("pointsmall.app")


def log_secrets(settings: Settings) -> list[str]:
    """The configured values no log line may show."""
    values = [settings.jwt_secret, settings.stripe_api_key, settings.stripe_webhook_secret]
    values += [settings.metrics_token or "", settings.push_webhook_secret]
    values += [*settings.voucher_keys, settings.voucher_digest_key]
    return [*values, *settings.carrier_secrets.values()]


def build_services(settings: Settings, gateway: StripeGateway) -> Services:
    """The services the resolvers hand to the domain, from the settings."""
    return Services(
        currency=settings.currency,
        ship_within_days=settings.ship_within_days,
        digital_delivery_minutes=settings.digital_delivery_minutes,
        at_risk_hours=settings.at_risk_hours,
        payment_timeout_minutes=settings.payment_timeout_minutes,
        compensation_rate=settings.compensation_rate,
        points_timezone=settings.points_timezone,
        payments=gateway,
        write_limit=(
            WriteLimit.per_minute(settings.rate_limit_per_minute, settings.rate_limit_storage)
            if settings.rate_limit_per_minute > 0
            else None
        ),
        planner=planner_of(settings),
        order_effects=order_effects_of(settings),
        notify_credits_from=credits_told_from(settings),
        ticket_policy=ticket_policy_of(settings),
        voucher_seal=voucher_seal_of(settings),
    )


def catalog_cache(settings: Settings) -> CatalogCache | None:
    """Shared catalog answers, dropped on every order or catalog change (None: disabled)."""
    if settings.catalog_cache_seconds <= 0:
        return None
    cache = CatalogCache(max_age=settings.catalog_cache_seconds)
    for channel in (ORDERS, CATALOG):
        LOCAL.watch(channel, cache.invalidate)
    return cache


def document_registry(settings: Settings) -> DocumentRegistry:
    """The trusted documents, and whether only they run (GRAPHQL_DOCUMENTS=trusted)."""
    path = Path(settings.graphql_manifest) if settings.graphql_manifest else MANIFEST
    return DocumentRegistry(
        load_manifest(path), trusted_only=settings.graphql_documents == "trusted"
    )


@asynccontextmanager
async def notifications(settings: Settings, *, enabled: bool = True) -> AsyncIterator[None]:
    """On PostgreSQL, hear every replica's change notices (LISTEN) while the block runs."""
    if not enabled or not is_postgres(settings.database_url):
        yield
        return
    async with listening(settings.database_url):
        yield


# The collector's youngest generation is collected every this many net allocations.
GC_YOUNG_THRESHOLD = 50_000


def settle_collector() -> None:
    """Tune the cyclic garbage collector for a server process, once the app has started.

    A request allocates thousands of short-lived objects, nearly all freed by reference
    counting. At Python's default threshold (700) the collector ran many times a second
    under concurrent redemptions and promoted the in-flight requests' live objects into the
    older generations, whose passes walk the whole heap (benchmarks/PROFILES.md §12).
    Everything loaded at start (modules, the schema, the models) is frozen out of the
    collector's sight, and the youngest generation waits for 50,000 allocations: cyclic
    garbage is still collected, in rarer passes.
    """
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


def create_app(
    settings: Settings | None = None, *, manage_database: bool = True, listen: bool = True
) -> Starlette:
    """The ASGI app; `manage_database=False` when the caller already set up Tortoise.

    `listen` starts the PostgreSQL notification listener in the lifespan (in-process tests
    that run no lifespan use `notifications(settings)` themselves).
    """
    settings = settings or load_settings()
    settings.check()
    configure_logging(settings.log_level, secrets=log_secrets(settings))
    if settings.production and settings.rate_limit_storage.startswith("memory:"):
        log.warning(
            "RATE_LIMIT_STORAGE is in memory: each process counts on its own, and the sweep "
            "of expired counts grows with the members writing; use redis:// in production"
        )
    gateway = gateway_of(settings)
    services = build_services(settings, gateway)
    schema = build_schema(
        Limits(
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_aliases,
            max_tokens=settings.max_tokens,
            introspection=not settings.production,
        )
    )
    graphql = GraphQLApp(
        schema,
        services=services,
        verifier=TokenVerifier.from_settings(settings),
        graphiql=not settings.production,
        allowed_origins=settings.allowed_origins,
        catalog_cache=catalog_cache(settings),
        documents=document_registry(settings),
        public_max_age=settings.catalog_cache_seconds,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            if not manage_database:
                async with notifications(settings, enabled=listen):
                    yield
                return
            async with (
                RegisterTortoise(app, config=tortoise_config(settings.database_url)),
                notifications(settings, enabled=listen),
            ):
                settle_collector()
                yield
        finally:
            await gateway.close()
            if services.write_limit is not None:
                await services.write_limit.close()

    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics_endpoint(settings.metrics_token)),
        Route("/webhooks/stripe", stripe_webhook, methods=["POST"]),
        Route("/webhooks/carrier/{carrier}", carrier_webhook, methods=["POST"]),
        Route("/webhooks/charging", charging_webhook, methods=["POST"]),
        *console_routes(),
        *(graphiql_routes() if not settings.production else []),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,
        middleware=[Middleware(RequestIdMiddleware), Middleware(DatabaseOutageMiddleware)],
    )
    app.state.settings = settings
    app.state.services = services
    return app
