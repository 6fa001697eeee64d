"""`complaintsd show REF --format html|pdf`: the complaint sheet, written where the user asked.

The page is rendered in the core (core/sheet.py) from what the register holds; this module reads
the register, passes the instant, and writes the page (HTML), or has Chromium print it (PDF).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from daemon.config import Config
from daemon.core.letters import Templates
from daemon.core.sheet import SheetMediation, render_sheet, sheet_facts
from daemon.edges.printer import print_pdf
from daemon.edges.register import Register
from daemon.edges.register.views import ComplaintView, mailed_answers, show_complaint
from daemon.presenting import mediation_of


def sheet_html(config: Config, register: Register, reference: str, now: datetime) -> str:
    """The sheet of `reference` as the register holds it at `now`."""
    with register.session() as session:
        complaint = show_complaint(session, reference)
    return sheet_page(config, register, complaint, now, Templates.of(config.register))


def sheet_page(
    config: Config, register: Register, complaint: ComplaintView, now: datetime, templates: Templates
) -> str:
    """The sheet of a complaint already read (the web view has checked who may see it)."""
    with register.session() as session:
        answers = mailed_answers(session, complaint.reference)
    facts = sheet_facts(complaint, answers, now, config.profile.answer_meets_ack, sheet_mediation(complaint, config))
    return render_sheet(templates, facts)


def sheet_mediation(complaint: ComplaintView, config: Config) -> SheetMediation:
    """The complaint's mediation dates under today's config, with `[mediator] refer_after` as written."""
    return SheetMediation(mediation_of(complaint, config), str(config.refer_after))


def write_sheet(config: Config, register: Register, reference: str, form: str, output: str | None) -> int:
    page = sheet_html(config, register, reference, datetime.now(UTC))
    if form == "html":
        if output:
            Path(output).write_text(page, encoding="utf-8")
        else:
            sys.stdout.write(page)
        return 0
    pdf = print_pdf(page)
    if output:
        Path(output).write_bytes(pdf)
    else:
        sys.stdout.buffer.write(pdf)
    return 0
