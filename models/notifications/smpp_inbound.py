"""What the SMS centre sends unasked (deliver_sm), read so that no input can fail the bind.

A deliver_sm is a delivery receipt (message type 0x04 in `esm_class`) or a message a handset
sent to the service number (type 0). Both arrive from outside: the body is read here rather
than with aiosmpplib's `DeliverSm.from_pdu`, which refuses an empty message and lets a short
UDH escape as `struct.error` (its ESME then stops for good). Reading fails only with
`UnreadablePdu`; text is decoded with replacement characters.

Receipt states: DELIVRD -> DELIVERED, UNDELIV -> UNDELIVERABLE, EXPIRED -> EXPIRED,
REJECTD -> REJECTED, DELETED -> UNDELIVERABLE (the centre gave up on it: it will not arrive),
UNKNOWN -> UNKNOWN. ENROUTE and ACCEPTD are not final and are not reported; a state the
table does not know is reported as UNKNOWN rather than lost. The `receipted_message_id` and
`message_state` options stand in when the text lacks `id:` or `stat:`.

Concatenated messages from handsets are joined by sender, reference and count of parts; the
joined text is capped, incomplete ones are forgotten after a while, and only so many are
held at once, so a hostile sender costs bounded memory.
"""

from __future__ import annotations

import re
import struct
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from models.notifications.ports import Receipt, ReceiptState
from models.notifications.smpp_text import (
    Concatenation,
    concatenation_from_sar,
    decode_text,
    e164_from,
    split_header,
)

_TYPE_MASK: Final = 0x3C
_TYPE_RECEIPT: Final = 0x04
_UDHI: Final = 0x40
_RECEIPTED_MESSAGE_ID: Final = 0x001E
_SAR_REFERENCE: Final = 0x020C
_SAR_TOTAL: Final = 0x020E
_SAR_INDEX: Final = 0x020F
_MESSAGE_PAYLOAD: Final = 0x0424
_MESSAGE_STATE: Final = 0x0427

_STATES: Final = {
    "DELIVRD": ReceiptState.DELIVERED,
    "UNDELIV": ReceiptState.UNDELIVERABLE,
    "EXPIRED": ReceiptState.EXPIRED,
    "REJECTD": ReceiptState.REJECTED,
    "DELETED": ReceiptState.UNDELIVERABLE,
    "UNKNOWN": ReceiptState.UNKNOWN,
}
_NOT_FINAL: Final = frozenset({"ENROUTE", "ACCEPTD"})
# SMPP 3.4 section 5.3.2.35, the message_state option, named as receipts spell them.
_STATE_OPTION: Final = {
    1: "ENROUTE",
    2: "DELIVRD",
    3: "EXPIRED",
    4: "DELETED",
    5: "UNDELIV",
    6: "ACCEPTD",
    7: "UNKNOWN",
    8: "REJECTD",
}
_RECEIPT_ID: Final = re.compile(r"\bid:(\S+)", re.IGNORECASE)
_RECEIPT_STAT: Final = re.compile(r"\bstat:(\w+)", re.IGNORECASE)


class UnreadablePdu(ValueError):
    """A deliver_sm body shorter than its own fields say."""


@dataclass(frozen=True)
class DeliverSmFields:
    source: str
    source_ton: int
    esm_class: int
    data_coding: int
    short_message: bytes
    options: dict[int, bytes] = field(default_factory=dict)

    @property
    def is_receipt(self) -> bool:
        return self.esm_class & _TYPE_MASK == _TYPE_RECEIPT

    @property
    def is_message(self) -> bool:
        return self.esm_class & _TYPE_MASK == 0

    def option_int(self, tag: int) -> int | None:
        value = self.options.get(tag)
        return int.from_bytes(value, "big") if value else None


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self.offset = 0

    def c_string(self) -> str:
        end = self._data.find(b"\x00", self.offset)
        if end < 0:
            raise UnreadablePdu("unterminated string")
        text = self._data[self.offset : end].decode("ascii", "replace")
        self.offset = end + 1
        return text

    def take(self, count: int) -> bytes:
        if self.offset + count > len(self._data):
            raise UnreadablePdu("field runs past the end")
        chunk = self._data[self.offset : self.offset + count]
        self.offset += count
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    @property
    def left(self) -> int:
        return len(self._data) - self.offset


def read_deliver_sm(body: bytes) -> DeliverSmFields:
    """The fields of a deliver_sm body (the PDU after its 16-byte header). Raises
    UnreadablePdu."""
    cursor = _Cursor(body)
    cursor.c_string()  # service_type
    source_ton = cursor.byte()
    cursor.byte()  # source_addr_npi
    source = cursor.c_string()
    cursor.take(2)  # dest_addr_ton, dest_addr_npi
    cursor.c_string()  # destination: our service number
    esm_class = cursor.byte()
    cursor.take(2)  # protocol_id, priority_flag
    cursor.c_string()  # schedule_delivery_time
    cursor.c_string()  # validity_period
    cursor.take(2)  # registered_delivery, replace_if_present_flag
    data_coding = cursor.byte()
    cursor.byte()  # sm_default_msg_id
    short_message = cursor.take(cursor.byte())
    options: dict[int, bytes] = {}
    while cursor.left >= 4:
        tag, length = struct.unpack("!HH", cursor.take(4))
        options[tag] = cursor.take(length)
    return DeliverSmFields(source, source_ton, esm_class, data_coding, short_message, options)


def receipt_of(fields: DeliverSmFields, *, at: datetime) -> Receipt | None:
    """The receipt a deliver_sm carries; None when it names no message or no final state."""
    text = decode_text(fields.data_coding, fields.short_message)
    message_id = _option_text(fields, _RECEIPTED_MESSAGE_ID) or _first(_RECEIPT_ID, text)
    stat = _first(_RECEIPT_STAT, text).upper()
    if not stat:
        stat = _STATE_OPTION.get(fields.option_int(_MESSAGE_STATE) or 0, "")
    if not message_id or not stat or stat in _NOT_FINAL:
        return None
    return Receipt(message_id, _STATES.get(stat, ReceiptState.UNKNOWN), at)


def _option_text(fields: DeliverSmFields, tag: int) -> str:
    return fields.options.get(tag, b"").split(b"\x00", 1)[0].decode("ascii", "replace")


def _first(pattern: re.Pattern[str], text: str) -> str:
    found = pattern.search(text)
    return found.group(1) if found else ""


@dataclass(frozen=True)
class MessagePart:
    """A message from a handset, or one part of a concatenated one."""

    sender: str  # E.164 where the address allows
    text: str
    concatenation: Concatenation | None


def message_part(fields: DeliverSmFields, *, country_code: str) -> MessagePart:
    """The sender, text and place in a concatenation of a handset's deliver_sm."""
    payload = fields.options.get(_MESSAGE_PAYLOAD) or fields.short_message
    concatenation = None
    if fields.esm_class & _UDHI:
        concatenation, payload = split_header(payload)
    else:
        sar = [fields.option_int(tag) for tag in (_SAR_REFERENCE, _SAR_TOTAL, _SAR_INDEX)]
        if None not in sar:
            reference, total, index = (value or 0 for value in sar)
            concatenation = concatenation_from_sar(reference, total, index)
    sender = e164_from(fields.source, ton=fields.source_ton, country_code=country_code)
    return MessagePart(sender, decode_text(fields.data_coding, payload), concatenation)


@dataclass
class _Partial:
    started: float
    texts: dict[int, str] = field(default_factory=dict)


class Reassembly:
    """Joins the parts of concatenated messages from handsets, within bounds."""

    def __init__(self, *, max_chars: int, max_pending: int, ttl: float) -> None:
        self._max_chars = max_chars
        self._max_pending = max_pending
        self._ttl = ttl
        self._pending: dict[tuple[str, int, int], _Partial] = {}

    def add(self, part: MessagePart, *, now: float | None = None) -> str | None:
        """The whole text once the last part is in (capped); None while parts are missing."""
        if part.concatenation is None:
            return part.text[: self._max_chars]
        now = time.monotonic() if now is None else now
        self._forget_stale(now)
        key = (part.sender, part.concatenation.reference, part.concatenation.total)
        partial = self._pending.setdefault(key, _Partial(now))
        # Each partial holds at most max_chars in all, whatever the parts claim.
        budget = self._max_chars - sum(len(text) for text in partial.texts.values())
        partial.texts[part.concatenation.index] = part.text[: max(budget, 0)]
        if len(partial.texts) < part.concatenation.total:
            return None
        del self._pending[key]
        return "".join(partial.texts[i] for i in sorted(partial.texts))

    @property
    def pending(self) -> int:
        return len(self._pending)

    def _forget_stale(self, now: float) -> None:
        for key, partial in list(self._pending.items()):
            if now - partial.started > self._ttl:
                del self._pending[key]
        while len(self._pending) >= self._max_pending:
            del self._pending[next(iter(self._pending))]
