"""The accrual file's rows are checked by the rules `award` checks, field by field."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from models.errors import DomainError
from models.points import rules
from models.points.accruals import Accrual, Rejection, read_accruals

NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
HEADER = ["member_external_id", "amount", "external_ref", "reason", "expires_at"]

# Values the fast checks of a bulk file could get wrong: control characters at both ends
# of the ASCII table (DEL is \x7f), the ones `strip` removes, tabs and newlines, lengths at
# and past the limits, letters outside ASCII.
TEXTS = [
    "monthly bill",
    "  padded  ",
    "",
    "tab\tinside",
    "line\nbreak",
    "bell\x07",
    "del\x7f",
    "\x7f",
    "unit\x1fseparator",
    "\x1c",
    "nul\x00",
    "é-accent",
    "账单",
    "x" * 64,
    "x" * 65,
    "x" * 128,
    "x" * 129,
    "x" * 200,
    "x" * 201,
    "C-1.a:b@c/d_e",
    "has space",
    "-leading-mark",
]


def row_outcome(row: list[str]) -> Accrual | tuple[str, str]:
    out = io.StringIO()
    csv.writer(out).writerows([HEADER, row])
    # Lines as a file opened with newline="" gives them (`splitlines` would also break at \x1c).
    [checked] = read_accruals(io.StringIO(out.getvalue(), newline=""), now=NOW)
    return (checked.code, checked.reason) if isinstance(checked, Rejection) else checked


def award_outcome(clean: Callable[[str], str], value: str) -> str | tuple[str, str]:
    try:
        return clean(value)
    except DomainError as exc:
        return (exc.code, exc.message)


@pytest.mark.parametrize("reason", TEXTS)
def test_a_reason_is_accepted_or_refused_as_award_would(reason: str) -> None:
    found = row_outcome(["C1", "10", "r-1", reason, ""])
    expected = award_outcome(rules.clean_reason, reason)
    assert (found.reason if isinstance(found, Accrual) else found) == expected


def test_a_reason_holding_del_is_rejected_with_awards_code() -> None:
    found = row_outcome(["C1", "10", "r-1", "bill\x7f", ""])
    assert found == ("INVALID_INPUT", "reason must not contain control characters")


@pytest.mark.parametrize("member", TEXTS)
def test_a_member_external_id_is_accepted_or_refused_as_award_would(member: str) -> None:
    found = row_outcome([member, "10", "r-1", "", ""])
    expected = award_outcome(rules.clean_member_external_id, member)
    assert (found.member_external_id if isinstance(found, Accrual) else found) == expected


@pytest.mark.parametrize("ref", TEXTS)
def test_an_external_ref_is_accepted_or_refused_as_award_would(ref: str) -> None:
    found = row_outcome(["C1", "10", ref, "", ""])
    expected = award_outcome(rules.clean_external_ref, ref)
    assert (found.external_ref if isinstance(found, Accrual) else found) == expected
