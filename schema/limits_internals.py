"""An optimisation that reaches into `limits`' internals, kept in this one place.

`limits`' in-process storage sweeps its expired counters through a private method; the
storage here overrides that method so the sweep runs at most once a second.
`tests/unit/test_rate_limit_storage.py` fails if a release of `limits` renames it.
"""

from __future__ import annotations

import time

from limits.aio.storage import MemoryStorage


class SweepingMemoryStorage(MemoryStorage):
    """`limits`' in-process storage, sweeping expired counters at most once a second.

    Its own sweep walks every key and every write schedules the next one as soon as the
    last has ended, so under a campaign's load it never stops, at a visible share of a
    redemption's CPU (benchmarks/PROFILES.md). A counter read after its expiry is reset on
    that read anyway (`MemoryStorage.get`); the sweep only hands back the memory of keys no
    longer used, which once a second does as well. The hook is `limits`' private
    `__schedule_expiry`.
    """

    SWEEP_EVERY = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self._last_sweep = -self.SWEEP_EVERY

    async def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now - self._last_sweep >= self.SWEEP_EVERY:
            self._last_sweep = now
            await super()._MemoryStorage__schedule_expiry()  # type: ignore[misc]
