"""A real API process (uvicorn) on a free port, for end-to-end tests over HTTP and websockets."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def api_process(
    database_url: str, log_path: Path, env: dict[str, str] | None = None
) -> AsyncIterator[str]:
    """Start `uvicorn api.asgi:app` on the database; yield its base URL; stop it after."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "APP_ENV": "development",
        "LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    command = [sys.executable, "-m", "uvicorn", "api.asgi:app", "--host", "127.0.0.1"]
    with log_path.open("ab") as log:
        process = await asyncio.create_subprocess_exec(
            *command, "--port", str(port), cwd=ROOT, env=environment, stdout=log, stderr=log
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(base_url, process, log_path)
        yield base_url
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                process.kill()
                await process.wait()


async def wait_ready(
    base_url: str, process: asyncio.subprocess.Process, log: Path, seconds: float = 20
) -> None:
    """Until `/readyz` answers 200; raises with the log's tail if the process exits first."""
    async with httpx.AsyncClient(base_url=base_url) as client:
        for _ in range(int(seconds / 0.1)):
            if process.returncode is not None:
                raise RuntimeError(f"API process exited early:\n{log.read_text()[-3000:]}")
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"API process did not become ready:\n{log.read_text()[-3000:]}")
