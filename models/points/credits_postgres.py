"""The ledger's credit rules in set-based SQL, for a batch staged on PostgreSQL.

The import stages a batch of EARN credits in a temporary table, `s` in the statements here,
with the columns `member_external_id`, `amount` and `external_ref`.
"""

from __future__ import annotations

from models.points.models import EntryKind
from models.points.rules import RefReuse

# `rules.reuse_of` for a staged credit whose ref the ledger already holds: the same member,
# delta and kind again replays the earlier entry, anything else conflicts (NULL: the ref is
# new). One index probe on the unique ref, whatever the size of the ledger.
REF_REUSE = f"""(
    SELECT CASE
        WHEN m.external_id = s.member_external_id AND e.delta = s.amount
             AND e.kind = '{EntryKind.EARN.value}'
        THEN '{RefReuse.REPLAYED.value}' ELSE '{RefReuse.CONFLICT.value}' END
    FROM points_entry AS e JOIN member AS m ON m.id = e.member_id
    WHERE e.external_ref = s.external_ref
)"""  # noqa: S608 (built from the enums' values, never from input)
