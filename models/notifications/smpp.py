"""`SmppCentre`: the SMS centre port over SMPP 3.4, one transceiver bind held open.

aiosmpplib supplies the wire format (its PDU classes and GSM 03.38 codec); the session is
kept here because its ESME cannot be made safe from outside: it has no window (every queued
message goes at once), it answers an empty or badly encoded message from a handset with
generic_nack instead of deliver_sm_resp, and a short UDH from a handset ends its `start()`
for good, after which `stop()` hangs.

Sending: at most `window` submits wait for their answers at any time; a result per message,
in the order given. A long text goes as concatenated parts, one after another, and the
message is ACCEPTED only when every part is, with the first part's message_id; a part that
fails gives the message that part's status (a retry sends every part again) and no
message_id. Answers map so: ESME_ROK -> ACCEPTED; ESME_RTHROTTLED, ESME_RMSGQFUL ->
THROTTLED (and no submit goes for `throttle_pause` seconds); any other status, or
generic_nack -> REJECTED with the status's name in `error`; no bind within `submit_timeout`,
no answer within `submit_timeout`, the connection lost with the submit outstanding, or
`stop()` -> UNAVAILABLE. A submit that timed out may still have reached the handset: that is
SMPP's own at-least-once.

Receipts name the centre's id of one part. Receipts for the second and later parts of a
message (remembered for the last 100,000 parts) are ignored: the first part speaks for the
message. Receipts and messages from handsets go to their handlers in tasks of their own, so
a slow or failing handler neither holds up nor breaks the bind; every deliver_sm is answered
with deliver_sm_resp, readable or not (`smpp_inbound` says how it is read; a message from a
handset is joined from its parts and capped at 2,000 characters).

`smpp_session.BindKeeper` holds the bind: binding again with backoff, enquire_link, answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, TypeVar

from aiosmpplib import PhoneNumber, SmppCommand, SmppCommandStatus, SubmitSm

from models.notifications.ports import (
    InboundHandler,
    InboundSms,
    OutgoingSms,
    ReceiptHandler,
    SubmitResult,
    SubmitStatus,
)
from models.notifications.smpp_inbound import (
    Reassembly,
    UnreadablePdu,
    message_part,
    read_deliver_sm,
    receipt_of,
)
from models.notifications.smpp_link import ConnectionLost, Link, Pdu, status_name
from models.notifications.smpp_session import BindKeeper, SequenceNumbers, SmppConfig
from models.notifications.smpp_text import (
    DATA_CODING_UCS2,
    EncodedText,
    TextTooLong,
    encode_text,
    handset_address,
    service_address,
)

__all__ = ["SmppCentre", "SmppConfig"]

log = logging.getLogger("pointsmall.sms")

_THROTTLED: Final = frozenset({SmppCommandStatus.ESME_RTHROTTLED, SmppCommandStatus.ESME_RMSGQFUL})
_UDHI: Final = 0x40
_STOP_GRACE: Final = 1.0
_REMEMBERED_PARTS: Final = 100_000
_INBOUND_MAX_CHARS: Final = 2_000
_INBOUND_MAX_PENDING: Final = 256
_INBOUND_PARTS_TTL: Final = 600.0

_Item = TypeVar("_Item")


@dataclass(frozen=True)
class _PartOutcome:
    status: SubmitStatus
    message_id: str | None = None
    error: str = ""


class SmppCentre:
    """The SMS centre port over one SMPP 3.4 transceiver bind (see the module's docstring)."""

    def __init__(self, config: SmppConfig) -> None:
        self._config = config
        self._source = service_address(config.source, ton=config.source_ton, npi=config.source_npi)
        self._sequences = SequenceNumbers()
        self._keeper = BindKeeper(
            config, self._sequences, on_answer=self._note_answer, on_deliver=self._on_deliver
        )
        self._window = asyncio.Semaphore(config.window)
        self._runner: asyncio.Task[None] | None = None
        self._handler_tasks: set[asyncio.Task[None]] = set()
        self._receipts: ReceiptHandler | None = None
        self._inbound: InboundHandler | None = None
        self._reference = 0
        self._resume_at = 0.0
        self._later_sequences: set[int] = set()
        self._later_parts: dict[str, None] = {}
        self._reassembly = Reassembly(
            max_chars=_INBOUND_MAX_CHARS, max_pending=_INBOUND_MAX_PENDING, ttl=_INBOUND_PARTS_TTL
        )

    @property
    def bound(self) -> bool:
        link = self._keeper.link
        return link is not None and link.open

    async def start(self, *, receipts: ReceiptHandler, inbound: InboundHandler) -> None:
        if self._runner is not None:
            raise RuntimeError("SmppCentre.start was already called")
        self._receipts, self._inbound = receipts, inbound
        self._runner = asyncio.create_task(self._keeper.run(), name="smpp-bind")

    async def send(self, messages: Sequence[OutgoingSms]) -> list[SubmitResult]:
        deadline = asyncio.get_running_loop().time() + self._config.submit_timeout
        return list(await asyncio.gather(*(self._send_one(m, deadline) for m in messages)))

    async def stop(self) -> None:
        self._keeper.stopping.set()
        self._keeper.linked.set()  # wakes the submits waiting for a bind, to give up
        link = self._keeper.link
        if link is not None and link.open:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(link.drained(), self._config.submit_timeout)
            await self._keeper.unbind(link)
        if self._runner is not None:
            self._runner.cancel()
            await asyncio.wait({self._runner}, timeout=_STOP_GRACE)
        if self._handler_tasks:
            _, late = await asyncio.wait(self._handler_tasks, timeout=_STOP_GRACE)
            for task in late:
                task.cancel()

    # Sending

    async def _send_one(self, message: OutgoingSms, deadline: float) -> SubmitResult:
        address = handset_address(message.to)
        if address is None:
            return SubmitResult(message.reference, SubmitStatus.REJECTED, error="ESME_RINVDSTADR")
        self._reference += 1
        try:
            if not message.text:
                raise TextTooLong("nothing to send")
            encoded = encode_text(message.text, reference=self._reference)
        except TextTooLong:
            return SubmitResult(message.reference, SubmitStatus.REJECTED, error="ESME_RINVMSGLEN")
        message_ids: list[str] = []
        for index, part in enumerate(encoded.parts):
            outcome = await self._submit(address, encoded, part, deadline, later=index > 0)
            if outcome.status is not SubmitStatus.ACCEPTED or outcome.message_id is None:
                self._ignore_receipts(message_ids)
                parts = len(encoded.parts)
                return SubmitResult(message.reference, outcome.status, None, outcome.error, parts)
            message_ids.append(outcome.message_id)
        return SubmitResult(
            message.reference, SubmitStatus.ACCEPTED, message_ids[0], parts=len(message_ids)
        )

    async def _submit(
        self, to: PhoneNumber, encoded: EncodedText, part: bytes, deadline: float, *, later: bool
    ) -> _PartOutcome:
        while True:
            link = await self._link_by(deadline)
            if link is None:
                reason = "stopping" if self._keeper.stopping.is_set() else "no bind"
                return _PartOutcome(SubmitStatus.UNAVAILABLE, error=reason)
            async with self._window:
                await self._pause_if_throttled()
                if self._keeper.stopping.is_set():
                    return _PartOutcome(SubmitStatus.UNAVAILABLE, error="stopping")
                if link.open:
                    return await self._exchange(link, self._submit_pdu(to, encoded, part), later)

    async def _exchange(
        self, link: Link, build: Callable[[int], bytes], later: bool
    ) -> _PartOutcome:
        sequence = self._sequences.next()
        answer = link.expect(sequence)
        if later:
            self._later_sequences.add(sequence)
        try:
            await link.send(build(sequence))
            pdu = await asyncio.wait_for(answer, self._config.submit_timeout)
        except ConnectionLost:
            pdu = None
        except TimeoutError:
            link.forget(sequence)
            return _PartOutcome(SubmitStatus.UNAVAILABLE, error="no answer in time")
        finally:
            self._later_sequences.discard(sequence)
        if pdu is None:
            return _PartOutcome(SubmitStatus.UNAVAILABLE, error="connection lost")
        return self._outcome(pdu)

    def _outcome(self, pdu: Pdu) -> _PartOutcome:
        if pdu.command == SmppCommand.SUBMIT_SM_RESP and pdu.status == SmppCommandStatus.ESME_ROK:
            return _PartOutcome(SubmitStatus.ACCEPTED, pdu.message_id)
        if pdu.status in _THROTTLED:
            loop_time = asyncio.get_running_loop().time()
            self._resume_at = max(self._resume_at, loop_time + self._config.throttle_pause)
            return _PartOutcome(SubmitStatus.THROTTLED, error=status_name(pdu.status))
        if pdu.command == SmppCommand.GENERIC_NACK:  # the centre could not read our submit
            return _PartOutcome(
                SubmitStatus.REJECTED, error=f"generic_nack {status_name(pdu.status)}"
            )
        return _PartOutcome(SubmitStatus.REJECTED, error=status_name(pdu.status))

    def _submit_pdu(
        self, to: PhoneNumber, encoded: EncodedText, part: bytes
    ) -> Callable[[int], bytes]:
        def build(sequence: int) -> bytes:
            submit = SubmitSm(
                sequence_num=sequence,
                short_message="-",  # the encoded part below is what goes
                source=self._source,
                destination=to,
                esm_class=_UDHI if encoded.concatenated else 0,
                registered_delivery=1,  # a receipt for the final state
                encoding="ucs2" if encoded.data_coding == DATA_CODING_UCS2 else None,
                auto_message_payload=False,
            )
            submit.set_encoded_message(part)
            return submit.pdu()

        return build

    async def _link_by(self, deadline: float) -> Link | None:
        """The open link, waiting for a bind until `deadline`; None if none comes or we stop."""
        loop = asyncio.get_running_loop()
        keeper = self._keeper
        while not keeper.stopping.is_set():
            link = keeper.link
            if link is not None and link.open:
                return link
            keeper.linked.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(keeper.linked.wait(), remaining)
        return None

    async def _pause_if_throttled(self) -> None:
        delay = self._resume_at - asyncio.get_running_loop().time()
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._keeper.stopping.wait(), delay)

    def _ignore_receipts(self, message_ids: Sequence[str]) -> None:
        for message_id in message_ids:
            self._later_parts[message_id] = None
        while len(self._later_parts) > _REMEMBERED_PARTS:
            del self._later_parts[next(iter(self._later_parts))]

    # What the centre sends

    def _note_answer(self, pdu: Pdu) -> None:
        # Noted as the answer is read, before a receipt for that part can be.
        if pdu.sequence in self._later_sequences and pdu.status == SmppCommandStatus.ESME_ROK:
            self._ignore_receipts([pdu.message_id])

    def _on_deliver(self, body: bytes) -> None:
        try:
            fields = read_deliver_sm(body)
        except UnreadablePdu as exc:
            log.warning("unreadable deliver_sm (%d bytes) answered and dropped: %s", len(body), exc)
            return
        now = datetime.now(UTC)
        if fields.is_receipt and self._receipts is not None:
            receipt = receipt_of(fields, at=now)
            if receipt is not None and receipt.message_id not in self._later_parts:
                self._hand_over(self._receipts, receipt)
        elif fields.is_message and self._inbound is not None:
            part = message_part(fields, country_code=self._config.country_code)
            text = self._reassembly.add(part)
            if text is not None:
                self._hand_over(self._inbound, InboundSms(part.sender, text, now))

    def _hand_over(self, handler: Callable[[_Item], Awaitable[None]], item: _Item) -> None:
        task = asyncio.create_task(_call(handler, item))
        self._handler_tasks.add(task)
        task.add_done_callback(self._handler_tasks.discard)


async def _call(handler: Callable[[_Item], Awaitable[None]], item: _Item) -> None:
    try:
        await handler(item)
    except Exception:
        log.exception("SMS %s handler failed", type(item).__name__)
