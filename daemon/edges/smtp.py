"""The SMTP adapter (aiosmtplib): the only code that talks to the outgoing relay.

It sends a batch over one connection and reports each mail's fate as a value the moment the server
answers (Mailman's SomeRecipientsFailed): sent, temporary (4xx, network: retry) or permanent (5xx).
The caller records each result at once, which keeps the window for a duplicate after a crash to
the instant between the server's "250" and our commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from collections.abc import Callable, Sequence

import aiosmtplib

from daemon.config import SmtpConfig
from daemon.core.outbox import Envelope, Fate, SendResult
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
        """`connections` workers take the next letter in turn, each over its own connection."""
        waiting = deque(range(len(envelopes)))
        workers = min(self.connections, len(envelopes))
        await asyncio.gather(*(self._worker(envelopes, waiting, report, stopping) for _ in range(workers)))

    async def _worker(
        self,
        envelopes: Sequence[Envelope],
        waiting: deque[int],
        report: Callable[[int, SendResult], None],
        stopping: Callable[[], bool],
    ) -> None:
        client = None
        while waiting and not stopping():
            index = waiting.popleft()
            if client is None or not client.is_connected:
                try:
                    client = await self._connect()
                except (*_FAILURES, TransientError) as exc:  # the relay (or the token) out of reach: all wait
                    failure = SendResult(_fate_of(exc), f"cannot connect: {_why(exc)}")
                    for rest in (index, *waiting):
                        report(rest, failure)
                    waiting.clear()
                    return
            try:
                result = await _send_one(client, envelopes[index])
            except Exception as exc:  # the one catch-all per letter: a row never stops the sender
                result = SendResult(Fate.PERMANENT, f"cannot be sent: {exc.__class__.__name__}: {_why(exc)}")
                await _drop(client)
                client = None
            report(index, result)
        if client is not None and client.is_connected:
            with contextlib.suppress(*_FAILURES):
                await client.quit()


async def _drop(client: aiosmtplib.SMTP) -> None:
    """Close a connection left in an unknown state by a letter that failed in the middle."""
    with contextlib.suppress(*_FAILURES):
        client.close()


async def _send_one(client: aiosmtplib.SMTP, envelope: Envelope) -> SendResult:
    try:
        if not _ascii(envelope) and client.is_ehlo_or_helo_needed:
            await client.ehlo()  # the relay's extensions say whether SMTPUTF8 is offered
    except _FAILURES as exc:
        return SendResult(_fate_of(exc), _why(exc))
    problem = _unsendable(client, envelope)
    if problem is not None:
        return SendResult(Fate.PERMANENT, problem)
    options = ["SMTPUTF8"] if not _ascii(envelope) else []
    try:
        refused, response = await client.sendmail(
            envelope.mail_from, list(envelope.recipients), envelope.raw, mail_options=options
        )
    except _FAILURES as exc:
        return SendResult(_fate_of(exc), _why(exc))
    if refused:
        detail = "; ".join(f"{rcpt}: {answer.code} {answer.message}" for rcpt, answer in refused.items())
        permanent = all(answer.code >= 500 for answer in refused.values())
        return SendResult(Fate.PERMANENT if permanent else Fate.TEMPORARY, f"refused {detail}")
    return SendResult(Fate.SENT, response)


_FAILURES = (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError, ssl.SSLError)


def _unsendable(client: aiosmtplib.SMTP, envelope: Envelope) -> str | None:
    """Why this letter can never leave as it is, or None (issue 14, item 3: a poison row).

    The envelope must be exactly the addr-spec the parser read: aiosmtplib re-parses each address
    (`"jo\\"e"@x` would become `jo`) and refuses some with ValueError, which killed the sender
    process on the same row at every start. An internationalised address needs SMTPUTF8."""
    for address in (envelope.mail_from, *envelope.recipients):
        try:
            parsed = aiosmtplib.email.parse_address(address)
        except ValueError:
            parsed = None
        if parsed != address:
            return f"cannot be sent: the address {address[:200]!r} cannot be written in an SMTP envelope"
    if not _ascii(envelope) and not client.supports_extension("smtputf8"):
        return "cannot be sent: an internationalised address, and the relay does not offer SMTPUTF8"
    return None


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
