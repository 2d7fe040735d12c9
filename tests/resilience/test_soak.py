"""Thirty seconds of mixed traffic inside `make test`; `make soak` runs ten minutes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fakes.stripe_server import StripeFake
from tests.resilience.soak import soak
from tests.support.databases import target

SECONDS = float(os.environ.get("SOAK_SECONDS", "30"))


@pytest.mark.timeout(SECONDS + 300)
async def test_mixed_traffic_breaks_no_invariant_fails_no_request_and_leaks_no_memory(
    db: str, stripe: StripeFake, tmp_path: Path
) -> None:
    report = await soak(
        database_url=db, seconds=SECONDS, workdir=tmp_path, stripe=stripe, database=target()
    )
    print(report.summary())
    assert report.problems == [], report.summary()
