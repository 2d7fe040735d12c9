"""Real `pointsmall` processes for fault tests and the soak: the API and the worker.

Unlike `tests.support.server.api_process`, these hand back the process itself, so a test
can signal it (SIGTERM, SIGKILL), read its exit status and sample its memory.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.support.server import ROOT, free_port, wait_ready


def pointsmall() -> list[str]:
    """The `pointsmall` command of this environment."""
    script = Path(sys.executable).with_name("pointsmall")
    return [str(script)] if script.exists() else [sys.executable, "-m", "api.cli"]


def environment(database_url: str, env: dict[str, str] | None = None) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "APP_ENV": "development",
        "LOG_LEVEL": "WARNING",
        **(env or {}),
    }


@dataclass
class ApiProcess:
    url: str
    process: asyncio.subprocess.Process
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_kib(self) -> int:
        """Resident memory of the process now (VmRSS, KiB)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError(f"no VmRSS for process {self.pid}")


async def start_api(database_url: str, log: Path, env: dict[str, str] | None = None) -> ApiProcess:
    """`pointsmall serve` on a free loopback port, once /readyz answers 200."""
    port = free_port()
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            *pointsmall(),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            cwd=ROOT,
            env=environment(database_url, env),
            stdout=out,
            stderr=out,
        )
    api = ApiProcess(f"http://127.0.0.1:{port}", process, log)
    try:
        await wait_ready(api.url, api.process, api.log, seconds=30)
    except BaseException:
        await stop(process)
        raise
    return api


async def start_worker(
    database_url: str, log: Path, env: dict[str, str] | None = None
) -> asyncio.subprocess.Process:
    """`pointsmall worker`: a sweeper pass every SWEEP_INTERVAL_SECONDS."""
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            *pointsmall(),
            "worker",
            cwd=ROOT,
            env=environment(database_url, env),
            stdout=out,
            stderr=out,
        )


async def worker_once(database_url: str, *args: str) -> str:
    """`pointsmall worker --once [args]`; its output, after checking it exited 0."""
    process = await asyncio.create_subprocess_exec(
        *pointsmall(),
        "worker",
        "--once",
        *args,
        cwd=ROOT,
        env=environment(database_url),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, out.decode()
    return out.decode()


async def stop(process: asyncio.subprocess.Process, timeout: float = 30) -> int:
    """SIGTERM, then SIGKILL if it does not exit in time; the exit status."""
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode


async def kill(process: asyncio.subprocess.Process) -> None:
    """SIGKILL: no handler runs, nothing is cleaned up, as when a machine dies."""
    process.kill()
    await process.wait()
