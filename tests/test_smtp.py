"""The SMTP edge (daemon/edges/smtp.py) on a real aiosmtpd sink: what the relay receives.

The sender writes MAIL, RCPT and the message itself instead of calling aiosmtplib's `sendmail`
(issue 10: it parsed every address twice more and ran every message through two regular
expressions). These tests hold it to what `sendmail` delivers, byte for byte.
"""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import replace

import aiosmtplib
import pytest

from daemon.config import SmtpConfig
from daemon.core.outbox import Envelope, Fate, SendResult
from daemon.edges.smtp import SmtpSender
from tests.conftest import require
from tests.runners import config_of
from tests.servers import SmtpSink, smtp_unavailable

pytestmark = pytest.mark.smtp


@pytest.fixture(params=[False, True], ids=["one-by-one", "pipelining"])
def smtp_sink(request) -> Iterator[SmtpSink]:
    """Every test twice: a relay that answers each command before the next is written, and one that
    offers PIPELINING (RFC 2920, as Postfix does), to which MAIL, RCPT and DATA are written at once."""
    require(smtp_unavailable())
    with SmtpSink(pipelining=request.param) as sink:
        yield sink


FROM, TO = "reclamations@example.com", "camille.durand@client.example"

# Lines that start with a period (doubled on the wire, RFC 5321 4.5.2, undone by the relay), one
# that is only a period, a bare LF and a bare CR (rewritten as CRLF), and no final line ending.
AWKWARD = [
    b"Subject: points\r\n\r\n.cache\r\n..deux\r\n.\r\nfin\r\n",
    b".Subject: d\xc3\xa9but\r\n\r\nligne\nautre\rencore\r\n.\n.",
    b"Subject: sans fin\r\n\r\ntexte",
]


def sender_for(sink: SmtpSink, tmp_path, connections: int = 1) -> SmtpSender:
    config: SmtpConfig = config_of(tmp_path, smtp={"host": sink.host, "port": sink.port}).smtp
    return SmtpSender(config, connections)


def send(sender: SmtpSender, envelopes: list[Envelope]) -> list[SendResult]:
    results: dict[int, SendResult] = {}
    sender.send_all(envelopes, results.__setitem__)
    return [results[index] for index in range(len(envelopes))]


@pytest.mark.parametrize("raw", AWKWARD)
def test_the_relay_receives_what_aiosmtplibs_sendmail_delivers(tmp_path, smtp_sink, raw):
    async def by_sendmail() -> None:
        async with aiosmtplib.SMTP(hostname=smtp_sink.host, port=smtp_sink.port) as client:
            await client.sendmail(FROM, [TO], raw)

    asyncio.run(by_sendmail())
    [result] = send(sender_for(smtp_sink, tmp_path), [Envelope(FROM, (TO,), raw)])
    assert result.fate is Fate.SENT
    reference, ours = smtp_sink.messages()
    assert ours.data == reference.data
    assert ours.mail_options == reference.mail_options, "the same SIZE announced"
    assert (ours.mail_from, ours.rcpt_tos) == (reference.mail_from, reference.rcpt_tos)


def test_a_refused_letter_leaves_the_connection_ready_for_the_next(tmp_path, smtp_sink):
    """A 550 to one recipient, a 451 at DATA, a 451 at MAIL: each letter gets its own fate, and the
    ones after them leave over the same connection (the envelope was reset)."""
    smtp_sink.refuse("refuse@client.example")
    envelopes = [Envelope(FROM, (to,), b"Subject: x\r\n\r\ny\r\n") for to in ("refuse@client.example", TO, TO, TO)]
    sender = sender_for(smtp_sink, tmp_path)
    results = send(sender, envelopes[:2])
    smtp_sink.fail_next(1)
    results += send(sender, envelopes[2:])
    smtp_sink.fail_next(1, stage="mail")
    results += send(sender, envelopes[2:])
    fates = [Fate.PERMANENT, Fate.SENT, Fate.TEMPORARY, Fate.SENT, Fate.TEMPORARY, Fate.SENT]
    assert [r.fate for r in results] == fates
    assert results[0].detail.startswith("refuse@client.example: 550")
    assert results[2].detail.startswith("451") and results[4].detail.startswith("451")
    assert len(smtp_sink.messages()) == 3


def test_a_letter_to_two_with_one_refused_reaches_the_other_and_says_who_was_refused(tmp_path, smtp_sink):
    smtp_sink.refuse("refuse@client.example")
    envelope = Envelope(FROM, ("refuse@client.example", TO), b"Subject: x\r\n\r\ny\r\n")
    [result] = send(sender_for(smtp_sink, tmp_path), [envelope])
    assert result.fate is Fate.PERMANENT and result.detail.startswith("refused refuse@client.example: 550")
    [received] = smtp_sink.messages()
    assert received.rcpt_tos == (TO,)


def test_to_a_relay_offering_pipelining_mail_rcpt_and_data_leave_in_one_write(tmp_path, smtp_sink):
    """Two round trips a letter instead of four (issue 10): the relay finds each letter's RCPTs
    already there when it reads its MAIL; to a relay that does not offer it, never."""
    envelopes = [Envelope(FROM, (TO, f"c{n}@client.example"), f"Subject: {n}\r\n\r\ny\r\n".encode()) for n in range(5)]
    assert {r.fate for r in send(sender_for(smtp_sink, tmp_path), envelopes)} == {Fate.SENT}
    assert len(smtp_sink.messages()) == 5
    assert smtp_sink.pipelined == (5 if smtp_sink.pipelining else 0)


def letter(number: int, to: str) -> Envelope:
    return Envelope(FROM, (to,), f"X-Number: {number}\r\nSubject: lettre {number}\r\n\r\ntexte\r\n".encode())


def test_over_several_connections_letters_to_one_recipient_arrive_in_their_queue_order(tmp_path, smtp_sink):
    """`[outbox] connections = 3`, the relay slow to take the handler's first letter: his second and
    third wait for it (each a letter he reads after the one before), while the customers' letters
    leave beside it over the other connections."""
    handler = "Bob@example.com"
    to = [handler, handler.lower(), "c1@client.example", "c2@client.example", handler, "c3@client.example"]
    smtp_sink.delay_once(handler, 0.5)
    results = send(sender_for(smtp_sink, tmp_path, connections=3), [letter(n, rcpt) for n, rcpt in enumerate(to)])
    assert {r.fate for r in results} == {Fate.SENT}
    arrived = [int(m.parsed()["X-Number"]) for m in smtp_sink.messages()]
    assert [n for n in arrived if to[n].lower() == "bob@example.com"] == [0, 1, 4], "the handler's, in order"
    assert arrived.index(2) < arrived.index(0) and arrived.index(3) < arrived.index(0), "the customers' overtook"
    assert len({m.peer for m in smtp_sink.messages()}) > 1


def test_over_several_connections_a_handlers_letters_about_different_complaints_leave_side_by_side(tmp_path, smtp_sink):
    """`[outbox] connections = 4`, every letter to one handler (issue 10: 500 new complaints' notifications
    went one after the other), the relay slow to take the first: the letters about other complaints
    overtake it over the other connections, while the next letter about its complaint waits for it.
    A letter about no complaint (a digest) waits for all before it, and the letters after it wait for it."""
    handler = "bob@example.com"
    about = [1, 2, 3, 1, 4, None, 2, 5]
    envelopes = [
        Envelope(f"bounces+{n}@example.com", (handler,), letter(n, handler).raw, complaint)
        for n, complaint in enumerate(about)
    ]
    smtp_sink.delay_once("bounces+0@example.com", 0.5)  # the return path names the letter, as with VERP
    results = send(sender_for(smtp_sink, tmp_path, connections=4), envelopes)
    assert {r.fate for r in results} == {Fate.SENT}
    received = smtp_sink.messages()
    arrived = [int(m.parsed()["X-Number"]) for m in received]
    assert arrived.index(1) < arrived.index(0) and arrived.index(2) < arrived.index(0), "other complaints overtook"
    assert arrived.index(0) < arrived.index(3), "complaint 1's second letter after its first"
    assert arrived.index(1) < arrived.index(6), "complaint 2's second letter after its first"
    assert max(arrived.index(n) for n in range(5)) < arrived.index(5) < min(arrived.index(6), arrived.index(7))
    assert len({m.peer for m in received}) > 1


def test_several_connections_send_every_letter_of_a_batch_once(tmp_path, smtp_sink):
    """Letters to a few recipients, each with letters to several of them: each leaves once, and each
    recipient receives them in queue order."""
    recipients = ["a@x.example", "b@x.example", "c@x.example", "d@x.example"]
    to = [(recipients[n % 4], recipients[(n + 1) % 4]) if n % 5 == 0 else (recipients[n % 4],) for n in range(40)]
    envelopes = [replace(letter(n, ""), recipients=each) for n, each in enumerate(to)]
    results = send(sender_for(smtp_sink, tmp_path, connections=4), envelopes)
    assert {r.fate for r in results} == {Fate.SENT}
    received = smtp_sink.messages()
    assert sorted(int(m.parsed()["X-Number"]) for m in received) == list(range(40))
    for rcpt in recipients:
        numbers = [int(m.parsed()["X-Number"]) for m in received if rcpt in m.rcpt_tos]
        assert numbers == sorted(numbers) and numbers == [n for n, e in enumerate(envelopes) if rcpt in e.recipients]


def test_a_relay_taking_fewer_connections_gets_every_letter_over_those_it_takes(tmp_path):
    """`connections = 4` against a relay that greets the third connection with 421: the workers that
    could not connect give their letters back, and every letter leaves once, in order per recipient."""
    with SmtpSink(max_connections=2) as sink:
        to = [f"c{n % 5}@client.example" for n in range(20)]
        results = send(sender_for(sink, tmp_path, connections=4), [letter(n, rcpt) for n, rcpt in enumerate(to)])
        received = sink.messages()
    assert {r.fate for r in results} == {Fate.SENT}
    assert sorted(int(m.parsed()["X-Number"]) for m in received) == list(range(20))
    assert len({m.peer for m in received}) == 2
    for rcpt in set(to):
        numbers = [int(m.parsed()["X-Number"]) for m in received if m.rcpt_tos == (rcpt,)]
        assert numbers == sorted(numbers)


def test_a_relay_gone_in_the_middle_of_a_batch_leaves_the_rest_for_another_try(tmp_path, smtp_sink):
    """The relay stops after the second letter: the letters after it are temporary failures (retried
    later), none is reported sent that did not arrive, and the sender does not wait for replies that
    will never come."""
    envelopes = [letter(n, f"c{n}@client.example") for n in range(6)]
    results: dict[int, SendResult] = {}

    def report(index: int, result: SendResult) -> None:
        results[index] = result
        if len(results) == 2:
            smtp_sink.stop()

    sender_for(smtp_sink, tmp_path).send_all(envelopes, report)
    arrived = {int(m.parsed()["X-Number"]) for m in smtp_sink.messages()}
    assert sorted(results) == list(range(6))
    assert {n for n, r in results.items() if r.fate is Fate.SENT} == arrived == {0, 1}
    assert {r.fate for n, r in results.items() if n >= 2} == {Fate.TEMPORARY}


def test_a_relay_that_does_not_answer_in_time_is_a_temporary_failure(tmp_path, smtp_sink):
    smtp_sink.latency = 2.0  # before each answer to MAIL, RCPT and DATA; the sender waits 1 s
    config: SmtpConfig = config_of(
        tmp_path, smtp={"host": smtp_sink.host, "port": smtp_sink.port, "timeout": "1s"}
    ).smtp
    [result] = send(SmtpSender(config), [letter(0, TO)])
    assert result.fate is Fate.TEMPORARY and "Timed out" in result.detail
    assert smtp_sink.messages() == []


@pytest.mark.parametrize("pipelining", [False, True], ids=["one-by-one", "pipelining"])
def test_over_starttls_the_letters_leave_pipelined_or_not(tmp_path, monkeypatch, pipelining):
    """A relay as Postfix is set up (STARTTLS required, PIPELINING offered): the replies are read on
    the encrypted transport the sender has after STARTTLS."""
    require(smtp_unavailable())
    key, cert = tmp_path / "relay.key", tmp_path / "relay.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the sender verifies the relay with the default context
    with SmtpSink(pipelining=pipelining, starttls=context) as sink:
        smtp = {"host": sink.host, "port": sink.port, "tls": "starttls"}
        sender = SmtpSender(config_of(tmp_path, smtp=smtp).smtp, 2)
        envelopes = [Envelope(FROM, (TO, f"c{n}@client.example"), letter(n, TO).raw, n) for n in range(6)]
        assert {r.fate for r in send(sender, envelopes)} == {Fate.SENT}
        assert sorted(int(m.parsed()["X-Number"]) for m in sink.messages()) == list(range(6))
        assert sink.pipelined == (6 if pipelining else 0)
