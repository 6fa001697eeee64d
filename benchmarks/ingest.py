"""Ingestion benchmark: the daemon against the bare limit of this path on this machine, same run.

    python benchmarks/ingest.py [--messages 1000] [--latency 200]

(a) bare loop: imapclient FETCH one message → stdlib parse → SQLite insert in its own transaction
    → MOVE → one SMTP send, one message after the other (one IMAP and one SMTP connection);
(b) the daemon: `complaintsd run` from process start until the SMTP server holds every
    acknowledgement, on the same number of messages appended beforehand;
(c) latency with IDLE: the daemon running idle, messages APPENDed one at a time; time from APPEND
    to the acknowledgement's arrival at the SMTP server (p50/p99).
A third of the messages carry a 50 KB attachment. The machine is shared and noisy: read the ratio.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import hashlib
import smtplib
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness import DaemonProcess, complaint, wait_until, write_config  # noqa: E402
from tests.servers import DovecotServer, SmtpSink  # noqa: E402


def messages(count: int, tag: str) -> list[bytes]:
    out = []
    for number in range(1, count + 1):
        files = None
        if number % 3 == 0:
            files = (f"photo-{number}.jpg", hashlib.sha256(f"{tag}{number}".encode()).digest() * 1600, "image/jpeg")
        out.append(complaint(number, subject=f"{tag} complaint {number}", attachment=files))
    return out


def append_all(account, raws: list[bytes]) -> None:
    with account.connect() as client:
        for raw in raws:
            client.append("INBOX", raw)


def bare_loop(account, sink: SmtpSink, workdir: Path, count: int) -> float:
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
        for uid in client.search("ALL"):
            raw = client.fetch([uid], ["BODY.PEEK[]"])[uid][b"BODY[]"]
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            body = msg.get_body(("plain",))
            with db:
                db.execute(
                    "INSERT INTO m (message_id, sha256, sender, subject, body, raw) VALUES (?,?,?,?,?,?)",
                    (
                        msg["Message-ID"],
                        hashlib.sha256(raw).hexdigest(),
                        str(msg["From"]),
                        str(msg["Subject"]),
                        body.get_content() if body else "",
                        raw,
                    ),
                )
            client.move([uid], "Done")
            smtp.sendmail(
                "reclamations@example.com", [msg["From"].addresses[0].addr_spec], b"Subject: ack\r\n\r\nregistered\r\n"
            )
    smtp.quit()
    elapsed = time.perf_counter() - started
    assert len(sink.messages()) >= count, "bare loop did not send every mail"
    return elapsed


def daemon_run(account, sink: SmtpSink, workdir: Path, count: int) -> float:
    config = write_config(workdir, account, sink)
    started = time.perf_counter()
    with DaemonProcess(config) as daemon:
        sink.wait_for(count, timeout=600)
        elapsed = time.perf_counter() - started
        assert daemon.alive(), daemon.log()[-2000:]
    return elapsed


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
        received = sink.wait_for(count, timeout=120)
    return sorted(m.arrived_monotonic - appended[m.parsed()["In-Reply-To"]] for m in received)


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(round(share * (len(values) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--latency", type=int, default=200, help="messages for the latency run")
    parser.add_argument("--gap", type=float, default=0.05, help="seconds between APPENDs in the latency run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="complaintsd-bench-") as tmp, DovecotServer() as dovecot:
        workdir = Path(tmp)
        bare_account, daemon_account, latency_account = (
            dovecot.add_user(hint=name) for name in ("bare", "daemon", "latency")
        )
        print(f"appending {args.messages} complaints (a third with a 50 KB attachment) twice …", flush=True)
        append_all(bare_account, messages(args.messages, "bare"))
        append_all(daemon_account, messages(args.messages, "daemon"))
        (workdir / "bare").mkdir()
        with SmtpSink() as sink:
            bare = bare_loop(bare_account, sink, workdir / "bare", args.messages)
        with SmtpSink() as sink:
            ours = daemon_run(daemon_account, sink, workdir / "daemon", args.messages)
        with SmtpSink() as sink:
            delays = latency(latency_account, sink, workdir / "latency", args.latency, args.gap)
    bare_rate, our_rate = args.messages / bare, args.messages / ours
    print(
        "bare loop (fetch → stdlib parse → SQLite commit → MOVE → SMTP, one by one): "
        f"{bare_rate:7.1f} messages/s ({bare:.2f} s)"
    )
    print(
        "complaintsd run (start → every acknowledgement at the SMTP server):       "
        f"{our_rate:7.1f} messages/s ({ours:.2f} s)"
    )
    print(f"ratio daemon / bare loop: {our_rate / bare_rate:.2f}")
    print(
        f"latency APPEND → acknowledgement at the SMTP server, IDLE, {len(delays)} messages "
        f"{args.gap * 1000:.0f} ms apart: p50 {percentile(delays, 0.5) * 1000:.0f} ms, "
        f"p99 {percentile(delays, 0.99) * 1000:.0f} ms, max {delays[-1] * 1000:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
