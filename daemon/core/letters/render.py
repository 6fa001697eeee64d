"""Rendering letters: every text a person reads comes out of a template, through this module.

Its sole purpose in life is to turn a template name and plain values into a `Letter` (subject, plain
text, HTML). It sends nothing, reads no clock and touches the disk only to load templates. It also
holds what the letters to customers (`to_customers.py`) and to staff (`to_staff.py`,
`command_replies.py`) share: the values several letters show (`ComplaintSummary`, `AttachmentLine`,
`Mediator`, `HistoryLine`), the checks their facts run, and the command token every letter to a
handler ends its subject with.

Theory of operation
-------------------
A letter named `acknowledgement` is three Jinja2 files in a language directory:
`acknowledgement.subject.j2`, `acknowledgement.txt.j2` and `acknowledgement.html.j2`. The built-in
directories are `templates/<language>/` (installed as `daemon/_templates/<language>/`). An admin may
name an override directory in the config: a file there with the same name wins over the built-in
one, file by file, so changing one subject does not mean copying every letter. The override
directory is flat (it holds the files for the configured language, not language sub-directories).
Every HTML letter extends one layout, `_layout.html.j2`, and the letters import `_blocks.*.j2` and
`_labels.j2`, all by name through the same search path: a letter overridden alone still finds the
built-in layout and blocks, and an overridden `_layout.html.j2` restyles every HTML letter.

Safety first: HTML templates are autoescaped, because the customer writes the subject and the
attachment names (a subject of `<script>` must arrive as text); text and subject templates are not.
Undefined variables raise (`StrictUndefined`), so a typo in an admin's template fails at `check`
time or in tests, never as a blank in a customer's letter. The subject is folded to one line, so no
value can inject a header.

Dates are formatted by Babel in the letter's language, after conversion to the register's timezone:
`date` gives "lundi 7 décembre 2026" / "Monday, December 7, 2026", `datetime` adds the time
("… à 14:05" / "… at 2:05 PM"), `size` gives "50 ko" / "50 kB" (SI units, 1 ko = 1000 octets).

A handler's letters carry the per-complaint command token at the end of the subject, as
`[jeton:TOKEN]` (French) or `[token:TOKEN]` (English): a reply keeps the subject, so the token comes
back with the handler's commands (docs/design.md, "Commands by email"). Because commands stop working
without it, `with_token` refuses a subject that does not end with the marker: an override that drops
it fails in `check` and in tests, not silently in production. `find_token` reads it back.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time, format_timedelta
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape
from markupsafe import Markup, escape

from daemon.core.lifecycle import Status
from daemon.core.policy import Mediator
from daemon.core.reminders import DeadlineKind
from daemon.core.tokens import SUBJECT_MARKER, find_token

__all__ = [
    "TOKEN_MARKER",
    "AttachmentLine",
    "ComplaintSummary",
    "HistoryLine",
    "Letter",
    "Mediator",
    "Templates",
    "available_languages",
    "builtin_templates_dir",
    "find_token",
]

# CLDR's "atTime" date-time patterns ({1} = date, {0} = time). Babel 2.18 ships only the plain
# "{1}, {0}" pattern, which reads badly in a sentence ("reçue le lundi 7 décembre 2026, 14:05").
_AT_TIME = {"fr": "{1} à {0}", "en": "{1} at {0}"}

# File size units, SI (powers of 1000), in the words each language uses.
_SIZE_UNITS = {
    "fr": ("octets", "ko", "Mo", "Go", "To"),
    "en": ("bytes", "kB", "MB", "GB", "TB"),
}
_BYTE_SINGULAR = {"fr": "octet", "en": "byte"}

_PARTS = ("subject", "txt", "html")

# How many formatted dates and times a `Templates` keeps (a few days of letters' worth).
_SHOWN_MAX = 4096

# The register's time zone when none is given (the French registers this was written for).
_PARIS = ZoneInfo("Europe/Paris")

# The command token as the subjects carry it: "[jeton:Ab3x…]" or "[token:Ab3x…]". Tokens are
# URL-safe Base64 (secrets.token_urlsafe), so no bracket, space or colon can cut them.
TOKEN_MARKER = SUBJECT_MARKER  # tokens.py owns the marker's grammar
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
_MARKER_AT_END = re.compile(TOKEN_MARKER.pattern + r"$", re.IGNORECASE)


# --- checks the facts run -------------------------------------------------------------------------


def require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, not {value!r}")


def require_text(what: str, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} cannot be empty")


def require_token(token: str) -> None:
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        raise ValueError(f"a command token is URL-safe Base64 (letters, digits, '-' and '_'), not {token!r}")


def one_line(text: str) -> str:
    return " ".join(text.split())


# What a letter repeats of a customer's words (subject, name) is cut here: a 200 kB subject, a spam
# URL or a terminal escape must not travel on in our mail (issue 14, item 1).
ECHO_LIMIT = 300
_NOT_SHOWN = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


def echo(text: str, limit: int = ECHO_LIMIT) -> str:
    """A customer's words as a letter may repeat them: one line, without control or bidi-override
    characters, at most `limit` characters (cut with "…")."""
    text = " ".join(_NOT_SHOWN.sub(" ", text[: limit * 4]).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def plain(text: str) -> str:
    """The handler's or customer's text, as written, without stray blank lines around it."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def usable_name(name: str, email: str) -> str:
    """A display name that is an address (or the address itself) reads worse than "Madame, Monsieur"."""
    name = echo(name, 100)
    if not name or "@" in name or name.casefold() == email.strip().casefold():
        return ""
    return name


# --- values several letters show ------------------------------------------------------------------


@dataclass(frozen=True)
class Letter:
    """One rendered letter: a one-line subject, a plain-text body and an HTML body."""

    subject: str
    text: str
    html: str

    def __post_init__(self) -> None:
        if not self.subject or "\n" in self.subject or "\r" in self.subject:
            raise ValueError(f"a letter's subject must be one non-empty line, not {self.subject!r}")


@dataclass(frozen=True)
class AttachmentLine:
    filename: str
    size: int  # bytes

    def __post_init__(self) -> None:
        if self.size < 0:
            raise ValueError(f"attachment size cannot be negative: {self.size}")


def attachment_lines(value: Any) -> tuple[AttachmentLine, ...]:
    items = tuple(value)
    if not all(isinstance(item, AttachmentLine) for item in items):
        raise ValueError(f"attachments are AttachmentLine values, not {items!r}")
    return items


@dataclass(frozen=True)
class ComplaintSummary:
    """What every letter about a complaint says of it. `subject` and `customer_name` are the
    customer's, untrusted; `customer_name` may be empty."""

    reference: str
    status: Status
    customer_name: str
    customer_email: str
    subject: str
    received_at: datetime
    ack_due_at: datetime
    answer_due_at: datetime
    # core/priority.py: "urgent", "high", "normal" or "low"; None until the severity is set.
    priority: str | None = None

    def __post_init__(self) -> None:
        require_text("a complaint's reference", self.reference)
        object.__setattr__(self, "status", Status(self.status))
        for name in ("received_at", "ack_due_at", "answer_due_at"):
            require_aware(name, getattr(self, name))

    def due_at(self, deadline: DeadlineKind) -> datetime:
        """The instant `deadline` (acknowledgement or answer) falls due."""
        return self.ack_due_at if DeadlineKind(deadline) is DeadlineKind.ACK else self.answer_due_at


@dataclass(frozen=True)
class HistoryLine:
    """One entry of a complaint's history, as the register words it; `detail` may be empty or multi-line."""

    at: datetime
    event: str
    detail: str = ""

    def __post_init__(self) -> None:
        require_aware("a history line's time", self.at)
        require_text("a history line's event", self.event)


def clean_summary(complaint: ComplaintSummary) -> ComplaintSummary:
    """The summary as a letter shows it: what the customer wrote may hold line breaks or be an
    address posing as a name. The same summary when neither changes (the usual case: a new one
    runs every check of its constructor again)."""
    subject = echo(complaint.subject)
    customer_name = usable_name(complaint.customer_name, complaint.customer_email)
    if subject == complaint.subject and customer_name == complaint.customer_name:
        return complaint
    return replace(complaint, subject=subject, customer_name=customer_name)


def facts_context(facts: Any) -> dict[str, Any]:
    """Every field of a facts dataclass, by name: what its templates see before adjustments."""
    names = _FIELD_NAMES.get(type(facts))
    if names is None:
        names = _FIELD_NAMES[type(facts)] = tuple(f.name for f in fields(facts))
    return {name: getattr(facts, name) for name in names}


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}  # each facts type's fields, by name


# --- templates ------------------------------------------------------------------------------------


def builtin_templates_dir() -> Path:
    """`daemon/_templates` in an installed wheel, else the repository's top-level `templates/`."""
    here = Path(__file__).resolve().parents[2]  # the daemon package
    packaged = here / "_templates"
    if packaged.is_dir():
        return packaged
    return here.parent / "templates"


def available_languages(root: Path | None = None) -> tuple[str, ...]:
    """The languages with built-in templates: the directories of `root` that hold `*.j2` files."""
    root = root or builtin_templates_dir()
    if not root.is_dir():
        return ()
    return tuple(sorted(p.name for p in root.iterdir() if p.is_dir() and any(p.glob("*.j2"))))


_BLANK_RUNS = re.compile(r"\n{3,}")


def _tidy_text(text: str) -> str:
    # Admin templates are easier to write when stray spaces and blank lines do not matter:
    # trailing spaces go, runs of blank lines become one, and the body ends with one newline.
    text = "\n".join(map(str.rstrip, text.splitlines()))
    if "\n\n\n" in text:
        text = _BLANK_RUNS.sub("\n\n", text)
    return text.strip("\n") + "\n"


def _nl2br(value: str) -> Markup:
    """Escape a multi-line value (e.g. a postal address) and keep its line breaks in HTML."""
    return Markup("<br>\n").join(escape(line) for line in str(value).splitlines())


@lru_cache(maxsize=4096)
def _full_date(day: date, locale: str) -> str:
    """Babel's full date, remembered: every letter shows a few dates and Babel's formatting was a
    third of rendering one."""
    return format_date(day, format="full", locale=locale)


@lru_cache(maxsize=4096)
def _short_time(hour: int, minute: int, locale: str) -> str:
    return format_time(time(hour, minute), format="short", locale=locale).replace("\u202f", " ")


# A value a filter wrote, as `Templates` remembers it: the filter, the value and its fold. Two
# aware datetimes of one zone compare (and hash) by their wall time, fold aside: the two instants of
# an hour repeated in autumn would share a text, shown in another zone. A naive datetime is never
# equal to an aware one, so it misses and `_local` refuses it.
_Shown = tuple[str, date | datetime | int, int]


def _shown_key(kind: str, value: date | datetime | int) -> _Shown:
    return (kind, value, value.fold if isinstance(value, datetime) else 0)


class _Environment(Environment):
    """Jinja's environment, each template's globals a plain dict rather than a ChainMap over the
    environment's: Jinja walks a template's globals two or three times a render (the context, each
    import), and the ChainMap's pure-Python iteration was a tenth of rendering a letter. The
    environment's globals are never changed after a template is loaded, so nothing is lost."""

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return {**self.globals, **(d or {})}


class Templates:
    """The letters of one language, with an optional override directory, in one timezone."""

    def __init__(
        self,
        language: str,
        override_dir: Path | None = None,
        timezone: ZoneInfo = _PARIS,
    ) -> None:
        root = builtin_templates_dir()
        languages = available_languages(root)
        if language not in languages:
            raise ValueError(f"no templates for language {language!r}; available: {', '.join(languages) or 'none'}")
        search = [root / language]
        if override_dir is not None:
            override_dir = Path(override_dir)
            if not override_dir.is_dir():
                raise ValueError(f"template override directory {str(override_dir)!r} is not a directory")
            search.insert(0, override_dir)

        self.language = language
        self.locale = Locale.parse(language)
        self.timezone = timezone
        self.override_dir = override_dir
        # Templates do not change under a running daemon: without auto_reload, Jinja stops checking
        # every file's mtime at every render (~8 stat calls a letter); a restart reads new ones.
        self.environment = _Environment(
            loader=FileSystemLoader([str(p) for p in search], encoding="utf-8"),
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,
        )
        self._letters: dict[str, tuple[Template, ...]] = {}
        # What the filters wrote, by value: a letter shows the same few instants several times
        # (~17 a letter), and its neighbours in a batch the same days. Cleared when full.
        self._shown: dict[_Shown, str] = {}
        self._locale_id = str(self.locale)
        self.environment.filters |= {
            "date": self.format_date,
            "datetime": self.format_datetime,
            "time": self.format_time,
            "size": self.format_size,
            "stamp": self.format_stamp,
            "nl2br": _nl2br,
        }

    @classmethod
    def of(cls, register) -> Templates:
        """The templates a register's letters use: its language, override directory and time zone."""
        return cls(register.language, register.templates, register.timezone)

    def _local(self, value: datetime) -> datetime:
        require_aware("a date shown in a letter", value)
        return value.astimezone(self.timezone)

    def _remember(self, key: _Shown, text: str) -> str:
        if len(self._shown) >= _SHOWN_MAX:
            self._shown.clear()
        self._shown[key] = text
        return text

    def format_date(self, value: date | datetime) -> str:
        """ "lundi 7 décembre 2026" / "Monday, December 7, 2026" (the local day for a datetime)."""
        key = _shown_key("date", value)
        shown = self._shown.get(key)
        if shown is not None:
            return shown
        day = self._local(value).date() if isinstance(value, datetime) else value
        return self._remember(key, _full_date(day, self._locale_id))

    def format_time(self, value: datetime) -> str:
        """ "14:05" / "2:05 PM", local time. Babel's narrow no-break space becomes a plain space."""
        key = _shown_key("time", value)
        shown = self._shown.get(key)
        if shown is not None:
            return shown
        local = self._local(value)
        return self._remember(key, _short_time(local.hour, local.minute, self._locale_id))

    def format_datetime(self, value: datetime) -> str:
        """ "lundi 7 décembre 2026 à 14:05" / "Monday, December 7, 2026 at 2:05 PM", local time."""
        key = _shown_key("datetime", value)
        shown = self._shown.get(key)
        if shown is not None:
            return shown
        pattern = _AT_TIME.get(self.locale.language, "{1}, {0}")
        text = pattern.replace("{1}", self.format_date(value)).replace("{0}", self.format_time(value))
        return self._remember(key, text)

    def format_stamp(self, value: datetime) -> str:
        """ "2026-12-07 14:05", local time: a date in a table (the sheet's history), in any language."""
        return self._local(value).strftime("%Y-%m-%d %H:%M")

    def format_size(self, value: int) -> str:
        """ "532 octets", "50 ko", "1,2 Mo" / "532 bytes", "50 kB", "1.2 MB" (SI units)."""
        key = _shown_key("size", value)
        shown = self._shown.get(key)
        return shown if shown is not None else self._remember(key, self._size(value))

    def _size(self, value: int) -> str:
        units = _SIZE_UNITS.get(self.locale.language, _SIZE_UNITS["en"])
        amount = float(value)
        step = 0
        # 999.5 and up would round to "1000": move to the next unit first.
        while amount >= 999.5 and step < len(units) - 1:
            amount /= 1000
            step += 1
        if step == 0:
            # CLDR plural rules: "1 byte", "0 octet" / "1 octet".
            one = self.locale.plural_form(int(value)) == "one"
            word = _BYTE_SINGULAR.get(self.locale.language, "byte") if one else units[0]
            return f"{int(value)} {word}"
        # One decimal below 10 ("1,2 Mo"), none above ("50 ko"); never "1 000 ko" after rounding.
        pattern = "0.#" if amount < 10 else "0"
        return f"{format_decimal(amount, format=pattern, locale=self.locale)} {units[step]}"

    def render(self, name: str, **context: Any) -> Letter:
        """Render letter `name` from `<name>.subject.j2`, `<name>.txt.j2` and `<name>.html.j2`.

        Raises jinja2.TemplateNotFound for a missing file, jinja2.UndefinedError for a variable the
        template uses but `context` lacks, and ValueError for an empty subject.
        """
        parts = self._letters.get(name)
        if parts is None:
            parts = self._letters[name] = tuple(self.environment.get_template(f"{name}.{part}.j2") for part in _PARTS)
        subject, text, html = (template.render(**context) for template in parts)
        return Letter(subject=one_line(subject), text=_tidy_text(text), html=html)

    def page(self, name: str, **context: Any) -> str:
        """Render the page `<name>.html.j2` alone (the complaint sheet): HTML, autoescaped, no subject."""
        return self.environment.get_template(f"{name}.html.j2").render(**context)


def with_token(templates: Templates, name: str, token: str, **context: Any) -> Letter:
    """Render a letter to a handler and check that its subject ends with `token`'s marker."""
    letter = templates.render(name, token=token, **context)
    marker = _MARKER_AT_END.search(letter.subject)
    if marker is None or marker.group(1) != token:
        raise ValueError(
            f"the subject of letter {name!r} must end with the command token marker "
            f"[jeton:{token}] or [token:{token}], else the handler's replies cannot carry commands: "
            f"{letter.subject!r}"
        )
    return letter


def to_handler(templates: Templates, name: str, facts: Any, **extra: Any) -> Letter:
    """Render a letter about `facts.complaint` to `facts.handler_name`, its subject ending with
    `facts.token`. The templates see the facts (the summary cleaned, the name on one line) and `extra`."""
    context = facts_context(facts)
    context.pop("token")
    context["complaint"] = clean_summary(facts.complaint)
    context["handler_name"] = one_line(facts.handler_name)
    context |= extra
    return with_token(templates, name, facts.token, **context)


# Babel's units for durations in words, largest first. Weeks and months are left out on purpose:
# "dans 1 semaine" for ten days reads as seven; "dans 10 jours" is exact enough next to the date.
_Unit = Literal["day", "hour", "minute", "second"]
_DURATION_UNITS: tuple[tuple[_Unit, int], ...] = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))
# Babel's default: 0.85 day (20.4 h) and more reads as "1 jour", less as hours.
_THRESHOLD = 0.85


def duration_words(templates: Templates, delta: timedelta, *, direction: bool) -> str:
    """In words, in days, hours, minutes or seconds: "dans 3 jours", "il y a 2 heures", or "3 jours"."""
    seconds = abs(delta.total_seconds())
    unit: _Unit = next((name for name, size in _DURATION_UNITS if seconds / size >= _THRESHOLD), "second")
    # An infinite threshold makes Babel use exactly the granularity we chose. CLDR puts a no-break
    # space in "2 jours" but not in "dans 2 jours": plain spaces, as `Templates.format_time` does.
    words = format_timedelta(
        delta, granularity=unit, threshold=float("inf"), add_direction=direction, locale=templates.locale
    )
    return words.replace("\u00a0", " ").replace("\u202f", " ")
