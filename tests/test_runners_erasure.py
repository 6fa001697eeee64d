"""Erasure (issue 13, item 2): `complaintsd erase --customer EMAIL` pseudonymises one person
everywhere the register holds them, keeps what happened (reference, dates, category, outcome,
deadline figures), is itself an event of the chain, and `verify` still holds. In process, with the
fake clock, on a real register (SQLite, or PostgreSQL under `make test-postgres`); the CLI too.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from daemon.cli import main
from daemon.core.erasure import Person, mentions, pseudonym, scrub
from daemon.core.manual_entry import Channel, ManualEntry
from daemon.core.period import parse_period
from daemon.export import Window, export
from daemon.report import make_report, render
from daemon.runners.entry import register_entry
from daemon.runners.erasure import erase, erasure_plan
from daemon.runners.integrity import verify_register
from daemon.runners.sweep import Sweeper
from daemon.verify import export_history
from tests.harness import complaint, reply
from tests.postgres import on_postgres
from tests.runners import BOB, FakeClock, config_of, history, ingest, make_desk, queued, relay, show
from tests.test_migrations import config_file

KEY = b"0123456789abcdef0123456789abcdef"
CAMILLE = "camille.durand@client.example"
PHONE = "+33 6 12 34 56 78"
STREET = "8 impasse des Tilleuls"
WORDS = "la soupiere de porcelaine bleue"  # ASCII: the raw message carries it as is, the grep finds it
SHARED = ("photo.jpg", b"\xff\xd8 the same photo of the parcel", "image/jpeg")
OWN = ("facture.pdf", b"%PDF facture of Camille Durand, 8 impasse des Tilleuls", "application/pdf")
MARKS = (CAMILLE, "Camille Durand", PHONE, STREET, WORDS, "porcelaine")


def seeded(tmp_path, clock: FakeClock):
    """Camille's two complaints (one by mail with her file, one by phone with her phone and address),
    both closed, the last one's answer still pending; Jeanne's open one, with the same photo as Camille's."""
    desk = make_desk(tmp_path, clock)
    body = f"Bonjour,\n\n{WORDS} est arrivee cassee.\nCamille Durand\n"
    [first] = ingest(desk, complaint(1, subject="Soupiere cassee", body=body, attachment=OWN)).references
    notification = next(m for m in relay(desk) if m.kind == "handler_notification")
    away = complaint(
        9, subject="Absent", body="Camille Durand est absente.", headers={"Auto-Submitted": "auto-replied"}
    )
    assert ingest(desk, away).references == [], "a robot's reply: registered with no complaint"
    clock.advance(timedelta(hours=1))
    closing = (
        "#catégorie livraison\n#action curative Rembourser Camille Durand 2026-12-15\n"
        "#clore fondée\n#réponse Remboursé."
    )
    ingest(desk, reply(notification.message, BOB, closing))
    relay(desk)
    entry = ManualEntry(
        channel=Channel.PHONE,
        name="Camille Durand",
        subject="Colis jamais arrive",
        text=f"Elle attend {WORDS} depuis un mois.",
        received_at=clock() - timedelta(minutes=30),
        email=CAMILLE,
        phone=PHONE,
        address=f"{STREET}\n69007 Lyon",
    )
    second = register_entry(desk, entry)
    relay(desk)
    clock.advance(timedelta(hours=1))
    [other] = ingest(
        desk, complaint(3, sender="Jeanne Petit <jeanne.petit@autre.example>", attachment=SHARED)
    ).references
    relay(desk)
    notified = next(m for m in queued(desk, "handler_notification") if second in m.subject)
    ingest(desk, reply(notified.message, BOB, "#catégorie livraison\n#clore partiellement fondée\n#réponse Retrouvé."))
    return desk, first, second, other


def figures(desk, config) -> tuple[str, list[dict]]:
    """The report of November 2026 and the export's rows without the customer's columns."""
    made = render(make_report(config, desk.register, parse_period("2026-11"), desk.clock()), "json")
    out = io.StringIO()
    export(desk.register, out, "json", Window(), desk.clock())
    personal = ("customer_name", "customer_email", "customer_phone", "customer_address", "subject")
    rows = [{k: v for k, v in row.items() if k not in personal} for row in json.loads(out.getvalue())]
    return made, rows


def strip_stamp(report: str) -> dict:
    """The report without its stamp (which hashes the content, so says the same twice)."""
    return {k: v for k, v in json.loads(report).items() if k != "stamp"}


def _differ_only_in_words(after: list[dict], before: list[dict]) -> bool:
    """The export's rows, the customer's words (text, files) aside: an erase changes nothing else."""
    words = ("text_body", "attachments", "actions")
    return [{k: v for k, v in r.items() if k not in words} for r in after] == [
        {k: v for k, v in r.items() if k not in words} for r in before
    ]


def leftovers(desk, tmp_path: Path) -> set[str]:
    """Which of the person's marks the register's files (SQLite) and the storage directory hold."""
    files = [p for p in (tmp_path / "attachments").rglob("*") if p.is_file()]
    if not on_postgres():
        files += [p for p in tmp_path.glob("register.db*") if p.is_file()]
        return {m for m in MARKS for f in files if m.encode() in f.read_bytes()}
    found = {m for m in MARKS for f in files if m.encode() in f.read_bytes()}
    with desk.register.engine.connect() as connection:
        for table in ("complaint", "history", "inbound_message", "outbox", "attachment", "action", "cause"):
            dump = " ".join(str(row) for row in connection.execute(text(f"SELECT * FROM {table}")))
            found |= {m for m in MARKS if m in dump or m.encode() in dump.encode()}
    return found


def test_an_erased_person_leaves_no_trace_and_everything_else_holds(tmp_path) -> None:
    clock = FakeClock()
    desk, first, second, other = seeded(tmp_path, clock)
    config = config_of(tmp_path)
    clock.advance(timedelta(days=1))
    before = figures(desk, config)
    jeanne = (show(desk, other), history(desk, other))
    assert leftovers(desk, tmp_path) == set(MARKS), "the test can fail: every mark is there before"

    plan = erasure_plan(desk, "  Camille.Durand@Client.example ", KEY)
    assert [h.reference for h in plan.complaints] == [first, second] and not any(h.open for h in plan.complaints)
    pending = ("answer", "closed", "command_reply")
    assert [h.pending for h in plan.complaints] == [(), pending], "the second one's letters were never relayed"
    assert (plan.stray_messages, plan.stray_letters) == (1, ()), "the robot's reply from her address"
    assert erase(desk, plan, "admin (root)")

    assert leftovers(desk, tmp_path) == set(), "no trace in any table or file"
    alias = pseudonym(CAMILLE, KEY)
    for reference in (first, second):
        erased = show(desk, reference)
        assert (erased.customer_email, erased.customer_name, erased.customer_phone) == (alias, "", "")
        assert (erased.subject, erased.text_body, erased.attachments) == ("", "", ())
        assert (erased.status, erased.category) == ("closed", "livraison")
    assert show(desk, first).actions[0].text == f"Rembourser {alias}", "the company's words keep, the name goes"
    events = history(desk, second)
    cancelled = f"3 letter(s) not sent, the customer's data being erased: {', '.join(pending)}"
    assert events[-2] == ("letters_cancelled", cancelled)
    assert events[-1][0] == "erased" and alias in events[-1][1]
    assert all(d == "" for e, d in events[:-2] if e != "status") and ("status", "answered → closed") in events
    assert (show(desk, other), history(desk, other)) == jeanne, "the other person is untouched"
    assert desk.store.digest_of(show(desk, other).attachments[0].sha256) is not None
    assert queued(desk, to=CAMILLE) == [] and relay(desk) == []
    report, rows = figures(desk, config)
    assert json.loads(report)["recurring"] == [{"kind": "customer", "key": alias, "references": [first, second]}]
    assert strip_stamp(report) == strip_stamp(before[0].replace(CAMILLE, alias)), "the report's figures hold"
    assert _differ_only_in_words(rows, before[1]), "the export's figures hold"

    verified = verify_register(desk.register, desk.store)
    assert verified.ok, verified.broken
    exported = tmp_path / "history.jsonl"
    assert export_history(desk.register, exported) == 0
    script = Path(__file__).parents[1] / "scripts" / "verify_chain.py"
    result = subprocess.run([sys.executable, str(script), str(exported)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout
    assert erasure_plan(desk, CAMILLE, KEY).empty, "nothing left to find by that address"


def test_an_erased_event_altered_afterwards_is_caught(tmp_path) -> None:
    clock = FakeClock()
    desk, first, _, _ = seeded(tmp_path, clock)
    erase(desk, erasure_plan(desk, CAMILLE, KEY), "admin")
    with desk.register.engine.begin() as connection:
        connection.execute(text("UPDATE history SET detail = 'closed → answered' WHERE event = 'status'"))
    assert not verify_register(desk.register, desk.store).ok, "a status move is kept whole: its text is checked"


def test_emptying_a_message_of_a_complaint_not_erased_is_caught(tmp_path) -> None:
    clock = FakeClock()
    desk, first, _, other = seeded(tmp_path, clock)
    erase(desk, erasure_plan(desk, CAMILLE, KEY), "admin")
    assert verify_register(desk.register, desk.store).ok
    with desk.register.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE inbound_message SET raw = :empty"
                " WHERE complaint_id IN (SELECT id FROM complaint WHERE reference = :r)"
            ),
            {"empty": b"", "r": other},
        )
    found = verify_register(desk.register, desk.store)
    assert not found.ok and found.broken[0].what.startswith("stored message"), "only an erased complaint's may be empty"


def test_the_pseudonym_is_keyed_and_the_same_for_one_address() -> None:
    assert pseudonym(CAMILLE, KEY) == pseudonym(" Camille.DURAND@client.example", KEY)
    assert pseudonym(CAMILLE, KEY) != pseudonym(CAMILLE, b"another key of thirty-two bytes!")
    assert pseudonym(CAMILLE, KEY).startswith("pseudonyme-") and len(pseudonym(CAMILLE, KEY)) == 19
    person = Person(CAMILLE, ("Camille Durand",), (PHONE,), (f"{STREET}\n69007 Lyon",))
    assert scrub("Appeler CAMILLE  durand au +33 6 12 34 56 78", person, "P") == "Appeler P au P"
    digest = b"Subject: digest\nContent-Type: text/plain; charset=utf-8\n\nREC-1 Camille\n Durand: colis\n"
    assert mentions("alice@example.com", digest, person) and not mentions("x@example.com", b"\n\nREC-2", person)


def cli_config(tmp_path: Path) -> Path:
    path = config_file(tmp_path, tmp_path / "register.db")
    key = tmp_path / "keys" / "pseudonym-key"
    key.parent.mkdir()
    path.write_text(path.read_text() + f'[retention]\npseudonym_key_file = "{key}"\n', encoding="utf-8")
    return path


@pytest.mark.skipif(on_postgres(), reason="the CLI test reads the SQLite file config_file names")
def test_the_command_lists_refuses_an_open_complaint_then_erases(tmp_path, capsys) -> None:
    clock = FakeClock()
    desk, first, second, other = seeded(tmp_path, clock)
    config = cli_config(tmp_path)
    [open_one] = ingest(desk, complaint(4, subject="Encore un souci")).references
    run = ["erase", "--customer", CAMILLE, "--config", str(config)]

    assert main([*run, "--dry-run"]) == 0
    listed = capsys.readouterr().out
    alias = pseudonym(CAMILLE, (tmp_path / "keys" / "pseudonym-key").read_text().strip().encode())
    assert f"would erase {CAMILLE} as {alias}:" in listed
    assert (
        f"{first} of 2026-11-23 (closed): 2 message(s) emptied, 1 file(s) and 5 letter(s) removed, "
        "the text of 13 history event(s) blanked"
    ) in listed
    assert (
        f"{second} of 2026-11-23 (closed): 2 message(s) emptied, 0 file(s) and 5 letter(s) (3 pending: cancelled)"
        in (listed)
    )
    assert f"{open_one} of 2026-11-23 (received, still open)" in listed
    assert "1 complaint(s) still open: --yes refuses them unless --force" in listed
    assert show(desk, first).customer_email == CAMILLE, "a dry run changes nothing"

    assert main([*run, "--yes"]) == 1
    assert f"{open_one} (received) still open" in capsys.readouterr().err
    notification = next(m for m in queued(desk, "handler_notification") if open_one in m.subject)
    assert main([*run, "--yes", "--force"]) == 0
    assert "3 complaint(s) pseudonymised" in capsys.readouterr().out
    assert history(desk, open_one)[-1][0] == "erased" and show(desk, open_one).status == "received"
    ingest(desk, reply(notification.message, BOB, "#statut en cours\n#réponse Réglé."))
    assert {letter.to for letter in queued(desk)} == {BOB, "jeanne.petit@autre.example"}, "none to a pseudonym"
    assert "letter_to_post" in [event for event, _ in history(desk, open_one)], "the answer is to post"

    assert main(["export", "--customer", CAMILLE, "--format", "json", "--config", str(config)]) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["complaints"], document["messages"]) == ([], [])
    assert main([*run, "--yes"]) == 0 and capsys.readouterr().out == f"nothing held about {CAMILLE}\n"
    assert main(["erase", "--customer", alias, "--yes", "--config", str(config)]) == 1, "a pseudonym is no address"
    assert main(["verify", "--config", str(config)]) == 0
    assert show(desk, other).customer_email == "jeanne.petit@autre.example"


def test_a_digest_naming_the_person_goes_with_them(tmp_path) -> None:
    """A handler's digest belongs to no complaint but lists the customer: it is found and removed."""
    clock = FakeClock()
    desk = make_desk(tmp_path, clock, reminders={"before": [], "digest_at": "08:00", "digest_days": ["tue"]})
    body = f"Bonjour,\n\n{WORDS} est arrivee cassee.\n"
    [mine] = ingest(desk, complaint(1, subject="Soupiere cassee", body=body)).references
    [other] = ingest(desk, complaint(2, sender="Jeanne Petit <jeanne.petit@autre.example>")).references
    relay(desk)
    clock.set(clock() + timedelta(hours=22))  # Tuesday 08:00 in Paris
    Sweeper(desk).sweep()
    [digest] = [letter for letter in relay(desk) if letter.kind == "digest"]
    assert "Camille Durand" in digest.text and other in digest.text

    plan = erasure_plan(desk, CAMILLE, KEY)
    assert len(plan.stray_letters) == 1 and [h.reference for h in plan.complaints] == [mine]
    erase(desk, plan, "admin")
    assert leftovers(desk, tmp_path) == set() and verify_register(desk.register, desk.store).ok
