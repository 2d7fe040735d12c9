"""The server's collector settings (`api.app.settle_collector`)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from api.app import GC_YOUNG_THRESHOLD, settle_collector


@pytest.fixture
def restored_collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restored_collector")
def test_what_is_loaded_at_start_is_frozen_and_young_collections_are_rarer() -> None:
    _, middle, old = gc.get_threshold()
    settle_collector()
    assert gc.get_freeze_count() > 10_000  # the modules, the schema, the models
    assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, middle, old)


@pytest.mark.usefixtures("restored_collector")
def test_cyclic_garbage_is_still_collected() -> None:
    settle_collector()

    class Node:
        def __init__(self) -> None:
            self.me = self

    gc.collect()
    for _ in range(GC_YOUNG_THRESHOLD * 4):
        Node()
    # Without the collector running by itself, all 200,000 cycles would still be around;
    # it ran every 50,000 allocations, so at most one threshold's worth is left.
    left = gc.collect()
    assert left < 2 * GC_YOUNG_THRESHOLD, f"{left} cycles were never collected"
