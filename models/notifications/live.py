"""A member's new messages as they arrive, for the inbox's live subscription.

The stream listens to this process's bus (`models.events.LOCAL`, which the listener feeds
from PostgreSQL) from before its first read, so nothing written between the check and the
first notice is missed. A notice on `NOTIFICATIONS` names only the member whose inbox
changed (a message written, or messages read); each one for this member, and `RESYNC`, is
answered by reading the member's newest messages and sending those not sent yet, oldest
first. Reading the newest ones, rather than those above the last id sent, also finds a
message whose transaction committed after a newer one's (two changes for one member at
once). A burst of more than `WINDOW` messages between two reads sends only the newest.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncGenerator

from models.events import LOCAL, NOTIFICATIONS, RESYNC, InProcessBus
from models.notifications import rules
from models.notifications.models import Notification

WINDOW = 100  # the newest messages each notice looks at


async def new_messages(
    *, member_id: int, bus: InProcessBus = LOCAL
) -> AsyncGenerator[Notification, None]:
    """Each message the member's inbox receives from now on, oldest first."""
    mine = str(member_id)
    with bus.listen(NOTIFICATIONS) as notices:
        seen = _Seen(await _newest_ids(member_id))
        async for payload in notices:
            if payload not in (mine, RESYNC):
                continue
            fresh = [i for i in await _newest_ids(member_id) if i not in seen]
            if not fresh:
                continue
            for message in await Notification.filter(id__in=fresh).order_by("id"):
                seen.add(message.id)
                yield message


async def _newest_ids(member_id: int) -> list[int]:
    query = Notification.filter(member_id=member_id).exclude(kind__in=list(rules.NOT_IN_INBOX))
    return [int(row["id"]) for row in await query.order_by("-id").limit(WINDOW).values("id")]


class _Seen:
    """The messages there were at the start or that were sent; the most recent are kept,
    more than a read ever looks at, so none is sent twice."""

    KEEP = 10 * WINDOW

    def __init__(self, ids: list[int]) -> None:
        self._recent: deque[int] = deque(maxlen=self.KEEP)
        self._ids: set[int] = set()
        for message_id in sorted(ids):
            self.add(message_id)

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._ids

    def add(self, message_id: int) -> None:
        if len(self._recent) == self.KEEP:
            self._ids.discard(self._recent[0])
        self._recent.append(message_id)
        self._ids.add(message_id)
