"""Fixtures for fault tests: a private PostgreSQL cluster that may be stopped and started."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.support.pgcluster import PrivateCluster, private_cluster, unavailable_reason


@pytest_asyncio.fixture
async def cluster() -> AsyncIterator[PrivateCluster]:
    """A PostgreSQL cluster of this test's own (never the shared server), removed afterwards.

    Without the server binaries the test is skipped, except in CI (`CI=true`), where a
    PostgreSQL fault test that does not run is a failure, as the Makefile treats PostgreSQL.
    """
    reason = unavailable_reason()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"a private PostgreSQL cluster is required in CI: {reason}")
        pytest.skip(reason)
    async with private_cluster() as started:
        yield started
