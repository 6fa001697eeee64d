"""The SMTP adapter (aiosmtplib): the only code that talks to the outgoing relay.

It sends a batch over one connection and reports each mail's fate as a value the moment the server
answers (Mailman's SomeRecipientsFailed): sent, temporary (4xx, network: retry) or permanent (5xx).
The caller records each result at once, which keeps the window for a duplicate after a crash to
the instant between the server's "250" and our commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import ssl
from collections.abc import Callable, Sequence
from typing import cast

import aiosmtplib
from aiosmtplib.protocol import normalize_message_line_endings

from daemon.config import SmtpConfig
from daemon.core.outbox import Envelope, Fate, InOrder, SendResult
from daemon.edges.oauth import TokenSource
from daemon.errors import TransientError


class SmtpSender:
    def __init__(self, config: SmtpConfig, connections: int = 1) -> None:
        self.config = config
        self.connections = connections
        self.tokens = TokenSource(config.oauth) if config.auth == "xoauth2" and config.oauth else None

    def describe(self) -> str:
        return f"smtp://{self.config.host}:{self.config.port} ({self.config.tls})"

    def send_all(
        self,
        envelopes: Sequence[Envelope],
        report: Callable[[int, SendResult], None],
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        """Send the envelopes over `connections` connections at once; `report(index, result)` is called
        for each sent or failed, as soon as the relay answered; those left when `stopping()` turns true
        are neither sent nor reported."""
        asyncio.run(self._send_all(envelopes, report, stopping))

    def check(self) -> str:
        async def probe() -> None:
            client = await self._connect()
            await client.noop()
            await client.quit()

        try:
            asyncio.run(probe())
        except (*_FAILURES, TransientError) as exc:
            raise TransientError(f"smtp: {self.describe()}: {_why(exc)}") from None
        return f"smtp: {self.describe()} answered"

    async def _connect(self) -> aiosmtplib.SMTP:
        cfg = self.config
        client = aiosmtplib.SMTP(
            hostname=cfg.host,
            port=cfg.port,
            use_tls=cfg.tls == "ssl",
            start_tls=cfg.tls == "starttls",
            tls_context=ssl.create_default_context() if cfg.tls != "none" else None,
            timeout=cfg.timeout.total_seconds(),
        )
        await client.connect()
        if self.tokens is not None:
            await self._xoauth2(client)
        elif cfg.username:
            await client.login(cfg.username, cfg.password)
        return client

    async def _xoauth2(self, client: aiosmtplib.SMTP) -> None:
        """Log in with the access token; a token refused before its end is refreshed once. A refusal is
        a TransientError (the letters wait), never a 5xx that would fail them for good."""
        assert self.tokens is not None
        token = await asyncio.to_thread(self.tokens.access_token)
        try:
            await client.auth_xoauth2(self.config.username, token)
            return
        except aiosmtplib.SMTPAuthenticationError:
            token = await asyncio.to_thread(self.tokens.refresh, token)
        try:
            await client.auth_xoauth2(self.config.username, token)
        except aiosmtplib.SMTPAuthenticationError as exc:
            client.close()
            raise TransientError(f"smtp: {self.describe()}: XOAUTH2 refused: {_why(exc)}") from None

    async def _send_all(
        self, envelopes: Sequence[Envelope], report: Callable[[int, SendResult], None], stopping: Callable[[], bool]
    ) -> None:
        """`connections` workers take the next letter that may leave (core.outbox.InOrder: a letter
        waits for the answer to the earlier one to its recipients about the same complaint), each
        over its own connection."""
        order = _Order(InOrder(envelopes), stopping)
        workers = min(self.connections, len(envelopes))
        await asyncio.gather(*(self._worker(envelopes, order, report) for _ in range(workers)))

    async def _worker(
        self,
        envelopes: Sequence[Envelope],
        order: _Order,
        report: Callable[[int, SendResult], None],
    ) -> None:
        """Send the letters `order` hands out over one connection, opened at the first (again after a
        letter that left it broken). A worker that cannot connect while another is connected gives its
        letter back and stops (a relay that takes fewer connections than configured); when none is,
        the relay is out of reach and every letter left waits for the next try."""
        client: aiosmtplib.SMTP | None = None
        while (index := await order.take()) is not None:
            try:
                if client is None or not client.is_connected:
                    client = await self._connection(client, order, index, report)
                    if client is None:
                        return
                try:
                    result = await _send_one(client, envelopes[index])
                except Exception as exc:  # the one catch-all per letter: a row never stops the sender
                    result = SendResult(Fate.PERMANENT, f"cannot be sent: {exc.__class__.__name__}: {_why(exc)}")
                    await _drop(client)
                    client, order.connected = None, order.connected - 1
                report(index, result)
            finally:
                order.done(index)  # nothing for a letter given back
        if client is not None:
            order.connected -= 1
            if client.is_connected:
                with contextlib.suppress(*_FAILURES):
                    await client.quit()

    async def _connection(
        self,
        client: aiosmtplib.SMTP | None,
        order: _Order,
        index: int,
        report: Callable[[int, SendResult], None],
    ) -> aiosmtplib.SMTP | None:
        """A new connection for letter `index` (`client`, if any, was closed by the relay), counted
        in `order.connected`; None when it cannot be opened: the letter is given back to the
        workers still connected, or, when none is, it and every letter left wait for the next try."""
        if client is None:
            order.connected += 1  # connecting counts: it may well succeed
        try:
            return await self._connect()
        except (*_FAILURES, TransientError) as exc:
            order.connected -= 1
            if order.connected:
                order.give_back(index)
                return None
            failure = SendResult(_fate_of(exc), f"cannot connect: {_why(exc)}")
            for rest in (index, *order.rest()):
                report(rest, failure)
            return None


class _Order:
    """core.outbox.InOrder shared by the workers of one event loop: `take` waits while every letter
    left waits for the answer to an earlier one, and returns None once none is left, or once
    `stopping()`."""

    def __init__(self, order: InOrder, stopping: Callable[[], bool]) -> None:
        self._order, self._stopping = order, stopping
        self._waiting: list[asyncio.Future[None]] = []
        self.connected = 0  # workers holding a connection or opening one

    async def take(self) -> int | None:
        while not self._stopping():
            index = self._order.take()
            if index is not None or not self._order.left:
                return index
            waiter = asyncio.get_running_loop().create_future()
            self._waiting.append(waiter)
            await waiter
        return None

    def rest(self) -> list[int]:
        rest = self._order.rest()
        self._wake()
        return rest

    def give_back(self, index: int) -> None:
        self._order.give_back(index)
        self._wake()

    def done(self, index: int) -> None:
        self._order.done(index)
        self._wake()

    def _wake(self) -> None:
        waiting, self._waiting = self._waiting, []
        for waiter in waiting:
            if not waiter.done():
                waiter.set_result(None)


async def _drop(client: aiosmtplib.SMTP) -> None:
    """Close a connection left in an unknown state by a letter that failed in the middle."""
    with contextlib.suppress(*_FAILURES):
        client.close()


async def _send_one(client: aiosmtplib.SMTP, envelope: Envelope) -> SendResult:
    try:
        if client.is_ehlo_or_helo_needed:
            await _greet(client)  # the relay's extensions say whether SMTPUTF8 and SIZE are offered
    except _FAILURES as exc:
        return SendResult(_fate_of(exc), _why(exc))
    problem = _unsendable(client, envelope)
    if problem is not None:
        return SendResult(Fate.PERMANENT, problem)
    try:
        refused, response = await _transaction(client, envelope)
    except _FAILURES as exc:
        return SendResult(_fate_of(exc), _why(exc))
    if refused:
        detail = "; ".join(f"{rcpt}: {answer.code} {answer.message}" for rcpt, answer in refused.items())
        permanent = all(answer.code >= 500 for answer in refused.values())
        return SendResult(Fate.PERMANENT if permanent else Fate.TEMPORARY, f"refused {detail}")
    return SendResult(Fate.SENT, response)


async def _greet(client: aiosmtplib.SMTP) -> None:
    """EHLO, or HELO from a relay that does not know it (what aiosmtplib's sendmail does)."""
    try:
        await client.ehlo()
    except aiosmtplib.SMTPHeloError:
        await client.helo()


async def _transaction(client: aiosmtplib.SMTP, envelope: Envelope) -> tuple[dict[str, aiosmtplib.SMTPResponse], str]:
    """aiosmtplib's `sendmail` (MAIL, RCPT, DATA; RSET after a refusal; the same exceptions) without
    the work it repeats for every letter (issue 10): the addresses were checked by `_unsendable`,
    so they are written as they are instead of being parsed twice more, and the message goes through
    `_data` instead of two regular expressions over its whole bytes (the second for SIZE).

    To a relay that offers PIPELINING (RFC 2920: Postfix, Exim…), MAIL, the RCPTs and DATA leave in
    one write and their replies are read after: two round trips a letter instead of four. Every
    reply is still checked: a refused sender, some or every recipient refused, DATA refused; a relay
    that answers 354 to a transaction it refused gets the lone period that ends it (RFC 2920 3.1)."""
    utf8 = not _ascii(envelope)
    encoding = "utf-8" if utf8 else "ascii"
    payload, size = _data(envelope.raw)
    options = [b"SMTPUTF8"] if utf8 else []
    if client.supports_extension("size"):
        options.insert(0, b"SIZE=%d" % size)
    mail = b" ".join([b"MAIL FROM:<" + envelope.mail_from.encode(encoding) + b">", *options])
    rcpts = [b"RCPT TO:<" + recipient.encode(encoding) + b">" for recipient in envelope.recipients]
    try:
        if client.supports_extension("pipelining"):
            sender, *answers, data = await _pipelined(client, [mail, *rcpts, b"DATA"])
            refused = _refused(envelope, answers)
            problem = _refusal(envelope, sender, refused, data)
            if problem is not None:
                if data.code == 354:  # a relay waiting for the message of a transaction it refused
                    await _message(client, b".\r\n")  # gets none: the lone period ends it
                raise problem
        else:
            answer = await client.execute_command(mail)
            if (problem := _refusal(envelope, answer)) is not None:
                raise problem
            refused = _refused(envelope, [await client.execute_command(rcpt) for rcpt in rcpts])
            if (problem := _refusal(envelope, answer, refused)) is not None:
                raise problem
            if (problem := _refusal(envelope, answer, refused, await client.execute_command(b"DATA"))) is not None:
                raise problem
        answer = await _message(client, payload)
        if answer.code != 250:
            raise aiosmtplib.SMTPDataError(answer.code, answer.message)
    except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused):
        with contextlib.suppress(ConnectionError, aiosmtplib.SMTPResponseException):
            await client.rset()  # the envelope is reset for the next letter, as sendmail does
        raise
    return refused, answer.message


def _refused(envelope: Envelope, answers: Sequence[aiosmtplib.SMTPResponse]) -> dict[str, aiosmtplib.SMTPResponse]:
    """The recipients the relay refused, with its answer to each."""
    return {
        rcpt: answer for rcpt, answer in zip(envelope.recipients, answers, strict=True) if answer.code not in (250, 251)
    }


def _refusal(
    envelope: Envelope,
    sender: aiosmtplib.SMTPResponse,
    refused: dict[str, aiosmtplib.SMTPResponse] | None = None,
    data: aiosmtplib.SMTPResponse | None = None,
) -> aiosmtplib.SMTPException | None:
    """Why the transaction stops after these replies (what aiosmtplib's `sendmail` raises), or None:
    the sender refused, every recipient refused, or DATA not answered 354."""
    if sender.code != 250:
        return aiosmtplib.SMTPSenderRefused(sender.code, sender.message, envelope.mail_from)
    if refused is not None and len(refused) == len(envelope.recipients):
        return aiosmtplib.SMTPRecipientsRefused(
            [aiosmtplib.SMTPRecipientRefused(a.code, a.message, r) for r, a in refused.items()]
        )
    if data is not None and data.code != 354:
        return aiosmtplib.SMTPDataError(data.code, data.message)
    return None


async def _pipelined(client: aiosmtplib.SMTP, commands: list[bytes]) -> list[aiosmtplib.SMTPResponse]:
    """RFC 2920: the commands in one write, then the relay's reply to each, in order.

    aiosmtplib's protocol reads one reply per command it waited for and drops what arrives while a
    reply waits to be picked up (its `read_response` says so), so the replies are read by `_Replies`,
    standing in for it on the transport meanwhile. A connection lost or a reply not come within the
    timeout closes the connection (aiosmtplib does the same); so does a 421 (the relay closing)."""
    transport = cast(asyncio.WriteTransport | None, client.transport)
    protocol = client.protocol
    if transport is None or protocol is None or transport.is_closing():
        raise aiosmtplib.SMTPServerDisconnected("Connection lost")
    replies = _Replies(protocol, len(commands))
    transport.set_protocol(replies)
    try:
        transport.write(b"\r\n".join(commands) + b"\r\n")
        await asyncio.wait_for(replies.complete, client.timeout)
    except TimeoutError:
        client.close()
        raise aiosmtplib.SMTPReadTimeoutError("Timed out waiting for server response") from None
    except aiosmtplib.SMTPException:
        client.close()
        raise
    finally:
        if transport.get_protocol() is replies:
            transport.set_protocol(protocol)
    if any(reply.code == 421 for reply in replies.replies):
        client.close()
    return replies.replies


class _Replies(asyncio.Protocol):
    """The transport's protocol while the replies to a group of commands arrive: each complete reply
    is parsed as it comes (several may come in one read, or one over several); the end of the
    connection is handed on to aiosmtplib's protocol, which the transport gets back after."""

    def __init__(self, inner: asyncio.Protocol, count: int) -> None:
        self.inner, self.count = inner, count
        self.replies: list[aiosmtplib.SMTPResponse] = []
        self.complete: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._buffer = bytearray()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        try:
            while len(self.replies) < self.count and (reply := _reply(self._buffer)) is not None:
                self.replies.append(reply)
        except aiosmtplib.SMTPResponseException as exc:
            self._fail(exc)
            return
        if len(self.replies) == self.count and not self.complete.done():
            self.complete.set_result(None)

    def eof_received(self) -> bool:
        self._fail(aiosmtplib.SMTPServerDisconnected("Unexpected EOF received"))
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(aiosmtplib.SMTPServerDisconnected("Connection lost"))
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    def _fail(self, exc: Exception) -> None:
        if not self.complete.done():
            self.complete.set_exception(exc)


def _reply(buffer: bytearray) -> aiosmtplib.SMTPResponse | None:
    """The first complete reply in `buffer`, taken out of it (RFC 5321 4.2: lines "250-…" then a
    last "250 …"), or None while it is incomplete."""
    lines, offset = [], 0
    while (end := buffer.find(b"\n", offset)) != -1:
        line = bytes(buffer[offset : end + 1])
        offset = end + 1
        if len(line) > 8192 or not line[:3].isdigit():
            raise aiosmtplib.SMTPResponseException(-1, f"Malformed SMTP response line: {line[:200]!r}")
        lines.append(line[4:].strip(b" \t\r\n"))
        if line[3:4] != b"-":
            del buffer[:offset]
            return aiosmtplib.SMTPResponse(int(line[:3]), b"\n".join(lines).decode("utf-8", "surrogateescape"))
    if len(buffer) > 32768:
        raise aiosmtplib.SMTPResponseException(-1, "Response too long")
    return None


async def _message(client: aiosmtplib.SMTP, payload: bytes) -> aiosmtplib.SMTPResponse:
    """The message after the relay's 354, already in its transmitted form, and the relay's answer;
    a connection lost or timed out in the middle is closed (aiosmtplib's `data` does the same)."""
    protocol = client.protocol
    if protocol is None:
        raise aiosmtplib.SMTPServerDisconnected("Connection lost")
    try:
        protocol.write(payload)
        return await protocol.read_response(timeout=client.timeout)
    except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError):
        client.close()
        raise


def _data(raw: bytes) -> tuple[bytes, int]:
    """The bytes written after DATA (RFC 5321 4.5.2: lines starting with a period doubled, then the
    lone period) and the SIZE to announce (RFC 1870: the message with CRLF line endings).

    The letters we compose already end their lines with CRLF (email.policy.SMTP), which three byte
    counts prove at C speed; only a message that does not is rewritten by aiosmtplib's regular
    expression. Doubling the periods after CRLF is `bytes.replace`, the same result as aiosmtplib's
    `(?m)^\\.` on such a message."""
    crlf = raw.count(b"\r\n")
    if not (raw.endswith(b"\r\n") and raw.count(b"\n") == crlf == raw.count(b"\r")):
        raw = normalize_message_line_endings(raw)
    size = len(raw)
    if raw.startswith(b"."):
        raw = b"." + raw
    if b"\n." in raw:
        raw = raw.replace(b"\n.", b"\n..")
    return raw + b".\r\n", size


_FAILURES = (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError, ssl.SSLError)


def _unsendable(client: aiosmtplib.SMTP, envelope: Envelope) -> str | None:
    """Why this letter can never leave as it is, or None (issue 14, item 3: a poison row).

    The envelope must be exactly the addr-spec the parser read: aiosmtplib re-parses each address
    (`"jo\\"e"@x` would become `jo`) and refuses some with ValueError, which killed the sender
    process on the same row at every start. An internationalised address needs SMTPUTF8."""
    for address in (envelope.mail_from, *envelope.recipients):
        if not _writable(address):
            return f"cannot be sent: the address {address[:200]!r} cannot be written in an SMTP envelope"
    if not _ascii(envelope) and not client.supports_extension("smtputf8"):
        return "cannot be sent: an internationalised address, and the relay does not offer SMTPUTF8"
    return None


@functools.lru_cache(maxsize=4096)
def _writable(address: str) -> bool:
    """aiosmtplib reads `address` back as itself (the sender's address and the handlers' recur in
    every batch: each is parsed once)."""
    if _CONTROL.search(address):
        return False  # a line break would end the command early (aiosmtplib refuses them too)
    try:
        return aiosmtplib.email.parse_address(address) == address
    except ValueError:
        return False


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _ascii(envelope: Envelope) -> bool:
    return all(address.isascii() for address in (envelope.mail_from, *envelope.recipients))


def _fate_of(exc: BaseException) -> Fate:
    """5xx is final; 4xx, timeouts and network trouble are worth another try."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        return Fate.PERMANENT if codes and all(code >= 500 for code in codes) else Fate.TEMPORARY
    code = getattr(exc, "code", None)
    if isinstance(code, int) and 500 <= code < 600:
        return Fate.PERMANENT
    return Fate.TEMPORARY


def _why(exc: BaseException) -> str:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
    code = getattr(exc, "code", None)
    message = getattr(exc, "message", None) or str(exc) or exc.__class__.__name__
    text = f"{code} {message}" if isinstance(code, int) else message
    return text.splitlines()[0][:300] if text else exc.__class__.__name__
