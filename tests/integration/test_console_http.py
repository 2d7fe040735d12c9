"""The console and GraphiQL over HTTP: a strict policy on every answer, files cached for
good under their release's digest, pages revalidated by ETag, GraphiQL only in development."""

from __future__ import annotations

import re

import httpx

from api.app import create_app
from tests.integration.test_http_surface import production
from tests.support.graphql import GraphQLClient


def asset_urls(page: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/[^"]+)"', page)


async def test_the_console_page_and_its_files_carry_a_strict_policy_and_cache_well(
    api: GraphQLClient,
) -> None:
    http = api.http
    page = await http.get("/console/")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "'unsafe-inline'" not in policy
    assert "connect-src 'self' ws://testserver wss://testserver;" in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["cache-control"] == "no-cache"
    again = await http.get("/console/", headers={"If-None-Match": page.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")
    urls = asset_urls(page.text)
    assert len(urls) >= 10
    for url in urls:
        answer = await http.get(url)
        assert answer.status_code == 200, url
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert answer.headers["content-security-policy"] == policy
        assert answer.headers["x-content-type-options"] == "nosniff"
    script = next(url for url in urls if url.endswith("/app.js"))
    assert (await http.get(script)).headers["content-type"] == "text/javascript; charset=utf-8"


async def test_another_release_or_an_unknown_file_is_not_found(api: GraphQLClient) -> None:
    page = (await api.http.get("/console/")).text
    script = next(url for url in asset_urls(page) if url.endswith("/app.js"))
    old = re.sub(r"/assets/[0-9a-f]+/", "/assets/0123456789abcdef/", script)
    for url in (
        old,
        script.replace("app.js", "secret.py"),
        script.replace("app.js", "..%2F..%2Froutes.py"),
    ):
        answer = await api.http.get(url)
        assert answer.status_code == 404, url
        assert answer.headers["cache-control"] == "no-store"
    assert (await api.http.get("/console")).headers["location"] == "/console/"


async def test_an_odd_host_header_is_not_written_into_the_policy(api: GraphQLClient) -> None:
    page = await api.http.get("/console/", headers={"Host": "evil; script-src *"})
    assert "connect-src 'self';" in page.headers["content-security-policy"]


async def test_graphiql_is_served_from_the_package_and_only_in_development(
    api: GraphQLClient, db: str
) -> None:
    page = await api.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "unpkg" not in page.text
    urls = asset_urls(page.text)
    assert any(url.endswith("/graphiql.min.js") for url in urls)
    for url in urls:
        assert (await api.http.get(url)).status_code == 200, url
    app = create_app(production(db), manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        assert (await http.get(urls[0])).status_code == 404
        assert (await http.get("/console/")).status_code == 200
