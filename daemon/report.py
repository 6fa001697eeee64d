"""The shell's part of `complaintsd report`: the quality meeting's report for a period.

Reads the period's rows (edges/register/report_rows.py), lets core/report.py count and
core/report_render.py (or core/report_html.py) write, then prints it, writes the file, or queues it
to the supervisor through the outbox (`--mail`).
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from daemon import __version__
from daemon.config import Config, load_config
from daemon.core.period import FORMS, Period, parse_period
from daemon.core.profiles import mediation_dates
from daemon.core.report import Report, build_report
from daemon.core.report_mail import report_mail
from daemon.core.report_render import Stamp, to_csv, to_json
from daemon.edges.register import Register
from daemon.edges.register.report_rows import report_rows
from daemon.errors import ReportError
from daemon.runners.desk import Desk


@dataclass(frozen=True)
class Made:
    report: Report
    stamp: Stamp


def cmd_report(args) -> int:
    config = load_config(args.config).named(args.register)
    now = datetime.now(UTC)
    period = period_option(args.period, config, now)
    register = Register(config.database.url)
    made = make_report(config, register, period, now, config.register.reference_prefix if args.register else None)
    if args.mail:
        to = mail_report(config, register, made, now)
        print(f"report {period.label} queued to {to} (the daemon sends it)")
    text = render(made, args.format)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"report {period.label} ({args.format}) written to {args.output}")
    elif not args.mail:
        sys.stdout.write(text)
    return 0


def mail_report(config: Config, register: Register, made: Made, now: datetime) -> str:
    """Queue the HTML report to `[routing] supervisor` in the outbox; the address it goes to."""
    supervisor = config.routing.supervisor
    desk = Desk.of(config, register, lambda: now)
    effects = report_mail(
        made.report, render(made, "html"), supervisor, config.register.language, now, desk.policy.domain
    )
    with register.transaction() as session:
        desk.apply(session, effects, now)
    return supervisor.email


def period_option(text: str | None, config: Config, now: datetime) -> Period:
    """`--period`, or the month before this one (what a monthly timer sends)."""
    if text is None:
        this_month = now.astimezone(config.register.timezone).date().replace(day=1)
        return parse_period(f"{this_month - timedelta(days=1):%Y-%m}")
    try:
        return parse_period(text)
    except ValueError:
        raise ReportError(f"--period {text}: not a period; expected {FORMS}") from None


def make_report(config: Config, register: Register, period: Period, now: datetime, prefix: str | None = None) -> Made:
    """The period's report; with `prefix`, of one register's complaints (`--register NAME`)."""
    tz = config.register.timezone
    previous = period.previous()
    with _no_collection(), register.session() as session:
        rows = report_rows(session, *period.bounds(tz), prefix=prefix)
        before = report_rows(session, *previous.bounds(tz), complaints_only=True, prefix=prefix)
        closed = config.register.closed_days()
        dates = partial(mediation_dates, refer_after=config.refer_after, tz=tz, closed=closed)
        report = build_report(period, rows, before, now, tz, closed, dates)
    return Made(report, stamp(config, now))


@contextmanager
def _no_collection() -> Iterator[None]:
    """The cyclic garbage collector paused while a year's rows are read and counted: they are a
    hundred thousand tuples that hold no cycle, and the collector, run again and again as they were
    made, took a quarter of the report's time (benchmarks/report.py)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def stamp(config: Config, now: datetime) -> Stamp:
    register = config.register
    rules = [f"ack {register.ack_deadline}", f"answer {register.answer_deadline}"]
    for category in config.categories:
        rules += [f"ack {category.name} {category.ack_deadline}"] if category.ack_deadline else []
        rules += [f"answer {category.name} {category.answer_deadline}"] if category.answer_deadline else []
    return Stamp(__version__, tuple(rules), register.timezone.key, now, register.language)


def render(made: Made, fmt: str, links: bool = False) -> str:
    """`links`: the web view serves it (each count links to the complaints behind it)."""
    if fmt == "html":
        from daemon.core.report_html import to_html  # pygal: a quarter of a second, for HTML only

        return to_html(made.report, made.stamp, links)
    if fmt == "csv":
        return to_csv(made.report, made.stamp)
    return to_json(made.report, made.stamp)


__all__ = ["cmd_report", "mail_report", "make_report", "period_option", "render"]
