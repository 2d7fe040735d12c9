"""The GraphQL endpoint: POST and GET (api/graphql_http.py), trusted documents
(api/documents.py), GraphiQL in development, graphql-transport-ws."""

from __future__ import annotations

import json
from typing import Any

from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import process_result
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ErrorMessage,
    SubscribeMessage,
)
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from api.auth import AuthenticationFailed, TokenVerifier, bearer_token
from api.catalog_cache import CatalogCache
from api.documents import DocumentRefused, DocumentRegistry, Named
from api.graphiql import graphiql_page
from api.graphql_http import (
    BadRequest,
    GraphQLParams,
    graphql_body,
    negotiate,
    read_params,
    refusal,
)
from api.http_caching import Answer, CatalogAnswers
from models.actors import Role
from schema.context import Context, Services
from schema.plans import PLANS
from schema.prepared import PreparedDocument, prepare, run_prepared
from schema.root import Schema


class TrustedTransportWS(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, holding each operation to the document policy as HTTP does."""

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        documents: DocumentRegistry = getattr(self.view, "documents", None) or _ANY
        payload = message.get("payload") or {}
        try:
            documents.resolve(payload.get("query"), None, payload.get("extensions"))
        except DocumentRefused as exc:
            if self.connection_acknowledged and message["id"] not in self.operations:
                error = GraphQLError(exc.message, extensions={"code": exc.code})
                await self.send_message(
                    ErrorMessage(id=message["id"], type="error", payload=[error.formatted])
                )
                return
        await super().handle_subscribe(message)


_ANY = DocumentRegistry({}, trusted_only=False)
GET_ALLOWS = {OperationType.QUERY}
POST_ALLOWS = {OperationType.QUERY, OperationType.MUTATION}


class GraphQLApp(GraphQL[Context, None]):
    """Builds each request's context (the caller from the bearer token, fresh loaders) and
    answers HTTP requests by text, by trusted id or by APQ hash."""

    graphql_transport_ws_handler_class = TrustedTransportWS

    def __init__(
        self,
        schema: Schema,
        *,
        services: Services,
        verifier: TokenVerifier,
        graphiql: bool,
        allowed_origins: tuple[str, ...],
        catalog_cache: CatalogCache | None = None,
        documents: DocumentRegistry | None = None,
        public_max_age: float = 1.0,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            allowed_origins=allowed_origins,
            keep_alive=True,
            keep_alive_interval=15,
        )
        self.app_schema = schema
        self.services = services
        self.verifier = verifier
        self.documents = documents or DocumentRegistry({}, trusted_only=False)
        self.answers = CatalogAnswers(catalog_cache, public_max_age=public_max_age)
        # The lean path: each trusted document made ready once (None: it runs the ordinary
        # path, which reports what it fails).
        self.prepared: dict[str, PreparedDocument | None] = {
            text: prepare(schema, text, plan=PLANS.get(key))
            for key, text in self.documents.manifest.items()
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        if self._wants_ide(request):
            await super().__call__(scope, receive, send)
            return
        await (await self.answer(request))(scope, receive, send)

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL with its files from the package (strawberry's page loads them from a CDN)."""
        return graphiql_page(request)

    def _wants_ide(self, request: Request) -> bool:
        params = request.query_params
        return (
            request.method == "GET"
            and not any(name in params for name in ("query", "documentId", "extensions"))
            and "text/html" in request.headers.get("accept", "")
        )

    async def answer(self, request: Request) -> Response:
        media = negotiate(request.headers.get("accept"))
        if request.method not in ("GET", "POST"):
            return refusal(BadRequest("GraphQL is served over GET and POST.", 405), media)
        try:
            params = await read_params(request)
            named = self.documents.resolve(params.query, params.document_id, params.extensions)
            if named is None:
                raise BadRequest("No GraphQL query found in the request")
        except BadRequest as exc:
            return refusal(exc, media)
        except DocumentRefused as exc:
            payload = {"data": None, "errors": [_coded(exc.message, exc.code)]}
            status, body = graphql_body(payload, media)
            return self.answers.private(Answer(status, body), media)
        try:
            return await self._run(request, params, named, media)
        except BadRequest as exc:
            return refusal(exc, media)

    async def _run(
        self, request: Request, params: GraphQLParams, named: Named, media: str
    ) -> Response:
        # A trusted document takes the lean path however it was named: by id, or by its
        # exact text (a client without persisted queries); any other text is a stranger's.
        prepared = self.prepared.get(named.text) if named.trusted else None
        if prepared is not None and params.operation_name not in (None, prepared.name):
            prepared = None  # the ordinary path says the operation is unknown
        if prepared is not None and prepared.is_mutation and request.method == "GET":
            raise _mutation_over_get()
        context = await self.get_context(request, None)  # the token, verified once
        admin = context.actor is not None and context.actor.role is Role.ADMIN
        key = self.answers.key(named.text, params.operation_name, params.variables, admin=admin)

        async def compute() -> Answer:
            return await self._execute(request, context, params, named, prepared, media)

        return await self.answers.respond(request, key, media, compute)

    async def _execute(
        self,
        request: Request,
        context: Context,
        params: GraphQLParams,
        named: Named,
        prepared: PreparedDocument | None,
        media: str,
    ) -> Answer:
        if prepared is not None:
            result = await run_prepared(
                self.app_schema, prepared, params.variables, context, params.extensions
            )
        else:
            result = await self._ordinary(request, params, named, context)
        status, body = graphql_body(dict(process_result(result)), media)
        return Answer(status, body, complete=not result.errors)

    async def _ordinary(
        self, request: Request, params: GraphQLParams, named: Named, context: Context
    ) -> Any:
        get = request.method == "GET"
        try:
            result: ExecutionResult = await self.app_schema.execute(
                named.text,
                variable_values=params.variables,
                context_value=context,
                operation_name=params.operation_name,
                allowed_operation_types=GET_ALLOWS if get else POST_ALLOWS,
                operation_extensions=params.extensions,
            )
        except InvalidOperationTypeError as exc:
            if get and exc.operation_type is OperationType.MUTATION:
                raise _mutation_over_get() from exc
            raise BadRequest(exc.as_http_error_reason(request.method)) from exc
        except CannotGetOperationTypeError as exc:
            raise BadRequest(exc.as_http_error_reason()) from exc
        except MissingQueryError as exc:
            raise BadRequest("No GraphQL query found in the request") from exc
        return result

    def decode_json(self, data: str | bytes) -> object:
        """JSON, or JSONDecodeError for anything else, which strawberry answers by closing
        the socket: bytes that are not UTF-8 and nesting deeper than the parser recurses
        would otherwise escape as an error of the connection."""
        try:
            return json.loads(data)
        except (RecursionError, UnicodeDecodeError) as exc:
            raise json.JSONDecodeError(
                f"not a JSON document ({type(exc).__name__})", "", 0
            ) from exc

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None
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


def _coded(message: str, code: str) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code}}


def _mutation_over_get() -> BadRequest:
    return BadRequest("Mutations are sent with POST.", 405, {"Allow": "POST"})
