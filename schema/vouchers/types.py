"""An e-voucher line's code as its owner sees it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import strawberry

from models.actors import Role
from models.vouchers import assignment
from schema.context import Info
from schema.permissions import require_role


@strawberry.type(name="Voucher", description="An e-voucher's code: shown to its owner only.")
class VoucherType:
    code: str
    expires_at: datetime
    partner: str
    instructions: str = strawberry.field(description="How the partner takes the code.")

    @classmethod
    def of(cls, found: assignment.CodeOfLine) -> VoucherType:
        return cls(
            code=found.code,
            expires_at=found.expires_at,
            partner=found.partner,
            instructions=found.instructions,
        )


async def voucher_of_line(info: Info, line_id: int) -> VoucherType | None:
    """The code of an order line, for the member whose order it is (each showing logged);
    None for a line without one. FORBIDDEN for every other role: staff and agents see the
    order, never its code."""
    actor = require_role(info, Role.MEMBER)
    services = info.context.services
    seal = services.voucher_seal
    assert seal is not None, "the app builds its services with a seal"

    async def shown(line_ids: Sequence[int]) -> list[assignment.CodeOfLine | None]:
        found = await assignment.reveal(
            line_ids=line_ids, member_external_id=actor.subject, seal=seal, now=services.clock()
        )
        return [found.get(line_id) for line_id in line_ids]

    found = await info.context.loaders.named("vouchers-shown", shown).load(line_id)
    return None if found is None else VoucherType.of(found)
