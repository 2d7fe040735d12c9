"""Servers under test: one uvicorn worker pinned to core 0, and its memory read from /proc."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.sizes import SERVER

ROOT = Path(__file__).resolve().parent.parent
SERVER_CORE = "0"
SMS_CENTRE_CORE = "1"  # the edge's process: where the load generator runs for the other rows
POOL = "minsize=4&maxsize=20"
SERVICE_APP = "api.asgi:app"
FLOOR_APP = "benchmarks.floor:app"
CEILING_APP = "benchmarks.ceiling:app"
APPS = {"service": SERVICE_APP, "floor": FLOOR_APP, "ceiling": CEILING_APP}


def pinned(core: str) -> list[str]:
    """`taskset -c core` when taskset exists (it does on the benchmark machines)."""
    return ["taskset", "-c", core] if shutil.which("taskset") else []


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid


def _uvicorn(app: str, port: int) -> list[str]:
    return [
        *pinned(SERVER_CORE),
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(server: Server) -> None:
    for _ in range(300):
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited:\n{server.log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(server.url + "/readyz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server not ready:\n{server.log.read_text()[-3000:]}")


@contextmanager
def serving(
    kind: str, database_url: str, log_dir: Path, settings: dict[str, str] | None = None
) -> Iterator[Server]:
    """Run the service, the floor or the ceiling (`APPS`) on `database_url` until the block
    ends; `settings` are more of its environment (CATALOG_CACHE_SECONDS=0...)."""
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONDONTWRITEBYTECODE": "1",
        "APP_ENV": "development",
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": f"{database_url}?{POOL}",
        "FLOOR_DATABASE_URL": database_url,
        **(settings or {}),
    }
    app = APPS[kind]
    log = log_dir / f"{kind}-{port}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            _uvicorn(app, port), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_ready(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Process:
    process: subprocess.Popen[bytes]
    log: Path


@contextmanager
def _running(command: list[str], env: dict[str, str], log: Path) -> Iterator[Process]:
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield Process(process, log)
    finally:
        process.terminate()
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class SmsCentre:
    port: int
    log: Path

    def wait_bound(self, timeout: float = 120.0) -> None:
        """Until a worker has bound (it delivers from then on)."""
        deadline = time.monotonic() + timeout
        while "bound" not in self.log.read_text().splitlines():
            if time.monotonic() > deadline:
                raise RuntimeError("no worker bound to the SMS centre")
            time.sleep(0.1)


@contextmanager
def sms_centre(log_dir: Path, out: Path) -> Iterator[SmsCentre]:
    """The local SMS centre in its own process, pinned to core 1. When the block ends it is
    stopped and has written what it received to `out`."""
    port = _free_port()
    command = [*pinned(SMS_CENTRE_CORE), sys.executable, "-m", "benchmarks.sms_centre"]
    command += ["--port", str(port), "--out", str(out)]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    with _running(command, env, log_dir / f"sms-centre-{port}.log") as centre:
        for _ in range(300):
            if centre.process.poll() is not None:
                raise RuntimeError(f"SMS centre exited:\n{centre.log.read_text()[-3000:]}")
            if "SMS centre on" in centre.log.read_text():
                break
            time.sleep(0.1)
        yield SmsCentre(port, centre.log)


@dataclass
class ChargingSystem:
    url: str
    log: Path


@contextmanager
def charging_system(log_dir: Path, secret: str) -> Iterator[ChargingSystem]:
    """The tests' charging system (`tests.fakes.charging`) in its own process, pinned to
    core 1, with fresh counters, until the block ends."""
    port = _free_port()
    command = [*pinned(SMS_CENTRE_CORE), sys.executable, "-m", "tests.fakes.charging"]
    command += ["--port", str(port), "--secret", secret]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"}
    with _running(command, env, log_dir / f"charging-{port}.log") as system:
        for _ in range(300):
            if system.process.poll() is not None:
                raise RuntimeError(f"charging system exited:\n{system.log.read_text()[-3000:]}")
            if "Charging system on" in system.log.read_text():
                break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"charging system not ready:\n{system.log.read_text()[-3000:]}")
        yield ChargingSystem(f"http://127.0.0.1:{port}", system.log)


@contextmanager
def worker(
    database_url: str, smsc_port: int, log_dir: Path, *, core: str | None = SERVER_CORE
) -> Iterator[Process]:
    """`pointsmall worker` as production runs it, pinned to `core` (None: where the system
    puts it), delivering to the SMS centre on `smsc_port` (no quiet hours: the rows measure
    at any hour)."""
    env = {
        **os.environ,
        "PYTHONDONTWRITEBYTECODE": "1",
        "APP_ENV": "development",
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": f"{database_url}?{POOL}",
        "SMSC_URL": f"smpp://pointsmall:bench@127.0.0.1:{smsc_port}?source=10658888",
        "QUIET_HOURS": "00:00-00:00",
        "SWEEP_INTERVAL_SECONDS": "3600",
    }
    where = pinned(core) if core is not None else []
    command = [*where, sys.executable, "-c", "from api.cli import main; main()"]
    with _running([*command, "worker"], env, log_dir / f"worker-{smsc_port}.log") as process:
        yield process


def rss_mb(pid: int) -> float:
    """Resident set size of a process, from /proc/PID/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


@dataclass
class MemorySampler:
    """Samples a process's RSS every `interval` seconds in a thread."""

    pid: int
    interval: float = 0.5
    samples: list[tuple[float, float]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> MemorySampler:
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def sample(self) -> None:
        self.samples.append((time.monotonic() - self._started, rss_mb(self.pid)))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()


def server_url(name: str) -> str:
    """The URL of database `name` on the benchmark's PostgreSQL server."""
    from benchmarks.dataset import database_url

    return database_url(name, SERVER)
