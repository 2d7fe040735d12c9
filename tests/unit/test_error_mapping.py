"""Every domain error maps to a GraphQL error code, in one place."""

from __future__ import annotations

from models.errors import all_error_types
from schema.errors import ERROR_CODES, ErrorCode


def test_every_domain_error_has_a_code() -> None:
    unmapped = [cls.__name__ for cls in all_error_types() if cls not in ERROR_CODES]
    assert not unmapped, f"map these in schema/errors.py ERROR_CODES: {unmapped}"


def test_codes_match_the_domain_codes() -> None:
    for cls, code in ERROR_CODES.items():
        assert code.value == cls.code
    assert {c.value for c in ErrorCode} == {cls.code for cls in all_error_types()}
