"""`python -m benchmarks.sms_centre --port P --out FILE`: the local SMS centre in a process of
its own, for the delivery rows.

It is the tests' SMS centre (`tests/fakes/smsc.py`: real SMPP over TCP, a receipt for every
part), binding any system id; it prints `bound` once a worker has bound. On SIGTERM it
writes what it received to FILE as JSON: the count, the first and last arrival (Unix
seconds) and, by the centre's message id, when each message arrived, then exits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import time
from pathlib import Path

from tests.fakes.smsc import SmscFake, Submitted


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    return parser.parse_args()


async def serve(port: int, out: Path) -> None:
    arrived: dict[str, float] = {}

    def record(message: Submitted) -> None:
        arrived[message.message_id] = time.time()

    smsc = SmscFake(system_id=None, password=None, port=port, on_message=record)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await smsc.start()
    print(f"SMS centre on 127.0.0.1:{smsc.port}", flush=True)
    while not smsc.bound and not stop.is_set():
        await asyncio.sleep(0.05)
    print("bound", flush=True)  # a worker is delivering: the rows may start their clocks
    await stop.wait()
    await smsc.stop()
    times = sorted(arrived.values())
    document = {
        "received": len(arrived),
        "first": times[0] if times else None,
        "last": times[-1] if times else None,
        "arrived": arrived,
    }
    out.write_text(json.dumps(document))


def main() -> None:
    args = arguments()
    asyncio.run(serve(args.port, args.out))


if __name__ == "__main__":
    main()
