"""Running the JavaScript clients of tests/js (installed by `make js-clients`) from tests."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

JS = Path(__file__).resolve().parent.parent / "js"


async def node(script: str, *args: str, env: dict[str, str] | None = None) -> str:
    """Run `node tests/js/<script> args...`; its standard output, or AssertionError with
    what it printed when it fails."""
    assert shutil.which("node"), "Node.js is not installed: `make js-clients` installs it"
    assert (JS / "node_modules").is_dir(), "tests/js has no node_modules: run `make js-clients`"
    process = await asyncio.create_subprocess_exec(
        "node",
        str(JS / script),
        *args,
        cwd=JS,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, f"node {script} failed:\n{out.decode()}\n{err.decode()}"
    return out.decode()
