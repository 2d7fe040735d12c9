"""Text and numbers as SMPP carries them, in both directions, as pure functions.

Our side speaks E.164 (`+8613800138000`) and Python strings; the SMS centre speaks addresses
with a type of number (TON) and numbering plan (NPI), a `data_coding` byte and, for a long
text, concatenated parts that each start with a user data header (UDH).

Outgoing text goes as GSM 03.38 when every character has a GSM code (plain ASCII mostly) and
as UCS-2 otherwise (Chinese, emoji). A text too long for one message is split into parts of
153 septets (GSM) or 67 UTF-16 units (UCS-2) behind an 8-bit concatenation header; a split
never separates a GSM escape from its character nor a surrogate pair. The 8-bit reference is
the widely supported form, and it keeps clear of aiosmpplib 0.7.4's misreading of 16-bit
references.

Incoming text is decoded by its `data_coding` with replacement characters: bytes a handset
or a centre got wrong never raise here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from aiosmpplib import NPI, TON, GSM7BitCodec, PhoneNumber

DATA_CODING_DEFAULT: Final = 0x00  # the centre's default alphabet: GSM 03.38, one byte a septet
DATA_CODING_ASCII: Final = 0x01
DATA_CODING_LATIN_1: Final = 0x03
DATA_CODING_UCS2: Final = 0x08
# Not in SMPP 3.4, but Chinese gateways (after CMPP's msg_fmt) use 15 for GBK.
DATA_CODING_GBK: Final = 0x0F

# Bytes of text a message can carry: 160 septets (one byte each on the SMPP wire) or 140
# octets, less the 6-byte concatenation header (UDH length byte + 5) once split.
_GSM_SINGLE: Final = 160
_GSM_PART: Final = 153
_UCS2_SINGLE: Final = 140
_UCS2_PART: Final = 134
_MAX_PARTS: Final = 255  # the header counts parts in one byte
_IE_CONCAT_8BIT: Final = 0x00
_IE_CONCAT_16BIT: Final = 0x08

_E164: Final = re.compile(r"\+[1-9][0-9]{6,14}")
_GSM = GSM7BitCodec()


@dataclass(frozen=True)
class EncodedText:
    """A text ready for submit_sm: the data_coding and each part's short_message bytes
    (with its concatenation header when there is more than one part)."""

    data_coding: int
    parts: tuple[bytes, ...]

    @property
    def concatenated(self) -> bool:
        return len(self.parts) > 1


@dataclass(frozen=True)
class Concatenation:
    """Where one part sits in a concatenated message, read from its header or SAR fields."""

    reference: int
    total: int
    index: int  # 1-based


class TextTooLong(ValueError):
    """More than 255 parts: no handset could join it."""


def encode_text(text: str, *, reference: int) -> EncodedText:
    """The text as GSM 03.38 when it can be, UCS-2 otherwise, split into parts if long;
    `reference` (taken modulo 256) ties the parts together. Raises TextTooLong."""
    if GSM7BitCodec.is_gsm_text(text):
        # Extended characters ("€", "[") take an escape and a septet: keep them in one unit.
        units = [_GSM.encode(character)[0] for character in text]
        data_coding, single, part = DATA_CODING_DEFAULT, _GSM_SINGLE, _GSM_PART
    else:
        # One unit per code point keeps a surrogate pair (an emoji) in one part.
        units = [character.encode("utf-16-be") for character in text]
        data_coding, single, part = DATA_CODING_UCS2, _UCS2_SINGLE, _UCS2_PART
    if sum(len(unit) for unit in units) <= single:
        return EncodedText(data_coding, (b"".join(units),))
    chunks = _chunks(units, part)
    if len(chunks) > _MAX_PARTS:
        raise TextTooLong(f"{len(chunks)} parts")
    header = bytes([5, _IE_CONCAT_8BIT, 3, reference % 256, len(chunks)])
    parts = tuple(header + bytes([index]) + chunk for index, chunk in enumerate(chunks, 1))
    return EncodedText(data_coding, parts)


def _chunks(units: list[bytes], size: int) -> list[bytes]:
    chunks: list[bytes] = []
    current = bytearray()
    for unit in units:
        if len(current) + len(unit) > size:
            chunks.append(bytes(current))
            current = bytearray()
        current += unit
    chunks.append(bytes(current))
    return chunks


def decode_text(data_coding: int, raw: bytes) -> str:
    """The text of a short_message (its header already removed); never raises."""
    if data_coding == DATA_CODING_UCS2:
        return raw.decode("utf-16-be", "replace")
    if data_coding == DATA_CODING_DEFAULT:
        return _GSM.decode(raw, "replace")[0]
    if data_coding == DATA_CODING_ASCII:
        return raw.decode("ascii", "replace")
    if data_coding == DATA_CODING_GBK:
        return raw.decode("gbk", "replace")
    # Latin-1 and anything unrecognised: Latin-1 maps every byte to a character.
    return raw.decode("latin-1")


def split_header(payload: bytes) -> tuple[Concatenation | None, bytes]:
    """The concatenation a UDH describes (None if it describes none that makes sense) and
    the text bytes after the header. A header longer than the payload leaves no text."""
    if not payload:
        return None, b""
    length = payload[0]
    header, body = payload[1 : 1 + length], payload[1 + length :]
    if len(header) < length:
        return None, b""
    concatenation = None
    offset = 0
    while offset + 2 <= len(header):
        element, size = header[offset], header[offset + 1]
        data = header[offset + 2 : offset + 2 + size]
        if element == _IE_CONCAT_8BIT and size == 3 and len(data) == 3:
            concatenation = _valid(data[0], data[1], data[2])
        elif element == _IE_CONCAT_16BIT and size == 4 and len(data) == 4:
            concatenation = _valid(data[0] << 8 | data[1], data[2], data[3])
        offset += 2 + size
    return concatenation, body


def _valid(reference: int, total: int, index: int) -> Concatenation | None:
    if total < 2 or not 1 <= index <= total:
        return None
    return Concatenation(reference, total, index)


def concatenation_from_sar(reference: int, total: int, index: int) -> Concatenation | None:
    """The same from the sar_* optional parameters some centres use instead of a UDH."""
    return _valid(reference, total, index)


def handset_address(number: str) -> PhoneNumber | None:
    """`+8613800138000` as an international ISDN address; None if it is not E.164."""
    if not _E164.fullmatch(number):
        return None
    return PhoneNumber(number[1:], TON.INTERNATIONAL, NPI.ISDN)


def service_address(number: str, *, ton: int, npi: int) -> PhoneNumber:
    """The service number (a short code, or an alphanumeric name) as configured."""
    return PhoneNumber(number, TON(ton), NPI(npi))


def e164_from(number: str, *, ton: int, country_code: str) -> str:
    """A handset's address as E.164: international as it is, national with the country code,
    unknown by its look ("00" or the country code in front means international: national
    numbers start with a trunk "0" or, for mobiles in China, a "1"). Anything
    that is not digits (an alphanumeric sender) comes back as it was."""
    digits = number.strip().removeprefix("+")
    if not digits.isdigit() or ton == TON.ALPHANUMERIC:
        return number.strip()
    if ton == TON.INTERNATIONAL or number.strip().startswith("+"):
        return f"+{digits}"
    if ton == TON.NATIONAL:
        return f"+{country_code}{digits.lstrip('0')}"
    if digits.startswith("00"):
        return f"+{digits[2:]}"
    if digits.startswith(country_code):
        return f"+{digits}"
    return f"+{country_code}{digits.lstrip('0')}"
