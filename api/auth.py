"""Bearer JWTs: decoding a request's token into an Actor, and minting development tokens."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import _lru_cache_wrapper, lru_cache
from typing import TypeGuard

import jwt

from api.settings import Settings
from models.actors import Actor, Role

MAX_SUBJECT_LENGTH = 64
MAX_WAREHOUSE_CODE_LENGTH = 32
# Tokens whose signature and claims were checked, remembered by each verifier (a few MB at
# most): a member's app sends its token with every request, and checking it again each time
# was a visible share of a redemption's server time (benchmarks/PROFILES.md).
REMEMBERED_TOKENS = 16_384


class AuthenticationFailed(Exception):
    """The token is missing a claim, badly signed, expired or otherwise unusable."""


@dataclass(frozen=True)
class TokenVerifier:
    """Verifies tokens with HS256 and a shared secret, or RS256 and a public key.

    A token that passed is remembered (the last `remembered` of them) with what it names and
    when it expires: its signature and claims cannot change, so a later request with the
    same token is only checked against the clock. A token that failed is checked afresh
    each time.
    """

    secret: str
    public_key: str | None = None
    leeway_seconds: int = 30
    remembered: int = REMEMBERED_TOKENS
    clock: Callable[[], float] = time.time
    _checked: _lru_cache_wrapper[tuple[Actor, float]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_checked", lru_cache(maxsize=self.remembered)(self._check))

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenVerifier:
        return cls(settings.jwt_secret, settings.jwt_public_key, settings.jwt_leeway_seconds)

    def verify(self, token: str) -> Actor:
        """The actor a token names; raises AuthenticationFailed saying why not."""
        actor, expires = self._checked(token)
        if self.clock() >= expires + self.leeway_seconds:  # as PyJWT decides
            raise AuthenticationFailed("the token has expired")
        return actor

    def remembered_now(self) -> int:
        """How many verified tokens are remembered."""
        return self._checked.cache_info().currsize

    def _check(self, token: str) -> tuple[Actor, float]:
        key, algorithm = (self.public_key, "RS256") if self.public_key else (self.secret, "HS256")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                leeway=self.leeway_seconds,
                options={"require": ["exp", "sub", "role"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationFailed("the token has expired") from exc
        except jwt.PyJWTError as exc:
            raise AuthenticationFailed(f"the token is not valid: {exc}") from exc
        return _actor_from_claims(claims), float(claims["exp"])


def _actor_from_claims(claims: dict[str, object]) -> Actor:
    role, subject, warehouses = claims.get("role"), claims.get("sub"), claims.get("warehouses", [])
    if not isinstance(role, str) or role not in {r.value for r in Role}:
        raise AuthenticationFailed(f"unknown role {role!r}")
    if not _printable(subject, MAX_SUBJECT_LENGTH):
        raise AuthenticationFailed("the token's sub must be 1 to 64 printable characters")
    if not isinstance(warehouses, list) or not all(
        _printable(w, MAX_WAREHOUSE_CODE_LENGTH) for w in warehouses
    ):
        raise AuthenticationFailed("the token's warehouses must be a list of codes")
    return Actor(role=Role(str(role)), subject=subject, warehouses=frozenset(warehouses))


def _printable(value: object, max_length: int) -> TypeGuard[str]:
    """A string of 1 to `max_length` printable characters: what customer numbers and
    warehouse codes are (a NUL or an over-long code would reach the database otherwise)."""
    return isinstance(value, str) and 0 < len(value) <= max_length and value.isprintable()


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer ...` header, if any."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("the Authorization header must be `Bearer <token>`")
    return token.strip()


def mint_token(
    secret: str,
    *,
    role: Role,
    subject: str,
    warehouses: Iterable[str] = (),
    ttl_seconds: int = 7 * 24 * 3600,
) -> str:
    """A development HS256 token for the given role (the `token` command)."""
    now = int(time.time())
    claims = {
        "sub": subject,
        "role": role.value,
        "warehouses": sorted(warehouses),
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, secret, algorithm="HS256")
