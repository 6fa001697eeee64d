"""The export (issue 12, item 2): `complaintsd export`, one row per complaint with every field and
each deadline's verdict, on a register seeded through the runners with the fake clock, every figure
counted by hand below.

The seeded register (Monday 23 November 2026, 10:00 in Paris; answer deadline 10 days):
  1  mail, acknowledged at once, answered 3 h later with an evaluation, a cause, a compensation of
     50 EUR and an action                                          → ack met,    answer met
  2  mail with a PDF, acknowledged at once, answered after 11 days  → ack met,    answer missed
  3  mail whose acknowledgement the relay refused, never answered  → ack missed, answer missed
  4  phone call, no email, acknowledgement printed 3 h after it    → ack met,    answer missed
  5  mail received on 4 December, at the export's instant          → ack pending, answer pending
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from daemon.cli import main
from daemon.core.export import COLUMNS
from daemon.edges.register.outbox import acknowledged_on_paper
from daemon.export import Window, export
from daemon.runners.entry import register_entry
from tests.harness import complaint, reply
from tests.postgres import register_url
from tests.runners import BOB, FakeClock, ingest, make_desk, relay
from tests.test_migrations import config_file
from tests.test_runners_entry import phone_call
from tests.test_sheet import ANSWER

PAUL = "paul.martin@client.example"


def seeded(tmp_path):
    clock = FakeClock()
    desk = make_desk(tmp_path, clock)
    refs = ingest(
        desk,
        complaint(1),
        complaint(2, attachment=("facture.pdf", b"%PDF-1.4 facture", "application/pdf")),
        complaint(3, sender=f"Paul Martin <{PAUL}>", subject="Livraison; « jamais » arrivée"),
    ).references
    notifications = {
        ref: letter
        for letter in relay(desk, refuse={PAUL})
        if letter.kind == "handler_notification"
        for ref in refs
        if ref in letter.subject
    }
    clock.advance(timedelta(hours=3))
    ingest(desk, reply(notifications[refs[0]].message, BOB, ANSWER))
    refs.append(register_entry(desk, phone_call(clock)))  # made 2 h before: received at 11:00
    clock.advance(timedelta(hours=1))
    with desk.register.transaction() as session:
        acknowledged_on_paper(session, refs[3], clock())
    relay(desk)
    clock.advance(timedelta(days=11))  # Friday 4 December, 14:00 in Paris
    ingest(desk, reply(notifications[refs[1]].message, BOB, "#réponse\nNous avons vérifié."))
    refs += ingest(desk, complaint(5)).references  # its acknowledgement still in the outbox
    return desk, clock, refs


def cli_config(tmp_path) -> str:
    """The configuration `complaintsd export` reads, on the test's register (SQLite or PostgreSQL)."""
    path = config_file(tmp_path, tmp_path / "register.db")
    sqlite = f'url = "sqlite:///{tmp_path / "register.db"}"'
    path.write_text(path.read_text(encoding="utf-8").replace(sqlite, f'url = "{register_url(tmp_path)}"'))
    return str(path)


def exported(desk, clock, form: str = "csv") -> str:
    out = io.StringIO()
    export(desk.register, out, form, Window(), clock())
    return out.getvalue()


def test_every_row_and_figure_matches_the_hand_count(tmp_path) -> None:
    desk, clock, refs = seeded(tmp_path)

    rows = list(csv.DictReader(io.StringIO(exported(desk, clock))))

    assert [row["reference"] for row in rows] == refs and list(rows[0]) == list(COLUMNS)
    by = {row["reference"]: row for row in rows}
    verdicts = [(by[ref]["ack_deadline"], by[ref]["answer_deadline"]) for ref in refs]
    assert verdicts == [
        ("met", "met"),
        ("met", "missed"),
        ("missed", "missed"),
        ("met", "missed"),
        ("pending", "pending"),
    ]
    assert Counter(row["ack_deadline"] for row in rows) == {"met": 3, "missed": 1, "pending": 1}
    assert Counter(row["answer_deadline"] for row in rows) == {"met": 1, "missed": 3, "pending": 1}
    assert Counter(row["channel"] for row in rows) == {"email": 4, "phone": 1}

    first, second, third, phone, fifth = (by[ref] for ref in refs)
    assert (first["severity"], first["impact"], first["priority"]) == ("high", "high", "urgent")
    assert (first["causes_count"], first["causes"]) == ("1", "Colis mal calé au dépôt de Lyon")
    assert (first["compensation_type"], first["compensation_amount"], first["compensation_currency"]) == (
        "credit",
        "50.00",
        "EUR",
    )
    assert (first["actions_count"], first["actions_unfinished"]) == ("1", "1")
    assert first["actions"] == "1 corrective [open] Former l'équipe du dépôt (2027-01-15)"
    assert first["wished_solution"] == "Un avoir" and first["status"] == "answered"
    assert (
        first["answered_at"] == "2026-11-23T12:00:00+00:00" and first["acknowledged_at"] == "2026-11-23T09:00:00+00:00"
    )
    assert (
        second["answered_at"] == "2026-12-04T13:00:00+00:00" and second["answer_due_at"] == "2026-12-03T09:00:00+00:00"
    )
    assert [row["attachments"] for row in rows] == ["0", "1", "0", "0", "0"]
    assert third["acknowledged_at"] == "" and third["status"] == "received"
    assert third["subject"] == "Livraison; « jamais » arrivée"
    assert (phone["customer_email"], phone["customer_phone"]) == ("", "+33 1 23 45 67 89")
    assert phone["customer_address"] == "12 rue des Lilas\n69003 Lyon", "a multi-line cell, quoted, kept whole"
    assert phone["acknowledged_at"] == "2026-11-23T13:00:00+00:00"
    assert fifth["received_at"] == "2026-12-04T13:00:00+00:00"


def test_json_holds_the_same_values_typed(tmp_path) -> None:
    desk, clock, refs = seeded(tmp_path)

    data = json.loads(exported(desk, clock, "json"))
    rows = list(csv.DictReader(io.StringIO(exported(desk, clock))))

    assert [item["reference"] for item in data] == refs and list(data[0]) == list(COLUMNS)
    assert data[0]["compensation_amount"] == 50.0 and data[0]["causes_count"] == 1 and data[1]["attachments"] == 1
    assert data[2]["acknowledged_at"] is None
    for item, row in zip(data, rows, strict=True):
        assert {
            k: "" if v is None else (f"{v:.2f}" if isinstance(v, float) else str(v)) for k, v in item.items()
        } == row


def test_from_and_to_are_days_of_the_registers_calendar(tmp_path) -> None:
    desk, clock, refs = seeded(tmp_path)

    def window(start: str | None, end: str | None) -> list[str]:
        config = cli_config(tmp_path)
        out = tmp_path / "out.json"
        args = ["export", "--format", "json", "--output", str(out), "--config", str(config)]
        args += ["--from", start] if start else []
        args += ["--to", end] if end else []
        assert main(args) == 0
        return [item["reference"] for item in json.loads(out.read_text(encoding="utf-8"))]

    assert window("2026-12-01", None) == [refs[4]]
    assert window(None, "2026-11-23") == refs[:4]
    assert window("2026-11-24", "2026-12-03") == []
    assert window(None, None) == refs


def test_excel_gets_a_bom_semicolons_and_a_decimal_comma(tmp_path, capsys) -> None:
    _, _, refs = seeded(tmp_path)
    config = cli_config(tmp_path)
    out = tmp_path / "register.csv"

    assert main(["export", "--excel", "--output", str(out), "--config", config]) == 0

    raw = out.read_bytes()
    assert raw.startswith("\ufeffreference;status;channel;".encode())
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 5 and rows[0]["compensation_amount"] == "50,00"
    assert rows[2]["subject"] == "Livraison; « jamais » arrivée", "a separator in a value is quoted"
    assert capsys.readouterr().err == f"5 complaint(s) exported to {out}\n"

    assert main(["export", "--config", config]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("\ufeffreference,status,") and len(list(csv.reader(io.StringIO(printed[1:])))) == 6
    assert main(["export", "--no-bom", "--separator", "tab", "--config", config]) == 0
    assert capsys.readouterr().out.startswith("reference\tstatus\t")


def test_bad_options_are_one_line(tmp_path, capsys) -> None:
    config = cli_config(tmp_path)
    make_desk(tmp_path, FakeClock(datetime(2026, 11, 23, tzinfo=UTC)))
    for args, error in (
        (["--from", "23/11/2026"], "--from 23/11/2026: not a date (YYYY-MM-DD)"),
        (["--from", "2026-12-02", "--to", "2026-12-01"], "--to 2026-12-01 is before --from 2026-12-02"),
        (["--separator", "|"], "--separator '|': use ',', ';' or 'tab'"),
    ):
        assert main(["export", *args, "--config", config]) == 1
        assert capsys.readouterr().err == f"complaintsd: {error}\n"


def test_export_customer_gives_everything_held_about_one_person(tmp_path, capsys) -> None:
    """A subject access request (GDPR art. 15): that person's complaints with their history and files,
    and every message from their address (a follow-up included), nobody else's."""
    config = config_file(tmp_path, tmp_path / "register.db")
    clock = FakeClock()
    desk = make_desk(tmp_path, clock, database={"url": f"sqlite:///{tmp_path / 'register.db'}"})
    pdf = ("bon.pdf", b"%PDF-1.4 bon", "application/pdf")
    ingest(
        desk,
        complaint(1, sender="Camille Durand <Camille.Durand@client.example>", attachment=pdf),
        complaint(2, sender="Other <other@client.example>"),
    )
    [ack] = [letter for letter in relay(desk) if letter.kind == "acknowledgement" and "camille" in letter.to.lower()]
    clock.advance(timedelta(hours=1))
    ingest(desk, reply(ack.message, "Camille Durand <camille.durand@client.example>", "Toujours rien reçu."))
    output = tmp_path / "camille.json"

    args = ["export", "--config", str(config), "--format", "json", "--customer", "camille.durand@client.example"]
    assert main([*args, "--output", str(output)]) == 0

    held = json.loads(output.read_text(encoding="utf-8"))
    assert [c["reference"] for c in held["complaints"]] == ["REC-2026-000001"]
    [mine] = held["complaints"]
    assert [a["filename"] for a in mine["attachments"]] == ["bon.pdf"]
    assert "follow_up" in [h["event"] for h in mine["history"]]
    assert [(m["outcome"], m["reference"]) for m in held["messages"]] == [
        ("complaint", "REC-2026-000001"),
        ("follow_up", "REC-2026-000001"),
    ]
    assert "other@client.example" not in output.read_text(encoding="utf-8")
    capsys.readouterr()
    assert main([*args[:-2], "--customer", "x@y.example", "--format", "csv"]) == 1
    assert "--customer: gives one JSON document" in capsys.readouterr().err


def test_an_export_piped_into_head_stops_quietly(tmp_path) -> None:
    """`complaintsd export | head`: the reader has what it wanted and left; no "internal error"
    line. (`true` reads nothing and exits before the export writes its first row.)"""
    desk, _, _ = seeded(tmp_path)
    config = cli_config(tmp_path)
    pipeline = subprocess.run(
        f"{sys.executable} -m daemon.cli export --config {config} | true",
        shell=True,
        capture_output=True,
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        check=False,
    )
    assert pipeline.stderr == b"", pipeline.stderr.decode()
