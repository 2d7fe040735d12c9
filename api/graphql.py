"""The GraphQL endpoint: HTTP POST, GraphiQL in development, graphql-transport-ws."""

from __future__ import annotations

import json

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from api.auth import AuthenticationFailed, TokenVerifier, bearer_token
from api.catalog_cache import ANSWERS, CatalogCache, cache_key
from api.graphiql import graphiql_page
from models.actors import Role
from schema.context import Context, Services
from schema.root import Schema


class GraphQLApp(GraphQL[Context, None]):
    """Builds each request's context: the caller from the bearer token, fresh loaders."""

    def __init__(
        self,
        schema: Schema,
        *,
        services: Services,
        verifier: TokenVerifier,
        graphiql: bool,
        allowed_origins: tuple[str, ...],
        catalog_cache: CatalogCache | None = None,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            allow_queries_via_get=False,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            allowed_origins=allowed_origins,
            keep_alive=True,
            keep_alive_interval=15,
        )
        self.services = services
        self.verifier = verifier
        self.catalog_cache = catalog_cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cache = self.catalog_cache
        if cache is None or scope["type"] != "http" or scope["method"] != "POST":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        key = await self._catalog_key(request)
        if key is None:
            await (await self._respond(request))(scope, receive, send)
            return
        body, source = cache.get(key), "cached"
        if body is None:
            body, source = await cache.wait(key), "shared"
        if body is not None:
            ANSWERS.labels(source).inc()
            await Response(body, media_type="application/json")(scope, receive, send)
            return
        ANSWERS.labels("computed").inc()
        with cache.computing(key) as done:
            version, born = cache.version, cache.clock()
            response = await self._respond(request)  # reads the body the key already read
            kept = response.status_code == 200 and cache.put(
                key, version=version, born=born, body=bytes(response.body)
            )
            done(bytes(response.body) if kept else None)
        await response(scope, receive, send)

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL with its files from the package (strawberry's page loads them from a CDN)."""
        return graphiql_page(request)

    async def _respond(self, request: Request) -> Response:
        """What `GraphQL.__call__` answers to an HTTP request."""
        try:
            return await self.run(request)
        except HTTPException as exc:
            return PlainTextResponse(exc.reason, status_code=exc.status_code)

    async def _catalog_key(self, request: Request) -> object | None:
        """The cache key of a public catalog read; None for anything else."""
        try:
            payload = self.decode_json(await request.body())
        except ValueError:
            return None
        if cache_key(payload, admin=False) is None:
            return None  # not a catalog read: spare the token check
        return cache_key(payload, admin=self._is_admin(request.headers.get("authorization")))

    def decode_json(self, data: str | bytes) -> object:
        """JSON, or JSONDecodeError for anything else, which strawberry answers with a 400
        (or by closing the socket): bytes that are not UTF-8 and nesting deeper than the
        parser recurses would otherwise escape as a 500."""
        try:
            return json.loads(data)
        except (RecursionError, UnicodeDecodeError) as exc:
            raise json.JSONDecodeError(
                f"not a JSON document ({type(exc).__name__})", "", 0
            ) from exc

    def _is_admin(self, authorization: str | None) -> bool:
        try:
            token = bearer_token(authorization)
            return token is not None and self.verifier.verify(token).role is Role.ADMIN
        except AuthenticationFailed:
            return False

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        context = Context(request=request, response=response, services=self.services)
        if isinstance(request, Request):
            self._authenticate(context, request.headers.get("authorization"))
        return context

    async def on_ws_connect(self, context: Context) -> dict[str, object] | None:
        params = context.connection_params or {}
        raw = params.get("Authorization") or params.get("authorization")
        if raw is None and isinstance(params.get("token"), str):
            raw = f"Bearer {params['token']}"
        self._authenticate(context, raw if isinstance(raw, str) else None)
        if context.auth_failure is not None:
            raise ConnectionRejectionError({"reason": context.auth_failure})
        return None

    def _authenticate(self, context: Context, authorization: str | None) -> None:
        try:
            token = bearer_token(authorization)
            context.actor = self.verifier.verify(token) if token else None
        except AuthenticationFailed as exc:
            context.actor, context.auth_failure = None, str(exc)
