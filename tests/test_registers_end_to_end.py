"""Two complaint addresses in one daemon (`[[registers]]`, issue 13 item 4), as a user sees them:
`complaintsd run` on one Dovecot with two mailboxes (two users) and one relay.

"maison" numbers MAI-…, writes French letters from maison@… with its own acknowledgement subject
(a templates directory) and gives its complaints to Alice; "jardin" numbers JAR-…, writes English
letters from jardin@… and gives them to Bob. Each complaint is registered by its own register,
acknowledged from its address with its letters and routed to its handler; Alice cannot drive
jardin's complaint; `list --register jardin` shows only jardin's.
"""

from __future__ import annotations

from email.utils import parseaddr
from pathlib import Path

import pytest

from daemon.edges.register import Register
from tests.harness import DaemonProcess, cli, cli_json, complaint, reply, wait_until
from tests.postgres import register_url

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp]

ALICE, BOB = "alice@example.com", "bob@example.com"


def write_registers(directory: Path, maison, jardin, sink) -> Path:
    """A config of two registers on `maison` and `jardin` (tests.servers.ImapAccount), one relay."""
    templates = directory / "maison-templates"
    templates.mkdir(parents=True)
    (templates / "acknowledgement.subject.j2").write_text(
        "[{{ reference }}] Maison : nous avons bien reçu votre réclamation\n", encoding="utf-8"
    )
    text = f"""
[mailbox]
kind = "imap"
host = "{maison.host}"
port = {maison.port}
tls = "none"
poll_interval = "1s"

[smtp]
host = "{sink.host}"
port = {sink.port}
tls = "none"
from = "Maison <maison@example.com>"
timeout = "5s"

[database]
url = "{register_url(directory)}"

[storage]
path = "{directory}/attachments"

[routing]
supervisor = "Qualité <qualite@example.com>"

[reminders]
sweep_interval = "1s"

[outbox]
retry_first = "1s"
retry_max = "2s"

[[registers]]
name = "maison"

[registers.mailbox]
username = "{maison.user}"
password = "{maison.password}"

[registers.register]
reference_prefix = "MAI"
templates = "{templates}"

[[registers.handlers]]
name = "Alice Martin"
email = "{ALICE}"

[registers.routing]
default_handler = "{ALICE}"

[[registers]]
name = "jardin"

[registers.mailbox]
username = "{jardin.user}"
password = "{jardin.password}"

[registers.smtp]
from = "Garden <jardin@example.com>"

[registers.register]
reference_prefix = "JAR"
language = "en"

[[registers.handlers]]
name = "Bob Durand"
email = "{BOB}"

[registers.routing]
default_handler = "{BOB}"
"""
    path = directory / "config.toml"
    path.write_text(text, encoding="utf-8")
    Register(register_url(directory), create=True).dispose()
    return path


def _of_kind(sink, kind: str) -> list:
    return [m for m in sink.messages() if m.parsed()["X-Complaintsd-Kind"] == kind]


def test_two_registers_in_one_daemon(tmp_path, make_imap_account, smtp_sink):
    maison, jardin = make_imap_account(), make_imap_account()
    config = write_registers(tmp_path, maison, jardin, smtp_sink)
    maison.append("INBOX", complaint(1))
    jardin.append("INBOX", complaint(2, sender="Sam Green <sam@client.example>", subject="Broken mower"))

    with DaemonProcess(config) as daemon:
        wait_until(lambda: len(_of_kind(smtp_sink, "acknowledgement")) == 2, 30, "two acknowledgements")
        wait_until(lambda: len(_of_kind(smtp_sink, "handler_notification")) == 2, 10, "two notifications")
        acks = {parseaddr(m.parsed()["From"])[1]: m.parsed() for m in _of_kind(smtp_sink, "acknowledgement")}
        notified = {m.rcpt_tos: m.parsed() for m in _of_kind(smtp_sink, "handler_notification")}
        # Alice (maison's handler) answers jardin's notification, at either address: nothing moves.
        for account in (jardin, maison):
            account.append("INBOX", reply(notified[(BOB,)], ALICE, "#statut en cours"))
        wait_until(lambda: maison.folder_uids("INBOX") == [] == jardin.folder_uids("INBOX"), 20, "both read")
        assert daemon.alive(), daemon.log()
        status = cli_json(config, "status")

    assert set(acks) == {"maison@example.com", "jardin@example.com"}
    ack_a, ack_b = acks["maison@example.com"], acks["jardin@example.com"]
    mai, jar = _reference(ack_a["Subject"]), _reference(ack_b["Subject"])
    assert mai.startswith("MAI-") and jar.startswith("JAR-")
    assert "Maison : nous avons bien reçu votre réclamation" in ack_a["Subject"]  # maison's own template
    assert parseaddr(ack_a["To"])[1] == "camille.durand@client.example"
    assert parseaddr(ack_b["To"])[1] == "sam@client.example"
    assert "acknowledge" in ack_b.get_body(("plain",)).get_content().lower()  # jardin writes English
    assert mai in notified[(ALICE,)]["Subject"] and jar in notified[(BOB,)]["Subject"]
    assert parseaddr(notified[(BOB,)]["From"])[1] == "jardin@example.com"

    shown = cli_json(config, "show", jar)
    assert (shown["status"], shown["handler"]) == ("acknowledged", BOB)
    assert "command_mail" not in [event["event"] for event in shown["history"]]
    assert [c["reference"] for c in cli_json(config, "list", "--register", "jardin")] == [jar]
    assert [c["reference"] for c in cli_json(config, "list", "--register", "maison")] == [mai]
    # `status` shows each register: its address, its mailbox's last answer, its last complaint.
    assert [(r["name"], r["prefix"], r["address"], r["open"]) for r in status["registers"]] == [
        ("maison", "MAI", "maison@example.com", 1),
        ("jardin", "JAR", "jardin@example.com", 1),
    ]
    assert all(r["mailbox"]["reached_at"] and r["last_complaint_at"] for r in status["registers"])
    checked = cli(config, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    lines = checked.stdout.splitlines()
    for name, account in (("maison", maison), ("jardin", jardin)):
        assert any(line.startswith(f"{name}: mailbox: ") and account.user in line for line in lines), lines
    assert any(line.startswith("jardin: templates: ") and "(en, built-in)" in line for line in lines), lines
    refused = cli(config, "show", jar, "--register", "maison")
    assert refused.returncode == 1 and "not a complaint of register maison" in refused.stderr


def _reference(subject: str) -> str:
    return subject.split("[", 1)[1].split("]", 1)[0]
