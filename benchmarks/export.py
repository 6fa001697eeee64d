"""Export benchmark: `complaintsd export` of a register of 100,000 complaints, in constant memory.

    python benchmarks/export.py [--complaints 100000] [--small 10000] [--format csv|json]

Three SQLite registers are filled with Core inserts (none, `--small` and `--complaints` complaints; each with
its history's status moves, a cause every 3rd, an action every 5th, a link every 7th), then
`complaintsd export` runs on each in a process of its own, to a file. Printed for each: the time,
the child's peak RSS, the rows and bytes written. About the same peak for every size is what
"constant memory" means.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402

from daemon.edges.register import Register  # noqa: E402
from daemon.edges.register.models import Action, Cause, Complaint, ComplaintLink, HistoryEvent  # noqa: E402

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
BODY = "Bonjour,\n\nMa commande est arrivée abîmée : le carton était ouvert et la théière cassée.\nMerci.\n" * 3
CHUNK = 10_000


def complaint_row(n: int) -> dict:
    received = START + timedelta(minutes=3 * n)
    return {
        "id": n,
        "reference": f"REC-2026-{n:06d}",
        "prefix": "REC",
        "year": 2026,
        "sequence": n,
        "status": ("received", "acknowledged", "in_progress", "answered", "closed")[n % 5],
        "customer_email": f"client{n}@client.example",
        "customer_name": f"Client n° {n}",
        "subject": f"Commande {n} arrivée abîmée",
        "text_body": BODY,
        "html_body": "",
        "language": "fr",
        "received_at": received,
        "ack_due_at": received + timedelta(hours=48),
        "answer_due_at": received + timedelta(days=10),
        "acknowledged_at": received + timedelta(minutes=1) if n % 5 else None,
        "handler_email": f"h{n % 10}@example.com",
        "handler_name": f"Handler {n % 10}",
        "severity": ("low", "medium", "high", "critical", None)[n % 5],
        "impact": ("low", "medium", "high")[n % 3],
        "compensation_type": "credit" if n % 4 == 0 else None,
        "compensation_amount": "49.90" if n % 4 == 0 else None,
        "compensation_currency": "EUR" if n % 4 == 0 else None,
        "ack_rule": "48h",
        "answer_rule": "10d",
        "answer_skipped": "",
        "channel": "email",
        "customer_type": "customer",
        "customer_phone": "",
        "customer_address": "",
        "wished_solution": "Un remboursement" if n % 2 else "",
    }


def hanging_rows(n: int, received: datetime) -> dict[str, list[dict]]:
    moves = [("received", "acknowledged"), ("acknowledged", "in_progress"), ("in_progress", "answered")]
    history = [
        {
            "complaint_id": n,
            "at": received + timedelta(hours=i + 1),
            "event": "status",
            "actor": "x",
            "detail": f"{a} → {b}",
        }
        for i, (a, b) in enumerate(moves[: n % 4])
    ]
    causes = (
        [{"complaint_id": n, "at": received, "text": "Colis mal calé au dépôt", "category": None}] if n % 3 == 0 else []
    )
    actions = (
        [
            {
                "complaint_id": n,
                "number": 1,
                "kind": "corrective",
                "text": "Former l'équipe du dépôt",
                "owner_email": "paul@example.com",
                "due_on": date(2026, 12, 15),
                "status": "open",
                "reason": "",
                "created_at": received,
                "updated_at": received,
            }
        ]
        if n % 5 == 0
        else []
    )
    links = [{"complaint_id": n, "related_id": n - 1, "created_at": received}] if n % 7 == 0 and n > 1 else []
    return {"history": history, "cause": causes, "action": actions, "complaint_link": links}


def fill(url: str, complaints: int) -> None:
    register = Register(url, create=True)
    tables = {
        "history": HistoryEvent.__table__,
        "cause": Cause.__table__,
        "action": Action.__table__,
        "complaint_link": ComplaintLink.__table__,
    }
    with register.engine.begin() as connection:
        for start in range(1, complaints + 1, CHUNK):
            rows = [complaint_row(n) for n in range(start, min(start + CHUNK, complaints + 1))]
            connection.execute(insert(Complaint.__table__), rows)
            hanging: dict[str, list[dict]] = {name: [] for name in tables}
            for row in rows:
                for name, more in hanging_rows(row["id"], row["received_at"]).items():
                    hanging[name] += more
            for name, table in tables.items():
                if hanging[name]:
                    connection.execute(insert(table), hanging[name])
        connection.execute(text("ANALYZE"))


def config(tmp: Path, url: str) -> Path:
    path = tmp / f"config-{abs(hash(url))}.toml"
    path.write_text(
        f"""
[mailbox]
kind = "maildir"
path = "{tmp / "maildir"}"
[smtp]
from = "reclamations@example.com"
[database]
url = "{url}"
[storage]
path = "{tmp / "attachments"}"
[[handlers]]
name = "Bob"
email = "h0@example.com"
[routing]
default_handler = "h0@example.com"
supervisor = "qualite@example.com"
""",
        encoding="utf-8",
    )
    return path


def run_export(tmp: Path, url: str, form: str) -> tuple[float, int, int, int]:
    """(seconds, peak RSS in kB, rows, bytes) of one `complaintsd export` in a child process."""
    output = tmp / f"export.{form}"
    command = [sys.executable, "-m", "daemon.cli", "export", "--format", form, "--output", str(output)]
    command += ["--config", str(config(tmp, url))]
    started = time.perf_counter()
    # /usr/bin/time -f %M would need GNU time; wait4's rusage is this one child's own peak.
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"export failed: {process.stderr.read().decode() if process.stderr else ''}")
    peak = usage.ru_maxrss
    with output.open(encoding="utf-8-sig", newline="") as file:
        rows = (
            sum(1 for _ in csv.reader(file)) - 1 if form == "csv" else sum(1 for line in file if line.startswith("{"))
        )
    return elapsed, peak, rows, output.stat().st_size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--complaints", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--format", choices=("csv", "json"), default="csv")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="complaintsd-export-") as name:
        tmp = Path(name)
        for size in (0, args.small, args.complaints):  # 0: what the command costs before any row
            url = f"sqlite:///{tmp}/register-{size}.db"
            started = time.perf_counter()
            fill(url, size)
            filled = time.perf_counter() - started
            elapsed, peak, rows, written = run_export(tmp, url, args.format)
            print(
                f"{size:>7} complaints (filled in {filled:.1f} s): export --format {args.format} {elapsed:6.2f} s, "
                f"peak RSS {peak / 1024:.0f} MB, {rows} rows, {written / 1e6:.1f} MB written"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
