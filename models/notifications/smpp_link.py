"""One TCP connection to the SMS centre: PDUs written and read, answers matched to requests.

The PDU header is read here rather than with aiosmpplib's `SmppMessage.parse_header`, which
raises on a command status it does not list (centres add their own, 0x400 and up): an
answer with a vendor's status must still settle its request. A length no PDU can have means
the stream cannot be trusted any more, and the connection is given up.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass
from typing import Final

from aiosmpplib import SmppCommandStatus

HEADER: Final = struct.Struct("!IIII")
# The message_payload option holds up to 64 KiB; a little more for the other fields.
MAX_PDU: Final = 2**16 + 1024
RESPONSE_BIT: Final = 0x80000000


class ConnectionLost(Exception):
    """The connection closed, or could not be written or read."""


@dataclass(frozen=True)
class Pdu:
    command: int
    status: int
    sequence: int
    body: bytes

    @property
    def is_response(self) -> bool:
        return bool(self.command & RESPONSE_BIT)

    @property
    def message_id(self) -> str:
        """The C-string at the start of the body (submit_sm_resp's message_id)."""
        return self.body.split(b"\x00", 1)[0].decode("ascii", "replace")


def status_name(status: int) -> str:
    """`ESME_RTHROTTLED` for 0x58; a vendor's own status as hex."""
    try:
        return SmppCommandStatus(status).name
    except ValueError:
        return f"0x{status:08X}"


async def read_pdu(reader: asyncio.StreamReader) -> Pdu:
    """The next PDU. Raises ConnectionLost (also for a length no PDU can have)."""
    try:
        length, command, status, sequence = HEADER.unpack(await reader.readexactly(16))
        if not HEADER.size <= length <= MAX_PDU:
            raise ConnectionLost(f"a PDU of {length} bytes")
        body = await reader.readexactly(length - HEADER.size)
    except (OSError, asyncio.IncompleteReadError) as exc:
        raise ConnectionLost(str(exc) or type(exc).__name__) from exc
    return Pdu(command, status, sequence, body)


class Link:
    """A connection's two directions, and the requests on it still waiting for an answer
    (each resolved with None if the connection goes first)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._write_lock = asyncio.Lock()
        self._waiting: dict[int, asyncio.Future[Pdu | None]] = {}
        self._open = True
        self.last_heard = asyncio.get_running_loop().time()

    @property
    def open(self) -> bool:
        return self._open

    async def send(self, pdu: bytes) -> None:
        """Write one PDU. Raises ConnectionLost."""
        if not self._open:
            raise ConnectionLost("closed")
        try:
            async with self._write_lock:
                self._writer.write(pdu)
                await self._writer.drain()
        except OSError as exc:
            self.close()
            raise ConnectionLost(str(exc) or type(exc).__name__) from exc

    async def read(self) -> Pdu:
        """The next PDU from the centre. Raises ConnectionLost."""
        pdu = await read_pdu(self._reader)
        self.last_heard = asyncio.get_running_loop().time()
        return pdu

    def expect(self, sequence: int) -> asyncio.Future[Pdu | None]:
        """A future for the answer to the request numbered `sequence`."""
        future: asyncio.Future[Pdu | None] = asyncio.get_running_loop().create_future()
        if not self._open:
            future.set_result(None)
        self._waiting[sequence] = future
        return future

    def forget(self, sequence: int) -> None:
        self._waiting.pop(sequence, None)

    def settle(self, pdu: Pdu) -> bool:
        """Hand an answer to whoever waits for it; False if nobody does (any more)."""
        future = self._waiting.pop(pdu.sequence, None)
        if future is None or future.done():
            return False
        future.set_result(pdu)
        return True

    async def drained(self) -> None:
        """Returns once every request sent so far has its answer, or was given up."""
        while pending := [future for future in self._waiting.values() if not future.done()]:
            await asyncio.wait(pending)

    def close(self) -> None:
        if not self._open:
            return
        self._open = False
        for future in self._waiting.values():
            if not future.done():
                future.set_result(None)
        self._waiting.clear()
        self._writer.close()
