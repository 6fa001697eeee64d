"""The shell's part of complaints that do not arrive by email: `complaintsd add` reads what staff
typed (and the files they name) into a `ManualEntry`, and `complaintsd letter` prints a letter for a
customer who has no email address, to post."""

from __future__ import annotations

import json
import mimetypes
import sys
from datetime import UTC, datetime
from pathlib import Path

from markupsafe import escape

from daemon.config import Config, load_config
from daemon.core.letters import AcknowledgementFacts, AttachmentLine, Letter, Postbox, Templates
from daemon.core.lifecycle import Status
from daemon.core.mail import Attachment
from daemon.core.manual_entry import Channel, ManualEntry
from daemon.edges.register import Register
from daemon.edges.register.outbox import acknowledged_on_paper
from daemon.edges.register.views import ComplaintView, show_complaint
from daemon.errors import EntryError
from daemon.runners.desk import Desk
from daemon.runners.entry import register_entry

LETTERS = ("acknowledgement",)


def cmd_add(args) -> int:
    config = load_config(args.config).named(args.register)
    entry = _entry(args, config)
    register = Register(config.database.url)
    desk = Desk.of(config, register)
    reference = register_entry(desk, entry)
    if args.json:
        print(json.dumps({"reference": reference, "channel": entry.channel.value, "posted": entry.customer is None}))
    elif entry.customer is None:
        print(
            f"{reference} registered ({entry.channel.value}); no email address: print the acknowledgement with "
            f"`complaintsd letter {reference} acknowledgement --format html` and post it"
        )
    else:
        print(f"{reference} registered ({entry.channel.value}); acknowledgement queued to {entry.customer.email}")
    return 0


def _entry(args, config: Config) -> ManualEntry:
    try:
        channel = Channel(args.channel.strip().lower())
    except ValueError:
        raise EntryError(f"--channel {args.channel}: not one of {', '.join(c.value for c in Channel)}") from None
    customer_type = args.customer_type.strip().lower()
    if customer_type not in config.register.customer_types:
        valid = ", ".join(config.register.customer_types)
        raise EntryError(f"--customer-type {args.customer_type}: not one of {valid} ([register] customer_types)")
    return ManualEntry(
        channel=channel,
        name=args.name,
        subject=args.subject,
        text=_text(args.text),
        received_at=_received_at(args.received_at, config),
        email=(args.email or "").strip(),
        phone=(args.phone or "").strip(),
        address=(args.address or "").strip(),
        wish=(args.wish or "").strip(),
        customer_type=customer_type,
        attachments=tuple(_attachment(path) for path in args.attach),
    )


def _text(text: str) -> str:
    """`--text -` reads the description from standard input (a long one, pasted)."""
    if text == "-":
        return sys.stdin.read()
    return text


def _received_at(text: str | None, config: Config) -> datetime:
    """When the customer made it (the deadlines count from then): ISO date or date-time, local time
    of the register unless an offset is given; default now."""
    if text is None:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise EntryError(f"--received-at {text}: not an ISO date or date-time (e.g. 2026-11-30T14:05)") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=config.register.timezone)
    if when > datetime.now(UTC):
        raise EntryError(f"--received-at {text}: in the future")
    return when


def _attachment(path: str) -> Attachment:
    file = Path(path)
    try:
        content = file.read_bytes()
    except OSError as exc:
        raise EntryError(f"--attach {path}: {exc.strerror or exc}") from None
    content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    return Attachment(file.name, content_type, content)


def cmd_letter(args) -> int:
    config = load_config(args.config).for_reference(args.reference)  # its register's letters
    if args.kind not in LETTERS:
        raise EntryError(f"{args.kind}: the letters that can be printed are {', '.join(LETTERS)}")
    register = Register(config.database.url)
    with register.session() as session:
        complaint = show_complaint(session, args.reference)
    postbox = Postbox(Templates.of(config.register), config.smtp.sender)
    letter = postbox.render(_acknowledgement(complaint, config))
    page = _printable(letter, complaint) if args.format == "html" else _plain(letter, complaint)
    if args.output:
        Path(args.output).write_text(page, encoding="utf-8")
    else:
        print(page)
    if not complaint.customer_email and complaint.status == Status.RECEIVED:
        with register.transaction() as session:
            acknowledged_on_paper(session, complaint.reference, datetime.now(UTC))
        print(f"{complaint.reference}: acknowledgement printed to be posted; deadline met", file=sys.stderr)
    return 0


def _acknowledgement(c: ComplaintView, config: Config) -> AcknowledgementFacts:
    """The acknowledgement as it would have been mailed, from what the register holds."""
    return AcknowledgementFacts(
        reference=c.reference,
        customer_name=c.customer_name,
        customer_email=c.customer_email,
        subject=c.subject,
        received_at=c.received_at,
        answer_due_at=c.answer_due_at,
        attachments=tuple(AttachmentLine(a.filename, a.size) for a in c.attachments),
        mediator=config.mediator,
        organisation=config.register.organisation,
    )


def _recipient(c: ComplaintView) -> list[str]:
    return [c.customer_name, *c.customer_address.splitlines()]


def _printable(letter: Letter, c: ComplaintView) -> str:
    """The HTML letter with the recipient's block where a window envelope shows it, A4 margins."""
    block = "<br>".join(str(escape(line)) for line in _recipient(c) if line.strip())
    style = "@page { size: A4; margin: 20mm } .recipient { margin: 0 0 15mm 95mm; min-height: 30mm }"
    head, _, body = letter.html.partition("<body")
    attributes, _, rest = body.partition(">")
    return f'{head}<body{attributes}><style>{style}</style><div class="recipient">{block}</div>{rest}'


def _plain(letter: Letter, c: ComplaintView) -> str:
    return "\n".join([*_recipient(c), "", letter.subject, "", letter.text])
