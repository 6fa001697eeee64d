"""The whole complaint-handling process on the real servers (issue 9, "What it must show"): a phone
complaint typed in with `complaintsd add`, evaluated by email (complexity, impact, systemic and
related), an action whose owner gets its reminder, an interim letter, the answer with a compensation,
the closing, and the customer's satisfaction reply; `show --json` then holds every field.

Every step's rules are proved in process (tests/test_runners_*.py); this test proves the wiring: the
CLI, the daemon's mailbox loop, sweep and sender, and the register they share.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.harness import DaemonProcess, cli, cli_json, complaint, reply, wait_until, write_config

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp]

CUSTOMER = "jeanne.petit@client.example"
HANDLER = "bob@example.com"
OWNER = "paul@example.com"
PARIS = ZoneInfo("Europe/Paris")


def letters(sink, kind: str, to: str | None = None):
    found = [m.parsed() for m in sink.messages() if m.parsed()["X-Complaintsd-Kind"] == kind]
    return [m for m in found if to is None or to in m["To"]]


def action_day_and_reminder() -> tuple[str, str]:
    """An action due at the end of a local day, and a reminder offset that makes its reminder fall
    due about 40 s from now (the only reminder that can: the others' offsets are already past or
    days away)."""
    now = datetime.now(PARIS)
    day = now.date() + timedelta(days=1 if now.hour == 23 and now.minute > 50 else 0)
    end = datetime.combine(day, datetime.max.time().replace(microsecond=0), tzinfo=PARIS)
    offset = int((end - now).total_seconds()) - 40
    return day.strftime("%d/%m/%Y"), f"{offset}s"


def body(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_a_phone_complaint_goes_through_the_whole_process(tmp_path, imap_account, smtp_sink):
    due, offset = action_day_and_reminder()
    config = write_config(tmp_path, imap_account, smtp_sink, reminders=f'before = ["{offset}"]\ndigest_days = []')
    imap_account.append("INBOX", complaint(2, subject="Colis cassé au dépôt de Lyon"))
    with DaemonProcess(config) as daemon:
        wait_until(lambda: letters(smtp_sink, "handler_notification"), 20, "the mailed complaint's notification")
        other = cli_json(config, "list")[0]["reference"]
        added = cli(
            config,
            *("add", "--channel", "phone", "--name", "Jeanne Petit", "--email", CUSTOMER),
            *("--phone", "+33 4 72 00 00 00", "--subject", "Colis écrasé", "--text", "Le carton est arrivé écrasé."),
            *("--wish", "Un renvoi à nos frais", "--customer-type", "customer", "--json"),
        )
        assert added.returncode == 0, added.stderr
        reference = json.loads(added.stdout)["reference"]
        wait_until(lambda: letters(smtp_sink, "acknowledgement", CUSTOMER), 20, "the acknowledgement by email")
        [notification] = wait_until(
            lambda: [m for m in letters(smtp_sink, "handler_notification", HANDLER) if reference in m["Subject"]],
            20,
            "the phone complaint's notification",
        )
        assert "Jeanne Petit" in body(notification)

        evaluation = (
            f"#gravité haute\n#complexité moyenne\n#impact fort\n#portée systémique\n#lié {other}\n"
            f"#cause Colis mal calé au dépôt de Lyon\n\n#action corrective Revoir le calage @{OWNER} {due}\n"
            "#informer Nous avons ouvert une enquête auprès du transporteur."
        )
        imap_account.append("INBOX", reply(notification, HANDLER, evaluation))
        wait_until(lambda: letters(smtp_sink, "interim", CUSTOMER), 30, "the interim letter")
        wait_until(lambda: letters(smtp_sink, "action_assigned", OWNER), 10, "the owner's action mail")
        [reminder] = wait_until(lambda: letters(smtp_sink, "action_reminder", OWNER), 90, "the action's reminder")
        assert reference in reminder["Subject"]

        imap_account.append(
            "INBOX",
            reply(
                notification,
                HANDLER,
                "#compensation avoir 50 EUR\n#clore fondée\n#réponse Nous vous renvoyons le colis.",
            ),
        )
        [answer] = wait_until(lambda: letters(smtp_sink, "answer", CUSTOMER), 30, "the answer")
        assert "Nous vous renvoyons le colis." in body(answer) and "50" in body(answer)
        [closed] = wait_until(lambda: letters(smtp_sink, "closed", CUSTOMER), 10, "the closing letter")

        imap_account.append("INBOX", reply(closed, f"Jeanne Petit <{CUSTOMER}>", "1 oui\n2 oui\n3 non\nTrop long."))
        shown = wait_until(
            lambda: (s := cli_json(config, "show", reference))["satisfaction"] and s, 30, "the satisfaction recorded"
        )
        assert daemon.alive(), daemon.log()

    expected = {
        "channel": "phone",
        "customer_type": "customer",
        "customer_phone": "+33 4 72 00 00 00",
        "customer_email": CUSTOMER,
        "wished_solution": "Un renvoi à nos frais",
        "severity": "high",
        "complexity": "medium",
        "impact": "high",
        "scope": "systemic",
        "related": [other],
        "outcome": "founded",
        "status": "closed",
        "compensation": {"type": "credit", "amount": 50.0, "currency": "EUR"},
        "satisfaction": {"understood": "yes", "actions": "yes", "relationship": "no", "comment": "Trop long."},
        "previous_complaints": [],
    }
    assert {key: shown[key] for key in expected} == expected
    assert shown["priority"] is not None
    assert [cause["text"] for cause in shown["causes"]] == ["Colis mal calé au dépôt de Lyon"]
    [action] = shown["actions"]
    assert (action["number"], action["kind"], action["owner"], action["status"]) == (1, "corrective", OWNER, "open")
    assert cli_json(config, "show", other)["related"] == [reference], "a link is both ways"
    events = [h["event"] for h in shown["history"]]
    for event in ("received", "acknowledgement_sent", "interim_sent", "answer_sent", "closed_sent", "satisfaction"):
        assert event in events, (event, events)
