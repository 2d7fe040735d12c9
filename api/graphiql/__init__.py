"""GraphiQL at GET /graphql (development only), with React and GraphiQL served from the
package (`static/`, versions in `static/VERSIONS.md`) rather than a CDN."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from api.assets import Bundle, bundle_of, cached, etag_of, page_headers

STATIC = Path(__file__).resolve().parent / "static"
ASSETS = "/graphiql/assets"


def graphiql_bundle() -> Bundle:
    return bundle_of(STATIC)


def _headers(request: Request) -> dict[str, str]:
    # GraphiQL's editors and React set style attributes and add style elements of their own.
    return page_headers(request, style_inline=True)


def graphiql_page(request: Request) -> Response:
    """The GraphiQL page, naming this release's files."""
    bundle = graphiql_bundle()
    template = bundle.files["index.html"].decode()
    page = template.replace("{{ASSETS}}", f"{ASSETS}/{bundle.digest}").encode()
    return cached(
        request,
        page,
        "text/html; charset=utf-8",
        etag=etag_of(page),
        cache_control="no-cache",
        headers=_headers(request),
    )


async def graphiql_asset(request: Request) -> Response:
    params = request.path_params
    return graphiql_bundle().response(request, params["digest"], params["name"], _headers(request))


def graphiql_routes() -> list[BaseRoute]:
    return [Route(ASSETS + "/{digest}/{name:path}", graphiql_asset)]
