"""Tokens: what is accepted and what is refused, and why."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from api.auth import AuthenticationFailed, TokenVerifier, bearer_token, mint_token
from models.actors import Role

SECRET = "k" * 40
verifier = TokenVerifier(SECRET, leeway_seconds=30)


def _unsigned(claims: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def test_minted_token_names_role_subject_and_warehouses() -> None:
    token = mint_token(SECRET, role=Role.WAREHOUSE, subject="s1", warehouses=["GZ01", "SH01"])
    actor = verifier.verify(token)
    assert actor.role is Role.WAREHOUSE
    assert actor.warehouses == frozenset({"GZ01", "SH01"})
    assert actor.works_in("SH01")
    assert not actor.works_in("BJ01")


def test_alg_none_is_refused() -> None:
    claims = {"sub": "C1", "role": "admin", "exp": int(time.time()) + 60}
    with pytest.raises(AuthenticationFailed):
        verifier.verify(_unsigned(claims))


def test_small_clock_skew_is_tolerated_but_not_more() -> None:
    now = int(time.time())
    slightly = jwt.encode({"sub": "C1", "role": "member", "exp": now - 10}, SECRET)
    assert verifier.verify(slightly).subject == "C1"
    expired = jwt.encode({"sub": "C1", "role": "member", "exp": now - 120}, SECRET)
    with pytest.raises(AuthenticationFailed, match="expired"):
        verifier.verify(expired)


def test_exp_is_required() -> None:
    with pytest.raises(AuthenticationFailed):
        verifier.verify(jwt.encode({"sub": "C1", "role": "member"}, SECRET))


def test_warehouses_claim_must_be_a_list_of_codes() -> None:
    exp = int(time.time()) + 60
    bad = jwt.encode({"sub": "s", "role": "warehouse", "warehouses": "SH01", "exp": exp}, SECRET)
    with pytest.raises(AuthenticationFailed, match="warehouses"):
        verifier.verify(bad)


def test_member_token_cannot_claim_staff_powers() -> None:
    exp = int(time.time()) + 60
    token = jwt.encode({"sub": "C1", "role": "member", "warehouses": ["SH01"], "exp": exp}, SECRET)
    assert not verifier.verify(token).works_in("SH01")


def test_authorization_header_must_be_bearer() -> None:
    assert bearer_token(None) is None
    assert bearer_token("Bearer abc") == "abc"
    with pytest.raises(AuthenticationFailed):
        bearer_token("Basic abc")
