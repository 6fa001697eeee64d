"""`complaintsd demo`: the whole daemon on an embedded default, for a newcomer's first minute.

A local Maildir stands in for the complaints mailbox, a SQLite file for the register, and an
embedded aiosmtpd server for the outgoing relay (each letter it receives is written to a folder and
named in the log). A few sample mails are dropped in; the demo stops once they are handled.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from aiosmtpd.controller import Controller

from daemon.config import load_config
from daemon.edges.register.database import migrate
from daemon.edges.register.views import list_complaints, set_aside_counts

log = logging.getLogger("complaintsd.demo")

CONFIG = """\
# Written by `complaintsd demo`: a complete configuration, see config.example.toml for every key.
[mailbox]
kind = "maildir"
path = "{dir}/maildir"
poll_interval = "1s"

[smtp]
host = "127.0.0.1"
port = {port}
tls = "none"
from = "Service réclamations <reclamations@demo.example>"

[database]
url = "sqlite:///{dir}/register.db"

[storage]
path = "{dir}/attachments"

[register]
reference_prefix = "REC"
language = "fr"
answer_deadline = "10d"

[[handlers]]
name = "Alice Martin"
email = "alice.martin@demo.example"
keywords = ["facture", "remboursement", "avoir"]

[[handlers]]
name = "Bruno Petit"
email = "bruno.petit@demo.example"

[routing]
default_handler = "bruno.petit@demo.example"
supervisor = "Responsable qualité <qualite@demo.example>"

[reminders]
before = ["3d", "1d", "2h"]
sweep_interval = "5s"

[mediator]
name = "Médiateur de la consommation de la Démo"
website = "https://mediateur.demo.example"
address = "1 rue de la Paix, 75002 Paris"
"""


class LetterRelay:
    """aiosmtpd handler writing each accepted mail to `folder` and naming it in the log."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = len(list(folder.glob("*.eml")))

    async def handle_DATA(self, server, session, envelope) -> str:
        self.count += 1
        path = self.folder / f"{self.count:04d}-{envelope.rcpt_tos[0].replace('@', '_at_')}.eml"
        path.write_bytes(envelope.original_content or envelope.content)
        log.info("relay: letter to %s written to %s", ", ".join(envelope.rcpt_tos), path)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_demo(directory: Path, serve: bool = False, timeout: float = 60.0) -> int:
    from daemon.runners.service import Daemon

    directory = directory.resolve()
    relay_dir = directory / "relay"
    relay_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    config_path = directory / "config.toml"
    config_path.write_text(CONFIG.format(dir=directory.as_posix(), port=port), encoding="utf-8")
    relay = Controller(LetterRelay(relay_dir), hostname="127.0.0.1", port=port)
    relay.start()
    config = load_config(config_path)
    # What an admin does before the first start: `complaintsd migrate` creates the register.
    migrate(config.database.url, datetime.now(UTC))
    daemon = Daemon(config)
    thread = threading.Thread(target=daemon.run, name="daemon", daemon=True)
    try:
        expected = drop_samples(directory / "maildir") + _registered(daemon)
        thread.start()
        _wait_until_acknowledged(daemon, expected, timeout)
        _summary(daemon, directory, config_path, relay_dir)
        while serve and thread.is_alive():
            thread.join(timeout=1)
    except KeyboardInterrupt:
        pass
    finally:
        daemon.request_stop()
        thread.join(timeout=30)
        relay.stop()
    return 0


def _registered(daemon) -> int:
    with daemon.register.session() as session:
        return len(list_complaints(session))


def _wait_until_acknowledged(daemon, expected: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with daemon.register.session() as session:
            done = [c for c in list_complaints(session) if c.status == "acknowledged"]
        if len(done) >= expected:
            return
        time.sleep(0.2)
    log.warning("not every sample was acknowledged within %.0f s; see the log above", timeout)


def _summary(daemon, directory: Path, config_path: Path, relay_dir: Path) -> None:
    with daemon.register.session() as session:
        complaints = list_complaints(session)
        outcomes = set_aside_counts(session)
    print()
    print(f"The register holds {len(complaints)} complaint(s); inbound messages by outcome: {outcomes}")
    for c in complaints:
        print(f"  {c.reference}  {c.status:<13} {c.customer_email:<32} {c.subject}")
    print()
    print("Where to look:")
    print(f"  complaintsd list --config {config_path}")
    print(f"  complaintsd show {complaints[-1].reference if complaints else 'REF'} --config {config_path}")
    print(f"  letters received by the relay: {relay_dir}/")
    print(f"  attachments: {directory / 'attachments'}/   mailbox: {directory / 'maildir'}/ (.Registered, .Quarantine)")
    print("  drop more mails into the maildir's new/ folder and run `complaintsd demo --serve`")


# --------------------------------------------------------------------------- samples

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def _message(sender: str, subject: str, body: str, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "Service réclamations <reclamations@demo.example>"
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now().astimezone())
    message["Message-ID"] = make_msgid(domain="client.example")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def samples() -> list[tuple[EmailMessage, bool]]:
    """(message, is_a_complaint): two French complaints (one with a PDF) and an auto-reply."""
    parcel = _message(
        "Camille Durand <camille.durand@client.example>",
        "Colis reçu endommagé",
        "Bonjour,\n\nLa commande n° 48213 est arrivée avec le carton éventré et la théière cassée.\n"
        "Je souhaite un remplacement ou un remboursement.\n\nCordialement,\nCamille Durand\n",
    )
    invoice = _message(
        "Jean Martin <jean.martin@client.example>",
        "Facture erronée F-2026-1187",
        "Madame, Monsieur,\n\nVotre facture F-2026-1187 me compte deux fois la livraison.\n"
        "Vous trouverez la facture en pièce jointe.\n\nJean Martin\n",
    )
    invoice.add_attachment(PDF, maintype="application", subtype="pdf", filename="facture F-2026-1187.pdf")
    away = _message(
        "Sophie Bernard <sophie.bernard@client.example>",
        "Absence du bureau : Re: votre commande",
        "Je suis absente jusqu'au 30 novembre. Pour toute urgence, contactez le standard.\n",
        Auto_Submitted="auto-replied",
    )
    return [(parcel, True), (invoice, True), (away, False)]


def drop_samples(maildir: Path) -> int:
    """Deliver the samples into the Maildir's new/ folder; returns how many are complaints."""
    new = maildir / "new"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    stamp = time.time_ns()
    for index, (message, _) in enumerate(samples()):
        temporary = maildir / "tmp" / f"{stamp}.{index}.demo"
        temporary.write_bytes(message.as_bytes())
        temporary.rename(new / temporary.name)
    return sum(1 for _, is_complaint in samples() if is_complaint)
