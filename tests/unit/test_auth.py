"""Tokens: what is accepted and what is refused, and why."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from jwt.algorithms import RSAAlgorithm

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


# Algorithm confusion and header tricks: the verifier's key decides the algorithm, never the
# token's header.


def _rsa_pem() -> tuple[bytes, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public.decode()


def _hs256_by_hand(header: dict[str, object], claims: dict[str, object], key: bytes) -> str:
    """An HS256 token signed with any bytes at all (PyJWT refuses a PEM key as HMAC secret)."""

    def part(value: dict[str, object]) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=")

    signing_input = part(header) + b"." + part(claims)
    signature = base64.urlsafe_b64encode(hmac.new(key, signing_input, hashlib.sha256).digest())
    return (signing_input + b"." + signature.rstrip(b"=")).decode()


def _claims(**extra: object) -> dict[str, object]:
    return {"sub": "C1", "role": "admin", "exp": int(time.time()) + 60, **extra}


def test_rs256_verifier_refuses_hs256_signed_with_its_public_key() -> None:
    private, public = _rsa_pem()
    rs256 = TokenVerifier(SECRET, public_key=public)
    assert rs256.verify(jwt.encode(_claims(), private, algorithm="RS256")).is_admin
    forged = _hs256_by_hand({"alg": "HS256", "typ": "JWT"}, _claims(), public.encode())
    with pytest.raises(AuthenticationFailed):
        rs256.verify(forged)
    with pytest.raises(AuthenticationFailed):
        rs256.verify(jwt.encode(_claims(), SECRET, algorithm="HS256"))


def test_hs256_verifier_refuses_asymmetric_tokens() -> None:
    rsa_private, _ = _rsa_pem()
    ec_private = ec.generate_private_key(ec.SECP256R1())
    for token in (
        jwt.encode(_claims(), rsa_private, algorithm="RS256"),
        jwt.encode(_claims(), ec_private, algorithm="ES256"),
        _hs256_by_hand({"alg": "HS512", "typ": "JWT"}, _claims(), SECRET.encode()),
    ):
        with pytest.raises(AuthenticationFailed):
            verifier.verify(token)


def test_kid_jku_and_jwk_headers_change_nothing() -> None:
    tricks = {
        "kid": "../../../../dev/null",
        "jku": "https://attacker.example/jwks.json",
        "x5u": "https://attacker.example/cert.pem",
    }
    honest = jwt.encode(_claims(), SECRET, algorithm="HS256", headers=tricks)
    assert verifier.verify(honest).is_admin, "the real secret still decides"
    for key in (b"", b"attacker-secret" * 3):  # /dev/null's contents, or the attacker's key
        forged = _hs256_by_hand({"alg": "HS256", "typ": "JWT", **tricks}, _claims(), key)
        with pytest.raises(AuthenticationFailed):
            verifier.verify(forged)
    attacker_private, attacker_public = _rsa_pem()
    embedded = jwt.encode(
        _claims(),
        attacker_private,
        algorithm="RS256",
        headers={
            "jwk": json.loads(RSAAlgorithm.to_jwk(load_pem_public_key(attacker_public.encode())))
        },
    )
    _, trusted_public = _rsa_pem()
    with pytest.raises(AuthenticationFailed):
        TokenVerifier(SECRET, public_key=trusted_public).verify(embedded)


def test_a_subject_longer_than_an_external_id_is_refused() -> None:
    exp = int(time.time()) + 60
    fits = jwt.encode({"sub": "C" * 64, "role": "member", "exp": exp}, SECRET)
    assert verifier.verify(fits).subject == "C" * 64
    too_long = jwt.encode({"sub": "C" * 65, "role": "member", "exp": exp}, SECRET)
    with pytest.raises(AuthenticationFailed, match="sub"):
        verifier.verify(too_long)
    not_text = jwt.encode({"sub": 12345, "role": "member", "exp": exp}, SECRET)
    with pytest.raises(AuthenticationFailed):
        verifier.verify(not_text)


def test_role_must_be_one_of_ours_exactly() -> None:
    exp = int(time.time()) + 60
    for role in ("Admin", "ADMIN", " admin", "root", ["admin"]):
        token = jwt.encode({"sub": "C1", "role": role, "exp": exp}, SECRET)
        with pytest.raises(AuthenticationFailed):
            verifier.verify(token)


def test_claims_that_would_reach_the_database_malformed_are_refused() -> None:
    exp = int(time.time()) + 60
    for claims in (
        {"sub": "C1\x00", "role": "member"},
        {"sub": "C1\n", "role": "member"},
        {"sub": "s1", "role": "warehouse", "warehouses": ["SH01\x00"]},
        {"sub": "s1", "role": "warehouse", "warehouses": ["S" * 33]},
        {"sub": "s1", "role": "warehouse", "warehouses": [""]},
        {"sub": "s1", "role": "warehouse", "warehouses": [["SH01"]]},
    ):
        with pytest.raises(AuthenticationFailed):
            verifier.verify(jwt.encode({**claims, "exp": exp}, SECRET))


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_a_remembered_token_still_expires_on_time() -> None:
    clock = Clock()
    remembering = TokenVerifier(SECRET, leeway_seconds=30, clock=clock)
    token = jwt.encode({"sub": "C1", "role": "member", "exp": int(clock.now) + 60}, SECRET)
    assert remembering.verify(token).subject == "C1"
    assert remembering.remembered_now() == 1
    clock.now += 60 + 29  # within the leeway
    assert remembering.verify(token).subject == "C1"
    clock.now += 1
    with pytest.raises(AuthenticationFailed, match="expired"):
        remembering.verify(token)


def test_a_refused_token_is_not_remembered_and_stays_refused() -> None:
    remembering = TokenVerifier(SECRET)
    good = mint_token(SECRET, role=Role.MEMBER, subject="C1")
    header, payload, signature = good.split(".")
    forged_claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged_claims["role"] = "admin"
    forged_payload = base64.urlsafe_b64encode(json.dumps(forged_claims).encode()).decode()
    forged = f"{header}.{forged_payload.rstrip('=')}.{signature}"
    assert remembering.verify(good).role is Role.MEMBER
    for _ in range(2):
        with pytest.raises(AuthenticationFailed, match="not valid"):
            remembering.verify(forged)
    assert remembering.remembered_now() == 1


def test_the_tokens_remembered_are_bounded() -> None:
    remembering = TokenVerifier(SECRET, remembered=2)
    tokens = [mint_token(SECRET, role=Role.MEMBER, subject=f"C{i}") for i in range(3)]
    assert [remembering.verify(t).subject for t in tokens] == ["C0", "C1", "C2"]
    assert remembering.remembered_now() == 2
    assert remembering.verify(tokens[0]).subject == "C0"  # checked again, remembered again


def test_verifiers_with_other_keys_share_nothing() -> None:
    token = mint_token(SECRET, role=Role.ADMIN, subject="A1")
    assert TokenVerifier(SECRET).verify(token).role is Role.ADMIN
    with pytest.raises(AuthenticationFailed, match="not valid"):
        TokenVerifier("x" * 40).verify(token)
