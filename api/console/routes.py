"""The console's routes: its page at /console/ and its files under a content hash.

The page names its files by the bundle's digest (`{{ASSETS}}` in `static/index.html`), so
they are cached for good and a release is fetched afresh; the page itself is revalidated
by its ETag on every load. Both carry the strict Content-Security-Policy of `api.assets`.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from api.assets import Bundle, bundle_of, cached, etag_of, page_headers

STATIC = Path(__file__).resolve().parent / "static"
MOUNT = "/console"
ASSETS = f"{MOUNT}/assets"


def console_bundle() -> Bundle:
    return bundle_of(STATIC)


def page_html(bundle: Bundle) -> bytes:
    """The console's page, naming this release's files."""
    template = bundle.files["index.html"].decode()
    return template.replace("{{ASSETS}}", f"{ASSETS}/{bundle.digest}").encode()


async def console_page(request: Request) -> Response:
    page = page_html(console_bundle())
    headers = page_headers(request)
    return cached(
        request,
        page,
        "text/html; charset=utf-8",
        etag=etag_of(page),
        cache_control="no-cache",
        headers=headers,
    )


async def console_asset(request: Request) -> Response:
    params = request.path_params
    return console_bundle().response(
        request, params["digest"], params["name"], page_headers(request)
    )


async def to_console(request: Request) -> Response:
    return RedirectResponse(f"{MOUNT}/", status_code=308)


def console_routes() -> list[BaseRoute]:
    return [
        Route(MOUNT, to_console),
        Route(f"{MOUNT}/", console_page),
        Route(ASSETS + "/{digest}/{name:path}", console_asset),
    ]
