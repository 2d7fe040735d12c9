"""Sealing codes at rest: encrypted with the voucher keys, found again by a keyed digest.

The keys are Fernet keys (`cryptography`'s MultiFernet): the first seals, every one opens,
so a new key is put first and the old ones kept until every code is sealed again
(`reseal`). The digest is an HMAC-SHA256 of the code under a key of its own, which never
rotates: a duplicate is found by the digest's unique index without opening any code.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SealBroken(Exception):
    """A sealed code that none of the keys opens (a key dropped too early, or tampering)."""


class VoucherSeal:
    """Seals and opens codes; one per process, built from the settings."""

    def __init__(self, keys: Sequence[str], digest_key: str) -> None:
        if not keys:
            raise ValueError("at least one voucher key is needed")
        self._fernet = MultiFernet([Fernet(key) for key in keys])
        self._digest_key = digest_key.encode()

    def seal(self, code: str) -> str:
        return self._fernet.encrypt(code.encode()).decode()

    def open(self, sealed: str) -> str:
        """The code; raises SealBroken when no key opens it."""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise SealBroken("no voucher key opens this code") from exc

    def reseal(self, sealed: str) -> str:
        """The code sealed with the first key; raises SealBroken when no key opens it."""
        try:
            return self._fernet.rotate(sealed.encode()).decode()
        except InvalidToken as exc:
            raise SealBroken("no voucher key opens this code") from exc

    def digest(self, code: str) -> str:
        return hmac.new(self._digest_key, code.encode(), hashlib.sha256).hexdigest()


def valid_key(key: str) -> bool:
    """Whether `key` is a Fernet key (32 url-safe base64 bytes)."""
    try:
        Fernet(key)
    except ValueError:
        return False
    return True
