"""Pure rules of a code file: what a code is, and each line read into a code or a refusal.

A partner's file is UTF-8 CSV, one code a line: `code,expires_at`, with an optional header
line of those names. A code is 4 to 64 letters, digits, `-` and `_`, starting with a letter
or a digit, so no cell can read as a spreadsheet formula (`=HYPERLINK(...)`, `+1`, `@x`).
`expires_at` is an ISO date (the end of that day in the programme's zone) or a date and time
with its offset. A line is read alone: a line too long, not UTF-8, holding a NUL byte, or
with a bad code or time is refused by its number and the others still count.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_LINE_BYTES = 1_024  # a code and a time fit many times over
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{3,63}")
HEADER = ("code", "expires_at")


@dataclass(frozen=True)
class CodeRow:
    line: int
    code: str
    expires_at: datetime


@dataclass(frozen=True)
class Refusal:
    line: int
    reason: str


def check_code(raw: str) -> str:
    """The code, or ValueError saying why it is not one."""
    code = raw.strip()
    if not CODE.fullmatch(code):
        raise ValueError(
            "a code is 4 to 64 letters, digits, '-' and '_', starting with a letter or digit"
        )
    return code


def check_expiry(raw: str, *, now: datetime, timezone: str) -> datetime:
    """When the code expires (aware), or ValueError saying why not (unreadable, past)."""
    text = raw.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            expires = datetime.combine(day + timedelta(days=1), time(), ZoneInfo(timezone))
        else:
            expires = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("expires_at is not an ISO date or date and time") from None
    if expires.tzinfo is None:
        raise ValueError("expires_at names no offset (e.g. 2027-06-30T23:59:59+08:00)")
    if expires <= now:
        raise ValueError("the code has expired")
    return expires


def check_entry(line: int, code: str, expires_at: datetime, *, now: datetime) -> CodeRow | Refusal:
    """A code the back office typed, with its expiry as a time already."""
    try:
        code = check_code(code)
    except ValueError as exc:
        return Refusal(line, str(exc))
    if expires_at.tzinfo is None:
        return Refusal(line, "expiresAt names no offset")
    if expires_at <= now:
        return Refusal(line, "the code has expired")
    return CodeRow(line, code, expires_at)


def check_row(
    line: int, code: str, expires_at: str, *, now: datetime, timezone: str
) -> CodeRow | Refusal:
    try:
        return CodeRow(line, check_code(code), check_expiry(expires_at, now=now, timezone=timezone))
    except ValueError as exc:
        return Refusal(line, str(exc))


def read_lines(
    lines: Iterable[bytes], *, now: datetime, timezone: str
) -> Iterator[CodeRow | Refusal]:
    """Each line of a file (as bytes, newline included or not) as a code or a refusal;
    blank lines and a first line that is the header are skipped."""
    for number, raw in enumerate(lines, start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if len(raw) > MAX_LINE_BYTES:
            yield Refusal(number, f"the line is longer than {MAX_LINE_BYTES} bytes")
            continue
        if b"\x00" in raw:
            yield Refusal(number, "the line holds a NUL byte")
            continue
        try:
            text = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            yield Refusal(number, "the line is not UTF-8")
            continue
        if not text.strip():
            continue
        cells = next(csv.reader([text]))
        if number == 1 and tuple(c.strip().lower() for c in cells) == HEADER:
            continue
        if len(cells) != 2:
            yield Refusal(number, "a line is code,expires_at")
            continue
        yield check_row(number, cells[0], cells[1], now=now, timezone=timezone)
