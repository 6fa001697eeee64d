"""Ingestion benchmark: the daemon against a bare loop doing the same work, in the same run.

    python benchmarks/ingest.py [--messages 500] [--latency 200] [--prefill 100000] [--big-mb 30]
                                [--connections 3] [--pipelining]

Every complaint owes two letters: the acknowledgement to the customer and the notification to its
handler. The clock of each side runs until every letter owed is at the SMTP server and INBOX is empty.
(a) the daemon: `complaintsd run` from process start, on messages appended beforehand; its peak
    memory (VmHWM of the daemon and of its sender process) is sampled meanwhile;
(b) bare loop: imapclient FETCH one message → stdlib parse → SQLite insert in its own transaction
    → MOVE → two SMTP sends, one message after the other, of the same messages; it sends the very
    letters the daemon sent for the same message in (a), byte for byte (the acknowledgement to the
    customer, the notification to the handler), without rendering them: the relay reads as much
    for either side;
(c) latency with IDLE: the daemon running idle, messages APPENDed `--gap` apart; time from APPEND
    to the acknowledgement's arrival at the SMTP server, matched by its In-Reply-To (handler mails
    set aside), p50/p99/max;
(d) `--prefill N`: (b) again into a register already holding N complaints (ingestion must not slow
    down as the register grows);
(e) `--big-mb M`: one complaint with an M MB attachment, the daemon's peak memory while it ingests it.
Synthetic French complaints, every 5th with a 50 KB PDF. The machine is shared and noisy: read the
ratios, which compare work done in the same run.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import hashlib
import os
import smtplib
import sqlite3
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from daemon.edges.register import Register  # noqa: E402
from daemon.edges.register.models import Complaint  # noqa: E402
from tests.harness import DaemonProcess, compile_daemon, complaint, wait_until, write_config  # noqa: E402
from tests.servers import DovecotServer, SmtpSink  # noqa: E402

PDF = b"%PDF-1.4\n" + b"0" * 50_000


def messages(count: int, tag: str, every: int = 5, customers: int = 0) -> list[bytes]:
    """`count` complaints, every `every`th with a PDF; from one customer, or from `customers` in turn."""
    out = []
    for number in range(1, count + 1):
        who = number % customers if customers else None
        sender = {} if who is None else {"sender": f"Client {who} <client{who}@client.example>"}
        files = (f"facture-{number}.pdf", PDF + tag.encode() + str(number).encode(), "application/pdf")
        body = f"Bonjour,\n\nMa commande n° {tag}-{number} est arrivée abîmée.\nMerci de me rembourser.\n"
        out.append(
            complaint(
                number,
                subject=f"Réclamation {tag} {number}",
                body=body,
                attachment=files if number % every == 0 else None,
                **sender,
            )
        )
    return out


def append_all(account, raws: list[bytes]) -> None:
    with account.connect() as client:
        for raw in raws:
            client.append("INBOX", raw)


def inbox_empty(account) -> bool:
    return not account.folder_uids("INBOX")


def letters_of(sink: SmtpSink, raws: list[bytes]) -> list[tuple[bytes, bytes]]:
    """The two letters the daemon sent for each of `raws`, in their order: the acknowledgement (its
    In-Reply-To is the message's Message-ID) and the handler's notification (same reference)."""
    by_reference: dict[str, bytes] = {}
    reference_of: dict[str, str] = {}
    for letter in sink.messages():
        parsed = letter.parsed()
        reference = str(parsed["Subject"]).split("]", 1)[0].lstrip("[")
        if parsed["In-Reply-To"]:
            reference_of[str(parsed["In-Reply-To"])] = reference
            by_reference[reference + " ack"] = letter.data
        else:
            by_reference[reference + " handler"] = letter.data
    pairs = []
    for raw in raws:
        reference = reference_of[str(email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"])]
        pairs.append((by_reference[reference + " ack"], by_reference[reference + " handler"]))
    return pairs


def bare_loop(account, sink: SmtpSink, workdir: Path, letters: list[tuple[bytes, bytes]]) -> float:
    db = sqlite3.connect(workdir / "bare.db")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(
        "CREATE TABLE m (id INTEGER PRIMARY KEY, message_id TEXT, sha256 TEXT UNIQUE,"
        " sender TEXT, subject TEXT, body TEXT, raw BLOB)"
    )
    started = time.perf_counter()
    smtp = smtplib.SMTP(sink.host, sink.port)
    with account.connect() as client:
        client.create_folder("Done")
        client.select_folder("INBOX")
        for uid, (acknowledgement, notification) in zip(client.search("ALL"), letters, strict=True):
            raw = client.fetch([uid], ["BODY.PEEK[]"])[uid][b"BODY[]"]
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            body = msg.get_body(("plain",))
            text = body.get_content() if body else ""
            with db:
                db.execute(
                    "INSERT INTO m (message_id, sha256, sender, subject, body, raw) VALUES (?,?,?,?,?,?)",
                    (
                        msg["Message-ID"],
                        hashlib.sha256(raw).hexdigest(),
                        str(msg["From"]),
                        str(msg["Subject"]),
                        text,
                        raw,
                    ),
                )
            client.move([uid], "Done")
            customer = msg["From"].addresses[0].addr_spec
            smtp.sendmail("reclamations@example.com", [customer], acknowledgement)
            smtp.sendmail("reclamations@example.com", ["bob@example.com"], notification)
    smtp.quit()
    elapsed = time.perf_counter() - started
    assert len(sink.messages()) >= 2 * len(letters), "bare loop did not send every letter"
    return elapsed


class PeakMemory:
    """Samples VmRSS of a process and its children every 50 ms; keeps the peak and a few samples."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self.samples = pid, 0, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            total = sum(_rss(pid) for pid in (self.pid, *_children(self.pid)))
            self.peak = max(self.peak, total)
            self.samples.append(total)


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def daemon_run(
    account, sink: SmtpSink, workdir: Path, count: int, prefill: int = 0, connections: int = 3
) -> tuple[float, PeakMemory, float]:
    """Seconds until every letter is at the sink and INBOX is empty, the memory, and seconds until
    the first letter was at the sink (what the daemon's start costs before any sending)."""
    config = write_config(workdir, account, sink, extra=f"connections = {connections}")
    if prefill:
        fill(f"sqlite:///{workdir}/register.db", prefill)
    started, since = time.perf_counter(), time.monotonic()
    with DaemonProcess(config) as daemon:
        assert daemon.process is not None
        with PeakMemory(daemon.process.pid) as memory:
            sink.wait_for(2 * count, timeout=900)
            wait_until(lambda: inbox_empty(account), 60, "the inbox to be emptied")
            elapsed = time.perf_counter() - started
        assert daemon.alive(), daemon.log()[-2000:]
    return elapsed, memory, min(m.arrived_monotonic for m in sink.messages()) - since


def fill(url: str, complaints: int) -> None:
    """A register already holding `complaints` acknowledged complaints of last year and this one."""
    register = Register(url)
    now = datetime.now(UTC)
    rows = []
    for n in range(1, complaints + 1):
        at = now - timedelta(minutes=n)
        row = {"reference": f"OLD-{at.year}-{n:07d}", "prefix": "OLD", "year": at.year, "sequence": n}
        row |= {"status": "closed", "customer_email": f"c{n}@client.example", "subject": f"Ancienne {n}"}
        row |= {"received_at": at, "ack_due_at": at, "answer_due_at": at, "acknowledged_at": at}
        row |= {"handler_email": "bob@example.com", "handler_name": "Bob Durand", "ack_rule": "48h"}
        rows.append(row | {"answer_rule": "10d", "text_body": "…"})
    with register.engine.begin() as connection:
        for start in range(0, len(rows), 10000):
            connection.execute(insert(Complaint.__table__), rows[start : start + 10000])  # type: ignore[attr-defined]
    register.dispose()


def latency(account, sink: SmtpSink, workdir: Path, count: int, gap: float) -> list[float]:
    config = write_config(workdir, account, sink)
    raws = messages(count, "latency")
    appended: dict[str, float] = {}
    with DaemonProcess(config) as daemon, account.connect() as client:
        wait_until(lambda: "idle: True" in daemon.log(), 30, "the daemon in IDLE")
        time.sleep(0.5)
        for raw in raws:
            message_id = email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"]
            appended[message_id] = time.monotonic()
            client.append("INBOX", raw)
            time.sleep(gap)
        received = sink.wait_for(2 * count, timeout=120)
    acks = [m for m in received if m.parsed()["X-Complaintsd-Kind"] == "acknowledgement"]
    return sorted(m.arrived_monotonic - appended[m.parsed()["In-Reply-To"]] for m in acks)


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(round(share * (len(values) - 1))))]


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:7.1f} msg/s ({seconds:.2f} s)"


def mb(size: int) -> str:
    return f"{size / 1e6:.0f} MB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--latency", type=int, default=200, help="messages for the latency run (0: none)")
    parser.add_argument("--gap", type=float, default=0.05, help="seconds between APPENDs in the latency run")
    parser.add_argument("--prefill", type=int, default=0, help="also ingest into a register of this many complaints")
    parser.add_argument("--big-mb", type=int, default=0, help="also ingest one complaint with an attachment this big")
    parser.add_argument("--connections", type=int, default=3, help="[outbox] connections (the default: 3)")
    parser.add_argument("--pipelining", action="store_true", help="the daemon's SMTP sink offers PIPELINING (RFC 2920)")
    args = parser.parse_args()
    compile_daemon()  # measured as installed: see tests/harness.py
    count = args.messages
    with tempfile.TemporaryDirectory(prefix="complaintsd-bench-") as tmp, DovecotServer() as dovecot:
        workdir = Path(tmp)
        names = ("bare", "daemon", "prefilled", "latency", "big")
        accounts = {name: dovecot.add_user(hint=name) for name in names}
        print(f"{count} complaints (every 5th with a 50 KB PDF), two letters owed for each", flush=True)
        raws = messages(count, "daemon")
        append_all(accounts["daemon"], raws)
        append_all(accounts["bare"], raws)
        for name in names:
            (workdir / name).mkdir()
        with SmtpSink(pipelining=args.pipelining) as sink:
            ours, memory, first = daemon_run(
                accounts["daemon"], sink, workdir / "daemon", count, connections=args.connections
            )
            letters = letters_of(sink, raws)
        with SmtpSink() as sink:
            bare = bare_loop(accounts["bare"], sink, workdir / "bare", letters)
        bare_rate, our_rate = count / bare, count / ours
        print(f"bare loop (FETCH → parse → SQLite commit → MOVE → the same 2 letters, one by one): {rate(count, bare)}")
        print(f"complaintsd run (start → all {2 * count} letters at the SMTP server, INBOX empty): {rate(count, ours)}")
        print(f"complaintsd run, its first letter at the SMTP server: {first:.2f} s after start")
        print(f"ratio daemon / bare loop: {our_rate / bare_rate:.2f}")
        thirds = [memory.samples[len(memory.samples) * k // 4] for k in (1, 2, 3)] if memory.samples else []
        print(f"daemon peak memory (both processes): {mb(memory.peak)}; at 1/4, 1/2, 3/4: {', '.join(map(mb, thirds))}")
        if args.prefill:
            append_all(accounts["prefilled"], messages(count, "prefilled"))
            with SmtpSink() as sink:
                full, _, _ = daemon_run(accounts["prefilled"], sink, workdir / "prefilled", count, args.prefill)
            share = count / full / our_rate
            print(f"into a register of {args.prefill} complaints: {rate(count, full)}, {share:.2f} of the empty one's")
        if args.big_mb:
            big = complaint(
                1,
                subject="Pièce volumineuse",
                attachment=("video.mp4", os.urandom(args.big_mb * 1_000_000), "video/mp4"),
            )
            append_all(accounts["big"], [big])
            with SmtpSink() as sink:
                took, big_memory, _ = daemon_run(accounts["big"], sink, workdir / "big", 1)
            print(f"one complaint with a {args.big_mb} MB attachment: {took:.2f} s, peak memory {mb(big_memory.peak)}")
        if args.latency:
            with SmtpSink() as sink:
                delays = latency(accounts["latency"], sink, workdir / "latency", args.latency, args.gap)
            print(
                f"latency APPEND → acknowledgement at the SMTP server, IDLE, {len(delays)} messages "
                f"{args.gap * 1000:.0f} ms apart: p50 {percentile(delays, 0.5) * 1000:.0f} ms, "
                f"p99 {percentile(delays, 0.99) * 1000:.0f} ms, max {delays[-1] * 1000:.0f} ms"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
