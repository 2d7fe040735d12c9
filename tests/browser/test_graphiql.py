"""GraphiQL at GET /graphql works with no CDN: its files come from the package, and the
editor runs `Me` with a member token pasted into its headers."""

from __future__ import annotations

from playwright.async_api import expect

from tests.support.graphql import GraphQLClient, member_token
from tests.support.members import member_with_points


async def test_graphiql_renders_from_the_package_and_runs_me(
    server: GraphQLClient, console_server: str, pages
) -> None:  # type: ignore[no-untyped-def]
    await member_with_points("BR-GQL", 1234)
    graphiql = await pages("/graphql")
    page = graphiql.page
    outside = []
    page.on("request", lambda r: r.url.startswith(console_server) or outside.append(r.url))
    await expect(page.locator(".graphiql-query-editor .CodeMirror")).to_be_visible()
    await page.get_by_role("button", name="Headers").click()
    await page.locator(".graphiql-editor-tool .CodeMirror").last.click()
    await page.keyboard.insert_text(f'{{"Authorization": "Bearer {member_token("BR-GQL")}"}}')
    await page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()
    result = page.locator(".result-window")
    await expect(result).to_contain_text('"externalId": "BR-GQL"')
    await expect(result).to_contain_text('"balance": 1234')
    await graphiql.shot("graphiql")
    assert outside == [], "everything came from the server itself"
