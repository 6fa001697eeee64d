"""`complaintsd status [--json]`: what an admin (or a monitoring script) needs to know at a glance.

The daemon's own record (edges/status_file.py: running or not, what it does, when the mailbox last
answered) and the register's figures (edges/register/health.py: last mail, outbox backlog and its
oldest letter, quarantine, next reminder, schema). Read-only: it creates nothing, and a missing
register is one line, like every other command.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from daemon.config import Config
from daemon.edges.register import Register
from daemon.edges.register.health import last_complaints, read_health
from daemon.edges.status_file import process_alive, read_status, status_path
from daemon.errors import ComplaintsError

# How runners/standby.py words a daemon that does not hold the register (yet).
STANDBY_STATES = ("standing by", "taking over")


def gather(config: Config, now: datetime | None = None) -> dict[str, Any]:
    """Everything `status` shows, as plain values (the --json output)."""
    now = now or datetime.now(UTC)
    _refuse_a_missing_file(config.database.url)
    register = Register(config.database.url)
    try:
        with register.session() as session:
            health = read_health(session)
            per_prefix = last_complaints(session) if config.registers else {}
    finally:
        register.dispose()
    record = read_status(status_path(config.storage.path)) or {}
    stopping = str(record.get("status", "")).startswith("stopping")
    running = bool(record) and process_alive(record.get("pid")) and not stopping
    standing_by = str(record.get("status", "")).startswith(STANDBY_STATES)
    figures = {key: _iso(value) for key, value in asdict(health).items()}
    return {
        "daemon": {
            "running": running,
            "pid": record.get("pid") if running else None,
            "status": record.get("status") if running else None,
            "role": ("standby" if standing_by else "active") if running else None,
            "started_at": record.get("started_at"),
            "updated_at": record.get("updated_at"),
        },
        "mailbox": {
            "connected_since": record.get("mailbox_connected_since") if running else None,
            "reached_at": record.get("mailbox_reached_at"),
        },
        **{key: figures[key] for key in ("last_mail_at", "quarantined", "next_reminder_at", "schema")},
        "outbox": {
            "waiting": health.outbox_waiting,
            "oldest_at": figures["outbox_oldest_at"],
            "undeliverable": health.outbox_undeliverable,
        },
        "oauth": _oauth(config, now),
        "at": now.isoformat(),
    } | ({"registers": _registers(config, per_prefix, record, running)} if config.registers else {})


def _registers(config: Config, per_prefix: dict, first: dict[str, Any], running: bool) -> list[dict[str, Any]]:
    """Each register of a `[[registers]]` config: its address, when its mailbox last answered (the
    daemon's record for the first, its loop's own for the others), its last complaint, how many open."""
    shown = []
    for index, each in enumerate(config.each):
        record = first if index == 0 else read_status(status_path(config.storage.path, each.name)) or {}
        last, still_open = per_prefix.get(each.register.reference_prefix, (None, 0))
        shown.append(
            {
                "name": each.name,
                "prefix": each.register.reference_prefix,
                "address": each.smtp.sender.email,
                "mailbox": {
                    "connected_since": record.get("mailbox_connected_since") if running else None,
                    "reached_at": record.get("mailbox_reached_at"),
                },
                "last_complaint_at": _iso(last),
                "open": still_open,
            }
        )
    return shown


def _oauth(config: Config, now: datetime) -> dict[str, Any] | None:
    """The XOAUTH2 token's expiry (None: the mailbox and the relay log in with a password)."""
    oauth = config.mailbox.oauth or config.smtp.oauth
    if oauth is None:
        return None
    from daemon.auth import token_status

    return token_status(oauth, now)


def _refuse_a_missing_file(url: str) -> None:
    """Opening a SQLite URL creates the file: a mistyped path would become an empty register."""
    parsed = make_url(url)
    on_file = parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")
    if on_file and not Path(str(parsed.database)).is_file():
        raise ComplaintsError(f"database: no register at {parsed.database} (database.url = {url}); nothing created")


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def render(data: dict[str, Any], config: Config) -> str:
    """The same, for a person: one line per part, times local with how long ago."""
    now = datetime.fromisoformat(data["at"])
    daemon, mailbox, outbox = data["daemon"], data["mailbox"], data["outbox"]
    when = _when(now, config)
    lines = [
        f"daemon:     running (pid {daemon['pid']}, {daemon['role']}): {daemon['status']}"
        if daemon["running"]
        else f"daemon:     not running (last seen {when(daemon['updated_at'])})",
        f"mailbox:    last answered {when(mailbox['reached_at'])}"
        + (f", connected since {when(mailbox['connected_since'])}" if mailbox["connected_since"] else ""),
        f"last mail:  {when(data['last_mail_at'])}",
        f"outbox:     {outbox['waiting']} letter(s) waiting"
        + (f", the oldest queued {when(outbox['oldest_at'])}" if outbox["oldest_at"] else "")
        + f"; {outbox['undeliverable']} refused or failed",
        f"quarantine: {data['quarantined']} message(s)",
        f"reminders:  next due {when(data['next_reminder_at'])}",
        f"register:   {data['schema']}",
    ]
    if data.get("oauth"):
        from daemon.auth import render as render_token

        lines.append(f"oauth:      {render_token(data['oauth'])}")
    for each in data.get("registers", []):
        lines.append(
            f"{each['name']} ({each['prefix']}, {each['address']}): mailbox last answered "
            f"{when(each['mailbox']['reached_at'])}; last complaint {when(each['last_complaint_at'])}; "
            f"{each['open']} open"
        )
    return "\n".join(lines)


def _when(now: datetime, config: Config):
    def say(text: str | None) -> str:
        if not text:
            return "never"
        at = datetime.fromisoformat(text)
        local = at.astimezone(config.register.timezone).strftime("%Y-%m-%d %H:%M:%S")
        seconds = (now - at).total_seconds()
        return f"{local} ({_span(seconds)})"

    return say


def _span(seconds: float) -> str:
    ahead = seconds < 0
    seconds = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            amount = f"{seconds / size:.0f} {unit}"
            break
    else:
        amount = f"{seconds:.0f} s"
    return f"in {amount}" if ahead else f"{amount} ago"
