"""The local SMS centre on a fixed port, to watch the service's texts and to text it back.

    make sms-demo        (then `make run` in another terminal binds to it)

Every message the service sends is shown as the handset would show it:

    📱 +8613800138000: 【积分商城】您的订单已发货…

Type a line to text the service from the current number (`JF`, `积分`, `TD`, `1`); start the
line with another number to text from that one instead (`+8613900139000> DD`). Any system id
and password bind.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import sys

from tests.fakes.smsc import SmscFake, Submitted

_NUMBER_PREFIX = re.compile(r"\s*(\+[1-9][0-9]{6,14})\s*>?\s*(.*)")


def parse_line(line: str, number: str) -> tuple[str, str]:
    """The number a typed line comes from and its text."""
    found = _NUMBER_PREFIX.fullmatch(line.rstrip("\n"))
    if found:
        return found.group(1), found.group(2)
    return number, line.rstrip("\n")


class Console:
    """The terminal: the service's texts as a handset shows them, typed lines as texts."""

    def __init__(self, number: str) -> None:
        self.number = number

    def prompt(self) -> None:
        print(f"{self.number}> ", end="", flush=True)

    def show(self, message: Submitted) -> None:
        print(f"\n📱 {message.to}: {message.text}")
        self.prompt()

    async def type_texts(self, smsc: SmscFake) -> None:
        reader = asyncio.StreamReader()
        loop = asyncio.get_running_loop()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        self.prompt()
        while line := (await reader.readline()).decode("utf-8", "replace"):
            self.number, text = parse_line(line, self.number)
            if text:
                try:
                    await smsc.text_from(self.number, text)
                except RuntimeError as exc:
                    print(f"(not sent: {exc})")
            self.prompt()


async def serve(host: str, port: int, number: str) -> None:
    console = Console(number)
    smsc = SmscFake(system_id=None, password=None, host=host, port=port, on_message=console.show)
    smsc.receipt_delay = 1.0
    await smsc.start()
    print(f"SMS centre on {host}:{smsc.port} (SMPP 3.4, any system id and password)")
    print("Type a line to text the service; Ctrl-D or Ctrl-C to stop.")
    try:
        await console.type_texts(smsc)
    finally:
        await smsc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2775)
    parser.add_argument(
        "--number", default="+8613800000001", help="the handset you text from (the demo member)"
    )
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port, args.number))


if __name__ == "__main__":
    main()
