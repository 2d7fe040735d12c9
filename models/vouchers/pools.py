"""Filling a gift's pool: codes checked, sealed and added once each, duplicates told apart.

This module owns `voucher_code`'s inserts. A code already in any pool (the digest's unique
index, the same on both databases) is a duplicate, reported by line and never added
twice, so a partner's file may be imported again safely.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO

from models import sql
from models.catalog.models import Gift, GiftKind
from models.errors import InvalidInput, NotFound
from models.events import CATALOG, announce
from models.validation import fits
from models.vouchers import rules
from models.vouchers.seal import VoucherSeal

MAX_BATCH = 1_000  # codes one statement adds
MAX_CODES_PER_CALL = 1_000  # codes the back office's mutation takes at once


@dataclass
class PoolImport:
    """What an import did: codes added, and each line refused or found a duplicate."""

    added: int = 0
    duplicates: list[rules.Refusal] = field(default_factory=list)
    refused: list[rules.Refusal] = field(default_factory=list)


async def voucher_gift(*, sku: str) -> Gift:
    """The E_VOUCHER gift with that SKU; raises NotFound or InvalidInput (another kind)."""
    sku = sku.strip()
    gift = await Gift.get_or_none(sku=sku) if fits(Gift, "sku", sku) else None
    if gift is None:
        raise NotFound(f"no gift {sku!r}", field="sku")
    if gift.kind is not GiftKind.E_VOUCHER:
        raise InvalidInput("only an E_VOUCHER gift has a pool of codes", field="sku")
    return gift


async def import_codes(
    *,
    sku: str,
    read: Iterable[rules.CodeRow | rules.Refusal],
    seal: VoucherSeal,
    now: datetime,
) -> PoolImport:
    """Add the codes `read` gives to the pool of gift `sku`, once each, in batches.

    Raises NotFound or InvalidInput (not an E_VOUCHER gift)."""
    gift = await voucher_gift(sku=sku)
    report = PoolImport()
    seen: set[str] = set()
    batch: list[tuple[rules.CodeRow, str]] = []
    for item in read:
        if isinstance(item, rules.Refusal):
            report.refused.append(item)
            continue
        digest = seal.digest(item.code)
        if digest in seen:
            report.duplicates.append(rules.Refusal(item.line, "the code is in the file twice"))
            continue
        seen.add(digest)
        batch.append((item, digest))
        if len(batch) == MAX_BATCH:
            await _add(gift, batch, seal, now, report)
            batch = []
    await _add(gift, batch, seal, now, report)
    if report.added:
        await announce(CATALOG, gift.sku)
    report.duplicates.sort(key=lambda r: r.line)
    return report


async def add_codes(
    *,
    sku: str,
    entries: Sequence[tuple[str, datetime]],
    seal: VoucherSeal,
    now: datetime,
) -> PoolImport:
    """Add a small batch of (code, expiry) to the pool of gift `sku`, numbered from 1.

    Raises NotFound or InvalidInput (not an E_VOUCHER gift, too many codes)."""
    if not 1 <= len(entries) <= MAX_CODES_PER_CALL:
        raise InvalidInput(f"send 1 to {MAX_CODES_PER_CALL} codes at once", field="codes")
    read = (
        rules.check_entry(line, code, expires_at, now=now)
        for line, (code, expires_at) in enumerate(entries, start=1)
    )
    return await import_codes(sku=sku, read=read, seal=seal, now=now)


INSERT = "INSERT INTO voucher_code (gift_id, sealed, digest, expires_at, imported_at)"


async def _add(
    gift: Gift,
    batch: Sequence[tuple[rules.CodeRow, str]],
    seal: VoucherSeal,
    now: datetime,
    report: PoolImport,
) -> None:
    if not batch:
        return
    rows = [(gift.id, seal.seal(row.code), digest, row.expires_at, now) for row, digest in batch]
    written = await sql.insert(
        INSERT, rows, conflict="ON CONFLICT (digest) DO NOTHING", returning="digest"
    )
    added = {str(r["digest"]) for r in written}
    report.added += len(added)
    for row, digest in batch:
        if digest not in added:
            report.duplicates.append(rules.Refusal(row.line, "the code is already in a pool"))


def file_lines(stream: BinaryIO, *, limit: int = rules.MAX_LINE_BYTES) -> Iterator[bytes]:
    """A binary file's lines, each read at most `limit + 1` bytes at a time: a line past
    the limit comes cut (enough to be refused) and its rest is skipped, so a hostile
    megabyte line is never held whole."""
    while raw := stream.readline(limit + 1):
        if len(raw) > limit and not raw.endswith(b"\n"):
            while (rest := stream.readline(limit + 1)) and not rest.endswith(b"\n"):
                pass
        yield raw
