"""A partner's code file read line by line, and the seal of the codes at rest."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet

from models.vouchers import rules
from models.vouchers.pools import file_lines
from models.vouchers.seal import SealBroken, VoucherSeal

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def read(data: bytes) -> list[rules.CodeRow | rules.Refusal]:
    lines = file_lines(io.BytesIO(data))
    return list(rules.read_lines(lines, now=NOW, timezone="Asia/Shanghai"))


def refusals(data: bytes) -> dict[int, str]:
    return {r.line: r.reason for r in read(data) if isinstance(r, rules.Refusal)}


def codes(data: bytes) -> dict[int, str]:
    return {r.line: r.code for r in read(data) if isinstance(r, rules.CodeRow)}


def test_a_file_with_its_header_and_bom_gives_one_code_a_line() -> None:
    data = (
        b"\xef\xbb\xbfcode,expires_at\r\nLK-0001,2027-06-30\r\n"
        b"\r\nLK-0002,2027-06-30T12:00:00+08:00\n"
    )
    assert codes(data) == {2: "LK-0001", 4: "LK-0002"}
    [first, second] = [r for r in read(data) if isinstance(r, rules.CodeRow)]
    assert first.expires_at == datetime(2027, 6, 30, 16, 0, tzinfo=UTC)  # end of day, +08:00
    assert second.expires_at == datetime(2027, 6, 30, 4, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "line",
    [
        b'"=HYPERLINK(""http://evil.example"",""x"")",2027-01-01',
        b"+SUM(A1:A9),2027-01-01",
        b"@cmd,2027-01-01",
        b"-1234,2027-01-01",
        b"AB,2027-01-01",
        b"has space,2027-01-01",
        b"\xe5\x92\x96\xe5\x95\xa1\xe5\x88\xb8,2027-01-01",
    ],
)
def test_a_cell_that_is_not_a_code_is_refused_whatever_it_would_do_in_a_sheet(
    line: bytes,
) -> None:
    data = b"GOOD-0001,2027-01-01\n" + line + b"\nGOOD-0002,2027-01-01\n"
    assert codes(data) == {1: "GOOD-0001", 3: "GOOD-0002"}
    assert list(refusals(data)) == [2]
    assert "letters, digits" in refusals(data)[2]


def test_hostile_lines_are_refused_by_number_and_the_rest_still_read() -> None:
    data = b"".join(
        [
            b"OK-0001,2027-01-01\n",
            b"NUL-\x00-0001,2027-01-01\n",
            b"X" * 1_048_576 + b",2027-01-01\n",
            b"OK-0002,2027-01-01\n",
            "GBK-码,2027-01-01\n".encode("gbk"),
            b"OK-0003,2025-01-01\n",
            b"OK-0004,tomorrow\n",
            b"OK-0005,2027-01-01T00:00:00\n",
            b"OK-0006\n",
            b"OK-0007,2027-01-01",
        ]
    )
    assert codes(data) == {1: "OK-0001", 4: "OK-0002", 10: "OK-0007"}
    assert refusals(data) == {
        2: "the line holds a NUL byte",
        3: "the line is longer than 1024 bytes",
        5: "the line is not UTF-8",
        6: "the code has expired",
        7: "expires_at is not an ISO date or date and time",
        8: "expires_at names no offset (e.g. 2027-06-30T23:59:59+08:00)",
        9: "a line is code,expires_at",
    }


def test_a_long_line_is_never_read_whole() -> None:
    stream = io.BytesIO(b"Y" * 5_000_000 + b"\nOK-0001,2027-01-01\n")
    lines = list(file_lines(stream))
    assert [len(line) for line in lines] == [rules.MAX_LINE_BYTES + 1, 19]


def test_sealed_codes_open_only_with_the_keys_and_rotation_keeps_them_open() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    before = VoucherSeal([old], "digest-key-" + "x" * 32)
    sealed = before.seal("LK-0001")
    assert "LK-0001" not in sealed
    after = VoucherSeal([new, old], "digest-key-" + "x" * 32)
    assert after.open(sealed) == "LK-0001"
    resealed = after.reseal(sealed)
    assert VoucherSeal([new], "k" * 32).open(resealed) == "LK-0001"
    with pytest.raises(SealBroken):
        VoucherSeal([new], "k" * 32).open(sealed)
    assert before.digest("LK-0001") == after.digest("LK-0001")  # rotation keeps digests
    assert before.digest("LK-0001") != VoucherSeal([old], "another" * 8).digest("LK-0001")
    assert before.digest("LK-0001") != before.digest("LK-0002")
