"""Reminder sweep benchmark: one sweep over a register of 100,000 open complaints.

    python benchmarks/reminders.py [--complaints 100000] [--due 100] [--url postgresql+psycopg://…]

The register is filled with open complaints whose reminders are spread over the next 30 days,
and `--due` of them fall due at the sweep's instant. Printed side by side, in the same run:
  * one indexed `SELECT count(*)` of the pending reminders in the same due-date range (the floor);
  * the sweep's own selection of what is due (what must not grow with the register);
  * one whole sweep (claim, render, queue each due letter, digests check);
  * an idle sweep (nothing due: what every `sweep_interval` costs most of the time).
SQLite by default (a temporary file); PostgreSQL when --url is given (its tables are dropped first).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, text  # noqa: E402
from sqlmodel import Session, SQLModel  # noqa: E402

from daemon.config import parse_config  # noqa: E402
from daemon.edges.register import Register  # noqa: E402
from daemon.edges.register.models import Complaint, Reminder  # noqa: E402
from daemon.edges.register.reads import due_reminders  # noqa: E402
from daemon.runners.desk import Desk  # noqa: E402
from daemon.runners.sweep import BATCH, Sweeper  # noqa: E402

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def config_for(url: str):
    return parse_config(
        {
            "mailbox": {"kind": "maildir", "path": "/tmp/unused"},
            "smtp": {"from": "Réclamations <r@example.com>"},
            "database": {"url": url},
            "handlers": [{"name": f"Handler {n}", "email": f"h{n}@example.com"} for n in range(10)],
            "routing": {"default_handler": "h0@example.com", "supervisor": "q@example.com"},
            "reminders": {"digest_days": []},
        }
    )


def fill(engine, complaints: int, due: int) -> None:
    rng = random.Random(42)
    due_ids = set(rng.sample(range(1, complaints + 1), due))
    rows, reminders = [], []
    for n in range(1, complaints + 1):
        received = NOW - timedelta(days=rng.uniform(0, 9))
        answer_due = NOW + timedelta(days=rng.uniform(1, 30))
        rows.append(
            {
                "id": n,
                "reference": f"REC-2026-{n:06d}",
                "prefix": "REC",
                "year": 2026,
                "sequence": n,
                "status": "in_progress",
                "customer_email": f"c{n}@client.example",
                "customer_name": "",
                "subject": f"Complaint {n}",
                "text_body": "…",
                "html_body": "",
                "language": "fr",
                "received_at": received,
                "ack_due_at": received + timedelta(hours=48),
                "answer_due_at": answer_due,
                "acknowledged_at": received,
                "handler_email": f"h{n % 10}@example.com",
                "handler_name": f"Handler {n % 10}",
                "ack_rule": "48h",
                "answer_rule": "10d",
                "answer_skipped": "",
            }
        )
        for step, before in (("3d", 3), ("1d", 1)):
            at = max(answer_due - timedelta(days=before), NOW + timedelta(minutes=5))
            if n in due_ids and step == "1d":
                at = NOW - timedelta(minutes=1)
            reminders.append(
                {
                    "complaint_id": n,
                    "kind": "reminder",
                    "deadline": "answer",
                    "step": step,
                    "due_at": at,
                    "state": "pending",
                    "late": False,
                }
            )
        reminders.append(
            {
                "complaint_id": n,
                "kind": "escalation",
                "deadline": "answer",
                "step": "esc-1",
                "due_at": answer_due,
                "state": "pending",
                "late": False,
            }
        )
    with engine.begin() as connection:
        for start in range(0, len(rows), 10000):
            connection.execute(insert(Complaint.__table__), rows[start : start + 10000])
        for start in range(0, len(reminders), 10000):
            connection.execute(insert(Reminder.__table__), reminders[start : start + 10000])
        if engine.dialect.name == "sqlite":
            connection.execute(text("ANALYZE"))


def best_of(runs: int, action) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--complaints", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=100)
    parser.add_argument("--url", help="PostgreSQL URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="complaintsd-reminders-") as tmp:
        url = args.url or f"sqlite:///{tmp}/register.db"
        register = Register(url, create=True)
        engine = register.engine
        SQLModel.metadata.drop_all(engine)
        SQLModel.metadata.create_all(engine)
        started = time.perf_counter()
        fill(engine, args.complaints, args.due)
        print(
            f"{engine.dialect.name}: {args.complaints} open complaints, {args.complaints * 3} pending reminder rows, "
            f"{args.due} due now (filled in {time.perf_counter() - started:.1f} s)"
        )
        config = config_for(url)
        sweeper = Sweeper(Desk.of(config, register, lambda: NOW))

        def count() -> int:
            with Session(engine) as session:
                return session.scalar(
                    select(func.count())
                    .select_from(Reminder)
                    .where(Reminder.state == "pending", Reminder.due_at <= NOW)
                )

        found = count()
        assert found == args.due, f"{found} due, expected {args.due}"
        bare = best_of(5, count)

        def selection_only() -> list[int]:
            with register.session() as session:
                return due_reminders(session, NOW, BATCH)

        selection = best_of(5, selection_only)
        started = time.perf_counter()
        result = sweeper.sweep()
        whole = time.perf_counter() - started
        assert result.reminders == args.due, result
        idle = best_of(5, sweeper.sweep)
    print(f"indexed SELECT count(*) over the due range:   {bare * 1000:8.2f} ms")
    print(f"sweep's selection of what is due:             {selection * 1000:8.2f} ms   ratio {selection / bare:6.1f}x")
    print(f"idle sweep (nothing due):                     {idle * 1000:8.2f} ms   ratio {idle / bare:6.1f}x")
    print(
        f"one sweep sending {args.due:4d} reminders:           {whole * 1000:8.2f} ms"
        f"   ({whole / args.due * 1000:.2f} ms a letter)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
