"""A per-caller limit on write mutations, so one member cannot flood redeem and friends."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string
from strawberry.permission import BasePermission

from models.actors import Actor, Role
from models.errors import RateLimited
from schema.context import Info
from schema.limits_internals import SweepingMemoryStorage

log = logging.getLogger("pointsmall.ratelimit")


@dataclass(frozen=True)
class WriteLimit:
    """Writes per minute for each member; staff and admins get ten times as many.

        A sliding window counter (two counters a key, the previous minute's weighted by how much
        of it still falls in the window) rather than a moving window: `limits`' in-memory
        moving window keeps a list of timestamps a key and sweeps every key through a thread
        hop on each expiry pass, a visible share of a redemption's CPU with many members writing
    (benchmarks/PROFILES.md).
    """

    limiter: SlidingWindowCounterRateLimiter
    member_rate: RateLimitItem
    staff_rate: RateLimitItem

    @classmethod
    def per_minute(cls, writes: int, storage_uri: str = "memory://") -> WriteLimit:
        storage = (
            SweepingMemoryStorage(wrap_exceptions=True)
            if storage_uri == "memory://"
            else storage_from_string(f"async+{storage_uri}", wrap_exceptions=True)
        )
        return cls(
            SlidingWindowCounterRateLimiter(storage),
            RateLimitItemPerMinute(writes),
            RateLimitItemPerMinute(writes * 10),
        )

    async def close(self) -> None:
        """Close the storage's connections, if it keeps any (Redis); memory keeps none.

        `limits` has no close of its own: its Redis bridge holds the client as `storage`."""
        client = getattr(getattr(self.limiter.storage, "bridge", None), "storage", None)
        pool = getattr(client, "connection_pool", None)
        if pool is not None:
            pool.disconnect()

    async def allow(self, actor: Actor) -> bool:
        """Count the write; False once over the limit. If the count cannot be kept (Redis
        is unreachable) the write goes ahead: the limit guards against floods, and a
        member's redemption must not fail because a counter is away."""
        rate = self.member_rate if actor.role is Role.MEMBER else self.staff_rate
        try:
            return await self.limiter.hit(rate, actor.role.value, actor.subject)
        except StorageError as exc:
            log.warning("write limit not counted, the write goes ahead: %s", exc.storage_error)
            return True


class WithinRateLimit(BasePermission):
    """Refuses a write with RATE_LIMITED once the caller spent their writes for the minute."""

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        limit, actor = info.context.services.write_limit, info.context.actor
        if limit is not None and actor is not None and not await limit.allow(actor):
            raise RateLimited("too many changes in a short time; try again in a minute")
        return True
