"""Sender benchmark: the daemon's outbox sender against a bare smtplib loop sending the same bytes.

    python benchmarks/outbox.py [--complaints 500] [--connections 3] [--runs 1] [--relay-ms 0] [--customers 0]
                                [--pipelining]

A register holds the letters `--complaints` new complaints owe (an acknowledgement to the customer
and a notification to the handler each, composed by the ingestion path), waiting in the outbox: all
from one customer and to one handler (Bob), or from `--customers` customers in turn.
(a) bare loop: a Python process that reads the rows (sqlite3) and sends their bytes over one
    smtplib connection, one after the other, recording nothing;
(b) the daemon: `complaintsd run` on an empty Maildir, so that its sender alone has work.
Each clock runs from process start until every letter is at the SMTP server (an aiosmtpd sink in
this process; `--relay-ms` delays its answers to MAIL, RCPT and DATA, as a relay far away would;
`--pipelining`: it offers PIPELINING, as Postfix does, which the daemon uses and smtplib does not);
it also prints when the first letter arrived and the CPU of the process (the daemon's: both of its
processes, its stop included). Read the ratio: the machine is shared.

`--in-process` times the sender's own path instead, without the processes' start: `Outbox.flush` of
the same letters in this process, to the sink in this process too (a thread: read the sending
thread's CPU, and the recording thread's); `--profile` adds cProfile's view of the sending thread.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.ingest import messages  # noqa: E402

from tests.harness import HANDLERS, compile_daemon  # noqa: E402
from tests.runners import FakeClock, ingest, make_desk  # noqa: E402
from tests.servers import SmtpSink  # noqa: E402

BARE = """
import smtplib, sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute(
    "SELECT mail_from, recipients, raw FROM outbox WHERE status = 'pending' ORDER BY id").fetchall()
with smtplib.SMTP("127.0.0.1", int(sys.argv[2])) as smtp:
    for mail_from, recipient, raw in rows:
        smtp.sendmail(mail_from, [recipient], raw)
"""


def fill(workdir: Path, complaints: int, customers: int = 0) -> Path:
    """A register whose outbox holds the letters of `complaints` new complaints, none sent."""
    desk = make_desk(workdir, FakeClock(datetime.now(UTC)), limits={"automatic_mails_per_day": 10_000})
    raws = messages(complaints, "outbox", customers=customers)
    for start in range(0, complaints, 50):
        ingest(desk, *raws[start : start + 50])
    desk.register.dispose()
    return workdir / "register.db"


def config(workdir: Path, sink: SmtpSink, connections: int) -> Path:
    for part in ("cur", "new", "tmp"):
        (workdir / "maildir" / part).mkdir(parents=True, exist_ok=True)
    path = workdir / "config.toml"
    path.write_text(
        f"""
[mailbox]
kind = "maildir"
path = "{workdir}/maildir"
poll_interval = "1s"

[smtp]
host = "{sink.host}"
port = {sink.port}
tls = "none"
from = "Service réclamations <reclamations@example.com>"
timeout = "5s"

[database]
url = "sqlite:///{workdir}/register.db"

[storage]
path = "{workdir}/attachments"

{HANDLERS}
[reminders]
digest_days = []

[limits]
automatic_mails_per_day = 10000

[outbox]
connections = {connections}
""",
        encoding="utf-8",
    )
    return path


class Run:
    """One side's figures: seconds to the first and the last letter, CPU seconds."""

    def __init__(self, first: float, last: float, cpu: float) -> None:
        self.first, self.last, self.cpu = first, last, cpu

    def line(self, name: str, letters: int) -> str:
        return (
            f"{name:8} {letters / self.last:7.1f} letters/s: all at the server {self.last:5.2f} s "
            f"(first {self.first:4.2f} s), CPU {self.cpu:4.2f} s"
        )


def timed(command: list[str], sink: SmtpSink, letters: int, stop: bool) -> Run:
    with open(sink_log(), "ab") as log:  # the child keeps its own copy of the descriptor
        started = time.monotonic()
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    received = sink.wait_for(letters, timeout=300)
    first = min(m.arrived_monotonic for m in received) - started
    last = max(m.arrived_monotonic for m in received) - started
    if stop:
        process.send_signal(signal.SIGTERM)
    _pid, _status, usage = os.wait4(process.pid, 0)
    return Run(first, last, usage.ru_utime + usage.ru_stime)


def in_process(pristine: Path, workdir: Path, sink: SmtpSink, connections: int, profile: bool) -> str:
    """`Outbox.flush` until every letter is sent: the wall clock, the sending thread's CPU (the
    event loop) and the recording thread's (`Outbox.record`, the group commit)."""
    from daemon.edges.register import Register
    from daemon.edges.smtp import SmtpSender
    from daemon.runners.outbox import Outbox
    from tests.runners import config_of

    shutil.copytree(pristine.parent, workdir)
    config = config_of(
        workdir,
        smtp={"host": sink.host, "port": sink.port},
        outbox={"connections": connections, "batch_size": 1000},
        database={"url": f"sqlite:///{workdir}/register.db"},
    )
    outbox = Outbox(
        Register(config.database.url), SmtpSender(config.smtp, connections), config.outbox, FakeClock(datetime.now(UTC))
    )
    recording = [0.0]
    record = outbox.record

    def timed_record(session, results):  # type: ignore[no-untyped-def]
        started = time.thread_time()
        try:
            return record(session, results)
        finally:
            recording[0] += time.thread_time() - started

    outbox.record = timed_record  # type: ignore[method-assign]
    profiler = cProfile.Profile() if profile else None
    wall, cpu = time.monotonic(), time.thread_time()
    if profiler is not None:
        profiler.enable()
    while outbox.flush():  # a batch at a time (batch_size 1000: one)
        pass
    if profiler is not None:
        profiler.disable()
    wall, cpu = time.monotonic() - wall, time.thread_time() - cpu
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    outbox.register.dispose()
    return f"in process: {wall:5.2f} s, the sending thread's CPU {cpu:4.2f} s, recording {recording[0]:4.2f} s"


def sink_log() -> Path:
    return Path(tempfile.gettempdir()) / "complaintsd-bench-outbox.log"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--complaints", type=int, default=500)
    parser.add_argument("--connections", type=int, default=3, help="[outbox] connections (the default: 3)")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--customers", type=int, default=0, help="complaints from this many customers (0: one)")
    parser.add_argument("--relay-ms", type=float, default=0.0, help="the sink's delay before each answer")
    parser.add_argument("--pipelining", action="store_true", help="the sink offers PIPELINING (RFC 2920)")
    parser.add_argument("--in-process", action="store_true", help="time Outbox.flush in this process instead")
    parser.add_argument("--profile", action="store_true", help="with --in-process: cProfile of the sending thread")
    args = parser.parse_args()
    compile_daemon()  # measured as installed: see tests/harness.py
    letters = 2 * args.complaints
    with tempfile.TemporaryDirectory(prefix="complaintsd-bench-outbox-") as tmp:
        pristine = fill(Path(tmp) / "pristine", args.complaints, args.customers)
        print(f"{letters} letters waiting ({args.complaints} complaints, every 5th with a 50 KB PDF)", flush=True)
        for run in range(1, args.runs + 1):
            sink_options = {"latency": args.relay_ms / 1000, "pipelining": args.pipelining}
            if args.in_process:
                with SmtpSink(**sink_options) as sink:
                    line = in_process(pristine, Path(tmp) / f"in-process-{run}", sink, args.connections, args.profile)
                    print(f"{line}, {len(sink.messages())} letters at the server", flush=True)
                continue
            with SmtpSink(**sink_options) as sink:
                bare = timed([sys.executable, "-c", BARE, str(pristine), str(sink.port)], sink, letters, stop=False)
            workdir = Path(tmp) / f"daemon-{run}"
            shutil.copytree(pristine.parent, workdir)
            with SmtpSink(**sink_options) as sink:
                path = config(workdir, sink, args.connections)
                command = [sys.executable, "-m", "daemon.cli", "run", "--config", str(path)]
                daemon = timed(command, sink, letters, stop=True)
            print(bare.line("bare", letters), flush=True)
            print(daemon.line("daemon", letters), flush=True)
            print(f"ratio daemon / bare: {bare.last / daemon.last:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
