"""A local SMS centre speaking SMPP 3.4 over TCP, for tests and the demo.

    async with SmscFake.running(password="secret") as smsc:
        centre = SmppCentre(SmppConfig(host=smsc.host, port=smsc.port, system_id="pointsmall",
                                       password="secret", source="10658888"))
        ...
        await smsc.wait_for(lambda: len(smsc.received) == 1)
        assert smsc.received[0].text == "【积分商城】..."

It binds transceivers, transmitters and receivers; answers submit_sm with message ids and
joins concatenated parts into what the handset shows (`received`, one `Submitted` per
message; `segments`, one per part); answers enquire_link and unbind; answers garbage with
generic_nack; sends a delivery receipt per part after `receipt_delay` seconds (DELIVRD, or
`outcomes[number]`), queued until a receiver binds; and plays a handset texting the service
(`text_from`, `deliver_raw`). PDUs are read and built with aiosmpplib's classes, so the
adapter under test and this centre do not share code of ours.

Switches: `refuse_binds`, `throttle`, `answer_delay` (slow answers), `drop_now`,
`drop_after`, `send_receipts`, `rejections[number]`. It records `bind_attempts`, `submits`
(every submit_sm that arrived), `max_outstanding` (the most submits waiting for an answer at
once), `receipts_sent`, `enquire_links`, `unbinds` and `deliver_answers` (what the bound
party answered to each deliver_sm: sequence, command id, status).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import struct
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiosmpplib import (
    NPI,
    TON,
    BindTransceiver,
    BindTransceiverResp,
    DeliverSm,
    EnquireLinkResp,
    GenericNack,
    OptionalParam,
    PhoneNumber,
    SmppCommand,
    SmppCommandStatus,
    SmppMessage,
    SubmitSm,
    SubmitSmResp,
    UnbindResp,
)
from aiosmpplib.codec import GSM7BitCodec
from aiosmpplib.protocol import MESSAGE_TYPE_MAP
from aiosmpplib.state import MESSAGE_STATE, RECEIPTED_MESSAGE_ID
from aiosmpplib.utils import split_sms_udh

_BINDS = {
    SmppCommand.BIND_TRANSCEIVER: "transceiver",
    SmppCommand.BIND_TRANSMITTER: "transmitter",
    SmppCommand.BIND_RECEIVER: "receiver",
}
_STATE_CODES = {"DELIVRD": 2, "EXPIRED": 3, "DELETED": 4, "UNDELIV": 5, "ACCEPTD": 6, "UNKNOWN": 7}
_STATE_CODES |= {"REJECTD": 8, "ENROUTE": 1}
_MAX_PDU = 2**16 + 1024


@dataclass(frozen=True)
class Submitted:
    """A message as the handset shows it: every part in, joined."""

    to: str  # E.164 when the address was international
    source: str
    text: str
    parts: int
    message_id: str  # the first part's
    encoding: str  # "ucs2" or "gsm0338"
    at: datetime


@dataclass(frozen=True)
class Segment:
    to: str
    text: str
    message_id: str
    esm_class: int
    encoding: str
    reference: int
    index: int
    total: int


@dataclass(frozen=True)
class BindAttempt:
    mode: str
    system_id: str
    status: SmppCommandStatus
    at: float  # time.monotonic()


@dataclass(eq=False)  # one per connection, kept in a set
class _Session:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    mode: str = ""
    outstanding: int = 0
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def sends(self) -> bool:
        return self.mode in ("transceiver", "transmitter")

    @property
    def receives(self) -> bool:
        return self.mode in ("transceiver", "receiver")


class SmscFake:
    def __init__(
        self,
        *,
        system_id: str | None = "pointsmall",  # None: any system id binds (the demo)
        password: str | None = "secret",  # None: any password binds
        service_number: str = "10658888",
        host: str = "127.0.0.1",
        port: int = 0,
        receipt_delay: float = 0.05,
        on_message: Callable[[Submitted], None] | None = None,
    ) -> None:
        self.system_id, self.password, self.service_number = system_id, password, service_number
        self.host, self.port = host, port
        self.receipt_delay = receipt_delay
        self.send_receipts = True
        self.answer_delay = 0.0
        self.outcomes: dict[str, str] = {}  # number -> receipt stat, "DELIVRD" otherwise
        self.rejections: dict[str, SmppCommandStatus] = {}  # number -> submit_sm_resp status
        self.on_message = on_message
        self.received: list[Submitted] = []
        self.segments: list[Segment] = []
        self.bind_attempts: list[BindAttempt] = []
        self.deliver_answers: list[tuple[int, int, int]] = []  # (sequence, command, status)
        self.submits = 0
        self.unbinds = 0
        self.enquire_links = 0
        self.receipts_sent = 0
        self.max_outstanding = 0
        self._sessions: set[_Session] = set()
        self._queued: list[bytes] = []  # deliver_sm PDUs waiting for a receiver
        self._partial: dict[tuple[str, int, int], dict[int, Segment]] = {}
        self._ids = itertools.count(0x1000)
        self._sequences = itertools.count(1)
        self._refusals: int | None = 0
        self._refusal_status = SmppCommandStatus.ESME_RBINDFAIL
        self._throttle_left = 0
        self._throttle_until = 0.0
        self._throttle_status = SmppCommandStatus.ESME_RTHROTTLED
        self._drop_countdown: int | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()  # receipts on their way

    # Running

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self.drop_now()
        for task in self._tasks:
            task.cancel()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, **options: object) -> AsyncIterator[SmscFake]:
        smsc = cls(**options)  # type: ignore[arg-type]
        await smsc.start()
        try:
            yield smsc
        finally:
            await smsc.stop()

    @property
    def bound(self) -> bool:
        return any(session.receives for session in self._sessions)

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while not condition():
                await asyncio.sleep(0.01)

    # Switches

    def refuse_binds(
        self, count: int | None = None, status: SmppCommandStatus = SmppCommandStatus.ESME_RBINDFAIL
    ) -> None:
        """Refuse the next `count` binds (every bind while None) with `status`."""
        self._refusals, self._refusal_status = count, status

    def accept_binds(self) -> None:
        self._refusals = 0

    def throttle(
        self,
        count: int = 0,
        *,
        seconds: float = 0.0,
        status: SmppCommandStatus = SmppCommandStatus.ESME_RTHROTTLED,
    ) -> None:
        """Answer the next `count` submits, or every submit for `seconds`, with `status`."""
        self._throttle_left, self._throttle_status = count, status
        self._throttle_until = time.monotonic() + seconds

    def drop_now(self) -> None:
        """Cut every connection at once; submits still waiting are never answered."""
        for session in list(self._sessions):
            self._drop(session)

    def drop_after(self, submits: int) -> None:
        """Answer `submits` more submit_sm, then cut the connection when the next arrives."""
        self._drop_countdown = submits

    # A handset texting the service

    async def text_from(self, number: str, text: str, *, reference: int | None = None) -> None:
        """`text` from the handset `number` (E.164), split into UDH parts when long."""
        source = PhoneNumber(number.removeprefix("+"), TON.INTERNATIONAL, NPI.ISDN)
        encoding = "gsm0338" if GSM7BitCodec.is_gsm_text(text) else "ucs2"
        if len(text) <= (160 if encoding == "gsm0338" else 70):
            await self._deliver(self._deliver_sm(source, text, encoding, None, 0))
            return
        ref = next(self._ids) % 256 if reference is None else reference
        for part in split_sms_udh(text, encoding, ref):
            await self._deliver(self._deliver_sm(source, text, encoding, part, 0x40))

    async def deliver_raw(
        self,
        number: str,
        short_message: bytes,
        *,
        data_coding: int,
        esm_class: int = 0,
        payload: bytes | None = None,
    ) -> None:
        """A deliver_sm with exactly these bytes as its short_message, and as its
        message_payload option if given (hostile input)."""
        option = b"" if payload is None else struct.pack("!HH", 0x0424, len(payload)) + payload
        body = b"".join(
            [
                b"\x00\x01\x01" + number.removeprefix("+").encode() + b"\x00",
                b"\x02\x01" + self.service_number.encode() + b"\x00",
                bytes([esm_class, 0, 0]) + b"\x00\x00",
                bytes([0, 0, data_coding, 0, len(short_message)]) + short_message + option,
            ]
        )
        header = struct.pack("!IIII", 16 + len(body), SmppCommand.DELIVER_SM, 0, self._next())
        await self._deliver(header + body)

    def _deliver_sm(
        self, source: PhoneNumber, text: str, encoding: str, part: bytes | None, esm_class: int
    ) -> bytes:
        message = DeliverSm(
            sequence_num=self._next(),
            short_message=text,
            source=source,
            destination=PhoneNumber(self.service_number, TON.NATIONAL, NPI.ISDN),
            esm_class=esm_class,
            encoding=None if encoding == "gsm0338" else encoding,
            registered_delivery=0,
        )
        if part is not None:
            message.set_encoded_message(part)
        return message.pdu()

    async def _deliver(self, pdu: bytes) -> None:
        receivers = [session for session in self._sessions if session.receives]
        if not receivers:
            raise RuntimeError("nothing is bound to receive messages from handsets")
        await self._write(receivers[0], pdu)

    # Serving one connection

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = _Session(reader, writer)
        self._sessions.add(session)
        try:
            while True:
                header = await reader.readexactly(16)
                length, command, _, sequence = struct.unpack("!IIII", header)
                if not 16 <= length <= _MAX_PDU:
                    await self._nack(session, sequence, SmppCommandStatus.ESME_RINVCMDLEN)
                    break
                pdu = header + await reader.readexactly(length - 16)
                try:
                    if not await self._handle(session, command, sequence, pdu):
                        break
                except (ValueError, struct.error):  # a PDU its own fields contradict
                    await self._nack(session, sequence, SmppCommandStatus.ESME_RSYSERR)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._drop(session)

    async def _handle(self, session: _Session, command: int, sequence: int, pdu: bytes) -> bool:
        """Answers one PDU; False when the connection should close."""
        if command in _BINDS:
            await self._bind(session, SmppCommand(command), pdu)
        elif command == SmppCommand.SUBMIT_SM:
            return await self._submit(session, sequence, pdu)
        elif command == SmppCommand.ENQUIRE_LINK:
            self.enquire_links += 1
            await self._write(session, EnquireLinkResp(sequence_num=sequence).pdu())
        elif command == SmppCommand.UNBIND:
            self.unbinds += 1
            await self._write(session, UnbindResp(sequence_num=sequence).pdu())
            return False
        elif command in (SmppCommand.DELIVER_SM_RESP, SmppCommand.GENERIC_NACK):
            self.deliver_answers.append((sequence, command, struct.unpack("!I", pdu[8:12])[0]))
        elif not command & 0x80000000:
            await self._nack(session, sequence, SmppCommandStatus.ESME_RINVCMDID)
        return True

    async def _bind(self, session: _Session, command: SmppCommand, pdu: bytes) -> None:
        request = MESSAGE_TYPE_MAP[command].from_pdu(pdu, SmppMessage.parse_header(pdu))
        assert isinstance(request, BindTransceiver)  # the other two binds subclass it
        status = SmppCommandStatus.ESME_ROK
        if self.system_id is not None and request.system_id != self.system_id:
            status = SmppCommandStatus.ESME_RINVSYSID
        elif self.password is not None and request.password != self.password:
            status = SmppCommandStatus.ESME_RINVPASWD
        elif self._refusals is None or self._refusals > 0:
            status = self._refusal_status
            self._refusals = None if self._refusals is None else self._refusals - 1
        attempt = BindAttempt(_BINDS[command], request.system_id, status, time.monotonic())
        self.bind_attempts.append(attempt)
        answer = MESSAGE_TYPE_MAP[SmppCommand(command | 0x80000000)]
        response = answer(sequence_num=request.sequence_num, command_status=status)
        assert isinstance(response, BindTransceiverResp)
        response.system_id = "pointsmall-smsc"
        await self._write(session, response.pdu())
        if status == SmppCommandStatus.ESME_ROK:
            session.mode = attempt.mode
            queued, self._queued = self._queued, []
            for deliver in queued:
                await self._write_or_queue(deliver)

    async def _submit(self, session: _Session, sequence: int, pdu: bytes) -> bool:
        self.submits += 1
        if self._drop_countdown is not None:
            if self._drop_countdown == 0:
                self._drop_countdown = None
                return False
            self._drop_countdown -= 1
        if not session.sends:
            await self._answer(session, sequence, SmppCommandStatus.ESME_RINVBNDSTS, None)
            return True
        try:
            submit = SubmitSm.from_pdu(pdu, SmppMessage.parse_header(pdu), "gsm0338")
        except (ValueError, struct.error):
            await self._answer(session, sequence, SmppCommandStatus.ESME_RSYSERR, None)
            return True
        assert isinstance(submit, SubmitSm)
        session.outstanding += 1
        self.max_outstanding = max(self.max_outstanding, session.outstanding)
        status = self._status_for(_number(submit.destination))
        task = asyncio.create_task(self._answer_later(session, sequence, status, submit))
        session.tasks.add(task)
        task.add_done_callback(session.tasks.discard)
        return True

    def _status_for(self, to: str) -> SmppCommandStatus:
        if self._throttle_left > 0:
            self._throttle_left -= 1
            return self._throttle_status
        if time.monotonic() < self._throttle_until:
            return self._throttle_status
        return self.rejections.get(to, SmppCommandStatus.ESME_ROK)

    async def _answer_later(
        self, session: _Session, sequence: int, status: SmppCommandStatus, submit: SubmitSm
    ) -> None:
        if self.answer_delay:
            await asyncio.sleep(self.answer_delay)
        session.outstanding -= 1
        await self._answer(session, sequence, status, submit)

    async def _answer(
        self, session: _Session, sequence: int, status: SmppCommandStatus, submit: SubmitSm | None
    ) -> None:
        message_id = f"{next(self._ids):08X}" if status == SmppCommandStatus.ESME_ROK else ""
        resp = SubmitSmResp(sequence_num=sequence, command_status=status, message_id=message_id)
        await self._write(session, resp.pdu())
        if submit is not None and message_id:
            self._record(submit, message_id)

    def _record(self, submit: SubmitSm, message_id: str) -> None:
        to = _number(submit.destination)
        reference, index, total = submit.get_segmentation_data()
        text = submit.short_message or submit.message_payload
        encoding = submit.encoding or "gsm0338"
        segment = Segment(to, text, message_id, submit.esm_class, encoding, reference, index, total)
        self.segments.append(segment)
        if submit.registered_delivery & 1 and self.send_receipts:
            task = asyncio.create_task(self._receipt(submit, segment))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        key = (to, reference, total)
        parts = self._partial.setdefault(key, {}) if total else {1: segment}
        parts[index or 1] = segment
        if total and len(parts) < total:
            return
        self._partial.pop(key, None)
        ordered = [parts[i] for i in sorted(parts)]
        joined = "".join(part.text for part in ordered)
        source = submit.source.number
        first = ordered[0]
        shown = Submitted(to, source, joined, len(ordered), first.message_id, encoding, _now())
        self.received.append(shown)
        if self.on_message is not None:
            self.on_message(shown)

    async def _receipt(self, submit: SubmitSm, segment: Segment) -> None:
        await asyncio.sleep(self.receipt_delay)
        stat = self.outcomes.get(segment.to, "DELIVRD")
        now = datetime.now(UTC).replace(tzinfo=None)
        fields: dict[str, str | int | datetime] = {
            "id": segment.message_id,
            "sub": 1,
            "dlvrd": int(stat == "DELIVRD"),
            "submit date": now,
            "done date": now,
            "stat": stat,
            "err": 0 if stat == "DELIVRD" else 1,
            "text": segment.text[:20],
        }
        text = DeliverSm.encode_receipt(fields)
        options = [OptionalParam(RECEIPTED_MESSAGE_ID, segment.message_id)]
        options.append(OptionalParam(MESSAGE_STATE, _STATE_CODES.get(stat, 7)))
        receipt = DeliverSm(
            sequence_num=self._next(),
            short_message=text,
            source=submit.destination,
            destination=submit.source,
            esm_class=0x04,
            registered_delivery=0,
            optional_params=options,
        )
        await self._write_or_queue(receipt.pdu())
        self.receipts_sent += 1

    async def _write_or_queue(self, pdu: bytes) -> None:
        receivers = [session for session in self._sessions if session.receives]
        if not receivers:
            self._queued.append(pdu)
            return
        await self._write(receivers[0], pdu)

    async def _nack(self, session: _Session, sequence: int, status: SmppCommandStatus) -> None:
        await self._write(session, GenericNack(sequence_num=sequence, command_status=status).pdu())

    async def _write(self, session: _Session, pdu: bytes) -> None:
        with contextlib.suppress(ConnectionError):
            session.writer.write(pdu)
            await session.writer.drain()

    def _drop(self, session: _Session) -> None:
        self._sessions.discard(session)
        for task in session.tasks:
            task.cancel()
        session.writer.transport.abort()

    def _next(self) -> int:
        return next(self._sequences)


def _number(address: PhoneNumber) -> str:
    return f"+{address.number}" if address.ton == TON.INTERNATIONAL else address.number


def _now() -> datetime:
    return datetime.now(UTC)
