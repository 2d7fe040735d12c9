"""The redemption gate: at most PLACING_AT_ONCE placements in their transaction per event loop."""

from __future__ import annotations

import asyncio

from models.orders import redemption


async def _most_at_once(tasks: int) -> int:
    inside = most = 0

    async def place() -> None:
        nonlocal inside, most
        async with redemption.placing_gate():
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.001)
            inside -= 1

    await asyncio.gather(*(place() for _ in range(tasks)))
    return most


def test_many_redemptions_pass_the_gate_a_few_at_a_time() -> None:
    assert asyncio.run(_most_at_once(5 * redemption.PLACING_AT_ONCE)) == redemption.PLACING_AT_ONCE


def test_each_event_loop_has_its_own_gate() -> None:
    # A semaphore that made a task wait belongs to that loop; a second loop (another test,
    # another server in the same process) must get a gate of its own, not a RuntimeError.
    for _ in range(2):
        assert (
            asyncio.run(_most_at_once(3 * redemption.PLACING_AT_ONCE)) == redemption.PLACING_AT_ONCE
        )
