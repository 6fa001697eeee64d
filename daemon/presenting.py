"""How the command line shows complaints to people and scripts: the `list` table, `show`'s text,
and the JSON of `list --json` and `show --json` (the contract in the README). Pure formatting of
the register's views, shared by the commands that print complaints."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime

from daemon.config import Config
from daemon.core.deadlines import Unit, parse_rule
from daemon.core.profiles import MediationDates, mediation_dates
from daemon.edges.register.views import ActionView, ComplaintView


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def summary_json(c: ComplaintView) -> dict:
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


def mediation_of(c: ComplaintView, config: Config) -> MediationDates:
    """The complaint's mediation dates under today's config: computed from its receipt, never stored."""
    return mediation_dates(c.received_at, config.refer_after, config.register.timezone, config.register.closed_days())


def detail_json(c: ComplaintView, mediation: MediationDates | None = None) -> dict:
    data = summary_json(c)
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


def table(complaints: list[ComplaintView], config: Config) -> str:
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


def detail_text(c: ComplaintView, config: Config) -> str:
    lines = [
        f"{c.reference}  {c.status}",
        f"customer:      {c.customer_name} <{c.customer_email}>"
        if c.customer_name
        else f"customer:      {c.customer_email}",
        f"subject:       {c.subject}",
        f"received:      {_local(c.received_at, config)}" + (f" by {c.channel}" if c.channel != "email" else ""),
        f"handler:       {c.handler_name} <{c.handler_email}>",
        f"ack due:       {_local(c.ack_due_at, config)}  ({explain(c.ack_rule, ())})"
        + (f", acknowledged {_local(c.acknowledged_at, config)}" if c.acknowledged_at else ""),
        f"answer due:    {_local(c.answer_due_at, config)}  ({explain(c.answer_rule, c.answer_skipped)})",
        f"attachments:   {len(c.attachments)}",
    ]
    mediation = mediation_of(c, config)
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


def explain(rule_text: str, skipped: tuple[tuple[str, str], ...]) -> str:
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
