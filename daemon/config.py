"""Read the one TOML file into typed, frozen sections, once, at start-up.

Each stage receives only its section (as h11 receives its constructor arguments), never a global.
Every key is declared in one table per section with its parser and default, so an unknown key or a
bad value is reported as `ConfigError("section.key", problem)`: the admin sees which line to fix.
`[mailbox]` + `[register]` form a unit the code could repeat for several complaint addresses later.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time, timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from daemon.core.deadlines import ClosedDays, DeadlineRule, holiday_calendar, parse_duration, parse_rule
from daemon.core.letters.render import Mediator
from daemon.core.mail import Address
from daemon.core.policy import CategoryRules, CustomerLetters, Policy, ReminderPolicy
from daemon.core.reminders import parse_weekdays
from daemon.core.routing import Handler, fold
from daemon.errors import ConfigError

# --------------------------------------------------------------------------- sections


@dataclass(frozen=True)
class MailboxConfig:
    kind: str
    host: str
    port: int
    tls: str
    username: str
    password: str
    folder: str
    processed_folder: str
    quarantine_folder: str
    poll_interval: timedelta
    path: Path | None
    batch_size: int
    idle: bool


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    tls: str
    username: str
    password: str
    sender: Address
    timeout: timedelta


@dataclass(frozen=True)
class DatabaseConfig:
    url: str


@dataclass(frozen=True)
class StorageConfig:
    path: Path


@dataclass(frozen=True)
class RegisterConfig:
    reference_prefix: str
    language: str
    templates: Path | None
    timezone: ZoneInfo
    ack_deadline: DeadlineRule
    answer_deadline: DeadlineRule
    organisation: str
    holidays_country: str
    holidays_subdivision: str

    def closed_days(self) -> ClosedDays:
        """The public-holiday calendar business-day deadlines skip."""
        return holiday_calendar(self.holidays_country, self.holidays_subdivision or None)


@dataclass(frozen=True)
class CategoryDeadlines:
    """A per-category override of the deadline rules (`[categories.<name>]`)."""

    name: str
    ack_deadline: DeadlineRule | None
    answer_deadline: DeadlineRule | None


@dataclass(frozen=True)
class RoutingConfig:
    handlers: tuple[Handler, ...]
    default: Handler
    supervisor: Address
    trusted_authserv_ids: frozenset[str] = frozenset()

    def handler(self, email: str) -> Handler | None:
        wanted = email.strip().lower()
        return next((h for h in self.handlers if h.email == wanted), None)


@dataclass(frozen=True)
class RemindersConfig:
    before: tuple[timedelta, ...]
    escalation_every: timedelta
    digest_at: time
    digest_days: frozenset[int]
    sweep_interval: timedelta
    late_after: timedelta


@dataclass(frozen=True)
class CustomerLettersConfig:
    """Which customer-visible changes get a letter (the answer and the closing always do)."""

    status_changed: bool
    deadline_changed: bool
    follow_up_received: bool
    ask_satisfaction: bool


@dataclass(frozen=True)
class OutboxConfig:
    retry_first: timedelta
    retry_max: timedelta
    give_up_after: timedelta
    batch_size: int


@dataclass(frozen=True)
class Config:
    mailbox: MailboxConfig
    smtp: SmtpConfig
    database: DatabaseConfig
    storage: StorageConfig
    register: RegisterConfig
    mediator: Mediator | None
    outbox: OutboxConfig
    routing: RoutingConfig
    reminders: RemindersConfig
    customer_letters: CustomerLettersConfig
    categories: tuple[CategoryDeadlines, ...] = ()
    source: Path | None = None

    def deadline_rules(self, category: str | None) -> tuple[DeadlineRule, DeadlineRule]:
        """(ack rule, answer rule) for a complaint of `category`: its override, else the default."""
        ack, answer = self.register.ack_deadline, self.register.answer_deadline
        for override in self.categories:
            if category is not None and fold(override.name) == fold(category):
                return override.ack_deadline or ack, override.answer_deadline or answer
        return ack, answer

    @property
    def own_addresses(self) -> frozenset[str]:
        """Addresses that are us: never acknowledged, never answered (loop safety)."""
        mine = {self.smtp.sender.normalized}
        if "@" in self.mailbox.username:
            mine.add(self.mailbox.username.strip().lower())
        return frozenset(mine)


# --------------------------------------------------------------------------- value parsers

Parser = Callable[[Any, str], Any]


def _string(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(path, f"expected a string, got {type(value).__name__}")
    return value


def _integer(low: int, high: int) -> Parser:
    def parse(value: Any, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(path, f"expected an integer, got {value!r}")
        if not low <= value <= high:
            raise ConfigError(path, f"{value} is out of range {low}..{high}")
        return value

    return parse


def _boolean(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(path, f"expected true or false, got {value!r}")
    return value


def _choice(*allowed: str) -> Parser:
    def parse(value: Any, path: str) -> str:
        if value not in allowed:
            raise ConfigError(path, f"{value!r} is not one of {', '.join(allowed)}")
        return value

    return parse


def _duration(value: Any, path: str) -> timedelta:
    try:
        return parse_duration(_string(value, path))
    except ValueError as exc:
        raise ConfigError(path, str(exc)) from None


def _rule(value: Any, path: str) -> DeadlineRule | None:
    if value == "":
        return None  # only categories may leave a rule unset (they inherit the default)
    try:
        return parse_rule(_string(value, path))
    except ValueError as exc:
        raise ConfigError(path, str(exc)) from None


def _list(value: Any, path: str, item: Parser) -> tuple:
    if not isinstance(value, list):
        raise ConfigError(path, f'expected a list like ["a", "b"], got {value!r}')
    return tuple(item(element, f"{path}[{index}]") for index, element in enumerate(value))


def _clock_time(value: Any, path: str) -> time:
    try:
        return time.fromisoformat(_string(value, path))
    except ValueError:
        raise ConfigError(path, f'{value!r} is not a time of day like "08:00"') from None


def _weekdays(value: Any, path: str) -> frozenset[int]:
    try:
        return parse_weekdays(list(_list(value, path, _string)))
    except ValueError as exc:
        raise ConfigError(path, str(exc)) from None


def _optional_path(value: Any, path: str) -> Path | None:
    text = _string(value, path).strip()
    return Path(text).expanduser() if text else None


def _timezone(value: Any, path: str) -> ZoneInfo:
    try:
        return ZoneInfo(_string(value, path))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(path, f"unknown time zone {value!r} (e.g. Europe/Paris)") from None


def _address(value: Any, path: str) -> Address:
    name, email = parseaddr(_string(value, path))
    try:
        return Address(name=name, email=email)
    except ValueError:
        raise ConfigError(path, f"not an email address: {value!r}") from None


def _prefix(value: Any, path: str) -> str:
    text = _string(value, path)
    if not (text.isascii() and text.isalnum() and text.isupper() and 1 <= len(text) <= 10):
        raise ConfigError(path, f"{text!r} must be 1 to 10 upper-case letters or digits, e.g. REC")
    return text


def _language(value: Any, path: str) -> str:
    return _choice("fr", "en")(value, path)


# --------------------------------------------------------------------------- section schemas

MAILBOX = {
    "kind": (_choice("imap", "maildir"), "imap"),
    "host": (_string, ""),
    "port": (_integer(1, 65535), 993),
    "tls": (_choice("ssl", "starttls", "none"), "ssl"),
    "username": (_string, ""),
    "folder": (_string, "INBOX"),
    "processed_folder": (_string, "Registered"),
    "quarantine_folder": (_string, "Quarantine"),
    "poll_interval": (_duration, "60s"),
    "path": (_optional_path, ""),
    "batch_size": (_integer(1, 5000), 200),
    "idle": (_boolean, True),
}
SMTP = {
    "host": (_string, "localhost"),
    "port": (_integer(1, 65535), 587),
    "tls": (_choice("ssl", "starttls", "none"), "starttls"),
    "username": (_string, ""),
    "from": (_address, None),
    "timeout": (_duration, "30s"),
}
DATABASE = {"url": (_string, "sqlite:////var/lib/complaintsd/register.db")}
STORAGE = {"path": (_optional_path, "/var/lib/complaintsd/attachments")}
REGISTER = {
    "reference_prefix": (_prefix, "REC"),
    "language": (_language, "fr"),
    "templates": (_optional_path, ""),
    "timezone": (_timezone, "Europe/Paris"),
    "ack_deadline": (_rule, "48h"),
    "answer_deadline": (_rule, "10d"),
    "organisation": (_string, ""),
    "holidays_country": (_string, "FR"),
    "holidays_subdivision": (_string, ""),
}
MEDIATOR = {"name": (_string, ""), "website": (_string, ""), "address": (_string, ""), "phone": (_string, "")}
OUTBOX = {
    "retry_first": (_duration, "30s"),
    "retry_max": (_duration, "1h"),
    "give_up_after": (_duration, "5d"),
    "batch_size": (_integer(1, 5000), 200),
}
REMINDERS = {
    "before": (lambda v, p: _list(v, p, _duration), ["3d", "1d", "2h"]),
    "escalation_every": (_duration, "1d"),
    "digest_at": (_clock_time, "08:00"),
    "digest_days": (_weekdays, ["mon", "tue", "wed", "thu", "fri"]),
    "sweep_interval": (_duration, "60s"),
    "late_after": (_duration, "5m"),
}
ROUTING: dict[str, tuple[Parser, Any]] = {
    "default_handler": (_string, None),
    "supervisor": (_address, None),
    "trusted_authserv_id": (lambda v, p: _list(v, p, _string), []),
}
CUSTOMER_LETTERS = {
    "status_changed": (_boolean, True),
    "deadline_changed": (_boolean, True),
    "follow_up_received": (_boolean, True),
    "ask_satisfaction": (_boolean, False),
}
HANDLER: dict[str, tuple[Parser, Any]] = {
    "name": (_string, None),
    "email": (_address, None),
    "categories": (lambda v, p: _list(v, p, _string), []),
    "keywords": (lambda v, p: _list(v, p, _string), []),
    "sender_domains": (lambda v, p: _list(v, p, _string), []),
}
CATEGORY = {"ack_deadline": (_rule, ""), "answer_deadline": (_rule, "")}
SECRET_KEYS = ("password", "password_env", "password_file")
SECTIONS = {
    "mailbox": MAILBOX,
    "smtp": SMTP,
    "database": DATABASE,
    "storage": STORAGE,
    "register": REGISTER,
    "mediator": MEDIATOR,
    "outbox": OUTBOX,
    "handlers": HANDLER,
    "routing": ROUTING,
    "reminders": REMINDERS,
    "categories": CATEGORY,
    "customer_letters": CUSTOMER_LETTERS,
}


def _section(data: dict[str, Any], name: str, schema: dict, secrets: bool = False) -> dict[str, Any]:
    """Validate one table: unknown keys and bad values are reported with their dotted path."""
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(name, "expected a table like [" + name + "]")
    allowed = set(schema) | (set(SECRET_KEYS) if secrets else set())
    for key in table:
        if key not in allowed:
            raise ConfigError(f"{name}.{key}", f"unknown key (known: {', '.join(sorted(allowed))})")
    values = {}
    for key, (parse, default) in schema.items():
        path = f"{name}.{key}"
        if key in table:
            values[key] = parse(table[key], path)
        elif default is None:
            raise ConfigError(path, "missing (required)")
        else:
            values[key] = parse(default, path)
    if secrets:
        values["password"] = _secret(table, name)
    return values


def _secret(table: dict[str, Any], name: str) -> str:
    """A password given inline, by environment variable, or by file (systemd credentials)."""
    given = [key for key in SECRET_KEYS if table.get(key)]
    if len(given) > 1:
        raise ConfigError(f"{name}.{given[1]}", f"give only one of {', '.join(SECRET_KEYS)}")
    if not given:
        return ""
    key = given[0]
    value = _string(table[key], f"{name}.{key}")
    if key == "password":
        return value
    if key == "password_env":
        if value not in os.environ:
            raise ConfigError(f"{name}.password_env", f"environment variable {value} is not set")
        return os.environ[value]
    path = Path(value)
    if not path.is_absolute() and os.environ.get("CREDENTIALS_DIRECTORY"):
        path = Path(os.environ["CREDENTIALS_DIRECTORY"]) / path
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{name}.password_file", f"cannot read {path}: {exc.strerror}") from None


def parse_config(data: dict[str, Any], source: Path | None = None) -> Config:
    for name in data:
        if name not in SECTIONS:
            raise ConfigError(name, f"unknown section (known: {', '.join(SECTIONS)})")
    mailbox = _section(data, "mailbox", MAILBOX, secrets=True)
    smtp = _section(data, "smtp", SMTP, secrets=True)
    register = _section(data, "register", REGISTER)
    mediator = _section(data, "mediator", MEDIATOR)
    _check_mailbox(mailbox)
    _check_holidays(register)
    if register["ack_deadline"] is None or register["answer_deadline"] is None:
        key = "ack_deadline" if register["ack_deadline"] is None else "answer_deadline"
        raise ConfigError(f"register.{key}", "must not be empty")
    smtp["sender"] = smtp.pop("from")
    if not register["organisation"]:
        register["organisation"] = smtp["sender"].name or smtp["sender"].email
    return Config(
        mailbox=MailboxConfig(**mailbox),
        smtp=SmtpConfig(**smtp),
        database=DatabaseConfig(**_section(data, "database", DATABASE)),
        storage=StorageConfig(**_section(data, "storage", STORAGE)),
        register=RegisterConfig(**register),
        mediator=Mediator(**mediator) if "mediator" in data and mediator["name"] else None,
        outbox=OutboxConfig(**_section(data, "outbox", OUTBOX)),
        routing=_routing(data),
        reminders=RemindersConfig(**_section(data, "reminders", REMINDERS)),
        customer_letters=CustomerLettersConfig(**_section(data, "customer_letters", CUSTOMER_LETTERS)),
        categories=_categories(data),
        source=source,
    )


def _routing(data: dict[str, Any]) -> RoutingConfig:
    """[[handlers]] and [routing]: every complaint must reach exactly one designated handler."""
    tables = data.get("handlers")
    if not isinstance(tables, list) or not tables:
        raise ConfigError("handlers", "at least one [[handlers]] table (name, email) is required")
    handlers: list[Handler] = []
    for index, table in enumerate(tables):
        values = _section({f"handlers[{index}]": table}, f"handlers[{index}]", HANDLER)
        if any(h.email == values["email"].normalized for h in handlers):
            raise ConfigError(f"handlers[{index}].email", f"{values['email'].email} is listed twice")
        handlers.append(
            Handler(
                values["name"],
                values["email"].email,
                values["categories"],
                values["keywords"],
                values["sender_domains"],
            )
        )
    routing = _section(data, "routing", ROUTING)
    config = RoutingConfig(tuple(handlers), handlers[0], routing["supervisor"])
    default = config.handler(routing["default_handler"])
    if default is None:
        known = ", ".join(h.email for h in handlers)
        raise ConfigError(
            "routing.default_handler", f"{routing['default_handler']!r} is not one of the [[handlers]] ({known})"
        )
    trusted = frozenset(a.lower() for a in routing["trusted_authserv_id"])
    return RoutingConfig(config.handlers, default, config.supervisor, trusted)


def _categories(data: dict[str, Any]) -> tuple[CategoryDeadlines, ...]:
    tables = data.get("categories", {})
    if not isinstance(tables, dict):
        raise ConfigError("categories", "expected tables like [categories.facturation]")
    found = []
    for name, table in tables.items():
        values = _section({f"categories.{name}": table}, f"categories.{name}", CATEGORY)
        found.append(CategoryDeadlines(name, values["ack_deadline"], values["answer_deadline"]))
    return tuple(found)


def _check_mailbox(mailbox: dict[str, Any]) -> None:
    if mailbox["kind"] == "maildir" and mailbox["path"] is None:
        raise ConfigError("mailbox.path", 'required when kind = "maildir"')
    if mailbox["kind"] == "imap":
        for key in ("host", "username"):
            if not mailbox[key]:
                raise ConfigError(f"mailbox.{key}", 'required when kind = "imap"')
    folders = {mailbox["folder"], mailbox["processed_folder"], mailbox["quarantine_folder"]}
    if len(folders) != 3:
        raise ConfigError("mailbox.processed_folder", "folder, processed_folder and quarantine_folder must differ")


def _check_holidays(register: dict[str, Any]) -> None:
    try:
        holiday_calendar(register["holidays_country"], register["holidays_subdivision"] or None)
    except (ValueError, NotImplementedError, KeyError) as exc:
        key = "holidays_subdivision" if register["holidays_subdivision"] else "holidays_country"
        raise ConfigError(f"register.{key}", str(exc).splitlines()[0]) from None


def load_config(path: str | Path) -> Config:
    """Read and validate the TOML file; every problem is a ConfigError naming the key."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), f"not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(str(path), "not UTF-8 text") from None
    return parse_config(data, source=path)


def policy_of(config: Config) -> Policy:
    """The slices of the configuration the decisions need, with the holiday calendar built once."""
    register, routing, reminders, letters = config.register, config.routing, config.reminders, config.customer_letters
    return Policy(
        prefix=register.reference_prefix,
        timezone=register.timezone,
        language=register.language,
        organisation=register.organisation,
        sender=config.smtp.sender,
        own_addresses=config.own_addresses,
        ack_rule=register.ack_deadline,
        answer_rule=register.answer_deadline,
        categories=tuple(CategoryRules(c.name, c.ack_deadline, c.answer_deadline) for c in config.categories),
        closed=register.closed_days(),
        handlers=routing.handlers,
        default_handler=routing.default,
        supervisor=routing.supervisor,
        trusted_authserv_ids=routing.trusted_authserv_ids,
        reminders=ReminderPolicy(
            reminders.before,
            reminders.escalation_every,
            reminders.late_after,
            reminders.digest_at,
            reminders.digest_days,
        ),
        letters=CustomerLetters(
            letters.status_changed, letters.deadline_changed, letters.follow_up_received, letters.ask_satisfaction
        ),
        mediator=config.mediator,
    )
