"""A private PostgreSQL cluster for tests that stop and start the database.

The shared server on 127.0.0.1:5432 serves other people's tests and benchmarks, so a test
that takes the database away runs its own: `initdb` into a temporary directory, `pg_ctl`
on a free port with the socket in that directory, trust authentication on 127.0.0.1. The
server refuses to run as root, so when the tests are root the binaries run as the
`postgres` OS user (`runuser`), and the directory belongs to that user.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from tests.support.server import free_port

SERVER_USER = "postgres"


def binaries() -> Path | None:
    """The newest installed PostgreSQL server's bin directory (None when not installed)."""
    found = sorted(
        (Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin") if Path(p, "pg_ctl").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1]
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


def unavailable_reason() -> str | None:
    """Why a private cluster cannot run here, or None when it can."""
    if binaries() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) are not installed"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return f"running as root and there is no {SERVER_USER!r} user to run PostgreSQL"
        if shutil.which("runuser") is None:
            return "running as root and runuser is missing"
    return None


class PrivateCluster:
    """One throwaway PostgreSQL cluster: `start`, `stop`, `start` again, `remove`."""

    def __init__(self) -> None:
        bin_dir = binaries()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL server binaries are not installed")
        self.bin = bin_dir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="pointsmall-pgcluster-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._as_server = os.geteuid() == 0
        if self._as_server:
            entry = pwd.getpwnam(SERVER_USER)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)

    def url(self, database: str = "postgres") -> str:
        """A Tortoise URL for a database of this cluster."""
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    async def _run(self, *command: str, timeout: float = 60) -> None:
        argv = [str(self.bin / command[0]), *command[1:]]
        if self._as_server:
            argv = ["runuser", "-u", SERVER_USER, "--", *argv]
        process = await asyncio.create_subprocess_exec(
            *argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=self.root
        )
        out, _ = await asyncio.wait_for(process.communicate(), timeout)
        if process.returncode != 0:
            raise RuntimeError(
                f"{command[0]} failed ({process.returncode}):\n{out.decode()}\n"
                + (self.log.read_text()[-3000:] if self.log.exists() else "")
            )

    async def init(self) -> None:
        await self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            # fsync off: a crash here is a killed server process, never a lost page cache,
            # so committed work survives it; synchronous_commit stays on, or an `immediate`
            # stop would lose commits the clients were told had happened.
            conf.write("\nlisten_addresses = '127.0.0.1'\nfsync = off\nmax_connections = 100\n")

    async def start(self) -> None:
        options = f"-p {self.port} -k {self.root}"
        await self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"
        )

    async def stop(self, mode: str = "fast") -> None:
        """Stop the server (`fast` ends sessions; `immediate` is a crash)."""
        await self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    async def remove(self) -> None:
        if self.running():
            with contextlib.suppress(RuntimeError, TimeoutError):
                await self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    async def create_database(self, name: str) -> str:
        """Create a database and return its Tortoise URL."""
        connection = await asyncpg.connect(self.dsn(), timeout=10)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        return self.url(name)


@asynccontextmanager
async def private_cluster() -> AsyncIterator[PrivateCluster]:
    """A started private cluster, stopped and deleted afterwards."""
    cluster = PrivateCluster()
    try:
        await cluster.init()
        await cluster.start()
        yield cluster
    finally:
        await cluster.remove()
