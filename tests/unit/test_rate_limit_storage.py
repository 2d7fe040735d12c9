"""The write limit's in-process storage: counts like `limits`' own, sweeps once a second."""

from __future__ import annotations

import asyncio

import pytest
from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from models.actors import Actor, Role
from schema.limits_internals import SweepingMemoryStorage
from schema.ratelimit import WriteLimit


def counting_sweeps(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the sweeps `limits` runs (its private `__expire_events`)."""
    sweeps: list[int] = []
    sweep = MemoryStorage._MemoryStorage__expire_events  # type: ignore[attr-defined]

    async def counted(self: MemoryStorage) -> None:
        sweeps.append(len(self.expirations))
        await sweep(self)

    monkeypatch.setattr(MemoryStorage, "_MemoryStorage__expire_events", counted)
    return sweeps


async def hit_many(storage: MemoryStorage, keys: int) -> None:
    limiter = SlidingWindowCounterRateLimiter(storage)
    for n in range(keys):
        assert await limiter.hit(RateLimitItemPerSecond(5), "member", f"m{n}")
        await asyncio.sleep(0)  # let a scheduled sweep run, as a server's other requests do


async def test_limits_own_storage_sweeps_on_nearly_every_write(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the subclass is for: if `limits` stops sweeping per write, drop the subclass."""
    sweeps = counting_sweeps(monkeypatch)
    await hit_many(MemoryStorage(), 200)
    assert len(sweeps) > 100


async def test_the_write_limit_sweeps_at_most_once_a_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sweeps = counting_sweeps(monkeypatch)
    await hit_many(SweepingMemoryStorage(), 200)
    assert len(sweeps) == 1, "fails if a `limits` release renames __schedule_expiry"


async def test_expired_counters_are_still_swept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SweepingMemoryStorage, "SWEEP_EVERY", 0.2)
    storage = SweepingMemoryStorage()
    await hit_many(storage, 50)
    assert len(storage.expirations) >= 50
    await asyncio.sleep(2.2)  # the counters of a one-second window are gone after two
    await hit_many(storage, 1)
    await asyncio.sleep(0.05)
    assert len(storage.expirations) <= 2, "only the last write's counters are left"


async def test_the_limit_still_refuses_past_the_rate() -> None:
    limit = WriteLimit.per_minute(3)
    assert isinstance(limit.limiter.storage, SweepingMemoryStorage)
    member = Actor(subject="M1", role=Role.MEMBER)
    assert [await limit.allow(member) for _ in range(5)] == [True, True, True, False, False]
