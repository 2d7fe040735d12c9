"""A delivery loop's pauses between rounds: a nudge ends the pause, and a nudged round that
found nothing looks once more soon (its message may have been locked for an instant by the
other channel's claim of the same row) before resting for `idle` again."""

from __future__ import annotations

import asyncio

from models.notifications.delivery import Recorded
from models.notifications.scheduled import Rests


async def _run(rests: Rests, outcomes: list[Recorded], *, nudge_after: float, wait: float) -> int:
    """Run rounds that return `outcomes` in turn (then nothing); nudge once; count rounds."""
    rounds = 0

    async def round_() -> Recorded:
        nonlocal rounds
        rounds += 1
        return outcomes.pop(0) if outcomes else Recorded()

    stop = asyncio.Event()
    task = asyncio.create_task(rests.rounds(stop, round_))
    await asyncio.sleep(nudge_after)
    rests.nudge()
    await asyncio.sleep(wait)
    stop.set()
    await asyncio.wait_for(task, 5)
    return rounds


async def test_without_a_nudge_a_loop_rests_for_idle() -> None:
    assert await _run(Rests(3600.0), [], nudge_after=0.3, wait=0.0) == 1


async def test_a_nudged_round_that_found_nothing_looks_once_more_then_rests() -> None:
    # The first round, the nudged one, the recheck after it; then an hour's rest.
    assert await _run(Rests(3600.0), [], nudge_after=0.1, wait=0.5) == 3


async def test_the_recheck_finds_the_message_the_nudged_round_missed() -> None:
    sent = Recorded(accepted=1)
    # First round and the nudged one find nothing, the recheck sends, the round after it
    # finds nothing and (not nudged) the loop rests.
    rounds = await _run(Rests(3600.0), [Recorded(), Recorded(), sent], nudge_after=0.1, wait=0.5)
    assert rounds == 4


async def test_a_short_idle_is_not_lengthened_by_the_recheck() -> None:
    rests = Rests(0.01)
    assert await _run(rests, [], nudge_after=0.2, wait=0.0) > 5
