"""GraphQL over HTTP as the spec has it: the request's parameters, the media type, the status.

A client that accepts `application/graphql-response+json` gets it: a request GraphQL
refuses before execution (a document that does not parse or validate, a variable that does
not fit its type, a document this server will not run) answers 400 with `errors` and no
`data`. A client that asks for `application/json` (or anything, `*/*`, or says nothing)
gets what GraphQL servers always answered: 200, `data: null` beside the errors. Either way
a body that is not a GraphQL request (not JSON, a batch, parameters of the wrong type, a
POST without a JSON content type) is refused with a 4xx, and a mutation over GET with 405.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
BAD_REQUEST = "BAD_REQUEST"


class BadRequest(Exception):
    """Not a GraphQL request: refused at the HTTP level with `status`."""

    def __init__(self, message: str, status: int = 400, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.headers = dict(headers or {})


@dataclass(frozen=True)
class GraphQLParams:
    query: str | None
    operation_name: str | None
    variables: dict[str, Any] | None
    extensions: dict[str, Any] | None
    document_id: str | None


def negotiate(accept: str | None) -> str:
    """The response's media type: the spec's own when the client prefers it or names it
    beside application/json at an equal weight, else application/json."""
    best, best_q = JSON, 0.0
    for item in (accept or "").split(","):
        kind, _, params = item.strip().partition(";")
        q = _weight(params)
        kind = kind.strip().lower()
        if kind == GRAPHQL_RESPONSE and q > 0 and q >= best_q:
            best, best_q = GRAPHQL_RESPONSE, q
        elif kind in (JSON, "application/*", "*/*") and q > best_q:
            best, best_q = JSON, q
    return best


def _weight(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def decode_json(data: str | bytes) -> Any:
    """JSON, or BadRequest: bytes that are not UTF-8 and nesting deeper than the parser
    recurses are no JSON document either (and must not escape as a 500)."""
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError
        raise BadRequest("Unable to parse request body as JSON") from exc


async def read_params(request: Request) -> GraphQLParams:
    """The request's GraphQL parameters, from a POSTed JSON body or GET's query string."""
    if request.method == "GET":
        query = request.query_params
        raw: dict[str, Any] = dict(query)
        for name in ("variables", "extensions"):
            if raw.get(name):
                raw[name] = decode_json(raw[name])
            else:
                raw.pop(name, None)
        return _params(raw)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != JSON:
        raise BadRequest("A GraphQL POST is application/json (Content-Type).")
    body = decode_json(await request.body())
    if isinstance(body, list):
        raise BadRequest("Batched operations are not supported.")
    if not isinstance(body, dict):
        raise BadRequest("The body is a JSON object of GraphQL parameters.")
    return _params(body)


def _params(raw: Mapping[str, Any]) -> GraphQLParams:
    for name, kind in (
        ("query", str),
        ("operationName", str),
        ("documentId", str),
        ("variables", dict),
        ("extensions", dict),
    ):
        if raw.get(name) is not None and not isinstance(raw[name], kind):
            shape = "a string" if kind is str else "an object"
            raise BadRequest(f"The GraphQL parameter `{name}` must be {shape} or null.")
    return GraphQLParams(
        query=raw.get("query"),
        operation_name=raw.get("operationName"),
        variables=raw.get("variables"),
        extensions=raw.get("extensions"),
        document_id=raw.get("documentId"),
    )


def refusal(error: BadRequest, media: str) -> Response:
    """A request refused before GraphQL saw it: its status, a GraphQL-shaped body."""
    body = {"errors": [{"message": error.message, "extensions": {"code": BAD_REQUEST}}]}
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=error.status,
        media_type=media,
        headers=error.headers,
    )


def encode(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def graphql_body(payload: dict[str, Any], media: str) -> tuple[int, bytes]:
    """The status and body of an answer: a request error (no `data` at all, or `data`
    null with only errors that name no path) is a 400 without `data` in the spec's media
    type; application/json keeps 200 and `data: null`."""
    if media == GRAPHQL_RESPONSE and _request_error(payload):
        return 400, encode({k: v for k, v in payload.items() if k != "data"})
    return 200, encode(payload)


def _request_error(payload: Mapping[str, Any]) -> bool:
    errors = payload.get("errors") or []
    return payload.get("data") is None and bool(errors) and not any(e.get("path") for e in errors)
