"""SMPP's text, numbers, receipts and concatenations, read and written without a centre."""

from __future__ import annotations

import struct
from datetime import UTC, datetime

import pytest
from aiosmpplib import NPI, TON

from models.notifications.ports import ReceiptState
from models.notifications.smpp_inbound import (
    DeliverSmFields,
    MessagePart,
    Reassembly,
    UnreadablePdu,
    read_deliver_sm,
    receipt_of,
)
from models.notifications.smpp_text import (
    Concatenation,
    TextTooLong,
    decode_text,
    e164_from,
    encode_text,
    handset_address,
    split_header,
)

AT = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def texts_of(parts: tuple[bytes, ...], codec: str) -> list[str]:
    return [part[6:].decode(codec) for part in parts]


def test_a_gsm_text_of_160_characters_is_one_part_and_161_make_two_of_153_and_8() -> None:
    assert encode_text("a" * 160, reference=1).parts == (b"a" * 160,)
    parts = encode_text("a" * 161, reference=1).parts
    assert [len(part) - 6 for part in parts] == [153, 8]
    assert [part[:6] for part in parts] == [
        b"\x05\x00\x03\x01\x02\x01",
        b"\x05\x00\x03\x01\x02\x02",
    ]


def test_an_extended_gsm_character_counts_twice_and_stays_whole() -> None:
    encoded = encode_text("a" * 152 + "€" + "b" * 10, reference=7)

    assert encoded.data_coding == 0
    assert [len(part) - 6 for part in encoded.parts] == [152, 12]
    assert encoded.parts[1][6:8] == b"\x1be"  # the escape travels with its character


def test_chinese_goes_as_ucs2_70_to_a_message_and_67_to_a_part() -> None:
    assert encode_text("积" * 70, reference=1).parts == (("积" * 70).encode("utf-16-be"),)
    encoded = encode_text("积" * 71, reference=300)

    assert encoded.data_coding == 8
    assert texts_of(encoded.parts, "utf-16-be") == ["积" * 67, "积" * 4]
    assert encoded.parts[0][3] == 300 % 256


def test_an_emoji_is_never_split_between_parts() -> None:
    encoded = encode_text("积" * 66 + "🎉" + "分" * 4, reference=1)

    assert texts_of(encoded.parts, "utf-16-be") == ["积" * 66, "🎉分分分分"]


def test_a_text_of_more_than_255_parts_is_too_long() -> None:
    encode_text("积" * 67 * 255, reference=1)
    with pytest.raises(TextTooLong):
        encode_text("积" * (67 * 255 + 1), reference=1)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"\x05\x00\x03\x2a\x03\x02ab", (Concatenation(42, 3, 2), b"ab")),
        (b"\x06\x08\x04\x01\x2c\x04\x04ab", (Concatenation(300, 4, 4), b"ab")),
        (b"\x05\x00\x03\x2a\x01\x01ab", (None, b"ab")),  # one part of one
        (b"\x05\x00\x03\x2a\x03\x04ab", (None, b"ab")),  # part 4 of 3
        (b"\x05\x00\x03", (None, b"")),  # cut off
        (b"", (None, b"")),
    ],
    ids=["8-bit", "16-bit", "single", "past the count", "cut off", "empty"],
)
def test_a_user_data_header_is_read_or_set_aside(
    payload: bytes, expected: tuple[Concatenation | None, bytes]
) -> None:
    assert split_header(payload) == expected


@pytest.mark.parametrize(
    ("data_coding", "raw", "text"),
    [
        (8, "积分🎉".encode("utf-16-be"), "积分🎉"),
        (8, b"\xd8\x00\x00\x41", "\ufffdA"),
        (0, b"JF\x80", "JF?"),
        (1, b"TD\xff", "TD\ufffd"),
        (3, "café".encode("latin-1"), "café"),
        (0x0F, "积分".encode("gbk"), "积分"),
        (0x04, b"\x00\xff", "\x00\xff"),
    ],
    ids=["ucs2", "bad ucs2", "gsm", "ascii", "latin-1", "gbk", "octets"],
)
def test_text_is_decoded_by_its_data_coding_with_replacement(
    data_coding: int, raw: bytes, text: str
) -> None:
    assert decode_text(data_coding, raw) == text


@pytest.mark.parametrize(
    ("number", "ton", "e164"),
    [
        ("8613800138000", TON.INTERNATIONAL, "+8613800138000"),
        ("13800138000", TON.NATIONAL, "+8613800138000"),
        ("008613800138000", TON.UNKNOWN, "+8613800138000"),
        ("8613800138000", TON.UNKNOWN, "+8613800138000"),
        ("13800138000", TON.UNKNOWN, "+8613800138000"),
        ("+8613800138000", TON.UNKNOWN, "+8613800138000"),
        ("Bank", TON.ALPHANUMERIC, "Bank"),
    ],
)
def test_a_handsets_address_reads_as_e164(number: str, ton: TON, e164: str) -> None:
    assert e164_from(number, ton=ton, country_code="86") == e164


def test_only_e164_numbers_make_a_destination() -> None:
    address = handset_address("+8613800138000")
    assert address is not None
    assert (address.number, address.ton, address.npi) == ("8613800138000", TON(1), NPI(1))
    assert [handset_address(n) for n in ("13800138000", "+86 138", "+0861380013800")] == [None] * 3


def receipt(text: str, **options: bytes) -> DeliverSmFields:
    tags = {"receipted_message_id": 0x001E, "message_state": 0x0427}
    tagged = {tags[name]: value for name, value in options.items()}
    return DeliverSmFields("8613800138000", 1, 0x04, 0, text.encode("ascii"), tagged)


@pytest.mark.parametrize(
    ("stat", "state"),
    [
        ("DELIVRD", ReceiptState.DELIVERED),
        ("UNDELIV", ReceiptState.UNDELIVERABLE),
        ("EXPIRED", ReceiptState.EXPIRED),
        ("REJECTD", ReceiptState.REJECTED),
        ("DELETED", ReceiptState.UNDELIVERABLE),
        ("UNKNOWN", ReceiptState.UNKNOWN),
        ("SOMETHING", ReceiptState.UNKNOWN),
        ("ENROUTE", None),
        ("ACCEPTD", None),
    ],
)
def test_a_receipts_stat_maps_to_a_final_state_or_none(
    stat: str, state: ReceiptState | None
) -> None:
    text = f"id:0A1B sub:001 dlvrd:001 submit date:2612061200 done date:2612061201 stat:{stat}"
    found = receipt_of(receipt(text + " err:000 Text:hello"), at=AT)

    read = (found.message_id, found.state) if found else None
    assert read == (("0A1B", state) if state else None)


def test_a_receipt_without_id_or_stat_in_its_text_reads_its_options() -> None:
    fields = receipt("no usual text", receipted_message_id=b"77\x00", message_state=b"\x05")

    assert receipt_of(fields, at=AT) == receipt_of(receipt("id:77 stat:UNDELIV"), at=AT)
    assert receipt_of(receipt("stat:DELIVRD"), at=AT) is None


def deliver_sm_body(short_message: bytes, *, esm_class: int = 0, tail: bytes = b"") -> bytes:
    return (
        b"\x00\x01\x018613800138000\x00\x02\x0110658888\x00"
        + bytes([esm_class, 0, 0])
        + b"\x00\x00\x00\x00\x08\x00"
        + bytes([len(short_message)])
        + short_message
        + tail
    )


def test_a_deliver_sm_body_is_read_with_its_options_and_a_short_one_is_refused() -> None:
    payload = struct.pack("!HH", 0x0424, 4) + "积分".encode("utf-16-be")
    fields = read_deliver_sm(deliver_sm_body(b"", tail=payload))

    assert (fields.source, fields.source_ton, fields.data_coding) == ("8613800138000", 1, 8)
    assert fields.options == {0x0424: "积分".encode("utf-16-be")}
    with pytest.raises(UnreadablePdu):
        read_deliver_sm(deliver_sm_body(b"abc")[:-2])


def part(sender: str, text: str, reference: int, total: int, index: int) -> MessagePart:
    return MessagePart(sender, text, Concatenation(reference, total, index))


def test_parts_are_joined_in_order_per_sender_and_reference() -> None:
    joining = Reassembly(max_chars=100, max_pending=10, ttl=60)

    assert joining.add(part("+861", "b", 1, 2, 2), now=0) is None
    assert joining.add(part("+862", "x", 1, 2, 1), now=0) is None  # same reference, other sender
    assert joining.add(part("+861", "a", 1, 2, 1), now=1) == "ab"
    assert joining.pending == 1


def test_joining_is_bounded_in_length_count_and_time() -> None:
    joining = Reassembly(max_chars=5, max_pending=2, ttl=60)

    assert joining.add(part("+861", "abcd", 1, 2, 1), now=0) is None
    assert joining.add(part("+861", "efgh", 1, 2, 2), now=0) == "abcde"
    for reference in range(3):
        joining.add(part("+861", "a", reference, 2, 1), now=0)
    assert joining.pending == 2
    joining.add(part("+862", "a", 9, 2, 1), now=61)
    assert joining.pending == 1  # the stale ones went
