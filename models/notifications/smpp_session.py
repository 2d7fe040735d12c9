"""Holding one SMPP 3.4 transceiver bind open: bind, keep alive, answer the centre, bind again.

`BindKeeper.run` binds, serves the bind until it ends, and binds again after
`reconnect_initial` seconds, doubling up to `reconnect_max` while the centre is unreachable
or refuses the bind. While bound it reads every PDU: answers go to whoever waits for them
(`Link.settle`), deliver_sm is answered with deliver_sm_resp whatever it holds and handed to
`on_deliver`, enquire_link and unbind are answered, anything else gets generic_nack. An
enquire_link goes after `enquire_link_interval` seconds without traffic; an unanswered one
ends the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from aiosmpplib import (
    NPI,
    TON,
    BindTransceiver,
    DeliverSmResp,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    SmppCommand,
    SmppCommandStatus,
    Unbind,
    UnbindResp,
)

from models.notifications.smpp_link import ConnectionLost, Link, Pdu, status_name
from models.notifications.smpp_text import service_address

log = logging.getLogger("pointsmall.sms")

_UNBIND_WAIT: Final = 2.0
_READ_LIMIT: Final = 2**17


@dataclass(frozen=True)
class SmppConfig:
    """How to reach and bind to the operator's SMS centre. `source` is the service number
    (a short code such as "10658888": TON national, NPI ISDN by default; an alphanumeric
    name takes TON 5, NPI 0). `country_code` completes national numbers from handsets."""

    host: str
    port: int
    system_id: str
    password: str
    source: str
    system_type: str = ""
    source_ton: int = TON.NATIONAL
    source_npi: int = NPI.ISDN
    country_code: str = "86"
    window: int = 10
    submit_timeout: float = 10.0
    enquire_link_interval: float = 30.0
    reconnect_initial: float = 1.0
    reconnect_max: float = 60.0  # the backoff's cap
    throttle_pause: float = 1.0

    def __post_init__(self) -> None:
        # SMPP 3.4 field sizes, checked here so a bad setting fails at once, not per bind.
        limits = {"system_id": 15, "password": 8, "system_type": 12, "source": 20}
        for name, limit in limits.items():
            if len(getattr(self, name)) > limit:
                raise ValueError(f"{name} is longer than SMPP allows ({limit})")
        service_address(self.source, ton=self.source_ton, npi=self.source_npi)
        times = (self.submit_timeout, self.enquire_link_interval, self.reconnect_initial)
        if self.window < 1 or min(times) <= 0 or self.reconnect_max < self.reconnect_initial:
            raise ValueError("window, timeouts and backoff must be positive")


class SequenceNumbers:
    """SMPP sequence numbers, 1 to 0x7FFFFFFF and round again."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        self._last = self._last % 0x7FFFFFFF + 1
        return self._last


class BindKeeper:
    """Binds and keeps binding until `stopping` is set; `link` is the open bind, if any, and
    `linked` is set whenever one opens."""

    def __init__(
        self,
        config: SmppConfig,
        sequences: SequenceNumbers,
        *,
        on_answer: Callable[[Pdu], None],
        on_deliver: Callable[[bytes], None],
    ) -> None:
        self._config = config
        self._sequences = sequences
        self._on_answer = on_answer
        self._on_deliver = on_deliver
        self.link: Link | None = None
        self.linked = asyncio.Event()
        self.stopping = asyncio.Event()

    async def run(self) -> None:
        delay = self._config.reconnect_initial
        while not self.stopping.is_set():
            link = await self._bind()
            if link is None:
                await self._pause(delay)
                delay = min(delay * 2, self._config.reconnect_max)
                continue
            delay = self._config.reconnect_initial
            await self._serve(link)
            await self._pause(delay)

    async def unbind(self, link: Link) -> None:
        """Unbind and close, waiting a little for the centre's unbind_resp."""
        sequence = self._sequences.next()
        answer = link.expect(sequence)
        with contextlib.suppress(ConnectionLost, TimeoutError):
            await link.send(Unbind(sequence_num=sequence).pdu())
            await asyncio.wait_for(answer, min(self._config.submit_timeout, _UNBIND_WAIT))
        link.close()

    async def _pause(self, delay: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), delay)

    async def _bind(self) -> Link | None:
        config = self._config
        try:
            connecting = asyncio.open_connection(config.host, config.port, limit=_READ_LIMIT)
            reader, writer = await asyncio.wait_for(connecting, config.submit_timeout)
        except (OSError, TimeoutError) as exc:
            log.warning("SMS centre %s:%s unreachable: %r", config.host, config.port, exc)
            return None
        link = Link(reader, writer)
        bound = False
        try:
            bound = await self._handshake(link)
        finally:
            if not bound:  # refused, or cancelled by stop
                link.close()
        return link if bound else None

    async def _handshake(self, link: Link) -> bool:
        config = self._config
        request = BindTransceiver(
            sequence_num=self._sequences.next(),
            system_id=config.system_id,
            password=config.password,
            system_type=config.system_type,
        )
        try:
            await link.send(request.pdu())
            answer = await asyncio.wait_for(link.read(), config.submit_timeout)
        except (ConnectionLost, TimeoutError) as exc:
            log.warning("SMS centre did not answer the bind: %r", exc)
            return False
        if answer.command != SmppCommand.BIND_TRANSCEIVER_RESP or answer.status:
            log.warning("SMS centre refused the bind: %s", status_name(answer.status))
            return False
        log.info("bound to the SMS centre at %s:%s", config.host, config.port)
        return True

    async def _serve(self, link: Link) -> None:
        self.link = link
        self.linked.set()
        tasks = {asyncio.create_task(self._read(link)), asyncio.create_task(self._keep_alive(link))}
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                error = task.exception()
                if error is not None and not isinstance(error, ConnectionLost):
                    log.error("SMPP connection failed", exc_info=error)
            if not self.stopping.is_set():
                log.warning("SMS centre connection closed; binding again")
        finally:
            link.close()
            self.link = None
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks)

    async def _keep_alive(self, link: Link) -> None:
        interval = self._config.enquire_link_interval
        loop = asyncio.get_running_loop()
        while True:
            quiet = loop.time() - link.last_heard
            if quiet < interval:
                await asyncio.sleep(interval - quiet)
                continue
            sequence = self._sequences.next()
            answer = link.expect(sequence)
            await link.send(EnquireLink(sequence_num=sequence).pdu())
            try:
                if await asyncio.wait_for(answer, self._config.submit_timeout) is None:
                    return
            except TimeoutError:
                log.warning("no answer to enquire_link: dropping the connection")
                return

    async def _read(self, link: Link) -> None:
        while True:
            pdu = await link.read()
            if pdu.is_response:
                self._on_answer(pdu)
                if not link.settle(pdu):
                    log.debug("an answer nobody waits for: %08X #%d", pdu.command, pdu.sequence)
            elif pdu.command == SmppCommand.DELIVER_SM:
                await link.send(DeliverSmResp(sequence_num=pdu.sequence).pdu())
                try:
                    self._on_deliver(pdu.body)
                except Exception:  # input from outside must not end the bind
                    log.exception("deliver_sm could not be handled")
            elif pdu.command == SmppCommand.ENQUIRE_LINK:
                await link.send(EnquireLinkResp(sequence_num=pdu.sequence).pdu())
            elif pdu.command == SmppCommand.UNBIND:
                await link.send(UnbindResp(sequence_num=pdu.sequence).pdu())
                return
            else:
                invalid = SmppCommandStatus.ESME_RINVCMDID
                await link.send(
                    GenericNack(sequence_num=pdu.sequence, command_status=invalid).pdu()
                )
