"""`complaintsd quarantine list|show ID|retry ID`: the mails that could not be registered.

A quarantined mail is a register row (`inbound_message`, outcome "quarantine") holding its raw
bytes and its reason; its copy sits in the mailbox's quarantine folder. `list` and `show` read the
register; `retry` puts one mail through triage and registration again (runners/ingest.py, like
Mailman's `unshunt`), and a mail failing again stays quarantined with the new reason. The copy in
the quarantine folder is left where it is: the register is what counts. A running daemon may act
on the same follow-up: each follow-up is claimed in the register first, so only one of them does.
Everything a stranger
wrote is printed through `terminal.visible`, never raw.
"""

from __future__ import annotations

import argparse
import json
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from email.policy import compat32

from daemon.config import Config, load_config
from daemon.edges.register import Register
from daemon.edges.register.quarantine import QuarantinedMessage, quarantined, quarantined_message
from daemon.terminal import visible_line

REASON_WIDTH = 80  # in the table; `show ID` prints the whole reason


def add_commands(command) -> None:
    """Wire `quarantine list|show|retry` into the parser; `command` is cli's subcommand maker."""
    parser = command("quarantine", cmd_quarantine, "list, show or retry the mails that could not be registered")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="every quarantined mail: id, date, sender, subject, reason")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    show = actions.add_parser("show", help="one quarantined mail: its reason and its headers")
    show.add_argument("id", type=int)
    retry = actions.add_parser("retry", help="put one quarantined mail through registration again")
    retry.add_argument("id", type=int)
    retry.add_argument("--register", metavar="NAME", help="the [[registers]] entry it reached (default: the first)")
    for action in (listing, show, retry):  # `quarantine list --config PATH` reads naturally too
        action.add_argument("--config", default=argparse.SUPPRESS, help="TOML file (as for every command)")


def cmd_quarantine(args: argparse.Namespace) -> int:
    config = load_config(args.config).named(getattr(args, "register", None))
    register = Register(config.database.url)
    if args.action == "retry":
        return _retry(config, register, args.id)
    with register.session() as session:
        if args.action == "list":
            mails = quarantined(session)
            print(
                json.dumps([_json(m) for m in mails], ensure_ascii=False, indent=2)
                if args.json
                else _table(mails, config)
            )
        else:
            print(_detail(quarantined_message(session, args.id), config))
    return 0


def _retry(config: Config, register: Register, row_id: int) -> int:
    from daemon.runners.desk import Desk
    from daemon.runners.followups import FollowUps
    from daemon.runners.ingest import Ingestor

    desk = Desk.of(config, register)
    with register.session() as session:
        message = quarantined_message(session, row_id)
    retried = Ingestor(desk).retry(message)
    if retried.outcome == "quarantine":
        print(f"quarantine #{row_id}: still quarantined: {visible_line(retried.reason)}")
        return 1
    if retried.outcome == "follow_up":
        FollowUps(desk).handle_pending()
    what = retried.reference or retried.outcome.replace("_", "-") + (f" ({retried.reason})" if retried.reason else "")
    print(f"quarantine #{row_id}: registered: {visible_line(what)}")
    return 0


def _json(m: QuarantinedMessage) -> dict:
    return {
        "id": m.id,
        "arrived_at": m.arrived_at.isoformat(),
        "quarantined_at": m.registered_at.isoformat(),
        "sender": m.sender,
        "subject": m.subject,
        "message_id": m.message_id,
        "reason": m.reason,
    }


def _local(m: QuarantinedMessage, config: Config) -> str:
    return m.arrived_at.astimezone(config.register.timezone).strftime("%Y-%m-%d %H:%M")


def _table(mails: list[QuarantinedMessage], config: Config) -> str:
    if not mails:
        return "no mail in the quarantine"
    rows = [("ID", "RECEIVED", "SENDER", "SUBJECT", "REASON")]
    for m in mails:
        reason = m.reason if len(m.reason) <= REASON_WIDTH else m.reason[: REASON_WIDTH - 1] + "…"
        cells = (str(m.id), _local(m, config), m.sender or "-", m.subject[:40] or "-", reason)
        rows.append(tuple(visible_line(cell) for cell in cells))  # type: ignore[arg-type]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1] for row in rows
    )


def _detail(m: QuarantinedMessage, config: Config) -> str:
    lines = [
        f"quarantined mail #{m.id}",
        f"received:     {_local(m, config)}",
        f"quarantined:  {m.registered_at.astimezone(config.register.timezone):%Y-%m-%d %H:%M}",
        f"size:         {len(m.raw)} bytes, SHA-256 {m.sha256}",
        f"reason:       {visible_line(m.reason)}",
        "headers:",
    ]
    lines += [f"  {visible_line(name)}: {visible_line(value)}" for name, value in _headers(m.raw)]
    return "\n".join(lines)


def _headers(raw: bytes) -> list[tuple[str, str]]:
    """The header section as a person reads it (encoded words decoded where they can be); a mail
    that could not be parsed may have odd headers, so nothing here may raise."""
    message = BytesHeaderParser(policy=compat32).parsebytes(raw)
    return [(name, _decoded(value)) for name, value in message.raw_items()]


def _decoded(value: str) -> str:
    """Raw 8-bit bytes read as UTF-8 (the parser kept them as surrogates), encoded words decoded."""
    value = value.encode("ascii", "surrogateescape").decode("utf-8", "replace")
    try:
        return str(make_header(decode_header(value)))
    except (ValueError, LookupError, UnicodeError):
        return value
