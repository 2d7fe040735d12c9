"""The spec's media type beside application/json: statuses, bodies, content types."""

from __future__ import annotations

import pytest

from api.graphql_http import GRAPHQL_RESPONSE, negotiate
from tests.support.graphql import GraphQLClient, member_token, operation

SPEC = {"Accept": GRAPHQL_RESPONSE}
LEGACY = {"Accept": "application/json"}


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json"),
        (f"{GRAPHQL_RESPONSE};q=0", "application/json"),
        ("text/html", "application/json"),
    ],
)
def test_the_media_type_follows_the_accept_header(accept: str | None, media: str) -> None:
    assert negotiate(accept) == media


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"query": "{ categories {"}, "GRAPHQL_PARSE_FAILED"),
        ({"query": "{ nope }"}, "GRAPHQL_VALIDATION_FAILED"),
        (
            {"query": "query($f: Int!) { gifts(first: $f) { totalCount } }", "variables": {}},
            "BAD_USER_INPUT",
        ),
        (
            {
                "query": "query($f: Int!) { gifts(first: $f) { totalCount } }",
                "variables": {"f": "x"},
            },
            "BAD_USER_INPUT",
        ),
    ],
)
async def test_a_refused_request_is_a_400_without_data_in_the_spec_media_type(
    api: GraphQLClient, body: dict[str, object], code: str
) -> None:
    spec = await api.http.post("/graphql", json=body, headers=SPEC)
    assert spec.status_code == 400
    assert spec.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert "data" not in spec.json()
    assert [e["extensions"]["code"] for e in spec.json()["errors"]] == [code]
    legacy = await api.http.post("/graphql", json=body, headers=LEGACY)
    assert legacy.status_code == 200
    assert legacy.headers["content-type"].startswith("application/json")
    assert legacy.json()["data"] is None
    assert [e["extensions"]["code"] for e in legacy.json()["errors"]] == [code]


async def test_an_answer_with_data_is_a_200_in_either_media_type(api: GraphQLClient) -> None:
    for headers in (SPEC, LEGACY, {}):
        answer = await api.http.post(
            "/graphql", json={"query": "{ categories { slug } }"}, headers=headers
        )
        assert answer.status_code == 200
        assert answer.json() == {"data": {"categories": []}}


async def test_an_error_during_execution_keeps_200_and_data(api: GraphQLClient) -> None:
    """`me` without a token is refused while executing: the spec's 2xx with `data`."""
    answer = await api.http.post("/graphql", json={"query": operation("Me")}, headers=SPEC)
    assert answer.status_code == 200
    assert "data" in answer.json()
    assert [e["extensions"]["code"] for e in answer.json()["errors"]] == ["UNAUTHENTICATED"]


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_a_post_that_is_not_json_is_refused(
    api: GraphQLClient, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    answer = await api.http.post(
        "/graphql", content=b'{"query": "{ categories { slug } }"}', headers=headers
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize(
    "body",
    [
        {"query": 1},
        {"query": "{ categories { slug } }", "variables": "{}"},
        {"query": "{ categories { slug } }", "extensions": []},
        {"query": "{ categories { slug } }", "operationName": 5},
        {"variables": {}},
        "a string",
    ],
)
async def test_parameters_of_the_wrong_type_are_a_400(api: GraphQLClient, body: object) -> None:
    for headers in (SPEC, LEGACY):
        answer = await api.http.post("/graphql", json=body, headers=headers)
        assert answer.status_code == 400, answer.text
        assert answer.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_a_mutation_over_get_is_a_405(api: GraphQLClient) -> None:
    mutation = "mutation { markNotificationsRead(input: {all: true}) { marked } }"
    answer = await api.http.get(
        "/graphql",
        params={"query": mutation},
        headers={"Authorization": f"Bearer {member_token('M-GET')}"},
    )
    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"
