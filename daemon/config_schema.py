"""Every key of the TOML file: one table per section, key -> (value parser, default), and the reader of one section.

`config.parse_config` builds the typed sections from what `read_section` returns. A key that is unknown,
missing or badly written is a `ConfigError("section.key", problem)`, so the admin sees which line to fix.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable
from datetime import time, timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from daemon.core.commands.evaluation import CAUSE_CATEGORY_WORDS
from daemon.core.deadlines import DeadlineRule, keep_years, parse_duration, parse_rule
from daemon.core.mail import Address
from daemon.core.profiles import PROFILES
from daemon.core.reminders import parse_weekdays
from daemon.errors import ConfigError

__all__ = [
    "CATEGORY",
    "CAUSES",
    "CLIENT_SECRET_KEYS",
    "CUSTOMER_LETTERS",
    "DATABASE",
    "HANDLER",
    "HEALTH",
    "LIMITS",
    "MAILBOX",
    "MEDIATOR",
    "OAUTH",
    "OUTBOX",
    "REGISTER",
    "REMINDERS",
    "RETENTION",
    "ROUTING",
    "SECRET_KEYS",
    "SECTIONS",
    "SMTP",
    "STORAGE",
    "WEB",
    "WEB_USER",
    "Parser",
    "read_section",
    "read_secret",
]

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


def _identifiers(value: Any, path: str) -> tuple[str, ...]:
    """Words a command line or an export names things by: lower case, no spaces, at least one."""
    words = _list(value, path, _string)
    for word in words:
        if not re.fullmatch(r"[a-z][a-z0-9_-]{0,39}", word):
            raise ConfigError(path, f"{word!r}: use lower-case letters, digits, '-' or '_'")
    if not words:
        raise ConfigError(path, "at least one is needed")
    return words


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


def _optional_address(value: Any, path: str) -> Address | None:
    return _address(value, path) if _string(value, path).strip() else None


def _optional_duration(value: Any, path: str) -> timedelta | None:
    return _duration(value, path) if _string(value, path).strip() else None


def _prefix(value: Any, path: str) -> str:
    text = _string(value, path)
    if not (text.isascii() and text.isalnum() and text.isupper() and 1 <= len(text) <= 10):
        raise ConfigError(path, f"{text!r} must be 1 to 10 upper-case letters or digits, e.g. REC")
    return text


_SIZE_UNITS = {"b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3}


def _size(value: Any, path: str) -> int:
    """A size in bytes: 5000, or "500kB", "10MB", "1GB" (SI units, as the letters show sizes)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    text = _string(value, path).strip().lower().replace(" ", "")
    number = text.rstrip("kmgb")
    unit = text[len(number) :] or "b"
    if not number.isdigit() or unit not in _SIZE_UNITS:
        raise ConfigError(path, f'{value!r} is not a size like "10MB", "500kB" or 5000 (bytes)')
    return int(number) * _SIZE_UNITS[unit]


def _cause_category(value: Any, path: str) -> str:
    """A cause category as `#cause <category>: <text>` names it: non-empty, no colon, at most 3 words."""
    words = _string(value, path).split()
    if not words or ":" in value or len(words) > CAUSE_CATEGORY_WORDS:
        raise ConfigError(path, f"{value!r}: a cause category is 1 to 3 words without a colon")
    return " ".join(words)


def _language(value: Any, path: str) -> str:
    return _choice("fr", "en")(value, path)


def _listen(value: Any, path: str) -> tuple[str, int]:
    """ "127.0.0.1:8080", "[::1]:8080" or "0.0.0.0:8080": an address and a port, no name to resolve."""
    host, _, port = _string(value, path).rpartition(":")
    try:
        ipaddress.ip_address(host.strip("[]"))
        number = int(port)
    except ValueError:
        raise ConfigError(path, f'{value!r} is not an address and port like "127.0.0.1:8080"') from None
    if not 1 <= number <= 65535:
        raise ConfigError(path, f"port {number} is out of range 1..65535")
    return host.strip("[]"), number


def _network(value: Any, path: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(_string(value, path), strict=False)
    except ValueError:
        raise ConfigError(path, f"{value!r} is not an address or network like 127.0.0.1 or 10.0.0.0/8") from None


# scrypt$<n>$<r>$<p>$<salt>$<hash> (base64), as `complaintsd web hash-password` prints it (daemon/web/passwords.py).
_PASSWORD_HASH = re.compile(r"scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+")


def _password_hash(value: Any, path: str) -> str:
    text = _string(value, path).strip()
    if text and not _PASSWORD_HASH.fullmatch(text):
        raise ConfigError(path, "not a hash made by `complaintsd web hash-password` (never the password itself)")
    return text


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
    "auth": (_choice("password", "xoauth2"), "password"),
}
SMTP = {
    "host": (_string, "localhost"),
    "port": (_integer(1, 65535), 587),
    "tls": (_choice("ssl", "starttls", "none"), "starttls"),
    "username": (_string, ""),
    "from": (_address, None),
    "timeout": (_duration, "30s"),
    "auth": (_choice("password", "xoauth2"), "password"),
}
DATABASE = {"url": (_string, "sqlite:////var/lib/complaintsd/register.db")}
STORAGE = {"path": (_optional_path, "/var/lib/complaintsd/attachments")}
REGISTER = {
    "reference_prefix": (_prefix, "REC"),
    "language": (_language, "fr"),
    "templates": (_optional_path, ""),
    "timezone": (_timezone, "Europe/Paris"),
    "profile": (_choice(*PROFILES), "consumer"),
    "ack_deadline": (_rule, ""),  # unset: the profile's
    "answer_deadline": (_rule, ""),
    "organisation": (_string, ""),
    "holidays_country": (_string, "FR"),
    "holidays_subdivision": (_string, ""),
    "customer_types": (lambda v, p: _identifiers(v, p), ["customer", "trainee", "funder", "other"]),
}
MEDIATOR = {
    "name": (_string, ""),
    "website": (_string, ""),
    "address": (_string, ""),
    "phone": (_string, ""),
    "refer_after": (_rule, "2mo"),
}
OUTBOX = {
    "retry_first": (_duration, "30s"),
    "retry_max": (_duration, "1h"),
    "give_up_after": (_duration, "5d"),
    "batch_size": (_integer(1, 5000), 200),
    "connections": (_integer(1, 16), 3),
    "verp": (_boolean, False),
    "verp_delimiter": (_choice("+", "-"), "+"),
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
    "ask_satisfaction": (_boolean, True),
}
HANDLER: dict[str, tuple[Parser, Any]] = {
    "name": (_string, None),
    "email": (_address, None),
    "categories": (lambda v, p: _list(v, p, _string), []),
    "keywords": (lambda v, p: _list(v, p, _string), []),
    "sender_domains": (lambda v, p: _list(v, p, _string), []),
}
CATEGORY: dict[str, tuple[Parser, Any]] = {
    "ack_deadline": (_rule, ""),
    "answer_deadline": (_rule, ""),
    "keywords": (lambda v, p: _list(v, p, _string), []),
}
# What one correspondent can make the daemon do (issue 14): see config.example.toml for the harm each prevents.
LIMITS = {
    "automatic_mails_per_day": (_integer(1, 10_000), 5),
    "attachments_to_handler": (_size, "10MB"),
    "grouped_every": (_duration, "1h"),
}
CAUSES: dict[str, tuple[Parser, Any]] = {"categories": (lambda v, p: _list(v, p, _cause_category), [])}
# Who is told when the daemon itself needs a person (quarantined mail), and when (issue 11: no mail,
# the mailbox refusing our login, letters waiting): see config.example.toml.
HEALTH: dict[str, tuple[Parser, Any]] = {
    "admin": (_optional_address, ""),
    "no_mail_after": (_optional_duration, "24h"),
    "outbox_age": (_optional_duration, "1h"),
}
# The web view (`complaintsd web`, daemon/web/). `users` is read apart: a list of [[web.users]] tables.
WEB: dict[str, tuple[Parser, Any]] = {
    "listen": (lambda v, p: _listen(v, p), "127.0.0.1:8080"),
    "secret_key_file": (_optional_path, "/var/lib/complaintsd/web-secret-key"),
    "trusted_user_header": (_string, ""),
    "trusted_proxies": (lambda v, p: _list(v, p, _network), []),
    "session_lifetime": (_duration, "8h"),
}
WEB_USER: dict[str, tuple[Parser, Any]] = {
    "name": (_string, None),
    "role": (_choice("supervisor", "auditor", "handler"), None),
    "password_hash": (lambda v, p: _password_hash(v, p), ""),
}
SECRET_KEYS = ("password", "password_env", "password_file")
# XOAUTH2 for the mailbox and the relay (`auth = "xoauth2"`): the application registered with the
# provider, and where its tokens are kept. A table of its own, so that any mailbox can name one.
OAUTH: dict[str, tuple[Parser, Any]] = {
    "provider": (_choice("microsoft", "google", "generic"), None),
    "flow": (_choice("device_code", "client_credentials", "authorization_code"), "device_code"),
    "tenant": (_string, ""),
    "client_id": (_string, None),
    "scopes": (lambda v, p: _list(v, p, _string), []),
    "token_file": (_optional_path, "/var/lib/complaintsd/oauth-token.json"),
    "token_url": (_string, ""),
    "device_code_url": (_string, ""),
    "authority": (_string, ""),
    "warn_before": (_duration, "7d"),
}
CLIENT_SECRET_KEYS = ("client_secret", "client_secret_env", "client_secret_file")


def _retention(value: Any, path: str) -> int:
    try:
        return keep_years(_string(value, path))
    except ValueError as exc:
        raise ConfigError(path, str(exc)) from None


RETENTION = {
    "keep": (_retention, "5y"),
    "pseudonym_key_file": (_optional_path, "/var/lib/complaintsd/pseudonym-key"),
}
SECTIONS = {
    "retention": RETENTION,
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
    "causes": CAUSES,
    "customer_letters": CUSTOMER_LETTERS,
    "limits": LIMITS,
    "health": HEALTH,
    "web": WEB,
    "oauth": OAUTH,
}


def read_section(data: dict[str, Any], name: str, schema: dict, secrets: bool = False) -> dict[str, Any]:
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
        _refuse_cleartext(values, name)
        values["password"] = read_secret(table, name)
    return values


LOOPBACK_NAMES = ("localhost", "localhost.", "ip6-localhost", "ip6-loopback")


def _is_loopback(host: str) -> bool:
    """Only a name that means this machine, or a loopback address: a name resolving to 127.0.0.1 today
    may not tomorrow, so resolution is not asked."""
    if host.lower() in LOOPBACK_NAMES or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _refuse_cleartext(values: dict[str, Any], name: str) -> None:
    """`tls = "none"` sends the password (and every complaint) in clear: only to this very machine."""
    host = values.get("host", "")
    if values.get("kind") == "maildir" or values.get("tls") != "none" or not host:
        return
    if not _is_loopback(host):
        raise ConfigError(
            f"{name}.tls",
            f'"none" sends the password and the mail in clear: only allowed for a loopback host '
            f'(127.0.0.1, ::1, localhost), not {host}; use "ssl" or "starttls"',
        )


def read_secret(table: dict[str, Any], name: str, keys: tuple[str, str, str] = SECRET_KEYS) -> str:
    """A secret given inline, by environment variable, or by file (systemd credentials): `keys` are its
    three spellings (password, password_env, password_file)."""
    given = [key for key in keys if table.get(key)]
    if len(given) > 1:
        raise ConfigError(f"{name}.{given[1]}", f"give only one of {', '.join(keys)}")
    if not given:
        return ""
    key = given[0]
    value = _string(table[key], f"{name}.{key}")
    if key == keys[0]:
        return value
    if key == keys[1]:
        if value not in os.environ:
            raise ConfigError(f"{name}.{key}", f"environment variable {value} is not set")
        return os.environ[value]
    path = Path(value)
    if not path.is_absolute() and os.environ.get("CREDENTIALS_DIRECTORY"):
        path = Path(os.environ["CREDENTIALS_DIRECTORY"]) / path
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{name}.{key}", f"cannot read {path}: {exc.strerror}") from None
