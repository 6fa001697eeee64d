"""The `complaintsd` command's parser and the commands' glue (run, check, list, show, …), which
daemon/cli.py runs; how a complaint is printed lives in presenting.py.

Every error a user can act on becomes one line on stderr and exit status 1; never a traceback
(`--debug` shows one, for developers).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from sqlalchemy.exc import SQLAlchemyError

from daemon import __version__
from daemon.config import Config, load_config
from daemon.core.commands.words import Scope, Severity
from daemon.core.deadlines import parse_duration
from daemon.core.lifecycle import Status
from daemon.core.manual_entry import Channel
from daemon.edges.register import Register
from daemon.errors import ComplaintsError, NotFound
from daemon.logs import setup_logging
from daemon.quarantine import add_commands as add_quarantine_commands

if TYPE_CHECKING:
    from daemon.runners.sender_process import SenderProcess

DEFAULT_CONFIG = "/etc/complaintsd/config.toml"
# `show`: the register's words (text), the contract (json), the printable sheet (html, pdf: daemon/sheet.py).
SHOW_FORMATS = ("text", "json", "html", "pdf")
# `export` and `report` (daemon/export.py, daemon/report.py), whose modules are imported when they
# run (`_later`), as list's and show's are.
EXPORT_FORMATS = ("csv", "json")
REPORT_FORMATS = ("html", "csv", "json")
# What a customer wrote reaches the terminal with its control characters shown, never raw (terminal.py);
# these fields keep their line breaks.
BODIES = frozenset({"text_body", "wished_solution"})


def run_command(argv: list[str] | None, sender: SenderProcess | None = None) -> int:
    """Parse the command line and run its command; `sender` is the sender process that cli.py
    started ahead for `complaintsd run`, for the daemon to adopt."""
    parser = _parser()
    args = parser.parse_args(argv)
    args.early_sender = sender
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
    except BrokenPipeError:
        _quiet_stdout()  # the reader stopped reading (`export | head`): nothing to say
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"complaintsd: internal error: {exc.__class__.__name__}: {exc} (run with --debug for details)",
            file=sys.stderr,
        )
    return 1


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush does not fail again (the
    Python documentation's recipe for SIGPIPE)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


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
    listing.add_argument("--register", metavar="NAME", help="only the complaints of this [[registers]] entry")
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
    verify = command(
        "verify",
        _later("daemon.verify", "cmd_verify"),
        "check the history's two hash chains, the stored messages and files",
    )
    verify.add_argument("--json", action="store_true", help="machine-readable output")
    verify.add_argument("--export", metavar="FILE", help="write the chained history as JSON Lines for an auditor")
    purge = command(
        "purge",
        _later("daemon.purge", "cmd_purge"),
        "remove the personal data of complaints closed before [retention] keep",
    )
    purge.add_argument("--dry-run", action="store_true", help="list the complaints that would be purged")
    purge.add_argument("--yes", action="store_true", help="purge them")
    erase = command(
        "erase",
        _later("daemon.erase", "cmd_erase"),
        "pseudonymise one person everywhere the register holds them (GDPR)",
    )
    erase.add_argument("--customer", metavar="EMAIL", required=True, help="the person's email address")
    erase.add_argument("--dry-run", action="store_true", help="list what would change")
    erase.add_argument("--yes", action="store_true", help="erase them")
    erase.add_argument("--force", action="store_true", help="erase them even from a complaint still open")
    show = command("show", cmd_show, "show one complaint with its attachments and history")
    show.add_argument("reference")
    show.add_argument("--register", metavar="NAME", help="refuse a complaint of another [[registers]] entry")
    show.add_argument("--json", action="store_true", help="machine-readable output (the same as --format json)")
    show.add_argument(
        "--format", choices=SHOW_FORMATS, help="text (default), json, or the printable sheet: html, pdf (Chromium)"
    )
    show.add_argument("--output", metavar="FILE", help="write it there instead of standard output")
    add_quarantine_commands(command)
    _auth_parser(command)
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


def _auth_parser(command) -> None:
    """`auth login|status`: the OAuth token of an XOAUTH2 mailbox (daemon/auth.py)."""
    from daemon.auth import add_commands

    add_commands(command)


def _later(module: str, name: str) -> Callable[[argparse.Namespace], int]:
    """The handler `name` of `module`, imported when its command runs: every `complaintsd run` builds
    the whole parser, and importing each command's module for it cost the daemon's start ~45 ms."""

    def handler(args: argparse.Namespace) -> int:
        return getattr(importlib.import_module(module), name)(args)

    return handler


def _add_parsers(command) -> None:
    """`add` and `letter`: complaints that do not arrive by email (daemon/entry.py)."""
    add = command(
        "add",
        _later("daemon.entry", "cmd_add"),
        "register a complaint made by phone, letter, at a counter or on a web form",
    )
    add.add_argument("--channel", required=True, help="phone, letter, counter or web")
    add.add_argument("--register", metavar="NAME", help="the [[registers]] entry it belongs to (default: the first)")
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
    letter = command(
        "letter", _later("daemon.entry", "cmd_letter"), "print a letter to post to a customer who has no email address"
    )
    letter.add_argument("reference")
    letter.add_argument("kind", help="acknowledgement")
    letter.add_argument("--format", choices=("html", "text"), default="html")
    letter.add_argument("--output", metavar="FILE", help="write it there instead of standard output")


def _export_parser(command) -> None:
    """`export`: the register as one row per complaint (daemon/export.py)."""
    export = command(
        "export",
        _later("daemon.export", "cmd_export"),
        "write every complaint as a CSV or JSON row, with its deadlines met or not",
    )
    export.add_argument("--format", choices=EXPORT_FORMATS, default=EXPORT_FORMATS[0])
    export.add_argument("--register", metavar="NAME", help="only the complaints of this [[registers]] entry")
    export.add_argument("--from", dest="since", metavar="DATE", help="received on or after this day (YYYY-MM-DD)")
    export.add_argument("--to", dest="until", metavar="DATE", help="received on or before this day (YYYY-MM-DD)")
    export.add_argument("--output", metavar="FILE", help="write it there instead of standard output")
    export.add_argument("--separator", default=",", help="between CSV fields: ',' (default), ';' or 'tab'")
    export.add_argument("--no-bom", action="store_true", help="CSV without the byte-order mark Excel needs")
    export.add_argument("--excel", action="store_true", help="CSV for Excel in French: BOM, ';', decimal comma")
    export.add_argument("--customer", metavar="EMAIL", help="everything held about one person, as one JSON document")


def _report_parser(command) -> None:
    """`report`: the quality meeting's report (daemon/report.py)."""
    report = command(
        "report",
        _later("daemon.report", "cmd_report"),
        "the quality meeting's report for a period (figures, charts, definitions)",
    )
    report.add_argument("--register", metavar="NAME", help="only the complaints of this [[registers]] entry")
    report.add_argument("--period", help="2026-11, 2026-Q4, 2026 or 2026-10-01..2026-12-31 (default: last month)")
    report.add_argument("--format", choices=REPORT_FORMATS, default=REPORT_FORMATS[0])
    report.add_argument("--output", metavar="FILE", help="write it there instead of standard output")
    report.add_argument("--mail", action="store_true", help="queue the HTML report to [routing] supervisor")


# --------------------------------------------------------------------------- commands


def cmd_run(args) -> int:
    # What the start makes (modules, the configuration, the desks) lives as long as the daemon: no
    # collection while it is made, and frozen out of the later ones, which no longer walk it. (The
    # program's `complaintsd run` disabled it before importing this module: cli.py.)
    gc.disable()
    try:
        from daemon.edges.notify import systemd_notify, watchdog_period
        from daemon.runners.service import Daemon
        from daemon.runners.signals import stop_on

        config = load_config(args.config)
        daemon = Daemon(config, notify=systemd_notify, watchdog_period=watchdog_period(), sender=args.early_sender)
    finally:
        gc.freeze()
        gc.enable()
    stop_on((signal.SIGTERM, signal.SIGINT), daemon.request_stop)
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
    from daemon.edges.register.views import Filters, list_complaints
    from daemon.presenting import summary_json, table
    from daemon.terminal import made_visible

    config = load_config(args.config).named(args.register)
    status = _choice_option("--status", args.status, Status)
    register = Register(config.database.url)
    filters = Filters(
        now=datetime.now(UTC),
        prefix=config.register.reference_prefix if args.register else None,
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
        print(json.dumps([summary_json(c) for c in complaints], ensure_ascii=False, indent=2))
        return 0
    print(table([made_visible(c) for c in complaints], config))
    return 0


def _check_handler(config: Config, handler: str) -> None:
    """An address that is neither a configured handler nor any complaint's is a typo, not an empty list
    (a handler removed from the config still lists the complaints they held)."""
    if all(each.routing.handler(handler) is None for each in config.each):
        known = ", ".join(h.email for each in config.each for h in each.routing.handlers)
        raise ComplaintsError(
            f"--handler {handler}: not a handler of the config or of any complaint (handlers: {known})"
        )


def _choice_option(option: str, text: str | None, values: type[StrEnum]) -> str | None:
    """A filter takes the register's English identifiers: a typo is an error, not an empty list."""
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
    from daemon.edges.register.views import show_complaint
    from daemon.presenting import detail_json, detail_text, mediation_of
    from daemon.terminal import made_visible

    if args.json and args.format not in (None, "json"):
        raise ComplaintsError(f"--json and --format {args.format}: choose one")
    form = "json" if args.json else (args.format or "text")
    config, register = _register(args.config)
    config = _register_of(config, args.reference, args.register)
    if form in ("html", "pdf"):
        from daemon.sheet import write_sheet

        return write_sheet(config, register, args.reference, form, args.output)
    with register.session() as session:
        complaint = show_complaint(session, args.reference)
    if form == "json":
        shown = json.dumps(detail_json(complaint, mediation_of(complaint, config)), ensure_ascii=False, indent=2)
    else:
        shown = detail_text(made_visible(complaint, BODIES), config)
    if args.output:
        Path(args.output).write_text(shown + "\n", encoding="utf-8")
    else:
        print(shown)
    return 0


def _register_of(config: Config, reference: str, name: str | None) -> Config:
    """The register a complaint belongs to (its prefix says which); with `--register NAME`, a
    complaint of another one is not found there."""
    found = config.for_reference(reference)
    if name is not None and found is not config.named(name):
        raise NotFound(f"{reference.strip()}: not a complaint of register {name}")
    return found


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
