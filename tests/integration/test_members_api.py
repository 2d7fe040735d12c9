"""Members through GraphQL: Me, UpsertMember, Member, node, and who may call them."""

from __future__ import annotations

import time

import jwt

from api.settings import DEV_JWT_SECRET
from tests.support.graphql import GraphQLClient, admin_token, member_token, staff_token, token


async def test_member_seen_first_time_starts_with_zero_points(api: GraphQLClient) -> None:
    me = (await api.op("Me", auth=member_token("C1001"))).data["me"]
    assert me["externalId"] == "C1001"
    assert me["points"] == {"balance": 0, "held": 0, "available": 0, "expiring": []}
    again = (await api.op("Me", auth=member_token("C1001"))).data["me"]
    assert again["id"] == me["id"]


async def test_admin_upserts_member_and_reads_it_back(api: GraphQLClient) -> None:
    variables = {"input": {"externalId": "C2002", "displayName": "王芳", "tier": "GOLD"}}
    created = (await api.op("UpsertMember", variables, auth=admin_token())).data["upsertMember"]
    assert created["errors"] == []
    assert created["member"]["tier"] == "GOLD"
    variables["input"]["tier"] = "DIAMOND"
    updated = (await api.op("UpsertMember", variables, auth=admin_token())).data["upsertMember"]
    assert updated["member"]["id"] == created["member"]["id"]
    member = (await api.op("Member", {"externalId": "C2002"}, auth=admin_token())).data["member"]
    assert member["tier"] == "DIAMOND"
    assert member["displayName"] == "王芳"
    assert member["points"]["available"] == 0


async def test_upsert_with_blank_external_id_is_invalid_input(api: GraphQLClient) -> None:
    variables = {"input": {"externalId": "  ", "displayName": "x", "tier": "STANDARD"}}
    payload = (await api.op("UpsertMember", variables, auth=admin_token())).data["upsertMember"]
    assert payload["member"] is None
    assert payload["errors"][0]["code"] == "INVALID_INPUT"
    assert payload["errors"][0]["field"] == "externalId"


async def test_unknown_member_answers_null(api: GraphQLClient) -> None:
    result = await api.op("Member", {"externalId": "nobody"}, auth=admin_token())
    assert result.data["member"] is None


async def test_me_without_token_is_unauthenticated(api: GraphQLClient) -> None:
    result = await api.op("Me")
    assert result.status == 200
    assert result.error_codes == ["UNAUTHENTICATED"]


async def test_bad_tokens_are_unauthenticated_never_500(api: GraphQLClient) -> None:
    now = int(time.time())
    expired = jwt.encode({"sub": "C1", "role": "member", "exp": now - 3600}, DEV_JWT_SECRET)
    wrong_key = jwt.encode({"sub": "C1", "role": "member", "exp": now + 60}, "x" * 40)
    unknown_role = jwt.encode({"sub": "C1", "role": "root", "exp": now + 60}, DEV_JWT_SECRET)
    no_exp = jwt.encode({"sub": "C1", "role": "member"}, DEV_JWT_SECRET)
    for bad in [expired, wrong_key, unknown_role, no_exp, "not-a-jwt"]:
        result = await api.op("Me", auth=bad)
        assert result.status == 200
        assert result.error_codes == ["UNAUTHENTICATED"], bad


async def test_wrong_role_is_forbidden(api: GraphQLClient) -> None:
    assert (await api.op("Me", auth=admin_token())).error_codes == ["FORBIDDEN"]
    assert (await api.op("Me", auth=staff_token("SH01"))).error_codes == ["FORBIDDEN"]
    member_asks = await api.op("Member", {"externalId": "C1"}, auth=member_token("C1"))
    assert member_asks.error_codes == ["FORBIDDEN"]
    upsert = {"input": {"externalId": "C9", "displayName": "", "tier": "STANDARD"}}
    assert (await api.op("UpsertMember", upsert, auth=token("warehouse", "s"))).error_codes == [
        "FORBIDDEN"
    ]


async def test_node_gives_member_to_itself_and_admin_only(api: GraphQLClient) -> None:
    member_id = (await api.op("Me", auth=member_token("C77"))).data["me"]["id"]
    query = "query($id: ID!) { node(id: $id) { id ... on Member { externalId } } }"
    own = await api.query(query, {"id": member_id}, auth=member_token("C77"))
    assert own.data["node"]["externalId"] == "C77"
    other = await api.query(query, {"id": member_id}, auth=member_token("C78"))
    assert other.data["node"] is None
    admin = await api.query(query, {"id": member_id}, auth=admin_token())
    assert admin.data["node"]["externalId"] == "C77"
    garbage = await api.query(query, {"id": "bm90LWEtaWQ="}, auth=admin_token())
    assert garbage.status == 200
    assert "data" in garbage.body


async def test_node_with_non_node_type_answers_null(api: GraphQLClient) -> None:
    import base64

    query = "query($id: ID!) { node(id: $id) { id } }"
    for raw in ["Query:1", "UserError:1", "Member:abc", "Nope:1"]:
        global_id = base64.b64encode(raw.encode()).decode()
        result = await api.query(query, {"id": global_id}, auth=admin_token())
        assert result.data["node"] is None, raw
