"""The SMPP adapter against the local SMS centre, over real TCP (no database)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
import socket
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiosmpplib import SmppCommand, SmppCommandStatus

from models.notifications.ports import (
    InboundSms,
    OutgoingSms,
    Receipt,
    ReceiptState,
    SubmitStatus,
)
from models.notifications.smpp import SmppCentre, SmppConfig
from tests.fakes.smsc import SmscFake

MEMBER = "+8613800138000"
OTHER = "+8613900139000"
ORDER_SHIPPED = "【积分商城】您的订单已发货，顺丰速运 SF1234567890，预计3天内送达。"
LONG_CHINESE = ("【积分商城】您的积分将于本月底到期，请尽快兑换心仪礼品。" * 8)[:200]

pytestmark = pytest.mark.timeout(30)


class Handset:
    """What the centre hands to the port's handlers."""

    def __init__(self) -> None:
        self.receipts: list[Receipt] = []
        self.inbound: list[InboundSms] = []

    async def on_receipt(self, receipt: Receipt) -> None:
        self.receipts.append(receipt)

    async def on_inbound(self, message: InboundSms) -> None:
        self.inbound.append(message)


def config_for(smsc: SmscFake, **changes: object) -> SmppConfig:
    config = SmppConfig(
        host=smsc.host,
        port=smsc.port,
        system_id="pointsmall",
        password="secret",
        source="10658888",
        window=4,
        submit_timeout=1.0,
        enquire_link_interval=5.0,
        reconnect_initial=0.05,
        reconnect_max=0.4,
        throttle_pause=0.2,
    )
    return dataclasses.replace(config, **changes)  # type: ignore[arg-type]


async def eventually(condition: object, timeout: float = 3.0) -> None:
    assert callable(condition)
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


@pytest_asyncio.fixture
async def smsc() -> AsyncIterator[SmscFake]:
    async with SmscFake.running(password="secret", receipt_delay=0.02) as fake:
        yield fake


@pytest.fixture
def handset() -> Handset:
    return Handset()


@pytest_asyncio.fixture
async def centre(smsc: SmscFake, handset: Handset) -> AsyncIterator[SmppCentre]:
    async with bound_centre(config_for(smsc), handset) as started:
        yield started


@contextlib.asynccontextmanager
async def bound_centre(
    config: SmppConfig, handset: Handset, *, wait: bool = True
) -> AsyncIterator[SmppCentre]:
    centre = SmppCentre(config)
    await centre.start(receipts=handset.on_receipt, inbound=handset.on_inbound)
    try:
        if wait:
            await eventually(lambda: centre.bound)
        yield centre
    finally:
        await centre.stop()


def sms(reference: str, text: str = "Your points: 1200", to: str = MEMBER) -> OutgoingSms:
    return OutgoingSms(reference, to, text)


# Sending


async def test_a_message_is_accepted_with_the_centres_message_id(
    smsc: SmscFake, centre: SmppCentre
) -> None:
    [result] = await centre.send([sms("d-1")])

    assert result.status is SubmitStatus.ACCEPTED
    [shown] = smsc.received
    assert (shown.to, shown.source, shown.text) == (MEMBER, "10658888", "Your points: 1200")
    assert (result.message_id, result.parts) == (shown.message_id, 1)
    assert shown.encoding == "gsm0338"


async def test_chinese_text_goes_as_ucs2_and_arrives_intact(
    smsc: SmscFake, centre: SmppCentre
) -> None:
    texts = [ORDER_SHIPPED, "积分到账 🎉 +200"]

    results = await centre.send([sms(f"d-{i}", text) for i, text in enumerate(texts)])

    assert [r.status for r in results] == [SubmitStatus.ACCEPTED] * 2
    assert sorted(m.text for m in smsc.received) == sorted(texts)
    assert {m.encoding for m in smsc.received} == {"ucs2"}


async def test_a_long_chinese_message_goes_as_concatenated_segments_the_handset_joins(
    smsc: SmscFake, centre: SmppCentre
) -> None:
    [result] = await centre.send([sms("d-long", LONG_CHINESE)])

    assert (result.status, result.parts) == (SubmitStatus.ACCEPTED, 3)
    assert [s.index for s in smsc.segments] == [1, 2, 3]
    assert {(s.esm_class, s.encoding, s.total) for s in smsc.segments} == {(0x40, "ucs2", 3)}
    assert len({s.reference for s in smsc.segments}) == 1
    assert max(len(s.text) for s in smsc.segments) == 67
    [shown] = smsc.received
    assert (shown.text, shown.parts) == (LONG_CHINESE, 3)
    assert result.message_id == shown.message_id == smsc.segments[0].message_id


async def test_a_long_ascii_message_goes_in_parts_of_153(
    smsc: SmscFake, centre: SmppCentre
) -> None:
    text = "Points statement: " + "0123456789" * 30

    [result] = await centre.send([sms("d-ascii", text)])

    assert (result.status, result.parts) == (SubmitStatus.ACCEPTED, 3)
    assert [len(s.text) for s in smsc.segments] == [153, 153, len(text) - 306]
    assert smsc.received[0].text == text


async def test_the_centres_refusal_is_rejected_with_its_status_and_a_bad_number_never_goes(
    smsc: SmscFake, centre: SmppCentre
) -> None:
    smsc.rejections[OTHER] = SmppCommandStatus.ESME_RINVDSTADR

    results = await centre.send([sms("d-1"), sms("d-2", to=OTHER), sms("d-3", to="13800138000")])

    assert [(r.reference, r.status, r.error) for r in results] == [
        ("d-1", SubmitStatus.ACCEPTED, ""),
        ("d-2", SubmitStatus.REJECTED, "ESME_RINVDSTADR"),
        ("d-3", SubmitStatus.REJECTED, "ESME_RINVDSTADR"),
    ]
    assert smsc.submits == 2


# Receipts


async def test_receipts_reach_the_handler_with_the_state_and_message_id(
    smsc: SmscFake, centre: SmppCentre, handset: Handset
) -> None:
    smsc.outcomes |= {OTHER: "UNDELIV", "+8613700137000": "EXPIRED", "+8613600136000": "ENROUTE"}
    numbers = [MEMBER, OTHER, "+8613700137000", "+8613600136000"]

    results = await centre.send([sms(f"d-{n}", to=n) for n in numbers])
    await eventually(lambda: len(smsc.deliver_answers) == smsc.receipts_sent == 4)

    states = {r.message_id: r.state for r in handset.receipts}
    assert states == {
        results[0].message_id: ReceiptState.DELIVERED,
        results[1].message_id: ReceiptState.UNDELIVERABLE,
        results[2].message_id: ReceiptState.EXPIRED,
    }  # ENROUTE is not final: not reported


async def test_a_multipart_message_has_one_receipt_under_its_first_parts_id(
    smsc: SmscFake, centre: SmppCentre, handset: Handset
) -> None:
    [result] = await centre.send([sms("d-long", LONG_CHINESE)])
    await eventually(lambda: len(smsc.deliver_answers) == smsc.receipts_sent == 3)

    assert [(r.message_id, r.state) for r in handset.receipts] == [
        (result.message_id, ReceiptState.DELIVERED)
    ]


# Messages from handsets


async def test_a_message_from_a_handset_reaches_inbound_with_an_e164_sender(
    smsc: SmscFake, centre: SmppCentre, handset: Handset
) -> None:
    await smsc.text_from(MEMBER, "JF")
    await smsc.text_from(OTHER, "积分")

    await eventually(lambda: len(handset.inbound) == 2)
    assert [(m.sender, m.text) for m in handset.inbound] == [(MEMBER, "JF"), (OTHER, "积分")]


@pytest.mark.parametrize("reference", [None, 300], ids=["8-bit reference", "16-bit reference"])
async def test_a_multipart_ucs2_message_from_a_handset_arrives_joined(
    smsc: SmscFake, centre: SmppCentre, handset: Handset, reference: int | None
) -> None:
    await smsc.text_from(MEMBER, LONG_CHINESE, reference=reference)

    parts = 3 if reference is None else 4  # a 16-bit reference takes a longer header
    await eventually(lambda: len(handset.inbound) == 1 and len(smsc.deliver_answers) == parts)
    assert handset.inbound[0].text == LONG_CHINESE


async def test_hostile_messages_from_handsets_never_break_the_bind(
    smsc: SmscFake, centre: SmppCentre, handset: Handset
) -> None:
    await smsc.deliver_raw(MEMBER, b"\xd8\x00\x00", data_coding=0x08)  # lone surrogate, odd
    await smsc.deliver_raw(MEMBER, b"", data_coding=0x00)
    await smsc.deliver_raw(MEMBER, b"\x05", data_coding=0x08, esm_class=0x40)  # cut-off UDH
    await smsc.deliver_raw(MEMBER, bytes(range(0x80, 0x90)), data_coding=0x00)
    await smsc.text_from(MEMBER, "好评 👍🏽🎉")
    await smsc.text_from(OTHER, "投诉" * 5_000)  # 10,000 characters in 150 parts
    await smsc.deliver_raw(
        OTHER, b"", data_coding=0x08, payload=("诉" * 10_000).encode("utf-16-be")
    )
    await smsc.text_from(MEMBER, "JF")

    delivered = 4 + 1 + 150 + 1 + 1
    await eventually(lambda: (len(handset.inbound), len(smsc.deliver_answers)) == (8, delivered))
    texts = [m.text for m in handset.inbound]
    assert set(texts[0]) == {"\ufffd"}
    assert texts[1:3] == ["", ""]
    assert texts[3] == "?" * 16
    assert texts[4:] == ["好评 👍🏽🎉", ("投诉" * 5_000)[:2_000], "诉" * 2_000, "JF"]
    assert {(command, status) for _, command, status in smsc.deliver_answers} == {
        (SmppCommand.DELIVER_SM_RESP, 0)
    }
    assert [a.status for a in smsc.bind_attempts] == [SmppCommandStatus.ESME_ROK]
    [result] = await centre.send([sms("d-after")])
    assert result.status is SubmitStatus.ACCEPTED


async def test_a_handler_that_raises_is_logged_and_the_bind_goes_on(
    smsc: SmscFake, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []

    async def failing(message: InboundSms) -> None:
        seen.append(message.text)
        raise RuntimeError("the router fell over")

    centre = SmppCentre(config_for(smsc))
    await centre.start(receipts=Handset().on_receipt, inbound=failing)
    try:
        await eventually(lambda: centre.bound)
        await smsc.text_from(MEMBER, "TD")
        await smsc.text_from(MEMBER, "DD")
        await eventually(lambda: len(seen) == 2)
        assert centre.bound
        assert [a.status for a in smsc.bind_attempts] == [SmppCommandStatus.ESME_ROK]
    finally:
        await centre.stop()
    assert "SMS InboundSms handler failed" in caplog.text


# Throttling, binds, drops, the window


@pytest.mark.parametrize(
    "status", [SmppCommandStatus.ESME_RTHROTTLED, SmppCommandStatus.ESME_RMSGQFUL]
)
async def test_a_throttled_submit_comes_back_throttled_and_later_ones_succeed_after_a_pause(
    smsc: SmscFake, handset: Handset, status: SmppCommandStatus
) -> None:
    smsc.throttle(1, status=status)
    async with bound_centre(config_for(smsc, window=1), handset) as centre:
        [first] = await centre.send([sms("d-1")])
        started = time.monotonic()
        [second] = await centre.send([sms("d-1")])

    assert (first.status, first.error) == (SubmitStatus.THROTTLED, status.name)
    assert second.status is SubmitStatus.ACCEPTED
    assert time.monotonic() - started >= 0.15  # the adapter held off (throttle_pause 0.2)
    assert [m.text for m in smsc.received] == ["Your points: 1200"]


async def test_a_refused_bind_is_retried_with_growing_backoff_until_accepted(
    smsc: SmscFake, handset: Handset
) -> None:
    smsc.refuse_binds(3)
    async with bound_centre(config_for(smsc), handset) as centre:
        [result] = await centre.send([sms("d-1")])

    statuses = [a.status for a in smsc.bind_attempts]
    assert statuses == [SmppCommandStatus.ESME_RBINDFAIL] * 3 + [SmppCommandStatus.ESME_ROK]
    times = [a.at for a in smsc.bind_attempts]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    # 0.05 s, then doubled each time (a little early allowed for the clock's grain)
    assert min(gap / 2**i for i, gap in enumerate(gaps)) >= 0.045
    assert result.status is SubmitStatus.ACCEPTED


async def test_a_wrong_password_never_binds_and_sends_are_unavailable(
    smsc: SmscFake, handset: Handset
) -> None:
    config = config_for(smsc, password="wrong", submit_timeout=0.3)
    async with bound_centre(config, handset, wait=False) as centre:
        [result] = await centre.send([sms("d-1")])
        assert not centre.bound

    assert (result.status, result.error) == (SubmitStatus.UNAVAILABLE, "no bind")
    assert {a.status for a in smsc.bind_attempts} == {SmppCommandStatus.ESME_RINVPASWD}
    assert smsc.submits == 0


async def test_a_connection_dropped_mid_window_fails_the_outstanding_and_binds_again(
    smsc: SmscFake, handset: Handset
) -> None:
    smsc.answer_delay = 0.2
    smsc.drop_after(2)  # cut when the third submit arrives: the first two are unanswered
    async with bound_centre(config_for(smsc, window=4), handset) as centre:
        results = await centre.send([sms(f"d-{i}", f"message {i}") for i in range(6)])
        again = await centre.send(
            [sms(r.reference, f"message {r.reference[2:]}") for r in results[:4]]
        )

    assert [r.status for r in results] == [SubmitStatus.UNAVAILABLE] * 4 + [
        SubmitStatus.ACCEPTED
    ] * 2
    assert {r.error for r in results[:4]} == {"connection lost"}
    assert [r.status for r in again] == [SubmitStatus.ACCEPTED] * 4
    assert sorted(m.text for m in smsc.received) == [f"message {i}" for i in range(6)]
    assert [a.status for a in smsc.bind_attempts] == [SmppCommandStatus.ESME_ROK] * 2


async def test_a_window_of_n_never_has_more_than_n_submits_outstanding(
    smsc: SmscFake, handset: Handset
) -> None:
    smsc.answer_delay = 0.1  # long enough for the window to fill however busy the machine
    async with bound_centre(config_for(smsc, window=3), handset) as centre:
        results = await centre.send([sms(f"d-{i}", f"message {i}") for i in range(12)])

    assert [r.status for r in results] == [SubmitStatus.ACCEPTED] * 12
    assert [r.reference for r in results] == [f"d-{i}" for i in range(12)]
    assert smsc.max_outstanding == 3
    assert sorted(m.text for m in smsc.received) == sorted(f"message {i}" for i in range(12))


async def test_an_idle_bind_is_kept_alive_with_enquire_link(
    smsc: SmscFake, handset: Handset
) -> None:
    async with bound_centre(config_for(smsc, enquire_link_interval=0.05), handset) as centre:
        await eventually(lambda: smsc.enquire_links >= 3)
        assert centre.bound
    assert len(smsc.bind_attempts) == 1


# Stopping


async def test_stop_unbinds_cleanly(smsc: SmscFake, handset: Handset) -> None:
    async with bound_centre(config_for(smsc), handset) as centre:
        assert smsc.unbinds == 0

    assert smsc.unbinds == 1
    assert not centre.bound


async def test_stop_returns_promptly_while_the_centre_refuses_connections(
    handset: Handset,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = SmppConfig(host="127.0.0.1", port=port, system_id="p", password="p", source="1")
    centre = SmppCentre(dataclasses.replace(config, reconnect_initial=0.01))
    await centre.start(receipts=handset.on_receipt, inbound=handset.on_inbound)
    await asyncio.sleep(0.1)
    pending = asyncio.create_task(centre.send([sms("d-1")]))
    await asyncio.sleep(0.05)

    started = time.monotonic()
    await centre.stop()

    assert time.monotonic() - started < 0.5
    [result] = await asyncio.wait_for(pending, 0.1)  # the waiting send gave up as well
    assert (result.status, result.error) == (SubmitStatus.UNAVAILABLE, "stopping")


async def test_stop_returns_promptly_while_a_bind_goes_unanswered(
    handset: Handset, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "pointsmall.sms")

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    config = SmppConfig(host="127.0.0.1", port=port, system_id="p", password="p", source="1")
    centre = SmppCentre(config)  # 10 seconds for an answer to the bind
    await centre.start(receipts=handset.on_receipt, inbound=handset.on_inbound)
    await asyncio.sleep(0.1)

    started = time.monotonic()
    await centre.stop()

    assert time.monotonic() - started < 0.5
    server.close()
    await server.wait_closed()
