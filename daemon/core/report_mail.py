"""The quality report to the supervisor (`complaintsd report --mail`): one letter through the outbox,
its headline in the body and the whole HTML report attached, like every other letter the daemon sends."""

from __future__ import annotations

from datetime import datetime

from daemon.core.effects import Effects
from daemon.core.letters import FileToAttach, LetterToSend, QualityReportFacts, new_message_id
from daemon.core.mail import Address
from daemon.core.report import Report

FILE_NAMES = {"fr": "rapport-reclamations", "en": "complaints-report"}
KIND = "quality_report"


def report_mail(report: Report, html: str, supervisor: Address, language: str, now: datetime, domain: str) -> Effects:
    """The letter that carries `html` (the report rendered) to the supervisor."""
    label = report.period.label
    filename = f"{FILE_NAMES.get(language, FILE_NAMES['en'])}-{label}.html"
    facts = QualityReportFacts(
        supervisor_name=supervisor.name,
        period=label,
        first=report.period.first,
        last=report.period.last,
        now=now,
        complaints=report.current.complaints,
        ack_share=report.ack.share,
        answer_share=report.answer.share,
        open=report.current.open,
        overdue=report.current.overdue,
        filename=filename,
    )
    attached = FileToAttach(filename, "text/html", html.encode("utf-8"))
    message_id = new_message_id(f"report-{label}", "rpt", domain)
    return Effects(letters=(LetterToSend(KIND, facts, supervisor, message_id, files=(attached,)),))
