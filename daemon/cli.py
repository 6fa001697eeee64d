"""The `complaintsd` command: run, check, list, show, export, report, quarantine, demo.

Every error a user can act on becomes one line on stderr and exit status 1; never a traceback
(`--debug` shows one, for developers).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import NoReturn

from sqlalchemy.exc import SQLAlchemyError

from daemon import __version__
from daemon.config import Config, load_config
from daemon.core.commands.words import Scope, Severity
from daemon.core.deadlines import Unit, parse_duration, parse_rule
from daemon.core.lifecycle import Status
from daemon.core.manual_entry import Channel
from daemon.core.profiles import MediationDates, mediation_dates
from daemon.edges.register import Register
from daemon.edges.register.views import ActionView, ComplaintView, Filters, list_complaints, show_complaint
from daemon.errors import ComplaintsError
from daemon.logs import setup_logging
from daemon.quarantine import add_commands as add_quarantine_commands
from daemon.terminal import made_visible

DEFAULT_CONFIG = "/etc/complaintsd/config.toml"
# Whatever umask it is started with, complaintsd creates nothing others can read: the register, the
# attachments and the locks hold customers' personal data (files 0600, directories 0700).
PRIVATE_UMASK = 0o077
# `show`: the register's words (text), the contract (json), the printable sheet (html, pdf: daemon/sheet.py).
SHOW_FORMATS = ("text", "json", "html", "pdf")
# What a customer wrote reaches the terminal with its control characters shown, never raw (terminal.py);
# these fields keep their line breaks.
BODIES = frozenset({"text_body", "wished_solution"})


def main(argv: list[str] | None = None) -> int:
    previous = os.umask(PRIVATE_UMASK)
    try:
        return _main(argv)
    finally:
        os.umask(previous)  # a caller in the same process (a test) gets its own back


def _main(argv: list[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    try:
        return args.command_func(args) or 0
    except ComplaintsError as exc:
        print(f"complaintsd: {exc}", file=sys.stderr)
    except SQLAlchemyError as exc:
        print(
            f"complaintsd: database: {str(exc.orig if hasattr(exc, 'orig') else exc).splitlines()[0]}", file=sys.stderr
        )
    except KeyboardInterrupt:
        print("complaintsd: interrupted", file=sys.stderr)
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"complaintsd: internal error: {exc.__class__.__name__}: {exc} (run with --debug for details)",
            file=sys.stderr,
        )
    return 1


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 1, like every other error
    (argparse prints the usage and the error on two lines and exits 2). Subcommands inherit it."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(1)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="complaintsd", description="A complaints register run over email.")
    parser.add_argument("--version", action="version", version=f"complaintsd {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks (for developers)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument(
            "--config",
            default=os.environ.get("COMPLAINTSD_CONFIG", DEFAULT_CONFIG),
            help="TOML file (default: %(default)s)",
        )
        sub.set_defaults(command_func=handler)
        return sub

    command("run", cmd_run, "run the daemon in the foreground")
    command("check", cmd_check, "validate the config and try the mailbox, the relay and the database")
    status = command("status", cmd_status, "whether the daemon runs, when the mailbox answered, the outbox backlog")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    command("migrate", cmd_migrate, "create the register, or upgrade its schema (a SQLite file is copied first)")
    listing = command("list", cmd_list, "list the complaints in the register")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.add_argument("--status", help="only complaints in this status")
    listing.add_argument("--handler", metavar="EMAIL", help="only complaints of this handler")
    listing.add_argument("--overdue", action="store_true", help="only complaints with a missed deadline")
    listing.add_argument("--severity", help="only complaints of this severity (low, medium, high, critical)")
    listing.add_argument("--scope", help="only complaints of this scope (isolated, systemic)")
    listing.add_argument("--category", help="only complaints of this category (as handlers wrote it)")
    listing.add_argument("--open-actions", action="store_true", help="only complaints with an action not yet verified")
    listing.add_argument("--channel", help="only complaints that came this way (email, phone, letter, counter, web)")
    listing.add_argument(
        "--due-within", metavar="DURATION", help='only open complaints whose answer is due within this, e.g. "2d"'
    )
    _add_parsers(command)
    verify = command("verify", _verify, "check the history's two hash chains, the stored messages and files")
    verify.add_argument("--json", action="store_true", help="machine-readable output")
    verify.add_argument("--export", metavar="FILE", help="write the chained history as JSON Lines for an auditor")
    show = command("show", cmd_show, "show one complaint with its attachments and history")
    show.add_argument("reference")
    show.add_argument("--json", action="store_true", help="machine-readable output (the same as --format json)")
    show.add_argument(
        "--format", choices=SHOW_FORMATS, help="text (default), json, or the printable sheet: html, pdf (Chromium)"
    )
    show.add_argument("--output", metavar="FILE", help="write it there instead of standard output")
    add_quarantine_commands(command)
    _export_parser(command)
    web = command("web", cmd_web, "serve the register's web view (read-only, behind a login)")
    web.add_argument("--listen", metavar="ADDRESS:PORT", help="instead of [web] listen, e.g. 127.0.0.1:8080")
    web_commands = web.add_subparsers(dest="web_command", metavar="hash-password")
    hashing = web_commands.add_parser(
        "hash-password", help="read a password on standard input, print its hash for [[web.users]] password_hash"
    )
    hashing.set_defaults(command_func=cmd_hash_password)
    _report_parser(command)
    demo = commands.add_parser("demo", help="run the daemon end to end on an embedded default, with sample complaints")
    demo.add_argument("--dir", default="demo", help="where the demo keeps its files (default: ./demo)")
    demo.add_argument("--serve", action="store_true", help="keep running after the samples (Ctrl-C to stop)")
    demo.set_defaults(command_func=cmd_demo)
    return parser


def _verify(args) -> int:
    from daemon.verify import cmd_verify

    return cmd_verify(args)


def _add_parsers(command) -> None:
    """`add` and `letter`: complaints that do not arrive by email (daemon/entry.py)."""
    from daemon.entry import cmd_add, cmd_letter

    add = command("add", cmd_add, "register a complaint made by phone, letter, at a counter or on a web form")
    add.add_argument("--channel", required=True, help="phone, letter, counter or web")
    add.add_argument("--name", required=True, help="the customer's name")
    add.add_argument("--email", help="their email address: letters then go by email")
    add.add_argument("--phone", help="their phone number")
    add.add_argument("--address", help="their postal address (lines separated by newlines)")
    add.add_argument("--customer-type", default="customer", help="customer (default), trainee, funder, other…")
    add.add_argument("--subject", required=True)
    add.add_argument("--text", required=True, help="what the customer said ('-': read it from standard input)")
    add.add_argument("--wish", help="the solution the customer wishes")
    add.add_argument("--attach", action="append", default=[], metavar="FILE", help="a supporting document (repeat)")
    add.add_argument("--received-at", help="when the customer made it (ISO date-time, local; default now)")
    add.add_argument("--json", action="store_true", help='print {"reference": …}')
    letter = command("letter", cmd_letter, "print a letter to post to a customer who has no email address")
    letter.add_argument("reference")
    letter.add_argument("kind", help="acknowledgement")
    letter.add_argument("--format", choices=("html", "text"), default="html")
    letter.add_argument("--output", metavar="FILE", help="write it there instead of standard output")


def _export_parser(command) -> None:
    """`export`: the register as one row per complaint (daemon/export.py)."""
    from daemon.export import FORMATS, cmd_export

    export = command("export", cmd_export, "write every complaint as a CSV or JSON row, with its deadlines met or not")
    export.add_argument("--format", choices=FORMATS, default="csv")
    export.add_argument("--from", dest="since", metavar="DATE", help="received on or after this day (YYYY-MM-DD)")
    export.add_argument("--to", dest="until", metavar="DATE", help="received on or before this day (YYYY-MM-DD)")
    export.add_argument("--output", metavar="FILE", help="write it there instead of standard output")
    export.add_argument("--separator", default=",", help="between CSV fields: ',' (default), ';' or 'tab'")
    export.add_argument("--no-bom", action="store_true", help="CSV without the byte-order mark Excel needs")
    export.add_argument("--excel", action="store_true", help="CSV for Excel in French: BOM, ';', decimal comma")


def _report_parser(command) -> None:
    """`report`: the quality meeting's report (daemon/report.py)."""
    from daemon.report import FORMATS, cmd_report

    report = command("report", cmd_report, "the quality meeting's report for a period (figures, charts, definitions)")
    report.add_argument("--period", help="2026-11, 2026-Q4, 2026 or 2026-10-01..2026-12-31 (default: last month)")
    report.add_argument("--format", choices=FORMATS, default=FORMATS[0])
    report.add_argument("--output", metavar="FILE", help="write it there instead of standard output")
    report.add_argument("--mail", action="store_true", help="queue the HTML report to [routing] supervisor")


# --------------------------------------------------------------------------- commands


def cmd_run(args) -> int:
    from daemon.edges.notify import systemd_notify, watchdog_period
    from daemon.runners.service import Daemon

    daemon = Daemon(load_config(args.config), notify=systemd_notify, watchdog_period=watchdog_period())
    signal.signal(signal.SIGTERM, daemon.request_stop)
    signal.signal(signal.SIGINT, daemon.request_stop)
    daemon.run()
    return 1 if daemon.failed else 0


def cmd_check(args) -> int:
    from daemon.checks import run_checks

    config = load_config(args.config)
    print(f"config: {config.source} is valid")
    failures = 0
    for ok, line in run_checks(config):
        print(line if ok else f"FAIL {line}")
        failures += not ok
    return 1 if failures else 0


def cmd_migrate(args) -> int:
    from daemon.edges.register.database import migrate

    config = load_config(args.config)
    done = migrate(config.database.url, datetime.now(UTC))
    if done.before.empty:
        print(f"register {done.url}: created at revision {done.after.current}")
    elif done.before.at_head:
        print(f"register {done.url}: already at the latest revision ({done.after.current})")
    else:
        was = done.before.current or "release 0.1.0"
        copy = f" (the file before: {done.copy})" if done.copy else ""
        print(f"register {done.url}: upgraded from {was} to revision {done.after.current}{copy}")
    return 0 if done.after.at_head else 1


def cmd_status(args) -> int:
    from daemon.status import gather, render

    config = load_config(args.config)
    data = gather(config)
    print(json.dumps(data, ensure_ascii=False, indent=2) if args.json else render(data, config))
    return 0


def _register(config_path: str) -> tuple[Config, Register]:
    config = load_config(config_path)
    return config, Register(config.database.url)


def cmd_list(args) -> int:
    config = load_config(args.config)
    status = _status_option(args.status)
    register = Register(config.database.url)
    filters = Filters(
        now=datetime.now(UTC),
        status=status,
        handler=args.handler,
        overdue=args.overdue,
        due_within=_duration_option("--due-within", args.due_within),
        severity=_choice_option("--severity", args.severity, Severity),
        scope=_choice_option("--scope", args.scope, Scope),
        category=args.category,
        open_actions=args.open_actions,
        channel=_choice_option("--channel", args.channel, Channel),
    )
    with register.session() as session:
        complaints = list_complaints(session, filters)
    if not complaints and args.handler:
        _check_handler(config, args.handler)
    if args.json:
        print(json.dumps([_summary_json(c) for c in complaints], ensure_ascii=False, indent=2))
        return 0
    print(_table([made_visible(c) for c in complaints], config))
    return 0


def _status_option(text: str | None) -> str | None:
    """A status filter must be one of the lifecycle's: a typo must not read as "no complaints"."""
    if text is None:
        return None
    valid = [status.value for status in Status]
    if text.strip().lower() not in valid:
        raise ComplaintsError(f"--status {text}: unknown status (valid: {', '.join(valid)})")
    return text.strip().lower()


def _check_handler(config: Config, handler: str) -> None:
    """An address that is neither a configured handler nor any complaint's is a typo, not an empty list
    (a handler removed from the config still lists the complaints they held)."""
    if config.routing.handler(handler) is None:
        known = ", ".join(h.email for h in config.routing.handlers)
        raise ComplaintsError(
            f"--handler {handler}: not a handler of the config or of any complaint (handlers: {known})"
        )


def _choice_option(option: str, text: str | None, values: type[StrEnum]) -> str | None:
    """A filter on an evaluation field takes its English identifiers: a typo is an error, not an empty list."""
    if text is None:
        return None
    valid = [value.value for value in values]
    if text.strip().lower() not in valid:
        raise ComplaintsError(f"{option} {text}: not one of {', '.join(valid)}")
    return text.strip().lower()


def _duration_option(option: str, text: str | None) -> timedelta | None:
    if text is None:
        return None
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise ComplaintsError(f"{option}: {exc}") from None


def cmd_show(args) -> int:
    if args.json and args.format not in (None, "json"):
        raise ComplaintsError(f"--json and --format {args.format}: choose one")
    form = "json" if args.json else (args.format or "text")
    config, register = _register(args.config)
    if form in ("html", "pdf"):
        from daemon.sheet import write_sheet

        return write_sheet(config, register, args.reference, form, args.output)
    with register.session() as session:
        complaint = show_complaint(session, args.reference)
    if form == "json":
        shown = json.dumps(_detail_json(complaint, _mediation(complaint, config)), ensure_ascii=False, indent=2)
    else:
        shown = _detail_text(made_visible(complaint, BODIES), config)
    if args.output:
        Path(args.output).write_text(shown + "\n", encoding="utf-8")
    else:
        print(shown)
    return 0


def cmd_web(args) -> int:
    from dataclasses import replace

    from daemon.config_schema import WEB
    from daemon.web.server import serve

    config = load_config(args.config)
    if args.listen:
        parse_listen, _ = WEB["listen"]
        host, port = parse_listen(args.listen, "--listen")
        config = replace(config, web=replace(config.web, host=host, port=port))
    serve(config)
    return 0


def cmd_hash_password(args) -> int:
    import getpass

    from daemon.web.passwords import hash_password

    password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise ComplaintsError("hash-password: no password on standard input")
    print(hash_password(password))
    return 0


def cmd_demo(args) -> int:
    from daemon.demo import run_demo

    return run_demo(Path(args.dir), serve=args.serve)


# --------------------------------------------------------------------------- output


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _summary_json(c: ComplaintView) -> dict:
    return {
        "reference": c.reference,
        "status": c.status,
        "customer_email": c.customer_email,
        "customer_name": c.customer_name,
        "subject": c.subject,
        "received_at": _iso(c.received_at),
        "ack_due_at": _iso(c.ack_due_at),
        "answer_due_at": _iso(c.answer_due_at),
        "acknowledged_at": _iso(c.acknowledged_at),
        "handler": c.handler_email,
        "category": c.category,
        "attachments": c.attachment_count,
        "severity": c.severity,
        "complexity": c.complexity,
        "impact": c.impact,
        "scope": c.scope,
        "priority": c.priority,
        "outcome": c.outcome,
        "channel": c.channel,
        "customer_type": c.customer_type,
    }


def _mediation(c: ComplaintView, config: Config) -> MediationDates:
    """The complaint's mediation dates under today's config: computed from its receipt, never stored."""
    return mediation_dates(c.received_at, config.refer_after, config.register.timezone, config.register.closed_days())


def _detail_json(c: ComplaintView, mediation: MediationDates | None = None) -> dict:
    data = _summary_json(c)
    if mediation is not None:
        data["mediator_from"] = _iso(mediation.refer_from)
        data["mediation_limit"] = _iso(mediation.limit)
    data["text_body"] = c.text_body
    data["handler_name"] = c.handler_name
    data["customer_phone"] = c.customer_phone or None
    data["customer_address"] = c.customer_address or None
    data["wished_solution"] = c.wished_solution or None
    data["related"] = list(c.related)
    data["causes"] = [{"text": cause.text, "category": cause.category} for cause in c.causes]
    data["previous_complaints"] = [p.reference for p in c.previous]
    data["compensation"] = _compensation_json(c)
    data["satisfaction"] = asdict(c.satisfaction) if c.satisfaction else None
    data["actions"] = [
        {"number": a.number, "kind": a.kind, "text": a.text, "owner": a.owner, "due": _day(a.due), "status": a.status}
        | ({"reason": a.reason} if a.reason else {})
        | {"reminders": {"sent": a.reminders_sent, "alerts": a.alerts_sent, "next_at": _iso(a.next_reminder_at)}}
        for a in c.actions
    ]
    data["deadlines"] = {
        "ack": {"due_at": _iso(c.ack_due_at), "rule": c.ack_rule},
        "answer": {
            "due_at": _iso(c.answer_due_at),
            "rule": c.answer_rule,
            "skipped": [{"date": d, "reason": r} for d, r in c.answer_skipped],
        },
    }
    data["attachments"] = [asdict(a) for a in c.attachments]
    data["history"] = [{"at": _iso(h.at), "event": h.event, "actor": h.actor, "detail": h.detail} for h in c.history]
    return data


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _compensation_json(c: ComplaintView) -> dict | None:
    if c.compensation_type is None:
        return None
    amount = None if c.compensation_amount is None else float(c.compensation_amount)
    return {"type": c.compensation_type, "amount": amount, "currency": c.compensation_currency}


def _local(value: datetime | None, config: Config) -> str:
    return value.astimezone(config.register.timezone).strftime("%Y-%m-%d %H:%M") if value else "-"


def _table(complaints: list[ComplaintView], config: Config) -> str:
    if not complaints:
        return "no complaints in the register"
    rows = [("REFERENCE", "STATUS", "RECEIVED", "ANSWER DUE", "ATT", "HANDLER", "CUSTOMER", "SUBJECT")]
    for c in complaints:
        rows.append(
            (
                c.reference,
                c.status,
                _local(c.received_at, config),
                _local(c.answer_due_at, config),
                str(c.attachment_count),
                c.handler_email,
                c.customer_email,
                c.subject[:50],
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = ("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1] for row in rows)
    return "\n".join(lines)


def _detail_text(c: ComplaintView, config: Config) -> str:
    lines = [
        f"{c.reference}  {c.status}",
        f"customer:      {c.customer_name} <{c.customer_email}>"
        if c.customer_name
        else f"customer:      {c.customer_email}",
        f"subject:       {c.subject}",
        f"received:      {_local(c.received_at, config)}" + (f" by {c.channel}" if c.channel != "email" else ""),
        f"handler:       {c.handler_name} <{c.handler_email}>",
        f"ack due:       {_local(c.ack_due_at, config)}  ({_explain(c.ack_rule, ())})"
        + (f", acknowledged {_local(c.acknowledged_at, config)}" if c.acknowledged_at else ""),
        f"answer due:    {_local(c.answer_due_at, config)}  ({_explain(c.answer_rule, c.answer_skipped)})",
        f"attachments:   {len(c.attachments)}",
    ]
    mediation = _mediation(c, config)
    lines.append(
        f"mediator from: {_local(mediation.refer_from, config)}  ({config.refer_after} after receipt, "
        f"[mediator] refer_after); limit {_local(mediation.limit, config)} (1 year, L.612-2)"
    )
    lines += _evaluation_text(c, config)
    lines += [f"  {a.filename} ({a.size} bytes) {a.path}" for a in c.attachments]
    lines.append("history:")
    lines += [f"  {_local(h.at, config)}  {h.event:<24} {h.actor:<28} {h.detail}" for h in c.history]
    lines += ["", c.text_body.strip()]
    return "\n".join(lines)


def _evaluation_text(c: ComplaintView, config: Config) -> list[str]:
    """The evaluation lines of `show`: only what has been recorded, the priority first."""
    shown = [
        ("priority", c.priority),
        ("severity", c.severity),
        ("complexity", c.complexity),
        ("impact", c.impact),
        ("scope", c.scope),
        ("related", ", ".join(c.related)),
        ("outcome", c.outcome),
        ("compensation", " ".join(filter(None, (c.compensation_type, c.compensation_amount, c.compensation_currency)))),
        ("wished:", c.wished_solution.replace("\n", " ")),
        ("phone", c.customer_phone),
        ("address", c.customer_address.replace("\n", ", ")),
        ("type", c.customer_type if c.customer_type != "customer" else ""),
        ("satisfaction", _satisfaction_text(c)),
    ]
    lines = [f"{(name if name.endswith(':') else name + ':'):<15}{value}" for name, value in shown if value]
    lines += [f"cause:         {cause.category + ': ' if cause.category else ''}{cause.text}" for cause in c.causes]
    lines += [
        f"action {a.number}:      {a.kind} [{a.status}] {a.text}"
        + "".join(f" ({part})" for part in (a.owner, _day(a.due), a.reason) if part)
        + _action_reminders_text(a, config)
        for a in c.actions
    ]
    return lines + [
        f"previous:      {p.reference}  {p.received_at:%Y-%m-%d}  {p.status}" + (f", {p.outcome}" if p.outcome else "")
        for p in c.previous
    ]


def _satisfaction_text(c: ComplaintView) -> str:
    s = c.satisfaction
    if s is None:
        return ""
    points = f"understood {s.understood or '-'}, actions {s.actions or '-'}, relationship {s.relationship or '-'}"
    return points + (f"; {s.comment}" if s.comment else "")


def _action_reminders_text(a: ActionView, config: Config) -> str:
    """What `show` says of an action's reminders: how many left, the overdue alerts, the next one."""
    if not (a.reminders_sent or a.alerts_sent or a.next_reminder_at):
        return ""
    parts = [f"{a.reminders_sent} reminder(s) sent", f"{a.alerts_sent} overdue alert(s)"]
    if a.next_reminder_at is not None:
        parts.append(f"next {_local(a.next_reminder_at, config)}")
    return " — " + ", ".join(parts)


def _explain(rule_text: str, skipped: tuple[tuple[str, str], ...]) -> str:
    """The rule in words and every closed day it skipped: how `show` justifies a deadline."""
    try:
        rule = parse_rule(rule_text)
    except ValueError:
        return rule_text or "rule not recorded"
    words = {
        Unit.SECONDS: "seconds after receipt",
        Unit.MINUTES: "minutes after receipt",
        Unit.HOURS: "hours after receipt",
        Unit.CALENDAR_DAYS: "calendar days after receipt, same time of day",
        Unit.BUSINESS_DAYS: "business days after the day of receipt, end of the last day",
        Unit.OUVRABLE_DAYS: "jours ouvrables (Monday to Saturday) after the day of receipt, end of the last day",
        Unit.MONTHS: "calendar months after receipt, same day of the month (or its last day) and time",
    }[rule.unit]
    text = f"{rule}: {rule.amount} {words}"
    if skipped:
        text += "; skipped " + ", ".join(f"{day} ({why})" for day, why in skipped)
    return text


if __name__ == "__main__":
    sys.exit(main())
