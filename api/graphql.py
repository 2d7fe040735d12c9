"""The GraphQL endpoint: HTTP POST, GraphiQL in development, graphql-transport-ws."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from api.auth import AuthenticationFailed, TokenVerifier, bearer_token
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
