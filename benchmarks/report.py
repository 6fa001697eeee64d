"""Quality report benchmark: the report for a year on a register of 100,000 complaints.

    python benchmarks/report.py [--complaints 100000] [--url postgresql+psycopg://…]

The register is filled with Core inserts: the complaints spread over 2026 (a third of them in a
category with a business-day rule), each with its source mail (2 KB of raw bytes), its history
(received, routed, acknowledged, and for four in five a move to answered), a cause for one in five,
an action for one in ten, a compensation and a satisfaction answer for one in twenty. Printed side by
side, in the same run:
  * a bare query doing the aggregation's core in SQL: the year's complaints counted with their
    acknowledgements and first answers in time (the answer found in the history, as the report does);
  * `complaintsd report --period 2026` in process, as make_report runs it: rows read, figures (the
    mediation dates of the unanswered included: one in five is never answered here), JSON; then the
    HTML page with its charts. `--cpu` times by this process's CPU time (a shared machine).
SQLite by default (a temporary file); PostgreSQL when --url names an empty database.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import case, func, insert, select, text  # noqa: E402

from daemon.config import parse_config  # noqa: E402
from daemon.core.period import parse_period  # noqa: E402
from daemon.core.profiles import mediation_dates  # noqa: E402
from daemon.core.report import Rows, build_report  # noqa: E402
from daemon.edges.register import Register  # noqa: E402
from daemon.edges.register.models import Action, Cause, Complaint, HistoryEvent, InboundMessage  # noqa: E402
from daemon.edges.register.report_rows import _answered_at, _received_in, report_rows  # noqa: E402
from daemon.report import Made, _no_collection, render, stamp  # noqa: E402

NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
YEAR = datetime(2026, 1, 1, tzinfo=UTC)
BODY = "Bonjour,\n\nMa commande est arrivée abîmée, le colis était ouvert et la théière cassée.\n" * 8
RAW = b"From: c@client.example\r\nSubject: x\r\n\r\n" + b"x" * 2000


def config_for(url: str):
    return parse_config(
        {
            "mailbox": {"kind": "maildir", "path": "/tmp/unused"},
            "smtp": {"from": "Réclamations <r@example.com>"},
            "database": {"url": url},
            "handlers": [{"name": f"Handler {n}", "email": f"h{n}@example.com"} for n in range(10)],
            "routing": {"default_handler": "h0@example.com", "supervisor": "q@example.com"},
            "categories": {"facturation": {"answer_deadline": "6bd"}},
        }
    )


def _complaint(n: int, rng: random.Random) -> tuple[dict, list[dict], dict]:
    received = YEAR + timedelta(seconds=rng.uniform(0, 364 * 86400))
    category = ("facturation", "livraison", None)[n % 3]
    acknowledged = received + timedelta(minutes=rng.uniform(1, 3000))
    answered = received + timedelta(days=rng.uniform(0.5, 15)) if n % 5 else None
    row = {
        "id": n,
        "reference": f"REC-2026-{n:06d}",
        "prefix": "REC",
        "year": 2026,
        "sequence": n,
        "status": "answered" if answered else "in_progress",
        "customer_email": f"c{n % 70000}@client.example",
        "customer_name": "Camille Durand",
        "subject": f"Commande {n} : colis abîmé" if n % 2 else f"Facture {n} erronée",
        "text_body": BODY,
        "html_body": "",
        "language": "fr",
        "received_at": received,
        "ack_due_at": received + timedelta(hours=48),
        "answer_due_at": received + timedelta(days=10),
        "acknowledged_at": acknowledged,
        "handler_email": f"h{n % 10}@example.com",
        "handler_name": f"Handler {n % 10}",
        "category": category,
        "severity": ("low", "medium", "high", None)[n % 4],
        "scope": "systemic" if n % 50 == 0 else None,
        "channel": "email",
        "customer_type": "customer",
        "customer_phone": "",
        "customer_address": "",
        "compensation_type": "credit" if n % 20 == 0 else None,
        "compensation_amount": "25.00" if n % 20 == 0 else None,
        "compensation_currency": "EUR" if n % 20 == 0 else None,
        "satisfaction_understood": "yes" if n % 20 == 1 else None,
        "satisfaction_actions": str(1 + n % 5) if n % 20 == 1 else None,
        "satisfaction_relationship": str(1 + n % 5) if n % 20 == 1 else None,
        "ack_rule": "48h",
        "answer_rule": "6bd" if category == "facturation" else "10d",
        "answer_skipped": "",
    }
    history = [
        {"complaint_id": n, "at": received, "event": "received", "actor": "c", "detail": ""},
        {"complaint_id": n, "at": received, "event": "routed", "actor": "complaintsd", "detail": "to h"},
        {"complaint_id": n, "at": acknowledged, "event": "acknowledgement_sent", "actor": "complaintsd", "detail": ""},
    ]
    if answered:
        history.append(
            {"complaint_id": n, "at": answered, "event": "status", "actor": "h", "detail": "in_progress → answered"}
        )
    mail = {
        "sha256": f"{n:064d}",
        "message_id": f"<{n}@client.example>",
        "outcome": "complaint",
        "reason": "",
        "complaint_id": n,
        "handled": True,
        "sender": "c@client.example",
        "subject": row["subject"],
        "arrived_at": received,
        "registered_at": received,
        "raw": RAW,
    }
    return row, history, mail


def fill(engine, complaints: int) -> None:
    rng = random.Random(42)
    batches: dict[type, list[dict]] = {Complaint: [], HistoryEvent: [], InboundMessage: [], Cause: [], Action: []}

    def flush(connection) -> None:
        for model, rows in batches.items():
            if rows:
                connection.execute(insert(model.__table__), rows)  # type: ignore[attr-defined]
                rows.clear()

    with engine.begin() as connection:
        for n in range(1, complaints + 1):
            row, history, mail = _complaint(n, rng)
            batches[Complaint].append(row)
            batches[HistoryEvent] += history
            batches[InboundMessage].append(mail)
            if n % 5 == 0:
                batches[Cause].append({"complaint_id": n, "at": row["received_at"], "text": f"Cause {n % 40}"})
            if n % 10 == 0:
                due = date(2026, 1, 15) + timedelta(days=n % 360)
                batches[Action].append(
                    {
                        "complaint_id": n,
                        "number": 1,
                        "kind": ("curative", "corrective", "preventive")[n % 3],
                        "text": "Former l'équipe",
                        "due_on": due,
                        "status": ("open", "done", "verified")[n % 3],
                        "created_at": row["received_at"],
                        "updated_at": row["received_at"],
                    }
                )
            if n % 5000 == 0:
                flush(connection)
        flush(connection)
        if engine.dialect.name == "sqlite":
            connection.execute(text("ANALYZE"))


def bare_query(register: Register, start: datetime, end: datetime) -> tuple[int, int, int]:
    c = Complaint.__table__.c  # type: ignore[attr-defined]
    answered = _answered_at()
    statement = select(
        func.count(),
        func.sum(case((c.acknowledged_at <= c.ack_due_at, 1), else_=0)),
        func.sum(case((answered <= c.answer_due_at, 1), else_=0)),
    ).where(_received_in(start, end))
    with register.session() as session:
        count, acks, answers = session.execute(statement).one()
    return count, acks, answers


def one_run(config, register: Register, period, bounds) -> dict[str, float]:
    """One of each, timed: the bare query, then the report's stages as make_report runs them."""
    (count, acks, answers), bare = timed(lambda: bare_query(register, *bounds))
    tz = config.register.timezone
    previous = period.previous().bounds(tz)

    def read() -> tuple[Rows, Rows]:
        with register.session() as session:
            return report_rows(session, *bounds), report_rows(session, *previous, complaints_only=True)

    with _no_collection():  # as make_report reads and counts
        (rows, before), reading = timed(read)
        closed = config.register.closed_days()
        dates = partial(mediation_dates, refer_after=config.refer_after, tz=tz, closed=closed)
        report, computing = timed(lambda: build_report(period, rows, before, NOW, tz, closed, dates))
    assert report.current.complaints == count and report.ack.met == acks and report.answer.met == answers
    made = Made(report, stamp(config, NOW))
    _, json_text = timed(lambda: render(made, "json"))
    _, html_page = timed(lambda: render(made, "html"))
    whole = reading + computing
    return {
        "bare": bare,
        "read": reading,
        "figures": computing,
        "json": whole + json_text,
        "html": whole + html_page,
        "checked": count,
    }


def timed(action):
    """The result, and the time taken: wall clock, or with --cpu this process's CPU time (on a
    machine shared with other work, the wall clock measures the others too)."""
    clock = time.process_time if CPU else time.perf_counter
    started = clock()
    result = action()
    return result, clock() - started


CPU = False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--complaints", type=int, default=100_000)
    parser.add_argument("--url", help="PostgreSQL URL (default: a temporary SQLite file)")
    parser.add_argument("--runs", type=int, default=3, help="best of this many runs")
    parser.add_argument("--keep", metavar="FILE", help="SQLite file filled once and kept for the next runs")
    parser.add_argument("--cpu", action="store_true", help="time by this process's CPU time, not the wall clock")
    args = parser.parse_args()
    global CPU
    CPU = args.cpu
    with tempfile.TemporaryDirectory(prefix="complaintsd-report-") as tmp:
        kept = args.keep and Path(args.keep).exists()
        url = args.url or f"sqlite:///{args.keep or f'{tmp}/register.db'}"
        register = Register(url, create=not kept)
        (_, filled) = timed(lambda: None if kept else fill(register.engine, args.complaints))
        print(f"{register.engine.dialect.name}: {args.complaints} complaints in 2026 (filled in {filled:.1f} s)")
        config = config_for(url)
        period = parse_period("2026")
        bounds = period.bounds(config.register.timezone)
        runs = [one_run(config, register, period, bounds) for _ in range(args.runs)]
        best = {name: min(run[name] for run in runs) for name in runs[0] if name != "checked"}
        assert all(run["checked"] == args.complaints for run in runs)
    floor = best["bare"]
    print(f"bare query (count, acks and answers in time, in SQL):  {floor * 1000:8.0f} ms")
    for name, label in (
        ("read", "report: rows read (the period and the one before)"),
        ("figures", "report: figures computed (core/report.py)"),
        ("json", "report --period 2026 --format json, in all"),
        ("html", "report --period 2026 --format html (6 charts), in all"),
    ):
        print(f"{label:<54} {best[name] * 1000:8.0f} ms   ratio {best[name] / floor:5.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
