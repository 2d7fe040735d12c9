"""What a live stream of new rows has sent, so neither a resync nor a late notice sends a
row twice (the alerts of fulfilment and of after-sales stream alike)."""

from __future__ import annotations

from collections import deque


class SentIds:
    """The ids a live stream of new rows sent (alerts, say): a resync asks for those above
    `high` (the newest id sent, or the newest at the start); the recent ones are remembered
    so that neither a resync nor a late notice sends one twice. (A row whose transaction
    committed late with an id below `high`, while the listener was away, is not found by a
    resync.)"""

    KEEP = 1000

    def __init__(self, high: int) -> None:
        self.high = high
        self._recent: deque[int] = deque(maxlen=self.KEEP)
        self._ids: set[int] = set()

    def __contains__(self, row_id: object) -> bool:
        return row_id in self._ids

    def add(self, row_id: int) -> None:
        if len(self._recent) == self.KEEP:
            self._ids.discard(self._recent[0])
        self._recent.append(row_id)
        self._ids.add(row_id)
        self.high = max(self.high, row_id)
