"""Read the one TOML file into typed, frozen sections, once, at start-up.

Each stage receives only its section (as h11 receives its constructor arguments), never a global.
Every key is declared in one table per section with its parser and default (`config_schema.py`), so
an unknown key or a bad value is reported as `ConfigError("section.key", problem)`: the admin sees
which line to fix.
Several complaint addresses (`[[registers]]`, README "Several complaint addresses") are read as
one `Config` each: a register's own tables over the top level's, the shared sections (database,
storage, outbox, web, retention) only at the top; `Config.registers` holds them all.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
from datetime import time, timedelta
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from daemon.config_schema import (
    CATEGORY,
    CAUSES,
    CLIENT_SECRET_KEYS,
    CUSTOMER_LETTERS,
    DATABASE,
    HANDLER,
    HEALTH,
    LIMITS,
    MAILBOX,
    MEDIATOR,
    OAUTH,
    OUTBOX,
    REGISTER,
    REMINDERS,
    RETENTION,
    ROUTING,
    SECRET_KEYS,
    SECTIONS,
    SMTP,
    STORAGE,
    WEB,
    WEB_USER,
    Parser,
    read_secret,
    read_section,
)
from daemon.core.deadlines import ClosedDays, DeadlineRule, Unit, holiday_calendar
from daemon.core.mail import Address
from daemon.core.policy import CategoryRules, CustomerLetters, HealthWatch, Mediator, Policy, ReminderPolicy
from daemon.core.profiles import PROFILES, Profile
from daemon.core.routing import Handler, fold, keywords_of
from daemon.errors import ConfigError

__all__ = [
    "CategoryDeadlines",
    "Config",
    "CustomerLettersConfig",
    "DatabaseConfig",
    "LimitsConfig",
    "MailboxConfig",
    "OAuthConfig",
    "OutboxConfig",
    "Parser",
    "RegisterConfig",
    "RemindersConfig",
    "RoutingConfig",
    "SmtpConfig",
    "StorageConfig",
    "WebConfig",
    "WebUser",
    "load_config",
    "parse_config",
    "policy_of",
]

# --------------------------------------------------------------------------- sections

# What each provider needs unless the config says otherwise (README, "Microsoft 365 and Gmail").
OAUTH_DEFAULT_FLOW = {"microsoft": "device_code", "google": "authorization_code", "generic": "device_code"}
OAUTH_FLOWS = {
    "microsoft": ("device_code", "client_credentials"),
    "google": ("authorization_code",),
    "generic": ("device_code", "client_credentials", "authorization_code"),
}
MICROSOFT_SCOPES = {
    "device_code": ("https://outlook.office365.com/IMAP.AccessAsUser.All", "https://outlook.office365.com/SMTP.Send"),
    "client_credentials": ("https://outlook.office365.com/.default",),
}
GOOGLE_SCOPES = ("https://mail.google.com/",)
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
GOOGLE_AUTH_URL = "https://accounts.google.com/o/oauth2/auth"


@dataclass(frozen=True)
class OAuthConfig:
    """`[oauth]`: the application registered with the provider, the flow that obtains the first token
    (`complaintsd auth login`), and the file the tokens are kept in (0600)."""

    provider: str  # microsoft | google | generic
    flow: str  # device_code | client_credentials | authorization_code
    client_id: str
    client_secret: str
    scopes: tuple[str, ...]
    token_file: Path
    tenant: str = ""
    token_url: str = ""  # generic, google (default Google's); tests point it at a local endpoint
    device_code_url: str = ""
    authority: str = ""  # microsoft: https://login.microsoftonline.com/<tenant> unless given
    warn_before: timedelta = timedelta(days=7)  # a refresh token ending sooner: a health alert


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
    auth: str = "password"  # or "xoauth2", with `oauth`
    oauth: OAuthConfig | None = None


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    tls: str
    username: str
    password: str
    sender: Address
    timeout: timedelta
    auth: str = "password"
    oauth: OAuthConfig | None = None


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
    customer_types: tuple[str, ...] = ("customer", "trainee", "funder", "other")
    profile: str = "consumer"  # a key of core.profiles.PROFILES

    def closed_days(self) -> ClosedDays:
        """The public-holiday calendar business-day deadlines skip."""
        return holiday_calendar(self.holidays_country, self.holidays_subdivision or None)


@dataclass(frozen=True)
class CategoryDeadlines:
    """A category (`[categories.<name>]`): its own deadline rules, and the keywords that give it to a
    new complaint at intake."""

    name: str
    ack_deadline: DeadlineRule | None
    answer_deadline: DeadlineRule | None
    keywords: tuple[str, ...] = ()


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
    connections: int = 3  # Microsoft 365 takes 3 at once from a mailbox (README, "[outbox] connections")
    verp: bool = False  # each letter's return path names it (core/verp.py); needs `+` addressing
    verp_delimiter: str = "+"


@dataclass(frozen=True)
class LimitsConfig:
    """What one correspondent can make the daemon do (`[limits]`, issue 14)."""

    automatic_mails_per_day: int
    attachments_to_handler: int  # bytes: beyond this a handler's mail lists the files instead
    grouped_every: timedelta = timedelta(hours=1)  # past the cap, how often a handler gets the grouped mail


@dataclass(frozen=True)
class HealthConfig:
    """What the daemon says about its own health, and to whom (`[health]`)."""

    admin: Address  # told of quarantined mail; `[routing] supervisor` when not set
    no_mail_after: timedelta | None = None  # of working days without mail: an alert (None: never)
    outbox_age: timedelta | None = None  # the outbox's oldest letter waiting that long: an alert


@dataclass(frozen=True)
class WebUser:
    """Someone who may open the web view; a handler's `name` is their address in [[handlers]]."""

    name: str
    role: str  # supervisor | auditor | handler
    password_hash: str = ""  # empty: known only through the trusted proxy's header


@dataclass(frozen=True)
class WebConfig:
    """`[web]`: where `complaintsd web` listens and who may log in (README, "The web view")."""

    host: str = "127.0.0.1"
    port: int = 8080
    secret_key_file: Path | None = None
    trusted_user_header: str = ""
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()
    session_lifetime: timedelta = timedelta(hours=8)
    users: tuple[WebUser, ...] = ()

    def user(self, name: str) -> WebUser | None:
        wanted = name.strip().lower()
        return next((u for u in self.users if u.name.lower() == wanted), None)


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
    limits: LimitsConfig
    health: HealthConfig
    categories: tuple[CategoryDeadlines, ...] = ()
    cause_categories: tuple[str, ...] = ()  # [causes] categories
    web: WebConfig = WebConfig()
    source: Path | None = None
    refer_after: DeadlineRule = DeadlineRule(2, Unit.MONTHS)  # [mediator] refer_after
    retention_years: int = 5  # [retention] keep: complaints closed longer ago lose their personal data
    oauth: OAuthConfig | None = None  # [oauth]: what `complaintsd auth login` obtains a token for
    pseudonym_key_file: Path | None = None  # [retention] pseudonym_key_file: the key of `erase`'s pseudonyms
    name: str = ""  # the register's name in [[registers]]; "" for a config of one register
    registers: tuple[Config, ...] = ()  # every [[registers]] entry, this one first; () for one register
    fellow_addresses: frozenset[str] = frozenset()  # the other registers' own addresses (loop safety)

    @property
    def each(self) -> tuple[Config, ...]:
        """Every register this config runs: its [[registers]], or itself alone."""
        return self.registers or (self,)

    def named(self, name: str | None) -> Config:
        """The register called `name` (`--register NAME`); None: this config as a whole."""
        if name is None:
            return self
        found = next((r for r in self.registers if r.name == name.strip()), None)
        if found is None:
            known = ", ".join(r.name for r in self.registers) or "none: the config has no [[registers]]"
            raise ConfigError("--register", f"no register named {name!r} (known: {known})")
        return found

    def for_reference(self, reference: str) -> Config:
        """The register a complaint belongs to, known from its reference's prefix (REC-2026-0001)."""
        prefix = reference.strip().upper().split("-", 1)[0]
        return next((r for r in self.registers if r.register.reference_prefix == prefix), self)

    @property
    def profile(self) -> Profile:
        return PROFILES[self.register.profile]

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
        return frozenset(mine) | self.fellow_addresses


# --------------------------------------------------------------------------- reading


def parse_config(data: dict[str, Any], source: Path | None = None) -> Config:
    for name in data:
        if name not in SECTIONS and name != "registers":
            raise ConfigError(name, f"unknown section (known: {', '.join(SECTIONS)}, registers)")
    if "registers" in data:
        return _several(data, source)
    return _one(data, source)


def _one(data: dict[str, Any], source: Path | None) -> Config:
    mailbox = read_section(data, "mailbox", MAILBOX, secrets=True)
    smtp = read_section(data, "smtp", SMTP, secrets=True)
    register = read_section(data, "register", REGISTER)
    mediator = read_section(data, "mediator", MEDIATOR)
    retention = read_section(data, "retention", RETENTION)
    _check_mailbox(mailbox)
    _check_holidays(register)
    _profile_defaults(register)
    refer_after = mediator.pop("refer_after")
    if refer_after is None:
        raise ConfigError("mediator.refer_after", "must not be empty (default '2mo')")
    if PROFILES[register["profile"]].needs_mediator and not mediator["name"]:
        raise ConfigError(
            "mediator.name",
            f"required by profile {register['profile']!r} ({PROFILES[register['profile']].source}: the "
            "mediator's contact goes in every answer that does not grant the request in full)",
        )
    smtp["sender"] = smtp.pop("from")
    oauth = oauth_of(data["oauth"], "oauth") if "oauth" in data else None
    _oauth_for(oauth, mailbox, "mailbox")
    _oauth_for(oauth, smtp, "smtp")
    routing = _routing(data)
    if not register["organisation"]:
        register["organisation"] = smtp["sender"].name or smtp["sender"].email
    return Config(
        mailbox=MailboxConfig(**mailbox),
        smtp=SmtpConfig(**smtp),
        database=DatabaseConfig(**read_section(data, "database", DATABASE)),
        storage=StorageConfig(**read_section(data, "storage", STORAGE)),
        register=RegisterConfig(**register),
        mediator=Mediator(**mediator) if "mediator" in data and mediator["name"] else None,
        outbox=OutboxConfig(**read_section(data, "outbox", OUTBOX)),
        routing=routing,
        reminders=RemindersConfig(**read_section(data, "reminders", REMINDERS)),
        customer_letters=CustomerLettersConfig(**read_section(data, "customer_letters", CUSTOMER_LETTERS)),
        limits=LimitsConfig(**read_section(data, "limits", LIMITS)),
        health=_health(data, routing.supervisor),
        categories=_categories(data),
        cause_categories=read_section(data, "causes", CAUSES)["categories"],
        web=_web(data, routing),
        source=source,
        refer_after=refer_after,
        retention_years=retention["keep"],
        pseudonym_key_file=retention["pseudonym_key_file"],
        oauth=oauth,
    )


def _oauth_for(oauth: OAuthConfig | None, section: dict[str, Any], name: str) -> None:
    """`auth = "xoauth2"` needs the `[oauth]` table; a password beside it would never be used."""
    if section["auth"] != "xoauth2":
        return
    if section.get("kind") == "maildir":
        raise ConfigError(f"{name}.auth", '"xoauth2" is for an IMAP mailbox, not a Maildir')
    if section["password"]:
        raise ConfigError(f"{name}.auth", '"xoauth2" logs in with a token: remove the password')
    if not section["username"]:
        raise ConfigError(f"{name}.username", 'required when auth = "xoauth2" (the mailbox\'s address)')
    if oauth is None:
        raise ConfigError("oauth", f'an [oauth] table is required when {name}.auth = "xoauth2"')
    section["oauth"] = oauth


def oauth_of(table: Any, path: str) -> OAuthConfig:
    """Read one OAuth table (`[oauth]`, or any mailbox's own) with the provider's defaults filled in."""
    if not isinstance(table, dict):
        raise ConfigError(path, f"expected a table like [{path}]")
    plain = {key: value for key, value in table.items() if key not in CLIENT_SECRET_KEYS}
    values = read_section({path: plain}, path, OAUTH)
    secret = read_secret(table, path, CLIENT_SECRET_KEYS)
    provider = values["provider"]
    flow = table.get("flow") and values["flow"] or OAUTH_DEFAULT_FLOW[provider]
    if flow not in OAUTH_FLOWS[provider]:
        raise ConfigError(f"{path}.flow", f"{flow!r}: {provider} offers {', '.join(OAUTH_FLOWS[provider])}")
    if values["token_file"] is None:
        raise ConfigError(f"{path}.token_file", "must not be empty")
    scopes = values["scopes"]
    if provider == "microsoft":
        if not values["tenant"]:
            raise ConfigError(f"{path}.tenant", "required for microsoft (the directory's ID or domain)")
        scopes = scopes or MICROSOFT_SCOPES[flow]
    elif provider == "google":
        scopes = scopes or GOOGLE_SCOPES
        values["token_url"] = values["token_url"] or GOOGLE_TOKEN_URL
        values["device_code_url"] = values["device_code_url"] or GOOGLE_AUTH_URL
    else:
        if not values["token_url"]:
            raise ConfigError(f"{path}.token_url", "required for provider generic")
        if flow in ("device_code", "authorization_code") and not values["device_code_url"]:
            raise ConfigError(f"{path}.device_code_url", f"required for flow {flow} (where the login starts)")
    if flow in ("client_credentials", "authorization_code") and not secret:
        raise ConfigError(f"{path}.client_secret_file", f"flow {flow} needs the application's secret")
    if not scopes:
        raise ConfigError(f"{path}.scopes", "at least one scope is needed")
    return OAuthConfig(
        provider=provider,
        flow=flow,
        client_id=values["client_id"],
        client_secret=secret,
        scopes=tuple(scopes),
        token_file=values["token_file"],
        tenant=values["tenant"],
        token_url=values["token_url"],
        device_code_url=values["device_code_url"],
        authority=values["authority"],
        warn_before=values["warn_before"],
    )


# What a [[registers]] entry may hold (its own or inherited from the top level), and what all share.
REGISTER_TABLES = (
    "mailbox",
    "smtp",
    "register",
    "mediator",
    "handlers",
    "routing",
    "reminders",
    "categories",
    "causes",
    "customer_letters",
    "limits",
    "health",
    "oauth",  # each mailbox its own token ([registers.oauth] token_file), the app's settings inherited
)
SHARED_TABLES = ("database", "storage", "outbox", "web", "retention")


def _several(data: dict[str, Any], source: Path | None) -> Config:
    """`[[registers]]`: one Config per entry, the first one carrying them all (module docstring)."""
    entries = data["registers"]
    if not isinstance(entries, list) or not entries:
        raise ConfigError("registers", "expected [[registers]] tables (name, and a register's own tables)")
    top = {key: value for key, value in data.items() if key not in ("registers", "web")}
    found = [_entry(top, entry, f"registers[{index}]", source) for index, entry in enumerate(entries)]
    _check_distinct(found)
    everyone = [handler for config in found for handler in config.routing.handlers]
    web = _web(data, RoutingConfig(tuple(everyone), everyone[0], found[0].routing.supervisor))
    registers = tuple(
        replace(
            config,
            web=web,
            fellow_addresses=frozenset().union(*(other.own_addresses for other in found if other is not config)),
        )
        for config in found
    )
    return replace(registers[0], registers=registers)


def _entry(top: dict[str, Any], entry: Any, path: str, source: Path | None) -> Config:
    """One register: its tables over the top level's, key by key (a list of tables, like
    [[registers.handlers]], or [registers.categories] replaces the top level's whole)."""
    if not isinstance(entry, dict):
        raise ConfigError(path, "expected a [[registers]] table")
    name = entry.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_-]{0,39}", name):
        raise ConfigError(f"{path}.name", "required: lower-case letters, digits, '-' or '_' (e.g. brand-a)")
    for key, value in entry.items():
        if key in SHARED_TABLES:
            raise ConfigError(f"{path}.{key}", f"shared by every register: set [{key}] at the top level")
        if key != "name" and key not in REGISTER_TABLES:
            raise ConfigError(f"{path}.{key}", f"unknown key (known: name, {', '.join(REGISTER_TABLES)})")
        if key == "smtp" and isinstance(value, dict) and set(value) - {"from"}:
            extra = sorted(set(value) - {"from"})[0]
            raise ConfigError(f"{path}.smtp.{extra}", "the relay is shared: a register gives only its smtp.from")
    merged = dict(top)
    for key, value in entry.items():
        if key == "name":
            continue
        below = top.get(key)
        if isinstance(value, dict) and isinstance(below, dict) and key != "categories":
            if key == "mailbox" and any(secret in value for secret in SECRET_KEYS):
                below = {k: v for k, v in below.items() if k not in SECRET_KEYS}
            value = {**below, **value}
        merged[key] = value
    try:
        return replace(_one(merged, source), name=name)
    except ConfigError as exc:
        section = re.split(r"[.\[]", exc.path, maxsplit=1)[0]
        if section in entry or section not in top:
            raise ConfigError(f"{path}.{exc.path}", exc.problem) from None
        raise


def _check_distinct(registers: list[Config]) -> None:
    """Two registers never share a name, a reference prefix (references would collide, and a
    complaint's register is known by its prefix) or a mailbox (both would take the same mail)."""
    for index, config in enumerate(registers):
        earlier = registers[:index]
        if any(other.name == config.name for other in earlier):
            raise ConfigError(f"registers[{index}].name", f"{config.name!r} is used by another register")
        prefix = config.register.reference_prefix
        if any(other.register.reference_prefix == prefix for other in earlier):
            raise ConfigError(
                f"registers[{index}].register.reference_prefix",
                f"{prefix!r} is another register's: each register numbers its complaints with its own prefix",
            )
        if any(_mailbox_key(other.mailbox) == _mailbox_key(config.mailbox) for other in earlier):
            raise ConfigError(f"registers[{index}].mailbox", "the same mailbox as another register's")
        if config.mailbox.oauth and any(
            other.mailbox.oauth and other.mailbox.oauth.token_file == config.mailbox.oauth.token_file
            for other in earlier
        ):
            raise ConfigError(
                f"registers[{index}].oauth.token_file", "another mailbox's token: give each mailbox its own file"
            )


def _mailbox_key(mailbox: MailboxConfig) -> tuple[object, ...]:
    if mailbox.kind == "maildir":
        return (mailbox.kind, mailbox.path and mailbox.path.resolve())
    return (mailbox.kind, mailbox.host.lower(), mailbox.port, mailbox.username.lower(), mailbox.folder)


def _profile_defaults(register: dict[str, Any]) -> None:
    """An unset (or empty) `ack_deadline` / `answer_deadline` takes the profile's; one set wins."""
    profile = PROFILES[register["profile"]]
    if register["ack_deadline"] is None:
        register["ack_deadline"] = profile.ack_deadline
    if register["answer_deadline"] is None:
        register["answer_deadline"] = profile.answer_deadline


def _routing(data: dict[str, Any]) -> RoutingConfig:
    """[[handlers]] and [routing]: every complaint must reach exactly one designated handler."""
    tables = data.get("handlers")
    if not isinstance(tables, list) or not tables:
        raise ConfigError("handlers", "at least one [[handlers]] table (name, email) is required")
    handlers: list[Handler] = []
    for index, table in enumerate(tables):
        values = read_section({f"handlers[{index}]": table}, f"handlers[{index}]", HANDLER)
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
    routing = read_section(data, "routing", ROUTING)
    config = RoutingConfig(tuple(handlers), handlers[0], routing["supervisor"])
    default = config.handler(routing["default_handler"])
    if default is None:
        known = ", ".join(h.email for h in handlers)
        raise ConfigError(
            "routing.default_handler", f"{routing['default_handler']!r} is not one of the [[handlers]] ({known})"
        )
    trusted = frozenset(a.lower() for a in routing["trusted_authserv_id"])
    return RoutingConfig(config.handlers, default, config.supervisor, trusted)


def _health(data: dict[str, Any], supervisor: Address) -> HealthConfig:
    health = read_section(data, "health", HEALTH)
    return HealthConfig(health["admin"] or supervisor, health["no_mail_after"], health["outbox_age"])


def _web(data: dict[str, Any], routing: RoutingConfig) -> WebConfig:
    """[web] and its [[web.users]]: each name once; a handler's name must be a handler's address."""
    table = data.get("web", {})
    if not isinstance(table, dict):
        raise ConfigError("web", "expected a table like [web]")
    tables = table.get("users", [])
    if not isinstance(tables, list):
        raise ConfigError("web.users", "expected [[web.users]] tables (name, role, password_hash)")
    values = read_section({"web": {k: v for k, v in table.items() if k != "users"}}, "web", WEB)
    users: list[WebUser] = []
    for index, user_table in enumerate(tables):
        path = f"web.users[{index}]"
        user = WebUser(**read_section({path: user_table}, path, WEB_USER))
        if any(u.name.lower() == user.name.lower() for u in users):
            raise ConfigError(f"{path}.name", f"{user.name} is listed twice")
        if user.role == "handler" and routing.handler(user.name) is None:
            known = ", ".join(h.email for h in routing.handlers)
            raise ConfigError(f"{path}.name", f"a handler logs in with their address in [[handlers]] ({known})")
        users.append(replace(user, name=user.name.strip().lower()) if user.role == "handler" else user)
    if values["trusted_user_header"] and not values["trusted_proxies"]:
        raise ConfigError("web.trusted_proxies", "the addresses of the proxies whose header is believed are needed")
    host, port = values.pop("listen")
    return WebConfig(host, port, users=tuple(users), **values)


def _categories(data: dict[str, Any]) -> tuple[CategoryDeadlines, ...]:
    tables = data.get("categories", {})
    if not isinstance(tables, dict):
        raise ConfigError("categories", "expected tables like [categories.facturation]")
    found = []
    for name, table in tables.items():
        values = read_section({f"categories.{name}": table}, f"categories.{name}", CATEGORY)
        try:
            keywords = keywords_of(f"category {name}", values["keywords"])
        except ValueError as exc:
            raise ConfigError(f"categories.{name}.keywords", str(exc)) from None
        found.append(CategoryDeadlines(name, values["ack_deadline"], values["answer_deadline"], keywords))
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
        categories=tuple(
            CategoryRules(c.name, c.ack_deadline, c.answer_deadline, c.keywords) for c in config.categories
        ),
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
        attach_limit=config.limits.attachments_to_handler,
        automatic_mails_per_day=config.limits.automatic_mails_per_day,
        grouped_every=config.limits.grouped_every,
        cause_categories=config.cause_categories,
        admin=config.health.admin,
        refer_after=config.refer_after,
        health=HealthWatch(config.health.no_mail_after, config.health.outbox_age),
        verp_delimiter=config.outbox.verp_delimiter,
    )
