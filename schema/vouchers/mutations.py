"""The back office adds codes to an e-voucher's pool (a partner's file goes through
`pointsmall import-codes`)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from models.vouchers import pools
from models.vouchers.rules import Refusal
from schema.caller_dependence import DEPENDS_ON_CALLER
from schema.context import Info
from schema.errors import UserError, attempt
from schema.permissions import IsAdmin
from schema.ratelimit import WithinRateLimit


@strawberry.input
class VoucherCodeInput:
    code: str
    expires_at: datetime = strawberry.field(description="With its offset; already past: refused.")


@strawberry.input
class ImportVoucherCodesInput:
    sku: str = strawberry.field(description="An E_VOUCHER gift's SKU.")
    codes: list[VoucherCodeInput] = strawberry.field(description="1 to 1,000 codes.")


@strawberry.type
class CodeProblem:
    line: int = strawberry.field(description="The code's place in `codes`, from 1.")
    reason: str

    @classmethod
    def of(cls, refusal: Refusal) -> CodeProblem:
        return cls(line=refusal.line, reason=refusal.reason)


@strawberry.type
class ImportVoucherCodesPayload:
    added: int
    duplicates: list[CodeProblem] = strawberry.field(
        description="Codes already in a pool, or twice in this batch: added once, never twice."
    )
    refused: list[CodeProblem] = strawberry.field(
        description="Codes that are not codes, or expired: nothing added for them."
    )
    errors: list[UserError]


@strawberry.type
class VoucherMutations:
    @strawberry.mutation(
        permission_classes=[IsAdmin, WithinRateLimit], directives=[DEPENDS_ON_CALLER]
    )
    async def import_voucher_codes(
        self, info: Info, input: ImportVoucherCodesInput
    ) -> ImportVoucherCodesPayload:
        services = info.context.services
        assert services.voucher_seal is not None, "the app builds its services with a seal"
        outcome = await attempt(
            pools.add_codes(
                sku=input.sku,
                entries=[(c.code, c.expires_at) for c in input.codes],
                seal=services.voucher_seal,
                now=info.context.now(),
            )
        )
        report = outcome.value or pools.PoolImport()
        return ImportVoucherCodesPayload(
            added=report.added,
            duplicates=[CodeProblem.of(r) for r in report.duplicates],
            refused=[CodeProblem.of(r) for r in report.refused],
            errors=outcome.errors,
        )
